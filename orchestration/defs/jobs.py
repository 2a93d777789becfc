"""The refresh job, its schedule and the executor fitting the warehouse."""

from __future__ import annotations

import dagster as dg

from orchestration import env

WAREHOUSE_TAG = "partsflow/warehouse"

refresh_all = dg.define_asset_job(
    "refresh_all",
    selection=dg.AssetSelection.all(),
    description="Ingest, transform, forecast, publish.",
    # A queued run coordinator limits runs with this tag, so backfills cannot swamp the warehouse
    # (deploy/helm/values.yaml, deploy/dagster.yaml).
    tags={WAREHOUSE_TAG: "write"},
)

nightly_refresh = dg.ScheduleDefinition(job=refresh_all, cron_schedule="0 2 * * *")


@dg.definitions
def executor_defs() -> dg.Definitions:
    # One DuckDB file accepts one writer process, so steps must share the run's process there.
    executor = dg.in_process_executor if env.warehouse().is_duckdb else dg.multiprocess_executor
    return dg.Definitions(jobs=[refresh_all], schedules=[nightly_refresh], executor=executor)
