"""Scoring and recommendations partitioned by location group (orchestration/defs/partitions.py):
keys from configuration, one group per location, a group run that replaces only its own rows, all
groups together equal to the unpartitioned computation, and the stages that chain them."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ml.forecast.model import ForecastModel
from ml.replenishment.comparison import compare
from ml.replenishment.recommend import Settings, recommend
from ml.replenishment.reviewed import PolicySettings
from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.chain import done_groups, next_requests, prepare_request, refresh_next_stage
from orchestration.defs.forecasting.assets import MODEL_NAME, _scores
from orchestration.defs.forecasting.demand import read_daily_demand
from orchestration.defs.forecasting.registry import load_for_scoring
from orchestration.defs.jobs import GROUPED, INGEST, REFRESH_TAG, STAGES
from orchestration.defs.partitions import group_keys, group_members, group_of
from orchestration.defs.replenishment.inputs import (
    forecast_dispersion,
    read_as_of,
    read_forecast,
    read_pairs,
)
from orchestration.defs.replenishment.simulation import PolicySimulationConfig, simulation_table
from orchestration.defs.replenishment.simulation_inputs import read_scenario
from orchestration.staged import NEW_DROP, plan
from orchestration.warehouse import connect
from tests.conftest import copy_of_world, serving_dir
from tests.orchestration.pipeline_helpers import all_assets, pipeline_resources, read_table

WORLDS = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]
KEYS = ["part_id", "location_id"]
SCORE_KEYS = [*KEYS, "grain", "period_start"]
SIMULATION_KEYS = ["location_group", "scenario", "abc_class"]
GROUPS = group_keys(env.location_groups())


def test_group_keys_come_from_configuration(monkeypatch):
    assert GROUPS == ["lg1", "lg2", "lg3", "lg4"]  # the default, 4
    monkeypatch.setenv("PARTSFLOW_LOCATION_GROUPS", "0")
    with pytest.raises(ValueError, match="PARTSFLOW_LOCATION_GROUPS"):
        env.location_groups()
    # A code location started with another setting partitions the assets and the job by it.
    code = (
        "from orchestration.definitions import defs; import dagster as dg, json; "
        "job = defs.resolve_job_def('refresh_groups'); "
        "asset = defs.resolve_assets_def(dg.AssetKey(['ml', 'fct_forecasts'])); "
        "print(json.dumps([job.partitions_def.get_partition_keys(), "
        "asset.partitions_def.get_partition_keys()]))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code],
        env={**os.environ, "PARTSFLOW_LOCATION_GROUPS": "3"},
        cwd=env.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout.splitlines()[-1]) == [["lg1", "lg2", "lg3"]] * 2


def test_each_location_lands_in_exactly_one_stable_group():
    ids = [f"L-{i:03d}" for i in range(1000)]
    for n in (1, 4, 7):
        groups = [group_of(i, n) for i in ids]
        assert set(groups) == set(group_keys(n))  # every group used, no other key
        assert groups == [group_of(i, n) for i in ids]  # stable
    assert [group_of(i) for i in ("L-001", "L-002", "L-004")] == ["lg4", "lg2", "lg1"]


@pytest.mark.parametrize("world", WORLDS)
def test_groups_partition_the_locations(world, request):
    url = request.getfixturevalue(world)
    with connect(env.Warehouse(url)) as conn:
        members = {g: group_members(conn, g, ["marts.fct_daily_demand"]) for g in GROUPS}
        sql = "select distinct location_id from marts.fct_daily_demand"
        every = {str(r[0]) for r in conn.fetchall(sql)}
    flat = [loc for ids in members.values() for loc in ids]
    assert len(every) == 4 and sorted(flat) == sorted(every) and len(set(flat)) == len(flat)
    assert all(group_of(loc) == g for g, ids in members.items() for loc in ids)
    assert any(not ids for ids in members.values())  # 4 locations: a group may be empty


@pytest.mark.parametrize("world", WORLDS)
def test_all_groups_equal_the_unpartitioned_computation(world, request):
    """The shared world was materialized group by group: its forecasts and recommendations are
    the rows one unpartitioned scoring and recommendation pass gives."""
    url = request.getfixturevalue(world)
    with connect(env.Warehouse(url)) as conn:
        used, model, _ = load_for_scoring(conn, MODEL_NAME, ForecastModel)
        want_scores = _scores(model, read_daily_demand(conn), used.version)
        pairs, forecast, as_of = read_pairs(conn), read_forecast(conn), read_as_of(conn)
        version = str(forecast["model_version"].iloc[0])
        pairs["dispersion"], _ = forecast_dispersion(conn, pairs, version)
        want_rec = recommend(pairs, forecast, as_of, Settings())
        runs = conn.query_df("select * from ml.replenishment_runs where as_of_date = ?", (as_of,))
    got_scores = read_table(url, "ml", "fct_forecasts", SCORE_KEYS)
    want_scores = want_scores.sort_values(SCORE_KEYS).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got_scores[want_scores.columns].astype({"period_start": str, "forecast_origin": str}),
        want_scores.astype({"period_start": str, "forecast_origin": str}),
        check_dtype=False,
        rtol=1e-9,
    )
    got_rec = read_table(url, "ml", "fct_reorder_recommendations", KEYS)
    want_rec = want_rec.sort_values(KEYS).reset_index(drop=True)
    for column in ("reorder_point", "suggested_order_qty", "status", "safety_stock"):
        np.testing.assert_array_equal(got_rec[column], want_rec[column], err_msg=column)
    assert len(got_rec) == len(want_rec) > 0
    # The run row counts every group's recommendations of the day.
    (run,) = runs.to_dict("records")
    assert run["pairs"] == len(want_rec)
    assert run["predicted_stockouts"] == int(want_rec["is_predicted_stockout"].sum())
    assert run["order_now"] == int((want_rec["status"] == "order_now").sum())
    assert run["model_version"] == version


@pytest.mark.parametrize("world", WORLDS)
def test_the_groups_simulation_sums_to_the_whole_warehouses(world, request):
    """ml.mart_policy_simulation, summed from the groups' replays, is one replay of all pairs."""
    url = request.getfixturevalue(world)
    config = PolicySimulationConfig()
    with connect(env.Warehouse(url)) as conn:
        scenario = read_scenario(conn, config.holdout_days)
        groups = conn.query_df("select * from ml.policy_simulation_groups")
    settings = PolicySettings(review_days=config.review_days)
    whole = simulation_table(scenario, compare(scenario, settings, config.seed))
    got = read_table(url, "ml", "mart_policy_simulation", ["scenario", "abc_class"])
    want = whole.sort_values(["scenario", "abc_class"]).reset_index(drop=True)
    pd.testing.assert_frame_equal(
        got[want.columns].astype({"period_start": str, "period_end": str}),
        want.astype({"period_start": str, "period_end": str}),
        check_dtype=False,
        rtol=1e-9,
    )
    assert set(groups["location_group"]) == {g for g in GROUPS if g != "lg3"}  # lg3 is empty


def _by_group(frame: pd.DataFrame) -> pd.Series:
    return frame["location_id"].map(group_of)


@pytest.mark.parametrize("world", WORLDS)
def test_one_group_run_replaces_only_its_rows(world, request, tmp_path):
    """On a copy whose scores and recommendations are all marked stale: the run of one group
    restores that group's rows (as the full refresh wrote them) and leaves the others' alone."""
    source = request.getfixturevalue(world)
    before_scores = read_table(source, "ml", "fct_forecasts", SCORE_KEYS)
    before_rec = read_table(source, "ml", "fct_reorder_recommendations", KEYS)
    group = "lg4"  # two of the world's four locations
    with copy_of_world(world, source, tmp_path) as url:
        with connect(env.Warehouse(url)) as conn:
            conn.execute("update ml.fct_forecasts set mean = -1")
            conn.execute("update ml.fct_reorder_recommendations set reason = 'stale'")
            conn.execute("update ml.policy_simulation_groups set orders = -1")
        serving = serving_dir(source)
        result = dg.materialize(
            all_assets(),
            resources=pipeline_resources(url, tmp_path, serving),
            instance=dg.DagsterInstance.ephemeral(),
            selection=GROUPED,
            partition_key=group,
        )
        assert result.success
        scores = read_table(url, "ml", "fct_forecasts", SCORE_KEYS)
        rec = read_table(url, "ml", "fct_reorder_recommendations", KEYS)
        simulated = read_table(url, "ml", "policy_simulation_groups", SIMULATION_KEYS)
    before_simulated = read_table(source, "ml", "policy_simulation_groups", SIMULATION_KEYS)
    mine = simulated["location_group"] == group
    assert (simulated.loc[~mine, "orders"] == -1).all() and (~mine).any()
    pd.testing.assert_frame_equal(simulated[mine], before_simulated[mine], check_dtype=False)
    mine, theirs = _by_group(scores) == group, _by_group(scores) != group
    assert mine.sum() > 0 and theirs.sum() > 0 and len(scores) == len(before_scores)
    assert (scores.loc[theirs, "mean"] == -1).all()
    pd.testing.assert_frame_equal(scores[mine], before_scores[mine], check_dtype=False)
    mine = _by_group(rec) == group
    assert (rec.loc[~mine, "reason"] == "stale").all() and (~mine).any()
    pd.testing.assert_frame_equal(rec[mine], before_rec[mine], check_dtype=False)


def test_stages_cover_every_asset_once_and_match_the_jobs():
    graph = defs.resolve_asset_graph()
    every = {k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable}
    runs = plan(graph, every)
    assert [group for _, group in runs] == [NEW_DROP, None, *GROUPS, None]
    ingest, prepare, grouped, publish = (set(runs[i][0]) for i in (0, 1, 2, -1))
    assert ingest | prepare | grouped | publish == every
    assert len(ingest) + len(prepare) + len(grouped) + len(publish) == len(every)
    jobs = [set(defs.resolve_job_def(j.name).asset_layer.executable_asset_keys) for j in STAGES]
    assert jobs == [ingest, prepare, grouped, publish]
    assert defs.resolve_job_def("refresh_groups").partitions_def.get_partition_keys() == GROUPS
    assert defs.resolve_job_def("refresh_ingest").partitions_def.name == "ingest_batches"
    assert {k.path[0] for k in ingest} == {"raw"}
    assert dg.AssetKey(["ml", "ml_model_registry"]) in prepare  # one global model
    assert dg.AssetKey(["serving", "dashboard_copy"]) in publish


def test_next_stage_requests_the_groups_then_publish():
    first = next_requests("r1", set(), writers=1)
    assert [(r.job_name, r.partition_key) for r in first] == [("refresh_groups", "lg1")]
    assert first[0].tags == {REFRESH_TAG: "r1"} and first[0].run_key == "r1-lg1"
    wide = next_requests("r1", {"lg1"}, writers=4)
    assert [r.partition_key for r in wide] == ["lg2", "lg3", "lg4"]
    (publish,) = next_requests("r1", set(GROUPS), writers=1)
    assert publish.job_name == "refresh_publish" and publish.run_key == "r1-publish"


def test_after_ingest_prepare_refreshes_what_is_downstream_of_the_drop():
    graph = defs.resolve_asset_graph()
    request = prepare_request("r1", [dg.AssetKey(["raw", "transactions"])], graph)
    assert (request.job_name, request.run_key) == ("refresh_prepare", "r1-prepare")
    assert request.tags == {REFRESH_TAG: "r1"}
    selection = set(request.asset_selection)
    assert {
        dg.AssetKey(["marts", "fct_daily_demand"]),
        dg.AssetKey(["ml", "ml_model_registry"]),
    } <= selection
    assert not {k for k in selection if k.path[0] == "raw"} | (selection & GROUPED.resolve(graph))
    subset = defs.resolve_job_def("refresh_prepare").get_subset(asset_selection=selection)
    assert subset.asset_layer.executable_asset_keys == selection  # a valid subset to launch
    assert prepare_request("r1", None, graph).asset_selection is None  # the whole stage


def test_a_prepare_run_has_all_it_reads_on_a_fresh_warehouse():
    """The first drop of a fresh warehouse (every entity): all the selected assets read is
    selected or ingested. After a drop of one entity, what no ingest feeds (the holidays seed)
    is selected too. The first sensor-driven refresh once failed on that seed."""
    graph = defs.resolve_asset_graph()
    ingested = INGEST.resolve(graph)
    fed = INGEST.downstream().resolve(graph)

    def parents(selected: set) -> set:
        return {
            parent
            for key in selected
            for parent in graph.get(key).parent_keys
            if graph.get(parent).is_materializable
        }

    first = set(prepare_request("r1", sorted(ingested, key=str), graph).asset_selection)
    assert parents(first) <= first | ingested
    assert dg.AssetKey(["staging", "public_holidays"]) in first
    for key in ingested:
        selected = set(prepare_request("r1", [key], graph).asset_selection)
        assert parents(selected) - fed <= selected, key


def test_the_chain_sensor_reads_the_finished_group_runs(tmp_path, monkeypatch):
    """Real runs in an instance: a succeeded ingest run starts prepare, which starts lg1 (DuckDB:
    one writer); once every group of that refresh succeeded, the last group run starts
    publish."""
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path}/wh.duckdb")

    @dg.op
    def noop() -> None:
        pass

    def finished(name: str, tags: dict) -> dg.DagsterRun:
        job = dg.GraphDefinition(name=name, node_defs=[noop]).to_job()
        result = job.execute_in_process(instance=instance, tags=tags)
        return instance.get_run_by_id(result.run_id)

    def evaluate(run: dg.DagsterRun) -> list[dg.RunRequest]:
        (event,) = instance.get_records_for_run(
            run.run_id, of_type=dg.DagsterEventType.RUN_SUCCESS
        ).records
        context = dg.build_run_status_sensor_context(
            sensor_name=refresh_next_stage.name,
            dagster_instance=instance,
            dagster_run=run,
            dagster_event=event.event_log_entry.dagster_event,
        )
        return list(refresh_next_stage(context))

    with dg.DagsterInstance.ephemeral() as instance:
        ingest = finished("refresh_ingest", {"dagster/partition": "20261129T020000.000000Z-0"})
        refresh = ingest.run_id  # the first run of the refresh names it
        (request,) = evaluate(ingest)
        assert (request.job_name, request.partition_key) == ("refresh_prepare", None)
        assert request.tags == {REFRESH_TAG: refresh} and request.run_key == f"{refresh}-prepare"
        prepare = finished("refresh_prepare", request.tags)
        (request,) = evaluate(prepare)
        assert (request.job_name, request.partition_key) == ("refresh_groups", "lg1")
        assert request.tags[REFRESH_TAG] == refresh
        last = None
        for group in GROUPS:
            tags = {REFRESH_TAG: refresh, "dagster/partition": group}
            last = finished("refresh_groups", tags)
        finished("refresh_groups", {REFRESH_TAG: "another", "dagster/partition": "lg1"})
        assert done_groups(instance, refresh) == set(GROUPS)
        (publish,) = evaluate(last)
        assert publish.job_name == "refresh_publish"
        assert publish.run_key == f"{refresh}-publish"
