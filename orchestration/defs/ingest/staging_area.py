"""Bulk-landing one batch as the temp view `_pf_batch`, whatever its source.

Every source ends up as `_pf_file(c0..cN text, _row_number)` with the file's own columns in file
order, then `_pf_batch` maps them to contract columns by (case-insensitive) header name. Header
names come from data, so they only ever travel as bound parameters, never as SQL identifiers.

A CSV file on DuckDB is not landed at all: `_pf_batch` reads it in parallel through `read_csv`
(the path travels in a session variable, not in the SQL text), and the raw rows are only read
again, numbered, if some of them have to be quarantined.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
from psycopg import sql as pgsql

from orchestration.contract import column_names, required_columns
from orchestration.warehouse import Connection, quote_ident

PARQUET_BATCH_ROWS = 250_000
# What a malformed file raises while it is read; anything else is our bug and must surface.
READER_ERRORS = (
    duckdb.InvalidInputException,
    duckdb.ConversionException,
    psycopg.DataError,
    pa.ArrowException,
    UnicodeDecodeError,
    csv.Error,
)


class UnparseableFile(ValueError):
    """The batch cannot be read at all; the message says why (the caller names the file)."""


def _positional(n: int) -> list[str]:
    return [f"c{i}" for i in range(n)]


def csv_header(path: Path) -> list[str]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        try:
            row = next(csv.reader(fh))
        except StopIteration:
            raise UnparseableFile("the file is empty (no header row)") from None
        except (UnicodeDecodeError, csv.Error) as exc:
            raise UnparseableFile(f"the header cannot be read: {exc}") from exc
    return [h.strip().lower() for h in row]


def reset_staging(conn: Connection) -> None:
    """Drop the previous batch's staging objects (the views depend on the table)."""
    conn.execute("drop view if exists _pf_batch")
    conn.execute("drop view if exists _pf_csv")
    conn.execute("drop table if exists _pf_file")


def _create_file_table(conn: Connection, n: int) -> None:
    reset_staging(conn)
    cols = ", ".join(f"{c} text" for c in _positional(n))
    if conn.is_duckdb:
        conn.execute(f"create temp table _pf_file ({cols}, _row_number bigint)")
    else:
        conn.execute(f"create temp table _pf_file ({cols}, _row_number bigserial)")


def _duckdb_csv(n: int) -> str:
    """read_csv of the file in session variable pf_path as text columns c0..cN."""
    columns = "{" + ", ".join(f"'{c}': 'VARCHAR'" for c in _positional(n)) + "}"
    return (
        "read_csv(getvariable('pf_path'), header = false, skip = 1, auto_detect = false, "
        f"columns = {columns}, delim = ',', quote = '\"', escape = '\"', strict_mode = true)"
    )


def _stage_duckdb_csv(conn: Connection, entity: str, path: Path, header: list[str]) -> RawRows:
    """Views over the file itself; its parse errors surface when the batch is first read."""
    reset_staging(conn)
    conn.execute("set variable pf_path = ?", (str(path),))
    source = _duckdb_csv(len(header))
    conn.execute(f"create temp view _pf_batch as select {_picks(header, entity)} from {source}")
    # Numbering needs one ordered pass, so only the quarantine's raw rows pay for it.
    conn.execute(
        f"create temp view _pf_csv as select row_number() over () as _row_number, * from {source}"
    )
    return _raw_json(conn, "_pf_csv", header, numbered=False)


def _stage_postgres_csv(conn: Connection, path: Path, n: int) -> None:
    _create_file_table(conn, n)
    copy = pgsql.SQL("copy _pf_file ({}) from stdin with (format csv, header true)").format(
        pgsql.SQL(", ").join(pgsql.Identifier(c) for c in _positional(n))
    )
    with conn.raw.cursor().copy(copy) as cp, path.open("rb") as fh:
        while chunk := fh.read(1 << 20):
            cp.write(chunk)


def _as_text(arr: pa.ChunkedArray | pa.Array) -> pa.Array:
    """Native Arrow values as the text a CSV would carry (timestamps in UTC, naive)."""
    if pa.types.is_timestamp(arr.type):
        arr = pc.cast(arr, pa.timestamp("us"))  # tz-aware -> the UTC wall time
    return pc.cast(arr, pa.string())


def append_text_table(conn: Connection, table: pa.Table, first_row: int) -> None:
    """Append a table of text columns c0..cN to _pf_file, numbering rows from first_row."""
    numbers = pa.array(range(first_row, first_row + table.num_rows), pa.int64())
    if conn.is_duckdb:
        data = table.append_column("_row_number", numbers)
        conn.raw.register("_pf_arrow", data)
        try:
            conn.execute("insert into _pf_file select * from _pf_arrow")
        finally:
            conn.raw.unregister("_pf_arrow")
        return
    buf = io.BytesIO()
    options = pacsv.WriteOptions(include_header=False, quoting_style="all_valid")
    # "all_valid" quotes every value and leaves NULL unquoted, which COPY reads back as NULL.
    pacsv.write_csv(table.append_column("_row_number", numbers), buf, options)
    names = [*table.column_names, "_row_number"]
    copy = pgsql.SQL("copy _pf_file ({}) from stdin with (format csv)").format(
        pgsql.SQL(", ").join(pgsql.Identifier(c) for c in names)
    )
    with conn.raw.cursor().copy(copy) as cp:
        cp.write(buf.getvalue())


def stage_text_batches(conn: Connection, n: int, batches: Iterable[pa.Table]) -> None:
    """Land text tables (columns already c0..cN) into _pf_file in order."""
    _create_file_table(conn, n)
    row = 1
    for table in batches:
        append_text_table(conn, table, row)
        row += table.num_rows


def _parquet_batches(path: Path, n: int) -> Iterable[pa.Table]:
    names = _positional(n)
    for batch in pq.ParquetFile(path).iter_batches(batch_size=PARQUET_BATCH_ROWS):
        yield pa.table([_as_text(col) for col in batch.columns], names=names)


def parquet_header(path: Path) -> list[str]:
    try:
        return [n.strip().lower() for n in pq.read_schema(path).names]
    except Exception as exc:  # noqa: BLE001 - any reader failure means the same to us
        raise UnparseableFile(f"not a readable Parquet file: {exc}") from exc


@dataclass(frozen=True)
class RawRows:
    """Where a batch's rows as delivered are, to quarantine them: `expr` reads alias `f`.

    `numbered` says whether `_pf_batch` carries `_row_number` (else rows count in scan order).
    """

    table: str
    expr: str
    params: tuple[str, ...] = ()
    numbered: bool = True


def _picks(header: list[str], entity: str) -> str:
    """The contract columns of `entity` from positional columns c0..cN, by header name."""
    return ", ".join(
        f"{f'c{header.index(col)}' if col in header else 'cast(null as text)'} as "
        f"{quote_ident(col)}"
        for col in column_names(entity)
    )


def _raw_json(conn: Connection, table: str, header: list[str], numbered: bool = True) -> RawRows:
    # The raw row JSON is only built for rows that end up in quarantine, so it travels as an
    # expression (header names bound as parameters) rather than being computed here.
    pairs = ", ".join(f"cast(? as text), f.c{i}" for i in range(len(header)))
    json = f"json_object({pairs})" if conn.is_duckdb else f"json_build_object({pairs})"
    return RawRows(table, f"cast({json} as text)", tuple(header), numbered)


def map_columns(conn: Connection, entity: str, header: list[str]) -> RawRows:
    """View _pf_batch: contract columns picked from _pf_file by header name."""
    conn.execute("drop view if exists _pf_batch")
    conn.execute(
        f"create temp view _pf_batch as select _row_number, {_picks(header, entity)} from _pf_file"
    )
    return _raw_json(conn, "_pf_file", header)


def check_header(entity: str, header: list[str]) -> None:
    missing = [c for c in required_columns(entity) if c not in header]
    if missing:
        raise UnparseableFile(f"missing required column(s): {', '.join(missing)}")
    if len(set(header)) != len(header):
        raise UnparseableFile("the header repeats a column name")


def stage_file(conn: Connection, entity: str, path: Path) -> RawRows:
    """Land a CSV or Parquet file as _pf_batch. Raises UnparseableFile.

    On DuckDB a CSV file's parse errors only surface when _pf_batch is read: the caller treats
    READER_ERRORS from the batch's statements as an unparseable file too.
    """
    if path.suffix.lower() == ".csv":
        header = csv_header(path)
        check_header(entity, header)
        if conn.is_duckdb:
            return _stage_duckdb_csv(conn, entity, path, header)
        loader = lambda: _stage_postgres_csv(conn, path, len(header))  # noqa: E731
    else:
        header = parquet_header(path)
        check_header(entity, header)
        loader = lambda: stage_text_batches(  # noqa: E731
            conn, len(header), _parquet_batches(path, len(header))
        )
    reset_staging(conn)
    try:
        loader()
    except READER_ERRORS as exc:
        raise UnparseableFile(reader_message(exc)) from exc
    return map_columns(conn, entity, header)


def reader_message(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0]
