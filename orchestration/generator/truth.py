"""The generator's ground truth for a held-out period, for the policy simulation's benchmark.

Re-runs the generator's simulation in memory (same config, same random streams, so the same world
as the landing files) and records what the files cannot show: the demand drawn every day before
it was served (lost sales are not in the ledger), the static thresholds with their order-up-to
level (`stock_levels` has no such column), and the state at the start of the held-out period
(on hand and the open purchase orders with their arrival days).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from orchestration.generator.config import GeneratorConfig
from orchestration.generator.demand import DemandModel, build_calendar, choose_pairs
from orchestration.generator.ledger import RECEIVED, MonthData
from orchestration.generator.master import build_master
from orchestration.generator.policy import build_policy
from orchestration.generator.simulate import Simulation


@dataclass(frozen=True)
class GeneratorTruth:
    """Per pair (index i) and day arrays; day 0 of `demand`/`served` is the generator's first."""

    start_day: int  # first held-out day (index into the generator's days)
    part: np.ndarray  # part index per pair
    location: np.ndarray  # location index per pair
    supplier: np.ndarray  # supplier index per pair's part (-1: none)
    unit_cost: np.ndarray
    demand: np.ndarray  # [days, pairs] drawn demand (int32)
    served: np.ndarray  # [days, pairs] issued = min(demand, on hand) (int32)
    active: np.ndarray  # [days, pairs] not discontinued (demand and reordering stop after)
    reorder_point: np.ndarray  # the static reorder threshold
    order_up_to: np.ndarray  # the static order-up-to level
    on_hand: np.ndarray  # on hand at the start of start_day
    open_pair: np.ndarray  # purchase orders open at the start of start_day: pair,
    open_qty: np.ndarray  # quantity
    open_arrival: np.ndarray  # and arrival day (generator day index; `days`: never received)
    po_part: np.ndarray  # received purchase orders (all days): part index,
    po_supplier: np.ndarray  # supplier index (-1: none),
    po_ordered: np.ndarray  # day ordered,
    po_lead: np.ndarray  # received day - ordered day


class _Recording(Simulation):
    """The generator's simulation, recording demand before serving and the state at one day."""

    def __init__(self, *args, start_day: int, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        days, n = self.cal.days, self.n
        self.start_day = start_day
        self.demand = np.zeros((days, n), dtype=np.int32)
        self.served = np.zeros((days, n), dtype=np.int32)
        self.snapshot: tuple[np.ndarray, ...] | None = None
        draw = self.model.draw

        def recording_draw(rng, d, active):
            idx, qty = draw(rng, d, active)
            # Called right before the simulation serves the demand from this on-hand.
            self.demand[d, idx] = qty
            self.served[d, idx] = np.minimum(qty, self.on_hand[idx])
            return idx, qty

        self.model.draw = recording_draw  # type: ignore[method-assign]

    def step(self, d: int, tx_buf: list, po_buf: list, snap_buf: list) -> None:
        if d == self.start_day:
            # Start of the day: yesterday's orders are placed, today's receipts not yet booked.
            self.snapshot = (self.on_hand.copy(), *self._in_flight(d))
        super().step(d, tx_buf, po_buf, snap_buf)

    def _in_flight(self, d: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(pair, quantity, arrival day) of the orders open at the start of day d and not
        cancelled later: those received from day d on, and those the simulation never receives
        (still OPEN in the files at the end) with arrival day = the number of days."""
        due = [(day, c) for day, chunks in self.receipts.items() if day >= d for c in chunks]
        pair = [c[0] for _, c in due]
        qty = [c[1] for _, c in due]
        day = [np.full(len(c[0]), dd) for dd, c in due]
        on_order = self.on_order.copy()
        for chunks in (c for day, c in self.receipts.items() if day >= d):
            for c in chunks:
                np.add.at(on_order, c[0], -c[1])
        for chunks in (c for day, c in self.cancels.items() if day >= d):
            for c in chunks:
                np.add.at(on_order, c[0], -c[1])
        never = np.flatnonzero(on_order > 0)
        pair.append(never)
        qty.append(on_order[never])
        day.append(np.full(len(never), self.cal.days))
        return np.concatenate(pair), np.concatenate(qty), np.concatenate(day)


def held_out_truth(config: GeneratorConfig, holdout_days: int) -> GeneratorTruth:
    """Re-run the generator for `config`; the held-out period is its last `holdout_days` days."""
    if not 1 <= holdout_days < config.days:
        raise ValueError(f"holdout_days must be in [1, {config.days - 1}], got {holdout_days}")
    # The same seed sequence and order of streams as generate_landing: the same world.
    s_master, s_pairs, s_demand, s_policy, s_sim, _ = np.random.SeedSequence(config.seed).spawn(6)
    master = build_master(np.random.default_rng(s_master), config.parts, config.locations)
    cal = build_calendar(config.start, config.days, master.loc_country)
    pair_part, pair_loc = choose_pairs(np.random.default_rng(s_pairs), master)
    model = DemandModel(np.random.default_rng(s_demand), master, cal, pair_part, pair_loc)
    policy = build_policy(np.random.default_rng(s_policy), model, master, pair_part, config.days)
    start = config.days - holdout_days
    sim = _Recording(
        np.random.default_rng(s_sim), master, cal, model, policy, pair_part, pair_loc,
        start_day=start,
    )  # fmt: skip
    received: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []

    def on_month(month: MonthData) -> None:
        po = month.po
        if po:
            keep = po["status"] == RECEIVED
            received.append((po["pair"][keep], po["ordered"][keep], po["received"][keep]))

    sim.run(on_month)
    assert sim.snapshot is not None
    on_hand, open_pair, open_qty, open_arrival = sim.snapshot
    pair = np.concatenate([r[0] for r in received])
    ordered = np.concatenate([r[1] for r in received]) // 86400
    lead = np.concatenate([r[2] for r in received]) // 86400 - ordered
    first_epoch = int(cal.epoch_day[0])
    days = np.arange(config.days)[:, None]
    return GeneratorTruth(
        start_day=start,
        part=pair_part,
        location=pair_loc,
        supplier=master.part_supplier[pair_part],
        unit_cost=master.part_cost[pair_part],
        demand=sim.demand,
        served=sim.served,
        active=days < policy.disc_day[None, :],
        reorder_point=policy.rop,
        order_up_to=policy.up_to,
        on_hand=on_hand,
        open_pair=open_pair,
        open_qty=open_qty,
        open_arrival=open_arrival,
        po_part=pair_part[pair],
        po_supplier=master.part_supplier[pair_part[pair]],
        po_ordered=ordered - first_epoch,
        po_lead=lead,
    )
