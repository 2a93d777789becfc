"""Great Expectations suites: clean rows pass, each kind of broken rule fails and is named."""

from __future__ import annotations

import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import pytest

from orchestration import env
from orchestration.contract import CONTRACT, LINEAGE_COLUMNS, column_names
from orchestration.quality import SuiteResult, expectations, validate_chunks, validate_frame
from orchestration.warehouse import connect

TS = pd.Timestamp

# Three clean rows per entity, keyed by column; the contract gives each column's type.
CLEAN: dict[str, dict[str, list[Any]]] = {
    "categories": {
        "category_id": ["C-1", "C-2", "C 3 'x'"],
        "name": ["Filters", "Oil filters", "Pumps"],
        "parent_category_id": [None, "C-1", None],
    },
    "suppliers": {
        "supplier_id": ["S-1", "S-2", "S-3"],
        "name": ["Acme", "Bolt & Co", "Ünicode GmbH"],
        "lead_time_days": [0, 14, None],
        "reliability_score": [0.0, 1.0, None],
    },
    "locations": {
        "location_id": ["L-1", "L-2", "L-3"],
        "name": ["Main", "North SC", "South"],
        "region": ["EU", None, "EU"],
        "country": ["DE", "FR", None],
        "location_type": ["warehouse", "service_center", "warehouse"],
        "climate_zone": [None, "temperate", "arid"],
    },
    "parts": {
        "part_id": ["P-1", "P-2", "P-3"],
        "part_number": ["PN-1", "PN-2", "PN-3"],
        "description": ["bolt", None, "pump"],
        "category_id": ["C-1", "C-1", "C-3"],
        "supplier_id": ["S-1", None, "S-2"],
        "unit_cost": [0.0, 1.25, 999.99],
        "unit_price": [0.5, None, 1200.0],
        "lead_time_days": [0, None, 30],
        "shelf_life_days": [None, 365, 730],
    },
    "stock_levels": {
        "as_of": [TS("2024-01-01"), TS("2024-01-01"), TS("2024-01-02")],
        "part_id": ["P-1", "P-2", "P-1"],
        "location_id": ["L-1", "L-1", "L-1"],
        "on_hand": [0, 10, 5],
        "reorder_threshold": [5, None, 5],
        "critical_threshold": [5, 3, 0],
        "status": ["active", None, "quarantined"],
    },
    "transactions": {
        "transaction_id": ["T-1", "T-2", "T-3"],
        "occurred_at": [TS("2000-01-01"), TS("2024-05-01 12:30"), TS("2024-05-02")],
        "type": ["ISSUE", "ADJUSTMENT", "RECEIPT"],
        "part_id": ["P-1", "P-1", "P-2"],
        "location_id": ["L-1", "L-1", "L-2"],
        "quantity": [3, -2, 10],
        "unit_cost": [1.25, None, 2.0],
        "reference": [None, None, "PO-1"],
        "user_id": ["u1", None, "u2"],
    },
    "purchase_orders": {
        # PO-1 twice: one row per state change, distinct updated_at.
        "po_id": ["PO-1", "PO-1", "PO-2"],
        "part_id": ["P-1", "P-1", "P-2"],
        "location_id": ["L-1", "L-1", "L-2"],
        "supplier_id": ["S-1", "S-1", None],
        "quantity": [10, 10, 1],
        "ordered_at": [TS("2024-01-01"), TS("2024-01-01"), TS("2024-02-01")],
        "expected_at": [TS("2024-01-15"), TS("2024-01-15"), None],
        "received_at": [None, TS("2024-01-14"), None],
        "status": ["OPEN", "RECEIVED", "CANCELLED"],
        "updated_at": [TS("2024-01-01"), TS("2024-01-14"), TS("2024-02-02")],
    },
}

DTYPES = {"text": "object", "int": "Int64", "decimal": "float64"}


def frame(entity: str) -> pd.DataFrame:
    """Typed clean rows plus lineage columns, as the clean tables hold them."""
    df = pd.DataFrame(CLEAN[entity], columns=column_names(entity))
    for col in CONTRACT[entity]:
        df[col.name] = (
            pd.to_datetime(df[col.name])
            if col.type in ("date", "timestamp")
            else df[col.name].astype(DTYPES[col.type])
        )
    df["_batch_id"] = "batch-1"
    df["_file_name"] = f"{entity}.csv"
    df["_file_hash"] = "ab" * 32
    df["_row_number"] = pd.array(range(1, len(df) + 1), dtype="int64")
    df["_loaded_at"] = TS("2024-06-01")
    return df


def failed_names(result: SuiteResult) -> list[str]:
    return [f.split(":")[0] for f in result.failed]


def test_clean_data_covers_every_contract_entity() -> None:
    assert set(CLEAN) == set(CONTRACT)


@pytest.mark.parametrize("entity", list(CONTRACT))
def test_clean_frame_passes(entity: str) -> None:
    result = validate_frame(entity, frame(entity))
    assert result.failed == []
    assert result.success
    assert result.rows == 3
    assert result.evaluated == len(expectations(entity))


BROKEN: list[tuple[str, str, Any, str]] = [
    # (entity, column, value written into row 0, name of the failing expectation)
    ("categories", "name", None, "expect_column_values_to_not_be_null(name)"),
    ("categories", "category_id", "", "expect_column_value_lengths_to_be_between(category_id)"),
    ("parts", "supplier_id", "S" * 65, "expect_column_value_lengths_to_be_between(supplier_id)"),
    ("parts", "unit_cost", None, "expect_column_values_to_not_be_null(unit_cost)"),
    ("parts", "unit_price", -0.01, "expect_column_values_to_be_between(unit_price)"),
    ("parts", "lead_time_days", -1, "expect_column_values_to_be_between(lead_time_days)"),
    ("suppliers", "lead_time_days", -1, "expect_column_values_to_be_between(lead_time_days)"),
    (
        "suppliers",
        "reliability_score",
        1.01,
        "expect_column_values_to_be_between(reliability_score)",
    ),
    (
        "suppliers",
        "reliability_score",
        -0.1,
        "expect_column_values_to_be_between(reliability_score)",
    ),
    ("locations", "location_type", "depot", "expect_column_values_to_be_in_set(location_type)"),
    ("locations", "location_type", None, "expect_column_values_to_not_be_null(location_type)"),
    ("stock_levels", "on_hand", -1, "expect_column_values_to_be_between(on_hand)"),
    ("stock_levels", "as_of", None, "expect_column_values_to_not_be_null(as_of)"),
    ("stock_levels", "status", "lost", "expect_column_values_to_be_in_set(status)"),
    (
        "stock_levels",
        "critical_threshold",
        6,
        "expect_column_pair_values_a_to_be_greater_than_b(reorder_threshold, critical_threshold) "
        "[critical_threshold <= reorder_threshold]",
    ),
    ("transactions", "type", "SALE", "expect_column_values_to_be_in_set(type)"),
    ("transactions", "part_id", None, "expect_column_values_to_not_be_null(part_id)"),
    ("transactions", "transaction_id", "T-2", "expect_column_values_to_be_unique(transaction_id)"),
    (
        "transactions",
        "quantity",
        -3,
        "expect_column_values_to_be_between(quantity) [quantity > 0 unless type is ADJUSTMENT]",
    ),
    (
        "transactions",
        "occurred_at",
        TS("1999-12-31 23:59"),
        "expect_column_values_to_be_between(occurred_at)",
    ),
    (
        "transactions",
        "occurred_at",
        TS(datetime.now(UTC).replace(tzinfo=None) + timedelta(days=2)),
        "expect_column_values_to_be_between(occurred_at)",
    ),
    ("purchase_orders", "status", "CLOSED", "expect_column_values_to_be_in_set(status)"),
    ("purchase_orders", "quantity", 0, "expect_column_values_to_be_between(quantity)"),
    ("purchase_orders", "updated_at", None, "expect_column_values_to_not_be_null(updated_at)"),
    (
        "purchase_orders",
        "updated_at",
        TS("2024-01-14"),
        "expect_compound_columns_to_be_unique(po_id, updated_at)",
    ),
]


@pytest.mark.parametrize(("entity", "column", "value", "expected"), BROKEN)
def test_broken_rule_fails_and_is_named(
    entity: str, column: str, value: Any, expected: str
) -> None:
    df = frame(entity)
    df.loc[0, column] = value
    result = validate_frame(entity, df)
    assert not result.success
    assert failed_names(result) == [expected], result.failed
    assert re.search(r": [12] of [23] rows, e\.g\. ", result.failed[0]), result.failed


def test_adjustment_may_be_negative_but_not_zero() -> None:
    df = frame("transactions")
    df.loc[1, "quantity"] = -7
    assert validate_frame("transactions", df).success
    df.loc[1, "quantity"] = 0
    result = validate_frame("transactions", df)
    assert failed_names(result) == ["expect_column_values_to_not_be_in_set(quantity)"]
    assert "e.g. 0" in result.failed[0]


def test_missing_and_extra_columns_fail_the_column_set() -> None:
    result = validate_frame("transactions", frame("transactions").drop(columns="user_id"))
    assert not result.success
    column_set = [f for f in result.failed if f.startswith("expect_table_columns_to_match_set")]
    assert len(column_set) == 1 and "'missing': ['user_id']" in column_set[0]

    extra = frame("parts").assign(colour="red")
    result = validate_frame("parts", extra)
    assert failed_names(result) == ["expect_table_columns_to_match_set()"]
    assert "colour" in result.failed[0]


def test_lineage_columns_are_optional_and_ignored() -> None:
    df = frame("locations").drop(columns=list(LINEAGE_COLUMNS))
    assert validate_frame("locations", df).success


def test_tz_aware_timestamps_are_compared_in_utc() -> None:
    df = frame("transactions")
    df["occurred_at"] = df["occurred_at"].dt.tz_localize("UTC").dt.tz_convert("Europe/Berlin")
    assert validate_frame("transactions", df).success
    df.loc[0, "occurred_at"] = TS("2000-01-01 00:30", tz="Europe/Berlin")  # 1999-12-31 23:30 UTC
    assert failed_names(validate_frame("transactions", df)) == [
        "expect_column_values_to_be_between(occurred_at)"
    ]


def test_empty_frame_succeeds_without_validation() -> None:
    result = validate_frame("transactions", frame("transactions").iloc[0:0])
    assert result == SuiteResult("transactions", True, 0, [], 0)


def test_unknown_entity_is_an_error() -> None:
    with pytest.raises(KeyError):
        validate_frame("widgets", pd.DataFrame({"a": [1]}))


def test_importing_the_module_does_not_import_great_expectations() -> None:
    code = "import sys, orchestration.quality; print('great_expectations' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_chunked_validation_joins_the_chunks_results() -> None:
    clean, broken = frame("transactions"), frame("transactions")
    broken.loc[0, "quantity"] = 0
    whole = validate_frame("transactions", broken)
    chunked = validate_chunks("transactions", [clean, broken, broken])
    assert not chunked.success and chunked.rows == 9
    assert chunked.failed == whole.failed  # named once, not once per chunk
    assert chunked.evaluated == whole.evaluated
    assert validate_chunks("transactions", []) == SuiteResult("transactions", True, 0, [], 0)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
    return request.getfixturevalue("pg_database_url")


def test_query_streams_in_chunks_holding_every_row_once(warehouse_url: str) -> None:
    with connect(env.Warehouse(warehouse_url)) as conn:
        conn.execute(
            "create table t as select i, 'x' || i as s from generate_series(1, 10000) g(i)"
        )
        sql = "select i, s from t where i > ? order by i"
        chunks = list(conn.query_df_chunks(sql, (10,), rows=4096))
        assert [len(c) for c in chunks] == [4096, 4096, 1798]
        whole = pd.concat(chunks, ignore_index=True)
        pd.testing.assert_frame_equal(whole, conn.query_df(sql, (10,)), check_dtype=False)
        assert list(conn.query_df_chunks("select i from t where false")) == []
