"""Quantiles (ppf) of the negative binomial and Poisson distributions, equal to scipy's.

scipy's ppf searches for a root with an incomplete beta (NB) or gamma (Poisson) function per step
and element: most of the policy simulation's CPU. Here the quantile is found by walking the pmf
upwards, P(k+1) = P(k)·(c·k+a)/(k+1)·b (NB: c = 1, a = r, b = 1-p; Poisson: c = 0, a = mu,
b = 1), all elements at once, until the summed cdf reaches q. Small means start at k = 0 with
P(0) = p^r (e^-mu) and no scipy call; larger ones start a little below a normal approximation of
the quantile, from scipy's cdf and pmf there (one evaluation each, several times cheaper than
its ppf).

The sum differs from scipy's cdf in the last bits, so an element whose sum lands within TOLERANCE
of q, whose start is already past q, or that the walk does not serve (huge means, too many steps,
q or parameters outside the open domain) takes scipy's ppf: the results equal scipy's element for
element (tests/ml/test_discrete.py).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

FloatArray = NDArray[np.float64]
BoolArray = NDArray[np.bool_]

# Means up to this walk from 0 (at most a few dozen steps, no scipy call at all); up to
# SEEDED_MEAN from near the quantile; above it scipy (the root search's tolerance in k grows with
# k: see TOLERANCE).
ZERO_START_MEAN = 30.0
SEEDED_MEAN = 1e5
MAX_STEPS = 400
# A summed cdf this close to q (either side) leaves the element to scipy. The sum is off by at most
# a few hundred ulps; the margin also covers scipy's Poisson root search (pdtrik, accurate to ~1e-10
# relative in k, then corrected by one cdf evaluation).
TOLERANCE = 1e-7
# The seeded start: this many standard deviations (plus one unit) below the approximate quantile,
# so that it is rarely past the quantile already.
START_MARGIN_SD = 0.25


def _walk(
    q: FloatArray,
    k: FloatArray,
    pmf: FloatArray,
    cdf: FloatArray,
    c: float,
    a: FloatArray,
    b: FloatArray,
) -> FloatArray:
    """Smallest k' >= k with cdf(k') >= q per element, walking from cdf(k) and P(k); NaN where
    scipy must decide (also where the start is past q: the answer may lie below it)."""
    out = np.full(q.size, np.nan)
    idx = np.arange(q.size)
    prev = cdf - pmf  # cdf(k - 1); exactly 0 at k = 0
    walking = np.ones(q.size, dtype=bool)
    for _ in range(MAX_STEPS + 1):
        reached = walking & (cdf >= q)
        if reached.any():
            clear = reached & (cdf - q > TOLERANCE) & (q - prev > TOLERANCE)
            out[idx[clear]] = k[clear]
            walking &= ~reached
            left = np.count_nonzero(walking)
            if not left:
                break
            # Drop the finished elements only once they are a quarter of the arrays: compacting
            # the arrays costs more than a few steps of dead elements.
            if left < 0.75 * walking.size:
                idx, q, k, a, b = idx[walking], q[walking], k[walking], a[walking], b[walking]
                pmf, cdf = pmf[walking], cdf[walking]
                walking = np.ones(left, dtype=bool)
        pmf = pmf * ((c * k + a) * b / (k + 1.0))
        k = k + 1.0
        prev = cdf
        cdf = cdf + pmf
    return out


def _start(q: FloatArray, mean: FloatArray, var: FloatArray, skew: FloatArray) -> FloatArray:
    """A start a little below the quantile: Cornish-Fisher (normal with skew) minus a margin."""
    z = stats.norm.ppf(q)
    sd = np.sqrt(var)
    guess = mean + sd * (z + (z * z - 1.0) * skew / 6.0)
    return np.maximum(np.floor(guess - START_MARGIN_SD * sd - 1.0), 0.0)


def _ppf(
    args: tuple[ArrayLike, ...],
    valid: Callable[..., BoolArray],
    moments: Callable[..., tuple[FloatArray, FloatArray, FloatArray]],
    walk_terms: Callable[..., tuple[float, FloatArray, FloatArray]],
    zero_pmf: Callable[..., FloatArray],
    dist: stats.rv_discrete,
) -> FloatArray:
    arrays = np.broadcast_arrays(*(np.asarray(x, dtype=np.float64) for x in args))
    shape = arrays[0].shape
    q, *params = (x.ravel() for x in arrays)
    out = np.full(q.size, np.nan)
    # NaN compares false everywhere, so NaN arguments go to scipy (which returns NaN).
    ok = valid(*params) & (q > 0) & (q < 1)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        mean, var, skew = moments(*params)
    small = np.flatnonzero(ok & (mean <= ZERO_START_MEAN))
    if small.size:
        sub = [x[small] for x in params]
        pmf0 = zero_pmf(*sub)
        c, a, b = walk_terms(*sub)
        out[small] = _walk(q[small], np.zeros(small.size), pmf0, pmf0, c, a, b)
    seeded = np.flatnonzero(ok & (mean > ZERO_START_MEAN) & (mean <= SEEDED_MEAN))
    if seeded.size:
        sub = [x[seeded] for x in params]
        k0 = _start(q[seeded], mean[seeded], var[seeded], skew[seeded])
        c, a, b = walk_terms(*sub)
        pmf0, cdf0 = dist.pmf(k0, *sub), dist.cdf(k0, *sub)
        out[seeded] = _walk(q[seeded], k0, pmf0, cdf0, c, a, b)
    rest = np.flatnonzero(np.isnan(out))
    if rest.size:
        out[rest] = dist.ppf(q[rest], *(x[rest] for x in params))
    return out.reshape(shape)


def _nb_valid(n: FloatArray, p: FloatArray) -> BoolArray:
    return (n > 0) & (p > 0) & (p <= 1)


def _nb_moments(n: FloatArray, p: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    mean = n * (1.0 - p) / p
    return mean, mean / p, (2.0 - p) / np.sqrt(n * (1.0 - p))


def _nb_zero(n: FloatArray, p: FloatArray) -> FloatArray:
    return np.power(p, n)


def _nb_terms(n: FloatArray, p: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    return 1.0, n, 1.0 - p


def _poisson_valid(mu: FloatArray) -> BoolArray:
    return mu > 0


def _poisson_moments(mu: FloatArray) -> tuple[FloatArray, FloatArray, FloatArray]:
    return mu, mu, 1.0 / np.sqrt(mu)


def _poisson_zero(mu: FloatArray) -> FloatArray:
    return np.exp(-mu)


def _poisson_terms(mu: FloatArray) -> tuple[float, FloatArray, FloatArray]:
    return 0.0, mu, np.ones(mu.size)


def nbinom_ppf(q: ArrayLike, n: ArrayLike, p: ArrayLike) -> FloatArray:
    """`scipy.stats.nbinom.ppf(q, n, p)`, the same numbers, for arrays that broadcast."""
    return _ppf((q, n, p), _nb_valid, _nb_moments, _nb_terms, _nb_zero, stats.nbinom)


def poisson_ppf(q: ArrayLike, mu: ArrayLike) -> FloatArray:
    """`scipy.stats.poisson.ppf(q, mu)`, the same numbers, for arrays that broadcast."""
    return _ppf(
        (q, mu), _poisson_valid, _poisson_moments, _poisson_terms, _poisson_zero, stats.poisson
    )
