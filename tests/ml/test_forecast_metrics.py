"""Metrics, demand classes and count quantiles against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.forecast import metrics
from ml.forecast.classes import classify
from ml.forecast.quantiles import (
    fit_shift,
    moment_alpha,
    nb_parts,
    nb_quantiles,
    series_dispersion,
)

ACTUAL = np.array([0.0, 2.0, 4.0, np.nan])
MEAN = np.array([1.0, 1.0, 1.0, 9.0])


def test_rmse_and_bias_ignore_missing_actuals():
    # errors 1, -1, -3 -> squares 1, 1, 9
    assert metrics.rmse(ACTUAL, MEAN) == pytest.approx(math.sqrt(11 / 3))
    assert metrics.bias(ACTUAL, MEAN) == pytest.approx(-1.0)


def test_weighted_quantile_loss_by_hand():
    actual = np.array([0.0, 2.0, 4.0])
    qs = np.array([[0.0, 1.0], [1.0, 2.0], [1.0, 3.0]])
    # q=0.1: pinball 0, 0.1*1, 0.1*3 = 0.4 ; q=0.9: 0.1*1, 0, 0.9*1 = 1.0 ; sum |y| = 6
    expected = (2 * 0.4 / 6 + 2 * 1.0 / 6) / 2
    assert metrics.weighted_quantile_loss(actual, qs, (0.1, 0.9)) == pytest.approx(expected)


def test_tail_shares():
    actual = np.array([0.0, 2.0, 5.0, 1.0, np.nan])
    assert metrics.share_above(actual, np.array([1, 1, 4, 1, 0])) == pytest.approx(0.5)
    assert metrics.share_below(actual, np.array([1, 0, 0, 0, 0])) == pytest.approx(0.25)


def test_classes_follow_adi_and_cv2():
    values = np.array(
        [
            [5, 5, 6, 5, 5, 6],  # demand every period, steady sizes
            [1, 9, 1, 9, 1, 9],  # every period, sizes vary (CV² = 0.64)
            [0, 0, 3, 0, 0, 3],  # every third period, same size
            [0, 0, 1, 0, 0, 9],  # every third period, sizes vary
            [0, 0, 0, 0, 0, 0],  # no demand at all
        ],
        dtype=float,
    )
    assert list(classify(values)) == ["smooth", "erratic", "intermittent", "lumpy", "intermittent"]


def test_nb_quantiles_monotone_integer_nonnegative():
    mean = np.array([0.0, 0.05, 0.4, 3.0, 40.0])
    alpha = np.array([0.0, 2.0, 1.0, 0.3, 0.1])
    levels = metrics.QUANTILES
    qs = nb_quantiles(mean, alpha, levels)
    assert qs.shape == (5, 9)
    assert (qs >= 0).all() and (np.diff(qs, axis=1) >= 0).all()
    assert np.array_equal(qs, np.round(qs))
    assert (qs[0] == 0).all()
    # Near-zero dispersion is Poisson: the median of Poisson(3) is 3.
    assert nb_quantiles(np.array([3.0]), np.array([0.0]), (0.5,))[0, 0] == 3


def test_continuous_quantiles_of_poisson_one_by_hand():
    # Poisson(1): P(0) = P(1) = e^-1 = 0.3679, F(1) = 0.7358, P(2) = e^-1 / 2 = 0.1839.
    e = math.exp(-1)
    qs = nb_quantiles(np.array([1.0]), np.array([0.0]), (0.3, 0.5, 0.9), shift=0.5)[0]
    assert qs[0] == 0  # P(Y = 0) >= 0.3: zero demand stays exactly zero
    assert qs[1] == pytest.approx(1 - 0.5 + (0.5 - e) / e, rel=1e-6)  # inside P(Y = 1)
    assert qs[2] == pytest.approx(2 - 0.5 + (0.9 - 2 * e) / (e / 2), rel=1e-6)  # inside P(Y = 2)
    k, frac = nb_parts(np.array([1.0]), np.array([0.0]), (0.3, 0.5, 0.9))
    assert list(k[0]) == [0, 1, 2]
    # Without a shift they are the integer quantiles; shift 1 puts P(Y = k) on [k - 1, k).
    assert list(nb_quantiles(np.array([1.0]), np.array([0.0]), (0.3, 0.5, 0.9))[0]) == [0, 1, 2]
    assert nb_quantiles(np.array([1.0]), np.array([0.0]), (0.9,), 1.0)[0, 0] < 2


def test_pmf_walk_matches_scipy_for_slow_fast_and_huge_means():
    from scipy import stats

    mean = np.array([0.0, 0.01, 0.3, 2.5, 17.0, 95.0, 150.0, 2500.0])
    alpha = np.array([1.0, 3.0, 0.0, 0.7, 0.05, 0.0, 0.2, 0.0])
    k, _ = nb_parts(mean, alpha, metrics.QUANTILES)
    r = 1 / np.clip(alpha, 1e-6, None)
    p = r / (r + mean)
    expected = np.stack([stats.nbinom.ppf(q, r, p) for q in metrics.QUANTILES], axis=-1)
    expected[0] = 0
    np.testing.assert_array_equal(k, expected)


def test_shift_calibrates_the_share_above_the_top_quantile():
    # Four points, each with integer p90 k = 1 inside P(Y = 1) at frac 0.5: quantile 1.5 - shift.
    k, frac = np.ones(4), np.full(4, 0.5)
    # Actuals 1 exceed the quantile once it is below 1 (shift > 0.5): 1 of 4 is 25% > 10%.
    assert fit_shift(k, frac, np.array([0.0, 0.0, 0.0, 1.0]), 0.9) == pytest.approx(0.5, abs=1e-6)
    # Nothing above even at shift 1: the end of the range; always above: shift 0.
    assert fit_shift(k, frac, np.zeros(4), 0.9) == 1.0
    assert fit_shift(k, frac, np.full(4, 5.0), 0.9) == 0.0


def test_dispersion_by_moments_and_shrinkage():
    # errors² sum 1+1+9 = 11, means sum 3, means² sum 3 -> alpha = (11 - 3) / 3
    sq = np.array([1.0, 1.0, 9.0])
    assert float(moment_alpha(sq, np.ones(3))) == pytest.approx(8 / 3)
    # A series with no excess variance is pulled towards the pooled value, not equal to it.
    actual = np.array([[1.0, 1.0, 1.0], [0.0, 2.0, 6.0]])
    mean = np.ones((2, 3)) * np.array([[1.0], [2.0]])
    alpha = series_dispersion(actual, mean, prior_points=3.0)
    pooled = float(moment_alpha((actual - mean) ** 2, mean))
    assert alpha[0] == pytest.approx((3 * 0 + 3 * pooled) / 6)
    assert alpha[0] < alpha[1]
