"""The inputs of a policy comparison over one held-out period, and how they become a replay.

Built from the warehouse (orchestration/defs/replenishment) or, for the benchmark, from the
generator's ground truth (orchestration/bench_policy.py). Series are parts at locations.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from ml.replenishment.simulate import Replay, open_orders

MIN_LEAD_TIMES = 5  # a part's own lead times are used from this many received orders on
ABC_CUTS = (0.80, 0.95)  # the marts' ABC rule (dbt macro abc_class)


@dataclass(frozen=True)
class LeadTimes:
    """Received purchase orders: who ordered, when it was received, how long it took (days)."""

    part: np.ndarray  # int code of the part
    supplier: np.ndarray  # int code of the supplier (-1: none)
    received_day: np.ndarray  # day index relative to the period's first day (negative: before)
    days: np.ndarray  # received day - ordered day


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
        values, first, count = _pools(self.part, self.supplier, self.lead_times, None)
        if self.keys is None:
            u = np.random.default_rng(seed).random((self.days, self.series))
        else:
            streams = [np.random.default_rng([seed, int(k)]) for k in self.keys]
            u = np.array([r.random(self.days) for r in streams]).T.reshape(self.days, -1)
        lead = values[first + (u * count).astype(np.int64)]
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
        values, first, count = _pools(self.part, self.supplier, self.lead_times, 0)
        csum = np.concatenate([[0.0], np.cumsum(values, dtype=float)])
        csq = np.concatenate([[0.0], np.cumsum(values.astype(float) ** 2)])
        total = csum[first + count] - csum[first]
        mean = total / count
        var = (csq[first + count] - csq[first] - count * mean**2) / np.maximum(count - 1, 1)
        return mean, np.sqrt(np.maximum(var, 0.0))

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


def _pools(
    part: np.ndarray, supplier: np.ndarray, lt: LeadTimes, received_before: int | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(values, first, count): each series' pool of lead times is values[first:first + count]:
    its part's, else its supplier's, else all orders' (received before a day, or all)."""
    keep = np.ones(len(lt.days), bool)
    if received_before is not None:
        keep = lt.received_day < received_before
    days, lt_part, lt_sup = lt.days[keep], lt.part[keep], lt.supplier[keep]
    if len(days) == 0:
        raise ValueError("no received purchase order: lead times are unknown")
    pools = []
    offset = 0
    for key, series_key in ((lt_part, part), (lt_sup, supplier)):
        order = np.lexsort((days, key))
        uniq, first, count = np.unique(key[order], return_index=True, return_counts=True)
        pos = np.clip(np.searchsorted(uniq, series_key), 0, max(len(uniq) - 1, 0))
        found = (uniq[pos] == series_key) & (count[pos] >= MIN_LEAD_TIMES) & (series_key >= 0)
        pools.append((days[order], found, offset + first[pos], count[pos]))
        offset += len(days)
    everyone = np.sort(days)
    values = np.concatenate([pools[0][0], pools[1][0], everyone])
    n = len(part)
    first = np.full(n, offset, dtype=np.int64)
    count = np.full(n, len(everyone), dtype=np.int64)
    for _, found, f, c in reversed(pools):  # the part's pool wins over the supplier's
        first = np.where(found, f, first)
        count = np.where(found, c, count)
    return values, first, count
