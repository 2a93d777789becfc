"""The whole pipeline materialized in-process on DuckDB and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from orchestration.generator import GeneratorConfig, generate_landing
from tests.orchestration.expected import expected_demand_rows, expected_value_by_location
from tests.orchestration.pipeline_helpers import (
    MART_KEYS,
    materialize_all,
    read_table,
    table_snapshot,
)

CONFIG = GeneratorConfig(parts=40, locations=4, days=150, seed=11)
LINEAGE = ["loaded_through"]


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate_landing(out, CONFIG)
    return out


@pytest.fixture(scope="module")
def duckdb_run(landing: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("duck")
    url = f"duckdb:///{root}/warehouse.duckdb"
    result = materialize_all(url, landing, root / "serving")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return url, root / "serving"


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


def test_duckdb_marts_match_independent_computation(duckdb_run, landing):
    url, _ = duckdb_run
    assert_marts_match_files(url, landing)


def test_serving_copy_equals_warehouse_marts(duckdb_run):
    url, serving = duckdb_run
    copy_url = f"duckdb:///{serving}/serving.duckdb"
    for table, keys in MART_KEYS.items():
        pd.testing.assert_frame_equal(
            read_table(url, "marts", table, keys), read_table(copy_url, "marts", table, keys)
        )


def test_rematerializing_without_new_files_changes_no_row(duckdb_run, landing):
    url, serving = duckdb_run
    before = table_snapshot(url, ("raw", "marts", "ml"))
    assert materialize_all(url, landing, serving).success
    after = table_snapshot(url, ("raw", "marts", "ml"))
    assert before.keys() == after.keys()
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


@pytest.mark.postgres
def test_postgres_gives_the_same_marts(pg_database_url, duckdb_run, landing, tmp_path):
    pg_url = pg_database_url
    result = materialize_all(pg_url, landing, tmp_path / "serving")
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert_marts_match_files(pg_url, landing)

    duck_url, _ = duckdb_run
    for table, keys in MART_KEYS.items():
        # loaded_through is when each warehouse loaded the files: lineage, not content.
        duck = read_table(duck_url, "marts", table, keys).drop(columns=LINEAGE, errors="ignore")
        pg = read_table(pg_url, "marts", table, keys).drop(columns=LINEAGE, errors="ignore")
        assert list(duck.columns) == list(pg.columns), table
        pd.testing.assert_frame_equal(duck, pg, check_dtype=False, obj=table, rtol=1e-9)

    before = table_snapshot(pg_url, ("raw", "marts", "ml"))
    assert materialize_all(pg_url, landing, tmp_path / "serving").success
    after = table_snapshot(pg_url, ("raw", "marts", "ml"))
    for name in before:
        pd.testing.assert_frame_equal(before[name], after[name], obj=name)


def test_dashboard_renders_the_published_copy(duckdb_run, landing, monkeypatch):
    """The real app on the real serving copy: no exception, totals equal to the files'."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboards.formatting import compact
    from orchestration import env

    _, serving = duckdb_run
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(serving))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{serving}/not-the-warehouse.duckdb")
    st.cache_data.clear()
    app = env.PROJECT_ROOT / "dashboards" / "streamlit_app.py"
    at = AppTest.from_file(str(app), default_timeout=60).run()
    assert not at.exception, at.exception
    metrics = {m.label: m.value for m in at.metric}
    total = expected_value_by_location(landing).sum()
    assert metrics["Inventory value"] == compact(total, "$")
    assert any("Data refreshed" in c.value for c in at.caption)
    st.cache_data.clear()
