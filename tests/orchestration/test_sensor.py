"""The landing-zone sensor registers each set of new files as a landing drop (a partition of the
ingest assets) and asks for one ingest run of it; the chain (defs/chain.py) does the rest."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest

from orchestration import env
from orchestration.definitions import defs
from orchestration.defs.ingest.drops import ingest_batches, read_drop
from orchestration.defs.ingest.sensors import (
    COUNT_TAG,
    ENTITIES_TAG,
    FILES_TAG,
    MAX_TAG_CHARS,
    SKIP_MESSAGE,
    NewFile,
    files_tag,
)
from tests.orchestration.ingest_helpers import sensor_tick

RAW_TRANSACTIONS = dg.AssetKey(["raw", "transactions"])
RAW_PARTS = dg.AssetKey(["raw", "parts"])
DAILY_DEMAND = dg.AssetKey(["marts", "fct_daily_demand"])
MODEL = dg.AssetKey(["ml", "ml_model_registry"])
SCORES = dg.AssetKey(["ml", "fct_forecasts"])
FORECASTS = dg.AssetKey(["ml", "forecasts"])
DASHBOARD = dg.AssetKey(["serving", "dashboard_copy"])


@pytest.fixture(scope="module", autouse=True)
def sensor_instance():
    """An instance with a ref, as the daemon's: a run request's partition is checked against the
    partitions it has plus those the tick adds (one per module: creating one takes seconds)."""
    with dg.instance_for_test() as instance:
        INSTANCE.append(instance)
        yield instance
        INSTANCE.clear()


INSTANCE: list[dg.DagsterInstance] = []


def evaluate(landing: Path, cursor: str | None) -> dg.SensorExecutionData:
    (instance,) = INSTANCE
    return sensor_tick(instance, landing, cursor)


def drop(landing: Path, entity: str, name: str, text: str, mtime_ns: int | None = None) -> Path:
    path = landing / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    if mtime_ns is not None:
        os.utime(path, ns=(mtime_ns, mtime_ns))
    return path


def only_request(result: dg.SensorExecutionData) -> dg.RunRequest:
    """The one run request, for a drop the same tick registers."""
    assert result.skip_message is None
    assert result.run_requests is not None and len(result.run_requests) == 1
    (added,) = result.dynamic_partitions_requests
    assert added.partitions_def_name == ingest_batches.name
    assert added.partition_keys == [result.run_requests[0].partition_key]
    return result.run_requests[0]


def test_sensor_is_loaded_running_and_targets_the_first_stage():
    sensor = defs.resolve_sensor_def("landing_zone_sensor")
    assert sensor.default_status == dg.DefaultSensorStatus.RUNNING
    assert sensor.minimum_interval_seconds == env.sensor_interval_seconds() == 30
    assert sensor.job_name == "refresh_ingest"
    assert sensor.description


def test_interval_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PARTSFLOW_SENSOR_INTERVAL", "5")
    assert env.sensor_interval_seconds() == 5
    monkeypatch.setenv("PARTSFLOW_SENSOR_INTERVAL", "0")
    with pytest.raises(ValueError):
        env.sensor_interval_seconds()


def test_new_files_trigger_ingest_and_everything_downstream(tmp_path: Path):
    landing = tmp_path / "landing"

    empty = evaluate(landing, None)
    assert empty.skip_message == SKIP_MESSAGE
    assert not empty.run_requests and not empty.dynamic_partitions_requests

    drop(landing, "transactions", "tx_001.csv", "a,b\n1,2\n")
    first = evaluate(landing, empty.cursor)
    request = only_request(first)
    selection = set(request.asset_selection)
    # The first stage, ingest; prepare, the groups and publishing follow it (defs/chain.py).
    assert RAW_TRANSACTIONS in selection
    assert not {RAW_PARTS, DAILY_DEMAND, MODEL, SCORES, FORECASTS, DASHBOARD} & selection
    assert request.tags[FILES_TAG] == "transactions/tx_001.csv"
    assert request.tags[ENTITIES_TAG] == "transactions"
    assert request.tags[COUNT_TAG] == "1"
    # The drop's manifest names the new file, so every run of the partition reads it.
    assert read_drop(landing, request.partition_key) == {"transactions": ["tx_001.csv"]}
    # The daemon launches this selection as a subset of the target job: it must be a valid one.
    subset = defs.resolve_job_def("refresh_ingest").get_subset(asset_selection=selection)
    assert subset.asset_layer.executable_asset_keys == selection

    again = evaluate(landing, first.cursor)
    assert again.skip_message == SKIP_MESSAGE
    assert not again.run_requests and not again.dynamic_partitions_requests

    drop(landing, "transactions", "tx_002.csv", "a,b\n3,4\n")
    second = only_request(evaluate(landing, first.cursor))
    assert second.run_key != request.run_key
    assert second.partition_key > request.partition_key  # keys sort in arrival order
    assert read_drop(landing, second.partition_key) == {"transactions": ["tx_002.csv"]}
    assert second.tags[FILES_TAG] == "transactions/tx_002.csv"
    assert RAW_TRANSACTIONS in second.asset_selection
    cursor = evaluate(landing, first.cursor).cursor
    assert evaluate(landing, cursor).skip_message == SKIP_MESSAGE

    path = landing / "transactions" / "tx_001.csv"
    stat = path.stat()
    drop(landing, "transactions", "tx_001.csv", "a,b\n9,9\n", mtime_ns=stat.st_mtime_ns + 10**9)
    rewritten = evaluate(landing, cursor)
    third = only_request(rewritten)
    assert third.tags[FILES_TAG] == "transactions/tx_001.csv"
    assert third.run_key not in {request.run_key, second.run_key}
    assert evaluate(landing, rewritten.cursor).skip_message == SKIP_MESSAGE


def test_same_set_of_files_gets_the_same_run_key(tmp_path: Path):
    landing = tmp_path / "landing"
    drop(landing, "parts", "parts.csv", "part_id\nP1\n", mtime_ns=1_700_000_000_000_000_000)
    first = only_request(evaluate(landing, None))
    assert first.run_key == only_request(evaluate(landing, None)).run_key
    assert RAW_PARTS in first.asset_selection
    # Parts are referenced by transactions, so a parts batch refreshes their ingest too.
    assert RAW_TRANSACTIONS in first.asset_selection


def test_touched_or_copied_file_with_seen_content_is_not_new(tmp_path: Path):
    landing = tmp_path / "landing"
    path = drop(landing, "transactions", "tx_001.csv", "a,b\n1,2\n")
    cursor = evaluate(landing, None).cursor

    os.utime(path, ns=(path.stat().st_mtime_ns + 10**9,) * 2)
    touched = evaluate(landing, cursor)
    assert touched.skip_message == SKIP_MESSAGE
    assert touched.cursor != cursor  # remembers the new mtime so it is not hashed again

    drop(landing, "transactions", "copy_of_tx_001.csv", "a,b\n1,2\n")
    assert evaluate(landing, touched.cursor).skip_message == SKIP_MESSAGE


def test_one_request_for_new_files_of_several_entities(tmp_path: Path):
    landing = tmp_path / "landing"
    for i in range(40):
        drop(landing, "transactions", f"transactions_batch_{i:03}.csv", f"a\n{i}\n")
    drop(landing, "parts", "parts.csv", "part_id\nP1\n")
    request = only_request(evaluate(landing, None))
    assert request.tags[COUNT_TAG] == "41"
    assert request.tags[ENTITIES_TAG] == "parts, transactions"
    assert len(request.tags[FILES_TAG]) <= MAX_TAG_CHARS
    assert request.tags[FILES_TAG].startswith("parts/parts.csv, transactions/")
    assert request.tags[FILES_TAG].endswith("more)")


def test_files_tag_names_all_files_when_short():
    files = [NewFile("parts", "b.csv", 1, 1), NewFile("parts", "a.csv", 1, 1)]
    assert files_tag(files) == "parts/a.csv, parts/b.csv"
    long = [NewFile("parts", "x" * 300 + ".csv", 1, 1)]
    assert len(files_tag(long)) == MAX_TAG_CHARS
