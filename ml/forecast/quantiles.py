"""Quantiles from a negative binomial around the forecast mean, with per-series dispersion.

Var(y) = mean + alpha * mean²; alpha = 0 is Poisson. Quantiles of a count distribution are
integers, non-negative and monotone in the level by construction.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

# Prior weight, in error points, of the pooled dispersion when shrinking a series' own estimate.
PRIOR_POINTS = 12.0
MIN_ALPHA = 1e-6


def nb_quantiles(mean: np.ndarray, alpha: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """Quantiles (last axis = levels) of NB(mean, alpha) for each element of mean."""
    mu = np.clip(np.asarray(mean, float), 0.0, None)
    a = np.broadcast_to(np.clip(np.asarray(alpha, float), MIN_ALPHA, None), mu.shape)
    r = 1.0 / a
    p = r / (r + np.maximum(mu, 1e-12))
    out = np.stack([stats.nbinom.ppf(q, r, p) for q in levels], axis=-1)
    return np.where(mu[..., None] > 0, out, 0.0)


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

    On counts an integer p90 is exceeded less than 10% of the time even by a perfect model
    (P(Y > 0) is often below 10% for slow movers), so calibration compares the observed share
    with this one rather than with 10%.
    """
    mu = np.clip(np.asarray(mean, float), 0.0, None)
    a = np.broadcast_to(np.clip(np.asarray(alpha, float), MIN_ALPHA, None), mu.shape)
    r = 1.0 / a
    p = r / (r + np.maximum(mu, 1e-12))
    above = np.where(mu > 0, stats.nbinom.sf(upper, r, p), 0.0)
    return float(np.mean(above[~np.isnan(actual)]))
