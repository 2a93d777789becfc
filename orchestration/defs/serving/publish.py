"""Publishing the marts for readers: DuckDB allows one writer, so readers get their own file."""

from __future__ import annotations

import os
from pathlib import Path

from orchestration.warehouse import Connection, qualified, quote_ident

SERVED_SCHEMAS = ("marts", "ml")


def publish_duckdb_copy(conn: Connection, target: Path) -> dict[str, int]:
    """Copy the served schemas into `target` atomically; returns rows per table."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".duckdb.tmp")
    tmp.unlink(missing_ok=True)
    counts: dict[str, int] = {}
    conn.execute("attach ? as serving_copy", (str(tmp),))
    try:
        for schema in SERVED_SCHEMAS:
            conn.execute(f"create schema if not exists serving_copy.{quote_ident(schema)}")
            for table in conn.tables_in(schema):
                conn.execute(
                    f"create table serving_copy.{qualified(schema, table)} as "
                    f"select * from {qualified(schema, table)}"
                )
                n = conn.fetchall(f"select count(*) from serving_copy.{qualified(schema, table)}")
                counts[f"{schema}.{table}"] = int(n[0][0])
    finally:
        conn.execute("detach serving_copy")
    # A rename is atomic: a dashboard query sees the previous copy or this one, never a half.
    os.replace(tmp, target)
    return counts


def served_table_counts(conn: Connection) -> dict[str, int]:
    """Row counts of the tables readers use directly (PostgreSQL warehouses)."""
    counts: dict[str, int] = {}
    for schema in SERVED_SCHEMAS:
        for table in conn.tables_in(schema):
            n = conn.fetchall(f"select count(*) from {qualified(schema, table)}")
            counts[f"{schema}.{table}"] = int(n[0][0])
    return counts
