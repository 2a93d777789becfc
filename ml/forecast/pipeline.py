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
    OriginResult,
    assemble,
    backtest_cuts,
    choose,
    origin_forecasts,
    run_backtest,
)
from ml.forecast.candidates import NAMES, forecast_baselines
from ml.forecast.features import ewm_paths
from ml.forecast.forked import Forked, spare_core
from ml.forecast.global_model import MAX_ROWS, GlobalModel
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.quantiles import nb_quantiles


@dataclass
class Forecast:
    panel: Panel
    choice: str
    means: dict[str, np.ndarray]  # refitted candidates, series x horizon (none: forecast=False)
    backtest: Backtest
    scores: dict[str, dict]
    fit_seconds: dict[str, float]
    global_model: GlobalModel | None = None  # refitted on the whole panel, if the choice uses it


def base_models(name: str, per_class: dict[str, str]) -> set[str]:
    """The fitted models a candidate is made of (an ensemble's members, the per-class picks)."""
    if name == PER_CLASS:
        return {GLOBAL}.union(*(base_models(n, per_class) for n in per_class.values()))
    return set(ENSEMBLES.get(name, (name,)))


def rows_needed(
    names: list[str], per_class: dict[str, str], classes: np.ndarray
) -> dict[str, np.ndarray]:
    """Per fitted model, the series that the named candidates need it for: a per-class choice
    needs each pick only on its class (the global model on classes without a pick)."""
    need: dict[str, np.ndarray] = {}

    def add(names: set[str], rows: np.ndarray) -> None:
        for name in names:
            need[name] = need.get(name, np.zeros(len(classes), bool)) | rows

    for name in names:
        if name != PER_CLASS:
            add(base_models(name, per_class), np.ones(len(classes), bool))
            continue
        picked = np.zeros(len(classes), bool)
        for cls, pick in per_class.items():
            add(base_models(pick, per_class), classes == cls)
            picked |= classes == cls
        add({GLOBAL}, ~picked)
    return need


def candidate_means(
    panel: Panel,
    horizon: int,
    per_class: dict[str, str],
    classes: np.ndarray,
    names: list[str],
    global_model: GlobalModel | None = None,
    max_rows: int = MAX_ROWS,
    paths: dict[str, np.ndarray] | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, float], GlobalModel | None]:
    """The named candidates on the panel, the fit seconds of each, and the global model
    (`global_model` if given, already fitted, else fitted here when a candidate needs it;
    `paths`: the panel's ewm_paths if already computed).

    Each model forecasts only the series a candidate needs it for (NaN elsewhere): statsforecast's
    models are local, so a per-class choice refits them on their classes only.
    """
    need = rows_needed(names, per_class, classes)
    means: dict[str, np.ndarray] = {}
    seconds: dict[str, float] = {}
    local = [n for n in NAMES if n in need]
    for rows in {need[n].tobytes(): need[n] for n in local}.values():
        group = tuple(n for n in local if np.array_equal(need[n], rows))
        for name in group:
            means[name] = np.full((len(panel.ids), horizon), np.nan)
            seconds[name] = 0.0
        if rows.any():  # a pick for a class without series in this panel
            part, part_seconds = forecast_baselines(panel.select(rows), horizon, group)
            for name in group:
                means[name][rows] = part[name]
            seconds.update(part_seconds)
    if GLOBAL in need:
        started = time.perf_counter()
        # Trained on every series (a global model learns from all), forecast where needed.
        global_model = global_model or GlobalModel(horizon, max_rows=max_rows).fit(panel, paths)
        means[GLOBAL] = np.full((len(panel.ids), horizon), np.nan)
        rows = need[GLOBAL]
        if rows.any():
            rows_paths = paths
            if paths is not None and not rows.all():
                rows_paths = {k: p[rows] for k, p in paths.items()}
            means[GLOBAL][rows] = global_model.predict(panel.select(rows), rows_paths)
        seconds[GLOBAL] = time.perf_counter() - started
    # Every ensemble of fitted members: a per-class pick may be one.
    for name, members in ENSEMBLES.items():
        if all(m in means for m in members):
            means[name] = np.mean([means[m] for m in members], axis=0)
    for name in names:
        seconds[name] = sum(seconds[p] for p in sorted(base_models(name, per_class)))
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
    forecast: bool = True,
    aside: bool = False,
) -> Forecast:
    """Backtest on the panel, choose, and forecast the `horizon` periods after it.

    Only the choice is refitted on the whole panel unless every_candidate (the benchmark).
    `names` are the statsforecast candidates; the global model trains on at most `max_rows` rows.
    Without `forecast` (training an artifact, which forecasts when scored) only the global model
    is refitted, if the choice uses it, and no means are computed; `aside`: the backtest's oldest
    origin and that refit, then half of the candidates' quantiles, run in a forked child beside
    the rest where there is a spare core.
    """
    # The EWM paths of the whole panel serve every origin's fit and the refit.
    paths = ewm_paths(panel.values)
    if not forecast:

        def refit() -> tuple[GlobalModel, float]:
            started = time.perf_counter()
            model = GlobalModel(horizon, max_rows=max_rows).fit(panel, paths)
            return model, time.perf_counter() - started

        cuts = backtest_cuts(len(panel.periods), horizon, n_origins)
        if aside and spare_core() and len(cuts) > 1:
            # The refit does not depend on the backtest, nor the origins on each other: a forked
            # child does the oldest origin and then the refit (used only if the choice needs the
            # global model) while this process does the other origins, which balances the two
            # cores at l (29 + 35 s against 2 x 29 s).
            def oldest_then_refit() -> tuple[OriginResult, tuple[GlobalModel, float]]:
                means, fit_s, _ = origin_forecasts(panel, cuts[0], horizon, names, max_rows, paths)
                return (means, fit_s, None), refit()

            with Forked(oldest_then_refit) as child:
                rest = [
                    origin_forecasts(panel, c, horizon, names, max_rows, paths) for c in cuts[1:]
                ]
                oldest, refitted = child.result()
            bt = assemble(panel, horizon, cuts, [oldest, *rest])
            choice, scores = choose(bt, levels, beside=True)
        else:
            bt = run_backtest(panel, horizon, n_origins, names, max_rows, paths)
            choice, scores = choose(bt, levels)
            refitted = None
        global_model, seconds = None, {}
        if GLOBAL in rows_needed([choice], bt.per_class, bt.classes):
            global_model, seconds[GLOBAL] = refitted or refit()
        return Forecast(panel, choice, {}, bt, scores, seconds, global_model)
    bt = run_backtest(panel, horizon, n_origins, names, max_rows, paths)
    choice, scores = choose(bt, levels)
    fitted = list(bt.means) if every_candidate else [choice]
    means, seconds, global_model = candidate_means(
        panel, horizon, bt.per_class, bt.classes, fitted, max_rows=max_rows, paths=paths
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
