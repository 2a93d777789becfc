"""Turn the simulation's index arrays into contract tables with native Arrow types."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator.ledger import (
    PO_STATUSES,
    REF_TXN,
    TYPES,
    USERS_PER_LOCATION,
    MonthData,
)
from orchestration.generator.master import Master
from orchestration.generator.policy import STATUSES, Policy
from orchestration.generator.schema import make_table

US = 1_000_000


def format_ids(prefix: str, numbers: np.ndarray | pa.Array, width: int) -> pa.Array:
    """prefix + zero-padded number, e.g. T-0000000042 (vectorised in Arrow)."""
    digits = pc.utf8_lpad(pc.cast(pa.array(numbers, pa.int64()), pa.string()), width, "0")
    return pc.binary_join_element_wise(prefix, digits, "")


def _timestamps(seconds: np.ndarray) -> pa.Array:
    mask = seconds < 0
    return pa.array(seconds * US, pa.timestamp("us"), mask=mask if mask.any() else None)


class TableBuilder:
    def __init__(self, master: Master, policy: Policy, pair_part: np.ndarray, pair_loc: np.ndarray):
        self.m, self.pol = master, policy
        self.pair_part_ids = master.part_ids.take(pa.array(pair_part))
        self.pair_loc_ids = master.loc_ids.take(pa.array(pair_loc))
        sup = master.part_supplier[pair_part]
        self.pair_supplier_ids = master.supplier_ids.take(pa.array(sup, mask=sup < 0))
        n_loc = len(master.loc_is_warehouse)
        self.users = pa.array(
            [f"U-{loc + 1:03d}{k + 1}" for loc in range(n_loc) for k in range(USERS_PER_LOCATION)]
        )

    def transactions(self, month: MonthData) -> pa.Table | None:
        tx = month.tx
        if not tx:
            return None
        pair = pa.array(tx["pair"])
        kind = tx["ref_kind"]
        num = pa.array(tx["ref_num"])
        prefix = pa.array(["", "PO-", "TR-", "T-"]).take(pa.array(kind))
        body = pc.if_else(
            pa.array(kind == REF_TXN),
            pc.utf8_lpad(pc.cast(num, pa.string()), 10, "0"),
            pc.utf8_lpad(pc.cast(num, pa.string()), 8, "0"),
        )
        ref = pc.binary_join_element_wise(prefix, body, "")
        ref = pc.if_else(pa.array(kind == 0), pa.scalar(None, pa.string()), ref)
        return make_table(
            "transactions",
            {
                "transaction_id": format_ids("T-", tx["id"], 10),
                "occurred_at": _timestamps(tx["ts"]),
                "type": pa.array(TYPES).take(pa.array(tx["type"])),
                "part_id": self.pair_part_ids.take(pair),
                "location_id": self.pair_loc_ids.take(pair),
                "quantity": tx["qty"],
                "unit_cost": tx["cost"],
                "reference": ref,
                "user_id": self.users.take(pa.array(tx["user"])),
            },
        )

    def purchase_orders(self, month: MonthData) -> pa.Table | None:
        po = month.po
        if not po:
            return None
        pair = pa.array(po["pair"])
        return make_table(
            "purchase_orders",
            {
                "po_id": format_ids("PO-", po["po"], 8),
                "part_id": self.pair_part_ids.take(pair),
                "location_id": self.pair_loc_ids.take(pair),
                "supplier_id": self.pair_supplier_ids.take(pair),
                "quantity": po["qty"],
                "ordered_at": _timestamps(po["ordered"]),
                "expected_at": _timestamps(po["expected"]),
                "received_at": _timestamps(po["received"]),
                "status": pa.array(PO_STATUSES).take(pa.array(po["status"])),
                "updated_at": _timestamps(po["updated"]),
            },
        )

    def stock_levels(self, month: MonthData) -> pa.Table | None:
        if len(month.snap_pair) == 0:
            return None
        pair = pa.array(month.snap_pair)
        return make_table(
            "stock_levels",
            {
                "as_of": pa.array(month.snap_day.astype(np.int32), pa.date32()),
                "part_id": self.pair_part_ids.take(pair),
                "location_id": self.pair_loc_ids.take(pair),
                "on_hand": month.snap_on_hand.astype(np.int64),
                "reorder_threshold": self.pol.rop[month.snap_pair],
                "critical_threshold": self.pol.crit[month.snap_pair],
                "status": pa.array(STATUSES).take(pa.array(month.snap_status)),
            },
        )
