"""PartsFlow's policy in the replay: reorder point and lot size recomputed every review.

At each review day the demand forecast uses only the days before it (the recorded history, then
what the replay served): the mean daily demand of the last `window_days` days and, as in
`ml.forecast.quantiles`, a negative binomial spread around it (variance = mean + alpha * mean²,
alpha per series by moments, shrunk towards the pooled value). That is a cheap stand-in for the
trained forecaster (a level without season or trend), enough to re-plan 26 times in a half-year
replay. The formulas are `ml.replenishment.policy`'s:

- lead-time demand over the protection period (lead-time mean + 1 day, since the MRP run checks
  the position once a night) with the lead-time standard deviation, both from purchase-order
  history known before the period;
- reorder point = the NB (Poisson when not over-dispersed) quantile at the class's cycle service
  level (A 98%, B 95%, C 90% by default; one level for all in the sweep);
- lot size = EOQ from the ordering cost and the holding rate; lumpy series (demand pattern of the
  last 365 days before the period) order up to reorder point + EOQ instead.

Settings default to the recommendations' (`ml.replenishment.recommend.Settings`). Two choices
differ from the recommendations, both measured in the replay (README, Policy simulation): the
protection interval is lead time + 1 night, not + the 7-day review period (orders are placed the
night the position reaches s, so a week more protects twice), and lumpy series order up to
s + EOQ, not s + a review period of demand (lots that small put lumpy series back at s after
almost every demand: more orders and more incidents).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np

from ml.forecast.quantiles import PRIOR_POINTS
from ml.replenishment.policy import (
    ORDER_UP_TO_PATTERNS,
    economic_order_quantity,
    lead_time_demand,
    reorder_point,
    service_level_for_class,
)
from ml.replenishment.recommend import Settings
from ml.replenishment.scenario import Scenario
from ml.replenishment.simulate import Levels, LevelsFn

MRP_INTERVAL_DAYS = 1  # the position is checked every night: protection = lead time + 1 day
RECOMMENDED = Settings()


@dataclass(frozen=True)
class PolicySettings:
    service_levels: Mapping[str, float] = field(
        default_factory=lambda: dict(RECOMMENDED.service_levels)
    )
    ordering_cost: float = RECOMMENDED.ordering_cost  # per purchase order
    holding_rate: float = RECOMMENDED.holding_rate  # per year, share of the unit cost
    review_days: int = RECOMMENDED.review_period_days  # levels recomputed every N days
    window_days: int = 91  # the forecast's look-back

    def __post_init__(self) -> None:
        if self.review_days < 1 or self.window_days < 7:
            raise ValueError("review_days must be >= 1 and window_days >= 7")
        if self.ordering_cost < 0 or self.holding_rate <= 0:
            raise ValueError("ordering_cost must be >= 0 and holding_rate > 0")


def forecast(window: np.ndarray, pools: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Mean and variance of daily demand per series from a [days, n] window (NaN = no data).

    The dispersion is `ml.forecast.quantiles.series_dispersion` of the window around its mean,
    computed from per-series sums (the same numbers, a fraction of the time on 17k series).
    `pools` ([n] int codes): shrink towards the pooled dispersion of the series' own pool
    instead of all series' (a location group then replays as it does among all groups).
    """
    observed = ~np.isnan(window)
    y = np.where(observed, window, 0.0)
    days = observed.sum(axis=0)
    total, squares = y.sum(axis=0), (y * y).sum(axis=0)
    mean = np.where(days > 0, total / np.maximum(days, 1), 0.0)
    sq_error = squares - days * mean**2  # sum of (y - mean)^2 over the observed days
    num, den = sq_error - days * mean, days * mean**2
    own = np.clip(np.where(den > 0, num / np.where(den > 0, den, 1.0), 0.0), 0.0, None)
    if pools is None:
        pooled = max(float(num.sum() / den.sum()), 0.0) if den.sum() > 0 else 0.0
    else:
        # Summed in series order within each pool: the same sums for a subset of the pools.
        num_p, den_p = np.bincount(pools, weights=num), np.bincount(pools, weights=den)
        pooled = np.maximum(num_p / np.where(den_p > 0, den_p, 1.0), 0.0)[pools]
        pooled = np.where(den_p[pools] > 0, pooled, 0.0)
    alpha = (days * own + PRIOR_POINTS * pooled) / (days + PRIOR_POINTS)
    return mean, mean + alpha * mean**2


def partsflow_levels(
    scenario: Scenario, settings: PolicySettings, service_level: float | None = None
) -> LevelsFn:
    """The levels function of PartsFlow's policy (service level per ABC class, or one for all)."""
    if service_level is None:
        level = service_level_for_class(scenario.abc_class(), settings.service_levels)
    else:
        level = np.full(scenario.series, float(service_level))
    lt_mean, lt_std = scenario.lead_time_stats()
    order_up_to = np.isin(scenario.demand_pattern, list(ORDER_UP_TO_PATTERNS))
    history = scenario.history[-settings.window_days :]

    def levels(_day: int, served: np.ndarray) -> Levels:
        window = np.vstack([history, served])[-settings.window_days :]
        mean, var = forecast(window, scenario.pools)
        ltd_mean, ltd_var = lead_time_demand(mean, var, lt_mean + MRP_INTERVAL_DAYS, lt_std)
        rop = reorder_point(level, ltd_mean, ltd_var)
        eoq = economic_order_quantity(
            mean * 365, settings.ordering_cost, scenario.unit_cost, settings.holding_rate
        )
        lot = np.maximum(np.ceil(np.where(np.isfinite(eoq), eoq, 1.0)), 1.0)
        return Levels(rop, rop + lot, np.where(order_up_to, np.inf, lot))

    return levels
