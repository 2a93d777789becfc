"""Quantiles from a negative binomial around the forecast mean, with per-series dispersion.

Var(y) = mean + alpha * mean²; alpha = 0 is Poisson. The integer quantile of a count is
optimal for the pinball loss but exceeded less often than its level says (an integer p90 of a slow
mover is exceeded by 5%, not 10%). So the published quantiles are continuous:

- zero demand is exactly zero: while P(Y = 0) >= level, the quantile is 0;
- a positive count k is read as a demand rounded to whole units, spread evenly over
  [k - shift, k + 1 - shift): the level's quantile is k - shift + (level - F(k-1)) / P(k).

`shift` (0..1; 0.5 = rounding to the nearest unit, 1 = rounding up) is fitted on the rolling-origin
backtest so that the share of actuals above the top quantile matches its level (10% above p90).
Quantiles stay non-negative and monotone in the level; `shift=None` gives the integer quantiles.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

from ml.discrete import nbinom_ppf

# Prior weight, in error points, of the pooled dispersion when shrinking a series' own estimate.
PRIOR_POINTS = 12.0
MIN_ALPHA = 1e-6
# Means above this take scipy's quantile search: the pmf walk would need hundreds of steps (and
# P(Y = 0) underflows for Poisson-like series with means in the hundreds).
MAX_WALK_MEAN = 100.0


def _nb(mean: np.ndarray, alpha: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(size r, success probability p) of NB(mean, alpha), broadcast to mean's shape."""
    mu = np.clip(np.asarray(mean, float), 0.0, None)
    a = np.broadcast_to(np.clip(np.asarray(alpha, float), MIN_ALPHA, None), mu.shape)
    r = 1.0 / a
    return r, r / (r + mu)


def nb_parts(
    mean: np.ndarray, alpha: np.ndarray, levels: tuple[float, ...]
) -> tuple[np.ndarray, np.ndarray]:
    """Integer quantile k of NB(mean, alpha) per level (last axis) and where the level falls in
    P(Y = k): frac = (level - F(k-1)) / P(k), in (0, 1]. Levels must be ascending.

    Walks the pmf upwards (P(k+1) = P(k)·(k+r)/(k+1)·(1-p)) for all elements at once, which is
    several times faster than scipy's search; scipy does the means above MAX_WALK_MEAN.
    """
    r, p = _nb(mean, alpha)
    shape = r.shape
    mu = np.broadcast_to(np.clip(np.asarray(mean, float), 0.0, None), shape).ravel()
    r, p = r.ravel(), p.ravel()
    k_out = np.zeros((r.size, len(levels)))
    frac_out = np.zeros((r.size, len(levels)))
    walk = np.flatnonzero(mu <= MAX_WALK_MEAN)
    k = np.zeros(walk.size)
    pmf = np.exp(r[walk] * np.log(p[walk]))
    cdf, prev = pmf.copy(), np.zeros(walk.size)
    step = 1.0 - p[walk]
    rw, mu_walk = r[walk], mu[walk]
    for j, level in enumerate(levels):
        # The elements still below the level walk on in compact copies (no gather and scatter of
        # every array at every step); each is written back when it stops.
        short = np.flatnonzero(cdf < level)
        sk, sr, sstep, scdf = k[short], rw[short], step[short], cdf[short]
        sprev, spmf, smu = prev[short], pmf[short], mu_walk[short]
        while short.size:
            spmf *= (sk + sr) / (sk + 1.0) * sstep
            sk += 1.0
            sprev = scdf.copy()
            scdf += spmf
            # Rounding can leave a cdf a hair below a level forever: stop once past the mean with
            # the pmf spent.
            spent = (sk > smu) & (spmf < 1e-15)
            go = (scdf < level) & ~spent
            if go.all():
                continue
            done = short[~go]
            k[done], cdf[done], prev[done], pmf[done] = sk[~go], scdf[~go], sprev[~go], spmf[~go]
            short, sk, sr, sstep = short[go], sk[go], sr[go], sstep[go]
            scdf, sprev, spmf, smu = scdf[go], sprev[go], spmf[go], smu[go]
        k_out[walk, j] = k
        frac_out[walk, j] = np.clip((level - prev) / np.maximum(pmf, 1e-300), 0.0, 1.0)
    rest = np.flatnonzero(mu > MAX_WALK_MEAN)
    for j, level in enumerate(levels):
        if rest.size:
            kk = nbinom_ppf(level, r[rest], p[rest])  # scipy's numbers, cheaper
            below = np.where(kk > 0, stats.nbinom.cdf(kk - 1, r[rest], p[rest]), 0.0)
            mass = stats.nbinom.pmf(kk, r[rest], p[rest])
            k_out[rest, j] = kk
            frac_out[rest, j] = np.clip((level - below) / np.maximum(mass, 1e-300), 0.0, 1.0)
    k_out = np.where(mu[:, None] > 0, k_out, 0.0)
    return k_out.reshape(*shape, len(levels)), frac_out.reshape(*shape, len(levels))


def continuous(k: np.ndarray, frac: np.ndarray, shift: float | None) -> np.ndarray:
    """Published quantiles from nb_parts (see the module docstring); shift None = integers."""
    if shift is None:
        return k
    return np.where(k > 0, k - shift + frac, 0.0)


def nb_quantiles(
    mean: np.ndarray, alpha: np.ndarray, levels: tuple[float, ...], shift: float | None = None
) -> np.ndarray:
    """Quantiles (last axis = levels, ascending) of NB(mean, alpha) for each element of mean."""
    return continuous(*nb_parts(mean, alpha, levels), shift)


def fit_shift(k_top: np.ndarray, frac_top: np.ndarray, actual: np.ndarray, level: float) -> float:
    """The shift in [0, 1] at which the share of actuals above the top quantile is 1 - level.

    The share only grows with the shift (the quantile moves down), so bisection finds it; a model
    whose share stays off target at either end gets that end.
    """
    keep = ~np.isnan(actual)
    y, k, frac = actual[keep], k_top[keep], frac_top[keep]
    if not y.size:
        return 0.5

    def share(shift: float) -> float:
        return float(np.mean(y > continuous(k, frac, shift)))

    target = 1.0 - level
    if share(1.0) <= target:
        return 1.0
    if share(0.0) >= target:
        return 0.0
    low, high = 0.0, 1.0
    for _ in range(30):
        mid = (low + high) / 2
        low, high = (mid, high) if share(mid) < target else (low, mid)
    return (low + high) / 2


def moment_alpha(sq_error: np.ndarray, mean: np.ndarray, axis: int | None = None) -> np.ndarray:
    """Method-of-moments dispersion: (sum (y-mu)² - sum mu) / sum mu², floored at zero."""
    num = np.nansum(sq_error, axis=axis) - np.nansum(mean, axis=axis)
    den = np.nansum(mean**2, axis=axis)
    return np.clip(np.where(den > 0, num / np.maximum(den, 1e-12), 0.0), 0.0, None)


def series_dispersion(
    actual: np.ndarray, mean: np.ndarray, prior_points: float = PRIOR_POINTS
) -> np.ndarray:
    """Dispersion per row of (series x error points) matrices, shrunk towards the pooled value.

    Rows with few points lean on the pooled estimate; NaN actuals are ignored.
    """
    mask = ~np.isnan(actual)
    mu = np.where(mask, np.clip(mean, 0.0, None), np.nan)
    sq = np.where(mask, (np.nan_to_num(actual) - np.nan_to_num(mu)) ** 2, np.nan)
    pooled = float(moment_alpha(sq, mu))
    own = moment_alpha(sq, mu, axis=1)
    n = mask.sum(axis=1)
    return (n * own + prior_points * pooled) / (n + prior_points)


def expected_share_above(
    mean: np.ndarray, alpha: np.ndarray, upper: np.ndarray, actual: np.ndarray
) -> float:
    """Model-implied share of actuals above `upper`, over the points with an actual.

    On counts, P(Y > q) = 1 - F(floor(q)): for slow movers it is below the level's complement
    whatever q is (a part with P(Y > 0) = 4% is above any p90 at most 4% of the time).
    """
    return float(np.mean(prob_above(mean, alpha, upper)[~np.isnan(actual)]))


def prob_above(mean: np.ndarray, alpha: np.ndarray, upper: np.ndarray) -> np.ndarray:
    """P(Y > upper) under NB(mean, alpha), elementwise (see expected_share_above)."""
    r, p = _nb(mean, alpha)
    m, r, p, u = np.broadcast_arrays(np.asarray(mean), r, p, np.floor(upper))
    # The sf only where the mean is positive (the same numbers as computing it everywhere).
    out = np.zeros(m.shape)
    pos = m > 0
    out[pos] = stats.nbinom.sf(u[pos], r[pos], p[pos])
    return out
