"""Replay a reorder policy over a held-out period, day by day, vectorized across all series.

A series is a part at a location. Every day, as in the generator (orchestration/generator):

1. the morning's deliveries arrive (orders placed `lead time` days earlier);
2. the day's demand is served up to the stock on hand; what is not served is lost (lost sales);
3. the nightly MRP run looks at the inventory position (on hand + on order) and, where it is at
   or below the reorder point s, orders either up to the order-up-to level S or, for a series with
   a lot size Q, n * Q with the smallest n >= 1 that lifts the position above s (the rule of
   `ml.replenishment.policy.order_quantity`); the order arrives after its lead time (>= 1 day),
   drawn per order beforehand, so two policies ordering on the same day for the same series wait
   the same time.

A policy gives these levels per series; it is asked again every `review_days` days (a static
policy once) with the demand served so far in the replay, so it can only use what happened
before the review day. A stock-out day is an active series ending the day with nothing on hand (the
marts' definition, `on_hand <= 0`); an incident is a run of consecutive stock-out days.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ml.replenishment.policy import order_quantity


@dataclass(frozen=True)
class Levels:
    """A policy's parameters per series at a review."""

    reorder_point: np.ndarray  # s: order when the inventory position is at or below it
    order_up_to: np.ndarray  # S: order up to it (series without a finite lot size)
    lot_size: np.ndarray | None = None  # Q (inf or None: order up to S instead)


# (review day, served so far [day, n]) -> the levels until the next review
LevelsFn = Callable[[int, np.ndarray], Levels]


@dataclass(frozen=True)
class Replay:
    """What both policies face: the same demand, lead-time draws and starting stock."""

    demand: np.ndarray  # [days, n] actual demand (int)
    lead_time: np.ndarray  # [days, n] lead time in days (>= 1) of an order placed on that day
    on_hand: np.ndarray  # [n] on hand at the start of day 0
    arrivals: np.ndarray  # [days, n] units ordered before day 0 arriving on each day
    on_order: np.ndarray  # [n] units ordered before day 0 and not yet received (all days)
    unit_cost: np.ndarray  # [n]
    active: np.ndarray  # [days, n] bool: the series may order and counts for stock-outs

    def __post_init__(self) -> None:
        days, n = self.demand.shape
        for name in ("lead_time", "arrivals", "active"):
            if getattr(self, name).shape != (days, n):
                raise ValueError(f"{name} must have the demand's shape {(days, n)}")
        for name in ("on_hand", "on_order", "unit_cost"):
            if getattr(self, name).shape != (n,):
                raise ValueError(f"{name} must have one value per series ({n})")
        if (self.lead_time < 1).any():
            raise ValueError("lead times must be >= 1 day")
        if (self.demand < 0).any() or (self.on_hand < 0).any():
            raise ValueError("demand and on hand must be >= 0")
        if (self.arrivals.sum(axis=0) > self.on_order).any():
            raise ValueError("arrivals exceed the quantity on order")

    @property
    def days(self) -> int:
        return int(self.demand.shape[0])

    @property
    def series(self) -> int:
        return int(self.demand.shape[1])


def open_orders(
    days: int, n: int, series: np.ndarray, arrival: np.ndarray, qty: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(arrivals [days, n], on order [n]) from open orders (series, arrival day >= 0, quantity);
    orders arriving after the period stay on order."""
    on_order = np.bincount(series, weights=qty, minlength=n).astype(np.int64)
    arrivals = np.zeros((days, n), dtype=np.int64)
    inside = arrival < days
    np.add.at(arrivals, (arrival[inside], series[inside]), qty[inside])
    return arrivals, on_order


@dataclass(frozen=True)
class Outcome:
    """Per day and series: what was served, what was left on the shelf; orders per series."""

    served: np.ndarray  # [days, n]
    on_hand: np.ndarray  # [days, n] end of day
    stockout: np.ndarray  # [days, n] bool: active and nothing on hand at the end of the day
    order_days: np.ndarray  # [days, n] bool: a purchase order was placed that night
    ordered_units: np.ndarray  # [days, n] units ordered that night

    @property
    def orders(self) -> np.ndarray:
        """Purchase orders placed per series ([n])."""
        return self.order_days.sum(axis=0)


def static_levels(reorder_point: np.ndarray, order_up_to: np.ndarray) -> LevelsFn:
    """A policy whose levels never change (the `stock_levels` thresholds)."""
    levels = Levels(reorder_point, order_up_to)
    return lambda _day, _served: levels


def simulate(
    replay: Replay,
    levels: LevelsFn,
    review_days: int | None = None,
    on_day: Callable[[int], None] | None = None,
) -> Outcome:
    """Replay `levels` (asked on day 0 and every `review_days` days; None = once) over the period.

    One loop over days; each day is a handful of numpy operations over all series.
    """
    days, n = replay.days, replay.series
    on_hand = replay.on_hand.astype(np.int64).copy()
    on_order = replay.on_order.astype(np.int64).copy()
    arrivals = replay.arrivals.astype(np.int64).copy()
    served = np.zeros((days, n), dtype=np.int64)
    end_on_hand = np.zeros((days, n), dtype=np.int64)
    ordered_units = np.zeros((days, n), dtype=np.int64)
    for d in range(days):
        if d == 0 or (review_days and d % review_days == 0):
            rop, up_to, lot = _arrays(levels(d, served[:d]), n)
        on_hand += arrivals[d]
        on_order -= arrivals[d]
        served[d] = np.minimum(replay.demand[d], on_hand)
        on_hand -= served[d]
        end_on_hand[d] = on_hand
        position = on_hand + on_order
        due = replay.active[d] & (position <= rop) & (np.isfinite(lot) | (up_to > position))
        idx = np.flatnonzero(due)
        if len(idx):
            qty = order_quantity(
                lot[idx], rop[idx], position[idx], up_to[idx], ~np.isfinite(lot[idx])
            ).astype(np.int64)
            on_order[idx] += qty
            ordered_units[d, idx] = qty
            arrive = d + replay.lead_time[d, idx]
            inside = arrive < days
            # One order per series and day: the (day, series) cells are distinct, += is exact.
            arrivals[arrive[inside], idx[inside]] += qty[inside]
        if on_day is not None:
            on_day(d)
    return Outcome(
        served=served,
        on_hand=end_on_hand,
        stockout=replay.active & (end_on_hand <= 0),
        order_days=ordered_units > 0,
        ordered_units=ordered_units,
    )


def _arrays(levels: Levels, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    lot = np.full(n, np.inf) if levels.lot_size is None else levels.lot_size
    out = [np.asarray(a, dtype=float) for a in (levels.reorder_point, levels.order_up_to, lot)]
    if any(a.shape != (n,) for a in out):
        raise ValueError(f"a policy must give one reorder point, level and lot per series ({n})")
    return out[0], out[1], out[2]


def incidents(stockout: np.ndarray) -> np.ndarray:
    """Stock-out incidents per series: runs of consecutive stock-out days ([days, n] -> [n])."""
    starts = stockout.copy()
    starts[1:] &= ~stockout[:-1]
    return starts.sum(axis=0)


@dataclass(frozen=True)
class Metrics:
    series: int
    demand_units: int
    served_units: int
    fill_rate: float  # served / demanded units
    stockout_days: int
    stockout_incidents: int
    avg_inventory_value: float  # mean over days of the end-of-day on-hand value
    carrying_cost: float  # avg_inventory_value x holding rate (per year)
    orders: int
    ordered_units: int


def metrics(
    replay: Replay,
    outcome: Outcome,
    holding_rate: float,
    mask: np.ndarray | None = None,
    first_day: int = 0,
) -> Metrics:
    """The report of one replay over the series in `mask` (all by default) and the days from
    `first_day` on (a warm-up before it is simulated but not counted)."""
    cols = np.ones(replay.series, dtype=bool) if mask is None else mask
    if not 0 <= first_day < replay.days:
        raise ValueError(f"first_day must be in [0, {replay.days - 1}], got {first_day}")
    days = slice(first_day, None)
    demand = int(replay.demand[days, cols].sum())
    served = int(outcome.served[days, cols].sum())
    on_hand = outcome.on_hand[days, cols]
    value = float((on_hand * replay.unit_cost[cols]).sum()) / on_hand.shape[0]
    return Metrics(
        series=int(cols.sum()),
        demand_units=demand,
        served_units=served,
        fill_rate=served / demand if demand else 1.0,
        stockout_days=int(outcome.stockout[days, cols].sum()),
        stockout_incidents=int(incidents(outcome.stockout[days, cols]).sum()),
        avg_inventory_value=value,
        carrying_cost=value * holding_rate,
        orders=int(outcome.order_days[days, cols].sum()),
        ordered_units=int(outcome.ordered_units[days, cols].sum()),
    )
