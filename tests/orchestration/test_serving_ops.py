"""The ops tables published for the dashboard's health page, on DuckDB and PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import duckdb
import pytest

from orchestration import env
from orchestration.defs.alerts.store import ensure_table
from orchestration.defs.serving.publish import publish_duckdb_copy, publish_in_place
from orchestration.warehouse import Connection, connect

T0 = dt.datetime(2026, 11, 1, 8, 0)
QUARANTINE = [  # entity, reason, resolved
    ("parts", "missing_value", None),
    ("parts", "missing_value", T0),
    ("parts", "bad_type", None),
    ("transactions", "missing_value", None),
]


def load_raw(conn: Connection) -> None:
    conn.execute("create schema raw")
    conn.execute(
        "create table raw.quarantine (batch_id text, entity text, reason text,"
        " quarantined_at timestamp, resolved_at timestamp)"
    )
    for i, (entity, reason, resolved) in enumerate(QUARANTINE):
        conn.execute(
            "insert into raw.quarantine values (?, ?, ?, ?, ?)",
            (f"b{i}", entity, reason, T0 + dt.timedelta(hours=i), resolved),
        )
    conn.execute(
        "create table raw.ingest_batches (batch_id text, entity text, source text,"
        " file_name text, file_hash text, rows_read bigint, rows_loaded bigint,"
        " rows_duplicate bigint, rows_quarantined bigint, started_at timestamp,"
        " finished_at timestamp, status text)"
    )
    for i in range(3):
        conn.execute(
            "insert into raw.ingest_batches values (?, 'parts', 'files', 'f.csv', 'h', 10, 9, 0,"
            " 1, ?, ?, 'loaded')",
            (f"b{i}", T0, T0 + dt.timedelta(days=i)),
        )
    conn.execute("create schema marts")
    conn.execute("create table marts.fct_daily_stock (stock_date date)")
    conn.execute("insert into marts.fct_daily_stock values (DATE '2026-10-31')")
    conn.execute("create table marts.fct_alert_history (alert_id text, location_id text)")
    conn.execute("insert into marts.fct_alert_history values ('a1', 'L1')")
    ensure_table(conn)  # the real ops.alert_notifications
    for i, alert in enumerate(("a1", "gone")):
        conn.execute(
            "insert into ops.alert_notifications (alert_id, event, channel, alert_type, severity,"
            " payload, status, attempts, created_at) values"
            " (?, 'opened', 'email', 'stockout', 'critical', '{}', 'sent', 1, ?)",
            (alert, T0 + dt.timedelta(hours=i)),
        )


def check(rows: dict[str, list[tuple]]) -> None:
    assert rows["quarantine"] == [
        ("parts", "bad_type", 1, 1),
        ("parts", "missing_value", 2, 1),
        ("transactions", "missing_value", 1, 1),
    ]
    assert rows["batches"] == [("b2",), ("b1",), ("b0",)]
    # Newest first, with the alert's location (none for an alert no longer in the history).
    assert rows["notifications"] == [("gone", None, "sent"), ("a1", "L1", "sent")]
    assert rows["freshness"] == [
        ("marts.fct_daily_stock", dt.datetime(2026, 10, 31)),
        ("raw.ingest_batches", T0 + dt.timedelta(days=2)),
    ]


SELECTS = {
    "quarantine": "select entity, reason, rows_quarantined, rows_unresolved"
    " from ops.quarantine_summary order by entity, reason",
    "batches": "select batch_id from ops.ingest_batches order by finished_at desc",
    "freshness": "select asset, as_of from ops.freshness order by asset",
    "notifications": "select alert_id, location_id, status from ops.recent_notifications"
    " order by created_at desc",
}


def test_duckdb_copy_holds_the_ops_tables(tmp_path: Path) -> None:
    wh = env.Warehouse(f"duckdb:///{tmp_path}/warehouse.duckdb")
    with connect(wh) as conn:
        load_raw(conn)
        counts = publish_duckdb_copy(conn, tmp_path / "serving" / "serving.duckdb")
    assert counts["ops.quarantine_summary"] == 3
    assert counts["ops.recent_notifications"] == 2
    with duckdb.connect(str(tmp_path / "serving" / "serving.duckdb"), read_only=True) as con:
        check({k: [tuple(r) for r in con.execute(q).fetchall()] for k, q in SELECTS.items()})
        assert not con.execute(
            "select * from information_schema.tables where table_schema = 'raw'"
        ).fetchall()


@pytest.mark.postgres
def test_postgres_publishes_the_ops_tables_in_place(pg_database_url: str) -> None:
    wh = env.Warehouse(pg_database_url)
    with connect(wh) as conn:
        load_raw(conn)
        publish_in_place(conn)
        publish_in_place(conn)  # a second publish replaces, never duplicates
        check({k: [tuple(r) for r in conn.fetchall(q)] for k, q in SELECTS.items()})
