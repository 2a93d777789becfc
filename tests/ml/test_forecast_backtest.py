"""Backtest scoring when series start late or are too short for some models."""

from __future__ import annotations

import numpy as np
import pytest

from ml.forecast.backtest import PER_CLASS, choose, run_backtest
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.pipeline import candidate_means
from tests.ml.forecast_helpers import small_panel


def test_late_and_short_series_are_scored_only_where_forecast():
    base = small_panel()
    start = base.start.copy()
    values = base.values.copy()
    n_periods = len(base.periods)
    start[0], start[1] = n_periods - 5, n_periods - 2  # begin inside the backtest windows
    values[0, : start[0]] = np.nan
    values[1, : start[1]] = np.nan
    panel = Panel(base.ids, base.periods, values, start, base.freq)
    bt = run_backtest(panel, horizon=3, n_origins=3)
    scored = ~np.isnan(bt.actual)
    assert not scored[1].any()  # started after the last origin: never forecast, never scored
    assert scored[0].any()  # forecast from 2 periods of history (SeasonalNaive has no season yet)
    for name, mean in bt.means.items():
        assert np.isfinite(mean[scored]).all(), name
    choice, scores = choose(bt, QUANTILES)
    assert all(np.isfinite([s["rmse"], s["bias"], s["wql"]]).all() for s in scores.values())
    assert choice in scores
    per_series = bt.series_scores(choice, QUANTILES)
    assert per_series[1] is None and len(per_series) == len(panel.ids)
    rows = scored[2]
    expected = np.sqrt(np.mean((bt.means[choice][2][rows] - bt.actual[2][rows]) ** 2))
    assert per_series[2]["rmse"] == pytest.approx(expected)


def test_per_class_choice_refits_ensemble_picks():
    """A per-class pick may be an ensemble: refitting the per-class choice builds it too."""
    panel = small_panel()
    classes = np.array(["smooth"] * len(panel.ids), dtype=object)
    per_class = {"smooth": "Global+IMAPA"}
    means, _, _ = candidate_means(panel, 3, per_class, classes, [PER_CLASS])
    np.testing.assert_allclose(means[PER_CLASS], means["Global+IMAPA"])


def test_per_class_choice_fits_each_pick_only_on_its_class():
    """Local models forecast only the series of the classes that pick them, and the same as
    fitted on every series; the other series get the global model."""
    panel = small_panel()
    classes = np.array(["smooth", "lumpy"] * (len(panel.ids) // 2), dtype=object)
    means, _, _ = candidate_means(panel, 3, {"smooth": "IMAPA"}, classes, [PER_CLASS])
    smooth = classes == "smooth"
    assert np.isnan(means["IMAPA"][~smooth]).all()
    everywhere, _, _ = candidate_means(panel, 3, {}, classes, ["IMAPA", "GlobalHGB"])
    np.testing.assert_allclose(means["IMAPA"][smooth], everywhere["IMAPA"][smooth])
    np.testing.assert_allclose(means[PER_CLASS][smooth], everywhere["IMAPA"][smooth])
    np.testing.assert_allclose(means[PER_CLASS][~smooth], everywhere["GlobalHGB"][~smooth])
