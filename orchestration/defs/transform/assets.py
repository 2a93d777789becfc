"""dbt models as Dagster assets; dbt tests become asset checks."""

import os
from collections.abc import Mapping
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DbtCliResource, dbt_assets

from orchestration.resources import WarehouseResource, dbt_project

OWNER = "team:analytics-engineering"


class PartsflowDbtTranslator(DagsterDbtTranslator):
    """Models are keyed by schema and name (`marts/fct_daily_demand`); sources use their meta."""

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] in ("model", "seed", "snapshot"):
            schema = dbt_resource_props.get("config", {}).get("schema") or "main"
            return dg.AssetKey([schema, dbt_resource_props["name"]])
        return super().get_asset_key(dbt_resource_props)

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "transform"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]) -> list[str]:
        return [OWNER]


# The models that read the replenishment tables, written by a Python asset that runs after the
# marts: a second dbt asset definition, so a full run is dbt (marts) -> forecasting ->
# replenishment -> dbt (alerts). In one definition Dagster would split the dbt step into one per
# "colour" of its cycle resolution (five dbt invocations per run).
AFTER_REPLENISHMENT = "stg_replenishment__stockout_predictions+ stg_replenishment__runs+"


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource):
    # dbt runs as a subprocess that inherits os.environ; profiles.yml reads the target from it.
    # Tests are selected only when all their models are selected or built before them
    # ("buildable"): a singular test reading a mart of each dbt step (tests/alerts) runs in the
    # alert step, not in the first one where the alert tables may not exist yet. (dagster-dbt
    # still overrides this when a run deselects some checks.)
    os.environ.update({**warehouse.info.dbt_env(), "DBT_INDIRECT_SELECTION": "buildable"})
    # Unit tests check SQL logic on fixed inputs, not the data: they run in CI (`make test`,
    # tests/dbt), not on every materialization, as dbt recommends for production builds.
    yield from dbt.cli(["build", "--exclude-resource-type", "unit_test"], context=context).stream()


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PartsflowDbtTranslator(),
    exclude=AFTER_REPLENISHMENT,
)
def partsflow_dbt_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """Staging views and marts built and tested by dbt on the configured warehouse."""
    yield from _build(context, dbt, warehouse)


@dbt_assets(
    manifest=dbt_project.manifest_path,
    project=dbt_project,
    dagster_dbt_translator=PartsflowDbtTranslator(),
    select=AFTER_REPLENISHMENT,
    name="partsflow_dbt_alert_models",
)
def partsflow_dbt_alert_models(
    context: dg.AssetExecutionContext, dbt: DbtCliResource, warehouse: WarehouseResource
):
    """Alert models that read the predicted stock-outs, built after the replenishment asset."""
    yield from _build(context, dbt, warehouse)
