"""Replenishment asset: reorder recommendations and predicted stock-outs (ml/replenishment).

Runs per location group (defs/partitions.py) after the marts and that group's forecast; the
alert models (int_predicted_stockout_episodes -> fct_alert_history, mart_alerts) run after every
group, through the dbt source `replenishment` whose Dagster asset key is this asset's.
"""

from collections.abc import Iterator

import dagster as dg
import numpy as np
import pandas as pd

from ml.replenishment import policy
from ml.replenishment.recommend import Settings, recommend
from orchestration.defs.partitions import group_members, location_groups
from orchestration.defs.replenishment.inputs import (
    forecast_dispersion,
    read_as_of,
    read_forecast,
    read_pairs,
)
from orchestration.defs.replenishment.tables import write
from orchestration.resources import WarehouseResource

OWNER = "team:supply-chain"
GROUP = "replenishment"
RECOMMENDATIONS_KEY = dg.AssetKey(["ml", "fct_reorder_recommendations"])
HISTORY_KEY = dg.AssetKey(["ml", "stockout_prediction_history"])
RUNS_KEY = dg.AssetKey(["ml", "replenishment_runs"])
UPSTREAM = [
    dg.AssetKey(["marts", "fct_inventory_position"]),
    dg.AssetKey(["marts", "fct_open_orders"]),
    dg.AssetKey(["marts", "fct_purchase_orders"]),
    dg.AssetKey(["marts", "mart_supplier_performance"]),
    dg.AssetKey(["marts", "fct_part_location_classification"]),
    dg.AssetKey(["marts", "dim_part_classification"]),
    dg.AssetKey(["staging", "stg_inventory__parts"]),
    dg.AssetKey(["ml", "fct_forecasts"]),
]
_DEFAULTS = Settings()


class ReplenishmentConfig(dg.Config):
    """Policy parameters (defaults in ml.replenishment.recommend.Settings; README Replenishment)."""

    service_level_a: float = policy.DEFAULT_SERVICE_LEVELS["A"]
    service_level_b: float = policy.DEFAULT_SERVICE_LEVELS["B"]
    service_level_c: float = policy.DEFAULT_SERVICE_LEVELS["C"]
    ordering_cost: float = _DEFAULTS.ordering_cost
    holding_rate: float = _DEFAULTS.holding_rate
    review_period_days: int = _DEFAULTS.review_period_days

    def settings(self) -> Settings:
        levels = {"A": self.service_level_a, "B": self.service_level_b, "C": self.service_level_c}
        return Settings(
            service_levels=levels,
            ordering_cost=self.ordering_cost,
            holding_rate=self.holding_rate,
            review_period_days=self.review_period_days,
        )


def prediction_history(rec: pd.DataFrame) -> pd.DataFrame:
    """The rows of this as-of day's predicted stock-outs, as kept in the history table."""
    hit = rec[rec["is_predicted_stockout"]]
    return pd.DataFrame(
        {
            "as_of_date": hit["as_of_date"],
            "part_id": hit["part_id"],
            "location_id": hit["location_id"],
            "days_to_stockout": hit["days_to_stockout"].astype(np.int64),
            "projected_stockout_date": hit["projected_stockout_date"],
            "inventory_position": hit["inventory_position"],
            "reorder_point": hit["reorder_point"],
            "stockout_window_days": (
                np.ceil(hit["lead_time_mean_days"]) + hit["review_period_days"]
            ).astype(np.int64),
        }
    )


def _spec(key: dg.AssetKey, description: str) -> dg.AssetSpec:
    return dg.AssetSpec(
        key,
        description=description,
        deps=UPSTREAM,
        group_name=GROUP,
        owners=[OWNER],
        kinds={"python"},
    )


@dg.multi_asset(
    specs=[
        _spec(
            RECOMMENDATIONS_KEY, "Reorder point, order quantity, stock-out date, status per pair."
        ),
        _spec(HISTORY_KEY, "Predicted stock-outs of every as-of day (the alert episodes' input)."),
        _spec(RUNS_KEY, "One row per as-of day with a recommendation run."),
    ],
    # Selections such as `mart_alerts+` upstream pick only the tables the alerts read. The three
    # tables are still written together (one transaction keeps them consistent); only the
    # selected ones are reported.
    can_subset=True,
    partitions_def=location_groups,
)
def fct_reorder_recommendations(
    context: dg.AssetExecutionContext, config: ReplenishmentConfig, warehouse: WarehouseResource
) -> Iterator[dg.MaterializeResult]:
    """Reorder point, order quantity, projected stock-out and status per active part-location."""
    settings = config.settings()
    with warehouse.connect() as conn:
        as_of = read_as_of(conn)
        if as_of is None:
            raise dg.Failure("marts.dim_part_classification is empty: materialize the marts first")
        # This group's locations, also those gone from the marts (their old rows are replaced).
        locations = group_members(
            conn,
            context.partition_key,
            ["marts.fct_inventory_position", "ml.fct_reorder_recommendations"],
        )
        pairs = read_pairs(conn, locations)
        forecast = read_forecast(conn, locations)
        if forecast.empty and not pairs.empty:
            # Without a forecast every pair would look demand-free ("nothing to order").
            raise dg.Failure(
                "ml.fct_forecasts has no daily rows: materialize ml/fct_forecasts first"
            )
        versions = forecast["model_version"].dropna().unique()
        version = str(versions[0]) if len(versions) else None
        pairs["dispersion"], dispersion_source = forecast_dispersion(conn, pairs, version)
    # Computed without the warehouse: another group's run can read or write it meanwhile.
    rec = recommend(pairs, forecast, as_of, settings)
    rec["model_version"] = version
    history = prediction_history(rec)
    status = rec["status"].value_counts()
    run = {
        "as_of_date": as_of,
        "model_version": version,
        "pairs": len(rec),
        "predicted_stockouts": len(history),
        "order_now": int(status.get("order_now", 0)),
        "order_soon": int(status.get("order_soon", 0)),
    }
    with warehouse.connect() as conn:
        write(conn, rec, history, run, locations)
    context.log.info(
        f"{context.partition_key}: {len(rec)} pairs as of {as_of}: {run['order_now']} order now, "
        f"{run['order_soon']} order soon, {len(history)} predicted stock-outs "
        f"(dispersion: {dispersion_source})"
    )
    ordering = rec[rec["status"] != "ok"]
    selected = context.selected_asset_keys
    if HISTORY_KEY in selected:
        yield dg.MaterializeResult(asset_key=HISTORY_KEY, metadata={"rows_this_day": len(history)})
    if RUNS_KEY in selected:
        yield dg.MaterializeResult(asset_key=RUNS_KEY, metadata={"as_of_date": str(as_of)})
    if RECOMMENDATIONS_KEY not in selected:
        return
    yield dg.MaterializeResult(
        asset_key=RECOMMENDATIONS_KEY,
        metadata={
            "rows": len(rec),
            "as_of_date": str(as_of),
            "order_now": run["order_now"],
            "order_soon": run["order_soon"],
            "ok": int(status.get("ok", 0)),
            "predicted_stockouts": len(history),
            "suggested_order_value": float(ordering["suggested_order_value"].sum()),
            "mean_expected_service_level": float(rec["expected_service_level"].mean())
            if len(rec)
            else 0.0,
            "lead_time_sources": dg.MetadataValue.json(
                rec["lead_time_source"].value_counts().to_dict()
            ),
            "dispersion_source": dispersion_source,
            "model_version": version or "none",
            "settings": dg.MetadataValue.json(
                {
                    "service_levels": dict(settings.service_levels),
                    "ordering_cost": settings.ordering_cost,
                    "holding_rate": settings.holding_rate,
                    "review_period_days": settings.review_period_days,
                }
            ),
        },
    )
