"""Tiny hand-made raw layer for the dbt tests, written to DuckDB or PostgreSQL.

Layout exactly as docs/interfaces.md: schema `raw`, one table per entity, every contract column as
text (values as delivered, empty string stored as NULL), then the lineage columns.

The rows are chosen so that every tricky rule is exercised (see the comments), and the expected mart
values in test_dbt_models.py are computed by hand from them.
"""

from __future__ import annotations

from datetime import datetime

COLUMNS: dict[str, list[str]] = {
    "categories": ["category_id", "name", "parent_category_id"],
    "suppliers": ["supplier_id", "name", "lead_time_days", "reliability_score"],
    "locations": ["location_id", "name", "region", "country", "location_type", "climate_zone"],
    "parts": [
        "part_id",
        "part_number",
        "description",
        "category_id",
        "supplier_id",
        "unit_cost",
        "unit_price",
        "lead_time_days",
        "shelf_life_days",
    ],
    "stock_levels": [
        "as_of",
        "part_id",
        "location_id",
        "on_hand",
        "reorder_threshold",
        "critical_threshold",
        "status",
    ],
    "transactions": [
        "transaction_id",
        "occurred_at",
        "type",
        "part_id",
        "location_id",
        "quantity",
        "unit_cost",
        "reference",
        "user_id",
    ],
    "purchase_orders": [
        "po_id",
        "part_id",
        "location_id",
        "supplier_id",
        "quantity",
        "ordered_at",
        "expected_at",
        "received_at",
        "status",
        "updated_at",
    ],
}
LINEAGE = ["_batch_id", "_file_name", "_file_hash", "_row_number", "_loaded_at"]

# Two batches per entity: b1 loaded first, b2 one day later.
LOADED_AT = {"b1": datetime(2024, 1, 7, 8, 0, 0), "b2": datetime(2024, 1, 8, 8, 0, 0)}

# (batch, values in COLUMNS order); None = NULL.
ROWS: dict[str, list[tuple[str, tuple]]] = {
    "categories": [
        ("b1", ("C1", "Filters", None)),
        ("b1", ("C2", "Bearings", None)),
        # C1 delivered again in a later batch: the later name wins
        ("b2", ("C1", " Filters & Strainers ", None)),
    ],
    "suppliers": [
        ("b1", ("S1", "Acme", "7", "0.95")),
        ("b1", ("S2", "Bolt Co", "14", "0.8")),
    ],
    "locations": [
        ("b1", ("L1", "Main Warehouse", "EU", "DE", "Warehouse", "temperate")),
        ("b1", ("L2", "Service Center North", "NORDICS", "SE", " service_center ", None)),
    ],
    "parts": [
        # P1 has no own lead time: effective lead time falls back to S1's 7 days
        ("b1", ("P1", "PN-1", "Oil filter", "C1", "S1", "2.50", "4.00", None, "365")),
        ("b1", ("P2", "PN-2", "Ball bearing", "C2", "S2", "10", "15", "3", None)),
        ("b1", ("P3", "PN-3", "Strainer", "C1", "S1", "1.00", "2", "5", None)),
        # P3 re-delivered with a new cost: the later delivery wins (1.25)
        ("b2", ("P3", "PN-3", "Strainer", "C1", "S1", "1.25", "2", "5", None)),
    ],
    "stock_levels": [
        # P1@L1: older snapshot, then the latest snapshot 2024-01-03 (80), corrected in b2 to 90
        ("b1", ("2024-01-01", "P1", "L1", "100", "50", "10", "active")),
        ("b1", ("2024-01-03", "P1", "L1", "80", "50", "10", "active")),
        ("b2", ("2024-01-03", "P1", "L1", "90", "50", "10", "active")),
        # P2@L1: snapshot 2024-01-02, upper-case status
        ("b1", ("2024-01-02", "P2", "L1", "5", "10", "5", "ACTIVE")),
        # P2@L2: snapshot only (no transactions), quarantined, zero on hand
        ("b1", ("2024-01-06", "P2", "L2", "0", "3", "1", "quarantined")),
    ],
    "transactions": [
        # P1@L1 (latest snapshot 2024-01-03 = 90)
        ("b1", ("T01", "2024-01-02T10:00:00", "ISSUE", "P1", "L1", "5", None, None, "u1")),
        # on the snapshot day: already in the snapshot, must NOT be added
        ("b1", ("T02", "2024-01-03T09:00:00", "ISSUE", "P1", "L1", "7", None, None, "u1")),
        # offset: 2024-01-04 06:00 UTC
        ("b1", ("T03", "2024-01-04T08:00:00+02:00", "ISSUE", "P1", "L1", "10", None, None, "u1")),
        ("b1", ("T04", "2024-01-05 12:00:00", "RECEIPT", "P1", "L1", "20", "2.5", "PO1", "u2")),
        ("b1", ("T05", "2024-01-05 13:00:00", "return", "P1", "L1", "2", None, None, "u1")),
        ("b1", ("T06", "2024-01-06 09:00:00", "ADJUSTMENT", "P1", "L1", "-3", None, None, "u3")),
        # P2@L1 (snapshot 2024-01-02 = 5): T08 on the snapshot day is ignored;
        # T07 is 2024-01-05 23:30 at -02:00 = 2024-01-06 01:30 UTC, so it counts on 2024-01-06
        ("b1", ("T07", "2024-01-05T23:30:00-02:00", "ISSUE", "P2", "L1", "4", None, None, "u1")),
        ("b1", ("T08", "2024-01-02 08:00:00", " issue ", "P2", "L1", "1", None, None, "u1")),
        # P3: no snapshot anywhere; a transfer L2 -> L1
        ("b1", ("T09", "2024-01-05 08:00:00", "RECEIPT", "P3", "L2", "6", None, "PO2", "u2")),
        ("b1", ("T10", "2024-01-06 08:00:00", "TRANSFER_OUT", "P3", "L2", "6", None, "TR1", "u2")),
        ("b2", ("T11", "2024-01-06 10:00:00", "TRANSFER_IN", "P3", "L1", "6", None, "TR1", "u2")),
        # T04 delivered again later with different content: the first delivery is kept
        ("b2", ("T04", "2024-01-05 12:00:00", "RECEIPT", "P1", "L1", "999", "2.5", "PO1", "u2")),
        # T03 delivered again with identical content: counted once
        ("b2", ("T03", "2024-01-04T08:00:00+02:00", "ISSUE", "P1", "L1", "10", None, None, "u1")),
    ],
    "purchase_orders": [
        # PO1: OPEN, then RECEIVED in a later batch -> RECEIVED
        (
            "b1",
            ("PO1", "P1", "L1", "S1", "20", "2024-01-01", "2024-01-08", "", "OPEN", "2024-01-01"),
        ),
        (
            "b2",
            (
                "PO1",
                "P1",
                "L1",
                "S1",
                "20",
                "2024-01-01",
                "2024-01-08",
                "2024-01-05T12:00:00",
                "received",
                "2024-01-05T12:00:00",
            ),
        ),
        # PO2: only OPEN
        ("b1", ("PO2", "P3", "L2", "S1", "6", "2024-01-02", None, None, "OPEN", "2024-01-02")),
        # PO3: RECEIVED (updated 01-04) arrives first, a stale OPEN (updated 01-02) arrives later:
        # the latest updated_at wins, not the latest load -> RECEIVED
        (
            "b1",
            (
                "PO3",
                "P2",
                "L1",
                "S2",
                "4",
                "2024-01-02",
                None,
                "2024-01-04",
                "RECEIVED",
                "2024-01-04",
            ),
        ),
        ("b2", ("PO3", "P2", "L1", "S2", "4", "2024-01-02", None, None, "OPEN", "2024-01-02")),
    ],
}


def ddl() -> list[str]:
    """CREATE statements valid on DuckDB and PostgreSQL."""
    statements = ["create schema if not exists raw"]
    for entity, columns in COLUMNS.items():
        cols = [f"{c} text" for c in columns] + [
            "_batch_id text",
            "_file_name text",
            "_file_hash text",
            "_row_number bigint",
            "_loaded_at timestamp",
        ]
        statements.append(f"create table raw.{entity} ({', '.join(cols)})")
    return statements


def rows(entity: str) -> list[tuple]:
    """Rows of one raw table with lineage; empty strings stored as NULL (as the ingest does)."""
    out = []
    row_numbers: dict[str, int] = {}
    for batch, values in ROWS[entity]:
        row_numbers[batch] = row_numbers.get(batch, 0) + 1
        clean = tuple(None if v == "" else v for v in values)
        lineage = (
            f"{entity}-{batch}",
            f"{entity}_{batch}.csv",
            f"hash-{entity}-{batch}",
            row_numbers[batch],
            LOADED_AT[batch],
        )
        out.append(clean + lineage)
    return out


def insert_sql(entity: str, placeholder: str) -> str:
    columns = COLUMNS[entity] + LINEAGE
    marks = ", ".join([placeholder] * len(columns))
    return f"insert into raw.{entity} ({', '.join(columns)}) values ({marks})"  # noqa: S608


def load_duckdb(path: str) -> None:
    import duckdb

    with duckdb.connect(path) as con:
        for statement in ddl():
            con.execute(statement)
        for entity in COLUMNS:
            con.executemany(insert_sql(entity, "?"), rows(entity))


def load_postgres(url: str) -> None:
    import psycopg

    with psycopg.connect(url) as con:
        for statement in ddl():
            con.execute(statement)
        with con.cursor() as cur:
            for entity in COLUMNS:
                cur.executemany(insert_sql(entity, "%s"), rows(entity))
