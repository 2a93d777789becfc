"""End-to-end tests of the dbt project: a tiny hand-made raw layer (validated and typed, as the
ingest writes it), the real `dbt build`, and hand-computed expected mart values, on DuckDB and on
PostgreSQL (identical results and types required).

The raw rows and the reasoning behind every expected number are in tests/dbt/raw_data.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from orchestration.contract import CONTRACT as ENTITIES
from orchestration.env import DBT_PROJECT_DIR, PROJECT_ROOT, Warehouse
from tests.dbt import raw_data

MARTS = ("fct_daily_demand", "fct_inventory_position", "mart_inventory_summary")

# Exactly docs/interfaces.md, with the types both targets must produce.
MART_COLUMNS: dict[str, list[tuple[str, str]]] = {
    "fct_daily_demand": [
        ("daily_demand_key", "bigint"),
        ("part_id", "text"),
        ("location_id", "text"),
        ("demand_date", "date"),
        ("issued_qty", "bigint"),
        ("returned_qty", "bigint"),
        ("loaded_through", "timestamp"),
    ],
    "fct_inventory_position": [
        ("position_key", "text"),
        ("part_id", "text"),
        ("location_id", "text"),
        ("part_number", "text"),
        ("description", "text"),
        ("category_id", "text"),
        ("category_name", "text"),
        ("location_name", "text"),
        ("region", "text"),
        ("unit_cost", "numeric(18,4)"),
        ("on_hand", "bigint"),
        ("reorder_threshold", "bigint"),
        ("critical_threshold", "bigint"),
        ("status", "text"),
        ("snapshot_as_of", "date"),
        ("inventory_value", "numeric(18,4)"),
        ("is_low_stock", "boolean"),
        ("is_critical", "boolean"),
        ("is_stockout", "boolean"),
    ],
    "mart_inventory_summary": [
        ("summary_key", "text"),
        ("location_id", "text"),
        ("location_name", "text"),
        ("region", "text"),
        ("category_id", "text"),
        ("category_name", "text"),
        ("item_count", "bigint"),
        ("on_hand_units", "bigint"),
        ("total_value", "numeric(18,4)"),
        ("low_stock_count", "bigint"),
        ("critical_stock_count", "bigint"),
        ("stockout_count", "bigint"),
    ],
}

STAGING_VIEWS = tuple(f"stg_inventory__{entity}" for entity in ENTITIES)

# Tables read back besides the marts (staging views and an intermediate table, checked for the
# dedup rules).
STAGING = (*STAGING_VIEWS, "int_parts_enriched")

# Staging columns that do not have their raw column's contract type.
STAGING_TYPE_OVERRIDES = {("suppliers", "reliability_score"): "double precision"}

# A non-UTC session time zone proves that nothing depends on it: raw timestamps are naive UTC and
# must pass through staging unchanged.
NON_UTC_TZ = "Asia/Kolkata"


def _dbt_executable() -> str:
    candidates = [
        Path(sys.executable).with_name("dbt"),
        PROJECT_ROOT / ".venv" / "bin" / "dbt",
    ]
    for candidate in candidates:
        if candidate.exists():
            return str(candidate)
    found = shutil.which("dbt")
    if not found:
        pytest.fail("dbt executable not found (expected .venv/bin/dbt)")
    return found


def run_dbt(command: list[str], warehouse: Warehouse, work: Path, **extra_env: str) -> str:
    """Run the real dbt CLI like the orchestration does: env vars from Warehouse.dbt_env()."""
    env = {
        **os.environ,
        **warehouse.dbt_env(),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        **extra_env,
    }
    args = [
        _dbt_executable(),
        *command,
        "--project-dir",
        str(DBT_PROJECT_DIR),
        "--profiles-dir",
        str(DBT_PROJECT_DIR),
        # keep artefacts out of the source tree (and apart per target)
        "--target-path",
        str(work / "target"),
        "--log-path",
        str(work / "logs"),
    ]
    proc = subprocess.run(
        args, cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=1200
    )
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"dbt {' '.join(command)} failed:\n{output[-6000:]}"
    return output


@dataclass
class Built:
    """What a `dbt build` left in the warehouse, read back into plain Python values."""

    target: str
    warehouse: Warehouse
    work: Path
    schemas: set[str]
    columns: dict[str, list[tuple[str, str]]]
    rows: dict[str, list[dict]]
    dbt_output: str


def _canonical_type(data_type: str, precision, scale) -> str:
    t = data_type.lower()
    if t in ("varchar", "text", "character varying"):
        return "text"
    if t in ("double", "double precision", "float8"):
        return "double precision"
    if t in ("timestamp", "timestamp without time zone"):
        return "timestamp"
    if t == "numeric" and precision is not None:
        return f"numeric({precision},{scale})"
    if t.startswith("decimal"):
        return t.replace("decimal", "numeric").replace(" ", "")
    return t


def _read_back(target: str, warehouse: Warehouse, work: Path, query, dbt_output: str) -> Built:
    schemas = {r[0] for r in query("select schema_name from information_schema.schemata")}
    columns: dict[str, list[tuple[str, str]]] = {}
    for schema, tables in (("marts", MARTS), ("staging", STAGING_VIEWS)):
        for table in tables:
            result = query(
                "select column_name, data_type, numeric_precision, numeric_scale "
                "from information_schema.columns "
                f"where table_schema = '{schema}' and table_name = '{table}' "
                "order by ordinal_position"
            )
            columns[table] = [(r[0], _canonical_type(r[1], r[2], r[3])) for r in result]
    rows: dict[str, list[dict]] = {}
    for schema, tables in (("marts", MARTS), ("staging", STAGING)):
        for table in tables:
            cols, result = query(f"select * from {schema}.{table}", with_columns=True)  # noqa: S608
            rows[table] = sorted(
                (dict(zip(cols, r, strict=True)) for r in result),
                key=lambda d: json.dumps(d, default=str, sort_keys=True),
            )
    return Built(target, warehouse, work, schemas, columns, rows, dbt_output)


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory) -> Built:
    import duckdb

    work = tmp_path_factory.mktemp("dbt_duckdb")
    path = work / "warehouse.duckdb"
    raw_data.load_duckdb(str(path))  # connection closed again: dbt needs the write lock
    warehouse = Warehouse(f"duckdb:///{path}")
    assert warehouse.duckdb_path == path
    output = run_dbt(["build"], warehouse, work, TZ=NON_UTC_TZ)

    with duckdb.connect(str(path), read_only=True) as con:

        def query(sql_text: str, with_columns: bool = False):
            cur = con.execute(sql_text)
            result = cur.fetchall()
            return ([d[0] for d in cur.description], result) if with_columns else result

        return _read_back("duckdb", warehouse, work, query, output)


@pytest.fixture(scope="module")
def postgres_built(dbt_pg_database_url: str, tmp_path_factory) -> Built:
    import psycopg

    work = tmp_path_factory.mktemp("dbt_postgres")
    raw_data.load_postgres(dbt_pg_database_url)
    warehouse = Warehouse(dbt_pg_database_url)
    output = run_dbt(["build"], warehouse, work, PGTZ=NON_UTC_TZ)

    with psycopg.connect(dbt_pg_database_url) as con:

        def query(sql_text: str, with_columns: bool = False):
            cur = con.execute(sql_text)
            result = cur.fetchall()
            return ([d.name for d in cur.description], result) if with_columns else result

        return _read_back("postgres", warehouse, work, query, output)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def built(request) -> Built:
    return request.getfixturevalue(f"{request.param}_built")


def _by_key(rows: list[dict], *key: str) -> dict[tuple, dict]:
    return {tuple(r[k] for k in key): r for r in rows}


# --------------------------------------------------------------------------------------------
# The build itself
# --------------------------------------------------------------------------------------------


def test_build_is_clean(built: Built) -> None:
    """Every model, data test and unit test passes, without warnings or skips."""
    summary = [line for line in built.dbt_output.splitlines() if "Done. PASS=" in line]
    assert summary, built.dbt_output[-3000:]
    assert "WARN=0 ERROR=0 SKIP=0" in summary[-1], summary[-1]
    assert "unit tests" in built.dbt_output  # the unit tests ran as part of `dbt build`


def test_schemas_are_exactly_staging_and_marts(built: Built) -> None:
    assert {"raw", "staging", "marts"} <= built.schemas
    assert not {s for s in built.schemas if s.endswith(("_staging", "_marts"))}


def test_mart_columns_and_types_match_the_interface(built: Built) -> None:
    for table, expected in MART_COLUMNS.items():
        assert built.columns[table] == expected, table


def _expected_staging_columns(entity: str) -> list[tuple[str, str]]:
    """The raw contract columns with their canonical types, plus the kept lineage columns."""
    columns = [
        (c.name, STAGING_TYPE_OVERRIDES.get((entity, c.name), raw_data.SQL_TYPES[c.type]))
        for c in ENTITIES[entity]
    ]
    if entity == "stock_levels":
        columns.insert(0, ("stock_level_key", "text"))
    return [*columns, ("_batch_id", "text"), ("_loaded_at", "timestamp")]


def test_staging_columns_and_types_are_canonical(built: Built) -> None:
    """Staging views are 1:1 with their typed source, cast to the same types on both targets."""
    for entity in ENTITIES:
        table = f"stg_inventory__{entity}"
        assert built.columns[table] == _expected_staging_columns(entity), table


def test_raw_fixture_follows_the_contract() -> None:
    """The fixture holds only what the ingest would let into raw (see docs/interfaces.md)."""
    for entity, columns in ENTITIES.items():
        for _batch, values in raw_data.ROWS[entity]:
            assert len(values) == len(columns), (entity, values)
            for column, value in zip(columns, values, strict=True):
                if value is None:
                    assert not column.required, (entity, column.name, values)
                    continue
                expected_type = raw_data.PY_TYPES[column.type]
                assert type(value) is expected_type, (entity, column.name, value)
                assert value != "", (entity, column.name)  # empty strings are stored as NULL
    keys = [v[0] for _, v in raw_data.ROWS["transactions"]]
    assert len(keys) == len(set(keys))  # one row per transaction_id
    po_states = [(v[0], v[-1]) for _, v in raw_data.ROWS["purchase_orders"]]
    assert len(po_states) == len(set(po_states))  # one row per (po_id, updated_at)


# --------------------------------------------------------------------------------------------
# Staging: deduplication across batches, typed values passed through
# --------------------------------------------------------------------------------------------


def test_master_data_keeps_latest_delivered_version(built: Built) -> None:
    categories = _by_key(built.rows["stg_inventory__categories"], "category_id")
    assert len(categories) == 2
    assert categories[("C1",)]["name"] == "Filters & Strainers"  # b2 wins
    assert categories[("C1",)]["_batch_id"] == "categories-b2"
    assert categories[("C2",)]["parent_category_id"] is None

    parts = _by_key(built.rows["stg_inventory__parts"], "part_id")
    assert len(parts) == 3
    assert parts[("P3",)]["unit_cost"] == Decimal("1.25")
    assert parts[("P1",)]["lead_time_days"] is None

    enriched = _by_key(built.rows["int_parts_enriched"], "part_id")
    assert enriched[("P1",)]["effective_lead_time_days"] == 7  # supplier S1's lead time
    assert enriched[("P2",)]["effective_lead_time_days"] == 3  # its own


def test_stock_levels_keep_latest_delivered_version_per_day(built: Built) -> None:
    levels = _by_key(built.rows["stg_inventory__stock_levels"], "part_id", "location_id", "as_of")
    assert len(levels) == 4
    assert levels[("P1", "L1", date(2024, 1, 3))]["on_hand"] == 90  # b2 correction of 80
    assert levels[("P2", "L1", date(2024, 1, 2))]["status"] == "active"  # NULL -> 'active'
    assert levels[("P2", "L2", date(2024, 1, 6))]["status"] == "quarantined"


def test_transactions_pass_through_one_row_per_id(built: Built) -> None:
    """One row per raw transaction (the first-delivery safeguard is covered by a dbt unit test);
    UTC timestamps are not shifted by the non-UTC session time zone."""
    tx = _by_key(built.rows["stg_inventory__transactions"], "transaction_id")
    assert len(tx) == len(raw_data.ROWS["transactions"]) == 11
    assert tx[("T03",)]["occurred_at"].isoformat() == "2024-01-04T06:00:00"
    assert tx[("T07",)]["occurred_at"].isoformat() == "2024-01-06T01:30:00"
    assert tx[("T04",)]["unit_cost"] == Decimal("2.5")
    assert tx[("T11",)]["_batch_id"] == "transactions-b2"


def test_purchase_orders_keep_latest_updated_at(built: Built) -> None:
    pos = _by_key(built.rows["stg_inventory__purchase_orders"], "po_id")
    assert {k[0]: v["status"] for k, v in pos.items()} == {
        "PO1": "RECEIVED",  # OPEN then RECEIVED
        "PO2": "OPEN",
        "PO3": "RECEIVED",  # a stale OPEN delivered later does not win
    }
    assert pos[("PO1",)]["received_at"].isoformat() == "2024-01-05T12:00:00"
    assert pos[("PO1",)]["_batch_id"] == "purchase_orders-b2"
    assert pos[("PO3",)]["_batch_id"] == "purchase_orders-b1"
    assert pos[("PO3",)]["updated_at"].isoformat() == "2024-01-04T00:00:00"


# --------------------------------------------------------------------------------------------
# Marts: hand-computed values
# --------------------------------------------------------------------------------------------

# (part, location): on_hand, snapshot_as_of, reorder, critical, status, value, low, critical, out
EXPECTED_POSITIONS = {
    # latest snapshot 01-03 = 90 (b2); T01 (01-02) and T02 (ON 01-03) ignored;
    # -10 (T03, 01-04 UTC) +20 (T04) +2 (T05 RETURN) -3 (T06 ADJUSTMENT) = 99
    ("P1", "L1"): (99, date(2024, 1, 3), 50, 10, "active", Decimal("247.5"), False, False, False),
    # snapshot 01-02 = 5; T08 on the snapshot day ignored; T07 (01-06 UTC) -4 = 1
    ("P2", "L1"): (1, date(2024, 1, 2), 10, 5, "active", Decimal("10"), True, True, False),
    # snapshot only
    ("P2", "L2"): (0, date(2024, 1, 6), 3, 1, "quarantined", Decimal("0"), True, True, True),
    # no snapshot: 0 + 6 TRANSFER_IN
    ("P3", "L1"): (6, None, None, None, "active", Decimal("7.5"), False, False, False),
    # no snapshot: 0 + 6 RECEIPT - 6 TRANSFER_OUT
    ("P3", "L2"): (0, None, None, None, "active", Decimal("0"), False, False, True),
}


def test_inventory_position_values(built: Built) -> None:
    positions = _by_key(built.rows["fct_inventory_position"], "part_id", "location_id")
    assert set(positions) == set(EXPECTED_POSITIONS)
    fields = (
        "on_hand",
        "snapshot_as_of",
        "reorder_threshold",
        "critical_threshold",
        "status",
        "inventory_value",
        "is_low_stock",
        "is_critical",
        "is_stockout",
    )
    for pair, expected in EXPECTED_POSITIONS.items():
        actual = tuple(positions[pair][f] for f in fields)
        assert actual == expected, pair
    p1 = positions[("P1", "L1")]
    assert (p1["part_number"], p1["category_id"], p1["category_name"]) == (
        "PN-1",
        "C1",
        "Filters & Strainers",
    )
    assert (p1["location_name"], p1["region"], p1["unit_cost"]) == (
        "Main Warehouse",
        "EU",
        Decimal("2.5"),
    )
    assert len({r["position_key"] for r in positions.values()}) == len(positions)


def test_daily_demand_is_zero_filled(built: Built) -> None:
    rows = built.rows["fct_daily_demand"]
    # first transaction day of each pair .. last transaction day of the data set (2024-01-06)
    counts = Counter((r["part_id"], r["location_id"]) for r in rows)
    assert counts == {("P1", "L1"): 5, ("P2", "L1"): 5, ("P3", "L2"): 2, ("P3", "L1"): 1}
    assert len(rows) == 13
    assert max(r["demand_date"] for r in rows) == date(2024, 1, 6)

    demand = _by_key(rows, "part_id", "location_id", "demand_date")
    p1 = [
        (
            demand[("P1", "L1", date(2024, 1, d))]["issued_qty"],
            demand[("P1", "L1", date(2024, 1, d))]["returned_qty"],
        )
        for d in range(2, 7)
    ]
    assert p1 == [(5, 0), (7, 0), (10, 0), (0, 2), (0, 0)]
    p2 = [demand[("P2", "L1", date(2024, 1, d))]["issued_qty"] for d in range(2, 7)]
    assert p2 == [1, 0, 0, 0, 4]  # T07 is 01-05 23:30 at -02:00 = 01-06 UTC
    p3 = [r for r in rows if r["part_id"] == "P3"]
    assert all(r["issued_qty"] == 0 and r["returned_qty"] == 0 for r in p3)


def test_inventory_summary_values(built: Built) -> None:
    summary = _by_key(built.rows["mart_inventory_summary"], "location_id", "category_id")
    fields = (
        "item_count",
        "on_hand_units",
        "total_value",
        "low_stock_count",
        "critical_stock_count",
        "stockout_count",
    )
    actual = {k: tuple(v[f] for f in fields) for k, v in summary.items()}
    assert actual == {
        ("L1", "C1"): (2, 105, Decimal("255"), 0, 0, 0),  # P1 (99) + P3 (6)
        ("L1", "C2"): (1, 1, Decimal("10"), 1, 1, 0),  # P2
        ("L2", "C1"): (1, 0, Decimal("0"), 0, 0, 1),  # P3, no thresholds
        ("L2", "C2"): (1, 0, Decimal("0"), 1, 1, 1),  # P2 quarantined
    }
    l1c1 = summary[("L1", "C1")]
    assert (l1c1["location_name"], l1c1["region"], l1c1["category_name"]) == (
        "Main Warehouse",
        "EU",
        "Filters & Strainers",
    )


# --------------------------------------------------------------------------------------------
# Cross-target and CI checks
# --------------------------------------------------------------------------------------------


@pytest.mark.postgres
def test_duckdb_and_postgres_give_identical_marts(
    duckdb_built: Built, postgres_built: Built
) -> None:
    assert duckdb_built.columns == postgres_built.columns
    for table in (*MARTS, *STAGING):
        assert duckdb_built.rows[table] == postgres_built.rows[table], table


@pytest.mark.postgres
def test_partial_rerun_on_postgres_keeps_downstream(postgres_built: Built) -> None:
    """Re-running one staging view (as Dagster may do) must not drop what is built on it:
    dbt-postgres replaces a view with DROP ... CASCADE, so nothing may be a view on a view."""
    import psycopg

    run_dbt(
        ["run", "--select", "stg_inventory__transactions"],
        postgres_built.warehouse,
        postgres_built.work,
    )
    run_dbt(["build", "--select", "marts"], postgres_built.warehouse, postgres_built.work)
    with psycopg.connect(postgres_built.warehouse.pg_conninfo) as con:
        count = con.execute("select count(*) from staging.int_transactions_signed").fetchone()
    assert count == (11,)


def test_parse_needs_no_warehouse(tmp_path: Path) -> None:
    """`dbt parse` (run in CI to prepare the manifest) must not touch any warehouse."""
    missing = tmp_path / "nowhere" / "warehouse.duckdb"
    run_dbt(["parse"], Warehouse(f"duckdb:///{missing}"), tmp_path)
    assert not missing.exists() and not missing.parent.exists()

    manifest = json.loads((tmp_path / "target" / "manifest.json").read_text())
    models = {n["name"] for n in manifest["nodes"].values() if n["resource_type"] == "model"}
    assert set(MARTS) <= models
    assert {f"stg_inventory__{e}" for e in ENTITIES} <= models
    sources = {(s["source_name"], s["name"]): s for s in manifest["sources"].values()}
    # The ingest's raw tables, and the replenishment asset's tables (written after the marts).
    replenishment = {"stockout_prediction_history", "replenishment_runs"}
    assert set(sources) == {("inventory", e) for e in ENTITIES} | {
        ("replenishment", t) for t in replenishment
    }
    for (source_name, table), source in sources.items():
        schema = "raw" if source_name == "inventory" else "ml"
        assert source["schema"] == schema
        meta = source["config"]["meta"] or source["meta"]
        assert meta["dagster"]["asset_key"] == [schema, table]
    # source() only in staging
    for node in manifest["nodes"].values():
        if node["resource_type"] == "model" and node["sources"]:
            assert node["name"].startswith(("stg_inventory__", "stg_replenishment__")), node["name"]
