"""Stock marts against an independent pandas computation from the landing files (shared generated
world, both warehouses); incremental runs are in test_stock_marts_incremental.py."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration import env
from orchestration.warehouse import connect, qualified
from tests.dbt import stock_expected

WAREHOUSES = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=WAREHOUSES)
def warehouse_url(request) -> str:
    return request.getfixturevalue(request.param)


def read_mart(url: str, table: str) -> pd.DataFrame:
    with connect(env.Warehouse(url)) as conn:
        return conn.query_df(f"select * from {qualified('marts', table)}")  # noqa: S608


@pytest.fixture(scope="module")
def expected_daily(marts_landing: Path) -> pd.DataFrame:
    return stock_expected.daily_stock(marts_landing)


@pytest.fixture(scope="module")
def expected_counts(marts_landing: Path) -> pd.DataFrame:
    return stock_expected.stock_counts(marts_landing)


def _dates(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    for column in columns:
        frame[column] = pd.to_datetime(frame[column])
    return frame


def _floats(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").astype(float).to_numpy()


def test_daily_stock_equals_day_by_day_reconstruction(warehouse_url, expected_daily):
    got = _dates(read_mart(warehouse_url, "fct_daily_stock"), "stock_date")
    keys = ["part_id", "location_id", "stock_date"]
    assert not got.duplicated(keys).any()
    merged = expected_daily.merge(got, on=keys, how="outer", suffixes=("", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    for column in ("on_hand", "received_qty", "issued_qty", "net_change"):
        np.testing.assert_array_equal(
            merged[column].astype("int64"), merged[f"{column}_mart"].astype("int64"), column
        )
    for column in ("snapshot_on_hand", "reorder_threshold", "critical_threshold"):
        np.testing.assert_array_equal(
            _floats(merged[column]), _floats(merged[f"{column}_mart"]), column
        )
    assert (merged["status"] == merged["status_mart"]).all()
    assert (merged["is_active"] == merged["is_active_mart"].astype(bool)).all()
    assert (merged["is_stockout"] == merged["is_stockout_mart"].astype(bool)).all()
    np.testing.assert_allclose(
        _floats(merged["inventory_value_mart"]), _floats(merged["inventory_value"]), rtol=1e-9
    )
    # The shared world has every flavour the rule distinguishes.
    assert merged["is_stockout"].any() and (~merged["is_active"]).any()


def test_stock_counts_and_discrepancies(warehouse_url, expected_counts):
    keys = ["part_id", "location_id", "count_date"]
    got = _dates(read_mart(warehouse_url, "fct_stock_counts"), "count_date")
    merged = expected_counts.merge(got, on=keys, how="outer", suffixes=("", "_mart"))
    assert len(merged) == len(expected_counts) == len(got)
    np.testing.assert_array_equal(
        merged["ledger_on_hand"], merged["ledger_on_hand_mart"].astype("int64")
    )
    assert (merged["is_accurate"] == merged["is_accurate_mart"].astype(bool)).all()

    wrong = expected_counts[~expected_counts["is_accurate"]]
    listed = _dates(read_mart(warehouse_url, "fct_inventory_discrepancies"), "count_date")
    assert 0 < len(wrong) < len(expected_counts)  # the generator books some shrinkage
    assert set(map(tuple, listed[keys].to_numpy())) == set(map(tuple, wrong[keys].to_numpy()))


def test_kpi_daily_equals_rolling_window_computation(
    warehouse_url, expected_daily, expected_counts
):
    want = stock_expected.kpi_daily(expected_daily, expected_counts)
    got = _dates(read_mart(warehouse_url, "mart_kpi_daily"), "kpi_date")
    keys = ["scope_type", "scope_id", "kpi_date"]
    for frame in (want, got):
        frame["scope_id"] = frame["scope_id"].fillna("<company>")
    merged = want.merge(got, on=keys, how="outer", suffixes=("", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged["_merge"].value_counts()
    assert set(merged["scope_type"]) == {"company", "location", "region", "category"}
    for column in (
        "active_pair_days",
        "stockout_pair_days",
        "counts_checked",
        "counts_accurate",
    ):
        np.testing.assert_array_equal(
            _floats(merged[column]), _floats(merged[f"{column}_mart"]), column
        )
    for column in (
        "inventory_value",
        "stockout_rate",
        "inventory_turnover",
        "days_of_supply",
        "carrying_cost_share",
        "obsolete_share",
        "inventory_accuracy",
    ):
        np.testing.assert_allclose(
            _floats(merged[f"{column}_mart"]),
            _floats(merged[column]),
            rtol=1e-6,
            equal_nan=True,
            err_msg=column,
        )
    assert (got["stockout_rate_target"] == 0.005).all()
    assert (got["inventory_turnover_target"] == 8).all()


def test_kpi_period_rolls_up_the_days(warehouse_url, expected_daily, expected_counts):
    daily = stock_expected.kpi_daily(expected_daily, expected_counts)
    company = daily[daily["scope_type"] == "company"].copy()
    got = _dates(read_mart(warehouse_url, "mart_kpi_period"), "period_start", "period_end")
    got = got[got["scope_type"] == "company"]
    # Weeks start on Monday (pandas names a week by its last day, Sunday).
    for period, freq in (("month", "M"), ("week", "W-SUN")):
        company["period_start"] = company["kpi_date"].dt.to_period(freq).dt.start_time
        sums = company.groupby("period_start")[
            ["stockout_pair_days", "active_pair_days", "counts_accurate", "counts_checked"]
        ].sum()
        ends = company.sort_values("kpi_date").groupby("period_start").tail(1)
        mart = got[got["period_type"] == period].set_index("period_start").sort_index()
        assert list(mart.index) == list(sums.index), period
        np.testing.assert_allclose(
            _floats(mart["stockout_rate"]),
            (sums["stockout_pair_days"] / sums["active_pair_days"]).to_numpy(),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            _floats(mart["inventory_accuracy"]),
            (sums["counts_accurate"] / sums["counts_checked"]).to_numpy(),
            rtol=1e-9,
        )
        np.testing.assert_allclose(
            _floats(mart["inventory_turnover"]),
            ends.set_index("period_start")["inventory_turnover"].to_numpy(),
            rtol=1e-6,
        )


def test_stock_movement_flags(warehouse_url, expected_daily):
    want = stock_expected.stock_movement(expected_daily)
    got = _dates(read_mart(warehouse_url, "fct_stock_movement"), "last_issue_date")
    merged = want.merge(got, on=["part_id", "location_id"], suffixes=("", "_mart"))
    assert len(merged) == len(want) == len(got)
    pd.testing.assert_series_equal(
        merged["last_issue_date"],
        merged["last_issue_date_mart"],
        check_names=False,
        check_dtype=False,
    )
    np.testing.assert_array_equal(
        merged["days_without_issue"], merged["days_without_issue_mart"].astype("int64")
    )
    np.testing.assert_allclose(
        _floats(merged["days_of_supply_mart"]), _floats(merged["days_of_supply"]), equal_nan=True
    )
    for flag in ("is_obsolete", "is_slow_moving"):
        assert (merged[flag] == merged[f"{flag}_mart"].astype(bool)).all(), flag
    assert merged["is_slow_moving"].any()


def test_top_moving_parts(warehouse_url, expected_daily):
    want = stock_expected.top_moving_parts(expected_daily)
    got = read_mart(warehouse_url, "fct_top_moving_parts")
    keys = ["location_id", "window_days", "part_id"]
    got["window_days"] = got["window_days"].astype("int64")
    merged = want.merge(got, on=keys, how="outer", suffixes=("", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for column in ("issued_qty", "rank_by_quantity", "rank_by_value"):
        np.testing.assert_array_equal(
            merged[column].astype("int64"), merged[f"{column}_mart"].astype("int64"), column
        )
    np.testing.assert_allclose(
        _floats(merged["issued_value_mart"]), _floats(merged["issued_value"]), rtol=1e-9
    )
