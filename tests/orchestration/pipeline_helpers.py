"""Helpers for materializing the whole pipeline in-process and reading results back."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration import env
from orchestration.defs.ingest.drops import register_now
from orchestration.resources import ForecastingResource, NotificationResource, build_resources
from orchestration.staged import Staged, run_stages
from orchestration.warehouse import connect, qualified

MART_KEYS = {
    "fct_daily_demand": ["part_id", "location_id", "demand_date"],
    "fct_inventory_position": ["part_id", "location_id"],
    "mart_inventory_summary": ["location_id", "category_id"],
    "mart_fill_rate_daily": ["fill_rate_key"],
}


def all_assets() -> list:
    from orchestration.definitions import defs

    return list(defs.assets or [])


# Tiny worlds need no big training set: the global model's fits take a second or two.
TEST_TRAINING_ROWS = 10_000


def forecasting_for(serving: Path) -> ForecastingResource:
    """Models stored next to the serving folder (never in the project's data/models)."""
    return ForecastingResource(
        model_store=str(serving.parent / "models"), max_training_rows=TEST_TRAINING_ROWS
    )


def pipeline_resources(warehouse_url: str, landing: Path, serving: Path) -> dict:
    """The pipeline's resources for a test: models beside `serving`, and no notification
    channel, whatever the developer's environment says (tests never page anyone)."""
    return build_resources(
        warehouse_url,
        str(landing),
        str(serving),
        forecasting_for(serving),
        notifications=NotificationResource(),
    )


def materialize_all(
    warehouse_url: str,
    landing: Path,
    serving: Path,
    selection: dg.AssetSelection | None = None,
    run_config: dict | None = None,
) -> Staged:
    """Every asset (or `selection`) in-process on the warehouse, from `landing`, in the refresh's
    stages (orchestration/staged.py): one run per location group for the partitioned assets."""
    from orchestration.definitions import defs

    resources = pipeline_resources(warehouse_url, landing, serving)
    graph = defs.resolve_asset_graph()
    keys = (selection or dg.AssetSelection.all()).resolve(graph)
    keys = {k for k in keys if graph.get(k).is_materializable}
    instance = dg.DagsterInstance.ephemeral()

    def execute(run_keys: list[dg.AssetKey], group: str | None) -> dg.ExecuteInProcessResult:
        return dg.materialize(
            all_assets(),
            resources=resources,
            instance=instance,
            raise_on_error=False,
            selection=run_keys,
            partition_key=group,
            run_config=_config_for(graph, run_keys, run_config),
        )

    return run_stages(graph, keys, execute, lambda: register_now(instance, landing))


def _config_for(graph, keys: list[dg.AssetKey], run_config: dict | None) -> dict | None:
    """The run config's entries for the ops of these assets (a stage's run rejects the others)."""
    if not run_config:
        return run_config
    ops = {graph.assets_def_for_key(k).op.name for k in keys}
    return {**run_config, "ops": {k: v for k, v in run_config.get("ops", {}).items() if k in ops}}


def read_table(warehouse_url: str, schema: str, table: str, order_by: list[str]) -> pd.DataFrame:
    with connect(env.Warehouse(warehouse_url), read_only=False) as conn:
        df = conn.query_df(f"select * from {qualified(schema, table)}")
    return df.sort_values(order_by).reset_index(drop=True)


def table_snapshot(warehouse_url: str, schemas: tuple[str, ...]) -> dict[str, pd.DataFrame]:
    """Every table of the given schemas, sorted on all columns, for before/after comparison."""
    out: dict[str, pd.DataFrame] = {}
    with connect(env.Warehouse(warehouse_url)) as conn:
        for schema in schemas:
            for table in conn.tables_in(schema):
                df = conn.query_df(f"select * from {qualified(schema, table)}")
                out[f"{schema}.{table}"] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out
