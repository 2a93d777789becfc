"""Publishing the dashboard's DuckDB copy onto a full disk or into a folder the run may not write:
the publish fails saying so (the serving asset with a dg.Failure), and the dashboard's data layer
keeps reading the previous copy."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import dagster as dg
import pytest
import streamlit as st

from dashboards import data
from orchestration import env
from orchestration.defs.serving.assets import dashboard_copy
from orchestration.defs.serving.publish import publish_duckdb_copy
from orchestration.resources import ServingResource, WarehouseResource
from orchestration.warehouse import connect
from tests.faults.processes import file_size_limit, run_module, unwritable

ROWS = 200_000  # a copy of several MB, so a 1 MB file limit stops it half-way


def _build(url: str, locations: int) -> None:
    with connect(env.Warehouse(url)) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            "create or replace table marts.mart_inventory_summary as select 'L-' || (i % ?) as "
            "location_id, 'Depot ' || (i % ?) as location_name, 'EMEA' as region, "
            "'C' || i as category_id, random() as value from range(?) t(i)",
            (locations, locations, ROWS),
        )


def _served_locations(monkeypatch, url: str, serving: Path) -> int:
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", url)
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(serving))
    st.cache_data.clear()
    st.cache_resource.clear()
    assert "marts.mart_inventory_summary" in data.tables()
    return len(data.locations())


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _publish_in_child(url: str, serving: Path, home: Path, preexec) -> dict:
    done = run_module("tests.faults.publish_child", url, str(serving), preexec=preexec, home=home)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def _materialize_serving(url: str, serving: Path) -> dict:
    result = dg.materialize(
        [dashboard_copy],
        resources={
            "warehouse": WarehouseResource(url=url),
            "serving": ServingResource(path=str(serving)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )
    failures = [e for e in result.all_events if e.is_step_failure]
    return {"ok": result.success, "errors": [str(e.step_failure_data) for e in failures]}


@pytest.mark.parametrize("fault", ["disk_full", "unwritable_folder"])
def test_a_failed_publish_keeps_the_previous_copy_served(fault, tmp_path, monkeypatch):
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    serving = tmp_path / "serving"
    _build(url, locations=3)
    with connect(env.Warehouse(url)) as conn:
        publish_duckdb_copy(conn, serving / "serving.duckdb")
    served = serving / "serving.duckdb"
    before = _digest(served)
    assert _served_locations(monkeypatch, url, serving) == 3

    _build(url, locations=5)  # the next refresh has new marts to publish
    if fault == "disk_full":
        outcome = _publish_in_child(url, serving, tmp_path, file_size_limit(1_000_000))
    else:
        with unwritable(serving):  # the folder refuses everyone: the real asset, in-process
            outcome = _materialize_serving(url, serving)

    assert not outcome["ok"]
    message = " ".join(outcome["errors"])
    assert f"could not publish the serving copy to {served}" in message, message
    assert "the previous copy stays served" in message
    assert _digest(served) == before
    assert sorted(p.name for p in serving.iterdir()) == ["serving.duckdb"]  # no half copy left
    assert _served_locations(monkeypatch, url, serving) == 3

    # Once the disk has room (the folder is writable) again, the next publish goes through.
    assert _materialize_serving(url, serving)["ok"]
    assert _served_locations(monkeypatch, url, serving) == 5
