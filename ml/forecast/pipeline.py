"""Forecast a panel end to end: backtest, choose, refit on all history, quantiles of the choice."""

from __future__ import annotations

import time
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
from ml.forecast.global_model import MAX_ROWS, GlobalModel
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.quantiles import nb_quantiles


@dataclass
class Forecast:
    panel: Panel
    choice: str
    means: dict[str, np.ndarray]  # refitted candidates, series x horizon
    backtest: Backtest
    scores: dict[str, dict]
    fit_seconds: dict[str, float]
    global_model: GlobalModel | None = None  # refitted on the whole panel, if the choice uses it


def base_models(name: str, per_class: dict[str, str]) -> set[str]:
    """The fitted models a candidate is made of (an ensemble's members, the per-class picks)."""
    if name == PER_CLASS:
        return {GLOBAL}.union(*(base_models(n, per_class) for n in per_class.values()))
    return set(ENSEMBLES.get(name, (name,)))


def candidate_means(
    panel: Panel,
    horizon: int,
    per_class: dict[str, str],
    classes: np.ndarray,
    names: list[str],
    global_model: GlobalModel | None = None,
    max_rows: int = MAX_ROWS,
) -> tuple[dict[str, np.ndarray], dict[str, float], GlobalModel | None]:
    """The named candidates on the whole panel, the fit seconds of each, and the global model
    (`global_model` if given, already fitted, else fitted here when a candidate needs it)."""
    bases = set().union(*(base_models(n, per_class) for n in names))
    means, seconds = forecast_baselines(panel, horizon, tuple(n for n in NAMES if n in bases))
    if GLOBAL in bases:
        started = time.perf_counter()
        global_model = global_model or GlobalModel(horizon, max_rows=max_rows).fit(panel)
        means[GLOBAL] = global_model.predict(panel)
        seconds[GLOBAL] = time.perf_counter() - started
    # Every ensemble of fitted members: a per-class pick may be one.
    for name, members in ENSEMBLES.items():
        if all(m in means for m in members):
            means[name] = np.mean([means[m] for m in members], axis=0)
    for name in names:
        parts = sorted(base_models(name, per_class))
        seconds[name] = sum(seconds[p] for p in parts)
        if name == PER_CLASS:
            means[name] = means[GLOBAL].copy()
            for cls, pick in per_class.items():
                means[name][classes == cls] = means[pick][classes == cls]
    return means, seconds, global_model


def run(
    panel: Panel,
    horizon: int,
    levels: tuple[float, ...] = QUANTILES,
    n_origins: int = 3,
    every_candidate: bool = False,
    names: tuple[str, ...] = NAMES,
    max_rows: int = MAX_ROWS,
) -> Forecast:
    """Backtest on the panel, choose, and forecast the `horizon` periods after it.

    Only the choice is refitted on the whole panel unless every_candidate (the benchmark).
    `names` are the statsforecast candidates; the global model trains on at most `max_rows` rows.
    """
    bt = run_backtest(panel, horizon, n_origins, names, max_rows)
    choice, scores = choose(bt, levels)
    fitted = list(bt.means) if every_candidate else [choice]
    means, seconds, global_model = candidate_means(
        panel, horizon, bt.per_class, bt.classes, fitted, max_rows=max_rows
    )
    return Forecast(panel, choice, means, bt, scores, seconds, global_model)


def quantiles_of(
    fc: Forecast, name: str, levels: tuple[float, ...], integer: bool = False
) -> np.ndarray:
    """Quantiles (series x horizon x levels) with dispersion and shift from all backtest origins
    (`integer`: the integer count quantiles instead, for comparison)."""
    alpha = fc.backtest.alpha(name)
    shift = None if integer else fc.backtest.shift(name, levels)
    return nb_quantiles(fc.means[name], alpha[:, None], levels, shift)


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
