"""Forecast a panel end to end: backtest, choose, refit on all history, quantiles of the choice."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.forecast.backtest import (
    ENSEMBLES,
    GLOBAL,
    PER_CLASS,
    Backtest,
    choose,
    run_backtest,
)
from ml.forecast.candidates import NAMES, forecast_baselines
from ml.forecast.global_model import GlobalModel
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.quantiles import nb_quantiles


@dataclass
class Forecast:
    panel: Panel
    choice: str
    means: dict[str, np.ndarray]  # every candidate, series x horizon
    backtest: Backtest
    scores: dict[str, dict]
    fit_seconds: dict[str, float]


def candidate_means(panel: Panel, horizon: int, bt: Backtest) -> tuple[dict, dict]:
    """Every candidate fitted on the whole panel (the per-class choice from the backtest)."""
    import time

    means, seconds = forecast_baselines(panel, horizon, NAMES)
    started = time.perf_counter()
    means[GLOBAL] = GlobalModel(horizon).fit(panel).predict(panel)
    seconds[GLOBAL] = time.perf_counter() - started
    for name, parts in ENSEMBLES.items():
        means[name] = np.mean([means[p] for p in parts], axis=0)
        seconds[name] = sum(seconds[p] for p in parts)
    per_class = means[GLOBAL].copy()
    for cls, name in bt.per_class.items():
        per_class[bt.classes == cls] = means[name][bt.classes == cls]
    means[PER_CLASS] = per_class
    seconds[PER_CLASS] = sum(seconds[n] for n in (*NAMES, GLOBAL))
    return means, seconds


def run(panel: Panel, horizon: int, levels: tuple[float, ...] = QUANTILES, n_origins: int = 3):
    """Backtest on the panel, choose, and forecast the `horizon` periods after it."""
    bt = run_backtest(panel, horizon, n_origins)
    choice, scores = choose(bt, levels)
    means, seconds = candidate_means(panel, horizon, bt)
    return Forecast(panel, choice, means, bt, scores, seconds)


def quantiles_of(fc: Forecast, name: str, levels: tuple[float, ...]) -> np.ndarray:
    """Quantiles (series x horizon x levels) with dispersion from all backtest errors."""
    alpha = fc.backtest.alpha(name)
    return nb_quantiles(fc.means[name], alpha[:, None], levels)


def to_frame(fc: Forecast, levels: tuple[float, ...], name: str | None = None) -> pd.DataFrame:
    """`series_id, date, mean, p10..p90` for the chosen (or named) candidate."""
    name = name or fc.choice
    horizon = fc.means[name].shape[1]
    qs = quantiles_of(fc, name, levels)
    n = len(fc.panel.ids)
    out = pd.DataFrame(
        {
            "series_id": np.repeat(fc.panel.ids, horizon),
            "date": np.tile(fc.panel.future(horizon).start_time, n),
            "mean": fc.means[name].ravel(),
        }
    )
    for j, q in enumerate(levels):
        out[f"p{q * 100:g}"] = qs[:, :, j].reshape(-1)
    return out
