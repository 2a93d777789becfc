"""Permutation importance of the global model on the held-out window of the backtest's last
origin: bounded, every feature once, shares summing to one, the level features on top."""

from __future__ import annotations

import numpy as np

from ml.forecast.backtest import run_backtest
from ml.forecast.importance import holdout_importance
from tests.ml.forecast_helpers import small_panel


def test_importance_of_the_last_backtest_model_on_its_holdout():
    panel = small_panel()
    bt = run_backtest(panel, horizon=3, n_origins=2, names=("ADIDA",))
    model = bt.last_global
    assert model is not None
    # The model of the last origin never saw the periods after that origin.
    rows, _, _ = model.origin_rows(panel, bt.cuts[-1])
    assert set(rows.index) == {bt.cuts[-1]}
    frame = holdout_importance(model, panel, bt.cuts[-1], sample_rows=20, repeats=2)
    assert sorted(frame["feature"]) == sorted(model.features)
    assert frame.attrs["rows"] == 20
    assert np.isclose(frame["share"].sum(), 1.0)
    assert (frame["share"] >= 0).all()
    assert frame["importance"].is_monotonic_decreasing
