"""Inventory-policy math: lead-time demand, safety stock, reorder points, EOQ, order quantities.

Plain numpy functions, vectorized: every argument may be a scalar or an array (one element per
part and location series); arrays broadcast against each other. Quantities are in units of the
part, times in days unless a name says otherwise. Shared by the recommendations
(`ml.replenishment.recommend`) and the policy simulation, so both use the same formulas.

Notation: d = mean daily demand, var_d = variance of daily demand, L = mean lead time (days),
sigma_L = standard deviation of the lead time, alpha = target cycle service level (probability of
no stock-out in a replenishment cycle), z = Phi^-1(alpha).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats

from ml.discrete import nbinom_ppf, poisson_ppf

FloatArray = NDArray[np.float64]

DEFAULT_SERVICE_LEVELS: dict[str, float] = {"A": 0.98, "B": 0.95, "C": 0.90}
# Service level for a series without an ABC class (no demand in the classification window).
DEFAULT_CLASS = "C"
# Demand patterns (ml.forecast.classes) for which EOQ makes no sense: order up to a level instead.
ORDER_UP_TO_PATTERNS = frozenset({"lumpy"})


def _f(x: ArrayLike) -> FloatArray:
    return np.asarray(x, dtype=np.float64)


def _check_service_level(service_level: ArrayLike) -> FloatArray:
    sl = _f(service_level)
    if np.any((sl <= 0) | (sl >= 1) | np.isnan(sl)):
        raise ValueError(f"service level must lie strictly between 0 and 1, got {service_level}")
    return sl


def lead_time_demand(
    mean_daily: ArrayLike, var_daily: ArrayLike, lt_mean: ArrayLike, lt_std: ArrayLike = 0.0
) -> tuple[FloatArray, FloatArray]:
    """Mean and variance of the demand over a random lead time.

    With i.i.d. daily demand (mean d, variance var_d) and a lead time independent of demand
    (mean L, standard deviation sigma_L):

        mu_LTD  = L * d
        var_LTD = L * var_d + d^2 * sigma_L^2

    Example: d = 10, var_d = 16, L = 9, sigma_L = 2 gives mu = 90, var = 144 + 400 = 544.
    """
    d, var_d, lt, slt = _f(mean_daily), _f(var_daily), _f(lt_mean), _f(lt_std)
    if np.any(d < 0) or np.any(var_d < 0) or np.any(lt < 0) or np.any(slt < 0):
        raise ValueError("demand, variances and lead times must be non-negative")
    return lt * d, lt * var_d + d**2 * slt**2


def safety_stock_normal(service_level: ArrayLike, ltd_std: ArrayLike) -> FloatArray:
    """Safety stock for normal lead-time demand: SS = z * sigma_LTD, z = Phi^-1(alpha).

    Example: alpha = 0.95 (z = 1.6449), sigma_LTD = 20 gives SS = 32.90.
    """
    z = stats.norm.ppf(_check_service_level(service_level))
    return z * _f(ltd_std)


def reorder_point_normal(
    service_level: ArrayLike, ltd_mean: ArrayLike, ltd_std: ArrayLike
) -> FloatArray:
    """Reorder point for normal lead-time demand: R = mu_LTD + z * sigma_LTD (not rounded).

    Example: alpha = 0.95, mu_LTD = 100, sigma_LTD = 20 gives R = 132.90.
    """
    return _f(ltd_mean) + safety_stock_normal(service_level, ltd_std)


def reorder_point_poisson(service_level: ArrayLike, ltd_mean: ArrayLike) -> FloatArray:
    """Smallest integer R with P(D <= R) >= alpha for Poisson lead-time demand D ~ Poi(mu_LTD).

    Example: mu_LTD = 4, alpha = 0.95: P(D <= 7) = 0.9489, P(D <= 8) = 0.9786, so R = 8.
    A series without demand (mu_LTD = 0) gets R = 0.
    """
    sl, mu = _check_service_level(service_level), _f(ltd_mean)
    out = poisson_ppf(sl, np.maximum(mu, 1e-12))
    return np.where(mu > 0, out, 0.0)


def reorder_point_negative_binomial(
    service_level: ArrayLike, ltd_mean: ArrayLike, ltd_var: ArrayLike
) -> FloatArray:
    """Smallest integer R with P(D <= R) >= alpha for over-dispersed (var > mean) count demand.

    D is negative binomial with the same mean and variance: p = mu / var, r = mu^2 / (var - mu),
    P(D = k) = C(k + r - 1, k) p^r (1 - p)^k. Where var <= mean the Poisson reorder point is used.

    Example: mu = 4, var = 8 (r = 4, p = 0.5), alpha = 0.95: P(D <= 8) = 0.9270,
    P(D <= 9) = 0.9539, so R = 9 (Poisson would give 8).
    """
    sl, mu, var = np.broadcast_arrays(
        _check_service_level(service_level), _f(ltd_mean), _f(ltd_var)
    )
    over = var > mu * (1 + 1e-9)
    # Each quantile only where it is used (the quantiles are most of the policy simulation's
    # time; ml.discrete computes scipy's numbers by a pmf walk): NB where over-dispersed,
    # Poisson elsewhere, none without demand.
    nb, poisson = (mu > 0) & over, (mu > 0) & ~over
    out = np.zeros(mu.shape)
    m, v = mu[nb], var[nb]
    out[nb] = nbinom_ppf(sl[nb], m**2 / (v - m), m / v)
    out[poisson] = reorder_point_poisson(sl[poisson], mu[poisson])
    return out


def reorder_point(service_level: ArrayLike, ltd_mean: ArrayLike, ltd_var: ArrayLike) -> FloatArray:
    """Integer reorder point for count lead-time demand: negative binomial when var > mean, else
    Poisson. Exact for the low-volume integer demand of spare parts, and close to the rounded-up
    normal reorder point when mu_LTD is large.
    """
    return reorder_point_negative_binomial(service_level, ltd_mean, ltd_var)


def no_stockout_probability(
    stock: ArrayLike, ltd_mean: ArrayLike, ltd_var: ArrayLike
) -> FloatArray:
    """P(D <= stock) under the same count distribution as `reorder_point` (NB or Poisson).

    Used as the cycle service level a stock level gives: with stock = inventory position and D the
    demand until a new order could arrive, it is the chance of no stock-out if nothing is ordered.
    Negative stock gives 0; a series without demand gives 1.
    """
    s, mu, var = np.broadcast_arrays(np.floor(_f(stock)), _f(ltd_mean), _f(ltd_var))
    over = var > mu * (1 + 1e-9)
    # Each cdf only where it is used (the same numbers as computing both everywhere).
    out = np.where(s < 0, 0.0, 1.0)
    used = ~(s < 0) & (mu > 0)
    nb, poisson = used & over, used & ~over
    m, v = np.maximum(mu[nb], 1e-12), var[nb]
    out[nb] = stats.nbinom.cdf(s[nb], m**2 / (v - m), m / v)
    out[poisson] = stats.poisson.cdf(s[poisson], np.maximum(mu[poisson], 1e-12))
    return out


def economic_order_quantity(
    annual_demand: ArrayLike,
    ordering_cost: ArrayLike,
    unit_cost: ArrayLike,
    holding_rate: ArrayLike,
) -> FloatArray:
    """Economic order quantity: Q* = sqrt(2 * D * S / (h * c)) (not rounded).

    D = annual demand (units/year), S = cost per order, c = unit cost, h = holding rate per year
    (share of the unit cost). Example: D = 1200, S = 50, c = 20, h = 0.25 gives
    Q* = sqrt(120000 / 5) = 154.92. No demand gives 0; a free-to-hold part (h * c = 0) with demand
    gives inf (callers cap it).
    """
    dem, s, c, h = _f(annual_demand), _f(ordering_cost), _f(unit_cost), _f(holding_rate)
    if np.any(dem < 0) or np.any(s < 0) or np.any(c < 0) or np.any(h < 0):
        raise ValueError("demand, costs and holding rate must be non-negative")
    with np.errstate(divide="ignore", invalid="ignore"):
        q = np.sqrt(2 * dem * s / (h * c))
    return np.where(dem > 0, np.where(h * c > 0, q, np.inf), 0.0)


def service_level_for_class(
    abc_class: ArrayLike, levels: Mapping[str, float] | None = None
) -> FloatArray:
    """Target cycle service level per ABC class (defaults A 0.98, B 0.95, C 0.90).

    `levels` overrides some or all classes. A missing or unknown class (None, '') gets the level of
    class C: a part without consumption value in the classification window.
    """
    table = {**DEFAULT_SERVICE_LEVELS, **(levels or {})}
    _check_service_level(list(table.values()))
    fallback = table[DEFAULT_CLASS]
    classes = np.asarray(abc_class, dtype=object)
    lookup = np.vectorize(lambda c: table.get(c, fallback) if isinstance(c, str) else fallback)
    return lookup(classes).astype(np.float64) if classes.size else np.zeros(classes.shape)


def _round_up(qty: FloatArray, pack_size: FloatArray, min_qty: FloatArray) -> FloatArray:
    pack = np.maximum(pack_size, 1.0)
    q = np.maximum(np.maximum(qty, min_qty), 1.0)
    return np.ceil(np.round(q / pack, 9)) * pack


def order_quantity(
    eoq: ArrayLike,
    reorder_point: ArrayLike,
    inventory_position: ArrayLike,
    order_up_to: ArrayLike,
    use_order_up_to: ArrayLike = False,
    pack_size: ArrayLike = 1,
    min_qty: ArrayLike = 1,
) -> FloatArray:
    """Units to order now for a series at or below its reorder point (integer, >= 1).

    - EOQ series, (s, nQ) rule: Q = ceil(EOQ), ordered n = max(1, ceil((s + 1 - IP) / Q)) times,
      so the inventory position after ordering is above the reorder point s even when demand
      overshot it. Infinite EOQ (free to hold) falls back to order-up-to.
    - Order-up-to series (`use_order_up_to`, e.g. lumpy demand where EOQ's smooth-demand
      assumption fails): Q = S - IP, S = `order_up_to`.

    Then Q is raised to `min_qty` and to at least 1, and rounded up to a multiple of `pack_size`.
    Example: EOQ = 154.9, s = 40, IP = 35 gives 155; with IP = -130 (backorders) 2 * 155 = 310.
    """
    e, s, ip, up_to = _f(eoq), _f(reorder_point), _f(inventory_position), _f(order_up_to)
    ups = np.asarray(use_order_up_to, dtype=bool) | ~np.isfinite(e)
    q_eoq = np.maximum(np.ceil(np.where(np.isfinite(e), e, 1.0)), 1.0)
    n = np.maximum(1.0, np.ceil((s + 1 - ip) / q_eoq))
    qty = np.where(ups, up_to - ip, n * q_eoq)
    return _round_up(qty, _f(pack_size), _f(min_qty))
