"""The inputs of a policy comparison over one held-out period, and how they become a replay.

Built from the warehouse (orchestration/defs/replenishment) or, for the benchmark, from the
generator's ground truth (orchestration/bench_policy.py). Series are parts at locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from functools import cached_property

import numpy as np

from ml.forecast.classes import classify
from ml.replenishment.simulate import Replay, open_orders

MIN_LEAD_TIMES = 5  # a part's own lead times are used from this many received orders on
ABC_CUTS = (0.80, 0.95)  # the marts' ABC rule (dbt macro abc_class)


@dataclass(frozen=True)
class LeadTimes:
    """Received purchase orders: who ordered, whether before the period, how long it took."""

    part: np.ndarray  # int code of the part
    supplier: np.ndarray  # int code of the supplier (-1: none)
    # bool: received before the period's first day (what a planner knows on day 0); the day
    # itself does not matter.
    received_before: np.ndarray
    days: np.ndarray  # received day - ordered day
    # How many orders each row stands for (None: one each). The warehouse reads its orders
    # counted by part, supplier, lead time and before/in the period: a location group then
    # reads a small table, not every order, and the pools hold the same lead times.
    orders: np.ndarray | None = None


@dataclass(frozen=True)
class Scenario:
    start: date  # first held-out day
    history: np.ndarray  # [h, n] recorded daily demand before `start` (NaN before a series began)
    demand: np.ndarray  # [days, n] actual demand in the held-out period
    active: np.ndarray  # [days, n] bool
    on_hand: np.ndarray  # [n] at the start of `start`
    open_series: np.ndarray  # orders open at the start: series index,
    open_arrival: np.ndarray  # arrival day (relative to start; >= days: after the period)
    open_qty: np.ndarray  # and quantity
    unit_cost: np.ndarray  # [n]
    part: np.ndarray  # [n] int code of the part (lead times are the part's)
    supplier: np.ndarray  # [n] int code of the part's supplier (-1: none)
    location: np.ndarray  # [n] int code of the location (ABC is ranked within a location)
    reorder_point: np.ndarray  # [n] static reorder threshold (stock_levels)
    order_up_to: np.ndarray  # [n] static order-up-to level
    lead_times: LeadTimes
    # [n] a stable number per series: when set, each series draws its lead times from its own
    # random stream, so a subset of the series (one location group) replays as in the whole.
    keys: np.ndarray | None = None
    # [n] int code of the series' dispersion pool (its location group), or one pool for all.
    pools: np.ndarray | None = None

    @property
    def days(self) -> int:
        return int(self.demand.shape[0])

    @property
    def series(self) -> int:
        return int(self.demand.shape[1])

    def replay(self, seed: int) -> Replay:
        """The replay both policies face; lead times drawn once per (day, series) from the
        part's received-order lead times (its supplier's, or everyone's, when it has < 5)."""
        pools = _pools(self.part, self.supplier, self.lead_times, known_only=False)
        if self.keys is None:
            u = np.random.default_rng(seed).random((self.days, self.series))
        else:
            streams = [np.random.default_rng([seed, int(k)]) for k in self.keys]
            u = np.array([r.random(self.days) for r in streams]).T.reshape(self.days, -1)
        lead = pools.draw(u)
        arrivals, on_order = open_orders(
            self.days, self.series, self.open_series, self.open_arrival, self.open_qty
        )
        return Replay(
            demand=self.demand.astype(np.int64),
            lead_time=np.maximum(lead, 1),
            on_hand=self.on_hand.astype(np.int64),
            arrivals=arrivals,
            on_order=on_order,
            unit_cost=self.unit_cost.astype(float),
            active=self.active,
        )

    def lead_time_stats(self) -> tuple[np.ndarray, np.ndarray]:
        """Lead-time mean and standard deviation per series from orders received before the
        period (what a planner knows on day 0), with the same fallbacks as the replay's draws."""
        p = _pools(self.part, self.supplier, self.lead_times, known_only=True)
        # Sums of integers, exact in floats: the same numbers however the orders are counted.
        value = p.values.astype(float)
        csum = np.concatenate([[0.0], np.cumsum(value * p.weights)])
        csq = np.concatenate([[0.0], np.cumsum(value**2 * p.weights)])
        count = p.count
        mean = (csum[p.end] - csum[p.first]) / count
        var = (csq[p.end] - csq[p.first] - count * mean**2) / np.maximum(count - 1, 1)
        return mean, np.sqrt(np.maximum(var, 0.0))

    @cached_property
    def demand_pattern(self) -> np.ndarray:
        """The demand pattern (ml.forecast.classes) per series from the last 365 recorded days;
        computed once, as every PartsFlow run of a comparison (sweep included) uses it."""
        return classify(self.history[-365:].T)

    def abc_class(self) -> np.ndarray:
        """'A'/'B'/'C' per series from the consumption value of the last 365 recorded days,
        ranked within the location as the marts do (as of the period start: no peeking)."""
        value = np.nansum(self.history[-365:], axis=0) * self.unit_cost
        return abc_classes(value, self.location)


def abc_classes(value: np.ndarray, group: np.ndarray) -> np.ndarray:
    """A while the items ranked before hold < 80% of the group's value, B < 95%, else C; ties
    by series order; C in a group without value."""
    order = np.lexsort((np.arange(len(value)), -value, group))
    v, g = value[order], group[order]
    csum = np.cumsum(v)
    starts = np.r_[0, np.flatnonzero(g[1:] != g[:-1]) + 1]
    sizes = np.diff(np.r_[starts, len(v)])
    base = np.repeat(csum[starts] - v[starts], sizes)
    totals = np.repeat(np.add.reduceat(v, starts), sizes)
    before = csum - v - base
    with np.errstate(invalid="ignore", divide="ignore"):
        share = np.where(totals > 0, before / totals, 1.0)
    cls = np.where(share < ABC_CUTS[0], "A", np.where(share < ABC_CUTS[1], "B", "C"))
    out = np.empty(len(value), dtype="<U1")
    out[order] = cls
    return out


@dataclass(frozen=True)
class _Pools:
    """Each series' pool of lead times: rows first..end of `values` (sorted within a pool), each
    row standing for `weights` orders."""

    values: np.ndarray
    weights: np.ndarray
    first: np.ndarray  # [n]
    end: np.ndarray  # [n]

    @property
    def cumulative(self) -> np.ndarray:
        return np.concatenate([[0], np.cumsum(self.weights)])

    @property
    def count(self) -> np.ndarray:
        cum = self.cumulative
        return cum[self.end] - cum[self.first]

    def draw(self, u: np.ndarray) -> np.ndarray:
        """The lead time at rank floor(u * orders) of each series' pool (u in [0, 1), [days, n]):
        with one order per row, values[first + floor(u * count)]."""
        cum = self.cumulative
        rank = cum[self.first] + (u * (cum[self.end] - cum[self.first])).astype(np.int64)
        return self.values[np.searchsorted(cum, rank, side="right") - 1]


def _pools(part: np.ndarray, supplier: np.ndarray, lt: LeadTimes, known_only: bool) -> _Pools:
    """Each series' pool: its part's orders, else its supplier's, else all orders (only those
    received before the period when `known_only`); a part's or supplier's pool from
    MIN_LEAD_TIMES orders on."""
    weights = np.ones(len(lt.days), np.int64) if lt.orders is None else lt.orders
    keep = weights > 0
    if known_only:
        keep &= lt.received_before
    days, w = lt.days[keep], weights[keep].astype(np.int64)
    if len(days) == 0:
        raise ValueError("no received purchase order: lead times are unknown")
    pools = []
    offset = 0
    for key, series_key in ((lt.part[keep], part), (lt.supplier[keep], supplier)):
        order = np.lexsort((days, key))
        uniq, first, rows = np.unique(key[order], return_index=True, return_counts=True)
        orders = np.add.reduceat(w[order], first)
        pos = np.clip(np.searchsorted(uniq, series_key), 0, max(len(uniq) - 1, 0))
        found = (uniq[pos] == series_key) & (orders[pos] >= MIN_LEAD_TIMES) & (series_key >= 0)
        start = offset + first[pos]
        pools.append((days[order], w[order], found, start, start + rows[pos]))
        offset += len(days)
    everyone = np.argsort(days, kind="stable")
    n = len(part)
    first = np.full(n, offset, dtype=np.int64)
    end = np.full(n, offset + len(days), dtype=np.int64)
    for _, _, found, f, e in reversed(pools):  # the part's pool wins over the supplier's
        first = np.where(found, f, first)
        end = np.where(found, e, end)
    return _Pools(
        values=np.concatenate([pools[0][0], pools[1][0], days[everyone]]),
        weights=np.concatenate([pools[0][1], pools[1][1], w[everyone]]),
        first=first,
        end=end,
    )
