"""`partsflow bench forecast`: accuracy of every candidate and of the backtest's choice.

The last `horizon` periods are held out. Everything (choice, ensembles, per-class picks,
dispersion) is decided on the rolling-origin backtest inside the remaining history; the holdout
is only scored.
"""

from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.candidates import NAMES
from ml.forecast.classes import CLASSES
from ml.forecast.global_model import GlobalModel
from ml.forecast.history import Panel, read_history, to_panel
from ml.forecast.metrics import QUANTILES, score
from ml.forecast.pipeline import Forecast, quantiles_of, run
from ml.forecast.quantiles import expected_share_above
from orchestration.bench_reference.grid_search import (
    FOLDS,
    bound_quantiles,
    combinations,
    fit_reference,
)

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = PROJECT / ".." / "shared" / "data" / "carparts.csv"


def landing_history(landing: Path) -> pd.DataFrame:
    """Daily demand per part|location from the ISSUE transactions of a generated landing folder.

    Every pair starts on the first day of the data, so days without issues count as zero demand.
    """
    files = sorted((landing / "transactions").glob("*.csv"))
    cols = ["occurred_at", "type", "part_id", "location_id", "quantity"]
    tx = pd.concat([pd.read_csv(f, usecols=cols) for f in files], ignore_index=True)
    tx = tx[(tx["type"].str.upper() == "ISSUE") & (tx["quantity"] > 0)]
    tx["series_id"] = tx["part_id"] + "|" + tx["location_id"]
    tx["date"] = pd.to_datetime(tx["occurred_at"]).dt.normalize()
    daily = tx.groupby(["series_id", "date"], as_index=False)["quantity"].sum()
    first = pd.DataFrame({"series_id": daily["series_id"].unique(), "date": daily["date"].min()})
    daily = pd.concat([daily, first.assign(quantity=0.0)]).drop_duplicates(
        ["series_id", "date"], keep="first"
    )
    return daily.reset_index(drop=True)


def complete_series(panel: Panel) -> Panel:
    """Only series without missing periods (the comparison the README baselines use)."""
    started = np.arange(len(panel.periods))[None, :] >= panel.start[:, None]
    keep = ~(np.isnan(panel.values) & started).any(axis=1)
    return Panel(panel.ids[keep], panel.periods, panel.values[keep], panel.start[keep], panel.freq)


def reference(train: Panel, actual: np.ndarray, horizon: int) -> dict[str, Any]:
    """The original design's grid-searched GradientBoostingRegressor on our global model's
    training rows (orchestration/bench_reference/grid_search.py), scored on the holdout, and our
    global model's fit on the same rows for the time ratio."""
    ours = GlobalModel(horizon)
    x, y, w = ours.training_set(train)
    started = time.process_time()  # CPU seconds, as the reference's (both on one core)
    ours.fit_rows(x, y, w)
    ours_s = time.process_time() - started
    ref = fit_reference(x, y)
    scale, future = ours.future_design(train)
    mean = (ref.predict(future[x.columns]) * scale).reshape(len(train.ids), horizon)
    qs = bound_quantiles(mean, QUANTILES)
    hold = score(actual.ravel(), mean.ravel(), qs.reshape(-1, len(QUANTILES)), QUANTILES)
    hold["within"] = 1.0 - hold["above_top"] - hold["below_bottom"]
    return {
        "holdout": hold,
        "best_params": ref.best_params,
        "rows": ref.rows,
        "sample_rows": ref.sample_rows,
        "grid_s": ref.grid_seconds,
        "refit_s": ref.refit_seconds,
        "sample_refit_s": ref.sample_refit_seconds,
        "reference_s": ref.extrapolated_seconds,
        "ours_s": ours_s,
    }


def _models(fc: Forecast, actual: np.ndarray) -> list[dict[str, Any]]:
    """Backtest and holdout scores of every candidate (continuous quantiles, and integer ones'
    wQL and share above p90 for comparison)."""
    models = []
    for name in fc.backtest.means:
        mean = fc.means[name]
        qs = quantiles_of(fc, name, QUANTILES)
        hold = score(actual.ravel(), mean.ravel(), qs.reshape(-1, len(QUANTILES)), QUANTILES)
        alpha = np.broadcast_to(fc.backtest.alpha(name)[:, None], mean.shape)
        hold["expected_above"] = expected_share_above(mean, alpha, qs[..., -1], actual)
        ints = quantiles_of(fc, name, QUANTILES, integer=True).reshape(-1, len(QUANTILES))
        integer = score(actual.ravel(), mean.ravel(), ints, QUANTILES)
        per_class = {}
        for cls in CLASSES:
            rows = fc.backtest.classes == cls
            if rows.any():
                s = score(
                    actual[rows].ravel(),
                    mean[rows].ravel(),
                    qs[rows].reshape(-1, len(QUANTILES)),
                    QUANTILES,
                )
                per_class[cls] = {"series": int(rows.sum()), **s}
        models.append(
            {
                "model": name,
                "backtest": fc.scores[name],
                "holdout": hold,
                "integer": {"wql": integer["wql"], "above_top": integer["above_top"]},
                "shift": fc.backtest.shift(name, QUANTILES),
                "per_class": per_class,
                "fit_s": fc.fit_seconds.get(name, float("nan")),
            }
        )
    return models


def bench_forecast(
    data: Path | None,
    landing: Path | None,
    horizon: int,
    freq: str,
    with_reference: bool = False,
) -> dict[str, Any]:
    started = time.perf_counter()
    if landing is not None:
        source, history = str(landing), landing_history(landing)
    else:
        path = (data or DEFAULT_DATA).resolve()
        source, history = str(path), read_history(path)
    panel = complete_series(to_panel(history, freq, source))
    n_train = len(panel.periods) - horizon
    train = panel.head(n_train)
    actual = panel.values[panel.start < n_train, n_train:]
    fc = run(train, horizon, QUANTILES, every_candidate=True)
    models = _models(fc, actual)
    ref = reference(train, actual, horizon) if with_reference else None
    return {
        "source": source,
        "series": len(train.ids),
        "periods": len(panel.periods),
        "horizon": horizon,
        "freq": freq,
        "origins": fc.backtest.cuts,
        "choice": fc.choice,
        "per_class_choice": fc.backtest.per_class,
        "models": models,
        "reference": ref,
        "seconds": time.perf_counter() - started,
        "loadavg": os.getloadavg(),
    }


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


def format_reference(ref: dict[str, Any], ours: dict[str, Any]) -> list[str]:
    h, o = ref["holdout"], ours["holdout"]
    ratio = ref["reference_s"] / ref["ours_s"]
    return [
        "",
        f"reference: the original design's GradientBoostingRegressor + GridSearchCV "
        f"({combinations()} combinations x {FOLDS} TimeSeriesSplit folds, MAE scoring), bounds "
        "+/-10%, on our global model's training rows",
        f"  grid search on a time-ordered sample of {ref['sample_rows']:,} of {ref['rows']:,} "
        f"rows: {ref['grid_s']:.0f} CPU s; best {ref['best_params']}",
        f"  best refit: {ref['sample_refit_s']:.1f} CPU s on the sample, {ref['refit_s']:.0f} on "
        f"all rows -> grid search + refit on all rows extrapolated: {ref['reference_s']:.0f} CPU s "
        f"({ref['reference_s'] / 3600:.1f} h)",
        f"  ours (HistGradientBoosting, fixed parameters) on the same rows: {ref['ours_s']:.1f} "
        f"CPU s; fit-time ratio reference/ours: {ratio:.0f}x",
        f"  holdout: RMSE {h['rmse']:.4f} (ours {o['rmse']:.4f}), bias {h['bias']:+.4f} "
        f"({o['bias']:+.4f}), wQL {h['wql']:.4f} ({o['wql']:.4f}), above p90 {h['above_top']:.1%} "
        f"({o['above_top']:.1%}), within the bounds {h['within']:.1%}",
    ]


def format_report(result: dict[str, Any]) -> str:
    lines = [
        f"forecast benchmark: {result['source']}",
        f"{result['series']} series, {result['periods']} periods ({result['freq']}), last "
        f"{result['horizon']} held out; backtest origins (known periods): {result['origins']}",
        f"choice on the backtest: {result['choice']}; "
        f"per-class picks: {result['per_class_choice']}",
        "",
    ]
    header = ["model", "bt RMSE", "bt bias", "bt wQL", "bt >p90", "RMSE", "bias", "wQL"]
    header += [">p90", "exp>p90", "<p10", "shift", "int wQL", "int>p90", "fit s"]
    widths = [24, 8, 8, 7, 11, 7, 7, 7, 6, 7, 6, 5, 7, 7, 7]
    lines.append(_row(header, widths))
    for m in result["models"]:
        bt, h, i = m["backtest"], m["holdout"], m["integer"]
        name = m["model"] + (" *" if m["model"] == result["choice"] else "")
        lines.append(
            _row(
                [
                    name,
                    f"{bt['rmse']:.4f}",
                    f"{bt['bias']:+.4f}",
                    f"{bt['wql']:.4f}",
                    f"{bt['above_top']:.1%}/{bt['expected_above']:.1%}",
                    f"{h['rmse']:.4f}",
                    f"{h['bias']:+.4f}",
                    f"{h['wql']:.4f}",
                    f"{h['above_top']:.1%}",
                    f"{h['expected_above']:.1%}",
                    f"{h['below_bottom']:.1%}",
                    f"{m['shift']:.2f}",
                    f"{i['wql']:.4f}",
                    f"{i['above_top']:.1%}",
                    f"{m['fit_s']:.1f}",
                ],
                widths,
            )
        )
    lines += ["", "holdout per demand class: choice vs. best statsforecast model (by holdout RMSE)"]
    by_name = {m["model"]: m for m in result["models"]}
    chosen = by_name[result["choice"]]
    for cls, s in chosen["per_class"].items():
        sf = [by_name[n]["per_class"][cls] | {"model": n} for n in NAMES if n in by_name]
        best = min(sf, key=lambda x: x["rmse"])
        best_wql = min(x["wql"] for x in sf)
        lines.append(
            f"  {cls:12s} {s['series']:5d} series: RMSE {s['rmse']:.4f} vs {best['rmse']:.4f} "
            f"({best['model']}), wQL {s['wql']:.4f} vs best {best_wql:.4f}"
        )
    h = chosen["holdout"]
    best_sf_wql = min(by_name[n]["holdout"]["wql"] for n in NAMES if n in by_name)
    lines += [
        "",
        f"choice on holdout: RMSE {h['rmse']:.4f}, bias {h['bias']:+.4f}, wQL {h['wql']:.4f} "
        f"(best statsforecast {best_sf_wql:.4f}), above p90 {h['above_top']:.1%} "
        f"(a calibrated model: {h['expected_above']:.1%})",
    ]
    if result.get("reference"):
        lines += format_reference(result["reference"], by_name["GlobalHGB"])
    lines += [
        "",
        f"total {result['seconds']:.0f} s, load average {result['loadavg'][0]:.2f} "
        f"(2 cores shared; timings are noisy)",
        "'bt' = rolling-origin backtest before the holdout (>p90: observed/model-implied share); "
        "quantiles are continuous with each model's backtest-calibrated shift (README, "
        "Forecasting); 'int' = the integer count quantiles instead; exp>p90 = share above p90 "
        "the model itself expects; fit s = fit + forecast on the training history (ensembles: "
        "sum of their parts).",
    ]
    return "\n".join(lines)
