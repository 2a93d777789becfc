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

from ml.forecast.history import HistoryError, Panel
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


# One row per series: its first and last day (days since 1970-01-01, the daily periods'
# ordinals), its rows beyond its days and its days with issues (other days of the zero-filled
# mart are zero, so only about a tenth of its rows travel). Same SQL on DuckDB and PostgreSQL.
# The mart has a row for every day of a series, so more rows than days means a day twice (what
# to_panel rejects); counting distinct days instead would double the query's time.
_DAY = "(demand_date - date '1970-01-01')"
_ISSUED = "issued_qty <> 0 or issued_qty is null"
_SERIES_SQL = (
    f"select part_id, location_id, min({_DAY}) as first_day, max({_DAY}) as last_day, "
    f"count(*) - (max({_DAY}) - min({_DAY}) + 1) as duplicates, "
    f"array_agg({_DAY} order by demand_date) filter (where {_ISSUED}) as days, "
    f"array_agg(issued_qty order by demand_date) filter (where {_ISSUED}) as qty "
    "from marts.fct_daily_demand"
)


def _floats(values: object) -> np.ndarray:
    """An aggregated array as floats, NULL = NaN: DuckDB gives a (masked, with NULLs) numpy array
    or <NA> for no rows, psycopg a list (None = NULL) or None."""
    if not isinstance(values, list | np.ndarray):
        return np.empty(0)
    return np.ma.filled(np.ma.asarray(values, dtype=float), np.nan)


def read_daily_demand(conn: Connection, locations: list[str] | None = None) -> Panel:
    """marts.fct_daily_demand (issued quantity per part, location and day) as a daily panel;
    only the given locations' series when `locations` is set (one location group).

    The panel to_panel makes of the mart's rows, without reading its zero days (see _SERIES_SQL).
    """
    if locations is None:
        series = conn.query_df(f"{_SERIES_SQL} group by part_id, location_id")
    else:
        sql = f"{_SERIES_SQL} where {IN_GROUP} group by part_id, location_id"
        series = conn.query_df(sql, (locations,))
    if series.empty:
        raise ValueError("marts.fct_daily_demand is empty: nothing to forecast from")
    duplicates = series["duplicates"].to_numpy(int)
    if (duplicates > 0).any():
        raise HistoryError(
            f"marts.fct_daily_demand: {int(duplicates.clip(0).sum())} duplicate part, location and "
            f"day rows, e.g. {series['part_id'].iloc[duplicates.argmax()]!r} at "
            f"{series['location_id'].iloc[duplicates.argmax()]!r}"
        )
    # Sorted ids, as np.unique gives them in to_panel.
    ids = series_ids(series).to_numpy()
    order = np.argsort(ids, kind="stable")
    series, ids = series.iloc[order].reset_index(drop=True), ids[order]
    first_day = series["first_day"].to_numpy(np.int64)
    lo, hi = int(first_day.min()), int(series["last_day"].max())
    periods = pd.period_range(pd.Period("1970-01-01", "D") + lo, periods=hi - lo + 1, freq="D")
    start = first_day - lo
    values = np.where(np.arange(len(periods))[None, :] >= start[:, None], 0.0, np.nan)
    days = [_floats(d).astype(np.int64) for d in series["days"]]
    qty = [_floats(q) for q in series["qty"]]
    row = np.repeat(np.arange(len(ids)), [len(d) for d in days])
    if len(row):
        values[row, np.concatenate(days) - lo] = np.concatenate(qty)
    return Panel(ids, periods, values, start.astype(int), "D")


def fingerprint(panel: Panel, settings: dict) -> str:
    """Hash of the panel's data and the training settings: equal means retraining is a no-op."""
    digest = hashlib.sha256(json.dumps(settings, sort_keys=True).encode())
    digest.update(str(panel.periods[0]).encode())
    digest.update("\n".join(map(str, panel.ids)).encode())
    digest.update(np.nan_to_num(panel.values, nan=-1.0).tobytes())
    return digest.hexdigest()
