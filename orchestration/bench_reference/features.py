"""The old design's pandas feature pipeline (TO_BE_DESIGN `InventoryFeatureEngineer`), as reference.

Reimplemented faithfully in its style: sort, then one `groupby(['part_id', 'location_id'])` +
`transform(lambda x: x.rolling(window, min_periods=1).<stat>())` per feature, `groupby().shift(lag)`
for lags. Two deliberate changes so that it computes exactly what fct_demand_features computes:
the windows and lags it uses are those of the feature mart, and every window is shifted by one day
(`x.shift(1).rolling(...)`), because the old code let day D's demand into D's features (leakage).
Lags stay NULL (NaN) before a pair's first day instead of the old fillna(0).

Input: the daily demand rows (part_id, location_id, demand_date, issued_qty), zero-filled per
pair as fct_daily_demand is. Output: one row per input row with demand_date >= `first_day`.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import pandas as pd

LAGS = (1, 7, 14, 28, 56, 364)
WINDOWS = (7, 14, 28, 56, 91)
STATS = ("mean", "std", "min", "max", "sum")
LAST_DEMAND_LOOKBACK_DAYS = 91
KEYS = ["part_id", "location_id"]


def feature_columns() -> list[str]:
    """The feature and target columns the reference computes (all in fct_demand_features)."""
    cols = ["target_qty", "target_next_7_qty", "target_next_28_qty"]
    cols += [f"lag_{k}_qty" for k in LAGS]
    cols += [f"rolling_{s}_{w}" for w in WINDOWS for s in STATS]
    return [*cols, "days_since_last_demand", "zero_day_share_91"]


def _days_since_last_demand(frame: pd.DataFrame) -> pd.Series:
    day = frame["demand_date"].where(frame["quantity_used"] > 0)
    last = day.groupby([frame["part_id"], frame["location_id"]]).transform(
        lambda x: x.shift(1).ffill()
    )
    days = (frame["demand_date"] - last).dt.days
    return days.where(days <= LAST_DEMAND_LOOKBACK_DAYS)


def build_features(demand: pd.DataFrame, first_day: date | None = None) -> pd.DataFrame:
    """The reference features of `demand` (see the module docstring)."""
    df = demand.rename(columns={"issued_qty": "quantity_used"})[
        ["part_id", "location_id", "demand_date", "quantity_used"]
    ].copy()
    df["demand_date"] = pd.to_datetime(df["demand_date"])
    df["quantity_used"] = df["quantity_used"].astype("float64")
    df = df.sort_values(["part_id", "location_id", "demand_date"]).reset_index(drop=True)
    grouped = df.groupby(KEYS)["quantity_used"]

    # Targets: the day's demand and the sums over the next 7 / 28 days starting with it.
    df["target_qty"] = df["quantity_used"]
    for horizon in (7, 28):
        df[f"target_next_{horizon}_qty"] = grouped.transform(
            lambda x, h=horizon: x[::-1].rolling(h, min_periods=h).sum()[::-1]
        )

    # Lag features
    for lag in LAGS:
        df[f"lag_{lag}_qty"] = grouped.shift(lag)

    # Rolling features (one groupby + lambda per statistic and window, as the old pipeline)
    for window in WINDOWS:
        df[f"rolling_mean_{window}"] = grouped.transform(
            lambda x, w=window: x.shift(1).rolling(w, min_periods=1).mean()
        )
        df[f"rolling_std_{window}"] = grouped.transform(
            lambda x, w=window: x.shift(1).rolling(w, min_periods=1).std()
        )
        df[f"rolling_min_{window}"] = grouped.transform(
            lambda x, w=window: x.shift(1).rolling(w, min_periods=1).min()
        )
        df[f"rolling_max_{window}"] = grouped.transform(
            lambda x, w=window: x.shift(1).rolling(w, min_periods=1).max()
        )
        df[f"rolling_sum_{window}"] = grouped.transform(
            lambda x, w=window: x.shift(1).rolling(w, min_periods=1).sum()
        )

    df["days_since_last_demand"] = _days_since_last_demand(df)
    df["zero_day_share_91"] = grouped.transform(
        lambda x: (x == 0).astype("float64").shift(1).rolling(91, min_periods=1).mean()
    )
    if first_day is not None:
        df = df[df["demand_date"] >= pd.Timestamp(first_day)]
    out = df.drop(columns=["quantity_used"]).reset_index(drop=True)
    out[feature_columns()] = out[feature_columns()].astype("float64")
    return out


def compare(reference: pd.DataFrame, sql: pd.DataFrame, rtol: float = 1e-9) -> dict[str, float]:
    """Largest absolute difference per feature column on the rows both frames hold.

    NULL must match NULL; a column with a NULL/non-NULL mismatch reports inf.
    """
    keys = ["part_id", "location_id", "demand_date"]
    sql = sql.assign(demand_date=pd.to_datetime(sql["demand_date"]))
    merged = reference.merge(sql, on=keys, suffixes=("_ref", "_sql"), validate="one_to_one")
    out: dict[str, float] = {}
    for col in feature_columns():
        a = merged[f"{col}_ref"].astype("float64").to_numpy()
        b = pd.to_numeric(merged[f"{col}_sql"], errors="coerce").astype("float64").to_numpy()
        if (np.isnan(a) != np.isnan(b)).any():
            out[col] = float("inf")
            continue
        both = ~np.isnan(a)
        diff = np.abs(a[both] - b[both])
        scale = np.maximum(1.0, np.abs(a[both]))
        out[col] = float((diff / scale).max()) if both.any() else 0.0
    out["rows"] = float(len(merged))
    return out
