"""The classical baselines, fitted by statsforecast (not reimplemented here)."""

from __future__ import annotations

import os
import time
import warnings

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast.models import (
    ADIDA,
    IMAPA,
    TSB,
    AutoETS,
    CrostonOptimized,
    Naive,
    SeasonalNaive,
)

from ml.forecast.history import Panel

# AutoETS refuses long seasons (weekly data); it then runs without a seasonal component.
MAX_ETS_SEASON = 24
NAMES = ("ADIDA", "IMAPA", "TSB", "CrostonOptimized", "SeasonalNaive", "AutoETS")
# AutoETS with a weekly season takes ~230 s per fit on the demo scale's daily series, and the global
# model beat it there overall and per class (README, Forecasting): the Dagster pipeline's daily
# panels leave it out to stay within its 2-minute budget.
DAILY_NAMES = tuple(n for n in NAMES if n != "AutoETS")


def _model(name: str, season: int) -> object:
    if name == "TSB":
        return TSB(alpha_d=0.2, alpha_p=0.2)
    if name == "SeasonalNaive":
        return SeasonalNaive(season_length=season)
    if name == "AutoETS":
        return AutoETS(season_length=season if season <= MAX_ETS_SEASON else 1)
    return {"ADIDA": ADIDA, "IMAPA": IMAPA, "CrostonOptimized": CrostonOptimized}[name]()


def statsforecast_frame(panel: Panel) -> pd.DataFrame:
    """unique_id = panel row, ds = period number, from each series' start; a missing period gets
    its series' mean (0 without any observation)."""
    n, t = panel.values.shape
    row, ds = np.nonzero(np.arange(t)[None, :] >= panel.start[:, None])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # series without any observation
        fill = np.nan_to_num(np.nanmean(panel.values, axis=1))
    y = panel.values[row, ds]
    return pd.DataFrame({"unique_id": row, "ds": ds, "y": np.where(np.isnan(y), fill[row], y)})


def forecast_baselines(
    panel: Panel, horizon: int, names: tuple[str, ...] = NAMES, together: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Mean forecasts (series x horizon, clipped at 0) and fit seconds of each candidate.

    `together`: one statsforecast pass for all the models (the same forecasts, without its
    per-series overhead five times: the backtest's); each model's seconds are then an equal
    share of the pass.
    """
    os.environ.setdefault("NIXTLA_ID_AS_COL", "1")
    frame = statsforecast_frame(panel)
    n = len(panel.ids)
    # A model without an answer for a series (too short for it) gets the series' mean.
    fallback = frame.groupby("unique_id")["y"].mean().reindex(range(n)).fillna(0.0).to_numpy()
    means, seconds = {}, {}
    for group in [names] if together else [(name,) for name in names]:
        started = time.perf_counter()
        # Too-short series (e.g. a season longer than the history) get the last value instead.
        sf = StatsForecast(
            models=[_model(name, panel.season) for name in group],
            freq=1,
            n_jobs=1,
            fallback_model=Naive(),
        )
        with warnings.catch_warnings():
            # AutoETS divides by zero degrees of freedom on very short series (then falls back).
            warnings.simplefilter("ignore", RuntimeWarning)
            # SeasonalNaive on a history shorter than a season: NaN there, filled below.
            warnings.simplefilter("ignore", UserWarning)
            out = sf.forecast(df=frame, h=horizon).sort_values(["unique_id", "ds"])
        share = (time.perf_counter() - started) / len(group)
        for name in group:
            mean = out[name].to_numpy(float).reshape(n, horizon)
            mean = np.where(np.isnan(mean), fallback[:, None], mean)
            means[name] = np.clip(mean, 0.0, None)
            seconds[name] = share
    return means, seconds
