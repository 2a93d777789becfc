"""The overview page end to end through AppTest, on a hand-made serving file and on PostgreSQL."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from tests.dashboards.conftest import login

# (part_id, location_id, part_number, description, category_id, category_name, unit_cost,
#  on_hand, reorder_threshold, critical_threshold)
POSITIONS = [
    ("P1", "L1", "FLT-100", "Oil filter", "C1", "Filters", 12.5, 40, 10, 5),
    ("P2", "L1", "BRG-200", "Ball bearing", "C2", "Bearings", 80.0, 3, 10, 4),
    ("P3", "L1", "FLT-101", "Air filter", "C1", "Filters", 20.0, 0, 5, 2),
    ("P1", "L2", "FLT-100", "Oil filter", "C1", "Filters", 12.5, 8, 10, 5),
    ("P2", "L2", "BRG-200", "Ball bearing", "C2", "Bearings", 80.0, 25, 10, 4),
    ("P4", "L2", "BRG-201", "Roller bearing", "C2", "Bearings", 150.0, 12, 6, 3),
]
LOCATIONS = {"L1": ("Main Depot", "North"), "L2": ("East Yard", "East")}

FCT_COLUMNS = (
    "position_key TEXT, part_id TEXT, location_id TEXT, part_number TEXT, description TEXT,"
    " category_id TEXT, category_name TEXT, location_name TEXT, region TEXT,"
    " unit_cost NUMERIC(12, 2), on_hand BIGINT, reorder_threshold BIGINT,"
    " critical_threshold BIGINT, status TEXT, snapshot_as_of DATE,"
    " inventory_value NUMERIC(14, 2), is_low_stock BOOLEAN, is_critical BOOLEAN,"
    " is_stockout BOOLEAN"
)
SUMMARY_COLUMNS = (
    "summary_key TEXT, location_id TEXT, location_name TEXT, region TEXT, category_id TEXT,"
    " category_name TEXT, item_count BIGINT, on_hand_units BIGINT, total_value NUMERIC(14, 2),"
    " low_stock_count BIGINT, critical_stock_count BIGINT, stockout_count BIGINT"
)


def fct_rows() -> pd.DataFrame:
    rows = []
    for part, loc, number, desc, cat, cat_name, cost, on_hand, reorder, critical in POSITIONS:
        name, region = LOCATIONS[loc]
        rows.append(
            {
                "position_key": f"{part}|{loc}",
                "part_id": part,
                "location_id": loc,
                "part_number": number,
                "description": desc,
                "category_id": cat,
                "category_name": cat_name,
                "location_name": name,
                "region": region,
                "unit_cost": cost,
                "on_hand": on_hand,
                "reorder_threshold": reorder,
                "critical_threshold": critical,
                "status": "active",
                "snapshot_as_of": dt.date(2026, 11, 1),
                "inventory_value": cost * on_hand,
                "is_low_stock": on_hand <= reorder,
                "is_critical": on_hand <= critical,
                "is_stockout": on_hand == 0,
            }
        )
    return pd.DataFrame(rows)


def summary_rows(fct: pd.DataFrame) -> pd.DataFrame:
    keys = ["location_id", "location_name", "region", "category_id", "category_name"]
    out = (
        fct.groupby(keys, as_index=False)
        .agg(
            item_count=("position_key", "count"),
            on_hand_units=("on_hand", "sum"),
            total_value=("inventory_value", "sum"),
            low_stock_count=("is_low_stock", "sum"),
            critical_stock_count=("is_critical", "sum"),
            stockout_count=("is_stockout", "sum"),
        )
        .astype({"low_stock_count": int, "critical_stock_count": int, "stockout_count": int})
    )
    out.insert(0, "summary_key", out["location_id"] + "|" + out["category_id"])
    return out


def load_marts(conn: Any, placeholder: str) -> None:
    """Create marts.* with the interface columns and the rows above (DuckDB or psycopg)."""
    fct = fct_rows()
    conn.execute("CREATE SCHEMA marts")
    for table, columns, frame in (
        ("fct_inventory_position", FCT_COLUMNS, fct),
        ("mart_inventory_summary", SUMMARY_COLUMNS, summary_rows(fct)),
    ):
        conn.execute(f"CREATE TABLE marts.{table} ({columns})")
        marks = ", ".join([placeholder] * len(frame.columns))
        records = [
            tuple(r.item() if hasattr(r, "item") else r for r in row) for row in frame.values
        ]
        conn.executemany(f"INSERT INTO marts.{table} VALUES ({marks})", records)  # noqa: S608


def expected_metrics(location_ids: set[str] | None = None) -> dict[str, str]:
    fct = fct_rows()
    if location_ids is not None:
        fct = fct[fct["location_id"].isin(location_ids)]
    return {
        "Inventory value": f"${fct['inventory_value'].sum():,.0f}",
        "Items": f"{len(fct):,}",
        "On-hand units": f"{fct['on_hand'].sum():,}",
        "Low stock": f"{int(fct['is_low_stock'].sum()):,}",
        "Critical": f"{int(fct['is_critical'].sum()):,}",
        "Stock-outs": f"{int(fct['is_stockout'].sum()):,}",
    }


def shown_metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


@pytest.fixture
def serving_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(tmp_path))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path}/warehouse.duckdb")
    return tmp_path


@pytest.fixture
def serving_file(serving_dir: Path) -> Path:
    path = serving_dir / "serving.duckdb"
    with duckdb.connect(str(path)) as conn:
        load_marts(conn, "?")
    return path


def run_app() -> AppTest:
    return login("admin")


def test_totals_match_the_rows(serving_file: Path) -> None:
    at = run_app()
    assert at.title[0].value == "Inventory overview"
    assert shown_metrics(at) == expected_metrics()
    # Spelled out once so a formatting slip in both helpers cannot hide.
    assert shown_metrics(at)["Inventory value"] == "$4,640"
    assert shown_metrics(at)["Low stock"] == "3"
    assert len(at.get("plotly_chart")) == 1


def test_low_stock_table_and_download(serving_file: Path) -> None:
    at = run_app()
    table = at.dataframe[0].value
    # Stock-out first, then critical, then merely low.
    assert list(zip(table["Part"], table["Location"], table["Level"], strict=True)) == [
        ("FLT-101", "Main Depot", "Stock-out"),
        ("BRG-200", "Main Depot", "Critical"),
        ("FLT-100", "East Yard", "Low"),
    ]
    assert list(table.columns[:7]) == [
        "Part",
        "Description",
        "Location",
        "On hand",
        "Reorder threshold",
        "Critical threshold",
        "Value",
    ]
    assert table["Value"].tolist() == [0.0, 240.0, 100.0]
    download = at.get("download_button")[0]
    assert download.proto.label == "Download low-stock list (CSV)"


def test_location_filter_changes_totals(serving_file: Path) -> None:
    at = run_app()
    at.sidebar.multiselect[0].select("L2").run()
    assert not at.exception
    assert shown_metrics(at) == expected_metrics({"L2"})
    assert shown_metrics(at)["Inventory value"] == "$3,900"
    assert at.dataframe[0].value["Part"].tolist() == ["FLT-100"]


def test_no_published_data_shows_the_message(serving_dir: Path) -> None:
    at = run_app()
    assert not at.metric
    assert any("No published data yet" in info.value for info in at.info)


@pytest.mark.postgres
def test_postgres_backend_shows_the_same_totals(
    pg_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with psycopg.connect(pg_database_url, autocommit=True) as conn, conn.cursor() as cur:
        load_marts(cur, "%s")
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(tmp_path))  # empty: must not be consulted
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", pg_database_url)
    at = run_app()
    assert shown_metrics(at) == expected_metrics()
    assert at.dataframe[0].value["Part"].tolist() == ["FLT-101", "BRG-200", "FLT-100"]
    at.sidebar.multiselect[0].select("L2").run()
    assert shown_metrics(at) == expected_metrics({"L2"})
