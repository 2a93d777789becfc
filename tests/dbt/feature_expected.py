"""Classification and feature values recomputed with pandas from the landing files (no SQL)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from tests.orchestration.expected import read_entity

WINDOW = 365
ADI_CUTOFF, CV2_CUTOFF = 1.32, 0.49


def daily_demand(landing: Path) -> tuple[pd.DataFrame, pd.Timestamp]:
    """(zero-filled issued_qty per pair and day from its first transaction, ledger end day)."""
    tx = read_entity(landing, "transactions")
    tx["day"] = pd.to_datetime(tx["occurred_at"], utc=True).dt.tz_localize(None).dt.normalize()
    end = tx["day"].max()
    first = tx.groupby(["part_id", "location_id"])["day"].min().reset_index()
    frames = [
        pd.DataFrame(
            {
                "part_id": row.part_id,
                "location_id": row.location_id,
                "demand_date": pd.date_range(row.day, end),
            }
        )
        for row in first.itertuples()
    ]
    grid = pd.concat(frames, ignore_index=True)
    issued = (
        tx[tx["type"] == "ISSUE"]
        .groupby(["part_id", "location_id", "day"])["quantity"]
        .sum()
        .rename("issued_qty")
        .reset_index()
        .rename(columns={"day": "demand_date"})
    )
    out = grid.merge(issued, how="left", on=["part_id", "location_id", "demand_date"])
    out["issued_qty"] = out["issued_qty"].fillna(0).astype("int64")
    return out, end


def pattern(n: pd.Series, adi: pd.Series, cv2: pd.Series) -> pd.Series:
    smooth_adi = adi < ADI_CUTOFF
    low_cv = cv2 < CV2_CUTOFF
    out = np.select(
        [n == 0, n < 2, smooth_adi & low_cv, smooth_adi, low_cv],
        ["no_demand", "insufficient_history", "smooth", "erratic", "intermittent"],
        "lumpy",
    )
    return pd.Series(out, index=n.index)


def abc(values: pd.Series, ids: pd.Series) -> pd.Series:
    """A/B/C of each value within its group: share of the group's total held by those before."""
    order = pd.DataFrame({"v": values.astype(float), "id": ids}).sort_values(
        ["v", "id"], ascending=[False, True]
    )
    total = order["v"].sum()
    before = order["v"].cumsum() - order["v"]
    share = before / total if total > 0 else pd.Series(np.nan, index=order.index)
    cls = np.where(share < 0.80, "A", np.where(share < 0.95, "B", "C"))
    return pd.Series(cls, index=order.index).reindex(values.index)


def _stats(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    g = frame.assign(
        nz=(frame["issued_qty"] > 0).astype(int), sq=frame["issued_qty"].astype(float) ** 2
    ).groupby(keys)
    out = pd.DataFrame(
        {
            "observed_days": g.size(),
            "demand_days": g["nz"].sum(),
            "issued_qty": g["issued_qty"].sum(),
            "sq": g["sq"].sum(),
        }
    ).reset_index()
    n, s = out["demand_days"], out["issued_qty"].astype(float)
    out["adi"] = np.where(n >= 2, out["observed_days"] / n.where(n > 0, 1), np.nan)
    out["cv_squared"] = np.where(n >= 2, (n * out["sq"] - s * s) / (s * s).where(s > 0, 1), np.nan)
    out["demand_pattern"] = pattern(n, out["adi"], out["cv_squared"])
    return out.drop(columns="sq")


def pair_classification(landing: Path) -> pd.DataFrame:
    daily, end = daily_demand(landing)
    window = daily[daily["demand_date"] > end - pd.Timedelta(days=WINDOW)]
    out = _stats(window, ["part_id", "location_id"])
    cost = read_entity(landing, "parts").set_index("part_id")["unit_cost"]
    out["consumption_value"] = out["issued_qty"] * out["part_id"].map(cost).fillna(0)
    out["abc_class"] = out.groupby("location_id", group_keys=False)[
        ["consumption_value", "part_id"]
    ].apply(lambda g: abc(g["consumption_value"], g["part_id"]))
    return out


def part_classification(landing: Path) -> pd.DataFrame:
    daily, end = daily_demand(landing)
    window = daily[daily["demand_date"] > end - pd.Timedelta(days=WINDOW)]
    per_day = window.groupby(["part_id", "demand_date"])["issued_qty"].sum().reset_index()
    stats = _stats(per_day, ["part_id"])
    parts = read_entity(landing, "parts")[["part_id", "unit_cost"]]
    out = parts.merge(stats, how="left", on="part_id")
    for col in ("observed_days", "demand_days", "issued_qty"):
        out[col] = out[col].fillna(0).astype("int64")
    out["demand_pattern"] = out["demand_pattern"].fillna("no_demand")
    out["consumption_value"] = out["issued_qty"] * out["unit_cost"]
    out["abc_class"] = abc(out["consumption_value"], out["part_id"])
    return out


FEATURE_WINDOW_DAYS = 365


FEATURE_ORIGIN_EVERY_DAYS = 7


def first_feature_day(end: pd.Timestamp) -> pd.Timestamp:
    """The first day fct_demand_features may hold (var feature_window_days days up to the end)."""
    return end - pd.Timedelta(days=FEATURE_WINDOW_DAYS - 1)


def feature_days(end: pd.Timestamp) -> list[pd.Timestamp]:
    """The days fct_demand_features holds: the scoring date (the day after the ledger end `end`)
    and the forecast origins every var feature_origin_every_days days before it, from the first
    feature day on."""
    scoring = end + pd.Timedelta(days=1)
    step = pd.Timedelta(days=FEATURE_ORIGIN_EVERY_DAYS)
    days = []
    while scoring >= first_feature_day(end):
        days.append(scoring)
        scoring -= step
    return days[::-1]


def monthly_classes(daily: pd.DataFrame, cost: pd.Series) -> pd.DataFrame:
    """Per pair and month: ADI, CV², pattern and ABC (within location and month) over the 12
    calendar months before the month."""
    d = daily.assign(
        month=daily["demand_date"].dt.to_period("M"),
        nz=(daily["issued_qty"] > 0).astype(int),
        sq=daily["issued_qty"].astype(float) ** 2,
    )
    months = (
        d.groupby(["part_id", "location_id", "month"])
        .agg(obs=("issued_qty", "size"), n=("nz", "sum"), s=("issued_qty", "sum"), s2=("sq", "sum"))
        .reset_index()
    )
    rows = []
    for m in months["month"].unique():
        past = months[(months["month"] < m) & (months["month"] >= m - 12)]
        trailing = past.groupby(["part_id", "location_id"])[["obs", "n", "s", "s2"]].sum()
        now = months[months["month"] == m][["part_id", "location_id", "month"]]
        rows.append(now.join(trailing, on=["part_id", "location_id"]))
    out = pd.concat(rows, ignore_index=True).fillna({"obs": 0, "n": 0, "s": 0, "s2": 0})
    n, s = out["n"], out["s"].astype(float)
    out["adi"] = np.where(n >= 2, out["obs"] / n.where(n > 0, 1), np.nan)
    out["cv_squared"] = np.where(n >= 2, (n * out["s2"] - s * s) / (s * s).where(s > 0, 1), np.nan)
    out["demand_pattern"] = pattern(n, out["adi"], out["cv_squared"])
    out["value"] = out["s"] * out["part_id"].map(cost).fillna(0)
    out["abc_class"] = out.groupby(["location_id", "month"], group_keys=False)[
        ["value", "part_id"]
    ].apply(lambda g: abc(g["value"], g["part_id"]))
    return out
