"""A small, seeded monthly demand history in the long format the forecaster reads."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.forecast.history import Panel, check_history, to_panel


def small_history(series: int = 10, months: int = 30, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    dates = pd.date_range("2020-01-01", periods=months, freq="MS")
    for i in range(series):
        rate = 0.3 + 1.5 * i
        occurs = rng.random(months) < (0.35 if i % 2 else 0.9)
        qty = np.where(occurs, rng.poisson(rate, months) + 1, 0)
        pairs = zip(dates, qty, strict=True)
        rows += [{"series_id": f"S{i:02d}", "date": d, "quantity": q} for d, q in pairs]
    return pd.DataFrame(rows)


def small_panel() -> Panel:
    return to_panel(check_history(small_history(), "test"), "M")
