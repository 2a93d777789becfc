"""The policy simulation's scenario read from the warehouse marts (same SQL on DuckDB and PG).

The held-out period is the last `holdout_days` days of `marts.fct_daily_demand`. Its series are
the part-locations active with a reorder threshold on the day before it (`fct_daily_stock`).

- Demand: the recorded issues (`issued_qty`), in the period and the 365 days before it. Demand
  lost while the real (static) policy was out of stock is not in the ledger, so the period's
  demand is a lower bound that flatters the static policy; the benchmark uses the generator's
  true demand instead.
- Static policy: the `stock_levels` reorder threshold, ordering up to threshold + the pair's
  smallest purchase-order quantity before the period (the generator's MRP orders up to a fixed
  level, so its smallest order is placed exactly at the threshold; on the generated demo data
  this gives the exact level for 89% of the pairs and the value of the levels within 0.1%).
  A pair without a purchase order orders up to threshold + 1.
- Starting stock: on hand at the end of the day before; open orders: ordered before the period
  and received in it (on their received day) or still open (after the period); cancelled orders
  are left out.
- Lead times: every received purchase order (`lead_time_days`) by part and supplier, drawn from
  one random stream per pair (seeded by the seed and the pair); PartsFlow's forecast shrinks each
  pair's dispersion towards its location group's pooled value: so a location group replays its
  pairs exactly as the whole warehouse does.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import numpy as np
import pandas as pd

from ml.replenishment.scenario import LeadTimes, Scenario
from orchestration.defs.partitions import IN_GROUP, group_index
from orchestration.warehouse import Connection

KEYS = ["part_id", "location_id"]
HISTORY_DAYS = 365  # what the policy looks back at: ABC class, demand pattern, forecast window
# Every purchase order, counted: the lead-time pools (part, supplier, everyone) and the parts'
# suppliers need no more, and a few thousand rows replace millions in every group's run. Not
# only the group's parts: a part with fewer than MIN_LEAD_TIMES orders draws from its supplier's
# or everyone's orders, other groups' parts included (and a group-by of those scans it all too).
COUNTED_ORDERS = (
    "select part_id, supplier_id, lead_time_days, "
    "case when status = 'RECEIVED' then 1 else 0 end as received, "
    "case when received_date < ? then 1 else 0 end as before, count(*) as orders "
    "from marts.fct_purchase_orders group by 1, 2, 3, 4, 5"
)


def _day_index(dates: pd.Series, start: date) -> np.ndarray:
    return (pd.to_datetime(dates) - pd.Timestamp(start)).dt.days.to_numpy(np.int64)


def read_scenario(
    conn: Connection, holdout_days: int, locations: list[str] | None = None
) -> Scenario:
    """The last `holdout_days` days of the warehouse as a Scenario (see the module docstring);
    only the given locations' pairs when `locations` is set (one location group: the period,
    lead times and each pair's random stream are the same as in the whole)."""
    (end,) = conn.fetchall("select max(demand_date) from marts.fct_daily_demand")[0]
    first = conn.fetchall("select min(demand_date) from marts.fct_daily_demand")[0][0]
    if end is None:
        raise ValueError("marts.fct_daily_demand is empty: nothing to simulate")
    end, first = pd.Timestamp(end).date(), pd.Timestamp(first).date()
    start = end - timedelta(days=holdout_days - 1)
    if start <= first:
        raise ValueError(
            f"holdout_days={holdout_days} leaves no history before it "
            f"(demand from {first} to {end})"
        )
    sql = (
        "select part_id, location_id, on_hand, reorder_threshold, unit_cost "
        "from marts.fct_daily_stock where stock_date = ? and is_active "
        "and reorder_threshold is not null"
    )

    def of_group(sql: str, params: tuple) -> tuple[str, tuple]:
        # Every read takes only the group's rows: at the l scale the whole demand window alone
        # is 120M rows (a group run went past 20 GB reading them all).
        if locations is None:
            return sql, params
        return f"{sql} and {IN_GROUP}", (*params, locations)

    sql, params = of_group(sql, (start - timedelta(days=1),))
    pairs = conn.query_df(f"{sql} order by part_id, location_id", params)
    if pairs.empty:
        raise ValueError(f"no active part-location with a reorder threshold on {start}")
    first = max(first, start - timedelta(days=HISTORY_DAYS))
    n, days, hist_days = len(pairs), holdout_days, (start - first).days
    part_ids = pd.Index(np.sort(pairs["part_id"].unique()))
    series_of = _series_index(pairs, part_ids)

    grid = _demand_grid(conn, of_group, first, hist_days + days, n, series_of)

    # Only the inactive days: every other day of the period is active.
    flags = conn.query_df(
        *of_group(
            "select part_id, location_id, stock_date from marts.fct_daily_stock "
            "where stock_date >= ? and not is_active",
            (start,),
        )
    )
    s, d = series_of(flags), _day_index(flags["stock_date"], start)
    active = np.ones((days, n), dtype=bool)
    ok = (s >= 0) & (d < days)
    active[d[ok], s[ok]] = False

    # The pairs' orders placed before the period: their smallest lot, and those in flight.
    po = conn.query_df(
        *of_group(
            "select part_id, location_id, quantity, status, received_date "
            "from marts.fct_purchase_orders where ordered_date < ?",
            (start,),
        )
    )
    po_series = series_of(po)
    received = (po["status"] == "RECEIVED").to_numpy()
    received_day = np.where(received, _day_index(po["received_date"].fillna(end), start), days)
    is_open = (po_series >= 0) & (received_day >= 0) & (po["status"] != "CANCELLED").to_numpy()
    smallest = np.full(n, np.inf)
    mine = po_series >= 0
    np.minimum.at(smallest, po_series[mine], po["quantity"].to_numpy(float)[mine])
    rop = pairs["reorder_threshold"].to_numpy(np.int64)
    counted = conn.query_df(COUNTED_ORDERS, (start,))
    # The part's supplier: the one on its purchase orders (the mart fills a PO's missing
    # supplier from the part master, so a part has one).
    suppliers = pd.Index(np.sort(counted["supplier_id"].dropna().unique()))
    part_supplier = counted.dropna(subset=["supplier_id"]).groupby("part_id")["supplier_id"].min()
    lt = counted[counted["received"] == 1]
    locations_pool = {loc: group_index(loc) for loc in pairs["location_id"].unique()}
    return Scenario(
        start=start,
        history=grid[:hist_days],
        demand=np.nan_to_num(grid[hist_days:]).astype(np.int64),
        active=active,
        on_hand=np.maximum(pairs["on_hand"].to_numpy(np.int64), 0),
        open_series=po_series[is_open],
        open_arrival=received_day[is_open],
        open_qty=po["quantity"].to_numpy(np.int64)[is_open],
        unit_cost=pairs["unit_cost"].fillna(0.0).to_numpy(float),
        part=part_ids.get_indexer(pairs["part_id"]),
        supplier=suppliers.get_indexer(pairs["part_id"].map(part_supplier)),
        location=pd.factorize(pairs["location_id"], sort=True)[0].astype(np.int64),
        reorder_point=rop,
        order_up_to=rop + np.where(np.isfinite(smallest), smallest, 1).astype(np.int64),
        keys=np.array(
            [
                zlib.crc32(f"{p}\x1f{loc}".encode())
                for p, loc in zip(pairs["part_id"], pairs["location_id"], strict=True)
            ]
        ),
        pools=pairs["location_id"].map(locations_pool).to_numpy(np.int64),
        lead_times=LeadTimes(
            part=part_ids.get_indexer(lt["part_id"]),  # -1: a part without a pair here
            supplier=suppliers.get_indexer(lt["supplier_id"]),
            received_before=(lt["before"] == 1).to_numpy(),
            days=lt["lead_time_days"].to_numpy(np.int64),
            orders=lt["orders"].to_numpy(np.int64),
        ),
    )


def _demand_grid(conn: Connection, of_group, first: date, length: int, n: int, series_of):
    """Issued quantity per day from `first` (rows) and pair (columns); NaN before a pair's
    first day in marts.fct_daily_demand. The mart is zero-filled from each pair's first day to its
    last, so each pair's span and its days with issues give the grid of all its rows: at the l
    scale a tenth of the rows, and no text per zero day reaches Python."""
    sql, params = of_group(
        "select part_id, location_id, min(demand_date) as first_day, "
        "max(demand_date) as last_day, count(*) as days "
        "from marts.fct_daily_demand where demand_date >= ?",
        (first,),
    )
    spans = conn.query_df(f"{sql} group by part_id, location_id", params)
    lo, hi = _day_index(spans["first_day"], first), _day_index(spans["last_day"], first)
    gaps = spans["days"].to_numpy(np.int64) != hi - lo + 1
    if gaps.any():
        row = spans[gaps].iloc[0]
        raise ValueError(
            f"marts.fct_daily_demand: {int(gaps.sum())} part-locations miss days or repeat them "
            f"between their first and last day, e.g. {row['part_id']!r} at {row['location_id']!r}"
        )
    grid = np.full((length, n), np.nan)
    s, day = series_of(spans), np.arange(length)[:, None]
    mine = s >= 0
    grid[:, s[mine]] = np.where((day >= lo[mine]) & (day <= hi[mine]), 0.0, np.nan)
    issues = conn.query_df(
        *of_group(
            "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand "
            "where demand_date >= ? and (issued_qty <> 0 or issued_qty is null)",
            (first,),
        )
    )
    s, d = series_of(issues), _day_index(issues["demand_date"], first)
    grid[d[s >= 0], s[s >= 0]] = issues["issued_qty"].to_numpy(float)[s >= 0]
    return grid


def _series_index(pairs: pd.DataFrame, part_ids: pd.Index):
    """The function giving the pair (series) number of each row of a frame, -1 for other pairs:
    a lookup table by part and location code (a MultiIndex reindex of millions of rows is slow)."""
    location_ids = pd.Index(np.sort(pairs["location_id"].unique()))
    table = np.full((len(part_ids), len(location_ids)), -1, dtype=np.int64)
    p, loc = part_ids.get_indexer(pairs["part_id"]), location_ids.get_indexer(pairs["location_id"])
    table[p, loc] = np.arange(len(pairs))

    def series_of(frame: pd.DataFrame) -> np.ndarray:
        p = part_ids.get_indexer(frame["part_id"])
        loc = location_ids.get_indexer(frame["location_id"])
        return np.where((p >= 0) & (loc >= 0), table[p, loc], -1)

    return series_of
