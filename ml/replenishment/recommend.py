"""Reorder recommendations per part and location from the daily forecast and the stock position.

Inputs are plain frames (the Dagster asset reads them from the marts and `ml.fct_forecasts`):

- `pairs`: one row per active part and location: `part_id, location_id, on_hand, on_order,
  unit_cost, abc_class, demand_pattern, lead_time_mean_days, lead_time_std_days, dispersion`
  (NB dispersion alpha of the forecast, NaN = estimate it from the forecast's quantiles) and
  optionally `lead_time_source` (passed through);
- `forecast`: daily rows `part_id, location_id, forecast_date, mean, p10, p90`.

Day t means `as_of + t`; day 0 is the as-of day (the ledger's last day), whose end-of-day position
is the starting point, so the forecast's first day is t = 1. Formulas (policy.py has the math):

- protection interval P = L + R (mean lead time + review period, days): an order placed now covers
  demand until the next review's order arrives;
- daily rate d = mean forecast over days 1..ceil(P) (beyond the forecast horizon the mean of its
  last 7 days continues), daily variance var_d = d + alpha * d^2 (the forecast's negative
  binomial); demand over P: mu = P * d, var = P * var_d + d^2 * sigma_L^2;
- reorder point s = smallest integer with P(D_P <= s) >= class service level (negative binomial,
  Poisson when var <= mu); safety stock = s - mu;
- inventory position IP = on hand + on order - backorders (lost sales: backorders are only a
  negative ledger balance);
- projected stock-out day = first t with cumulative expected demand(t) >= IP (0 when IP <= 0);
  reorder day = first t with IP - cumulative demand(t) <= s;
- status: order_now (demand expected and IP <= s), order_soon (reorder day within the review
  period), ok; predicted stock-out: stock-out day <= ceil(L) + R;
- order quantity: EOQ from annual demand 365 * d (policy.order_quantity), order-up-to
  S = s + ceil(d * R) for lumpy demand.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, timedelta

import numpy as np
import pandas as pd
from numpy.typing import NDArray

from ml.replenishment import policy

# Z spread between the 10% and 90% quantiles of a normal: (p90 - p10) ~ 2 * 1.2816 * sd.
P10_P90_Z = 2 * 1.2815515655446004
TAIL_DAYS = 7
KEYS = ["part_id", "location_id"]

COLUMNS = [
    "as_of_date",
    "part_id",
    "location_id",
    "abc_class",
    "demand_pattern",
    "service_level",
    "unit_cost",
    "daily_demand_mean",
    "dispersion",
    "lead_time_mean_days",
    "lead_time_std_days",
    "lead_time_source",
    "review_period_days",
    "protection_days",
    "protection_demand_mean",
    "protection_demand_std",
    "safety_stock",
    "reorder_point",
    "order_policy",
    "economic_order_qty",
    "order_up_to_level",
    "on_hand",
    "on_order",
    "backorders",
    "inventory_position",
    "days_to_stockout",
    "projected_stockout_date",
    "is_predicted_stockout",
    "days_to_reorder",
    "suggested_order_date",
    "suggested_order_qty",
    "suggested_order_value",
    "expected_service_level",
    "status",
    "reason",
]


@dataclass(frozen=True)
class Settings:
    """Policy parameters; the Dagster asset's run config overrides them (README: Replenishment)."""

    service_levels: Mapping[str, float] = field(
        default_factory=lambda: dict(policy.DEFAULT_SERVICE_LEVELS)
    )
    ordering_cost: float = 50.0  # per purchase order, in the unit-cost currency
    holding_rate: float = 0.25  # per year, share of the unit cost
    review_period_days: int = 7  # days between two reviews of the same part and location
    projection_days: int = 365  # stock-out and reorder days are searched this far ahead


def _demand_matrix(
    pairs: pd.DataFrame, forecast: pd.DataFrame, as_of: date
) -> tuple[NDArray, NDArray, NDArray]:
    """Daily means, p10 and p90 as (series x horizon) matrices aligned with `pairs`.

    Days of the forecast on or before `as_of` are dropped; a missing day inside the horizon is 0.
    """
    t = (pd.to_datetime(forecast["forecast_date"]) - pd.Timestamp(as_of)).dt.days.to_numpy()
    horizon = int(t.max()) if len(t) and t.max() >= 1 else 0
    pair_index = pd.MultiIndex.from_frame(pairs[KEYS].astype(str))
    rows = pair_index.get_indexer(pd.MultiIndex.from_frame(forecast[KEYS].astype(str)))
    keep = (rows >= 0) & (t >= 1)
    out = []
    for col in ("mean", "p10", "p90"):
        matrix = np.full((len(pairs), horizon), np.nan)
        matrix[rows[keep], t[keep] - 1] = forecast[col].to_numpy(float)[keep]
        out.append(matrix)
    mean, p10, p90 = out
    return np.nan_to_num(mean), p10, p90


def dispersion_from_quantiles(mean: NDArray, p10: NDArray, p90: NDArray) -> NDArray:
    """NB dispersion per series from the spread of its daily quantiles (NaN when none shows).

    Per day sd ~ (p90 - p10) / 2.563 and alpha = (sd^2 - mu) / mu^2, floored at 0; the median over
    the days with demand. Integer quantiles of small means are coarse, so the forecast model's own
    dispersion is preferred whenever it is known.
    """
    with np.errstate(divide="ignore", invalid="ignore"):
        sd = (p90 - p10) / P10_P90_Z
        alpha = np.where(mean > 0, np.maximum(sd**2 - mean, 0.0) / mean**2, np.nan)
    if alpha.size == 0:
        return np.full(mean.shape[0], np.nan)
    empty = np.all(np.isnan(alpha), axis=1)
    med = np.nanmedian(np.where(empty[:, None], 0.0, alpha), axis=1)
    return np.where(empty, np.nan, med)


def cumulative_demand(mean: NDArray, days: int) -> NDArray:
    """Cumulative expected demand at the end of days 0..days (series x days+1; column 0 is 0).

    Beyond the forecast horizon the mean of its last TAIL_DAYS days continues.
    """
    n, horizon = mean.shape
    tail = mean[:, -TAIL_DAYS:].mean(axis=1) if horizon else np.zeros(n)
    daily = np.concatenate(
        [mean[:, :days], np.repeat(tail[:, None], max(days - horizon, 0), axis=1)], axis=1
    )
    return np.concatenate([np.zeros((n, 1)), np.cumsum(daily, axis=1)], axis=1)


def first_day_reaching(cum: NDArray, level: NDArray) -> NDArray:
    """First day t (column of `cum`) with cum[t] >= level, NaN when none within the projection."""
    hit = cum >= level[:, None] - 1e-9
    return np.where(hit.any(axis=1), hit.argmax(axis=1).astype(float), np.nan)


def _window_rate(cum: NDArray, window: NDArray) -> NDArray:
    """Mean daily demand over days 1..ceil(window) (at least one day)."""
    days = np.clip(np.ceil(window).astype(int), 1, cum.shape[1] - 1)
    return cum[np.arange(len(days)), days] / days


def recommend(
    pairs: pd.DataFrame, forecast: pd.DataFrame, as_of: date, settings: Settings | None = None
) -> pd.DataFrame:
    """One recommendation row per row of `pairs` (columns COLUMNS; see the module docstring)."""
    s = settings or Settings()
    if s.review_period_days < 0 or s.projection_days < 1:
        raise ValueError("review_period_days must be >= 0 and projection_days >= 1")
    pairs = pairs.reset_index(drop=True)
    mean, p10, p90 = _demand_matrix(pairs, forecast, as_of)
    cum = cumulative_demand(mean, s.projection_days)
    review = float(s.review_period_days)
    lt = pairs["lead_time_mean_days"].to_numpy(float)
    lt_std = np.nan_to_num(pairs["lead_time_std_days"].to_numpy(float))
    protection = lt + review
    d = _window_rate(cum, protection)
    alpha = pairs["dispersion"].to_numpy(float)
    alpha = np.where(np.isnan(alpha), dispersion_from_quantiles(mean, p10, p90), alpha)
    alpha = np.nan_to_num(alpha)
    mu, var = policy.lead_time_demand(d, d + alpha * d**2, protection, lt_std)
    service = policy.service_level_for_class(pairs["abc_class"].to_numpy(object), s.service_levels)
    rop = policy.reorder_point(service, mu, var)

    on_hand = pairs["on_hand"].to_numpy(float)
    on_order = np.nan_to_num(pairs["on_order"].to_numpy(float))
    backorders = np.maximum(-on_hand, 0.0)
    position = np.maximum(on_hand, 0.0) + on_order - backorders
    has_demand = d > 0
    stockout_day = np.where(position <= 0, 0.0, first_day_reaching(cum, position))
    stockout_day = np.where(has_demand | (position <= 0), stockout_day, np.nan)
    reorder_day = np.where(has_demand, first_day_reaching(cum, position - rop), np.nan)
    predicted = has_demand & (stockout_day <= np.ceil(lt) + review)

    status = np.where(
        has_demand & (position <= rop),
        "order_now",
        np.where(reorder_day <= review, "order_soon", "ok"),
    )
    unit_cost = np.nan_to_num(pairs["unit_cost"].to_numpy(float))
    eoq = policy.economic_order_quantity(365.0 * d, s.ordering_cost, unit_cost, s.holding_rate)
    lumpy = np.isin(pairs["demand_pattern"].to_numpy(object), list(policy.ORDER_UP_TO_PATTERNS))
    up_to_policy = lumpy | ~np.isfinite(eoq)
    up_to = rop + np.ceil(d * review)
    crossing = np.nan_to_num(reorder_day, nan=0.0).astype(int)
    # An order placed later is placed when the position has fallen to about the reorder point.
    position_at_order = np.where(
        status == "order_now",
        position,
        np.minimum(position - cum[np.arange(len(crossing)), crossing], rop),
    )
    qty = policy.order_quantity(eoq, rop, position_at_order, up_to, up_to_policy)
    qty = np.where(has_demand, qty, 0.0)

    out = pd.DataFrame(
        {
            "as_of_date": as_of,
            "part_id": pairs["part_id"],
            "location_id": pairs["location_id"],
            "abc_class": pairs["abc_class"],
            "demand_pattern": pairs["demand_pattern"],
            "service_level": service,
            "unit_cost": unit_cost,
            "daily_demand_mean": d,
            "dispersion": alpha,
            "lead_time_mean_days": lt,
            "lead_time_std_days": lt_std,
            "lead_time_source": pairs.get("lead_time_source", "given"),
            "review_period_days": s.review_period_days,
            "protection_days": protection,
            "protection_demand_mean": mu,
            "protection_demand_std": np.sqrt(var),
            "safety_stock": rop - mu,
            "reorder_point": rop.astype(np.int64),
            "order_policy": np.where(up_to_policy, "order_up_to", "eoq"),
            "economic_order_qty": np.where(np.isfinite(eoq), eoq, np.nan),
            "order_up_to_level": np.where(up_to_policy, up_to, np.nan),
            "on_hand": on_hand.astype(np.int64),
            "on_order": on_order.astype(np.int64),
            "backorders": backorders.astype(np.int64),
            "inventory_position": position.astype(np.int64),
            "days_to_stockout": pd.array(_as_int(stockout_day), dtype="Int64"),
            "projected_stockout_date": _dates(as_of, stockout_day),
            "is_predicted_stockout": predicted,
            "days_to_reorder": pd.array(_as_int(reorder_day), dtype="Int64"),
            "suggested_order_date": _dates(as_of, np.where(status == "ok", np.nan, reorder_day)),
            "suggested_order_qty": qty.astype(np.int64),
            "suggested_order_value": qty * unit_cost,
            "expected_service_level": policy.no_stockout_probability(position, mu, var),
            "status": status,
        }
    )
    out["reason"] = reasons(out)
    return out[COLUMNS]


def _as_int(x: NDArray) -> list[int | None]:
    return [None if np.isnan(v) else int(v) for v in x]


def _dates(as_of: date, days: NDArray) -> list[date | None]:
    return [None if np.isnan(v) else as_of + timedelta(days=int(v)) for v in days]


def reasons(rec: pd.DataFrame) -> list[str]:
    """The recommendation in words, one sentence group per row."""
    out = []
    for r in rec.itertuples(index=False):
        policy_words = (
            f"class {r.abc_class or '-'} target {r.service_level:.0%}, lead time "
            f"{r.lead_time_mean_days:.1f} ± {r.lead_time_std_days:.1f} d + "
            f"{r.review_period_days} d review"
        )
        if r.daily_demand_mean <= 0:
            out.append(f"No demand forecast; position {r.inventory_position}: nothing to order.")
            continue
        runs_out = (
            f"runs out around {r.projected_stockout_date}"
            if r.projected_stockout_date is not None
            else "does not run out within the projection"
        )
        how = (
            f"order up to {r.order_up_to_level:.0f} (lumpy demand)"
            if r.order_policy == "order_up_to"
            else f"economic order quantity {r.economic_order_qty:.1f}"
        )
        if r.status == "order_now":
            head = (
                f"Order {r.suggested_order_qty} now: position {r.inventory_position} is at or "
                f"below the reorder point {r.reorder_point}"
            )
        elif r.status == "order_soon":
            head = (
                f"Order {r.suggested_order_qty} on {r.suggested_order_date}: position "
                f"{r.inventory_position} reaches the reorder point {r.reorder_point} within the "
                "review period"
            )
        else:
            head = (
                f"OK: position {r.inventory_position} is above the reorder point {r.reorder_point}"
            )
        out.append(
            f"{head} ({policy_words}). Without an order stock {runs_out}; chance of no stock-out "
            f"before a new order could arrive: {r.expected_service_level:.0%}. Quantity: {how}."
        )
    return out
