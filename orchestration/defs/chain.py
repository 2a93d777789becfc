"""The sensor that chains the refresh stages (defs/jobs.py) when their runs succeed.

After `refresh_ingest` (one landing drop): `refresh_prepare` for what is downstream of the
ingested entities. After `refresh_prepare`: the location groups' runs. After a group run: the
next groups, or, when every group of the refresh has succeeded, `refresh_publish`. At most
warehouse_writers() group runs are requested at a time (the first groups not yet done; run keys
make a request that is still running a no-op), so on DuckDB the groups write the file one after
the other. A failed run stops its refresh; re-executing it (same tags) resumes the chain.
"""

from __future__ import annotations

from collections.abc import Iterable

import dagster as dg

from orchestration import env
from orchestration.defs.jobs import (
    INGEST,
    PREPARE,
    REFRESH_TAG,
    refresh_groups,
    refresh_ingest,
    refresh_prepare,
    refresh_publish,
)
from orchestration.defs.partitions import location_groups

PARTITION_TAG = "dagster/partition"


def next_requests(refresh: str, done: set[str], writers: int) -> list[dg.RunRequest]:
    """The runs that continue refresh `refresh` once the groups in `done` have succeeded."""
    tags = {REFRESH_TAG: refresh}
    missing = [k for k in location_groups.get_partition_keys() if k not in done]
    if not missing:
        name = refresh_publish.name
        return [dg.RunRequest(run_key=f"{refresh}-publish", job_name=name, tags=tags)]
    return [
        dg.RunRequest(
            run_key=f"{refresh}-{key}", job_name=refresh_groups.name, partition_key=key, tags=tags
        )
        for key in missing[:writers]
    ]


def prepare_request(refresh: str, ingested: Iterable[dg.AssetKey] | None, graph) -> dg.RunRequest:
    """The prepare run after an ingest run: what is downstream of the ingested assets (all of
    `refresh_prepare` when they are not known)."""
    selection = None
    if ingested is not None and graph is not None:
        downstream = dg.AssetSelection.assets(*ingested).downstream() & PREPARE
        # What those read but no ingest feeds (the holidays seed) is built too: a fresh warehouse
        # lacks it (the first sensor-driven refresh failed on it), and it costs next to nothing.
        unfed = (downstream.upstream() & PREPARE) - INGEST.downstream()
        selection = sorted(
            (k for k in (downstream | unfed).resolve(graph) if graph.get(k).is_materializable),
            key=str,
        )
    return dg.RunRequest(
        run_key=f"{refresh}-prepare",
        job_name=refresh_prepare.name,
        asset_selection=selection,
        tags={REFRESH_TAG: refresh},
    )


def done_groups(instance: dg.DagsterInstance, refresh: str) -> set[str]:
    """The location groups whose run of this refresh succeeded."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=refresh_groups.name,
            tags={REFRESH_TAG: refresh},
            statuses=[dg.DagsterRunStatus.SUCCESS],
        )
    )
    return {r.tags[PARTITION_TAG] for r in runs if PARTITION_TAG in r.tags}


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_ingest, refresh_prepare, refresh_groups],
    request_jobs=[refresh_prepare, refresh_groups, refresh_publish],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Starts prepare after ingest, the location groups after prepare, then publish.",
)
def refresh_next_stage(context: dg.RunStatusSensorContext):
    """Starts prepare after ingest, the location groups after prepare, then publish."""
    run = context.dagster_run
    refresh = run.tags.get(REFRESH_TAG, run.run_id)
    if run.job_name == refresh_ingest.name:
        repository = context.repository_def
        graph = repository.asset_graph if repository is not None else None
        return [prepare_request(refresh, run.asset_selection, graph)]
    return next_requests(refresh, done_groups(context.instance, refresh), env.warehouse_writers())
