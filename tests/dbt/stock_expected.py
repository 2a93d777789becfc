"""Stock marts recomputed independently from the landing files with pandas (no SQL, no dbt).

The daily stock is rebuilt with a plain day-by-day loop per pair (forward from the first snapshot,
reset on every later snapshot, backward before it), the KPIs with pandas time-based rolling
windows: a different formulation from the marts' running-sum differences.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.orchestration.expected import SIGN, read_entity

HOLDING_RATE = 0.25
OBSOLETE_DAYS, SLOW_DAYS = 365, 180
TOP_N = 10
SCOPES = {"company": None, "location": "location_id", "region": "region", "category": "category_id"}


def _ledger(landing: Path) -> pd.DataFrame:
    tx = read_entity(landing, "transactions")
    tx["date"] = pd.to_datetime(tx["occurred_at"]).dt.normalize()
    tx["net"] = tx["quantity"] * tx["type"].map(SIGN).fillna(1)
    tx["received"] = tx["quantity"].where(tx["type"] == "RECEIPT", 0)
    tx["issued"] = tx["quantity"].where(tx["type"] == "ISSUE", 0)
    keys = ["part_id", "location_id", "date"]
    return tx.groupby(keys)[["net", "received", "issued"]].sum().reset_index()


def _snapshots(landing: Path) -> pd.DataFrame:
    snaps = read_entity(landing, "stock_levels")
    snaps["date"] = pd.to_datetime(snaps["as_of"])
    snaps["status"] = snaps["status"].fillna("active")
    return snaps.drop_duplicates(["part_id", "location_id", "date"], keep="last")


def _pair_days(pair_ledger: pd.DataFrame, pair_snaps: pd.DataFrame, end) -> pd.DataFrame:
    first = min(pair_ledger["date"].min(), pair_snaps["date"].min())
    days = pd.date_range(first, end, freq="D")
    frame = pair_ledger.set_index("date").reindex(days, fill_value=0)
    snaps = pair_snaps.set_index("date").reindex(days)
    net = frame["net"].to_numpy()
    counted = snaps["on_hand"].to_numpy()
    on_hand = np.zeros(len(days), dtype=np.int64)
    have = np.flatnonzero(~np.isnan(counted))
    if len(have) == 0:
        on_hand = np.cumsum(net)
    else:
        start = have[0]
        for i in range(start, len(days)):
            if not np.isnan(counted[i]):
                on_hand[i] = counted[i]
            else:
                on_hand[i] = on_hand[i - 1] + net[i]
        for i in range(start - 1, -1, -1):
            on_hand[i] = on_hand[i + 1] - net[i + 1]
    out = pd.DataFrame(
        {
            "stock_date": days,
            "on_hand": on_hand,
            "received_qty": frame["received"].to_numpy(),
            "issued_qty": frame["issued"].to_numpy(),
            "net_change": net,
            "snapshot_on_hand": counted,
            "reorder_threshold": snaps["reorder_threshold"].ffill().to_numpy(),
            "critical_threshold": snaps["critical_threshold"].ffill().to_numpy(),
            "status": snaps["status"].ffill().fillna("active").to_numpy(),
        }
    )
    return out


def daily_stock(landing: Path) -> pd.DataFrame:
    """One row per pair and day, with value, flags, region and category."""
    ledger, snaps = _ledger(landing), _snapshots(landing)
    end = ledger["date"].max()
    snaps = snaps[snaps["date"] <= end]
    empty_ledger = ledger.iloc[:0]
    empty_snaps = snaps.iloc[:0]
    ledger_by_pair = dict(tuple(ledger.groupby(["part_id", "location_id"])))
    snaps_by_pair = dict(tuple(snaps.groupby(["part_id", "location_id"])))
    frames = []
    for pair in sorted(set(ledger_by_pair) | set(snaps_by_pair)):
        df = _pair_days(
            ledger_by_pair.get(pair, empty_ledger), snaps_by_pair.get(pair, empty_snaps), end
        )
        df["part_id"], df["location_id"] = pair
        frames.append(df)
    out = pd.concat(frames, ignore_index=True)
    parts = read_entity(landing, "parts")[["part_id", "unit_cost", "category_id"]]
    locations = read_entity(landing, "locations")[["location_id", "region"]]
    out = out.merge(parts, on="part_id", how="left").merge(locations, on="location_id", how="left")
    out["is_active"] = out["status"] == "active"
    out["is_stockout"] = out["on_hand"] <= 0
    out["inventory_value"] = out["on_hand"] * out["unit_cost"]
    out["issue_cost"] = out["issued_qty"] * out["unit_cost"]
    # Days without an ISSUE, counted from the last one or from the pair's first day.
    keys = ["part_id", "location_id"]
    out = out.sort_values([*keys, "stock_date"]).reset_index(drop=True)
    last_issue = (
        out["stock_date"]
        .where(out["issued_qty"] > 0)
        .groupby([out["part_id"], out["location_id"]])
        .ffill()
    )
    first_day = out.groupby(keys)["stock_date"].transform("min")
    out["days_without_issue"] = (out["stock_date"] - last_issue.fillna(first_day)).dt.days
    stocked = out["on_hand"] > 0
    out["obsolete_value"] = out["inventory_value"].where(
        stocked & (out["days_without_issue"] >= OBSOLETE_DAYS), 0.0
    )
    out["slow_moving_value"] = out["inventory_value"].where(
        stocked & out["days_without_issue"].between(SLOW_DAYS, OBSOLETE_DAYS - 1), 0.0
    )
    return out


def stock_counts(landing: Path) -> pd.DataFrame:
    """Every snapshot after a pair's first: counted vs previous count + ledger in between."""
    ledger, snaps = _ledger(landing), _snapshots(landing)
    snaps = snaps[snaps["date"] <= ledger["date"].max()].sort_values("date")
    rows = []
    for (part, loc), group in snaps.groupby(["part_id", "location_id"]):
        pair = ledger[(ledger["part_id"] == part) & (ledger["location_id"] == loc)]
        counted = group[["date", "on_hand"]].to_numpy()
        for (prev_day, prev_qty), (day, qty) in zip(counted[:-1], counted[1:], strict=True):
            moved = pair.loc[(pair["date"] > prev_day) & (pair["date"] <= day), "net"].sum()
            rows.append((part, loc, day, int(qty), int(prev_qty + moved)))
    cols = ["part_id", "location_id", "count_date", "counted_on_hand", "ledger_on_hand"]
    out = pd.DataFrame(rows, columns=cols)
    out["is_accurate"] = out["counted_on_hand"] == out["ledger_on_hand"]
    return out


def _scoped(ds: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """Per scope and day: sums of the pair-day measures."""
    attrs = ds[["part_id", "location_id", "region", "category_id"]].drop_duplicates()
    counts = counts.merge(attrs, on=["part_id", "location_id"]).rename(
        columns={"count_date": "stock_date"}
    )
    ds = ds.assign(active=ds["is_active"], out=ds["is_active"] & ds["is_stockout"])
    frames = []
    for scope, column in SCOPES.items():
        by = ["stock_date"] if column is None else [column, "stock_date"]
        sums = ds.groupby(by)[
            ["inventory_value", "issue_cost", "active", "out", "obsolete_value", "on_hand"]
        ].sum()
        checked = counts.groupby(by)["is_accurate"].agg(["count", "sum"])
        sums = sums.join(checked, how="left").fillna({"count": 0, "sum": 0}).reset_index()
        sums["scope_type"] = scope
        sums["scope_id"] = None if column is None else sums[column]
        frames.append(sums)
    return pd.concat(frames, ignore_index=True)


def kpi_daily(ds: pd.DataFrame, counts: pd.DataFrame) -> pd.DataFrame:
    """mart_kpi_daily's KPIs per (scope_type, scope_id, kpi_date)."""
    out = []
    for (_scope, _id), s in _scoped(ds, counts).groupby(["scope_type", "scope_id"], dropna=False):
        s = s.set_index("stock_date").sort_index()
        year = s[["inventory_value", "issue_cost"]].rolling("365D").sum()
        value_sum, cost_sum = year["inventory_value"], year["issue_cost"]
        n = s["inventory_value"].rolling("365D").count()
        quarter = s["issue_cost"].rolling("90D")
        avg_value = value_sum / n
        annual_cost = cost_sum * 365 / n
        kpi = pd.DataFrame(
            {
                "scope_type": s["scope_type"],
                "scope_id": s["scope_id"],
                "inventory_value": s["inventory_value"],
                "stockout_rate": s["out"] / s["active"].where(s["active"] > 0),
                "inventory_turnover": annual_cost / avg_value.where(value_sum > 0),
                "days_of_supply": s["inventory_value"]
                / (quarter.sum() / quarter.count()).where(quarter.sum() > 0),
                "carrying_cost_share": (avg_value * HOLDING_RATE) / annual_cost.where(cost_sum > 0),
                "obsolete_share": s["obsolete_value"]
                / s["inventory_value"].where(s["inventory_value"] > 0),
                "inventory_accuracy": s["sum"] / s["count"].where(s["count"] > 0),
                "active_pair_days": s["active"],
                "stockout_pair_days": s["out"],
                "counts_checked": s["count"],
                "counts_accurate": s["sum"],
            }
        )
        out.append(kpi.rename_axis("kpi_date").reset_index())
    return pd.concat(out, ignore_index=True)


def stock_movement(ds: pd.DataFrame) -> pd.DataFrame:
    end = ds["stock_date"].max()
    last = ds.loc[ds["stock_date"] == end].set_index(["part_id", "location_id"])
    recent = ds[ds["stock_date"] > end - pd.Timedelta(days=90)]
    demand = recent.groupby(["part_id", "location_id"])["issued_qty"].sum() / 90
    issued = ds[ds["issued_qty"] > 0].groupby(["part_id", "location_id"])["stock_date"].max()
    out = pd.DataFrame(
        {
            "on_hand": last["on_hand"],
            "last_issue_date": issued.reindex(last.index),
            "days_without_issue": last["days_without_issue"],
            "days_of_supply": last["on_hand"] / demand.reindex(last.index).where(lambda d: d > 0),
        }
    )
    out["is_obsolete"] = (out["on_hand"] > 0) & (out["days_without_issue"] >= OBSOLETE_DAYS)
    out["is_slow_moving"] = (out["on_hand"] > 0) & out["days_without_issue"].between(
        SLOW_DAYS, OBSOLETE_DAYS - 1
    )
    return out.reset_index()


def top_moving_parts(ds: pd.DataFrame) -> pd.DataFrame:
    end = ds["stock_date"].max()
    frames = []
    for window in (7, 30, 90):
        recent = ds[(ds["stock_date"] > end - pd.Timedelta(days=window)) & (ds["issued_qty"] > 0)]
        moved = recent.groupby(["location_id", "part_id"])[["issued_qty", "issue_cost"]].sum()
        moved = moved.reset_index().rename(columns={"issue_cost": "issued_value"})
        for column, rank in (("issued_qty", "rank_by_quantity"), ("issued_value", "rank_by_value")):
            ordered = moved.sort_values(
                ["location_id", column, "part_id"], ascending=[True, False, True]
            )
            moved[rank] = ordered.groupby("location_id").cumcount().reindex(moved.index) + 1
        moved["window_days"] = window
        frames.append(
            moved[(moved["rank_by_quantity"] <= TOP_N) | (moved["rank_by_value"] <= TOP_N)]
        )
    return pd.concat(frames, ignore_index=True)
