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


def bench_speed(landing: Path | None) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="partsflow-speed-") as tmp:
        if landing is None:
            landing = Path(tmp) / "landing"
            generate_landing(landing, PRESETS["demo"])
        panel = to_panel(landing_history(landing), "D", str(landing))
    load_before = os.getloadavg()
    started = time.perf_counter()
    model, fc = train(panel, HORIZON, ORIGINS, DAILY_NAMES, PIPELINE_TRAINING_ROWS)
    trained = time.perf_counter()
    demo_rows = len(score(model, panel))
    scored = time.perf_counter()
    big = m_scale_panel(panel)
    load_m = os.getloadavg()
    m_started = time.perf_counter()
    m_rows = len(score(model, big))
    m_seconds = time.perf_counter() - m_started
    return {
        "source": str(landing),
        "demo_series": len(panel.ids),
        "demo_days": len(panel.periods),
        "choice": fc.choice,
        "train_s": trained - started,
        "score_s": scored - trained,
        "demo_rows": demo_rows,
        "fit_seconds": fc.fit_seconds,
        "loadavg_demo": load_before,
        "m_series": len(big.ids),
        "m_days": len(big.periods),
        "m_rows": m_rows,
        "m_score_s": m_seconds,
        "loadavg_m": load_m,
        "loadavg_end": os.getloadavg(),
    }


def _verdict(seconds: float, budget: float) -> str:
    return f"{seconds:.1f} s (budget {budget:.0f} s: {'met' if seconds <= budget else 'NOT met'})"


def format_speed(r: dict[str, Any]) -> str:
    total = r["train_s"] + r["score_s"]
    parts = ", ".join(f"{k} {v:.1f}" for k, v in r["fit_seconds"].items())
    return "\n".join(
        [
            f"forecast speed: {r['source']}",
            f"demo scale: {r['demo_series']} series x {r['demo_days']} days; choice {r['choice']}",
            f"  train + backtest + score: {_verdict(total, TRAIN_BUDGET_S)} = train "
            f"{r['train_s']:.1f} s + score {r['score_s']:.1f} s ({r['demo_rows']} rows); "
            f"load average {r['loadavg_demo'][0]:.2f}",
            f"  final refit seconds per candidate: {parts}",
            f"m scale: {r['m_series']} series x {r['m_days']} days (demo series, see "
            "orchestration/bench_forecast_speed.py)",
            f"  scoring 28 days: {_verdict(r['m_score_s'], SCORE_BUDGET_S)} ({r['m_rows']} rows); "
            f"load average {r['loadavg_m'][0]:.2f} before, {r['loadavg_end'][0]:.2f} after",
            "2 cores shared with other jobs: timings are noisy; compare with the load average.",
        ]
    )
