"""Every query the dashboard runs: marts only, parameterized, cached for a short while.

DuckDB mode reads the published serving copy, never the warehouse file (the pipeline holds its
write lock); PostgreSQL mode reads the warehouse itself. Each statement is written once with `?`
placeholders and translated to psycopg's `%s`, so both backends run the same SQL.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import duckdb
import pandas as pd
import psycopg
import streamlit as st

from orchestration import env
from orchestration.warehouse import to_pyformat

NO_DATA_MESSAGE = "No published data yet: run `make demo` or materialize all assets in Dagster"
TTL = 60  # seconds: a new publish shows up within a minute without a query per rerun
LocationIds = tuple[str, ...] | None  # None means every location; () means none

# The location filter used by every query below takes two parameters, from _loc():
#   (NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))
# A flag instead of an optional clause keeps the SQL text constant (no string building).


def _loc(location_ids: LocationIds) -> list[Any]:
    return [location_ids is not None, list(location_ids or ())]


def _query(sql: str, params: Sequence[Any] = ()) -> pd.DataFrame:
    wh = env.warehouse()
    if wh.is_duckdb:
        # Open per query and close at once: the publisher swaps the file atomically, and a
        # lingering handle would keep serving (and pinning) the old copy.
        with duckdb.connect(str(env.serving_duckdb_path()), read_only=True) as con:
            return con.execute(sql, list(params)).df()
    with psycopg.connect(wh.pg_conninfo, connect_timeout=5) as con:
        cur = con.execute(to_pyformat(sql), list(params))
        return pd.DataFrame(cur.fetchall(), columns=[c.name for c in cur.description or ()])


def _table_count(schema: str, names: Sequence[str]) -> int:
    found = _query(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = ?",
        [schema],
    )
    return len(set(found["table_name"]) & set(names))


def serving_available() -> bool:
    """True when the marts the dashboard reads exist; otherwise show NO_DATA_MESSAGE.

    Not cached, so the dashboard notices the first publish on the next rerun.
    """
    if env.warehouse().is_duckdb and not env.serving_duckdb_path().is_file():
        return False
    try:
        return _table_count("marts", ("fct_inventory_position", "mart_inventory_summary")) == 2
    except (duckdb.Error, psycopg.Error):
        return False


@st.cache_data(ttl=TTL)
def locations() -> pd.DataFrame:
    """location_id, location_name, region of every location in the marts."""
    return _query(
        "SELECT DISTINCT CAST(location_id AS TEXT) AS location_id, location_name, region"
        " FROM marts.mart_inventory_summary ORDER BY location_name, location_id"
    )


@st.cache_data(ttl=TTL)
def inventory_summary(location_ids: LocationIds = None) -> pd.DataFrame:
    """mart_inventory_summary rows (one per location and category) for the chosen locations."""
    return _query(
        "SELECT CAST(location_id AS TEXT) AS location_id, location_name, region, category_id,"
        " category_name, CAST(item_count AS BIGINT) AS item_count,"
        " CAST(on_hand_units AS BIGINT) AS on_hand_units,"
        " CAST(total_value AS DOUBLE PRECISION) AS total_value,"
        " CAST(low_stock_count AS BIGINT) AS low_stock_count,"
        " CAST(critical_stock_count AS BIGINT) AS critical_stock_count,"
        " CAST(stockout_count AS BIGINT) AS stockout_count"
        " FROM marts.mart_inventory_summary"
        " WHERE (NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " ORDER BY location_name, category_name",
        _loc(location_ids),
    )


@st.cache_data(ttl=TTL)
def value_by_category(location_ids: LocationIds = None) -> pd.DataFrame:
    """category_name, total_value, largest first."""
    return _query(
        "SELECT category_name, CAST(sum(total_value) AS DOUBLE PRECISION) AS total_value"
        " FROM marts.mart_inventory_summary"
        " WHERE (NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " GROUP BY category_id, category_name ORDER BY total_value DESC, category_name",
        _loc(location_ids),
    )


@st.cache_data(ttl=TTL)
def low_stock(location_ids: LocationIds = None, limit: int = 500) -> pd.DataFrame:
    """Positions at or below their reorder threshold, stock-outs and critical ones first."""
    return _query(
        "SELECT part_number, description, location_name, CAST(on_hand AS BIGINT) AS on_hand,"
        " CAST(reorder_threshold AS BIGINT) AS reorder_threshold,"
        " CAST(critical_threshold AS BIGINT) AS critical_threshold,"
        " CAST(inventory_value AS DOUBLE PRECISION) AS inventory_value,"
        " CASE WHEN is_stockout THEN 'Stock-out' WHEN is_critical THEN 'Critical'"
        " ELSE 'Low' END AS level"
        " FROM marts.fct_inventory_position"
        " WHERE (is_low_stock OR is_critical OR is_stockout)"
        " AND (NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))"
        " ORDER BY is_stockout DESC, is_critical DESC, on_hand, part_number, location_name"
        " LIMIT ?",
        [*_loc(location_ids), int(limit)],
    )


@dataclass(frozen=True)
class Totals:
    total_value: float
    item_count: int
    on_hand_units: int
    low_stock_count: int
    critical_stock_count: int
    stockout_count: int


@st.cache_data(ttl=TTL)
def kpi_totals(location_ids: LocationIds = None) -> Totals:
    """Headline numbers over the chosen locations (zeros when nothing matches)."""
    row = _query(
        "SELECT CAST(coalesce(sum(total_value), 0) AS DOUBLE PRECISION) AS total_value,"
        " CAST(coalesce(sum(item_count), 0) AS BIGINT) AS item_count,"
        " CAST(coalesce(sum(on_hand_units), 0) AS BIGINT) AS on_hand_units,"
        " CAST(coalesce(sum(low_stock_count), 0) AS BIGINT) AS low_stock_count,"
        " CAST(coalesce(sum(critical_stock_count), 0) AS BIGINT) AS critical_stock_count,"
        " CAST(coalesce(sum(stockout_count), 0) AS BIGINT) AS stockout_count"
        " FROM marts.mart_inventory_summary"
        " WHERE (NOT ? OR CAST(location_id AS TEXT) = ANY(CAST(? AS TEXT[])))",
        _loc(location_ids),
    ).iloc[0]
    counts = {k: int(row[k]) for k in row.index if k != "total_value"}
    return Totals(total_value=float(row["total_value"]), **counts)


@st.cache_data(ttl=TTL)
def last_refreshed() -> dt.datetime | None:
    """When the pipeline last published the marts (pipeline.publications), if ever."""
    if not _table_count("pipeline", ("publications",)):
        return None
    ts = _query("SELECT max(published_at) AS ts FROM pipeline.publications")["ts"].iloc[0]
    return pd.Timestamp(ts).to_pydatetime() if pd.notna(ts) else None
