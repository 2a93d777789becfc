"""Mart values computed independently from the landing files with pandas (no SQL, no dbt)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

SIGN = {"ISSUE": -1, "TRANSFER_OUT": -1, "RECEIPT": 1, "TRANSFER_IN": 1, "RETURN": 1}


def read_entity(landing: Path, entity: str) -> pd.DataFrame:
    files = sorted((landing / entity).glob("*.csv"))
    return pd.concat([pd.read_csv(f, dtype={"part_id": str, "location_id": str}) for f in files])


def expected_positions(landing: Path) -> pd.DataFrame:
    """On-hand per pair = latest snapshot + signed ledger of days after it."""
    snaps = read_entity(landing, "stock_levels")
    snaps["as_of"] = pd.to_datetime(snaps["as_of"])
    latest = snaps.sort_values("as_of").groupby(["part_id", "location_id"]).tail(1)
    tx = read_entity(landing, "transactions")
    tx["day"] = pd.to_datetime(tx["occurred_at"]).dt.normalize()
    tx["signed"] = tx["quantity"] * tx["type"].map(SIGN).fillna(1)
    merged = tx.merge(latest[["part_id", "location_id", "as_of"]], how="left")
    after = merged[merged["as_of"].isna() | (merged["day"] > merged["as_of"])]
    delta = after.groupby(["part_id", "location_id"])["signed"].sum().rename("delta")
    pos = latest.set_index(["part_id", "location_id"])[["on_hand"]].join(delta, how="outer")
    pos = pos.fillna(0)
    pos["on_hand"] = (pos["on_hand"] + pos["delta"]).astype("int64")
    parts = read_entity(landing, "parts")[["part_id", "unit_cost"]]
    out = pos.reset_index().merge(parts, on="part_id", how="left")
    out["inventory_value"] = out["on_hand"] * out["unit_cost"]
    return out


def expected_value_by_location(landing: Path) -> pd.Series:
    return expected_positions(landing).groupby("location_id")["inventory_value"].sum()


def expected_demand_rows(landing: Path) -> tuple[int, int]:
    """(row count of the zero-filled daily demand, total issued quantity)."""
    tx = read_entity(landing, "transactions")
    tx["day"] = pd.to_datetime(tx["occurred_at"]).dt.normalize()
    last = tx["day"].max()
    first = tx.groupby(["part_id", "location_id"])["day"].min()
    rows = int(((last - first).dt.days + 1).sum())
    return rows, int(tx.loc[tx["type"] == "ISSUE", "quantity"].sum())
