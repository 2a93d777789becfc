"""A moving-average baseline forecast: the yardstick every later model must beat."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

MODEL_NAME = "moving_average"
MODEL_VERSION = "moving_average-28d-v1"


def moving_average_forecast(
    history: pd.DataFrame, horizon: int = 28, window: int = 28
) -> pd.DataFrame:
    """Forecast each series' daily demand as its mean over the last `window` days of history.

    `history` has one row per part_id, location_id and demand_date (zero-filled) with issued_qty.
    Every series gets `horizon` daily rows starting the day after the last date in the history.
    """
    columns = [
        "part_id",
        "location_id",
        "forecast_date",
        "mean",
        "model_version",
        "forecast_origin",
    ]
    if history.empty:
        return pd.DataFrame(columns=columns)
    dates = pd.to_datetime(history["demand_date"])
    last_day: date = dates.max().date()
    recent = history[dates > pd.Timestamp(last_day - timedelta(days=window))]
    # Divide by the window, not the number of rows, so a series that started recently is not
    # inflated by its missing days.
    sums = recent.groupby(["part_id", "location_id"], sort=True)["issued_qty"].sum()
    series = history[["part_id", "location_id"]].drop_duplicates()
    means = series.merge(sums.rename("total").reset_index(), how="left").fillna({"total": 0})
    means = means.sort_values(["part_id", "location_id"]).reset_index(drop=True)
    future = pd.date_range(last_day + timedelta(days=1), periods=horizon, freq="D").date
    out = means.loc[np.repeat(means.index.to_numpy(), horizon)].reset_index(drop=True)
    out["forecast_date"] = np.tile(future, len(means))
    out["mean"] = out.pop("total").astype(float) / window
    out["model_version"] = MODEL_VERSION
    out["forecast_origin"] = last_day
    return out[columns]
