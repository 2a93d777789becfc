"""Judging the next file ahead (read_ahead.py) gives exactly the tables that loading the files one
by one gives: duplicates and conflicts with the batch just before, an unparseable file between
good ones, Parquet among CSV, category parents delivered in the file just before."""

from __future__ import annotations

import pandas as pd

from orchestration import env
from orchestration.contract import column_names
from orchestration.defs.ingest.batches import ingest_file
from orchestration.defs.ingest.files import file_hash, landing_files
from orchestration.defs.ingest.raw_tables import ensure_raw_tables
from orchestration.defs.ingest.read_ahead import ingest_files
from orchestration.warehouse import connect
from tests.orchestration.ingest_helpers import MASTER, snapshot, write_csv
from tests.orchestration.test_ingest import tx, url  # noqa: F401 - the warehouse fixture

ORDER = ["categories", "suppliers", "locations", "parts", "transactions"]


def _landing(root):
    for entity in ("suppliers", "locations", "parts"):
        write_csv(root, entity, f"{entity}.csv", MASTER[entity])
    # C2's parent arrives one file earlier: it must be stored before C2 is checked.
    write_csv(root, "categories", "c1.csv", [MASTER["categories"][0]])
    write_csv(root, "categories", "c2.csv", [MASTER["categories"][1]])
    write_csv(root, "transactions", "t1.csv", [tx(f"T{i}") for i in range(1, 200)])
    # The file right after: one duplicate, one conflict (other quantity) and a repeat inside.
    write_csv(root, "transactions", "t2.csv", [tx("T1"), tx("T2", qty="7"), tx("T200"), tx("T200")])
    header = column_names("transactions")
    (root / "transactions" / "t3.csv").write_text(",".join(header) + '\n"T9,\n')
    frame = pd.DataFrame([tx("T300"), tx("T1", qty="9")], columns=header)
    frame.astype(str).replace("", None).to_parquet(root / "transactions" / "t4.parquet")
    write_csv(root, "transactions", "t5.csv", [tx("T301"), tx("T300")])


def _load(warehouse_url: str, root, ahead: bool) -> dict[str, list]:
    results = {}
    with connect(env.Warehouse(warehouse_url)) as conn:
        ensure_raw_tables(conn)
        for entity in ORDER:
            files = [(p, file_hash(p)) for p in landing_files(root / entity)]
            if ahead:
                loaded = [r for _, r in ingest_files(conn, entity, files)]
            else:
                loaded = [ingest_file(conn, entity, p, d) for p, d in files]
            results[entity] = [
                (r.file_name, r.status, r.rows_read, r.rows_loaded, r.rows_duplicate,
                 r.rows_quarantined) for r in loaded
            ]  # fmt: skip
    return results


def test_judging_ahead_loads_exactly_what_one_by_one_loads(url, tmp_path):  # noqa: F811
    _landing(tmp_path / "landing")
    ahead = _load(url, tmp_path / "landing", ahead=True)
    one_by_one = f"duckdb:///{tmp_path}/one.duckdb"
    assert _load(one_by_one, tmp_path / "landing", ahead=False) == ahead
    ahead_tables = snapshot(url)
    if url.startswith("duckdb"):  # PostgreSQL's column types differ; its counts are compared
        for table, frame in snapshot(one_by_one).items():
            keep = [c for c in frame.columns if c != "_loaded_at"]
            pd.testing.assert_frame_equal(ahead_tables[table][keep], frame[keep], obj=table)

    assert ahead["categories"] == [
        ("c1.csv", "loaded", 1, 1, 0, 0),
        ("c2.csv", "loaded", 1, 1, 0, 0),
    ]
    tx_results = {name: rest for name, *rest in ahead["transactions"]}
    assert tx_results["t2.csv"] == ["loaded", 4, 1, 2, 1]  # T1 and the second T200 duplicates
    assert tx_results["t3.csv"][0] == "unparseable"
    assert tx_results["t4.parquet"] == ["loaded", 2, 1, 0, 1]  # T1 with another quantity
    assert tx_results["t5.csv"] == ["loaded", 2, 1, 1, 0]
    assert len(ahead_tables["transactions"]) == 199 + 1 + 1 + 1
