"""What the recommendations are computed from, read from the marts, staging and `ml`.

Lead time per part, first that applies (`lead_time_source`):
- `part_history`: mean and sample std of the part's received purchase orders (all locations,
  marts.fct_purchase_orders), when it has at least MIN_LEAD_TIME_SAMPLES of them;
- `supplier`: lead_time_mean_days / lead_time_stddev_days of its supplier
  (marts.mart_supplier_performance), same minimum;
- `nominal`: the part's own lead_time_days, else its supplier's (std 0);
- `none`: no lead time known: 0 (only the review period is protected).
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

from ml.registry import load_artifact
from orchestration.defs.forecasting.demand import series_ids
from orchestration.defs.forecasting.registry import model_versions
from orchestration.defs.partitions import IN_GROUP, in_group
from orchestration.warehouse import Connection

MIN_LEAD_TIME_SAMPLES = 3
FORECAST_MODEL = "demand_forecast"

PAIRS_SQL = """
with part_lead_times as (
    select
        part_id,
        count(lead_time_days) as n,
        avg(cast(lead_time_days as double precision)) as mean_days,
        stddev_samp(cast(lead_time_days as double precision)) as std_days
    from marts.fct_purchase_orders
    where status = 'RECEIVED'
    group by part_id
)
select
    position.part_id,
    position.location_id,
    position.on_hand,
    cast(coalesce(open_orders.quantity_on_order, 0) as bigint) as on_order,
    cast(position.unit_cost as double precision) as unit_cost,
    classes.abc_class,
    classes.demand_pattern,
    part_lead_times.n as part_lt_n,
    part_lead_times.mean_days as part_lt_mean,
    part_lead_times.std_days as part_lt_std,
    supplier.lead_time_sample_size as supplier_lt_n,
    supplier.lead_time_mean_days as supplier_lt_mean,
    supplier.lead_time_stddev_days as supplier_lt_std,
    cast(coalesce(parts.lead_time_days, supplier.nominal_lead_time_days) as double precision)
        as nominal_lt
from marts.fct_inventory_position as position
left join marts.fct_open_orders as open_orders
    on position.part_id = open_orders.part_id
    and position.location_id = open_orders.location_id
left join marts.fct_part_location_classification as classes
    on position.part_id = classes.part_id
    and position.location_id = classes.location_id
left join staging.stg_inventory__parts as parts
    on position.part_id = parts.part_id
left join marts.mart_supplier_performance as supplier
    on parts.supplier_id = supplier.supplier_id
left join part_lead_times
    on position.part_id = part_lead_times.part_id
where position.status = 'active'{locations}
order by position.part_id, position.location_id
"""


def lead_times(frame: pd.DataFrame, min_samples: int = MIN_LEAD_TIME_SAMPLES) -> pd.DataFrame:
    """lead_time_mean_days, lead_time_std_days, lead_time_source from the candidate columns."""
    part_ok = frame["part_lt_n"].fillna(0).to_numpy() >= min_samples
    supplier_ok = frame["supplier_lt_n"].fillna(0).to_numpy() >= min_samples
    nominal_ok = frame["nominal_lt"].notna().to_numpy()
    source = np.select(
        [part_ok, supplier_ok, nominal_ok], ["part_history", "supplier", "nominal"], "none"
    )
    mean = np.select(
        [part_ok, supplier_ok, nominal_ok],
        [frame["part_lt_mean"], frame["supplier_lt_mean"], frame["nominal_lt"]],
        0.0,
    )
    std = np.select([part_ok, supplier_ok], [frame["part_lt_std"], frame["supplier_lt_std"]], 0.0)
    # The warehouses sum in parallel, so the same lead times can come back a few ulps apart
    # (2.2499999999999996 or 2.25): rounding away that noise keeps the recommendation and its
    # "± 2.2 d" text the same on every run and on both warehouses.
    return pd.DataFrame(
        {
            "lead_time_mean_days": np.round(mean.astype(float), 9),
            "lead_time_std_days": np.round(np.nan_to_num(std.astype(float)), 9),
            "lead_time_source": source,
        },
        index=frame.index,
    )


def read_pairs(conn: Connection, locations: list[str] | None = None) -> pd.DataFrame:
    """One row per active part and location with stock, class and lead time (recommend.pairs);
    only the given locations' pairs when `locations` is set (lead times still use every PO)."""
    if locations is None:
        frame = conn.query_df(PAIRS_SQL.format(locations=""))
    else:
        where = f" and {in_group('position.location_id')}"
        frame = conn.query_df(PAIRS_SQL.format(locations=where), (locations,))
    frame = pd.concat([frame, lead_times(frame)], axis=1)
    return frame.drop(
        columns=[c for c in frame.columns if c.startswith(("part_lt", "supplier_lt"))]
    )


def read_as_of(conn: Connection) -> date | None:
    """The ledger's last day, the day the marts describe (NULL before the first ingest)."""
    value = conn.fetchall("select max(as_of_date) from marts.dim_part_classification")[0][0]
    return pd.Timestamp(value).date() if value is not None else None


def read_forecast(conn: Connection, locations: list[str] | None = None) -> pd.DataFrame:
    """Daily rows of ml.fct_forecasts: part_id, location_id, forecast_date, mean, p10, p90
    (only the given locations' when `locations` is set)."""
    cols = ["part_id", "location_id", "forecast_date", "mean", "p10", "p90", "model_version"]
    if not conn.table_exists("ml", "fct_forecasts"):
        return pd.DataFrame(columns=cols)
    sql = (
        "select part_id, location_id, period_start as forecast_date, mean, p10, p90, "
        "model_version from ml.fct_forecasts where grain = ?"
    )
    if locations is None:
        return conn.query_df(sql, ("day",))
    return conn.query_df(f"{sql} and {IN_GROUP}", ("day", locations))


def forecast_dispersion(conn: Connection, pairs: pd.DataFrame, model_version: str | None) -> tuple:
    """(NB dispersion per pair, where it came from) from the artifact of the forecast's model.

    NaN for every pair (recommend then estimates it from the quantiles) when the version is unknown
    or its artifact cannot be read.
    """
    missing = np.full(len(pairs), np.nan)
    if model_version is None:
        return missing, "no forecast"
    if not conn.table_exists("ml", "ml_model_registry"):
        return missing, "quantile spread (no model registry)"
    prefix = f"{FORECAST_MODEL}-v"
    number = model_version.removeprefix(prefix)
    versions = {str(v.version): v for v in model_versions(conn, FORECAST_MODEL)}
    if not model_version.startswith(prefix) or number not in versions:
        return missing, f"quantile spread ({model_version} not in the registry)"
    try:
        model = load_artifact(versions[number].artifact)
    except (OSError, ValueError) as exc:
        return missing, f"quantile spread (artifact unreadable: {exc})"
    return model.dispersion(series_ids(pairs).to_numpy()), f"{model_version} artifact"
