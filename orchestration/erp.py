"""The operational ERP database: the contract's entities as live tables, read incrementally.

PartsFlow can read its sources from an ERP instead of landing files (DATA_CONTRACT.md, "Operational
database source"). This module is that ERP, built the way a real one exposes its data:

- schema ``erp``, one table per contract entity, the contract columns in contract order, typed
  loosely (text, bigint, numeric, date, timestamptz) with the primary key an ERP would have;
- a change-tracking column ``change_seq`` on every table, filled from ONE shared sequence
  ``erp.change_seq`` by a ``before insert or update`` trigger, so a reader asks for "rows new or
  changed since seq N" (:func:`read_changes`) and remembers the highest seq it has seen;
- :func:`load_from_landing` / :func:`append` fill it from generator output (landing files) with
  streaming COPY into a staging table and one ``insert ... on conflict do update`` per file.
  Re-delivered keys update the row (a PO moving OPEN -> RECEIVED, a corrected part) and so get a new
  change_seq; identical re-deliveries change nothing (no update, no new seq).

    from orchestration import erp
    erp.load_from_landing(url, Path("data/landing"))            # initial load (creates the schema)
    erp.append(url, Path("data/landing_later"), since=date(2024, 3, 1))
    for columns, rows, seq in erp.read_changes(url, "transactions", after_seq=last_seq):
        ...                                                       # rows: tuples of contract text

Semantics worth knowing:

- Each batch file is upserted in its own transaction, entities in contract order (master data
  first), files in name order. Writers through this module take a transaction-level advisory lock,
  so their change_seq ranges never interleave: a reader that stored seq N never misses a row
  committed later with a smaller seq. (Writers bypassing this module get no such guarantee.)
- Within one file, and against what the table holds, the row delivered last wins; purchase orders
  additionally never go back in time: a delivered state with an older ``updated_at`` than the
  stored one is ignored (the ERP holds the CURRENT state of a PO).
- Nothing is ever deleted: a key missing from a later delivery stays as it was.
- Empty strings load as NULL. CSV column names are matched case-insensitively, column order is
  free, extra columns are ignored, missing optional columns load as NULL.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq
from psycopg import sql
from tqdm import tqdm

from orchestration.contract import CONTRACT, Column, column_names

SCHEMA = "erp"
SEQUENCE = "change_seq"
SEQ_COLUMN = "change_seq"

PRIMARY_KEYS: dict[str, tuple[str, ...]] = {
    "categories": ("category_id",),
    "suppliers": ("supplier_id",),
    "locations": ("location_id",),
    "parts": ("part_id",),
    "stock_levels": ("as_of", "part_id", "location_id"),
    "transactions": ("transaction_id",),
    "purchase_orders": ("po_id",),
}
# Entities whose rows carry their own version: an older version never overwrites a newer one.
VERSION_COLUMNS: dict[str, str] = {"purchase_orders": "updated_at"}

PG_TYPES: dict[str, str] = {
    "text": "text",
    "int": "bigint",
    "decimal": "numeric",
    "date": "date",
    "timestamp": "timestamptz",
}

# Any number; concurrent writers (and DDL) through this module serialise on it.
_LOCK_KEY = 0x45_52_50_5F_53_45_51  # "ERP_SEQ"
_SUFFIXES = (".csv", ".parquet")
_MONTH = re.compile(r"_(\d{4})-(\d{2})$")
_BATCH_ROWS = 65_536

__all__ = [
    "PRIMARY_KEYS",
    "SCHEMA",
    "append",
    "create_schema",
    "load_from_landing",
    "max_seq",
    "read_changes",
]


# --------------------------------------------------------------------------------------------------
# Connections and DDL


def _connect(url: str) -> psycopg.Connection:
    """Connect with the session in UTC: a timestamp without an offset is UTC (contract rule)."""
    scheme, sep, rest = url.partition("://")
    if sep and "+" in scheme:  # postgresql+psycopg://... (SQLAlchemy style) -> postgresql://...
        url = scheme.split("+", 1)[0] + "://" + rest
    conn = psycopg.connect(url)
    conn.execute("SET TIME ZONE 'UTC'")
    conn.commit()
    return conn


def _table(entity: str) -> sql.Composed:
    if entity not in CONTRACT:
        raise ValueError(f"unknown entity {entity!r}; expected one of {sorted(CONTRACT)}")
    return sql.SQL("{}.{}").format(sql.Identifier(SCHEMA), sql.Identifier(entity))


def _idents(names: Iterable[str], prefix: str | None = None) -> sql.Composed:
    if prefix is None:
        return sql.SQL(", ").join(sql.Identifier(n) for n in names)
    return sql.SQL(", ").join(sql.Identifier(prefix, n) for n in names)


def _lock(conn: psycopg.Connection) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (_LOCK_KEY,))


def _ddl() -> list[sql.Composable]:
    schema = sql.Identifier(SCHEMA)
    seq = sql.Identifier(SCHEMA, SEQUENCE)
    func = sql.Identifier(SCHEMA, "bump_change_seq")
    stmts: list[sql.Composable] = [
        sql.SQL("CREATE SCHEMA IF NOT EXISTS {}").format(schema),
        sql.SQL("CREATE SEQUENCE IF NOT EXISTS {}").format(seq),
        # An UPDATE that changes nothing keeps its seq, whoever issues it.
        sql.SQL(
            "CREATE OR REPLACE FUNCTION {func}() RETURNS trigger LANGUAGE plpgsql AS $body$\n"
            "BEGIN\n"
            "  IF TG_OP = 'UPDATE' AND NEW IS NOT DISTINCT FROM OLD THEN\n"
            "    RETURN NEW;\n"
            "  END IF;\n"
            "  NEW.{col} := nextval({seq_name});\n"
            "  RETURN NEW;\n"
            "END\n"
            "$body$"
        ).format(
            func=func,
            col=sql.Identifier(SEQ_COLUMN),
            seq_name=sql.Literal(f"{SCHEMA}.{SEQUENCE}"),
        ),
    ]
    for entity, columns in CONTRACT.items():
        table = _table(entity)
        defs = [
            sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type]))
            for c in columns
        ]
        defs.append(sql.SQL("{} bigint NOT NULL").format(sql.Identifier(SEQ_COLUMN)))
        defs.append(sql.SQL("PRIMARY KEY ({})").format(_idents(PRIMARY_KEYS[entity])))
        stmts += [
            sql.SQL("CREATE TABLE IF NOT EXISTS {} ({})").format(table, sql.SQL(", ").join(defs)),
            sql.SQL("CREATE INDEX IF NOT EXISTS {} ON {} ({})").format(
                sql.Identifier(f"{entity}_{SEQ_COLUMN}_idx"), table, sql.Identifier(SEQ_COLUMN)
            ),
            sql.SQL(
                "CREATE OR REPLACE TRIGGER {} BEFORE INSERT OR UPDATE ON {} "
                "FOR EACH ROW EXECUTE FUNCTION {}()"
            ).format(sql.Identifier(f"{entity}_{SEQ_COLUMN}"), table, func),
        ]
    return stmts


def create_schema(url: str) -> None:
    """Create schema ``erp``, the shared sequence, the trigger and all tables (idempotent)."""
    with _connect(url) as conn:
        _lock(conn)
        for stmt in _ddl():
            conn.execute(stmt)


# --------------------------------------------------------------------------------------------------
# Reading landing files as PostgreSQL-parseable text


def landing_files(landing_dir: str | Path, since: date | None = None) -> list[tuple[str, Path]]:
    """(entity, file) pairs to deliver: entities in contract order, files in name order.

    Hidden files (the generator's ``.name.tmp``) are skipped. With ``since``, monthly batch files
    (``<entity>_YYYY-MM.<ext>``) of earlier months are skipped; files without a month (master data)
    are always delivered, so a later delivery also carries master-data corrections.
    """
    root = Path(landing_dir)
    if not root.is_dir():
        raise FileNotFoundError(f"landing directory not found: {root}")
    out: list[tuple[str, Path]] = []
    for entity in CONTRACT:
        folder = root / entity
        if not folder.is_dir():
            continue
        for path in sorted(folder.iterdir(), key=lambda p: p.name):
            if not path.is_file() or path.name.startswith(".") or path.suffix not in _SUFFIXES:
                continue
            month = _MONTH.search(path.stem)
            if since and month and (int(month[1]), int(month[2])) < (since.year, since.month):
                continue
            out.append((entity, path))
    return out


def _match_columns(entity: str, names: list[str], path: Path) -> dict[str, str]:
    """Contract column -> the file's own column name (case-insensitive); checks the key is there."""
    by_lower = {n.strip().lower(): n for n in reversed(names)}  # first occurrence wins
    found = {c: by_lower[c] for c in column_names(entity) if c in by_lower}
    missing = [k for k in PRIMARY_KEYS[entity] if k not in found]
    if missing:
        raise ValueError(f"{path}: missing key column(s) {missing} for {entity}")
    return found


def _csv_batches(entity: str, path: Path) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    with path.open("r", encoding="utf-8-sig", newline="") as fh:
        header = next(csv.reader(fh), None)
    if not header:
        return [], iter(())
    found = _match_columns(entity, header, path)
    reader = pcsv.open_csv(
        path,
        read_options=pcsv.ReadOptions(column_names=header, skip_rows=1),
        convert_options=pcsv.ConvertOptions(
            column_types=dict.fromkeys(header, pa.string()),
            include_columns=list(found.values()),
            # Only the empty string is null: "NULL" / "NA" are legal ids.
            null_values=[""],
            strings_can_be_null=True,
            quoted_strings_can_be_null=True,
        ),
    )
    return list(found), (batch for batch in reader if batch.num_rows)


def _text(arr: pa.Array, column: Column) -> pa.Array:
    """A native Arrow column as text PostgreSQL parses into the column's type ('' -> null)."""
    typ = arr.type
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        arr = arr.cast(pa.string())
        return pc.if_else(pc.equal(arr, ""), pa.scalar(None, pa.string()), arr)
    if pa.types.is_floating(typ) and column.type == "int":
        arr = arr.cast(pa.int64())  # e.g. pandas-written ints with nulls; fails on fractions
    if pa.types.is_dictionary(typ):
        return _text(arr.cast(typ.value_type), column)
    return pc.cast(arr, pa.string())


def _parquet_batches(entity: str, path: Path) -> tuple[list[str], Iterator[pa.RecordBatch]]:
    pf = pq.ParquetFile(path)
    found = _match_columns(entity, pf.schema_arrow.names, path)
    spec = {c.name: c for c in CONTRACT[entity]}
    names = list(found)

    def batches() -> Iterator[pa.RecordBatch]:
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS, columns=list(found.values())):
            if batch.num_rows:
                arrays = [_text(batch.column(found[n]), spec[n]) for n in names]
                yield pa.RecordBatch.from_arrays(arrays, names=names)

    return names, batches()


def _copy_chunks(batches: Iterable[pa.RecordBatch]) -> Iterator[bytes]:
    """All-string batches as COPY ... (FORMAT csv) input: nulls unquoted-empty, strings quoted."""
    options = pcsv.WriteOptions(include_header=False, quoting_style="needed")
    for batch in batches:
        buf = io.BytesIO()
        pcsv.write_csv(batch, buf, options)
        yield buf.getvalue()


# --------------------------------------------------------------------------------------------------
# Upserting a delivery


def _stage_name(entity: str) -> sql.Identifier:
    return sql.Identifier(f"erp_stage_{entity}")


def _create_stage(conn: psycopg.Connection, entity: str) -> None:
    # Typed like the target (COPY parses the values), plus the delivery order of each row.
    defs = [
        sql.SQL("{} {}").format(sql.Identifier(c.name), sql.SQL(PG_TYPES[c.type]))
        for c in CONTRACT[entity]
    ]
    defs.append(sql.SQL("_ord bigserial"))
    conn.execute(
        sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ({}) ON COMMIT DELETE ROWS").format(
            _stage_name(entity), sql.SQL(", ").join(defs)
        )
    )


def _upsert_sql(entity: str) -> sql.Composed:
    cols = column_names(entity)
    keys = PRIMARY_KEYS[entity]
    rest = [c for c in cols if c not in keys]
    order = [sql.SQL("{}").format(sql.Identifier(k)) for k in keys]
    version = VERSION_COLUMNS.get(entity)
    if version:
        order.append(sql.SQL("{} DESC NULLS LAST").format(sql.Identifier(version)))
    order.append(sql.SQL("_ord DESC"))
    # Only rows whose content differs are updated: identical re-deliveries create no change.
    condition = sql.SQL("({}) IS DISTINCT FROM ({})").format(
        _idents(rest, "t"), _idents(rest, "excluded")
    )
    if version:
        condition = sql.SQL("{} AND ({old} IS NULL OR {new} >= {old})").format(
            condition, old=sql.Identifier("t", version), new=sql.Identifier("excluded", version)
        )
    return sql.SQL(
        "INSERT INTO {table} AS t ({cols}) "
        "SELECT DISTINCT ON ({keys}) {cols} FROM {stage} ORDER BY {order} "
        "ON CONFLICT ({keys}) DO UPDATE SET {sets} WHERE {condition}"
    ).format(
        table=_table(entity),
        cols=_idents(cols),
        keys=_idents(keys),
        stage=_stage_name(entity),
        order=sql.SQL(", ").join(order),
        sets=sql.SQL(", ").join(
            sql.SQL("{} = {}").format(sql.Identifier(c), sql.Identifier("excluded", c))
            for c in rest
        ),
        condition=condition,
    )


def _upsert_file(conn: psycopg.Connection, entity: str, path: Path) -> int:
    """COPY one batch file into the staging table and upsert it; one transaction, rows changed."""
    names, batches = (_parquet_batches if path.suffix == ".parquet" else _csv_batches)(entity, path)
    if not names:
        return 0
    with conn.transaction():
        _lock(conn)
        with conn.cursor() as cur:
            copy_sql = sql.SQL("COPY {} ({}) FROM STDIN (FORMAT csv)").format(
                _stage_name(entity), _idents(names)
            )
            with cur.copy(copy_sql) as copy:
                for chunk in _copy_chunks(batches):
                    copy.write(chunk)
            cur.execute(_upsert_sql(entity))
            return max(cur.rowcount, 0)


def _deliver(
    url: str, landing_dir: str | Path, *, since: date | None, progress: bool
) -> dict[str, int]:
    create_schema(url)
    files = landing_files(landing_dir, since)
    counts = dict.fromkeys(CONTRACT, 0)
    with (
        _connect(url) as conn,
        tqdm(total=len(files), unit="file", desc="erp upsert", disable=not progress) as bar,
    ):
        conn.autocommit = True  # each file is its own explicit transaction
        staged: set[str] = set()
        for entity, path in files:
            if entity not in staged:
                _create_stage(conn, entity)
                staged.add(entity)
            counts[entity] += _upsert_file(conn, entity, path)
            bar.set_postfix(entity=entity, rows=sum(counts.values()), refresh=False)
            bar.update()
    return counts


def load_from_landing(
    url: str, landing_dir: str | Path, *, progress: bool = False
) -> dict[str, int]:
    """Bulk-load generator output (``<dir>/<entity>/*.csv|parquet``) into the ERP tables.

    Creates the schema if needed. Returns the rows inserted or changed per entity (rows whose
    re-delivery is identical to what the table holds are not counted: nothing changed).
    """
    return _deliver(url, landing_dir, since=None, progress=progress)


def append(
    url: str, landing_dir: str | Path, *, since: date | None = None, progress: bool = False
) -> dict[str, int]:
    """A later delivery, upserted like :func:`load_from_landing`: new rows, changed rows, no-ops.

    ``since``: only monthly files whose month is >= since's month (master files always).
    """
    return _deliver(url, landing_dir, since=since, progress=progress)


# --------------------------------------------------------------------------------------------------
# Reading changes


def _text_expr(column: Column) -> sql.Composable:
    """SQL turning a stored value into the contract's CSV text (NULL stays NULL)."""
    col = sql.Identifier(column.name)
    if column.type == "text":
        return col
    if column.type == "int":
        return sql.SQL("{}::text").format(col)
    if column.type == "decimal":
        return sql.SQL("trim_scale({})::text").format(col)  # 12.50 -> 12.5, 3.0 -> 3
    if column.type == "date":
        return sql.SQL("to_char({}, 'YYYY-MM-DD')").format(col)
    # timestamptz -> 2024-01-01T08:00:00+00:00 (fractional seconds only when there are any).
    utc = sql.SQL("({} AT TIME ZONE 'UTC')").format(col)
    return sql.SQL(
        "to_char({utc}, 'YYYY-MM-DD\"T\"HH24:MI:SS') "
        "|| CASE WHEN date_trunc('second', {col}) = {col} THEN '' "
        "ELSE to_char({utc}, '.US') END || '+00:00'"
    ).format(utc=utc, col=col)


def read_changes(
    url: str, entity: str, after_seq: int, chunk_rows: int = 200_000
) -> Iterator[tuple[list[str], list[tuple], int]]:
    """Rows of ``entity`` new or changed since ``after_seq``, in change_seq order, in chunks.

    Yields ``(columns, rows, max_seq_in_chunk)``: columns are the contract columns in order, rows
    tuples of text exactly as the contract's CSV would carry the values (None for null). Reads
    through a server-side cursor in one snapshot, so memory stays flat. Store the last chunk's seq
    as the next ``after_seq`` once the rows are safely processed.
    """
    table = _table(entity)  # validates eagerly, before the first next()
    if chunk_rows < 1:
        raise ValueError("chunk_rows must be >= 1")
    query = sql.SQL("SELECT {exprs}, {seq} FROM {table} WHERE {seq} > %s ORDER BY {seq}").format(
        exprs=sql.SQL(", ").join(_text_expr(c) for c in CONTRACT[entity]),
        seq=sql.Identifier(SEQ_COLUMN),
        table=table,
    )
    return _stream(url, entity, query, int(after_seq), chunk_rows)


def _stream(
    url: str, entity: str, query: sql.Composed, after_seq: int, chunk_rows: int
) -> Iterator[tuple[list[str], list[tuple], int]]:
    columns = column_names(entity)
    with _connect(url) as conn:
        conn.read_only = True
        with conn.cursor(name=f"erp_changes_{entity}") as cur:
            cur.itersize = chunk_rows
            cur.execute(query, (after_seq,))
            while rows := cur.fetchmany(chunk_rows):
                yield columns, [row[:-1] for row in rows], rows[-1][-1]


def max_seq(url: str) -> int:
    """The highest change_seq held by any ERP table (0 when empty or not created yet)."""
    with _connect(url) as conn:
        exists = conn.execute("SELECT to_regnamespace(%s) IS NOT NULL", (SCHEMA,)).fetchone()
        if not exists or not exists[0]:
            return 0
        parts = [
            sql.SQL("(SELECT max({}) FROM {})").format(sql.Identifier(SEQ_COLUMN), _table(e))
            for e in CONTRACT
        ]
        row = conn.execute(
            sql.SQL("SELECT coalesce(greatest({}), 0)").format(sql.SQL(", ").join(parts))
        ).fetchone()
        return int(row[0]) if row else 0
