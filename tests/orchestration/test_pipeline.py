"""The whole pipeline materialized in-process on DuckDB and on PostgreSQL (the shared generated
world of tests/conftest.py): marts equal to the files, the same on both warehouses, the published
copy equal to the warehouse, a second run a no-op, the dashboard on the published copy."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orchestration import env
from orchestration.defs.serving.publish import NOT_SERVED, SERVED_COLUMNS
from orchestration.warehouse import connect
from tests.conftest import serving_dir
from tests.orchestration.expected import expected_demand_rows, expected_value_by_location
from tests.orchestration.pipeline_helpers import (
    MART_KEYS,
    materialize_all,
    read_table,
    table_snapshot,
)

LINEAGE = ["loaded_through"]


def assert_marts_match_files(url: str, landing: Path) -> None:
    summary = read_table(
        url, "marts", "mart_inventory_summary", MART_KEYS["mart_inventory_summary"]
    )
    got = summary.groupby("location_id")["total_value"].sum().astype(float)
    want = expected_value_by_location(landing).astype(float)
    pd.testing.assert_series_equal(
        got.sort_index(), want.sort_index(), check_names=False, rtol=1e-6
    )

    demand = read_table(url, "marts", "fct_daily_demand", MART_KEYS["fct_daily_demand"])
    rows, issued = expected_demand_rows(landing)
    assert len(demand) == rows
    assert int(demand["issued_qty"].sum()) == issued

    forecasts = read_table(url, "ml", "forecasts", ["part_id", "location_id", "forecast_date"])
    pairs = demand[["part_id", "location_id"]].drop_duplicates()
    assert len(forecasts) == 28 * len(pairs)
    assert (forecasts["mean"] >= 0).all()
    assert (
        pd.to_datetime(forecasts["forecast_date"]).min()
        > pd.to_datetime(demand["demand_date"]).max()
    )


def test_duckdb_marts_match_independent_computation(marts_duckdb, marts_landing):
    assert_marts_match_files(marts_duckdb, marts_landing)


def test_serving_copy_equals_warehouse_marts(marts_duckdb):
    url = marts_duckdb
    copy_url = f"duckdb:///{serving_dir(url)}/serving.duckdb"
    # Every mart but the feature marts and the daily demand; the daily stock with the
    # dashboard's columns.
    not_served = {table for schema, table in NOT_SERVED if schema == "marts"}
    assert not_served < _mart_tables(url)
    assert _mart_tables(copy_url) == _mart_tables(url) - not_served
    compared = {**MART_KEYS, "fct_daily_stock": ["part_id", "location_id", "stock_date"]}
    for table, keys in compared.items():
        if table in not_served:
            continue
        copy = read_table(copy_url, "marts", table, keys)
        whole = read_table(url, "marts", table, keys)
        columns = list(SERVED_COLUMNS.get(("marts", table), whole.columns))
        assert list(copy.columns) == columns
        pd.testing.assert_frame_equal(whole[columns], copy)


def test_rematerializing_without_new_files_changes_no_row(marts_duckdb, marts_landing):
    url = marts_duckdb
    before = table_snapshot(url, ("raw", "marts", "ml"))
    assert materialize_all(url, marts_landing, serving_dir(url)).success
    after = table_snapshot(url, ("raw", "marts", "ml"))
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def _mart_tables(url: str) -> set[str]:
    with connect(env.Warehouse(url)) as conn:
        return set(conn.tables_in("marts"))


@pytest.mark.postgres
def test_postgres_gives_the_same_marts(marts_postgres, marts_duckdb, marts_landing):
    assert_marts_match_files(marts_postgres, marts_landing)
    assert _mart_tables(marts_postgres) == _mart_tables(marts_duckdb)
    for table, keys in MART_KEYS.items():
        # loaded_through is when each warehouse loaded the files: lineage, not content.
        duck = read_table(marts_duckdb, "marts", table, keys).drop(columns=LINEAGE, errors="ignore")
        pg = read_table(marts_postgres, "marts", table, keys).drop(columns=LINEAGE, errors="ignore")
        assert list(duck.columns) == list(pg.columns), table
        pd.testing.assert_frame_equal(duck, pg, check_dtype=False, obj=table, rtol=1e-9)


def test_dashboard_renders_the_published_copy(marts_duckdb, marts_landing, monkeypatch, tmp_path):
    """The real app on the real serving copy: no exception, totals equal to the files'."""
    import streamlit as st

    from dashboards.formatting import compact
    from tests.dashboards.conftest import login
    from tests.dashboards.world import write_world_users

    serving = serving_dir(marts_duckdb)
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(serving))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{serving}/not-the-warehouse.duckdb")
    users = tmp_path / "users.yaml"
    write_world_users(users, ["unused"])
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(users))
    st.cache_data.clear()
    at = login("executive")
    metrics = {m.label: m.value for m in at.metric}
    total = expected_value_by_location(marts_landing).sum()
    assert metrics["Inventory value"] == compact(total, "$")
    assert any("Data refreshed" in c.value for c in at.caption)
    st.cache_data.clear()
