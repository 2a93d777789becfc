"""One small client for both warehouses (DuckDB file or PostgreSQL), used by every asset.

SQL is written once with `?` placeholders; values are always bound, never formatted in. Table and
schema names come from our own code (never from data) and are still quoted with `qualified()`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psycopg
from psycopg import sql as pgsql

from orchestration.env import Warehouse, duckdb_lock_wait_seconds, duckdb_memory_limit

log = logging.getLogger(__name__)
LOCK_POLL_SECONDS = 0.25


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    return f"{quote_ident(schema)}.{quote_ident(table)}"


def to_pyformat(sql: str) -> str:
    """`?` placeholders to psycopg's `%s`, leaving `?` inside '...' literals (regexes) alone."""
    out: list[str] = []
    in_literal = False
    for ch in sql:
        if ch == "'":
            in_literal = not in_literal
        if ch == "%":
            out.append("%%")
        elif ch == "?" and not in_literal:
            out.append("%s")
        else:
            out.append(ch)
    return "".join(out)


def _like_duckdb(df: pd.DataFrame) -> pd.DataFrame:
    """psycopg returns Decimal and date objects; give callers DuckDB's float64/datetime64 frames."""
    for col in df.columns:
        sample = df[col].dropna()
        if sample.empty or df[col].dtype != object:
            continue
        first = sample.iloc[0]
        if isinstance(first, Decimal):
            df[col] = df[col].astype(float)
        elif isinstance(first, date) and not isinstance(first, datetime):
            df[col] = pd.to_datetime(df[col])
    return df


class Connection:
    """A warehouse connection with the same small API on DuckDB and PostgreSQL."""

    def __init__(self, warehouse: Warehouse, raw: Any):
        self.warehouse = warehouse
        self.raw = raw

    @property
    def is_duckdb(self) -> bool:
        return self.warehouse.is_duckdb

    def _pg(self, sql: str, params: Sequence[Any]) -> Any:
        """Run on psycopg: `?` placeholders (outside string literals) become `%s`."""
        if not params:
            return self.raw.execute(sql)
        return self.raw.execute(to_pyformat(sql), list(params))

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        if self.is_duckdb:
            self.raw.execute(sql, list(params))
        else:
            self._pg(sql, params)

    def fetchall(self, sql: str, params: Sequence[Any] = ()) -> list[tuple]:
        if self.is_duckdb:
            return self.raw.execute(sql, list(params)).fetchall()
        return self._pg(sql, params).fetchall()

    def query_df(self, sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
        if self.is_duckdb:
            return self.raw.execute(sql, list(params)).df()
        cur = self._pg(sql, params)
        cols = [d.name for d in cur.description]
        return _like_duckdb(pd.DataFrame(cur.fetchall(), columns=cols))

    def query_df_chunks(
        self, sql: str, params: Sequence[Any] = (), rows: int = 250_000
    ) -> Iterator[pd.DataFrame]:
        """The result of `sql` as frames of at most about `rows` rows, streamed (DuckDB result
        chunks, a PostgreSQL server-side cursor), so a big table never sits in memory whole."""
        if self.is_duckdb:
            result = self.raw.execute(sql, list(params))
            # DuckDB hands out whole vectors of 2,048 rows.
            while not (chunk := result.fetch_df_chunk(max(1, rows // 2048))).empty:
                yield chunk
            return
        with self.raw.cursor(name="partsflow_chunks", withhold=True) as cur:
            cur.execute(to_pyformat(sql) if params else sql, list(params) or None)
            while batch := cur.fetchmany(rows):
                cols = [d.name for d in cur.description]
                yield _like_duckdb(pd.DataFrame(batch, columns=cols))

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.fetchall(
            "select 1 from information_schema.tables where table_schema = ? and table_name = ?",
            (schema, table),
        )
        return bool(rows)

    def tables_in(self, schema: str) -> list[str]:
        rows = self.fetchall(
            "select table_name from information_schema.tables where table_schema = ? "
            "order by table_name",
            (schema,),
        )
        return [r[0] for r in rows]

    def append_df(self, schema: str, table: str, df: pd.DataFrame) -> int:
        """Bulk-append a frame whose columns match the table's (by name)."""
        if df.empty:
            return 0
        target = qualified(schema, table)
        cols = ", ".join(quote_ident(c) for c in df.columns)
        if self.is_duckdb:
            self.raw.register("_partsflow_append", df)
            try:
                self.raw.execute(
                    f"insert into {target} ({cols}) select {cols} from _partsflow_append"
                )
            finally:
                self.raw.unregister("_partsflow_append")
        else:
            # Row-wise COPY lets psycopg encode NULLs and any text exactly (a CSV detour would
            # confuse NULL with text such as "\N" or "").
            values = df.astype(object).where(df.notna(), None)
            copy = pgsql.SQL("copy {} ({}) from stdin").format(
                pgsql.Identifier(schema, table),
                pgsql.SQL(", ").join(pgsql.Identifier(c) for c in df.columns),
            )
            with self.raw.cursor().copy(copy) as cp:
                for row in values.itertuples(index=False, name=None):
                    cp.write_row(row)
        return len(df)

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """All statements inside commit together or not at all."""
        if self.is_duckdb:
            self.raw.execute("begin transaction")
            try:
                yield self
            except BaseException:
                self.raw.execute("rollback")
                raise
            self.raw.execute("commit")
        else:
            with self.raw.transaction():
                yield self


class WarehouseBusy(RuntimeError):
    """Another process held the DuckDB warehouse for longer than PARTSFLOW_DUCKDB_LOCK_WAIT."""


def _open_duckdb(path: Path, read_only: bool) -> duckdb.DuckDBPyConnection:
    """DuckDB lets one process open the file: a second run waits its turn, saying so, instead of
    failing (every step holds its connection briefly)."""
    waited_from = time.monotonic()
    limit = duckdb_lock_wait_seconds()
    next_note = 0.0
    while True:
        try:
            return duckdb.connect(str(path), read_only=read_only)
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower():
                raise
            waited = time.monotonic() - waited_from
            if waited >= limit:
                raise WarehouseBusy(
                    f"the DuckDB warehouse {path} stayed locked by another process for "
                    f"{waited:.0f} s (PARTSFLOW_DUCKDB_LOCK_WAIT={limit:g}): {exc}"
                ) from exc
            if waited >= next_note:
                log.warning(
                    "waiting for the DuckDB warehouse %s: another process holds it (%.0f s so "
                    "far, up to PARTSFLOW_DUCKDB_LOCK_WAIT=%g s)",
                    path,
                    waited,
                    limit,
                )
                next_note = waited + 30
            time.sleep(LOCK_POLL_SECONDS)


def configure_duckdb(raw: duckdb.DuckDBPyConnection) -> None:
    """Settings of every DuckDB connection (a cursor of one included)."""
    raw.execute("set TimeZone = 'UTC'")  # timestamps without an offset are UTC
    # Its progress bar would print into run logs and command output.
    raw.execute("set enable_progress_bar = false")
    # DuckDB would buffer up to 80% of RAM; a bound keeps large ingests predictable (it spills
    # to disk beyond it).
    raw.execute("set memory_limit = ?", (duckdb_memory_limit(),))


@contextmanager
def connect(warehouse: Warehouse, read_only: bool = False) -> Iterator[Connection]:
    """Open a short-lived connection; DuckDB allows one writer process, so never hold it long."""
    if warehouse.is_duckdb:
        path = warehouse.duckdb_path
        path.parent.mkdir(parents=True, exist_ok=True)
        raw = _open_duckdb(path, read_only)
        configure_duckdb(raw)
        try:
            yield Connection(warehouse, raw)
        finally:
            raw.close()
    else:
        # Batches are staged in temp tables: give them memory instead of spilling to disk.
        # JIT compiling each batch's one-off statements costs more than it saves.
        options = "-c temp_buffers=256MB -c work_mem=64MB -c jit=off -c TimeZone=UTC"
        with psycopg.connect(warehouse.pg_conninfo, autocommit=True, options=options) as raw:
            yield Connection(warehouse, raw)


@contextmanager
def sibling(conn: Connection) -> Iterator[Connection]:
    """A second connection to the warehouse of `conn`: on DuckDB a cursor of the same instance
    (the file admits one process), on PostgreSQL a session of its own."""
    if not conn.is_duckdb:
        with connect(conn.warehouse) as other:
            yield other
        return
    raw = conn.raw.cursor()
    configure_duckdb(raw)
    try:
        yield Connection(conn.warehouse, raw)
    finally:
        raw.close()


def create_database_if_missing(url: str) -> bool:
    """Create the PostgreSQL database a URL names, through the server's `postgres` database;
    True when it was created. The name is quoted as an identifier, never pasted."""
    target = Warehouse(url)
    name = target.pg["dbname"]
    admin = target.pg_conninfo.rsplit("/", 1)[0] + "/postgres"
    with psycopg.connect(admin, autocommit=True, connect_timeout=10) as conn:
        found = conn.execute("select 1 from pg_database where datname = %s", (name,)).fetchone()
        if found:
            return False
        conn.execute(pgsql.SQL("create database {}").format(pgsql.Identifier(name)))
    return True
