"""Ingest partitioned by landing drop (orchestration/defs/ingest/drops.py), through the real file
sensor and real Dagster runs on DuckDB and PostgreSQL: two drops ingested as two partitions give
exactly the rows of one sequential load, in whatever order their runs run, and running a drop's
partition again loads nothing."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration.definitions import defs
from orchestration.defs.ingest.assets import ingest_assets
from orchestration.defs.ingest.drops import (
    DROPS_DIR,
    files_up_to,
    ingest_batches,
    read_drop,
    write_drop,
)
from orchestration.defs.jobs import nightly_refresh
from orchestration.resources import ErpResource, LandingZoneResource, WarehouseResource
from tests.conftest import throwaway_database
from tests.orchestration.ingest_helpers import query, run_ingest, sensor_tick, snapshot

LATER = "_2024-03."  # the last month's files arrive in the second drop
BATCH_COLUMNS = "entity, file_name, rows_read, rows_loaded, rows_duplicate, rows_quarantined"


@pytest.fixture(scope="module")
def instance():
    """A persistent instance, as the daemon's (a sensor checks the partitions it requests)."""
    with dg.instance_for_test() as instance:
        yield instance


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouses(request, tmp_path):
    """(the warehouse the drops load, a reference warehouse for one sequential load)."""
    if request.param == "duckdb":
        yield f"duckdb:///{tmp_path}/drops.duckdb", f"duckdb:///{tmp_path}/reference.duckdb"
        return
    request.getfixturevalue("require_postgres")
    with throwaway_database() as url, throwaway_database() as reference:
        yield url, reference


def tick(instance: dg.DagsterInstance, landing: Path, cursor: str | None):
    """One sensor evaluation: its run request (None: nothing new) and cursor; the drop it
    registers is added to the instance, as the daemon does."""
    result = sensor_tick(instance, landing, cursor)
    for added in result.dynamic_partitions_requests or []:
        instance.add_dynamic_partitions(added.partitions_def_name, list(added.partition_keys))
    (request,) = result.run_requests or [None]
    return request, result.cursor


def ingest(
    instance, url: str, landing: Path, key: str, selection=None
) -> dg.ExecuteInProcessResult:
    """A run of the drop's partition of the ingest assets (the sensor's selection, or all)."""
    return dg.materialize(
        ingest_assets,
        resources={
            "warehouse": WarehouseResource(url=url),
            "landing": LandingZoneResource(path=str(landing)),
            "erp": ErpResource(),
        },
        instance=instance,
        selection=selection,
        partition_key=key,
        raise_on_error=False,
    )


def new_batches(result: dg.ExecuteInProcessResult) -> int:
    return sum(
        m.metadata["new_batches"].value
        for e in result.get_asset_materialization_events()
        for m in [e.event_specific_data.materialization]
    )


def summary(url: str) -> tuple[pd.DataFrame, dict[str, pd.DataFrame]]:
    batches = query(url, f"select {BATCH_COLUMNS} from raw.ingest_batches order by 1, 2")
    return batches, snapshot(url)


def assert_same(url: str, reference: str) -> None:
    (batches, tables), (want_batches, want_tables) = summary(url), summary(reference)
    pd.testing.assert_frame_equal(batches, want_batches)  # each file once, same counts
    assert tables.keys() == want_tables.keys() and len(tables["transactions"]) > 0
    for name, frame in tables.items():
        # When a row was stored differs by construction; everything else must not.
        got, want = (
            f.drop(columns=["_loaded_at"], errors="ignore")
            .pipe(lambda d: d.sort_values(list(d.columns)))
            .reset_index(drop=True)
            for f in (frame, want_tables[name])
        )
        pd.testing.assert_frame_equal(got, want, obj=name)


def two_drops(small_world: Path, landing: Path, instance, cursor=None):
    """The world arriving in two drops the sensor sees: all but the last month, then it."""
    later = shutil.ignore_patterns(f"*{LATER}*", DROPS_DIR)  # and the reference runs' drops
    shutil.copytree(small_world, landing, ignore=later)
    first, cursor = tick(instance, landing, cursor)
    for path in small_world.rglob(f"*{LATER}*"):
        shutil.copy2(path, landing / path.parent.name / path.name)
    second, cursor = tick(instance, landing, cursor)
    return first, second, cursor


def test_two_drops_give_the_rows_of_one_sequential_load(
    warehouses, small_world, instance, tmp_path, monkeypatch
):
    url, reference = warehouses
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")  # tiny master files, dirty rows
    assert run_ingest(reference, small_world).success  # every file in one run, in name order

    landing = tmp_path / "landing"
    first, second, cursor = two_drops(small_world, landing, instance)
    assert first.partition_key < second.partition_key  # keys sort in arrival order
    assert set(instance.get_dynamic_partitions(ingest_batches.name)) >= {
        first.partition_key,
        second.partition_key,
    }
    assert {n for names in read_drop(landing, second.partition_key).values() for n in names} == {
        p.name for p in small_world.rglob(f"*{LATER}*")
    }
    before = len(instance.get_dynamic_partitions(ingest_batches.name))
    assert tick(instance, landing, cursor)[0] is None  # nothing new: no drop, no run
    assert len(instance.get_dynamic_partitions(ingest_batches.name)) == before

    for request in (first, second):
        result = ingest(instance, url, landing, request.partition_key, request.asset_selection)
        assert result.success, [e.message for e in result.all_events if e.is_failure]
    assert_same(url, reference)

    again = ingest(instance, url, landing, first.partition_key, first.asset_selection)
    assert again.success and new_batches(again) == 0  # re-running a drop loads nothing
    assert_same(url, reference)


def test_a_later_drop_run_first_loads_the_earlier_drop_first(
    warehouses, small_world, instance, tmp_path, monkeypatch
):
    """The first drop's run failed or has not run yet: the second drop's run (of every ingest
    asset, as a backfill or re-execution) stores the first drop's files before its own."""
    url, reference = warehouses
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")
    assert run_ingest(reference, small_world).success
    landing = tmp_path / "landing"
    first, second, _ = two_drops(small_world, landing, instance)
    assert files_up_to(landing, second.partition_key, "transactions")[-1].name.endswith(
        "_2024-03.csv"
    )
    assert ingest(instance, url, landing, second.partition_key).success
    assert_same(url, reference)
    late = ingest(instance, url, landing, first.partition_key, first.asset_selection)
    assert late.success and new_batches(late) == 0
    assert_same(url, reference)


def test_a_drop_is_read_only_from_its_own_manifest(tmp_path):
    landing = tmp_path / "landing"
    (landing / "parts").mkdir(parents=True)
    (landing / "parts" / "parts.csv").write_text("part_id\nP1\n")
    key = write_drop(landing, {"parts": ["parts.csv", "../../etc/passwd"], "nope": ["x.csv"]})
    assert (landing / DROPS_DIR / f"{key}.json").is_file()
    assert read_drop(landing, key) == {"parts": ["../../etc/passwd", "parts.csv"]}
    assert files_up_to(landing, key, "parts") == [landing / "parts" / "parts.csv"]
    with pytest.raises(ValueError, match="not a landing drop key"):
        read_drop(landing, "../secrets")
    with pytest.raises(FileNotFoundError):
        files_up_to(landing, "20000101T000000.000000Z-00000000", "parts")


def test_the_nightly_schedule_starts_ingest_for_a_drop_of_every_file(
    small_world, instance, tmp_path
):
    landing = tmp_path / "landing"
    shutil.copytree(small_world, landing, ignore=shutil.ignore_patterns(DROPS_DIR))
    context = dg.build_schedule_context(
        instance=instance,
        resources={"landing": LandingZoneResource(path=str(landing))},
        repository_def=defs.get_repository_def(),
    )
    (request,) = nightly_refresh.evaluate_tick(context).run_requests
    assert request.partition_key in instance.get_dynamic_partitions(ingest_batches.name)
    files = read_drop(landing, request.partition_key)
    assert sum(map(len, files.values())) == len([p for p in small_world.rglob("*.csv")])
    assert nightly_refresh.job_name == "refresh_ingest"
