"""The classical baselines: statsforecast's models.

The intermittent-demand methods and SeasonalNaive are computed here for all series at once with
statsforecast's own SES kernels (its compiled golden-section search and SES forecast, called with
the arrays its Python code would pass them), without its per-series Python loop: the same
forecasts, in about half the time (README, "Training vs. the grid search at m"). AutoETS runs
through statsforecast itself.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from statsforecast import StatsForecast
from statsforecast._lib import ses as _ses
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
# TSB's fixed smoothing weights (demand size and demand probability).
TSB_ALPHA = 0.2
# Where statsforecast's optimized SES (ADIDA, IMAPA, CrostonOptimized) searches its alpha.
SES_BOUNDS = (0.1, 0.3)


def _model(name: str, season: int) -> object:
    if name == "TSB":
        return TSB(alpha_d=TSB_ALPHA, alpha_p=TSB_ALPHA)
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

    The DIRECT candidates are computed here (statsforecast's forecasts, see the module's
    docstring); the others run through statsforecast (`together`: see statsforecast_means).
    """
    direct = [n for n in names if n in DIRECT]
    rest = tuple(n for n in names if n not in DIRECT)
    means, seconds = statsforecast_means(panel, horizon, rest, together) if rest else ({}, {})
    if direct:
        series = _Series.of(panel)
        for name in direct:
            started = time.perf_counter()
            mean = DIRECT[name](series, horizon)
            fallback = series.means(np.isnan(mean).any(axis=1))
            means[name] = np.clip(np.where(np.isnan(mean), fallback[:, None], mean), 0.0, None)
            seconds[name] = time.perf_counter() - started
    return {n: means[n] for n in names}, {n: seconds[n] for n in names}


def statsforecast_means(
    panel: Panel, horizon: int, names: tuple[str, ...], together: bool = False
) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """forecast_baselines through statsforecast itself, for any of the NAMES.

    `together`: one statsforecast pass for all the models (the same forecasts, without its
    per-series overhead once per model); each model's seconds are then an equal share of it.
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


@dataclass(frozen=True)
class _Series:
    """What statsforecast_frame hands statsforecast, as matrices over all series at once."""

    y: np.ndarray  # series x periods, right-aligned: NaN before each start, missing = its mean
    length: np.ndarray  # periods from each series' start
    demand: np.ndarray  # the positive values, series after series, in period order
    interval: np.ndarray  # statsforecast's _intervals of each series, laid out as `demand`
    offset: np.ndarray  # series i's demand and interval entries are [offset[i], offset[i+1])
    season: int

    @classmethod
    def of(cls, panel: Panel) -> _Series:
        n, t = panel.values.shape
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # series without any observation
            fill = np.nan_to_num(np.nanmean(panel.values, axis=1))
        started = np.arange(t)[None, :] >= panel.start[:, None]
        y = np.where(started, np.where(np.isnan(panel.values), fill[:, None], panel.values), np.nan)
        # The series hold no negative values: nonzero (intervals) and positive (demand) agree.
        rows, cols = np.nonzero(y > 0)
        offset = np.concatenate([[0], np.cumsum(np.bincount(rows, minlength=n))])
        # Positions counted from 1 at each series' start; an interval is the step from the
        # previous demand (from 0 for the first), in floats as statsforecast's are.
        position = (cols - panel.start[rows] + 1).astype(float)
        previous = np.concatenate([[0.0], position[:-1]])
        previous[offset[:-1][np.diff(offset) > 0]] = 0.0
        interval = position - previous
        return cls(y, t - panel.start, y[rows, cols], interval, offset, panel.season)

    def row(self, i: int) -> np.ndarray:
        return self.y[i, self.y.shape[1] - self.length[i] :]

    def levels(self) -> np.ndarray:
        """ADIDA's aggregation level and IMAPA's highest one: the mean interval rounded half to
        even, as Python's round (0 without demand). A series' intervals sum to the position of
        its last demand, exactly (whole numbers), so their mean is that over their count."""
        count = np.diff(self.offset)
        has = count > 0
        total = np.zeros(len(count))
        # The position of a series' last demand = its intervals' sum.
        ends = np.cumsum(np.concatenate([[0.0], self.interval]))
        total[has] = ends[self.offset[1:][has]] - ends[self.offset[:-1][has]]
        return np.rint(total / np.maximum(count, 1)).astype(int)

    def means(self, rows: np.ndarray) -> np.ndarray:
        """Each series' mean where `rows` (else 0), as statsforecast_means' fallback computes it
        (pandas' grouped mean)."""
        out = np.zeros(len(self.length))
        picked = np.flatnonzero(rows)
        if len(picked):
            values = [self.row(i) for i in picked]
            group = np.repeat(picked, [len(v) for v in values])
            frame = pd.DataFrame({"g": group, "y": np.concatenate(values)})
            out[picked] = frame.groupby("g")["y"].mean().reindex(picked).fillna(0.0).to_numpy()
        return out


def _optimized_ses(x: np.ndarray) -> float:
    """statsforecast's _optimized_ses_forecast: SES with the alpha of least squared error."""
    return _ses.ses_forecast(x, _ses.golden_section_ses(x, *SES_BOUNDS))[0]


def _flat(level: np.ndarray, horizon: int) -> np.ndarray:
    return np.repeat(np.asarray(level, float)[:, None], horizon, axis=1)


def _adida(series: _Series, horizon: int) -> np.ndarray:
    """Optimized SES of the sums over blocks of the mean interval, per period (0 without
    demand)."""
    level = np.zeros(len(series.length))
    for i, agg in enumerate(series.levels()):
        if agg > 0:
            level[i] = _ses.chunk_forecast(series.row(i), int(agg)) / int(agg)
    return _flat(level, horizon)


def _imapa(series: _Series, horizon: int) -> np.ndarray:
    """ADIDA at every block length from 1 to the mean interval, averaged (0 without demand).

    The block sums of one length are computed for all series at once: the series end together,
    so their blocks (counted back from the end, as statsforecast drops the remainder at the
    start) line up.
    """
    n, t = series.y.shape
    levels = series.levels()
    per_level = np.zeros((n, max(int(levels.max(initial=0)), 1)))
    naive = np.zeros(n, bool)
    for agg in range(1, per_level.shape[1] + 1):
        rows = np.flatnonzero(levels >= agg)
        y = series.y[rows, t % agg :]
        sums = y if agg == 1 else y.reshape(len(rows), -1, agg).sum(axis=2)
        for j, i in enumerate(rows):
            chunks = sums[j, sums.shape[1] - series.length[i] // agg :]
            if len(chunks) == 0:  # cannot happen (agg <= length); statsforecast: Naive
                naive[i] = True
                continue
            forecast = _optimized_ses(chunks) if len(chunks) > 1 else chunks[0]
            per_level[i, agg - 1] = forecast / agg
    level = np.zeros(n)
    for agg in np.unique(levels[levels > 0]):
        rows = levels == agg
        level[rows] = per_level[rows, :agg].mean(axis=1)
    return _flat(np.where(naive, series.y[:, -1], level), horizon)


def _croston_optimized(series: _Series, horizon: int) -> np.ndarray:
    """Optimized SES of the demand sizes over that of the intervals (the last value without
    demand)."""
    level = series.y[:, -1].copy()
    for i, (lo, hi) in enumerate(zip(series.offset[:-1], series.offset[1:], strict=True)):
        if hi > lo:
            size = _optimized_ses(series.demand[lo:hi])
            interval = _optimized_ses(series.interval[lo:hi])
            level[i] = size / interval if interval != 0.0 else size
    return _flat(level, horizon)


def _tsb(series: _Series, horizon: int) -> np.ndarray:
    """SES of the demand sizes times SES of the demand probability (0 without demand)."""
    level = np.zeros(len(series.length))
    occurs = (series.y != 0).astype(float)
    for i, (lo, hi) in enumerate(zip(series.offset[:-1], series.offset[1:], strict=True)):
        if hi > lo:
            row = occurs[i, occurs.shape[1] - series.length[i] :]
            probability = _ses.ses_forecast(row, TSB_ALPHA)[0]
            level[i] = probability * _ses.ses_forecast(series.demand[lo:hi], TSB_ALPHA)[0]
    return _flat(level, horizon)


def _seasonal_naive(series: _Series, horizon: int) -> np.ndarray:
    """The last season repeated; NaN where a series shorter than a season has no value."""
    n, t = series.y.shape
    season = series.season
    last = np.full((n, season), np.nan)
    k = min(season, t)
    last[:, season - k :] = series.y[:, t - k :]  # NaN before a start, as statsforecast's
    return last[:, np.arange(horizon) % season]


# The candidates computed here: series x horizon means, NaN where statsforecast gives none.
DIRECT = {
    "ADIDA": _adida,
    "IMAPA": _imapa,
    "TSB": _tsb,
    "CrostonOptimized": _croston_optimized,
    "SeasonalNaive": _seasonal_naive,
}
