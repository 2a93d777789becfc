"""dagster.postgres.yaml really puts Dagster's runs and events in PostgreSQL."""

from __future__ import annotations

import dagster as dg
import psycopg
import pytest

from orchestration import env


@dg.asset
def tiny() -> int:
    return 1


@pytest.mark.postgres
def test_runs_are_stored_in_postgres(pg_database_url, tmp_path, monkeypatch):
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PARTSFLOW_DAGSTER_PG_URL", pg_database_url)
    home = env.ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == env.DAGSTER_PG_TEMPLATE.read_text()
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([tiny], instance=instance)
        assert result.success
    with psycopg.connect(pg_database_url) as conn:
        runs = conn.execute("select count(*) from runs").fetchone()[0]
        events = conn.execute("select count(*) from event_logs").fetchone()[0]
    assert runs == 1 and events > 0

    monkeypatch.delenv("PARTSFLOW_DAGSTER_PG_URL")
    env.ensure_dagster_home()
    assert not (home / "dagster.yaml").exists()
