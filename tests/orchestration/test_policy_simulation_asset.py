"""The policy simulation asset in the shared world (materialized in-process on DuckDB and
PostgreSQL): its scenario read from the marts is the generator's world, and
ml.mart_policy_simulation holds every run and class with consistent numbers."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestration import env
from orchestration.bench_policy import scenario_from_truth
from orchestration.cli import app
from orchestration.defs.partitions import location_groups
from orchestration.defs.replenishment.simulation import PolicySimulationConfig
from orchestration.defs.replenishment.simulation_inputs import read_scenario
from orchestration.generator.truth import held_out_truth
from orchestration.warehouse import connect
from tests.conftest import MARTS_CONFIG, serving_dir
from tests.orchestration.pipeline_helpers import materialize_all, read_table

WORLDS = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]
HOLDOUT = PolicySimulationConfig().holdout_days
KEY = ["scenario", "abc_class"]
GROUPS = location_groups.get_partition_keys()
ADDITIVE = ["series", "demand_units", "served_units", "stockout_days", "stockout_incidents"]
ADDITIVE += ["orders", "ordered_units"]


@pytest.fixture(scope="module")
def generator():
    return held_out_truth(MARTS_CONFIG, HOLDOUT)


@pytest.fixture(scope="module")
def truth(generator):
    return scenario_from_truth(MARTS_CONFIG, generator)


def _scenario(url: str):
    with connect(env.Warehouse(url)) as conn:
        return read_scenario(conn, HOLDOUT)


@pytest.mark.parametrize("world", WORLDS)
def test_the_scenario_read_from_the_marts_is_the_generators_world(world, request, generator, truth):
    got = _scenario(request.getfixturevalue(world))
    assert (got.start, got.series, got.days) == (truth.start, truth.series, truth.days)
    np.testing.assert_array_equal(got.on_hand, truth.on_hand)
    np.testing.assert_array_equal(got.reorder_point, truth.reorder_point)
    np.testing.assert_array_equal(np.nan_to_num(got.history), truth.history)
    np.testing.assert_allclose(got.unit_cost, truth.unit_cost)
    assert (got.abc_class() == truth.abc_class()).all()
    for a, b in zip(got.lead_time_stats(), truth.lead_time_stats(), strict=True):
        np.testing.assert_allclose(a, b)

    # In flight at the start: the same orders, arriving on the same days (or after the period).
    def in_flight(s):
        arrival = np.minimum(s.open_arrival, s.days)
        return sorted(zip(s.open_series, s.open_qty, arrival, strict=True))

    assert in_flight(got) == in_flight(truth) and in_flight(got)
    # The recorded issues of the period are what the static policy served of the true demand.
    kept = generator.active[generator.start_day]
    np.testing.assert_array_equal(got.demand, generator.served[generator.start_day :, kept])
    assert (got.demand <= truth.demand).all() and got.demand.sum() < truth.demand.sum()
    # The smallest order before the period was placed at the threshold or below it.
    assert (got.order_up_to >= truth.order_up_to).all()
    assert (got.order_up_to == truth.order_up_to).mean() > 0.6


def _table(url: str) -> pd.DataFrame:
    return read_table(url, "ml", "mart_policy_simulation", KEY)


@pytest.mark.parametrize("world", WORLDS)
def test_every_run_and_class_is_reported_consistently(world, request):
    url = request.getfixturevalue(world)
    t = _table(url)
    runs = ["static", "partsflow"] + [
        f"sweep_{s:.3f}" for s in (0.8, 0.85, 0.9, 0.95, 0.975, 0.99, 0.995)
    ]
    assert sorted(t["scenario"].unique()) == sorted(runs)
    assert set(t["abc_class"]) == {"all", "A", "B", "C"} and len(t) == len(runs) * 4
    scenario = _scenario(url)
    assert (t["series"][t["abc_class"] == "all"] == scenario.series).all()
    assert (t["demand_units"][t["abc_class"] == "all"] == scenario.demand.sum()).all()
    parts = t[t["abc_class"] != "all"].groupby("scenario")[ADDITIVE].sum()
    whole = t[t["abc_class"] == "all"].set_index("scenario")[ADDITIVE]
    pd.testing.assert_frame_equal(parts.sort_index(), whole.sort_index(), check_dtype=False)
    assert np.allclose(t["fill_rate"], t["served_units"] / t["demand_units"])
    assert np.allclose(t["carrying_cost"], t["avg_inventory_value"] * t["holding_rate"])
    static = t[t["scenario"] == "static"].set_index("abc_class")
    base = static.loc[t["abc_class"]].reset_index(drop=True)
    assert np.allclose(t["fill_rate_change"], t["fill_rate"] - base["fill_rate"])
    sweep = t[(t["abc_class"] == "all") & t["scenario"].str.startswith("sweep_")]
    sweep = sweep.sort_values("service_level")
    # A higher service level holds more stock.
    assert sweep["avg_inventory_value"].is_monotonic_increasing
    assert t["service_level"].isna().eq(~t["scenario"].str.startswith("sweep_")).all()
    assert (pd.to_datetime(t["period_start"]) == pd.Timestamp(scenario.start)).all()


def test_duckdb_and_postgres_report_the_same_simulation(marts_duckdb, marts_postgres):
    duck, pg = _table(marts_duckdb), _table(marts_postgres)
    pd.testing.assert_frame_equal(duck, pg, check_dtype=False)


def test_the_serving_copy_publishes_the_simulation(marts_duckdb):
    copy = serving_dir(marts_duckdb) / "serving.duckdb"
    with duckdb.connect(str(copy), read_only=True) as con:
        rows = con.execute("select count(*) from ml.mart_policy_simulation").fetchone()[0]
    assert rows == len(_table(marts_duckdb))


def test_rematerializing_reports_the_headline_and_the_same_rows(marts_duckdb, tmp_path):
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    shutil.copy(env.Warehouse(marts_duckdb).duckdb_path, tmp_path / "warehouse.duckdb")
    before = _table(url)
    result = materialize_all(
        url,
        tmp_path / "landing",
        tmp_path / "serving",
        # Each location group's replay, then the mart that sums them.
        selection=dg.AssetSelection.assets(
            dg.AssetKey(["ml", "policy_simulation_groups"]),
            dg.AssetKey(["ml", "mart_policy_simulation"]),
        ),
    )
    assert result.success
    assert len(result.results) == len(GROUPS) + 1
    (event,) = result.asset_materializations_for_node("ml__mart_policy_simulation")
    meta = {k: v.value for k, v in event.metadata.items()}
    static = before[(before["scenario"] == "static") & (before["abc_class"] == "all")].iloc[0]
    ours = before[(before["scenario"] == "partsflow") & (before["abc_class"] == "all")].iloc[0]
    assert meta["rows"] == len(before)
    assert meta["static_fill_rate"] == pytest.approx(static["fill_rate"])
    assert meta["partsflow_stockout_incidents"] == ours["stockout_incidents"]
    assert meta["carrying_cost_reduction"] == pytest.approx(ours["carrying_cost_reduction"])
    pd.testing.assert_frame_equal(_table(url), before)  # same data, same seed: same rows


def test_partsflow_simulate_prints_the_same_numbers(marts_duckdb, monkeypatch):
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", marts_duckdb)
    result = CliRunner().invoke(app, ["simulate"])
    assert result.exit_code == 0, result.output
    t = _table(marts_duckdb)
    for run in ("static", "partsflow", "sweep_0.950"):
        row = t[(t["scenario"] == run) & (t["abc_class"] == "all")].iloc[0]
        line = next(x for x in result.stdout.splitlines() if x.startswith(f"{run} "))
        assert f"{row['fill_rate']:.2%}" in line and f" {row['orders']:,d}" in line
    assert "vs static: stock-out incidents" in result.stdout
