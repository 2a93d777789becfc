"""The fast typing paths (DuckDB: validate.canonical_guard; PostgreSQL: _PG_CANONICAL) decide
exactly as the gated path does.

Every value below is one a plain DuckDB cast reads but the contract's regular expressions reject
(or read differently); each must be judged as before, on DuckDB and PostgreSQL alike.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from orchestration import env
from orchestration.contract import Column
from orchestration.defs.ingest.validate import canonical_guard, typed_expr
from orchestration.warehouse import connect
from tests.orchestration.ingest_helpers import (
    quarantine,
    query,
    run_ingest,
    write_csv,
    write_master,
)

INTS = ["3", "-12", "0", "+5", "007", "1.00", " 4 ", "-0", "1e3", "1_000", "0x10", "0b1", "1.5"]
INTS += [".5", "12.", "١٢", "999999999999999999", "-999999999999999999", "9223372036854775807"]
INTS += ["1000000000000000000", "", "inf", "nan"]
DATES = ["2024-03-01", "2024-02-29", "2023-02-29", "2024-02-30", "2024-3-01", "2024-03-1"]
DATES += ["0999-12-31", "1000-01-01", "9999-12-31", "12024-03-01", "-2024-03-01", "infinity"]
DATES += ["-infinity", "epoch", "today", "2024-03-01T00:00:00", "20240301", " 2024-03-01"]
STAMPS = [
    "2024-03-01T10:00:00",
    "2024-03-01 10:00:00",
    "2024-03-01T24:00:00",
    "2024-03-01T23:59:60",
]
STAMPS += ["2024-02-30T10:00:00", "2024-3-1T10:00:00", "2024-03-01T10:00", "2024-03-01T10:00:00.5"]
STAMPS += ["2024-03-01T10:00:00+02", "2024-03-01T10:00:00Z", "-2024-03-01T00:00:00", "infinity"]
STAMPS += ["0999-01-01T00:00:00", "12024-03-01T00:00:00", "epoch", "now", "2024-03-01"]
STAMPS += [" 2024-03-01T10:00:00", "2024-03-01t10:00:00", "1000-01-01T00:00:00"]
CANONICAL = {"int": "-12", "date": "2024-03-01", "timestamp": "2024-03-01T10:00:00"}


@pytest.mark.parametrize(
    ("kind", "values"), [("int", INTS), ("date", DATES), ("timestamp", STAMPS)]
)
def test_fast_and_gated_typing_agree_on_edge_values(kind, values):
    col = Column("v", kind)
    guard, _ = canonical_guard(col)
    con = duckdb.connect()
    con.execute("set TimeZone = 'UTC'")
    con.execute("create table t (v text)")
    con.executemany("insert into t values (?)", [[v] for v in values])
    rows = con.execute(
        f"select v, {typed_expr(col, {})}, {typed_expr(col, {}, fast=False)}, "
        f"coalesce({guard}, false) from t"
    ).fetchall()
    assert [(v, fast) for v, fast, _, _ in rows] == [(v, gated) for v, _, gated, _ in rows]
    taken = {v for v, _, _, fast in rows if fast}
    assert CANONICAL[kind] in taken  # the fast path does run...
    assert taken <= {v for v in values if v == v.strip()}  # ...and only on untrimmed text


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("kind", "values"), [("int", INTS), ("date", DATES), ("timestamp", STAMPS)]
)
def test_postgres_fast_and_gated_typing_agree_on_edge_values(kind, values, pg_database_url):
    col = Column("v", kind)
    with connect(env.Warehouse(pg_database_url)) as conn:
        conn.execute("create temp table t (n int, v text)")
        for n, v in enumerate(values):
            conn.execute("insert into t values (?, ?)", (n, v))
        fast, gated = typed_expr(col, {}, False), typed_expr(col, {}, False, fast=False)
        rows = conn.fetchall(f"select v, {fast}, {gated} from t order by n")
    assert [(v, f) for v, f, _ in rows] == [(v, g) for v, _, g in rows]
    assert any(f is not None for _, f, _ in rows)


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/wh.duckdb"
    return request.getfixturevalue("pg_database_url")


def _tx(i: int, at: str = "2024-03-01T10:00:00", qty: str = "3") -> list[str]:
    return [f"T{i}", at, "ISSUE", "P1", "L1", qty, "", "", ""]


QUANTITIES = {"+5": 5, "007": 7, "1.00": 1, " 4 ": 4, "999999999999999999": 999999999999999999}
BAD_QUANTITIES = ["1e3", "1_000", "0x10", "0b1", "1.5", ".5", "12.", "9223372036854775807"]
BAD_STAMPS = ["2024-03-01T24:00:00", "-2024-03-01T00:00:00", "infinity", "0999-01-01T00:00:00"]
BAD_STAMPS += ["2024-3-1T10:00:00", "epoch", "12024-03-01T00:00:00", "2024-03-01T23:59:60"]
BAD_DATES = ["2024-02-30", "2024-3-01", "infinity", "0999-12-31", "2024-03-01T00:00:00", "epoch"]


def test_values_a_plain_cast_reads_are_quarantined_as_before(url, tmp_path):
    landing = tmp_path / "landing"
    write_master(landing)
    rows = [_tx(i, qty=q) for i, q in enumerate(QUANTITIES)]
    rows += [_tx(100 + i, qty=q) for i, q in enumerate(BAD_QUANTITIES)]
    rows += [_tx(200 + i, at=a) for i, a in enumerate(BAD_STAMPS)]
    rows += [_tx(300, qty="-0"), _tx(301, at=" 2024-03-01T10:00:00 ")]
    write_csv(landing, "transactions", "edge.csv", rows)
    stock = [[d, "P1", "L1", "10", "5", "2", "active"] for d in ["2024-03-03", *BAD_DATES]]
    write_csv(landing, "stock_levels", "edge.csv", stock)
    run_ingest(url, landing)
    n, bad = len(QUANTITIES), len(BAD_QUANTITIES) + len(BAD_STAMPS)
    expected = dict.fromkeys(range(n + 1, n + bad + 1), "bad_type")
    expected[n + bad + 1] = "out_of_range"  # -0 is 0, read as an integer
    assert quarantine(url, "transactions") == expected
    got = query(url, "select transaction_id, quantity, occurred_at from raw.transactions")
    got = {t: (int(q), pd.Timestamp(a)) for t, q, a in got.itertuples(index=False)}
    at = pd.Timestamp("2024-03-01T10:00:00")
    assert got == {**{f"T{i}": (q, at) for i, q in enumerate(QUANTITIES.values())}, "T301": (3, at)}
    assert quarantine(url, "stock_levels") == dict.fromkeys(range(2, len(stock) + 1), "bad_type")
