"""Tiny hand-made raw layer for the dbt tests, written to DuckDB or PostgreSQL.

Layout exactly as docs/interfaces.md ("raw.<entity> (validated, typed; the dbt sources)"): schema
`raw`, one table per entity, every contract column in contract order typed from
orchestration/contract.py, then the lineage columns. The values are what the ingest stores: only
rows that pass the data contract, timestamps already converted to UTC (naive), enums spelled as in
the contract (stock status may be NULL = 'active'), empty strings as NULL, ids exactly as delivered.
Append-only versions of master data and stock levels, one row per transaction_id, one row per
(po_id, updated_at) state.

The rows are chosen so that every tricky rule left to dbt is exercised (see the comments), and the
expected mart values in test_dbt_models.py are computed by hand from them.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from orchestration.contract import CONTRACT

# Contract type -> SQL type of the raw column (identical on DuckDB and PostgreSQL).
SQL_TYPES: dict[str, str] = {
    "text": "text",
    "int": "bigint",
    "decimal": "numeric(18,4)",
    "date": "date",
    "timestamp": "timestamp",
}

# Python type of a non-NULL value of each contract type in ROWS.
PY_TYPES: dict[str, type] = {
    "text": str,
    "int": int,
    "decimal": Decimal,
    "date": date,
    "timestamp": datetime,
}

COLUMNS: dict[str, list[str]] = {e: [c.name for c in cols] for e, cols in CONTRACT.items()}
LINEAGE: list[tuple[str, str]] = [
    ("_batch_id", "text"),
    ("_file_name", "text"),
    ("_file_hash", "text"),
    ("_row_number", "bigint"),
    ("_loaded_at", "timestamp"),
]

# Two batches per entity: b1 loaded first, b2 one day later.
LOADED_AT = {"b1": datetime(2024, 1, 7, 8, 0, 0), "b2": datetime(2024, 1, 8, 8, 0, 0)}

D = Decimal


def ts(text: str) -> datetime:
    """A naive UTC timestamp, as the ingest stores it."""
    return datetime.fromisoformat(text)


# (batch, values in COLUMNS order); None = NULL.
ROWS: dict[str, list[tuple[str, tuple]]] = {
    "categories": [
        ("b1", ("C1", "Filters", None)),
        ("b1", ("C2", "Bearings", None)),
        # C1 delivered again in a later batch: the later name wins
        ("b2", ("C1", "Filters & Strainers", None)),
    ],
    "suppliers": [
        ("b1", ("S1", "Acme", 7, D("0.95"))),
        ("b1", ("S2", "Bolt Co", 14, D("0.8"))),
    ],
    "locations": [
        ("b1", ("L1", "Main Warehouse", "EU", "DE", "warehouse", "temperate")),
        ("b1", ("L2", "Service Center North", "NORDICS", "SE", "service_center", None)),
    ],
    "parts": [
        # P1 has no own lead time: effective lead time falls back to S1's 7 days
        ("b1", ("P1", "PN-1", "Oil filter", "C1", "S1", D("2.50"), D("4.00"), None, 365)),
        ("b1", ("P2", "PN-2", "Ball bearing", "C2", "S2", D("10"), D("15"), 3, None)),
        ("b1", ("P3", "PN-3", "Strainer", "C1", "S1", D("1.00"), D("2"), 5, None)),
        # P3 re-delivered with a new cost: the later delivery wins (1.25)
        ("b2", ("P3", "PN-3", "Strainer", "C1", "S1", D("1.25"), D("2"), 5, None)),
    ],
    "stock_levels": [
        # P1@L1: older snapshot, then the latest snapshot 2024-01-03 (80), corrected in b2 to 90
        ("b1", (date(2024, 1, 1), "P1", "L1", 100, 50, 10, "active")),
        ("b1", (date(2024, 1, 3), "P1", "L1", 80, 50, 10, "active")),
        ("b2", (date(2024, 1, 3), "P1", "L1", 90, 50, 10, "active")),
        # P2@L1: snapshot 2024-01-02, no status (NULL means 'active')
        ("b1", (date(2024, 1, 2), "P2", "L1", 5, 10, 5, None)),
        # P2@L2: snapshot only (no transactions), quarantined, zero on hand
        ("b1", (date(2024, 1, 6), "P2", "L2", 0, 3, 1, "quarantined")),
    ],
    "transactions": [
        # P1@L1 (latest snapshot 2024-01-03 = 90)
        ("b1", ("T01", ts("2024-01-02 10:00:00"), "ISSUE", "P1", "L1", 5, None, None, "u1")),
        # on the snapshot day: already in the snapshot, must NOT be added
        ("b1", ("T02", ts("2024-01-03 09:00:00"), "ISSUE", "P1", "L1", 7, None, None, "u1")),
        # delivered as 2024-01-04T08:00:00+02:00, stored in UTC by the ingest
        ("b1", ("T03", ts("2024-01-04 06:00:00"), "ISSUE", "P1", "L1", 10, None, None, "u1")),
        (
            "b1",
            ("T04", ts("2024-01-05 12:00:00"), "RECEIPT", "P1", "L1", 20, D("2.5"), "PO1", "u2"),
        ),
        ("b1", ("T05", ts("2024-01-05 13:00:00"), "RETURN", "P1", "L1", 2, None, None, "u1")),
        ("b1", ("T06", ts("2024-01-06 09:00:00"), "ADJUSTMENT", "P1", "L1", -3, None, None, "u3")),
        # P2@L1 (snapshot 2024-01-02 = 5): T08 on the snapshot day is ignored; T07 was delivered
        # as 2024-01-05T23:30:00-02:00 = 2024-01-06 01:30 UTC, so it counts on 2024-01-06
        ("b1", ("T07", ts("2024-01-06 01:30:00"), "ISSUE", "P2", "L1", 4, None, None, "u1")),
        ("b1", ("T08", ts("2024-01-02 08:00:00"), "ISSUE", "P2", "L1", 1, None, None, "u1")),
        # P3: no snapshot anywhere; a transfer L2 -> L1 (the TRANSFER_IN arrives in a later batch)
        ("b1", ("T09", ts("2024-01-05 08:00:00"), "RECEIPT", "P3", "L2", 6, None, "PO2", "u2")),
        (
            "b1",
            ("T10", ts("2024-01-06 08:00:00"), "TRANSFER_OUT", "P3", "L2", 6, None, "TR1", "u2"),
        ),
        ("b2", ("T11", ts("2024-01-06 10:00:00"), "TRANSFER_IN", "P3", "L1", 6, None, "TR1", "u2")),
    ],
    "purchase_orders": [
        # PO1: OPEN, then RECEIVED in a later batch -> RECEIVED
        (
            "b1",
            (
                "PO1",
                "P1",
                "L1",
                "S1",
                20,
                ts("2024-01-01 00:00:00"),
                ts("2024-01-08 00:00:00"),
                None,
                "OPEN",
                ts("2024-01-01 00:00:00"),
            ),
        ),
        (
            "b2",
            (
                "PO1",
                "P1",
                "L1",
                "S1",
                20,
                ts("2024-01-01 00:00:00"),
                ts("2024-01-08 00:00:00"),
                ts("2024-01-05 12:00:00"),
                "RECEIVED",
                ts("2024-01-05 12:00:00"),
            ),
        ),
        # PO2: only OPEN
        (
            "b1",
            (
                "PO2",
                "P3",
                "L2",
                "S1",
                6,
                ts("2024-01-02 00:00:00"),
                None,
                None,
                "OPEN",
                ts("2024-01-02 00:00:00"),
            ),
        ),
        # PO3: RECEIVED (updated 01-04) arrives first, a stale OPEN (updated 01-02) arrives later:
        # the latest updated_at wins, not the latest load -> RECEIVED
        (
            "b1",
            (
                "PO3",
                "P2",
                "L1",
                "S2",
                4,
                ts("2024-01-02 00:00:00"),
                None,
                ts("2024-01-04 00:00:00"),
                "RECEIVED",
                ts("2024-01-04 00:00:00"),
            ),
        ),
        (
            "b2",
            (
                "PO3",
                "P2",
                "L1",
                "S2",
                4,
                ts("2024-01-02 00:00:00"),
                None,
                None,
                "OPEN",
                ts("2024-01-02 00:00:00"),
            ),
        ),
    ],
}


def column_types(entity: str) -> list[tuple[str, str]]:
    """(name, SQL type) of every column of raw.<entity>: contract columns, then lineage."""
    return [(c.name, SQL_TYPES[c.type]) for c in CONTRACT[entity]] + LINEAGE


def ddl() -> list[str]:
    """CREATE statements valid on DuckDB and PostgreSQL."""
    statements = ["create schema if not exists raw"]
    for entity in COLUMNS:
        cols = ", ".join(f"{name} {sql_type}" for name, sql_type in column_types(entity))
        statements.append(f"create table raw.{entity} ({cols})")
    return statements


def rows(entity: str) -> list[tuple]:
    """Rows of one raw table with lineage."""
    out = []
    row_numbers: dict[str, int] = {}
    for batch, values in ROWS[entity]:
        row_numbers[batch] = row_numbers.get(batch, 0) + 1
        lineage = (
            f"{entity}-{batch}",
            f"{entity}_{batch}.csv",
            f"hash-{entity}-{batch}",
            row_numbers[batch],
            LOADED_AT[batch],
        )
        out.append(values + lineage)
    return out


def insert_sql(entity: str, placeholder: str) -> str:
    columns = [name for name, _ in column_types(entity)]
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
