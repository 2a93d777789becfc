"""Day-by-day inventory simulation, vectorised across all part-location pairs.

Within a day every pair's inflows (receipts, transfers in, returns: 06:00-08:00) come before its
outflows (issues 08:00-18:00, cycle-count adjustments 18:00-19:00, transfers out 19:00-20:00), so a
running balance in timestamp order never goes negative. Same-day transfers in land 21:00-23:00,
purchase orders are raised by the nightly MRP run at 23:00.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from tqdm import tqdm

from orchestration.generator.demand import Calendar, DemandModel
from orchestration.generator.ledger import (
    ADJUSTMENT,
    CANCELLED,
    ISSUE,
    OPEN,
    PO_FIELDS,
    RECEIPT,
    RECEIVED,
    REF_NONE,
    REF_PO,
    REF_TRANSFER,
    REF_TXN,
    RETURN,
    TRANSFER_IN,
    TRANSFER_OUT,
    TX_FIELDS,
    USERS_PER_LOCATION,
    MonthData,
    Queue,
    Stats,
    pop_due,
    schedule,
)
from orchestration.generator.master import Master
from orchestration.generator.policy import Policy

H = 3600  # seconds per hour

# Rates of the side processes (per pair-day unless noted).
P_ADJUST = 0.0015
P_TRANSFER = 0.08  # share of pairs at/below critical that get an emergency transfer that day
P_RETURN = 0.02  # share of issues partly returned later
P_CANCEL = 0.02  # share of purchase orders cancelled
P_SHRINK = 0.008  # share of snapshot rows with an unrecorded loss before the count


class Simulation:
    def __init__(
        self,
        rng: np.random.Generator,
        master: Master,
        cal: Calendar,
        model: DemandModel,
        policy: Policy,
        pair_part: np.ndarray,
        pair_loc: np.ndarray,
    ) -> None:
        self.rng, self.master, self.cal, self.model, self.pol = rng, master, cal, model, policy
        self.pair_part, self.pair_loc = pair_part, pair_loc
        n = len(pair_part)
        self.n = n
        self.on_hand = policy.initial.copy()
        self.on_order = np.zeros(n, dtype=np.int64)
        counts = np.bincount(pair_part, minlength=len(master.part_cost))
        self.part_start = np.cumsum(counts) - counts
        self.part_count = counts
        self.multi = counts[pair_part] > 1
        self.receipts: Queue = {}
        self.cancels: Queue = {}
        self.transfers_in: Queue = {}
        self.returns: Queue = {}
        self.next_tx = 1
        self.next_po = 1
        self.next_tr = 1
        self.stats = Stats(
            issue_days=np.zeros(n, dtype=np.int64),
            qty_sum=np.zeros(n, dtype=np.int64),
            qty_sq=np.zeros(n, dtype=np.int64),
        )
        self.snap_days = np.flatnonzero((cal.dow == 6) | (np.arange(cal.days) == cal.days - 1))
        self._snap_set = set(self.snap_days.tolist())

    # -- helpers ---------------------------------------------------------------------------------
    def _times(self, d: int, k: int, lo: float, hi: float) -> np.ndarray:
        base = int(self.cal.epoch_day[d]) * 86400
        return base + self.rng.integers(int(lo * H), int(hi * H), k)

    def _tx(self, day_tx: list, ts, typ, pair, qty, cost=None, ref_kind=REF_NONE, ref_num=None):
        k = len(pair)
        if k == 0:
            return
        day_tx.append(
            (
                ts,
                np.full(k, typ, dtype=np.int8),
                pair,
                qty,
                np.full(k, np.nan) if cost is None else cost,
                np.full(k, ref_kind, dtype=np.int8),
                np.zeros(k, dtype=np.int64) if ref_num is None else ref_num,
            )
        )

    def _po_rows(
        self, buf: list, cols: tuple[np.ndarray, ...], status: int, ts: np.ndarray
    ) -> None:
        pair, qty, po, ordered, expected, _cost = cols
        received = ts if status == RECEIVED else np.full(len(pair), -1, dtype=np.int64)
        buf.append((po, pair, qty, ordered, expected, received, np.full(len(pair), status), ts))

    # -- the day ---------------------------------------------------------------------------------
    def step(self, d: int, tx_buf: list, po_buf: list, snap_buf: list) -> None:
        rng, pol, on_hand = self.rng, self.pol, self.on_hand
        day_tx: list = []

        # 1. Morning inflows.
        got = pop_due(self.receipts, d)
        if got is not None:
            pair, qty, po, _o, _e, cost = got
            np.add.at(on_hand, pair, qty)
            np.add.at(self.on_order, pair, -qty)
            ts = self._times(d, len(pair), 6, 8)
            self._tx(day_tx, ts, RECEIPT, pair, qty, cost, REF_PO, po)
            self._po_rows(po_buf, got, RECEIVED, ts)
            self.stats.add("po_received", len(pair))
        got = pop_due(self.cancels, d)
        if got is not None:
            np.add.at(self.on_order, got[0], -got[1])
            self._po_rows(po_buf, got, CANCELLED, self._times(d, len(got[0]), 9, 17))
            self.stats.add("po_cancelled", len(got[0]))
        got = pop_due(self.transfers_in, d)
        if got is not None:
            pair, qty, ref = got
            np.add.at(on_hand, pair, qty)
            self._tx(day_tx, self._times(d, len(pair), 6, 8), TRANSFER_IN, pair, qty, None,
                     REF_TRANSFER, ref)  # fmt: skip
        got = pop_due(self.returns, d)
        if got is not None:
            pair, qty, ref = got
            np.add.at(on_hand, pair, qty)
            self._tx(day_tx, self._times(d, len(pair), 6, 8), RETURN, pair, qty, None, REF_TXN, ref)
            self.stats.add("returned_units", qty.sum())

        # 2. Demand, served up to what is on the shelf; the rest is lost.
        idx, demand = self.model.draw(rng, d, d < pol.disc_day)
        served = np.minimum(demand, on_hand[idx])
        on_hand[idx] -= served
        self.stats.add("demand_units", demand.sum())
        self.stats.add("lost_units", (demand - served).sum())
        self.stats.add("stockout_events", (served < demand).sum())
        keep = served > 0
        idx, served = idx[keep], served[keep]
        self._tx(day_tx, self._times(d, len(idx), 8, 18), ISSUE, idx, served)
        self.stats.issue_days[idx] += 1
        self.stats.qty_sum[idx] += served
        self.stats.qty_sq[idx] += served * served

        # 3. Cycle counts that find a difference book it as a signed adjustment.
        who = np.unique(rng.integers(0, self.n, rng.binomial(self.n, P_ADJUST)))
        mag = rng.geometric(0.5, len(who))
        neg = (rng.random(len(who)) < 0.6) & (on_hand[who] > 0)
        delta = np.where(neg, -np.minimum(mag, on_hand[who]), mag)
        on_hand[who] += delta
        self._tx(day_tx, self._times(d, len(who), 18, 19), ADJUSTMENT, who, delta)

        # 4. Emergency transfers to pairs at or below critical from the sibling with most surplus.
        self._transfers(d, day_tx)

        # 5. Snapshot (weekly + last day) after an occasional unrecorded loss.
        if d in self._snap_set:
            if d != self.snap_days[0]:
                # Shrinkage happens without a transaction; the count records the physical stock,
                # which is the truth from then on (the first snapshot is the baseline).
                cand = np.flatnonzero(on_hand > 0)
                hit = cand[rng.random(len(cand)) < P_SHRINK]
                on_hand[hit] -= np.minimum(rng.geometric(0.45, len(hit)), on_hand[hit])
                self.stats.add("snapshot_discrepancies", len(hit))
            snap_buf.append((d, on_hand.copy(), pol.status(d).astype(np.int8)))

        # 6. Nightly MRP: reorder-point policy on inventory position, order up to the target.
        self._reorder(d, po_buf)
        self.stats.add("stockout_pair_days", (on_hand == 0).sum())

        # 7. Number the day's transactions in time order; schedule partial returns of issues.
        if day_tx:
            cols = [np.concatenate(c) for c in zip(*day_tx, strict=True)]
            order = np.lexsort((cols[2], cols[1], cols[0]))
            cols = [c[order] for c in cols]
            ids = self.next_tx + np.arange(len(order), dtype=np.int64)
            self.next_tx += len(order)
            users = self.pair_loc[cols[2]] * USERS_PER_LOCATION + rng.integers(
                0, USERS_PER_LOCATION, len(order)
            )
            tx_buf.append((ids, *cols, users))
            is_issue = np.flatnonzero(cols[1] == ISSUE)
            ret = is_issue[rng.random(len(is_issue)) < P_RETURN]
            qty = 1 + rng.binomial(cols[3][ret] - 1, 0.2)
            when = d + rng.integers(1, 15, len(ret))
            ok = when < self.cal.days
            schedule(self.returns, when[ok], (cols[2][ret][ok], qty[ok], ids[ret][ok]))

    def _transfers(self, d: int, day_tx: list) -> None:
        rng, pol, on_hand = self.rng, self.pol, self.on_hand
        cand = np.flatnonzero((on_hand <= pol.crit) & (d < pol.disc_day) & self.multi)
        cand = cand[rng.random(len(cand)) < P_TRANSFER]
        if len(cand) == 0:
            return
        # One receiving pair per part and day, so a donor is never promised twice.
        _, first = np.unique(self.pair_part[cand], return_index=True)
        needy = cand[first]
        counts = self.part_count[self.pair_part[needy]]
        starts = self.part_start[self.pair_part[needy]]
        grp = np.repeat(np.arange(len(needy)), counts)
        offsets = np.cumsum(counts) - counts
        sib = starts[grp] + np.arange(counts.sum()) - np.repeat(offsets, counts)
        avail = on_hand[sib] - pol.rop[sib] - 1  # donors stay above their own reorder point
        best = np.lexsort((-avail, grp))[offsets]
        donor, avail = sib[best], avail[best]
        qty = np.minimum(pol.rop[needy] + 1 - on_hand[needy], avail)
        ok = qty >= 1
        needy, donor, qty = needy[ok], donor[ok], qty[ok]
        if len(needy) == 0:
            return
        ref = self.next_tr + np.arange(len(needy), dtype=np.int64)
        self.next_tr += len(needy)
        on_hand[donor] -= qty
        self._tx(day_tx, self._times(d, len(donor), 19, 20), TRANSFER_OUT, donor, qty, None,
                 REF_TRANSFER, ref)  # fmt: skip
        same = (rng.random(len(needy)) < 0.5) | (d == self.cal.days - 1)
        on_hand[needy[same]] += qty[same]
        self._tx(day_tx, self._times(d, int(same.sum()), 21, 23), TRANSFER_IN, needy[same],
                 qty[same], None, REF_TRANSFER, ref[same])  # fmt: skip
        nxt = ~same
        schedule(self.transfers_in, np.full(int(nxt.sum()), d + 1),
                  (needy[nxt], qty[nxt], ref[nxt]))  # fmt: skip
        self.stats.add("transfers", len(needy))

    def _reorder(self, d: int, po_buf: list) -> None:
        rng, pol = self.rng, self.pol
        position = self.on_hand + self.on_order
        trig = np.flatnonzero((position <= pol.rop) & (d < pol.disc_day))
        k = len(trig)
        if k == 0:
            return
        qty = pol.up_to[trig] - position[trig]
        self.on_order[trig] += qty
        po = self.next_po + np.arange(k, dtype=np.int64)
        self.next_po += k
        lead = pol.lead[trig]
        ordered = self._times(d, k, 23, 24)
        expected = ordered + lead * 86400
        # Unreliable suppliers are late more often; a few deliveries come a day or two early.
        late = rng.random(k) < np.minimum((1.0 - pol.reliability[trig]) * 1.5, 0.9)
        delay = np.where(late, 1 + rng.poisson(0.25 * lead), 0)
        early = np.where(rng.random(k) < 0.1, rng.integers(1, 3, k), 0)
        arrive = d + np.maximum(lead + delay - early, 1)
        cost = np.maximum(
            np.round(self.master.part_cost[self.pair_part[trig]] * rng.normal(1.0, 0.02, k), 2),
            0.01,
        )
        cancel = rng.random(k) < P_CANCEL
        cancel_day = d + rng.integers(1, np.maximum(lead, 2))
        cols = (trig, qty, po, ordered, expected, cost)
        po_buf.append(
            (po, trig, qty, ordered, expected, np.full(k, -1, dtype=np.int64), np.full(k, OPEN),
             ordered)
        )  # fmt: skip
        rec = ~cancel & (arrive < self.cal.days)
        schedule(self.receipts, arrive[rec], tuple(c[rec] for c in cols))
        can = cancel & (cancel_day < self.cal.days)
        schedule(self.cancels, cancel_day[can], tuple(c[can] for c in cols))
        self.stats.add("po_created", k)
        self.stats.add("po_late", (late & rec).sum())

    # -- driver ----------------------------------------------------------------------------------
    def run(self, on_month: Callable[[MonthData], None], progress: bool = False) -> Stats:
        cal = self.cal
        tx_buf: list = []
        po_buf: list = []
        snap_buf: list = []
        bar = tqdm(total=cal.days, desc="simulating", unit="day", disable=not progress)
        for d in range(cal.days):
            self.step(d, tx_buf, po_buf, snap_buf)
            bar.update(1)
            if d == cal.days - 1 or cal.month_key[d + 1] != cal.month_key[d]:
                bar.set_postfix_str(f"writing {cal.month_key[d]}")
                on_month(self._month(cal.month_key[d], tx_buf, po_buf, snap_buf))
                tx_buf, po_buf, snap_buf = [], [], []
        bar.close()
        return self.stats

    def _month(self, month: str, tx_buf: list, po_buf: list, snap_buf: list) -> MonthData:
        def cat(buf: list, names: tuple[str, ...]) -> dict[str, np.ndarray]:
            if not buf:
                return {}
            return {
                k: np.concatenate(c) for k, c in zip(names, zip(*buf, strict=True), strict=True)
            }

        tx = cat(tx_buf, ("id", *TX_FIELDS, "user"))
        po = cat(po_buf, PO_FIELDS)
        if po:
            order = np.lexsort((po["po"], po["updated"]))
            po = {k: v[order] for k, v in po.items()}
        n = self.n
        return MonthData(
            month=month,
            tx=tx,
            po=po,
            snap_day=np.repeat(self.cal.epoch_day[[s[0] for s in snap_buf]].astype(np.int64), n)
            if snap_buf
            else np.zeros(0, dtype=np.int64),
            snap_pair=np.tile(np.arange(n), len(snap_buf)),
            snap_on_hand=np.concatenate([s[1] for s in snap_buf]) if snap_buf else np.zeros(0),
            snap_status=np.concatenate([s[2] for s in snap_buf]) if snap_buf else np.zeros(0),
        )
