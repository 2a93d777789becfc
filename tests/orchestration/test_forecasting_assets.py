"""The forecasting assets in the shared world (materialized in-process on DuckDB and PostgreSQL):
trained and registered model, forecasts per day, week and month with quantiles of the sums,
accuracy per model version; a second materialization on a copy retires a model that is no better,
and on another copy promotes one that is better than the active version."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ml.forecast.history import to_panel
from ml.registry import load_artifact
from orchestration import env
from orchestration.defs.forecasting.assets import MODEL_NAME, QUANTILE_COLUMNS
from orchestration.defs.forecasting.demand import (
    read_daily_demand,
    series_ids,
    training_locations,
)
from orchestration.defs.forecasting.registry import REGISTRY, model_versions
from orchestration.warehouse import connect
from tests.orchestration.pipeline_helpers import materialize_all, read_table

WORLDS = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]
FORECASTING = dg.AssetSelection.groups("forecasting")
KEYS = ["part_id", "location_id"]


def _tables(url: str) -> dict[str, pd.DataFrame]:
    return {
        "scores": read_table(url, "ml", "fct_forecasts", [*KEYS, "grain", "period_start"]),
        "daily": read_table(url, "ml", "forecasts", [*KEYS, "forecast_date"]),
        "accuracy": read_table(url, "ml", "fct_forecast_accuracy", ["model_version", "scope"]),
        "demand": read_table(url, "marts", "fct_daily_demand", [*KEYS, "demand_date"]),
    }


@pytest.mark.parametrize("world", WORLDS)
def test_forecasts_cover_28_days_per_series_with_sound_quantiles(world, request):
    url = request.getfixturevalue(world)
    t = _tables(url)
    scores, demand = t["scores"], t["demand"]
    days = scores[scores["grain"] == "day"]
    pairs = demand[KEYS].drop_duplicates()
    assert len(days) == 28 * len(pairs)
    assert set(map(tuple, days[KEYS].to_numpy())) == set(map(tuple, pairs.to_numpy()))
    first = pd.to_datetime(days["period_start"]).min()
    assert first == pd.to_datetime(demand["demand_date"]).max() + pd.Timedelta(days=1)
    q = scores[QUANTILE_COLUMNS].to_numpy(float)
    assert (q >= 0).all() and (np.diff(q, axis=1) >= 0).all()
    # Continuous count quantiles (ml.forecast.quantiles): zero, or inside a positive count's unit
    # interval [k - shift, k + 1 - shift), with the shift the active model fitted on its backtest.
    with connect(env.Warehouse(url)) as conn:
        shift = load_artifact(model_versions(conn, MODEL_NAME)[0].artifact).shift
    assert 0 <= shift <= 1
    assert ((q == 0) | (q > 1 - shift - 1e-9)).all() and (q > 0).any()
    assert (scores["mean"] >= 0).all()
    # Weeks and months partition the 28 days: their means are the sums of the daily means.
    for grain in ("week", "month"):
        agg = scores[scores["grain"] == grain]
        assert agg.groupby(KEYS)["days"].sum().eq(28).all()
        np.testing.assert_allclose(
            agg.groupby(KEYS)["mean"].sum().sort_index(),
            days.groupby(KEYS)["mean"].sum().sort_index(),
            rtol=1e-9,
        )
    # The dashboard's daily table is the daily grain of the same model version.
    pd.testing.assert_frame_equal(
        t["daily"][[*KEYS, "mean", "model_version"]].reset_index(drop=True),
        days[[*KEYS, "mean", "model_version"]].reset_index(drop=True),
        check_dtype=False,
    )


@pytest.mark.parametrize("world", WORLDS)
def test_weekly_quantiles_are_quantiles_of_the_sum(world, request):
    """Quantiles do not add up: a week's quantiles come from the distribution of its total
    (moment-matched NB), so for series with demand they differ from the sums of daily ones."""
    scores = _tables(request.getfixturevalue(world))["scores"]
    days = scores[scores["grain"] == "day"].copy()
    weeks = scores[(scores["grain"] == "week") & (scores["days"] == 7)]
    days["week"] = pd.to_datetime(days["period_start"]).dt.to_period("W-SUN").dt.start_time
    summed = days.groupby([*KEYS, "week"])[QUANTILE_COLUMNS].sum()
    weeks = weeks.set_index([*KEYS, pd.to_datetime(weeks["period_start"]).rename("week")])
    summed = summed.loc[weeks.index]
    moving = (weeks["mean"] > 1).to_numpy()  # slow movers' quantiles are mostly 0 either way
    assert moving.any()
    differs = (weeks[QUANTILE_COLUMNS].to_numpy() != summed.to_numpy()).any(axis=1)
    assert differs[moving].mean() > 0.9


@pytest.mark.parametrize("world", WORLDS)
def test_first_version_is_registered_active_with_its_accuracy(world, request):
    url = request.getfixturevalue(world)
    with connect(env.Warehouse(url)) as conn:
        versions = model_versions(conn, MODEL_NAME)
    assert [(v.version, v.status) for v in versions] == [(1, "active")]
    v1 = versions[0]
    assert v1.decision == "first version of this model: active"
    params = v1.candidate.parameters
    assert (params["horizon"], params["origins"]) == (28, 3)
    assert "AutoETS" not in params["candidates"]
    assert params["choice"] == v1.candidate.model_type
    assert {"rmse", "bias", "wql", "above_top", "below_bottom"} <= set(v1.candidate.metrics)
    assert Path(v1.artifact).exists()
    t = _tables(url)
    assert set(t["scores"]["model_version"]) == {f"{MODEL_NAME}-v1"}
    acc = t["accuracy"]
    assert set(acc["model_version"]) == {f"{MODEL_NAME}-v1"}
    assert set(acc["scope"]) == {"overall", "class", "series"}
    overall = acc[acc["scope"] == "overall"].iloc[0]
    assert overall["wql"] == pytest.approx(v1.candidate.metrics["wql"])
    series = acc[acc["scope"] == "series"]
    assert series[KEYS].notna().all().all()
    assert len(series) == len(t["demand"][KEYS].drop_duplicates())


def _decision(result: dg.ExecuteInProcessResult) -> str:
    (event,) = result.asset_materializations_for_node("ml__ml_model_registry")
    return event.metadata["decision"].value


def test_retraining_on_the_same_data_is_retired_and_history_is_kept(marts_duckdb, tmp_path):
    """On a copy of the world: a forced retrain cannot beat v1 (same data, same backtest), so v2
    is recorded retired with the reason, forecasts stay on v1 and the accuracy keeps both."""
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    shutil.copy(env.Warehouse(marts_duckdb).duckdb_path, tmp_path / "warehouse.duckdb")
    before = _tables(url)["accuracy"]
    landing, serving = tmp_path / "landing", tmp_path / "serving"

    unchanged = materialize_all(url, landing, serving, FORECASTING)
    assert unchanged.success
    assert _decision(unchanged).startswith("unchanged: same data and settings as v1")

    retrain = {"ops": {"ml__ml_model_registry": {"config": {"retrain": True}}}}
    result = materialize_all(url, landing, serving, FORECASTING, run_config=retrain)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert _decision(result).startswith("retired: quantile loss not lower than the active")

    with connect(env.Warehouse(url)) as conn:
        versions = model_versions(conn, MODEL_NAME)
    assert [(v.version, v.status) for v in versions] == [(1, "active"), (2, "retired")]
    assert json.loads(json.dumps(versions[1].candidate.metrics)) == versions[0].candidate.metrics
    t = _tables(url)
    assert set(t["scores"]["model_version"]) == {f"{MODEL_NAME}-v1"}
    acc = t["accuracy"]
    assert acc.groupby("model_version").size().to_dict() == {
        f"{MODEL_NAME}-v1": len(before),
        f"{MODEL_NAME}-v2": len(before),
    }
    v1_rows = acc[acc["model_version"] == f"{MODEL_NAME}-v1"].reset_index(drop=True)
    pd.testing.assert_frame_equal(v1_rows, before.reset_index(drop=True))


def test_a_better_version_is_promoted_and_replaces_the_active_one(marts_duckdb, tmp_path):
    """On a copy of the world whose active v1 has a worse backtest on record than retraining now
    gets (as a version from an older release would): the second materialization registers v2
    active with the reason, v1 is retired, forecasts move to v2, accuracy keeps both."""
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    shutil.copy(env.Warehouse(marts_duckdb).duckdb_path, tmp_path / "warehouse.duckdb")
    with connect(env.Warehouse(url)) as conn:
        (v1,) = model_versions(conn, MODEL_NAME)
        worse = {**v1.candidate.metrics, "wql": v1.candidate.metrics["wql"] * 1.2}
        worse["rmse"] = v1.candidate.metrics["rmse"] * 1.1
        conn.execute(
            f"update {REGISTRY} set metrics = ? where model_name = ? and version = 1",
            (json.dumps(worse), MODEL_NAME),
        )
    landing, serving = tmp_path / "landing", tmp_path / "serving"

    retrain = {"ops": {"ml__ml_model_registry": {"config": {"retrain": True}}}}
    result = materialize_all(url, landing, serving, FORECASTING, run_config=retrain)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    decision = _decision(result)
    (event,) = result.asset_materializations_for_node("ml__ml_model_registry")
    assert event.metadata["status"].value == "active"
    new = event.metadata["backtest_wql"].value
    assert decision == (
        f"promoted: beats the active version; wql {new:.4g} vs {worse['wql']:.4g}, rmse "
        f"{event.metadata['backtest_rmse'].value:.4g} vs {worse['rmse']:.4g} (active)"
    )

    with connect(env.Warehouse(url)) as conn:
        old, v2 = model_versions(conn, MODEL_NAME)
    assert [(old.status, v2.status)] == [("retired", "active")]
    assert v2.decision == decision and v2.candidate.metrics["wql"] == pytest.approx(new)
    assert old.decision.startswith("first version of this model: active; replaced by v2 on ")
    t = _tables(url)
    assert set(t["scores"]["model_version"]) == {f"{MODEL_NAME}-v2"}
    assert set(t["daily"]["model_version"]) == {f"{MODEL_NAME}-v2"}
    assert set(t["accuracy"]["model_version"]) == {f"{MODEL_NAME}-v1", f"{MODEL_NAME}-v2"}


@pytest.mark.parametrize("world", WORLDS)
def test_training_reads_a_sample_of_whole_locations_above_its_series_budget(world, request):
    """Above `max_training_series` training reads the fewest locations, in a stable order, whose
    series reach the budget; at or below it, every location."""
    url = request.getfixturevalue(world)
    with connect(env.Warehouse(url), read_only=url.startswith("duckdb")) as conn:
        counts = conn.query_df(
            "select location_id, count(distinct part_id) as n from marts.fct_daily_demand "
            "group by location_id"
        ).set_index("location_id")["n"]
        assert training_locations(conn, int(counts.sum())) is None
        budget = int(counts.max()) + 1  # more than any one location holds
        chosen = training_locations(conn, budget)
        assert chosen == training_locations(conn, budget)  # stable
        assert 2 <= len(chosen) < len(counts)
        assert counts[chosen].sum() >= budget > counts[chosen[:-1]].sum()
        panel = read_daily_demand(conn, chosen)
    locations = {json.loads(i)[1] for i in panel.ids}
    assert locations == set(chosen) and len(panel.ids) == counts[chosen].sum()


@pytest.mark.parametrize("world", WORLDS)
def test_the_panel_is_that_of_every_row_of_the_mart(world, request):
    """read_daily_demand reads only the days with issues: its panel is to_panel of all the rows,
    for every series and for a group's locations."""
    url = request.getfixturevalue(world)
    with connect(env.Warehouse(url), read_only=url.startswith("duckdb")) as conn:
        rows = conn.query_df(
            "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand"
        )
        some = sorted(set(rows["location_id"]))[:2]
        panels = {None: read_daily_demand(conn), tuple(some): read_daily_demand(conn, some)}
    for locations, panel in panels.items():
        part = rows if locations is None else rows[rows["location_id"].isin(locations)]
        history = pd.DataFrame(
            {
                "series_id": series_ids(part),
                "date": pd.to_datetime(part["demand_date"]),
                "quantity": part["issued_qty"].astype(float),
            }
        )
        want = to_panel(history, "D")
        np.testing.assert_array_equal(panel.ids, want.ids)
        assert panel.periods.equals(want.periods) and panel.freq == want.freq
        np.testing.assert_array_equal(panel.start, want.start)
        np.testing.assert_array_equal(panel.values, want.values)  # NaN where NaN
        assert (panel.values > 0).any()
