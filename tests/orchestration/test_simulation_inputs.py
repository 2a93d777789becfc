"""The policy simulation's demand history read from a hand-made marts.fct_daily_demand (DuckDB):
the days with issues and each pair's span give the grid of all its rows, NaN before a pair's
first day; a pair with a missing day is refused, named."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest

from orchestration import env
from orchestration.defs.replenishment.simulation_inputs import read_scenario
from orchestration.warehouse import connect

START = date(2024, 1, 1)
DAYS = 12
HOLDOUT = 4


def _world(tmp_path, skip_day: int | None = None) -> env.Warehouse:
    """P1@L1 from day 0, P2@L1 from day 5 (its history is NaN before), issues on a few days."""
    wh = env.Warehouse(f"duckdb:///{tmp_path}/wh.duckdb")
    issues = {("P1", 2): 3, ("P1", 9): 1, ("P2", 6): 4, ("P2", 10): 2}
    demand, stock = [], []
    for part, first in (("P1", 0), ("P2", 5)):
        for d in range(first, DAYS):
            day = START + timedelta(days=d)
            if not (part == "P1" and d == skip_day):
                demand.append((part, "L1", day, issues.get((part, d), 0)))
            stock.append((part, "L1", day, 10, 4, 2.5, d != 10))
    with connect(wh) as conn:
        conn.execute("create schema marts")
        conn.execute(
            "create table marts.fct_daily_demand "
            "(part_id text, location_id text, demand_date date, issued_qty bigint)"
        )
        conn.execute(
            "create table marts.fct_daily_stock (part_id text, location_id text, stock_date date, "
            "on_hand bigint, reorder_threshold bigint, unit_cost double, is_active boolean)"
        )
        conn.execute(
            "create table marts.fct_purchase_orders (part_id text, location_id text, "
            "supplier_id text, quantity bigint, status text, ordered_date date, "
            "received_date date, lead_time_days bigint)"
        )
        conn.raw.executemany("insert into marts.fct_daily_demand values (?, ?, ?, ?)", demand)
        conn.raw.executemany(
            "insert into marts.fct_daily_stock values (?, ?, ?, ?, ?, ?, ?)", stock
        )
    return wh


def test_history_is_nan_before_a_pairs_first_day_and_its_issues_after(tmp_path) -> None:
    with connect(_world(tmp_path)) as conn:
        got = read_scenario(conn, HOLDOUT)
    assert got.start == START + timedelta(days=DAYS - HOLDOUT)
    want = np.zeros((DAYS - HOLDOUT, 2))
    want[2, 0], want[6, 1] = 3, 4
    want[:5, 1] = np.nan  # P2 began on day 5
    np.testing.assert_array_equal(got.history, want)
    np.testing.assert_array_equal(got.demand, [[0, 0], [1, 0], [0, 2], [0, 0]])
    # Only day 10 (the period's third day) is inactive, for both pairs.
    np.testing.assert_array_equal(got.active, [[True] * 2, [True] * 2, [False] * 2, [True] * 2])


def test_a_pair_missing_a_day_is_refused_by_name(tmp_path) -> None:
    refused = pytest.raises(ValueError, match=r"1 part-locations miss days.*'P1' at 'L1'")
    with connect(_world(tmp_path, skip_day=4)) as conn, refused:
        read_scenario(conn, HOLDOUT)
