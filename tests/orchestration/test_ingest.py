"""Ingestion honours the data contract: every rule, quarantine, exactly-once, on both warehouses."""

from __future__ import annotations

import shutil

import dagster as dg
import pandas as pd
import pytest

from tests.orchestration.ingest_helpers import (
    batches,
    quarantine,
    query,
    run_ingest,
    snapshot,
    write_csv,
    write_master,
)

TRICKY_IDS = ["T'; DROP TABLE raw.parts; --", 'T "quoted", 1', "Ünïcødé ✓ id", "select"]


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/wh.duckdb"
    return request.getfixturevalue("pg_database_url")


def po(pid, status="OPEN", qty="10", supplier="S1", received="", updated="2024-03-01T00:00:00"):
    return [pid, "P1", "L1", supplier, qty, "2024-03-01T00:00:00", "", received, status, updated]


def tx(tid, at="2024-03-01T10:00:00", typ="ISSUE", part="P1", loc="L1", qty="3"):
    return [tid, at, typ, part, loc, qty, "", "", ""]


# (entity, rows, {row_number: reason}); rows not listed must load.
CASES = {
    "transactions": (
        [
            tx("T1"),
            tx("T2", at=""),
            tx("T3", qty="abc"),
            tx("T4", typ="SALE"),
            tx("T5", qty="-2"),
            tx("T6", part="P404"),
            tx("T7", at="2099-01-01T00:00:00"),
            tx("T8", at="1999-12-31T00:00:00"),
            tx("T9", at="2024-03-01T01:00:00+02:00"),
            tx("T10", typ="ADJUSTMENT", qty="-4"),
            tx("T11", typ="ADJUSTMENT", qty="0"),
            tx("T12", at="2024-02-30T10:00:00"),
            tx("T13", loc="L404"),
            tx("T" * 65),
            *[tx(t) for t in TRICKY_IDS],
            tx("T1"),
            tx("T9", qty="5"),
        ],
        {
            2: "missing_required",
            3: "bad_type",
            4: "unknown_enum",
            5: "out_of_range",
            6: "unknown_reference",
            7: "future_timestamp",
            8: "out_of_range",
            11: "out_of_range",
            12: "bad_type",
            13: "unknown_reference",
            14: "out_of_range",
            20: "conflicting_duplicate",
        },
    ),
    "stock_levels": (
        [
            ["2024-03-03", "P1", "L1", "10", "5", "2", "active"],
            ["2024-03-03", "P1", "L404", "10", "5", "2", ""],
            ["2024-03-10", "P1", "L1", "10", "2", "5", "active"],
            ["2024-03-17", "P1", "L1", "-1", "5", "2", "active"],
            ["2024-03-24", "P1", "L1", "10", "5", "2", "broken"],
            ["2024-13-01", "P1", "L1", "10", "5", "2", "active"],
            ["2024-03-31", "P1", "L1", "", "5", "2", "ACTIVE"],
        ],
        {
            2: "unknown_reference",
            3: "out_of_range",
            4: "out_of_range",
            5: "unknown_enum",
            6: "bad_type",
            7: "missing_required",
        },
    ),
    "purchase_orders": (
        [po("PO1"), po("PO2", status="LOST"), po("PO3", qty="0"), po("PO4", supplier="S9")],
        {2: "unknown_enum", 3: "out_of_range", 4: "unknown_reference"},
    ),
}

MASTER_CASES = {
    "suppliers": (
        [
            ["S2", "Ok", "3", "0.5"],
            ["S3", "Bad", "3", "1.5"],
            ["S4", "Bad", "-1", "0.5"],
            ["S5", "Bad", "x", "0.5"],
        ],
        {2: "out_of_range", 3: "out_of_range", 4: "bad_type"},
    ),
    "locations": (
        [["L2", "Ok", "", "", "service_center", ""], ["L3", "Bad", "", "", "depot", ""]],
        {2: "unknown_enum"},
    ),
    "parts": (
        [
            ["P2", "PN-2", "", "C1", "", "1.5", "", "", ""],
            ["P3", "PN-3", "", "C404", "", "1.5", "", "", ""],
            ["P4", "PN-4", "", "C1", "S404", "1.5", "", "", ""],
            ["P5", "PN-5", "", "C1", "", "-1", "", "", ""],
        ],
        {2: "unknown_reference", 3: "unknown_reference", 4: "out_of_range"},
    ),
    "categories": (
        [
            ["C3", "Loop a", "C4"],
            ["C4", "Loop b", "C3"],
            ["C5", "Orphan", "C404"],
            ["C6", "Ok", "C1"],
        ],
        {1: "category_cycle", 2: "category_cycle", 3: "unknown_reference"},
    ),
}


def assert_batch_counts(url: str) -> None:
    b = query(url, "select * from raw.ingest_batches")
    assert (b["rows_read"] == b["rows_loaded"] + b["rows_duplicate"] + b["rows_quarantined"]).all()


def test_every_rule_quarantines_exactly_the_bad_rows(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    for entity, (rows, _) in CASES.items():
        write_csv(landing, entity, f"{entity}_bad.csv", rows)
    result = run_ingest(url, landing)
    # Far more than 5% of these rows are bad: the blocking check must stop the run.
    assert not result.success
    assert_batch_counts(url)
    for entity, (rows, expected) in CASES.items():
        assert quarantine(url, entity) == expected, entity
        loaded = query(url, f"select count(*) as n from raw.{entity}")["n"][0]
        dupes = batches(url, entity)["rows_duplicate"].sum()
        assert loaded + dupes + len(expected) == len(rows), entity
    ids = set(query(url, "select transaction_id from raw.transactions")["transaction_id"])
    assert set(TRICKY_IDS) <= ids
    t9 = query(
        url, "select occurred_at, quantity from raw.transactions where transaction_id = 'T9'"
    )
    assert pd.Timestamp(t9["occurred_at"][0]) == pd.Timestamp("2024-02-29T23:00:00")
    assert int(t9["quantity"][0]) == 3
    status = query(url, "select status from raw.stock_levels where status is not null")["status"]
    assert set(status) == {"active"}
    messages = query(url, "select message from raw.quarantine where reason = 'bad_type'")["message"]
    assert any('quantity "abc" is not a valid int' in m for m in messages)


def test_master_data_rules(url, tmp_path, monkeypatch):
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")  # let parts run after bad categories
    landing = tmp_path / "landing"
    write_master(landing)
    for entity, (rows, _) in MASTER_CASES.items():
        write_csv(landing, entity, f"{entity}_more.csv", rows)
    run_ingest(url, landing, list(MASTER_CASES))
    assert_batch_counts(url)
    for entity, (_, expected) in MASTER_CASES.items():
        assert quarantine(url, entity) == expected, entity


def test_duplicates_across_batches_and_files_delivered_twice(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(landing, "transactions", "a.csv", [tx("T1"), tx("T2")])
    assert run_ingest(url, landing).success
    write_csv(landing, "transactions", "b.csv", [tx("T1"), tx("T2", qty="9"), tx("T3")])
    shutil.copy(landing / "transactions" / "a.csv", landing / "transactions" / "a_again.csv")
    # Two new files with one content in one run: one batch too.
    write_csv(landing, "transactions", "c.csv", [tx("T4")])
    shutil.copy(landing / "transactions" / "c.csv", landing / "transactions" / "c_twin.csv")
    run_ingest(url, landing)
    b = batches(url, "transactions").set_index("file_name")
    assert "a_again.csv" not in b.index  # same content hash: the same batch, never read again
    assert "c_twin.csv" not in b.index and b.loc["c.csv", "rows_loaded"] == 1
    assert b.loc[
        "b.csv", ["rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined"]
    ].tolist() == [3, 1, 1, 1]
    assert quarantine(url, "transactions") == {2: "conflicting_duplicate"}
    assert query(url, "select count(*) as n from raw.transactions")["n"][0] == 4


def test_purchase_order_updates_out_of_order(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    received = po("PO1", "RECEIVED", received="2024-03-09T00:00:00", updated="2024-03-09T00:00:00")
    opened = po("PO1")
    write_csv(landing, "purchase_orders", "1.csv", [received])
    write_csv(landing, "purchase_orders", "2.csv", [opened, opened])
    assert run_ingest(url, landing).success
    states = query(
        url, "select status, updated_at from raw.purchase_orders order by updated_at desc"
    )
    assert states["status"].tolist() == ["RECEIVED", "OPEN"]
    assert batches(url, "purchase_orders")["rows_duplicate"].tolist() == [0, 1]


def test_three_runs_change_nothing(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(landing, "transactions", "a.csv", [tx("T1"), tx("T2", part="P404")])
    run_ingest(url, landing)
    first = snapshot(url)
    run_ingest(url, landing)
    run_ingest(url, landing)
    second = snapshot(url)
    for name in first:
        pd.testing.assert_frame_equal(first[name], second[name], obj=name)


def test_csv_quirks_and_parquet_native_types(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    quirky = "\ufeffQuantity,TYPE,transaction_id,Occurred_At,part_id,location_id,Extra\n"
    quirky += '3,issue,"T,1",2024-03-01 10:00:00Z,P1,L1,x\n'
    (landing / "transactions" / "q.csv").parent.mkdir(parents=True, exist_ok=True)
    (landing / "transactions" / "q.csv").write_text(quirky, encoding="utf-8")
    pd.DataFrame(
        {
            "transaction_id": ["T2"],
            "occurred_at": pd.to_datetime(["2024-03-01T12:00:00+01:00"]),
            "type": ["RECEIPT"],
            "part_id": ["P1"],
            "location_id": ["L1"],
            "quantity": [4],
            "unit_cost": [12.5],
        }
    ).to_parquet(landing / "transactions" / "p.parquet")
    assert run_ingest(url, landing).success
    rows = query(url, "select * from raw.transactions order by transaction_id")
    assert rows["transaction_id"].tolist() == ["T,1", "T2"]
    assert rows["type"].tolist() == ["ISSUE", "RECEIPT"]
    assert [pd.Timestamp(t) for t in rows["occurred_at"]] == [
        pd.Timestamp("2024-03-01T10:00:00"),
        pd.Timestamp("2024-03-01T11:00:00"),
    ]
    assert float(rows["unit_cost"][1]) == 12.5


def test_unparseable_file_is_quarantined_whole_and_others_load(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(landing, "transactions", "a.csv", [tx("T1")])
    (landing / "transactions" / "b.parquet").write_bytes(b"not parquet at all")
    (landing / "transactions" / "c.csv").write_text("transaction_id\nT9\n")  # lacks required cols
    result = run_ingest(url, landing)
    assert result.success  # a warning, not a blocker
    msgs = query(
        url, "select file_name, row_number, reason, message from raw.quarantine order by file_name"
    )
    assert msgs["reason"].tolist() == ["unparseable_file", "unparseable_file"]
    assert msgs["row_number"].isna().all()
    assert msgs["file_name"].tolist() == ["b.parquet", "c.csv"]
    assert "missing required column(s): occurred_at" in msgs["message"][1]
    checks = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "all_files_parseable"
        and e.event_specific_data.asset_key.path[-1] == "transactions"
    ]
    assert checks and not checks[0].passed
    assert "b.parquet" in checks[0].metadata["unparseable_files"].value
    assert query(url, "select count(*) as n from raw.transactions")["n"][0] == 1


def test_blocking_check_stops_downstream(url, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(landing, "transactions", "a.csv", [tx("T1"), tx("T2", part="P404")])

    @dg.asset(deps=[dg.AssetKey(["raw", "transactions"])])
    def downstream_probe() -> None:
        (tmp_path / "ran").touch()

    result = run_ingest(url, landing, extra=[downstream_probe])
    assert not result.success and not (tmp_path / "ran").exists()
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "0.6")
    write_csv(landing, "transactions", "b.csv", [tx("T3"), tx("T4", part="P404")])
    assert run_ingest(url, landing, extra=[downstream_probe]).success
    assert (tmp_path / "ran").exists()


TIMESTAMP_SPELLINGS = {
    "2024-03-01T10:00:00 +02:00": "2024-03-01T08:00:00",
    "2024-03-01T10:00:00z": "2024-03-01T10:00:00",
    "2024-03-01 10:00Z": "2024-03-01T10:00:00",
    "2024-03-01T10:00:00-0530": "2024-03-01T15:30:00",
    "2024-03-01T10:00:00+02": "2024-03-01T08:00:00",
    "2024-03-01": "2024-03-01T00:00:00",
    "2024-03-01T10:00:00.123456": "2024-03-01T10:00:00.123456",
}


def test_every_iso_timestamp_spelling_is_read_as_utc(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    rows = [tx(f"T{i}", at=at) for i, at in enumerate(TIMESTAMP_SPELLINGS)]
    rows += [tx("T-date-offset", at="2024-03-01+02:00"), tx("T-feb-30", at="2024-02-30 10:00Z")]
    write_csv(landing, "transactions", "spellings.csv", rows)
    run_ingest(url, landing)
    got = query(url, "select transaction_id, occurred_at from raw.transactions")
    got = dict(zip(got["transaction_id"], map(pd.Timestamp, got["occurred_at"]), strict=True))
    assert got == {f"T{i}": pd.Timestamp(v) for i, v in enumerate(TIMESTAMP_SPELLINGS.values())}
    n = len(TIMESTAMP_SPELLINGS)
    assert quarantine(url, "transactions") == {n + 1: "bad_type", n + 2: "bad_type"}


def test_large_file_rows_keep_their_file_row_numbers(tmp_path):
    """DuckDB parses a CSV file in parallel chunks and numbers rows in scan order: in a file big
    enough for several chunks, lineage and quarantine row numbers are still the file's own."""
    url = f"duckdb:///{tmp_path}/wh.duckdb"
    landing = tmp_path / "landing"
    write_master(landing)
    n = 300_000
    bad = {7, 150_001, n}  # row numbers (1 = first data row) that break a rule
    rows = [tx(f"T{i:07d}", qty="x" if i in bad else "1") for i in range(1, n + 1)]
    write_csv(landing, "transactions", "big.csv", rows)
    run_ingest(url, landing)
    assert quarantine(url, "transactions") == dict.fromkeys(bad, "bad_type")
    loaded = query(url, "select transaction_id, _row_number from raw.transactions")
    assert len(loaded) == n - len(bad)
    assert (loaded["transaction_id"] == loaded["_row_number"].map("T{:07d}".format)).all()
    raw = query(url, "select raw_row from raw.quarantine where row_number = 150001")["raw_row"][0]
    assert '"T0150001"' in raw


def _suite_metadata(result) -> dict:
    (check,) = [
        e.event_specific_data
        for e in result.all_events
        if e.event_type_value == "ASSET_CHECK_EVALUATION"
        and e.event_specific_data.check_name == "great_expectations_suite"
        and e.event_specific_data.asset_key.path[-1] == "transactions"
    ]
    assert check.passed
    return {k: v.value for k, v in check.metadata.items()}


def test_suite_check_reads_every_row_or_a_sample_above_the_limit(url, tmp_path, monkeypatch):
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(landing, "transactions", "a.csv", [tx(f"T{i}") for i in range(400)])
    every = _suite_metadata(run_ingest(url, landing))
    assert every["rows_loaded"] == every["rows_validated"] == 400 and not every["sampled"]

    monkeypatch.setenv("PARTSFLOW_GX_MAX_ROWS", "50")
    write_csv(landing, "transactions", "b.csv", [tx(f"U{i}") for i in range(400)])
    sample = _suite_metadata(run_ingest(url, landing))
    # Only this run's new rows, and of those a uniform sample of about 50 (1 in 8).
    assert sample["rows_loaded"] == 400 and sample["sampled"]
    assert 0 < sample["rows_validated"] < 400
