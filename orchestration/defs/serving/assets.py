"""The serving asset: what the dashboard reads, published after every refresh."""

import dagster as dg

from orchestration.defs.serving.publish import (
    PublishError,
    publish_duckdb_copy,
    publish_in_place,
)
from orchestration.resources import ServingResource, WarehouseResource

OWNER = "team:data-engineering"


@dg.asset(
    key=dg.AssetKey(["serving", "dashboard_copy"]),
    deps=[
        dg.AssetKey(["marts", "mart_inventory_summary"]),
        dg.AssetKey(["marts", "fct_inventory_position"]),
        dg.AssetKey(["marts", "fct_daily_stock"]),
        dg.AssetKey(["marts", "mart_fill_rate_daily"]),
        dg.AssetKey(["ml", "forecasts"]),
        dg.AssetKey(["ml", "fct_forecasts"]),
        dg.AssetKey(["ml", "fct_forecast_accuracy"]),
        dg.AssetKey(["ml", "mart_policy_simulation"]),
        # Built after the replenishment asset, in the second dbt step: publish them too.
        dg.AssetKey(["marts", "fct_alert_history"]),
        dg.AssetKey(["marts", "mart_alerts"]),
        dg.AssetKey(["ml", "fct_reorder_recommendations"]),
        # Its latest rows are published as ops.recent_notifications.
        dg.AssetKey(["ops", "alert_notifications"]),
    ],
    group_name="serving",
    owners=[OWNER],
    kinds={"duckdb"},
)
def dashboard_copy(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource, serving: ServingResource
) -> dg.MaterializeResult:
    """Published copy of the marts for the dashboard (a DuckDB file, or the PostgreSQL marts)."""
    with warehouse.connect() as conn:
        if warehouse.info.is_duckdb:
            try:
                counts = publish_duckdb_copy(conn, serving.duckdb_file)
            except PublishError as exc:
                raise dg.Failure(description=str(exc)) from exc
            where = str(serving.duckdb_file)
        else:
            # dbt swaps PostgreSQL tables in one transaction, so readers can use them directly.
            counts = publish_in_place(conn)
            where = "postgresql warehouse (schemas marts, ml)"
    context.log.info(f"Published {len(counts)} tables to {where}")
    return dg.MaterializeResult(metadata={"published_to": where, "tables": len(counts), **counts})
