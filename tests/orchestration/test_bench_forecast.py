"""`partsflow bench forecast` end to end on tiny data (a monthly file and a generated landing), the
original design's grid search as reference, and the m-scale panel of the speed benchmark."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from ml.forecast.global_model import GlobalModel
from ml.forecast.metrics import QUANTILES
from orchestration.bench_forecast import landing_history
from orchestration.bench_forecast_speed import m_scale_panel
from orchestration.bench_reference.grid_search import bound_quantiles, combinations, fit_reference
from orchestration.cli import app
from tests.ml.forecast_helpers import small_history, small_panel

runner = CliRunner()


def test_bench_on_a_history_file(tmp_path):
    data = tmp_path / "history.csv"
    small_history(series=6, months=24).to_csv(data, index=False)
    result = runner.invoke(
        app, ["bench", "forecast", "--data", str(data), "--horizon", "2", "--freq", "M"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 series, 24 periods (M), last 2 held out" in out
    for name in ("ADIDA", "IMAPA", "TSB", "CrostonOptimized", "SeasonalNaive", "AutoETS"):
        assert f"\n{name}" in out
    assert "GlobalHGB" in out and "choice on holdout: RMSE" in out and "load average" in out
    assert "shift" in out and "int wQL" in out


def test_landing_history_sums_daily_issues(tmp_path):
    landing = tmp_path / "landing"
    result = runner.invoke(
        app, ["generate", "--out", str(landing), "--parts", "5", "--locations", "2", "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    history = landing_history(Path(landing))
    assert list(history.columns) == ["series_id", "date", "quantity"]
    assert not history.duplicated(["series_id", "date"]).any()
    # Every pair starts on the first day (zero if nothing was issued), so days without rows are 0.
    first = history["date"].min()
    assert (history.groupby("series_id")["date"].min() == first).all()
    assert (history["quantity"] >= 0).all() and history["quantity"].sum() > 0


def test_reference_bounds_are_ten_percent_around_the_point_forecast():
    qs = bound_quantiles(np.array([[10.0, 0.0]]), QUANTILES)
    assert qs.shape == (1, 2, 9)
    np.testing.assert_allclose(qs[0, 0, [0, 4, 8]], [9.0, 10.0, 11.0])
    assert (qs[0, 1] == 0).all()
    assert combinations() == 72


def test_reference_searches_a_time_ordered_sample_and_refits_on_all_rows():
    panel = small_panel()
    x, y, _ = GlobalModel(3).training_set(panel)
    grid = {"n_estimators": [5, 10], "max_depth": [2]}
    ref = fit_reference(x, y, sample_rows=60, grid=grid)
    assert (ref.rows, ref.sample_rows) == (len(x), 60)
    assert ref.best_params.keys() == grid.keys()
    assert ref.model.n_estimators == ref.best_params["n_estimators"]
    assert ref.model.n_features_in_ == x.shape[1]  # refitted on all rows and features
    growth = ref.refit_seconds / ref.sample_refit_seconds
    assert ref.extrapolated_seconds == pytest.approx(ref.grid_seconds * growth + ref.refit_seconds)
    assert (ref.predict(x) >= 0).all()


def test_m_scale_panel_is_made_of_demo_series():
    demo = small_panel()
    big = m_scale_panel(demo, series=50, days=40)
    assert big.values.shape == (50, 40) and len(set(big.ids)) == 50
    assert big.periods[-1] == demo.periods[-1] and (big.start == 0).all()
    # Every row is a circular stretch of some demo series.
    doubled = np.concatenate([np.nan_to_num(demo.values)] * 3, axis=1)
    for row in big.values[:5]:
        assert any(
            np.array_equal(row, d[k : k + 40]) for d in doubled for k in range(demo.values.shape[1])
        )
