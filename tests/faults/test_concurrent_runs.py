"""Two materializations of the ingest assets launched at once on the same landing zone, in two
processes: on PostgreSQL both run and each batch loads once; on DuckDB (one process may open the
file) one waits, saying so. Either way both finish, with no duplicate and no lost row."""

from __future__ import annotations

import contextlib
import json
import os
import time

import pandas as pd
import pytest

from orchestration import env
from orchestration.warehouse import connect
from tests.faults.ingest_child import start
from tests.orchestration.ingest_helpers import query, run_ingest

RAW_TABLES = ("categories", "suppliers", "locations", "parts", "stock_levels", "transactions")
BATCH_COLUMNS = "entity, file_name, rows_read, rows_loaded, rows_duplicate, rows_quarantined"
WAITING = "waiting for the DuckDB warehouse"


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouses(request, tmp_path) -> tuple[str, str]:
    """(the warehouse both runs write, a reference warehouse for one uninterrupted run)."""
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/shared.duckdb", f"duckdb:///{tmp_path}/reference.duckdb"
    return request.getfixturevalue("pg_database_url"), request.getfixturevalue("pg_reference_url")


@pytest.fixture
def pg_reference_url(require_postgres: None):
    from tests.conftest import throwaway_database

    with throwaway_database() as url:
        yield url


def _wait_for(condition, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)


def _summary(url: str) -> tuple[pd.DataFrame, dict[str, int]]:
    batches = query(url, f"select {BATCH_COLUMNS} from raw.ingest_batches order by 1, 2")
    counts = {t: int(query(url, f"select count(*) as n from raw.{t}")["n"][0]) for t in RAW_TABLES}
    counts["quarantine"] = int(query(url, "select count(*) as n from raw.quarantine")["n"][0])
    return batches, counts


def test_two_runs_at_once_load_every_batch_exactly_once(
    warehouses, small_world, tmp_path, monkeypatch
):
    url, reference = warehouses
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")  # tiny master files, few dirty rows
    assert run_ingest(reference, small_world).success
    logs = [tmp_path / "first.log", tmp_path / "second.log"]
    ends = [tmp_path / "first.json", tmp_path / "second.json"]
    duck = env.Warehouse(url).is_duckdb
    environ = dict(os.environ)  # PARTSFLOW_MAX_QUARANTINE_SHARE included
    with connect(env.Warehouse(url)) if duck else contextlib.nullcontext():
        # On DuckDB the test holds the file until both runs are queued behind it, so they contend.
        children = [
            start(url, small_world, *files, environ) for files in zip(logs, ends, strict=True)
        ]
        if duck:
            _wait_for(lambda: all(WAITING in log.read_text() for log in logs), 180, "both to wait")
    outcomes = []
    for child, end in zip(children, ends, strict=True):
        child.join(timeout=300)
        if child.exitcode is None:
            child.kill()
        assert child.exitcode == 0, [log.read_text()[-3000:] for log in logs]
        outcomes.append(json.loads(end.read_text()))

    assert all(o["ok"] for o in outcomes), "\n".join(
        e[-2000:] for o in outcomes for e in o["errors"]
    )
    batches, counts = _summary(url)
    expected_batches, expected_counts = _summary(reference)
    pd.testing.assert_frame_equal(batches, expected_batches)  # each file once, same counts
    assert counts == expected_counts and counts["transactions"] > 0
    assert (
        batches["rows_read"]
        == batches["rows_loaded"] + batches["rows_duplicate"] + batches["rows_quarantined"]
    ).all()
    if duck:
        assert "another process holds it" in logs[0].read_text() + logs[1].read_text()
