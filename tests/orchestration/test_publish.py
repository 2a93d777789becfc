"""What the DuckDB serving copy holds: the served tables whole, the dense daily facts narrowed to
the dashboard's columns, and no feature mart."""

from __future__ import annotations

from pathlib import Path

import duckdb

from orchestration import env
from orchestration.defs.serving.publish import SERVED_COLUMNS, publish_duckdb_copy
from orchestration.warehouse import connect

PAIRS = 40
DAYS = 30


def _warehouse(path: Path) -> env.Warehouse:
    wh = env.Warehouse(f"duckdb:///{path}")
    with connect(wh) as conn:
        conn.execute("create schema marts")
        conn.execute("create schema ml")
        # With columns the dashboard never reads.
        conn.execute(
            "create table marts.fct_daily_stock as select"
            " 'P-' || ((i * 7) % ?) as part_id, 'L-' || ((i * 7) % ? % 3) as location_id,"
            " date '2026-01-01' + cast(i // ? as integer) as stock_date, i % 11 as on_hand,"
            " 0 as received_qty, i % 2 as issued_qty, 4 as reorder_threshold,"
            " 2 as critical_threshold, i * 1.5 as inventory_value, 'active' as status"
            " from range(?) t(i)",
            (PAIRS, PAIRS, PAIRS, PAIRS * DAYS),
        )
        conn.execute(
            "create table marts.fct_demand_features as select i as feature_key from range(10) t(i)"
        )
        conn.execute("create table ml.mart_policy_simulation as select 'P-1' as part_id, 2.5 x")
    return wh


def test_the_copy_serves_what_the_dashboard_reads(tmp_path: Path) -> None:
    wh = _warehouse(tmp_path / "warehouse.duckdb")
    copy = tmp_path / "serving" / "serving.duckdb"
    with connect(wh) as conn:
        counts = publish_duckdb_copy(conn, copy)
        # The warehouse session keeps its own settings after publishing.
        assert conn.fetchall("select current_setting('preserve_insertion_order')") == [(True,)]
    assert counts["marts.fct_daily_stock"] == PAIRS * DAYS
    assert "marts.fct_demand_features" not in counts
    with duckdb.connect(str(copy), read_only=True) as con:
        tables = {
            f"{s}.{t}"
            for s, t in con.execute(
                "select table_schema, table_name from information_schema.tables"
            ).fetchall()
        }
        assert {"marts.fct_daily_stock", "ml.mart_policy_simulation"} <= tables
        assert "marts.fct_demand_features" not in tables
        columns = [d[0] for d in con.execute("select * from marts.fct_daily_stock").description]
        assert tuple(columns) == SERVED_COLUMNS[("marts", "fct_daily_stock")]
        con.execute("attach ? as warehouse (read_only)", (str(tmp_path / "warehouse.duckdb"),))
        served = ", ".join(columns)
        differ = con.execute(
            f"select count(*) from (select {served} from warehouse.marts.fct_daily_stock"
            f" except all select {served} from marts.fct_daily_stock)"
        ).fetchall()
        assert differ == [(0,)]
        assert con.execute("select * from ml.mart_policy_simulation").fetchall() == [("P-1", 2.5)]
