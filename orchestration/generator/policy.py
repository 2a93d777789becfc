"""Static replenishment parameters and life-cycle events per part-location pair."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.generator.demand import DemandModel
from orchestration.generator.master import Master

STATUSES = ("active", "discontinued", "quarantined")


@dataclass(frozen=True)
class Policy:
    rop: np.ndarray  # reorder_threshold: order when on hand + on order <= rop
    crit: np.ndarray  # critical_threshold (<= rop): triggers an emergency transfer
    up_to: np.ndarray  # order-up-to level
    lead: np.ndarray  # expected (promised) lead time in days
    reliability: np.ndarray
    initial: np.ndarray  # on hand at the start of day 0
    disc_day: np.ndarray  # first day the pair is discontinued (days = never)
    quar_start: np.ndarray  # quarantine window [start, end) (empty for most pairs)
    quar_end: np.ndarray

    def status(self, d: int) -> np.ndarray:
        """Status code per pair on day d (index into STATUSES)."""
        code = np.where(d >= self.disc_day, 1, 0)
        return np.where((code == 0) & (self.quar_start <= d) & (d < self.quar_end), 2, code)


def build_policy(
    rng: np.random.Generator,
    model: DemandModel,
    master: Master,
    pair_part: np.ndarray,
    days: int,
) -> Policy:
    n = len(pair_part)
    mean, var = model.expected()
    lead = master.part_lead[pair_part]
    rel = master.part_reliability[pair_part]
    # The planner covers the promised lead time plus a review day and the lateness they expect
    # from this supplier; seasonality and trends are not in the static thresholds, which is one
    # source of (realistic) stock-outs.
    risk = lead + 1.0 + (1.0 - rel) * (1.0 + 0.3 * lead)
    z = rng.uniform(1.0, 1.9, n)
    rop = np.maximum(np.ceil(mean * risk * 1.1 + z * np.sqrt(var * risk)), 1).astype(np.int64)
    crit = np.floor(rop * rng.uniform(0.25, 0.5, n)).astype(np.int64)
    cycle = rng.uniform(14.0, 60.0, n)  # days of demand one order should cover
    up_to = rop + np.maximum(np.ceil(mean * cycle), 1).astype(np.int64)
    initial = rop + 1 + np.floor(rng.random(n) * (up_to - rop)).astype(np.int64)

    # ~6% of pairs are discontinued some time in the horizon (superseded: demand moves to the
    # successor, replenishment stops, the remaining stock stays as dead stock).
    disc = rng.random(n) < 0.06
    disc_day = np.where(disc, rng.integers(int(days * 0.1), max(int(days * 0.95), 1) + 1, n), days)
    quar = rng.random(n) < 0.02
    quar_start = np.where(quar, rng.integers(0, days, n), days)
    quar_end = quar_start + rng.integers(7, 43, n)
    return Policy(
        rop=rop,
        crit=crit,
        up_to=up_to,
        lead=lead.astype(np.int64),
        reliability=rel,
        initial=initial,
        disc_day=disc_day.astype(np.int64),
        quar_start=quar_start.astype(np.int64),
        quar_end=quar_end.astype(np.int64),
    )
