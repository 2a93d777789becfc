"""The moving-average baseline on small hand-made histories."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd

from ml.baseline import MODEL_VERSION, moving_average_forecast


def history(rows: dict[tuple[str, str], list[int]], end: date) -> pd.DataFrame:
    out = []
    for (part, loc), qty in rows.items():
        for i, q in enumerate(qty):
            day = end - timedelta(days=len(qty) - 1 - i)
            out.append({"part_id": part, "location_id": loc, "demand_date": day, "issued_qty": q})
    return pd.DataFrame(out)


def test_mean_of_last_window_over_full_window_length():
    end = date(2025, 6, 30)
    hist = history({("P1", "L1"): [100] * 10 + [2] * 28, ("P2", "L1"): [7, 7]}, end)
    fc = moving_average_forecast(hist, horizon=5, window=28)
    assert len(fc) == 10
    p1 = fc[fc["part_id"] == "P1"]
    assert p1["mean"].tolist() == [2.0] * 5
    # A series with two days of history is not inflated: 14 units over a 28-day window.
    assert fc.loc[fc["part_id"] == "P2", "mean"].iloc[0] == 14 / 28
    assert p1["forecast_date"].tolist() == [end + timedelta(days=d) for d in range(1, 6)]
    assert set(fc["model_version"]) == {MODEL_VERSION}
    assert set(fc["forecast_origin"]) == {end}


def test_empty_history_gives_empty_forecast():
    empty = pd.DataFrame(columns=["part_id", "location_id", "demand_date", "issued_qty"])
    assert moving_average_forecast(empty).empty
