"""The refresh in four stages, their schedule and the executors fitting the warehouse.

Dagster cannot run partitioned and unpartitioned assets in one run (dagster-io/dagster#28597),
so a refresh is `refresh_ingest` (one landing drop: defs/ingest/drops.py), `refresh_prepare`
(marts, training: unpartitioned), one `refresh_groups` run per location group (scoring,
recommendations, policy simulation; defs/partitions.py), then `refresh_publish` (the daily
forecast table, the simulation mart, the alert models and notifications, the dashboard copy,
which read every group). The file sensor (defs/ingest/sensors.py) and the nightly schedule start
the first, `refresh_next_stage` (defs/chain.py) the others; `partsflow materialize` runs them in
order in its own process (orchestration/staged.py).
"""

from __future__ import annotations

import dagster as dg

from orchestration import env
from orchestration.defs.forecasting.assets import SCORES_KEY
from orchestration.defs.ingest.drops import register_now
from orchestration.defs.replenishment.assets import HISTORY_KEY, RECOMMENDATIONS_KEY, RUNS_KEY
from orchestration.defs.replenishment.simulation import GROUPS_KEY as SIMULATION_GROUPS_KEY
from orchestration.resources import LandingZoneResource

WAREHOUSE_TAG = "partsflow/warehouse"
# Runs of one refresh carry its first run's id, so the last group run knows when to publish.
REFRESH_TAG = "partsflow/refresh"
# A queued run coordinator limits runs with this tag, so group runs and backfills cannot swamp
# the warehouse (deploy/helm/values.yaml, deploy/dagster.yaml).
TAGS = {WAREHOUSE_TAG: "write"}
# Ingest runs also count against a limit of one for this value: drops are stored one at a time,
# in arrival order (the queue is first in, first out), without runs contending for a batch.
INGEST_TAGS = {WAREHOUSE_TAG: "ingest"}

INGEST = dg.AssetSelection.groups("ingest")

GROUPED = dg.AssetSelection.assets(
    SCORES_KEY, RECOMMENDATIONS_KEY, HISTORY_KEY, RUNS_KEY, SIMULATION_GROUPS_KEY
)
PUBLISH = GROUPED.downstream() - GROUPED
PREPARE = dg.AssetSelection.all() - GROUPED.downstream() - INGEST

refresh_ingest = dg.define_asset_job(
    "refresh_ingest",
    selection=INGEST,
    description="Ingest one landing drop (and what earlier drops left) into the validated raw.",
    tags=INGEST_TAGS,
)
refresh_prepare = dg.define_asset_job(
    "refresh_prepare",
    selection=PREPARE,
    description="Transform, train: everything the location groups read.",
    tags=TAGS,
)
refresh_groups = dg.define_asset_job(
    "refresh_groups",
    selection=GROUPED,
    description="Score, recommend and simulate for one location group.",
    tags=TAGS,
    # Steps of a group run in their own processes, at most warehouse_writers() at once: one on
    # DuckDB, whose file accepts one writer process (steps take turns on its lock), more on
    # PostgreSQL.
    executor_def=dg.multiprocess_executor.configured({"max_concurrent": env.warehouse_writers()}),
)
refresh_publish = dg.define_asset_job(
    "refresh_publish",
    selection=PUBLISH,
    description="Daily forecasts, simulation mart, alerts, dashboard copy: after every group.",
    tags=TAGS,
)
STAGES = (refresh_ingest, refresh_prepare, refresh_groups, refresh_publish)


@dg.schedule(job=refresh_ingest, cron_schedule="0 2 * * *", name="nightly_refresh")
def nightly_refresh(context: dg.ScheduleEvaluationContext, landing: LandingZoneResource):
    """The whole refresh every night: a drop of every landing file (only new batches load, and
    ERP changes with PARTSFLOW_SOURCE=erp or both), then the stages after it."""
    key = register_now(context.instance, landing.root)
    return dg.RunRequest(run_key=key, partition_key=key)


@dg.definitions
def executor_defs() -> dg.Definitions:
    # One DuckDB file accepts one writer process, so steps must share the run's process there.
    executor = dg.in_process_executor if env.warehouse().is_duckdb else dg.multiprocess_executor
    return dg.Definitions(jobs=list(STAGES), schedules=[nightly_refresh], executor=executor)
