"""Daily demand from the warehouse as a forecasting panel, and back from series ids to keys.

A series is a part at a location. Its id in the panel is the JSON pair [part_id, location_id]:
stable across runs (per-series dispersion is looked up by it) and decoded back to the two
columns, so no id ever goes into SQL.
"""

from __future__ import annotations

import hashlib
import json
import zlib

import numpy as np
import pandas as pd

from ml.forecast.history import Panel, to_panel
from orchestration.defs.partitions import IN_GROUP
from orchestration.warehouse import Connection

KEYS = ["part_id", "location_id"]


def series_ids(frame: pd.DataFrame) -> pd.Series:
    pairs = zip(frame["part_id"].astype(str), frame["location_id"].astype(str), strict=True)
    return pd.Series([json.dumps(list(p)) for p in pairs], index=frame.index)


def keys_of(ids: pd.Series) -> pd.DataFrame:
    """part_id, location_id columns for series ids made by series_ids."""
    pairs = [json.loads(i) for i in ids]
    return pd.DataFrame(pairs, columns=KEYS, index=ids.index)


def training_locations(conn: Connection, max_series: int) -> list[str] | None:
    """None (every location) when marts.fct_daily_demand has at most `max_series` series; else
    the first locations, in a stable pseudo-random order (crc32 of the id), whose series reach
    `max_series`. Series of the other locations are scored with the model's median dispersion."""
    rows = conn.fetchall(
        "select location_id, count(distinct part_id) from marts.fct_daily_demand "
        "group by location_id"
    )
    if sum(int(n) for _, n in rows) <= max_series:
        return None
    chosen: list[str] = []
    total = 0
    for location, n in sorted(rows, key=lambda r: (zlib.crc32(str(r[0]).encode()), str(r[0]))):
        if total >= max_series:
            break
        chosen.append(str(location))
        total += int(n)
    return chosen


def read_daily_demand(conn: Connection, locations: list[str] | None = None) -> Panel:
    """marts.fct_daily_demand (issued quantity per part, location and day) as a daily panel;
    only the given locations' series when `locations` is set (one location group)."""
    sql = "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand"
    if locations is None:
        history = conn.query_df(sql)
    else:
        history = conn.query_df(f"{sql} where {IN_GROUP}", (locations,))
    if history.empty:
        raise ValueError("marts.fct_daily_demand is empty: nothing to forecast from")
    frame = pd.DataFrame(
        {
            "series_id": series_ids(history),
            "date": pd.to_datetime(history["demand_date"]),
            "quantity": history["issued_qty"].astype(float),
        }
    )
    return to_panel(frame, "D", "marts.fct_daily_demand")


def fingerprint(panel: Panel, settings: dict) -> str:
    """Hash of the panel's data and the training settings: equal means retraining is a no-op."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(str(panel.periods[0]).encode())
    digest.update("\n".join(map(str, panel.ids)).encode())
    digest.update(np.nan_to_num(panel.values, nan=-1.0).tobytes())
    return digest.hexdigest()
