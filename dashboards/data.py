"""Every query the dashboard runs: marts/ml/ops only, parameterized, cached per serving snapshot.

DuckDB mode reads the published serving copy, never the warehouse file (the pipeline holds its
write lock); PostgreSQL mode reads the warehouse itself. Each statement is written once with `?`
placeholders and translated to psycopg's `%s`, so both backends run the same SQL.

Every function that returns rows of a location takes `location_ids` (the user's scope narrowed by
the filters) and applies it in SQL, so a user never receives another location's rows.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import psycopg
import streamlit as st

from orchestration import env
from orchestration.warehouse import qualified, to_pyformat

NO_DATA_MESSAGE = "No published data yet: run `make demo` or materialize all assets in Dagster"
# Results are keyed by the snapshot version, so a new publish shows up on the next rerun; the TTL
# only bounds how long superseded results stay in memory (and dbt rebuilds on PostgreSQL
# that skipped the publish).
TTL = 300
LocationIds = tuple[str, ...] | None  # None means every location; () means none

# The location filter: two parameters from _loc(). A flag instead of an optional clause keeps the
# SQL text constant (no string building from input).
LOC = "(NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
SERVED_SCHEMAS = ("marts", "ml", "ops", "pipeline")


def _loc(location_ids: LocationIds) -> list[Any]:
    return [location_ids is not None, list(location_ids or ())]


def _any(values: Sequence[str] | None) -> list[Any]:
    """Same flag trick for an optional list filter (None or empty: no filter)."""
    return [bool(values), list(values or ())]


# --- connections -------------------------------------------------------------------------------


class _ServingCopy:
    """One read-only connection to the current serving file, reopened when a publish swaps it.

    The file is ATTACHed to an in-memory database rather than opened with duckdb.connect(path):
    DuckDB caches instances by path, which would keep handing out the replaced file.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._version: str | None = None
        self._con: duckdb.DuckDBPyConnection | None = None

    def cursor(self, version: str) -> duckdb.DuckDBPyConnection:
        with self._lock:
            if self._con is None or version != self._version:
                if self._con is not None:
                    self._con.close()
                con = duckdb.connect(":memory:")
                con.execute("ATTACH ? AS serving (READ_ONLY)", [str(env.serving_duckdb_path())])
                self._con, self._version = con, version
            cur = self._con.cursor()
        cur.execute("USE serving")  # the default catalog is per cursor
        return cur


@st.cache_resource(show_spinner=False)
def _serving_copy() -> _ServingCopy:
    return _ServingCopy()


@st.cache_resource(show_spinner=False)
def _pg_connection(conninfo: str) -> psycopg.Connection:
    # psycopg 3 connections are thread-safe (statements are serialized); autocommit so that a
    # failed statement does not leave the shared connection in an aborted transaction.
    return psycopg.connect(conninfo, autocommit=True, connect_timeout=5)


def _run(sql: str, params: Sequence[Any], version: str) -> pd.DataFrame:
    wh = env.warehouse()
    if wh.is_duckdb:
        with _serving_copy().cursor(version) as cur:
            return cur.execute(sql, list(params)).df()
    for attempt in (1, 2):
        con = _pg_connection(wh.pg_conninfo)
        try:
            cur = con.execute(to_pyformat(sql), list(params))
            return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description or ()])
        except psycopg.OperationalError:
            _pg_connection.clear()  # the server restarted or dropped us: reconnect once
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


@st.cache_data(ttl=5, show_spinner=False)
def _pg_version(conninfo: str) -> str:
    found = _run("SELECT to_regclass('pipeline.publications') IS NOT NULL AS ok", [], "")
    if not bool(found["ok"].iloc[0]):
        return "unpublished"
    ts = _run("SELECT max(published_at) AS ts FROM pipeline.publications", [], "")["ts"].iloc[0]
    return str(ts)


def snapshot_version() -> str:
    """Identifies the published snapshot: the serving file's mtime/size/inode, or on PostgreSQL
    the last publication time. Part of every cache key."""
    wh = env.warehouse()
    if wh.is_duckdb:
        try:
            s = env.serving_duckdb_path().stat()
        except FileNotFoundError:
            return "missing"
        return f"{s.st_mtime_ns}-{s.st_size}-{s.st_ino}"
    return _pg_version(wh.pg_conninfo)


@st.cache_data(ttl=TTL, show_spinner=False, max_entries=2000)
def _cached(version: str, sql: str, params: tuple[Any, ...]) -> pd.DataFrame:
    return _run(sql, [list(p) if isinstance(p, tuple) else p for p in params], version)


def _q(sql: str, *params: Any) -> pd.DataFrame:
    hashable = tuple(tuple(p) if isinstance(p, list) else p for p in params)
    return _cached(snapshot_version(), sql, hashable)


# --- what exists -------------------------------------------------------------------------------


def tables() -> frozenset[str]:
    """`schema.table` of every served table (empty when nothing is published)."""
    if env.warehouse().is_duckdb and not env.serving_duckdb_path().is_file():
        return frozenset()
    try:
        found = _q(
            "SELECT table_schema || '.' || table_name AS name FROM information_schema.tables"
            " WHERE table_schema = ANY(CAST(? AS TEXT[]))",
            list(SERVED_SCHEMAS),
        )
    except (duckdb.Error, psycopg.Error):
        return frozenset()
    return frozenset(found["name"])


def missing(*names: str) -> list[str]:
    """The tables among `names` that are not published yet."""
    present = tables()
    return [n for n in names if n not in present]


def find_table(name: str) -> str | None:
    """The first served `schema.name` for a table another component may publish in any schema."""
    return next((t for t in sorted(tables()) if t.split(".", 1)[1] == name), None)


def columns(table: str) -> list[str]:
    schema, name = table.split(".", 1)
    return _q(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = ? AND table_name = ? ORDER BY ordinal_position",
        schema,
        name,
    )["column_name"].tolist()


def serving_available() -> bool:
    """True when the marts the dashboard needs at least exist; otherwise show NO_DATA_MESSAGE."""
    return not missing("marts.fct_inventory_position", "marts.mart_inventory_summary")


def last_refreshed() -> dt.datetime | None:
    """When the pipeline last published the marts (pipeline.publications), if ever."""
    if missing("pipeline.publications"):
        return None
    ts = _q("SELECT max(published_at) AS ts FROM pipeline.publications")["ts"].iloc[0]
    return pd.Timestamp(ts).to_pydatetime() if pd.notna(ts) else None


# --- dimensions --------------------------------------------------------------------------------


def locations(location_ids: LocationIds = None) -> pd.DataFrame:
    """location_id, location_name, region of the locations in scope."""
    return _q(
        "SELECT DISTINCT CAST(location_id AS TEXT) AS location_id, location_name, region"
        f" FROM marts.mart_inventory_summary WHERE {LOC} ORDER BY location_name, location_id",
        *_loc(location_ids),
    )


def categories(location_ids: LocationIds = None) -> pd.DataFrame:
    return _q(
        "SELECT DISTINCT CAST(category_id AS TEXT) AS category_id, category_name"
        f" FROM marts.mart_inventory_summary WHERE {LOC} ORDER BY category_name",
        *_loc(location_ids),
    )


def positions(location_ids: LocationIds = None) -> pd.DataFrame:
    """Part-location pairs in scope with their labels (for pickers)."""
    return _q(
        "SELECT CAST(part_id AS TEXT) AS part_id, CAST(location_id AS TEXT) AS location_id,"
        " part_number, description, location_name, category_name"
        f" FROM marts.fct_inventory_position WHERE {LOC} ORDER BY part_number, location_name",
        *_loc(location_ids),
    )


# --- overview ----------------------------------------------------------------------------------

_CAT = "(NOT ? OR CAST(category_id AS TEXT) = ANY(CAST(? AS TEXT[])))"


def inventory_summary(
    location_ids: LocationIds = None, category_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """mart_inventory_summary rows (one per location and category) in scope."""
    return _q(
        "SELECT CAST(location_id AS TEXT) AS location_id, location_name, region, category_id,"
        " category_name, CAST(item_count AS BIGINT) AS item_count,"
        " CAST(on_hand_units AS BIGINT) AS on_hand_units,"
        " CAST(total_value AS DOUBLE PRECISION) AS total_value,"
        " CAST(low_stock_count AS BIGINT) AS low_stock_count,"
        " CAST(critical_stock_count AS BIGINT) AS critical_stock_count,"
        " CAST(stockout_count AS BIGINT) AS stockout_count"
        f" FROM marts.mart_inventory_summary WHERE {LOC} AND {_CAT}"
        " ORDER BY location_name, category_name",
        *_loc(location_ids),
        *_any(category_ids),
    )


def value_by_category(
    location_ids: LocationIds = None, category_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """category_name, total_value, largest first."""
    return _q(
        "SELECT category_name, CAST(sum(total_value) AS DOUBLE PRECISION) AS total_value"
        f" FROM marts.mart_inventory_summary WHERE {LOC} AND {_CAT}"
        " GROUP BY category_id, category_name ORDER BY total_value DESC, category_name",
        *_loc(location_ids),
        *_any(category_ids),
    )


def low_stock(
    location_ids: LocationIds = None, limit: int = 500, category_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Positions at or below their reorder threshold, stock-outs and critical ones first."""
    return _q(
        "SELECT CAST(part_id AS TEXT) AS part_id, CAST(location_id AS TEXT) AS location_id,"
        " part_number, description, location_name, CAST(on_hand AS BIGINT) AS on_hand,"
        " CAST(reorder_threshold AS BIGINT) AS reorder_threshold,"
        " CAST(critical_threshold AS BIGINT) AS critical_threshold,"
        " CAST(inventory_value AS DOUBLE PRECISION) AS inventory_value,"
        " CASE WHEN is_stockout THEN 'Stock-out' WHEN is_critical THEN 'Critical'"
        " ELSE 'Low' END AS level"
        " FROM marts.fct_inventory_position"
        f" WHERE (is_low_stock OR is_critical OR is_stockout) AND {LOC} AND {_CAT}"
        " ORDER BY is_stockout DESC, is_critical DESC, on_hand, part_number, location_name"
        " LIMIT ?",
        *_loc(location_ids),
        *_any(category_ids),
        int(limit),
    )


@dataclass(frozen=True)
class Totals:
    total_value: float
    item_count: int
    on_hand_units: int
    low_stock_count: int
    critical_stock_count: int
    stockout_count: int


def kpi_totals(
    location_ids: LocationIds = None, category_ids: Sequence[str] | None = None
) -> Totals:
    """Headline numbers over the chosen locations (zeros when nothing matches)."""
    row = _q(
        "SELECT CAST(coalesce(sum(total_value), 0) AS DOUBLE PRECISION) AS total_value,"
        " CAST(coalesce(sum(item_count), 0) AS BIGINT) AS item_count,"
        " CAST(coalesce(sum(on_hand_units), 0) AS BIGINT) AS on_hand_units,"
        " CAST(coalesce(sum(low_stock_count), 0) AS BIGINT) AS low_stock_count,"
        " CAST(coalesce(sum(critical_stock_count), 0) AS BIGINT) AS critical_stock_count,"
        " CAST(coalesce(sum(stockout_count), 0) AS BIGINT) AS stockout_count"
        f" FROM marts.mart_inventory_summary WHERE {LOC} AND {_CAT}",
        *_loc(location_ids),
        *_any(category_ids),
    ).iloc[0]
    counts = {k: int(row[k]) for k in row.index if k != "total_value"}
    return Totals(total_value=float(row["total_value"]), **counts)


BREAKDOWNS = {"Region": "region", "Location": "location_name", "Category": "category_name"}


def breakdown(
    by: str, location_ids: LocationIds = None, category_ids: Sequence[str] | None = None
) -> pd.DataFrame:
    """Value, items and stock-outs per region, location or category (a key of BREAKDOWNS)."""
    column = BREAKDOWNS[by]  # a fixed identifier, never user text
    return _q(
        f"SELECT {column} AS label, CAST(sum(total_value) AS DOUBLE PRECISION) AS total_value,"
        " CAST(sum(item_count) AS BIGINT) AS item_count,"
        " CAST(sum(low_stock_count) AS BIGINT) AS low_stock_count,"
        " CAST(sum(stockout_count) AS BIGINT) AS stockout_count"
        f" FROM marts.mart_inventory_summary WHERE {LOC} AND {_CAT}"
        f" GROUP BY {column} ORDER BY total_value DESC",
        *_loc(location_ids),
        *_any(category_ids),
    )


KPI_TABLE = "marts.mart_kpi_daily"


def kpi_daily(location_ids: LocationIds, since: dt.date) -> pd.DataFrame:
    """Company KPIs per day rebuilt from the location rows in scope (ratios of summed parts, so
    a manager's KPIs cover only their locations). Columns: kpi_date, inventory_value,
    inventory_turnover, stockout_rate, inventory_accuracy (trailing 28 days of counts),
    obsolete_share, carrying_cost_share, fill_rate (estimated, trailing FILL_DAYS days; NULL
    until mart_fill_rate_daily is published) and *_target."""
    sums = _q(
        "SELECT kpi_date,"
        " CAST(sum(inventory_value) AS DOUBLE PRECISION) AS inventory_value,"
        " CAST(sum(stockout_pair_days) AS DOUBLE PRECISION) AS stockout_pair_days,"
        " CAST(sum(active_pair_days) AS DOUBLE PRECISION) AS active_pair_days,"
        " CAST(sum(issue_cost_window * 365.0 / nullif(turnover_window_days, 0))"
        "   AS DOUBLE PRECISION) AS annual_issue_cost,"
        " CAST(sum(avg_inventory_value_window) AS DOUBLE PRECISION) AS avg_inventory_value,"
        " CAST(sum(carrying_cost) AS DOUBLE PRECISION) AS carrying_cost,"
        " CAST(sum(obsolete_value) AS DOUBLE PRECISION) AS obsolete_value,"
        " CAST(sum(counts_checked) AS DOUBLE PRECISION) AS counts_checked,"
        " CAST(sum(counts_accurate) AS DOUBLE PRECISION) AS counts_accurate,"
        " max(inventory_turnover_target) AS inventory_turnover_target,"
        " max(stockout_rate_target) AS stockout_rate_target,"
        " max(inventory_accuracy_target) AS inventory_accuracy_target,"
        " max(obsolete_share_target) AS obsolete_share_target,"
        " max(carrying_cost_share_target) AS carrying_cost_share_target"
        f" FROM {KPI_TABLE}"
        " WHERE scope_type = 'location' AND kpi_date >= ?"
        " AND (NOT ? OR CAST(scope_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " GROUP BY kpi_date ORDER BY kpi_date",
        since,
        *_loc(location_ids),
    )
    sums["kpi_date"] = pd.to_datetime(sums["kpi_date"]).astype("datetime64[ns]")
    return _kpi_ratios(sums.merge(fill_rate(location_ids, since), on="kpi_date", how="left"))


FILL_TABLE = "marts.mart_fill_rate_daily"
FILL_DAYS = 30  # a day's fill rate is noisy (few issues); the tile shows a 30-day ratio


def fill_rate(location_ids: LocationIds, since: dt.date) -> pd.DataFrame:
    """kpi_date, fill_rate, fill_rate_target: issued / (issued + estimated lost) units summed over
    the location rows in scope and the FILL_DAYS days ending that day (empty when unpublished)."""
    if missing(FILL_TABLE):
        return pd.DataFrame(
            {
                "kpi_date": pd.Series(dtype="datetime64[ns]"),
                "fill_rate": pd.Series(dtype=float),
                "fill_rate_target": pd.Series(dtype=float),
            }
        )
    days = _q(
        "SELECT fill_date, CAST(sum(issued_units) AS DOUBLE PRECISION) AS issued,"
        " CAST(sum(lost_units_estimate) AS DOUBLE PRECISION) AS lost,"
        " CAST(max(fill_rate_target) AS DOUBLE PRECISION) AS fill_rate_target"
        f" FROM {FILL_TABLE} WHERE scope_type = 'location' AND fill_date >= ?"
        " AND (NOT ? OR CAST(scope_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " GROUP BY fill_date ORDER BY fill_date",
        since - dt.timedelta(days=FILL_DAYS - 1),
        *_loc(location_ids),
    )
    dates = pd.to_datetime(days.pop("fill_date")).astype("datetime64[ns]")
    days.index = pd.DatetimeIndex(dates, name="kpi_date")
    window = days[["issued", "lost"]].rolling(f"{FILL_DAYS}D").sum()
    total = window["issued"] + window["lost"]
    days["fill_rate"] = (window["issued"] / total.where(total > 0)).astype(float)
    return days[["fill_rate", "fill_rate_target"]].reset_index()


def _kpi_ratios(s: pd.DataFrame) -> pd.DataFrame:
    def ratio(num: pd.Series, den: pd.Series) -> pd.Series:
        return (num / den.where(den > 0)).astype(float)

    out = s[["kpi_date", "inventory_value", "fill_rate"]].copy()
    out["inventory_turnover"] = ratio(s["annual_issue_cost"], s["avg_inventory_value"])
    out["stockout_rate"] = ratio(s["stockout_pair_days"], s["active_pair_days"])
    checked = s["counts_checked"].rolling(28, min_periods=1).sum()
    out["inventory_accuracy"] = ratio(
        s["counts_accurate"].rolling(28, min_periods=1).sum(), checked
    )
    out["obsolete_share"] = ratio(s["obsolete_value"], s["inventory_value"])
    out["carrying_cost_share"] = ratio(s["carrying_cost"], s["annual_issue_cost"])
    for col in s.columns:
        if col.endswith("_target"):
            out[col] = s[col].astype(float)
    return out


def kpi_last_date() -> dt.date | None:
    found = _q(f"SELECT max(kpi_date) AS d FROM {KPI_TABLE}")
    value = found["d"].iloc[0] if not found.empty else None
    return None if value is None or pd.isna(value) else pd.Timestamp(value).date()


# --- alerts ------------------------------------------------------------------------------------


def open_alerts(
    location_ids: LocationIds,
    severities: Sequence[str] | None = None,
    alert_types: Sequence[str] | None = None,
) -> pd.DataFrame:
    """mart_alerts rows in scope, most severe and oldest first, with part labels."""
    return _q(
        "SELECT a.alert_id, a.severity, a.alert_type, CAST(a.part_id AS TEXT) AS part_id,"
        " CAST(a.location_id AS TEXT) AS location_id, p.part_number, p.location_name,"
        " a.opened_at, CAST(a.days_open AS BIGINT) AS days_open,"
        " CAST(a.on_hand AS DOUBLE PRECISION) AS on_hand,"
        " CAST(a.threshold AS DOUBLE PRECISION) AS threshold,"
        " CAST(a.quantity AS DOUBLE PRECISION) AS quantity,"
        " CAST(a.value AS DOUBLE PRECISION) AS value, a.po_id, a.message"
        " FROM marts.mart_alerts a LEFT JOIN marts.fct_inventory_position p"
        " ON CAST(p.part_id AS TEXT) = CAST(a.part_id AS TEXT)"
        " AND CAST(p.location_id AS TEXT) = CAST(a.location_id AS TEXT)"
        " WHERE (NOT ? OR CAST(a.location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " AND (NOT ? OR a.severity = ANY(CAST(? AS TEXT[])))"
        " AND (NOT ? OR a.alert_type = ANY(CAST(? AS TEXT[])))"
        " ORDER BY a.severity_rank, a.days_open DESC, a.alert_id",
        *_loc(location_ids),
        *_any(severities),
        *_any(alert_types),
    )


ALERT_HISTORY_ROWS = 500  # the latest episodes the alerts page lists; its table by type counts all
_HISTORY_SCOPE = f" FROM marts.fct_alert_history WHERE {LOC} AND (opened_at >= ? OR closed_at >= ?)"


def alert_history(location_ids: LocationIds, since: dt.date, limit: int) -> pd.DataFrame:
    """The latest `limit` fct_alert_history episodes in scope opened or closed since `since`
    (a large warehouse has a million in 90 days: a page cannot ship them all)."""
    return _q(
        "SELECT alert_id, alert_type, severity, CAST(part_id AS TEXT) AS part_id,"
        " CAST(location_id AS TEXT) AS location_id, opened_at, closed_at, is_open,"
        f" CAST(duration_days AS BIGINT) AS duration_days{_HISTORY_SCOPE}"
        " ORDER BY coalesce(closed_at, opened_at) DESC, alert_id LIMIT ?",
        *_loc(location_ids),
        since,
        since,
        int(limit),
    )


def alert_history_by_type(location_ids: LocationIds, since: dt.date) -> pd.DataFrame:
    """Per alert type, the episodes in scope opened or closed since `since`: how many, how many
    opened and closed in the window, how many still open, their mean duration in days."""
    return _q(
        "SELECT alert_type, CAST(count(*) AS BIGINT) AS episodes,"
        " CAST(count(*) FILTER (WHERE opened_at >= ?) AS BIGINT) AS opened,"
        " CAST(count(*) FILTER (WHERE closed_at >= ?) AS BIGINT) AS closed,"
        " CAST(count(*) FILTER (WHERE is_open) AS BIGINT) AS still_open,"
        f" CAST(avg(duration_days) AS DOUBLE PRECISION) AS mean_duration_days{_HISTORY_SCOPE}"
        " GROUP BY alert_type ORDER BY episodes DESC, alert_type",
        since,
        since,
        *_loc(location_ids),
        since,
        since,
    )


NOTIFICATIONS_TABLE = "ops.recent_notifications"


def recent_notifications(location_ids: LocationIds, limit: int = 50) -> pd.DataFrame:
    """The latest alert notifications of alerts in scope (ops.recent_notifications: the last 500,
    with the alert's location; a notification of an unknown alert is shown to no scoped user)."""
    return _q(
        "SELECT created_at, sent_at, status, channel, event, alert_type, severity,"
        " CAST(location_id AS TEXT) AS location_id, alert_id, CAST(attempts AS BIGINT) AS attempts,"
        f" last_error FROM {NOTIFICATIONS_TABLE} WHERE {LOC}"
        " ORDER BY created_at DESC, alert_id, event, channel LIMIT ?",
        *_loc(location_ids),
        int(limit),
    )


def any_table(table: str, location_ids: LocationIds) -> pd.DataFrame | None:
    """Every row of a table another component publishes (columns unknown here) in scope.

    None when the table has no location_id column and the user is scoped: company-wide rows
    would reveal other locations."""
    name = qualified(*table.split(".", 1))  # a catalog name: quoted, never pasted raw
    if "location_id" not in columns(table):
        return None if location_ids is not None else _q(f"SELECT * FROM {name}")
    return _q(f"SELECT * FROM {name} WHERE {LOC}", *_loc(location_ids))


# --- stock explorer ----------------------------------------------------------------------------

_PAIR = "CAST(part_id AS TEXT) = ? AND CAST(location_id AS TEXT) = ?"


def stock_history(part_id: str, location_id: str, location_ids: LocationIds) -> pd.DataFrame:
    return _q(
        "SELECT stock_date, CAST(on_hand AS BIGINT) AS on_hand,"
        " CAST(received_qty AS BIGINT) AS received_qty, CAST(issued_qty AS BIGINT) AS issued_qty,"
        " CAST(reorder_threshold AS BIGINT) AS reorder_threshold,"
        " CAST(critical_threshold AS BIGINT) AS critical_threshold"
        f" FROM marts.fct_daily_stock WHERE {_PAIR} AND {LOC} ORDER BY stock_date",
        part_id,
        location_id,
        *_loc(location_ids),
    )


def open_purchase_orders(part_id: str, location_id: str, location_ids: LocationIds):
    return _q(
        "SELECT po_id, supplier_id, CAST(quantity AS BIGINT) AS quantity, status, ordered_date,"
        " expected_date, is_late, CAST(days_late AS BIGINT) AS days_late"
        f" FROM marts.fct_purchase_orders WHERE is_open AND {_PAIR} AND {LOC}"
        " ORDER BY expected_date, po_id",
        part_id,
        location_id,
        *_loc(location_ids),
    )


AGE_BUCKETS = ("age_0_30", "age_31_90", "age_91_180", "age_181_365", "age_over_365")


def stock_ageing(part_id: str, location_id: str, location_ids: LocationIds) -> pd.DataFrame:
    """One row per FIFO age bucket: bucket, qty, value."""
    cols = ", ".join(
        f"CAST(qty_{b} AS DOUBLE PRECISION) AS qty_{b}, CAST(value_{b} AS DOUBLE PRECISION)"
        f" AS value_{b}"
        for b in AGE_BUCKETS
    )
    row = _q(
        f"SELECT {cols} FROM marts.fct_stock_ageing WHERE {_PAIR} AND {LOC}",
        part_id,
        location_id,
        *_loc(location_ids),
    )
    if row.empty:
        return pd.DataFrame(columns=["bucket", "qty", "value"])
    r = row.iloc[0]
    return pd.DataFrame(
        [
            {
                "bucket": b.removeprefix("age_").replace("_", "-"),
                "qty": r[f"qty_{b}"],
                "value": r[f"value_{b}"],
            }
            for b in AGE_BUCKETS
        ]
    )


def classification(part_id: str, location_id: str, location_ids: LocationIds) -> pd.DataFrame:
    return _q(
        "SELECT abc_class, demand_pattern, CAST(adi AS DOUBLE PRECISION) AS adi,"
        " CAST(cv_squared AS DOUBLE PRECISION) AS cv_squared,"
        " CAST(consumption_value AS DOUBLE PRECISION) AS consumption_value"
        f" FROM marts.fct_part_location_classification WHERE {_PAIR} AND {LOC}",
        part_id,
        location_id,
        *_loc(location_ids),
    )


# --- forecasts ---------------------------------------------------------------------------------


def demand_history(part_id: str, location_id: str, location_ids: LocationIds, since: dt.date):
    # The day's issues as fct_daily_stock holds them (the same sums as fct_daily_demand): the
    # serving copy then needs only one of the two dense daily facts.
    return _q(
        "SELECT stock_date AS demand_date, CAST(issued_qty AS BIGINT) AS issued_qty"
        f" FROM marts.fct_daily_stock WHERE {_PAIR} AND {LOC} AND stock_date >= ?"
        " ORDER BY stock_date",
        part_id,
        location_id,
        *_loc(location_ids),
        since,
    )


def forecast_series(part_id: str, location_id: str, location_ids: LocationIds, grain: str):
    return _q(
        "SELECT period_start, days, mean, p10, p20, p50, p80, p90, model_version, forecast_origin"
        f" FROM ml.fct_forecasts WHERE grain = ? AND {_PAIR} AND {LOC} ORDER BY period_start",
        grain,
        part_id,
        location_id,
        *_loc(location_ids),
    )


def forecasts(location_ids: LocationIds, grain: str = "day") -> pd.DataFrame:
    """Every forecast row in scope at a grain (the download)."""
    return _q(
        "SELECT CAST(part_id AS TEXT) AS part_id, CAST(location_id AS TEXT) AS location_id, grain,"
        " period_start, days, mean, p10, p20, p30, p40, p50, p60, p70, p80, p90, model_version,"
        f" forecast_origin FROM ml.fct_forecasts WHERE grain = ? AND {LOC}"
        " ORDER BY part_id, location_id, period_start",
        grain,
        *_loc(location_ids),
    )


def forecast_count(location_ids: LocationIds, grain: str = "day") -> int:
    found = _q(
        f"SELECT count(*) AS n FROM ml.fct_forecasts WHERE grain = ? AND {LOC}",
        grain,
        *_loc(location_ids),
    )
    return int(found["n"].iloc[0])


FORECAST_GROUPS = {"Category": "p.category_name", "Location": "p.location_name"}


def forecast_by(by: str, location_ids: LocationIds, grain: str = "week") -> pd.DataFrame:
    """Forecast mean summed per period and category or location (a key of FORECAST_GROUPS)."""
    column = FORECAST_GROUPS[by]  # a fixed identifier, never user text
    return _q(
        f"SELECT f.period_start, {column} AS label, CAST(sum(f.mean) AS DOUBLE PRECISION) AS mean"
        " FROM ml.fct_forecasts f JOIN marts.fct_inventory_position p"
        " ON CAST(p.part_id AS TEXT) = f.part_id AND CAST(p.location_id AS TEXT) = f.location_id"
        " WHERE f.grain = ?"
        " AND (NOT ? OR CAST(f.location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        f" GROUP BY f.period_start, {column} ORDER BY f.period_start, label",
        grain,
        *_loc(location_ids),
    )


def forecast_accuracy() -> pd.DataFrame:
    """Backtest accuracy of every model version, overall (a model-level figure, no rows of a
    location), oldest first."""
    return _q(
        "SELECT model_version, trained_at, approach, CAST(rmse AS DOUBLE PRECISION) AS rmse,"
        " CAST(bias AS DOUBLE PRECISION) AS bias, CAST(wql AS DOUBLE PRECISION) AS wql,"
        " CAST(above_top AS DOUBLE PRECISION) AS above_top,"
        " CAST(below_bottom AS DOUBLE PRECISION) AS below_bottom"
        " FROM ml.fct_forecast_accuracy WHERE scope = 'overall' ORDER BY trained_at, model_version"
    )


# --- model & data health -----------------------------------------------------------------------


def model_registry() -> pd.DataFrame:
    return _q(
        "SELECT model_name, version, model_type, status, trained_at, train_start, train_end,"
        " decision, metrics, parameters, features FROM ml.ml_model_registry"
        " ORDER BY model_name, version DESC"
    )


IMPORTANCE_TABLE = "ml.model_feature_importance"


def model_feature_importance(model_name: str, version: int) -> pd.DataFrame | None:
    """feature, importance (share of the permutation importance), sample_rows, repeats of a
    registered version, largest first; None when the version has none recorded."""
    if missing(IMPORTANCE_TABLE):
        return None
    frame = _q(
        "SELECT feature, CAST(share AS DOUBLE PRECISION) AS importance,"
        " CAST(sample_rows AS BIGINT) AS sample_rows, CAST(repeats AS BIGINT) AS repeats"
        f" FROM {IMPORTANCE_TABLE} WHERE model_name = ? AND version = ?"
        " ORDER BY share DESC, feature",
        model_name,
        int(version),
    )
    return None if frame.empty else frame


def quarantine_summary() -> pd.DataFrame:
    return _q(
        "SELECT entity, reason, rows_quarantined, rows_unresolved, last_quarantined_at"
        " FROM ops.quarantine_summary ORDER BY rows_unresolved DESC, entity, reason"
    )


def ingest_batches() -> pd.DataFrame:
    return _q("SELECT * FROM ops.ingest_batches ORDER BY finished_at DESC, batch_id")


def freshness() -> pd.DataFrame:
    """asset, kind, as_of: the newest data behind each served area (see ops.freshness)."""
    return _q("SELECT asset, kind, as_of FROM ops.freshness ORDER BY asset")


def json_list(text: str | None) -> list[str]:
    try:
        value = json.loads(text or "[]")
    except ValueError:
        return []
    return [str(v) for v in value] if isinstance(value, list) else []


def numeric_metrics(text: str | None) -> dict[str, float]:
    """The top-level numbers of a registry metrics JSON."""
    try:
        value = json.loads(text or "{}")
    except ValueError:
        return {}
    if not isinstance(value, dict):
        return {}
    return {
        k: float(v)
        for k, v in value.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    }


def feature_importance(*json_texts: str | None) -> pd.DataFrame | None:
    """feature, importance (largest first) from a `feature_importance` mapping in the registry's
    metrics or parameters JSON, when the model type records one."""
    for text in json_texts:
        try:
            value = json.loads(text or "{}")
        except ValueError:
            continue
        found = value.get("feature_importance") if isinstance(value, dict) else None
        if isinstance(found, dict) and found:
            frame = pd.DataFrame({"feature": list(found), "importance": list(found.values())})
            return frame.sort_values("importance", ascending=False, ignore_index=True)
    return None
