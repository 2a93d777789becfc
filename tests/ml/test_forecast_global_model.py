"""The global model's own feature binning (weighted quantile edges, one sort per feature), and
the regressor that skips scikit-learn's binning of it."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

import ml.forecast.global_model as gm
from ml.forecast.global_model import MAX_BINS, PARAMS, PrebinnedHGB, bin_thresholds, to_bins
from ml.forecast.history import Panel


def test_few_values_are_split_at_midpoints_and_nan_stays_nan():
    column = np.array([3.0, 1.0, np.nan, 2.0, 1.0])
    edges = bin_thresholds(column, np.ones(5))
    np.testing.assert_array_equal(edges, [1.5, 2.5])
    bins = to_bins(pd.DataFrame({"f": column}), {"f": edges})[:, 0]
    np.testing.assert_array_equal(bins[[0, 1, 3, 4]], [2, 0, 1, 0])
    assert np.isnan(bins[2])


def test_many_values_get_weighted_quantile_edges():
    column = np.arange(10_000, dtype=float)
    # All the weight on the upper half: every edge falls there (weighted, not plain, quantiles).
    weight = np.where(column >= 5_000, 1.0, 0.0)
    edges = bin_thresholds(column, weight)
    assert len(edges) == MAX_BINS - 1
    assert edges.min() >= 5_000 and edges.max() < 10_000
    assert np.all(np.diff(edges) > 0)
    bins = to_bins(pd.DataFrame({"f": column}), {"f": edges})[:, 0]
    assert bins.max() <= MAX_BINS - 1 and (bins[:5_000] == 0).all()


def binned_rows(seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """to_bins output of mixed features (some bins unused, missing values, a constant column)
    with a Poisson-like target and positive weights."""
    rng = np.random.default_rng(seed)
    n = 4_000
    frame = pd.DataFrame(
        {
            "wide": rng.gamma(1.0, 3.0, n),
            "gappy": rng.choice([0.0, 1.0, 5.0, 9.0], n),
            "holes": np.where(rng.random(n) < 0.2, np.nan, rng.normal(0, 1, n)),
            "constant": np.full(n, 2.0),
        }
    )
    weight = rng.gamma(2.0, 1.0, n)
    edges = {name: bin_thresholds(frame[name].to_numpy(), weight) for name in frame}
    edges["gappy"] = np.array([0.5, 2.0, 3.0, 4.0, 7.0])  # bins 2 and 3 never used
    x = to_bins(frame, edges)
    y = rng.poisson(np.exp(0.3 * np.nan_to_num(x[:, 0]) / 50 + 0.1 * x[:, 1])).astype(float)
    return x, y, weight


@pytest.mark.parametrize("seed", [0, 1])
def test_prebinned_regressor_fits_the_same_trees(seed):
    x, y, weight = binned_rows(seed)
    params = {**PARAMS, "max_iter": 30, "min_samples_leaf": 20}
    with threadpool_limits(limits=1):  # as GlobalModel fits: a shared machine's threads stall
        compare_fits(x, y, weight, params)


def compare_fits(x: np.ndarray, y: np.ndarray, weight: np.ndarray, params: dict) -> None:
    plain = HistGradientBoostingRegressor(**params).fit(x, y, sample_weight=weight)
    fast = PrebinnedHGB(**params).fit(x, y, sample_weight=weight)
    edges = zip(plain._bin_mapper.bin_thresholds_, fast._bin_mapper.bin_thresholds_, strict=True)
    for a, b in edges:
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(
        plain._bin_mapper.n_bins_non_missing_, fast._bin_mapper.n_bins_non_missing_
    )
    np.testing.assert_array_equal(plain.predict(x), fast.predict(x))
    # Not bin numbers: scikit-learn bins it itself, with the same result as the plain one.
    raw = x + 0.5
    np.testing.assert_array_equal(
        HistGradientBoostingRegressor(**params).fit(raw, y, sample_weight=weight).predict(raw),
        PrebinnedHGB(**params).fit(raw, y, sample_weight=weight).predict(raw),
    )


@pytest.mark.parametrize("seed", [0, 1])
def test_prediction_on_the_bins_is_the_prediction_on_the_floats(seed):
    """predict_binned (scoring) equals predict bit for bit, also on rows unlike training's: bins
    it never saw, a value above every edge, NaN in a column that had none."""
    x, y, weight = binned_rows(seed)
    params = {**PARAMS, "max_iter": 30, "min_samples_leaf": 20}
    new, _, _ = binned_rows(seed + 10)
    new[:50, 0] = np.nan
    new[50:100, 1] = 2.0  # a bin without training rows
    new[100:150, 0] = MAX_BINS - 1
    with threadpool_limits(limits=1), pytest.MonkeyPatch.context() as patch:
        # The pinned scikit-learn (constraints.txt) takes the fast path, not the fallback.
        patch.setattr(gm, "_warn_fallback", lambda reason: pytest.fail(reason))
        model = PrebinnedHGB(**params).fit(x, y, sample_weight=weight)
        for rows in (x, new):
            np.testing.assert_array_equal(model.predict_binned(rows), model.predict(rows))


@pytest.mark.parametrize("change", ["missing", "signature", "meaning"])
def test_prediction_on_the_bins_falls_back_when_sklearns_internals_differ(change, monkeypatch):
    """On a scikit-learn whose tree internals differ, predict_binned is predict(): it warns once
    instead of failing or forecasting other numbers."""
    from sklearn.ensemble._hist_gradient_boosting.predictor import TreePredictor

    x, y, weight = binned_rows(0)
    params = {**PARAMS, "max_iter": 30, "min_samples_leaf": 20}
    with threadpool_limits(limits=1):
        model = PrebinnedHGB(**params).fit(x, y, sample_weight=weight)
        want = model.predict(x)
        if change == "missing":
            monkeypatch.delattr(TreePredictor, "predict_binned")
        elif change == "signature":
            monkeypatch.setattr(TreePredictor, "predict_binned", lambda self, x, bin_idx: x[:, 0])
        else:  # the same call, other numbers (here the missing bin moved to 0)
            walk = TreePredictor.predict_binned
            monkeypatch.setattr(
                TreePredictor, "predict_binned", lambda self, x, _, n: walk(self, x, 0, n)
            )
        monkeypatch.setattr(gm, "_fallback_warned", False)
        with pytest.warns(RuntimeWarning, match="internals differ") as caught:
            first, second = model.predict_binned(x), model.predict_binned(x[::-1])
    assert len(caught) == 1
    np.testing.assert_array_equal(first, want)
    np.testing.assert_array_equal(second, want[::-1])


@pytest.mark.parametrize(("freq", "power"), [("D", 0.25), ("M", 1.0)])
def test_rows_weigh_the_series_level_to_the_power_of_their_period(freq, power):
    rng = np.random.default_rng(0)
    n_periods = 120
    # A fast mover selling 100x the slow one's level: full weights would let it count 100x.
    values = np.stack([rng.poisson(lam, n_periods) for lam in (0.5, 50.0)]).astype(float)
    periods = pd.period_range("2024-01-01", periods=n_periods, freq=freq)
    panel = Panel(np.array(["slow", "fast"]), periods, values, np.zeros(2, int), freq)
    model = gm.GlobalModel(horizon=7)
    _, y, w = model.origin_rows(panel, n_periods - 7)
    scale = values[:, : n_periods - 7].mean(axis=1)
    expected = np.repeat(scale**power, 7)
    np.testing.assert_allclose(w, expected, rtol=1e-9)
    np.testing.assert_allclose(y * np.repeat(scale, 7), values[:, n_periods - 7 :].ravel())
