"""The `partsflow` command line, run through Typer's runner in this process."""

from __future__ import annotations

import json

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


def test_materialize_rejects_an_empty_selection(tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "dagster_home"))
    result = runner.invoke(app, ["materialize", "--select", "group:nope"])
    assert result.exit_code != 0
    assert "selects no asset" in result.output
