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
from ml.forecast.history import Panel, read_history, to_panel
from ml.forecast.metrics import QUANTILES, score
from ml.forecast.pipeline import quantiles_of, run
from ml.forecast.quantiles import expected_share_above

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


def bench_forecast(
    data: Path | None, landing: Path | None, horizon: int, freq: str
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
    models = []
    for name in fc.backtest.means:
        mean = fc.means[name]
        qs = quantiles_of(fc, name, QUANTILES)
        hold = score(actual.ravel(), mean.ravel(), qs.reshape(-1, len(QUANTILES)), QUANTILES)
        alpha = np.broadcast_to(fc.backtest.alpha(name)[:, None], mean.shape)
        hold["expected_above"] = expected_share_above(mean, alpha, qs[..., -1], actual)
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
                "per_class": per_class,
                "fit_s": fc.fit_seconds.get(name, float("nan")),
            }
        )
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
        "seconds": time.perf_counter() - started,
        "loadavg": os.getloadavg(),
    }


def _row(cells: list[str], widths: list[int]) -> str:
    return "  ".join(
        c.ljust(w) if i == 0 else c.rjust(w)
        for i, (c, w) in enumerate(zip(cells, widths, strict=True))
    )


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
    header += [">p90", "exp>p90", "<p10", "fit s"]
    widths = [24, 8, 8, 7, 11, 7, 7, 7, 6, 7, 6, 7]
    lines.append(_row(header, widths))
    for m in result["models"]:
        bt, h = m["backtest"], m["holdout"]
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
                    f"{m['fit_s']:.1f}",
                ],
                widths,
            )
        )
    lines += ["", "holdout per demand class: choice vs. best statsforecast model (by holdout RMSE)"]
    by_name = {m["model"]: m for m in result["models"]}
    chosen = by_name[result["choice"]]
    for cls, s in chosen["per_class"].items():
        sf = [by_name[n]["per_class"][cls] | {"model": n} for n in NAMES]
        best = min(sf, key=lambda x: x["rmse"])
        best_wql = min(x["wql"] for x in sf)
        lines.append(
            f"  {cls:12s} {s['series']:5d} series: RMSE {s['rmse']:.4f} vs {best['rmse']:.4f} "
            f"({best['model']}), wQL {s['wql']:.4f} vs best {best_wql:.4f}"
        )
    h = chosen["holdout"]
    best_sf_wql = min(by_name[n]["holdout"]["wql"] for n in NAMES)
    lines += [
        "",
        f"choice on holdout: RMSE {h['rmse']:.4f}, bias {h['bias']:+.4f}, wQL {h['wql']:.4f} "
        f"(best statsforecast {best_sf_wql:.4f}), above p90 {h['above_top']:.1%} "
        f"(a calibrated model: {h['expected_above']:.1%})",
        f"total {result['seconds']:.0f} s, load average {result['loadavg'][0]:.2f} "
        f"(2 cores shared; timings are noisy)",
        "'bt' = rolling-origin backtest before the holdout; fit s = fit + forecast on the training "
        "history (ensembles: sum of their parts); exp>p90 = share above the integer p90 the "
        "model itself expects (bt: observed/expected).",
    ]
    return "\n".join(lines)
