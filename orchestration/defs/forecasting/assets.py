"""Forecasting assets: thin wrappers around ml/, returning metrics to the Dagster UI."""

import dagster as dg

from ml.baseline import MODEL_VERSION, moving_average_forecast
from orchestration.resources import WarehouseResource
from orchestration.warehouse import qualified

OWNER = "team:data-science"
HISTORY_DAYS = 56


@dg.asset(
    key=dg.AssetKey(["ml", "forecasts"]),
    deps=[dg.AssetKey(["marts", "fct_daily_demand"])],
    group_name="forecasting",
    owners=[OWNER],
    kinds={"python"},
)
def forecasts(context: dg.AssetExecutionContext, warehouse: WarehouseResource):
    """Daily demand per part and location for the next 28 days (moving-average baseline)."""
    with warehouse.connect() as conn:
        history = conn.query_df(
            "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand "
            "where demand_date > (select max(demand_date) from marts.fct_daily_demand) - ?",
            (HISTORY_DAYS,),
        )
        context.log.info(f"Read {len(history)} demand rows")
        result = moving_average_forecast(history)
        with conn.transaction():
            conn.execute("create schema if not exists ml")
            conn.execute(
                f"create table if not exists {qualified('ml', 'forecasts')} ("
                "part_id text not null, location_id text not null, forecast_date date not null, "
                "mean double precision not null, model_version text not null, "
                "forecast_origin date not null, primary key (part_id, location_id, forecast_date))"
            )
            # Replace in one transaction so readers see the old forecast or the new one, never half.
            conn.execute(f"delete from {qualified('ml', 'forecasts')}")
            conn.append_df("ml", "forecasts", result)
    return dg.MaterializeResult(
        metadata={
            "rows": len(result),
            "series": int(result[["part_id", "location_id"]].drop_duplicates().shape[0]),
            "model_version": MODEL_VERSION,
            "mean_daily_demand": float(result["mean"].mean()) if len(result) else 0.0,
        }
    )
