"""Publishing the marts for readers: DuckDB allows one writer, so readers get their own file."""

from __future__ import annotations

import contextlib
import os
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from orchestration.defs.serving.ops_tables import OPS_SCHEMA, publish_ops
from orchestration.warehouse import Connection, qualified, quote_ident

SERVED_SCHEMAS = ("marts", "ml")
# Model inputs nobody reads on the dashboard (166M rows at the l scale), and the daily demand,
# whose issues the dashboard reads from fct_daily_stock (238M rows at l, 21 s to copy): not copied.
NOT_SERVED = frozenset(
    {
        ("marts", "fct_demand_features"),
        ("marts", "fct_demand_features_weekly"),
        ("marts", "fct_daily_demand"),
    }
)
# The dense daily stock (a row per pair and day, 240M at l) is copied with the columns the
# dashboard draws. Not in pair order: at l the sort cost 160 s for 0.5 s off a cold stock page.
SERVED_COLUMNS = {
    ("marts", "fct_daily_stock"): (
        "part_id",
        "location_id",
        "stock_date",
        "on_hand",
        "received_qty",
        "issued_qty",
        "reorder_threshold",
        "critical_threshold",
    ),
}
PUBLICATIONS_DDL = (
    "create table if not exists {}.publications "
    "(published_at timestamp not null, tables bigint not null)"
)


def _record_publication(conn: Connection, schema: str, tables: int) -> None:
    """Readers show 'data refreshed at' from this table."""
    conn.execute(f"create schema if not exists {schema}")
    conn.execute(PUBLICATIONS_DDL.format(schema))
    now = datetime.now(UTC).replace(tzinfo=None)
    conn.execute(f"insert into {schema}.publications values (?, ?)", (now, tables))


class PublishError(RuntimeError):
    """The serving copy could not be written; the previous one, if any, is still served."""


def publish_duckdb_copy(conn: Connection, target: Path) -> dict[str, int]:
    """Copy the served schemas into `target` atomically; returns rows per table.

    A full disk or an unwritable folder raises PublishError and leaves the previous copy served.
    """
    tmp = target.with_suffix(".duckdb.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.unlink(missing_ok=True)
        counts = _write_copy(conn, tmp)
        # A rename is atomic: a dashboard query sees the previous copy or this one, never a half.
        os.replace(tmp, target)
    except (OSError, duckdb.Error) as exc:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            with contextlib.suppress(OSError):  # a half copy only wastes space that may be short
                leftover.unlink(missing_ok=True)
        kept = "the previous copy stays served" if target.is_file() else "nothing was served yet"
        message = f"could not publish the serving copy to {target}: {exc}; {kept}"
        raise PublishError(message) from exc
    return counts


def _write_copy(conn: Connection, tmp: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    conn.execute("attach ? as serving_copy", (str(tmp),))
    # Tables are sets: the copies write from every thread without keeping the source's order.
    conn.execute("set preserve_insertion_order = false")
    try:
        for schema in SERVED_SCHEMAS:
            conn.execute(f"create schema if not exists serving_copy.{quote_ident(schema)}")
            for table in conn.tables_in(schema):
                if (schema, table) in NOT_SERVED:
                    continue
                conn.execute(
                    f"create table serving_copy.{qualified(schema, table)} as "
                    + _served_select(conn, schema, table)
                )
                n = conn.fetchall(f"select count(*) from serving_copy.{qualified(schema, table)}")
                counts[f"{schema}.{table}"] = int(n[0][0])
        counts.update(publish_ops(conn, f"serving_copy.{OPS_SCHEMA}"))
        _record_publication(conn, "serving_copy.pipeline", len(counts))
    finally:
        conn.execute("reset preserve_insertion_order")
        conn.execute("detach serving_copy")
    return counts


def _served_select(conn: Connection, schema: str, table: str) -> str:
    """The SELECT copying a served table: every column, or those of SERVED_COLUMNS it has."""
    wanted = SERVED_COLUMNS.get((schema, table))
    if wanted is None:
        return f"select * from {qualified(schema, table)}"
    present = {
        row[0]
        for row in conn.fetchall(
            "select column_name from information_schema.columns"
            " where table_catalog = current_database() and table_schema = ? and table_name = ?",
            (schema, table),
        )
    }
    columns = [c for c in wanted if c in present] or ["*"]
    return f"select {', '.join(columns)} from {qualified(schema, table)}"


def publish_in_place(conn: Connection) -> dict[str, int]:
    """PostgreSQL warehouses serve readers directly: record the publication and count rows."""
    counts: dict[str, int] = {}
    for schema in SERVED_SCHEMAS:
        for table in conn.tables_in(schema):
            n = conn.fetchall(f"select count(*) from {qualified(schema, table)}")
            counts[f"{schema}.{table}"] = int(n[0][0])
    # The ops tables are rebuilt in one transaction, so readers see the old set or the new one.
    with conn.transaction():
        counts.update(publish_ops(conn, OPS_SCHEMA))
    _record_publication(conn, "pipeline", len(counts))
    return counts
