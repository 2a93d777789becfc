"""ml.discrete's quantiles against scipy's, element for element, on wide parameter grids."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from ml import discrete

LEVELS = np.array([0.5, 0.8, 0.9, 0.95, 0.98, 0.99, 0.995])


def _levels(rng: np.random.Generator, n: int) -> np.ndarray:
    """Service levels as used, uniform ones, and levels within 1e-15..1e-1 of 0 and of 1."""
    near = np.exp(rng.uniform(np.log(1e-15), np.log(0.1), n))
    return np.concatenate(
        [rng.choice(LEVELS, n), rng.uniform(0, 1, n), near, 1.0 - near, 1.0 - near / 1e3]
    )


def _same(got: np.ndarray, want: np.ndarray) -> None:
    assert got.shape == want.shape
    # Same numbers (NaN where scipy gives NaN), and no -0.0 for 0.0.
    np.testing.assert_array_equal(got, want, strict=True)
    assert np.array_equal(np.signbit(got), np.signbit(want))


@pytest.mark.parametrize("seed", [0, 1])
def test_nbinom_ppf_equals_scipy_on_a_wide_grid(seed):
    rng = np.random.default_rng(seed)
    n = 40_000
    # Means from 1e-9 to 2e4 and var/mean - 1 from 1e-9 (Poisson-like) to 1e3 (heavy tails).
    mean = np.exp(rng.uniform(np.log(1e-9), np.log(2e4), n))
    over = np.exp(rng.uniform(np.log(1e-9), np.log(1e3), n))
    q = _levels(rng, n // 5)[:n]
    size, p = mean / over, 1.0 / (1.0 + over)
    _same(discrete.nbinom_ppf(q, size, p), stats.nbinom.ppf(q, size, p))


@pytest.mark.parametrize("seed", [0, 1])
def test_poisson_ppf_equals_scipy_on_a_wide_grid(seed):
    rng = np.random.default_rng(seed)
    n = 40_000
    mu = np.exp(rng.uniform(np.log(1e-12), np.log(2e5), n))
    q = _levels(rng, n // 5)[:n]
    _same(discrete.poisson_ppf(q, mu), stats.poisson.ppf(q, mu))


def test_ties_edges_and_bad_input_equal_scipy():
    # q exactly at a cdf value (geometric: P(0) = p; Poisson at scipy's own cdf values), q = 0
    # and 1, mean 0 (p = 1, mu = 0), invalid parameters and NaN.
    k = np.tile(np.arange(0.0, 60.0), 4)
    means = np.repeat([0.5, 3.0, 40.0, 400.0], 60)
    size, p = 2.0 * means, np.full(means.size, 2.0 / 3.0)  # var = 1.5 * mean
    poisson_q, nb_q = stats.poisson.cdf(k, means), stats.nbinom.cdf(k, size, p)
    for step in (0, -1, 1):  # at the cdf value, one ulp below and one above
        qp = poisson_q if step == 0 else np.nextafter(poisson_q, step)
        qn = nb_q if step == 0 else np.nextafter(nb_q, step)
        on, ok = (qp > 0) & (qp < 1), (qn > 0) & (qn < 1)
        _same(discrete.poisson_ppf(qp[on], means[on]), stats.poisson.ppf(qp[on], means[on]))
        _same(
            discrete.nbinom_ppf(qn[ok], size[ok], p[ok]), stats.nbinom.ppf(qn[ok], size[ok], p[ok])
        )
    # The geometric distribution's P(0) = p: q = p is a tie at k = 0.
    geo = np.array([0.9, 0.5, 0.25, 0.1])
    _same(discrete.nbinom_ppf(geo, 1.0, geo), stats.nbinom.ppf(geo, 1.0, geo))
    edges_q = np.array([0.0, 1.0, 0.9, 0.9, 0.9, 0.9, 0.9, np.nan, 0.9, 0.9, -0.1, 1.1, 0.5])
    size = np.array([2.0, 2.0, 1.0, 0.0, -1.0, np.nan, 3.0, 3.0, 3.0, 1e-300, 3.0, 3.0, 1e9])
    p = np.array([0.5, 0.5, 0.9, 0.5, 0.5, 0.5, 1.0, 0.5, 0.0, 1e-300, 0.5, 0.5, 1 - 1e-9])
    _same(discrete.nbinom_ppf(edges_q, size, p), stats.nbinom.ppf(edges_q, size, p))
    mu = np.array([1.0, 1.0, 0.0, -0.0, -1.0, np.nan, 1.0, 1e-300, 1e9, 1e7, 1.0, 1.0, 1e-12])
    _same(discrete.poisson_ppf(edges_q, mu), stats.poisson.ppf(edges_q, mu))


def test_over_dispersion_near_one_and_realistic_reorder_points():
    # var/mean just above 1 (r huge, p near 1) and the policy's own mean/variance pairs.
    rng = np.random.default_rng(3)
    mean = np.exp(rng.uniform(np.log(1e-3), np.log(3e3), 30_000))
    var = mean * (1.0 + np.exp(rng.uniform(np.log(1e-9), np.log(1e-5), mean.size)))
    var[::2] = mean[::2] * (1 + np.exp(rng.uniform(np.log(0.01), np.log(30), mean.size // 2)))
    q = rng.choice([0.9, 0.95, 0.98], mean.size)
    size, p = mean**2 / (var - mean), mean / var
    _same(discrete.nbinom_ppf(q, size, p), stats.nbinom.ppf(q, size, p))


def test_broadcasting_and_scalars():
    got = discrete.nbinom_ppf(LEVELS[:, None], np.array([0.5, 2.0, 40.0]), 0.3)
    _same(got, stats.nbinom.ppf(LEVELS[:, None], np.array([0.5, 2.0, 40.0]), 0.3))
    assert discrete.poisson_ppf(0.95, 4.0) == 8.0
    assert discrete.nbinom_ppf(np.array([]), 1.0, 0.5).shape == (0,)
