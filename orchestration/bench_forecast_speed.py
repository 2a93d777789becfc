"""`partsflow bench forecast --speed`: the forecasting pipeline against its time budget.

1. Demo scale: train (backtest, choice, refit) + score exactly as the `ml/ml_model_registry` and
   `ml/fct_forecasts` assets call them (ml.forecast.model.train/score: 28 days, 3 origins, the
   daily candidates, the pipeline's training rows), on the daily issues of a generated demo
   landing (the warehouse reads and writes around them are not timed). Budget: 2 minutes.
2. Scoring alone at the `m` scale: 40,000 series x 3 years of daily history, scored for 28 days
   (day, week and month rows) by the demo-trained model. The series are demo series, each read
   from a random day on and repeated circularly to 1,095 days, so the work (statsforecast refits,
   features, boosting, quantiles) is that of real demand at the m size. Budget: 60 s.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ml.forecast.candidates import DAILY_NAMES
from ml.forecast.history import Panel, to_panel
from ml.forecast.model import score, train
from orchestration.bench_forecast import landing_history
from orchestration.generator import PRESETS, generate_landing
from orchestration.resources import PIPELINE_TRAINING_ROWS

HORIZON, ORIGINS = 28, 3
M_SERIES, M_DAYS = 40_000, 1_095
TRAIN_BUDGET_S, SCORE_BUDGET_S = 120.0, 60.0


def m_scale_panel(demo: Panel, series: int = M_SERIES, days: int = M_DAYS, seed: int = 0) -> Panel:
    """`series` daily series of `days` days made of the demo series (see the module docstring)."""
    rng = np.random.default_rng(seed)
    source = rng.integers(0, len(demo.ids), series)
    offset = rng.integers(0, demo.values.shape[1], series)
    cols = (offset[:, None] + np.arange(days)[None, :]) % demo.values.shape[1]
    values = np.nan_to_num(demo.values)[source[:, None], cols]
    periods = pd.period_range(end=demo.periods[-1], periods=days, freq=demo.periods.freq)
    ids = np.array([f"m{i:05d}" for i in range(series)])
    return Panel(ids, periods, values, np.zeros(series, dtype=int), demo.freq)


class _Clock:
    """Wall and CPU seconds since the last lap. The work is single-threaded, so CPU seconds are
    what an idle machine would take; wall seconds include waiting for the shared cores."""

    def __init__(self) -> None:
        self.wall, self.cpu = time.perf_counter(), time.process_time()

    def lap(self) -> tuple[float, float]:
        wall, cpu = time.perf_counter(), time.process_time()
        out = (wall - self.wall, cpu - self.cpu)
        self.wall, self.cpu = wall, cpu
        return out


def bench_speed(landing: Path | None) -> dict[str, Any]:
    source = str(landing)
    with tempfile.TemporaryDirectory(prefix="partsflow-speed-") as tmp:
        if landing is None:
            landing = Path(tmp) / "landing"
            generate_landing(landing, PRESETS["demo"])
            source = "generated demo landing (--scale demo, default seed)"
        panel = to_panel(landing_history(landing), "D", source)
    load_before = os.getloadavg()
    clock = _Clock()
    model, fc = train(panel, HORIZON, ORIGINS, DAILY_NAMES, PIPELINE_TRAINING_ROWS)
    train_s = clock.lap()
    demo_rows = len(score(model, panel))
    score_s = clock.lap()
    big = m_scale_panel(panel)
    load_m = os.getloadavg()
    clock.lap()
    m_rows = len(score(model, big))
    m_score_s = clock.lap()
    return {
        "source": source,
        "demo_series": len(panel.ids),
        "demo_days": len(panel.periods),
        "choice": fc.choice,
        "train_s": train_s,
        "score_s": score_s,
        "demo_rows": demo_rows,
        "fit_seconds": fc.fit_seconds,
        "loadavg_demo": load_before,
        "m_series": len(big.ids),
        "m_days": len(big.periods),
        "m_rows": m_rows,
        "m_score_s": m_score_s,
        "loadavg_m": load_m,
        "loadavg_end": os.getloadavg(),
    }


def _verdict(seconds: tuple[float, float], budget: float) -> str:
    wall, cpu = seconds
    met = {True: "met", False: "NOT met"}
    return (
        f"{wall:.1f} s wall ({met[wall <= budget]}), {cpu:.1f} s CPU ({met[cpu <= budget]}); "
        f"budget {budget:.0f} s"
    )


def format_speed(r: dict[str, Any]) -> str:
    total = (r["train_s"][0] + r["score_s"][0], r["train_s"][1] + r["score_s"][1])
    parts = ", ".join(f"{k} {v:.1f}" for k, v in r["fit_seconds"].items())
    return "\n".join(
        [
            f"forecast speed: {r['source']}",
            f"demo scale: {r['demo_series']} series x {r['demo_days']} days; choice {r['choice']}; "
            f"load average {r['loadavg_demo'][0]:.2f}",
            f"  train + backtest + score: {_verdict(total, TRAIN_BUDGET_S)}",
            f"  = train {r['train_s'][0]:.1f} s wall / {r['train_s'][1]:.1f} s CPU + score "
            f"{r['score_s'][0]:.1f} / {r['score_s'][1]:.1f} ({r['demo_rows']} rows); final refit "
            f"wall seconds: {parts}",
            f"m scale: {r['m_series']} series x {r['m_days']} days (demo series, see "
            f"orchestration/bench_forecast_speed.py); load average {r['loadavg_m'][0]:.2f} before, "
            f"{r['loadavg_end'][0]:.2f} after",
            f"  scoring 28 days ({r['m_rows']} rows): {_verdict(r['m_score_s'], SCORE_BUDGET_S)}",
            "2 cores shared with other jobs: wall time waits for them; the work runs on one core, "
            "so its CPU time is what an idle machine would take.",
        ]
    )
