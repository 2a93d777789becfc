"""Small `ops` tables published beside the marts, so the dashboard's health page never reads `raw`:
quarantine counts by reason, the latest ingest batches, the freshness of each served area and the
latest alert notifications (with their alert's location, so the dashboard can scope them)."""

from __future__ import annotations

from orchestration.warehouse import Connection

OPS_SCHEMA = "ops"
RECENT_BATCHES = 200
RECENT_NOTIFICATIONS = 500

QUARANTINE_SUMMARY = (
    "select entity, reason, count(*) as rows_quarantined,"
    " count(*) filter (where resolved_at is null) as rows_unresolved,"
    " max(quarantined_at) as last_quarantined_at"
    " from raw.quarantine group by entity, reason"
)
INGEST_BATCHES = (
    "select batch_id, entity, source, file_name, rows_read, rows_loaded, rows_duplicate,"
    " rows_quarantined, started_at, finished_at, status"
    f" from raw.ingest_batches order by finished_at desc, batch_id limit {RECENT_BATCHES}"
)
# The payload (JSON, may hold addresses) stays in the warehouse; the location comes from the alert.
NOTIFICATIONS = (
    "select n.alert_id, h.location_id, n.event, n.channel, n.alert_type, n.severity, n.status,"
    " n.attempts, n.last_error, n.created_at, n.last_attempt_at, n.sent_at"
    " from ops.alert_notifications n left join marts.fct_alert_history h"
    " on h.alert_id = n.alert_id"
    f" order by n.created_at desc, n.alert_id, n.event, n.channel limit {RECENT_NOTIFICATIONS}"
)
# (table the freshness comes from, what the time means, SQL giving one timestamp `as_of`)
FRESHNESS_SOURCES = (
    ("raw", "ingest_batches", "last ingest batch", "max(finished_at)"),
    ("marts", "fct_daily_stock", "stock data through", "max(stock_date)"),
    ("marts", "mart_kpi_daily", "KPIs through", "max(kpi_date)"),
    ("marts", "mart_alerts", "alerts as of", "max(opened_at)"),
    ("ml", "fct_forecasts", "forecast origin", "max(forecast_origin)"),
    ("ml", "ml_model_registry", "last model trained", "max(trained_at)"),
)


def ops_selects(conn: Connection) -> dict[str, str]:
    """table name -> SELECT over the warehouse, for the sources that exist."""
    selects: dict[str, str] = {}
    if conn.table_exists("raw", "quarantine"):
        selects["quarantine_summary"] = QUARANTINE_SUMMARY
    if conn.table_exists("raw", "ingest_batches"):
        selects["ingest_batches"] = INGEST_BATCHES
    if conn.table_exists("ops", "alert_notifications") and conn.table_exists(
        "marts", "fct_alert_history"
    ):
        selects["recent_notifications"] = NOTIFICATIONS
    parts = [
        f"select '{schema}.{table}' as asset, '{kind}' as kind,"
        f" cast({expr} as timestamp) as as_of from {schema}.{table}"
        for schema, table, kind, expr in FRESHNESS_SOURCES
        if conn.table_exists(schema, table)
    ]
    if parts:
        selects["freshness"] = " union all ".join(parts)
    return selects


def publish_ops(conn: Connection, target_schema: str) -> dict[str, int]:
    """(Re)create the ops tables in `target_schema` (e.g. `serving_copy.ops` or `ops`)."""
    conn.execute(f"create schema if not exists {target_schema}")
    counts: dict[str, int] = {}
    for table, select in ops_selects(conn).items():
        conn.execute(f"drop table if exists {target_schema}.{table}")
        conn.execute(f"create table {target_schema}.{table} as {select}")
        n = conn.fetchall(f"select count(*) from {target_schema}.{table}")[0][0]
        counts[f"{OPS_SCHEMA}.{table}"] = int(n)
    return counts
