"""Purchasing, FIFO stock ageing and alerts on real warehouses.

PO performance and FIFO ageing are recomputed from the landing files with pandas
(tests/dbt/expected_purchasing.py) and compared with the marts of the shared generated world on
DuckDB and PostgreSQL. A stock-out injected into a small generated world opens a stock-out alert
that a later receipt closes, under the same alert id.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from orchestration.generator import GeneratorConfig, generate_landing
from tests.dbt import expected_purchasing as expected
from tests.orchestration.expected import expected_positions, read_entity
from tests.orchestration.pipeline_helpers import materialize_all, read_table

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


# --------------------------------------------------------------------------------------------
# A stock-out injected on a known day opens an alert; a later receipt closes it
# --------------------------------------------------------------------------------------------

STOCKOUT_WORLD = GeneratorConfig(parts=6, locations=2, days=60, seed=5)
SCENARIO_TABLES = {
    "fct_daily_stock": ["part_id", "location_id", "stock_date"],
    "mart_kpi_daily": ["kpi_date", "scope_type", "scope_id"],
    "mart_alerts": ["alert_id"],
    "fct_alert_history": ["alert_id"],
}


@dataclass
class StockoutScenario:
    part_id: str
    location_id: str
    stockout_day: pd.Timestamp
    receipt_day: pd.Timestamp
    after_stockout: dict[str, pd.DataFrame]
    after_receipt: dict[str, pd.DataFrame]


def _active_stocked_pair(landing: Path) -> tuple[str, str, int]:
    """A deterministic (part, location, on_hand) whose stock is active and positive at the end."""
    snaps = read_entity(landing, "stock_levels").sort_values("as_of")
    status = snaps.groupby(["part_id", "location_id"])["status"].last()
    positions = expected_positions(landing).set_index(["part_id", "location_id"])["on_hand"]
    candidates = positions[(positions > 0) & (status.reindex(positions.index) == "active")]
    (part_id, location_id), on_hand = next(iter(candidates.sort_index().items()))
    return part_id, location_id, int(on_hand)


def _land_transaction(landing: Path, name: str, **row: object) -> None:
    pd.DataFrame([row]).to_csv(landing / "transactions" / f"{name}.csv", index=False)


def _read_scenario_tables(url: str) -> dict[str, pd.DataFrame]:
    tables = {}
    for table, key in SCENARIO_TABLES.items():
        df = read_table(url, "marts", table, key)
        for column in ("stock_date", "kpi_date", "opened_at", "closed_at"):
            if column in df:
                df[column] = pd.to_datetime(df[column])
        tables[table] = df
    return tables


# Only what the scenario reads and what it is built from (no feature, classification, forecast
# or serving assets).
SCENARIO_ASSETS = dg.AssetSelection.assets(*(["marts", t] for t in SCENARIO_TABLES)).upstream()


def _materialized(url: str, landing: Path, serving: Path) -> dict[str, pd.DataFrame]:
    result = materialize_all(url, landing, serving, SCENARIO_ASSETS)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return _read_scenario_tables(url)


# DuckDB only: two more full materializations on PostgreSQL would cost minutes on 2 cores; the
# alert models run on PostgreSQL in the shared world (test_alerts_are_identical_on_both_targets).
@pytest.fixture(scope="module")
def stockout_scenario(tmp_path_factory: pytest.TempPathFactory) -> StockoutScenario:
    root = tmp_path_factory.mktemp("stockout")
    url = f"duckdb:///{root}/warehouse.duckdb"
    landing = root / "landing"
    generate_landing(landing, STOCKOUT_WORLD)
    part_id, location_id, on_hand = _active_stocked_pair(landing)
    _, last_day = expected.ledger_days(landing)
    stockout_day = last_day + pd.Timedelta(days=1)
    receipt_day = last_day + pd.Timedelta(days=3)
    pair = {"part_id": part_id, "location_id": location_id}
    # the whole stock issued on the day after the generated ledger ends: on hand exactly 0
    _land_transaction(
        landing,
        "injected_stockout",
        transaction_id="X-STOCKOUT",
        occurred_at=f"{stockout_day:%Y-%m-%d}T10:00:00",
        type="ISSUE",
        quantity=on_hand,
        **pair,
    )
    after_stockout = _materialized(url, landing, root / "serving")
    _land_transaction(
        landing,
        "injected_receipt",
        transaction_id="X-RECEIPT",
        occurred_at=f"{receipt_day:%Y-%m-%d}T09:00:00",
        type="RECEIPT",
        quantity=on_hand,
        **pair,
    )
    after_receipt = _materialized(url, landing, root / "serving")
    return StockoutScenario(
        part_id, location_id, stockout_day, receipt_day, after_stockout, after_receipt
    )


def _pair_rows(df: pd.DataFrame, scenario: StockoutScenario) -> pd.DataFrame:
    return df[(df["part_id"] == scenario.part_id) & (df["location_id"] == scenario.location_id)]


def _stockout_alerts(df: pd.DataFrame, scenario: StockoutScenario) -> pd.DataFrame:
    rows = _pair_rows(df, scenario)
    return rows[rows["alert_type"] == "stockout"]


def test_injected_stockout_is_in_daily_stock_and_kpi(stockout_scenario: StockoutScenario) -> None:
    s = stockout_scenario
    daily = _pair_rows(s.after_stockout["fct_daily_stock"], s).set_index("stock_date")
    assert daily.index.max() == s.stockout_day
    assert daily.loc[s.stockout_day, "on_hand"] == 0
    assert bool(daily.loc[s.stockout_day, "is_stockout"])
    assert daily.loc[s.stockout_day - pd.Timedelta(days=1), "on_hand"] > 0
    kpi = s.after_stockout["mart_kpi_daily"]
    company = kpi[kpi["scope_type"] == "company"].set_index("kpi_date")["stockout_pair_days"]
    # nothing else moved on the injected day: exactly one more stocked-out pair
    before = s.stockout_day - pd.Timedelta(days=1)
    assert company[s.stockout_day] == company[before] + 1


def test_stockout_alert_opens_on_the_injected_day(stockout_scenario: StockoutScenario) -> None:
    s = stockout_scenario
    alerts = _stockout_alerts(s.after_stockout["mart_alerts"], s)
    assert len(alerts) == 1
    alert = alerts.iloc[0]
    assert alert["opened_at"] == s.stockout_day
    assert (alert["severity"], alert["on_hand"], alert["days_open"]) == ("critical", 0, 0)
    assert s.part_id in alert["message"] and s.location_id in alert["message"]
    history = s.after_stockout["fct_alert_history"].set_index("alert_id")
    assert bool(history.loc[alert["alert_id"], "is_open"])


def test_receipt_closes_the_stockout_alert(stockout_scenario: StockoutScenario) -> None:
    s = stockout_scenario
    alert_id = _stockout_alerts(s.after_stockout["mart_alerts"], s)["alert_id"].iloc[0]
    assert alert_id not in set(s.after_receipt["mart_alerts"]["alert_id"])
    episode = s.after_receipt["fct_alert_history"].set_index("alert_id").loc[alert_id]
    assert episode["opened_at"] == s.stockout_day
    assert episode["closed_at"] == s.receipt_day
    assert not bool(episode["is_open"])
    assert episode["duration_days"] == (s.receipt_day - s.stockout_day).days
    assert _stockout_alerts(s.after_receipt["mart_alerts"], s).empty


def test_alert_ids_survive_a_rebuild(stockout_scenario: StockoutScenario) -> None:
    """Every episode of the first run is still there under the same id after the second ingest
    (no other pair moved, so no episode could have changed its first day)."""
    s = stockout_scenario
    first = s.after_stockout["fct_alert_history"]
    second = s.after_receipt["fct_alert_history"].set_index("alert_id")
    assert len(first) > 1
    assert set(first["alert_id"]) <= set(second.index)
    kept = second.loc[first["alert_id"], ["alert_type", "part_id", "location_id", "opened_at"]]
    pd.testing.assert_frame_equal(
        kept.reset_index(drop=True),
        first[["alert_type", "part_id", "location_id", "opened_at"]].reset_index(drop=True),
    )
