"""Purchasing and FIFO-ageing values computed independently from the landing files with pandas
(plain loops where SQL uses window functions), for comparison with the marts."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.orchestration.expected import expected_positions, read_entity

RECEIPT_TYPES = ("RECEIPT", "TRANSFER_IN", "RETURN")
BUCKETS = ("age_0_30", "age_31_90", "age_91_180", "age_181_365", "age_over_365")


def ledger_days(landing: Path) -> tuple[pd.Timestamp, pd.Timestamp]:
    """(first, last) UTC day of the transaction ledger; the last is the marts' as-of day."""
    days = pd.to_datetime(read_entity(landing, "transactions")["occurred_at"]).dt.normalize()
    return days.min(), days.max()


def expected_purchase_orders(landing: Path) -> pd.DataFrame:
    """Current state per po_id with lead time, on-time flag and days late."""
    pos = read_entity(landing, "purchase_orders")
    for col in ("ordered_at", "expected_at", "received_at", "updated_at"):
        pos[col] = pd.to_datetime(pos[col])
    current = pos.sort_values("updated_at").groupby("po_id").tail(1).copy()
    parts = read_entity(landing, "parts")[["part_id", "supplier_id"]]
    current = current.merge(parts, on="part_id", how="left", suffixes=("", "_part"))
    current["supplier_id"] = current["supplier_id"].fillna(current["supplier_id_part"])
    _, as_of = ledger_days(landing)
    ordered = current["ordered_at"].dt.normalize()
    expected = current["expected_at"].dt.normalize()
    received = current["received_at"].dt.normalize().where(current["status"] == "RECEIVED")
    current["lead_time_days"] = (received - ordered).dt.days
    current["is_on_time"] = (received <= expected).where(received.notna() & expected.notna())
    past = np.select(
        [current["status"] == "RECEIVED", current["status"] == "OPEN"],
        [(received - expected).dt.days, (as_of - expected).dt.days],
        default=np.nan,
    )
    current["days_late"] = np.nan_to_num(np.clip(past, 0, None)).astype("int64")
    current["is_late"] = current["days_late"] > 0
    return current.set_index("po_id").sort_index()


def expected_supplier_performance(landing: Path) -> pd.DataFrame:
    pos = expected_purchase_orders(landing)
    received = pos[pos["lead_time_days"].notna()]
    judged = pos[pos["is_on_time"].notna()]
    is_open = pos["status"] == "OPEN"
    return pd.DataFrame(
        {
            "lead_time_mean_days": received.groupby("supplier_id")["lead_time_days"].mean(),
            "lead_time_stddev_days": received.groupby("supplier_id")["lead_time_days"].std(),
            "on_time_pct": 100.0 * judged.groupby("supplier_id")["is_on_time"].mean(),
            "open_po_count": is_open.groupby(pos["supplier_id"]).sum(),
            "open_quantity": pos["quantity"].where(is_open, 0).groupby(pos["supplier_id"]).sum(),
        }
    ).sort_index()


def expected_open_orders(landing: Path) -> pd.Series:
    pos = expected_purchase_orders(landing)
    return pos[pos["status"] == "OPEN"].groupby(["part_id", "location_id"])["quantity"].sum()


def _bucket(age_days: int) -> str:
    for upper, name in zip((30, 90, 180, 365), BUCKETS, strict=False):
        if age_days <= upper:
            return name
    return "age_over_365"


def expected_stock_ageing(landing: Path) -> pd.DataFrame:
    """FIFO: take receipts newest first until the pair's on_hand is covered; the rest is of
    unknown age (received 'on the first ledger day', bucket over 365)."""
    first_day, as_of = ledger_days(landing)
    tx = read_entity(landing, "transactions")
    tx["occurred_at"] = pd.to_datetime(tx["occurred_at"])
    positive_adjustment = (tx["type"] == "ADJUSTMENT") & (tx["quantity"] > 0)
    is_receipt = tx["type"].isin(RECEIPT_TYPES) | positive_adjustment
    receipts = tx[is_receipt].sort_values(["occurred_at", "transaction_id"], ascending=False)
    by_pair = dict(list(receipts.groupby(["part_id", "location_id"])))
    parts = read_entity(landing, "parts").set_index("part_id")["shelf_life_days"]
    rows = []
    for pos in expected_positions(landing).itertuples():
        qty = dict.fromkeys((*BUCKETS, "age_unknown", "expired", "expiring_30d"), 0)
        shelf_life = parts.get(pos.part_id)
        remaining = max(int(pos.on_hand), 0)
        layers = []
        group = by_pair.get((pos.part_id, pos.location_id))
        for receipt in [] if group is None else group.itertuples():
            if remaining == 0:
                break
            take = min(int(receipt.quantity), remaining)
            remaining -= take
            layers.append(((as_of - receipt.occurred_at.normalize()).days, take, False))
        if remaining:
            layers.append(((as_of - first_day).days, remaining, True))
        for age, take, unknown in layers:
            qty["age_over_365" if unknown else _bucket(age)] += take
            qty["age_unknown"] += take if unknown else 0
            if pd.notna(shelf_life):
                qty["expired"] += take if age > shelf_life else 0
                qty["expiring_30d"] += take if shelf_life - 30 < age <= shelf_life else 0
        rows.append({"part_id": pos.part_id, "location_id": pos.location_id, **qty})
    return pd.DataFrame(rows).set_index(["part_id", "location_id"]).sort_index()
