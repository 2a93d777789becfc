"""Purchasing, FIFO stock ageing and alerts on real warehouses.

PO performance and FIFO ageing are recomputed from the landing files with pandas
(tests/dbt/expected_purchasing.py) and compared with the marts of the shared generated world on
DuckDB and PostgreSQL; the alerts are the same on both (the alert lifecycle is in
test_stockout_alerts.py).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from tests.dbt import expected_purchasing as expected
from tests.orchestration.pipeline_helpers import read_table

WAREHOUSES = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=WAREHOUSES)
def marts_url(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(request.param)


def _mart(url: str, table: str, key: list[str]) -> pd.DataFrame:
    return read_table(url, "marts", table, key).set_index(key)


def _floats(series: pd.Series) -> np.ndarray:
    return pd.to_numeric(series, errors="coerce").astype(float).to_numpy()


def test_purchase_orders_match_the_files(marts_url: str, marts_landing: Path) -> None:
    got = _mart(marts_url, "fct_purchase_orders", ["po_id"])
    want = expected.expected_purchase_orders(marts_landing)
    assert list(got.index) == list(want.index)
    assert (got["status"] == want["status"]).all()
    assert (got["supplier_id"] == want["supplier_id"]).all()
    np.testing.assert_array_equal(_floats(got["lead_time_days"]), _floats(want["lead_time_days"]))
    np.testing.assert_array_equal(got["days_late"].astype("int64"), want["days_late"])
    np.testing.assert_array_equal(got["is_late"].astype(bool), want["is_late"])
    np.testing.assert_array_equal(_floats(got["is_on_time"]), _floats(want["is_on_time"]))
    # the generated world has every kind of order, so each branch above was exercised
    assert {"OPEN", "RECEIVED", "CANCELLED"} <= set(got["status"])
    assert got["is_late"].any() and got["is_on_time"].eq(True).any()


def test_supplier_performance_matches_the_files(marts_url: str, marts_landing: Path) -> None:
    got = _mart(marts_url, "mart_supplier_performance", ["supplier_id"])
    want = expected.expected_supplier_performance(marts_landing)
    got = got.loc[want.index]
    for column in want.columns:
        np.testing.assert_allclose(
            _floats(got[column]), _floats(want[column]), rtol=1e-9, err_msg=column
        )
    assert got["lead_time_stddev_days"].notna().all()


def test_open_orders_match_the_files(marts_url: str, marts_landing: Path) -> None:
    got = _mart(marts_url, "fct_open_orders", ["part_id", "location_id"])["quantity_on_order"]
    want = expected.expected_open_orders(marts_landing)
    assert len(want) > 0
    pd.testing.assert_series_equal(
        got.astype("int64").sort_index(), want.astype("int64").sort_index(), check_names=False
    )


def test_fifo_ageing_matches_the_files(marts_url: str, marts_landing: Path) -> None:
    got = _mart(marts_url, "fct_stock_ageing", ["part_id", "location_id"])
    want = expected.expected_stock_ageing(marts_landing)
    got_qty = got[[f"qty_{c}" for c in want.columns]].rename(columns=lambda c: c[len("qty_") :])
    pd.testing.assert_frame_equal(got_qty.astype("int64").sort_index(), want.sort_index())
    # every bucket and the expiry columns are populated somewhere in the generated world
    assert (want[list(expected.BUCKETS)].sum() > 0).all()
    assert want["expired"].sum() > 0 and want["expiring_30d"].sum() > 0
    # values are quantity times unit cost, so the buckets add up to the inventory value
    positions = _mart(marts_url, "fct_inventory_position", ["part_id", "location_id"])
    buckets = got[[f"value_{c}" for c in expected.BUCKETS]].astype(float).sum(axis=1)
    stocked = positions["on_hand"] > 0
    np.testing.assert_allclose(
        buckets[stocked].sort_index(),
        positions.loc[stocked, "inventory_value"].astype(float).sort_index(),
        rtol=1e-9,
    )


@pytest.mark.postgres
def test_alerts_are_identical_on_both_targets(marts_duckdb: str, marts_postgres: str) -> None:
    """Same episodes, same alert ids (md5 of the same text) and same messages on both targets."""
    for table, columns in (
        ("fct_alert_history", ["alert_id", "alert_type", "opened_at", "closed_at"]),
        ("mart_alerts", ["alert_id", "severity", "on_hand", "threshold", "message"]),
    ):
        duck, pg = (
            read_table(url, "marts", table, ["alert_id"]) for url in (marts_duckdb, marts_postgres)
        )
        assert len(duck) > 0, table
        for column in ("opened_at", "closed_at"):
            if column in columns:
                for df in (duck, pg):
                    df[column] = pd.to_datetime(df[column]).astype("datetime64[ns]")
        pd.testing.assert_frame_equal(duck[columns], pg[columns], check_dtype=False, obj=table)
    history = read_table(marts_duckdb, "marts", "fct_alert_history", ["alert_id"])
    assert {"low_stock", "critical_stock", "stockout", "late_purchase_order"} <= set(
        history["alert_type"]
    )
    assert history["is_open"].any() and not history["is_open"].all()
