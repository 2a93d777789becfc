"""The `partsflow` command line, run through Typer's runner in this process."""

from __future__ import annotations

import json
from itertools import pairwise

from typer.testing import CliRunner

import orchestration.definitions  # noqa: F401 - loaded before the env changes, as a server would
from orchestration import env
from orchestration.cli import app
from orchestration.warehouse import connect

runner = CliRunner()


def test_generate_then_materialize_ingest(tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    result = runner.invoke(
        app,
        ["generate", "--out", str(landing), "--parts", "12", "--locations", "3", "--days", "40"],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["rows"]["parts"] == 12
    assert (landing / "transactions").is_dir()

    url = f"duckdb:///{tmp_path}/wh.duckdb"
    monkeypatch.setenv("PARTSFLOW_LANDING_DIR", str(landing))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", url)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    result = runner.invoke(app, ["materialize", "--select", "group:ingest"])
    assert result.exit_code == 0, result.output
    assert "Materialized 7 assets" in result.stdout
    with connect(env.Warehouse(url)) as conn:
        parts = conn.fetchall("select count(*) from raw.parts")[0][0]
        batches = conn.fetchall("select count(*) from raw.ingest_batches")[0][0]
    assert parts == 12
    assert batches == sum(summary["files"].values())
    # The run is recorded in DAGSTER_HOME, where the UI reads it.
    assert (tmp_path / "dagster_home" / "history").exists()


def test_materialize_runs_every_stage_and_each_location_group(tmp_path, monkeypatch):
    """`partsflow materialize`: ingest (one landing drop of every file), prepare, one run per
    location group, publish; every asset (each partition of the partitioned ones) recorded in
    DAGSTER_HOME, every location scored."""
    import dagster as dg

    from orchestration.definitions import defs

    landing = tmp_path / "landing"
    args = ["--parts", "8", "--locations", "3", "--days", "240", "--seed", "5"]
    assert runner.invoke(app, ["generate", "--out", str(landing), *args]).exit_code == 0
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    for name, value in {
        "PARTSFLOW_LANDING_DIR": landing,
        "PARTSFLOW_WAREHOUSE_URL": url,
        "PARTSFLOW_SERVING_DIR": tmp_path / "serving",
        "PARTSFLOW_MODEL_STORE": tmp_path / "models",
        "DAGSTER_HOME": tmp_path / "dagster_home",
    }.items():
        monkeypatch.setenv(name, str(value))
    result = runner.invoke(app, ["materialize"])
    assert result.exit_code == 0, result.output
    groups = defs.resolve_job_def("refresh_groups").partitions_def.get_partition_keys()
    assert f"in {len(groups) + 3} runs." in result.stdout
    graph = defs.resolve_asset_graph()
    with dg.DagsterInstance.get() as instance:
        (drop,) = instance.get_dynamic_partitions("ingest_batches")
        for key in (k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable):
            partitions = graph.get(key).partitions_def
            if partitions is None:
                assert instance.get_latest_materialization_event(key) is not None, key
            else:
                dynamic = isinstance(partitions, dg.DynamicPartitionsDefinition)
                want = {drop} if dynamic else set(groups)
                assert instance.get_materialized_partitions(key) == want, key
    with connect(env.Warehouse(url)) as conn:
        scored = conn.fetchall("select count(distinct location_id) from ml.fct_forecasts")[0][0]
        demand = conn.fetchall("select count(distinct location_id) from marts.fct_daily_demand")
    assert scored == demand[0][0] == 3
    assert (tmp_path / "serving" / "serving.duckdb").exists()
    _group_runs_overlap_and_equal_one_at_a_time(url, groups, monkeypatch)


def _group_runs_overlap_and_equal_one_at_a_time(url: str, groups: list[str], monkeypatch) -> None:
    """The group runs above ran side by side (PARTSFLOW_GROUP_RUNS, 2 by default), each in its
    own process; run again one at a time in this process, they write the same rows."""
    import dagster as dg

    from orchestration.definitions import defs
    from orchestration.defs.jobs import GROUPED

    with dg.DagsterInstance.get() as instance:
        spans = sorted(
            (r.start_time, r.end_time)
            for r in instance.get_run_records()
            if r.dagster_run.tags.get("dagster/partition") in groups
        )
    assert len(spans) == len(groups)
    assert any(start < end for (_, end), (start, _) in pairwise(spans)), spans

    tables = ["fct_forecasts", "fct_reorder_recommendations", "policy_simulation_groups"]

    def rows() -> dict[str, list]:
        with connect(env.Warehouse(url)) as conn:
            return {t: sorted(map(repr, conn.fetchall(f"select * from ml.{t}"))) for t in tables}

    side_by_side = rows()
    assert all(side_by_side.values()), side_by_side
    monkeypatch.setenv("PARTSFLOW_GROUP_RUNS", "1")
    keys = GROUPED.resolve(defs.resolve_asset_graph())
    select = " or ".join(f'key:"{k.to_user_string()}"' for k in sorted(keys))
    result = runner.invoke(app, ["materialize", "--select", select])
    assert result.exit_code == 0, result.output
    assert f"in {len(groups)} runs." in result.stdout
    assert rows() == side_by_side


def test_materialize_rejects_an_empty_selection(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    result = runner.invoke(app, ["materialize", "--select", "group:nope"])
    assert result.exit_code != 0
    assert "selects no asset" in result.output


def test_users_create_demo_prints_passwords_that_log_in(tmp_path, monkeypatch):
    import duckdb

    from dashboards.users import authenticate
    from tests.dashboards.test_overview import load_marts

    serving = tmp_path / "serving"
    serving.mkdir()
    with duckdb.connect(str(serving / "serving.duckdb")) as conn:
        load_marts(conn, "?")
    users = tmp_path / "users.yaml"
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(serving))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path}/warehouse.duckdb")
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(users))
    result = runner.invoke(app, ["users", "create-demo"])
    assert result.exit_code == 0, result.output
    printed = [line.split() for line in result.output.splitlines()[1:]]
    assert [row[0] for row in printed] == [
        "admin", "executive", "manager", "planner", "warehouse", "technician",
    ]  # fmt: skip
    text = users.read_text()
    for username, password, role, *_scope in printed:
        assert password not in text  # only hashes are stored
        user = authenticate(users, username, password)
        assert user is not None and user.role == role
        assert authenticate(users, username, password + "x") is None
    assert authenticate(users, "manager", printed[2][1]).locations == ("L1", "L2")
    assert authenticate(users, "warehouse", printed[4][1]).locations == ("L1",)


def test_users_create_demo_needs_published_locations(tmp_path, monkeypatch):
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(tmp_path))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path}/warehouse.duckdb")
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(tmp_path / "users.yaml"))
    result = runner.invoke(app, ["users", "create-demo"])
    assert result.exit_code == 2
    assert "no locations published yet" in result.output
    assert not (tmp_path / "users.yaml").exists()
