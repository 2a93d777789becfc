"""Nothing after a forecast origin reaches the models fitted at that origin."""

from __future__ import annotations

import numpy as np

from ml.forecast.backtest import run_backtest
from ml.forecast.global_model import GlobalModel, to_bins
from ml.forecast.history import Panel
from tests.ml.forecast_helpers import small_panel

HORIZON = 3


def perturbed_after(panel: Panel, cut: int) -> Panel:
    values = panel.values.copy()
    values[:, cut:] = values[:, cut:] * 7 + 5
    return Panel(panel.ids, panel.periods, values, panel.start, panel.freq)


def test_global_model_ignores_the_holdout():
    panel = small_panel()
    cut = len(panel.periods) - HORIZON
    other = perturbed_after(panel, cut)
    a = GlobalModel(HORIZON).fit(panel.head(cut))
    b = GlobalModel(HORIZON).fit(other.head(cut))
    x, _, _ = a.training_set(panel.head(cut))
    assert a.thresholds.keys() == b.thresholds.keys()
    assert all(np.array_equal(a.thresholds[f], b.thresholds[f]) for f in a.thresholds)
    bins = to_bins(x, a.thresholds)
    assert np.array_equal(a.model.predict(bins), b.model.predict(bins))
    assert np.array_equal(a.predict(panel.head(cut)), b.predict(other.head(cut)))


def test_backtest_forecasts_ignore_what_follows_each_origin():
    panel = small_panel()
    last_cut = len(panel.periods) - HORIZON
    bt = run_backtest(panel, HORIZON, n_origins=3)
    assert len(bt.cuts) == 3 and bt.cuts[-1] == last_cut
    # Changing the last window changes only the actuals, never a forecast at any origin.
    other = run_backtest(perturbed_after(panel, last_cut), HORIZON, n_origins=3)
    for name, mean in bt.means.items():
        assert np.array_equal(mean, other.means[name]), name
    assert not np.array_equal(bt.actual, other.actual)
