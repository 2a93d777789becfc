"""The baselines computed here, without statsforecast's per-series loop, equal statsforecast's."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from ml.forecast.candidates import DIRECT, forecast_baselines, statsforecast_means
from ml.forecast.history import Panel
from tests.ml.forecast_helpers import small_panel

HORIZON = 10


def intermittent_panel(freq: str, seed: int) -> Panel:
    """Random intermittent series with the awkward cases written in: late starts, missing periods
    (filled with a fractional mean), no demand at all, nothing observed, histories shorter than a
    season, a single demand, demand only at the ends, and very long intervals."""
    rng = np.random.default_rng(seed)
    n, t = 60, 90
    rate = rng.gamma(0.6, 0.5, n)[:, None]
    values = np.where(rng.random((n, t)) < rate, rng.poisson(4.0, (n, t)) + 1.0, 0.0)
    values[rng.random((n, t)) < 0.05] = np.nan
    values[::7] *= 0.37  # fractional demand in some series
    start = rng.integers(0, 40, n)
    start[:13] = [t - 1, t - 2, t - 3, t - 5, t - 6, 0, 0, 0, 0, 0, 0, 50, 0]
    values[5] = 0.0  # no demand
    values[6] = np.nan  # nothing observed (filled with 0)
    values[7] = 0.0
    values[7, 40] = 3.0  # one demand
    values[8] = 0.0
    values[8, [0, t - 1]] = [2.0, 5.0]  # demand at the ends only
    values[9] = 0.0
    values[9, [3, 70]] = [1.0, 1.0]  # an interval longer than half the history
    values[10] = np.where(np.arange(t) % 9 == 4, 2.5, np.nan)  # mostly missing
    values[11, 50:60] = np.nan
    values[12] = 0.0
    values[12, [1, 4]] = 1.0  # mean interval 2.5: ADIDA and IMAPA round it to 2, half to even
    values[np.arange(t)[None, :] < start[:, None]] = np.nan
    periods = pd.period_range("2021-01-01", periods=t, freq=freq)
    return Panel(np.arange(n).astype(str), periods, values, start, freq)


@pytest.mark.parametrize(("freq", "seed"), [("D", 1), ("D", 2), ("M", 3)])
def test_direct_baselines_equal_statsforecast(freq, seed):
    panel = intermittent_panel(freq, seed)
    names = tuple(DIRECT)
    direct, seconds = forecast_baselines(panel, HORIZON, names)
    reference, _ = statsforecast_means(panel, HORIZON, names)
    assert direct.keys() == reference.keys() == seconds.keys()
    for name in names:
        assert direct[name].shape == (len(panel.ids), HORIZON)
        np.testing.assert_array_equal(direct[name], reference[name], err_msg=name)


def test_direct_baselines_equal_statsforecast_on_heads_of_a_panel():
    panel = small_panel()
    for cut in (1, 2, 7, len(panel.periods)):
        known = panel.head(cut)
        direct, _ = forecast_baselines(known, HORIZON, tuple(DIRECT))
        reference, _ = statsforecast_means(known, HORIZON, tuple(DIRECT))
        for name in DIRECT:
            np.testing.assert_array_equal(direct[name], reference[name], err_msg=f"{name} {cut}")
