"""Late master data and reprocessing, crash safety, and the ERP source."""

from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
from typer.testing import CliRunner

from orchestration import env
from orchestration.cli import app
from orchestration.defs.ingest.quarantine import reprocess_all
from orchestration.generator import GeneratorConfig, generate_landing
from orchestration.warehouse import connect
from tests.orchestration.ingest_helpers import (
    batches,
    quarantine,
    query,
    run_ingest,
    write_csv,
    write_master,
)
from tests.orchestration.test_ingest import tx, url  # noqa: F401 - the warehouse fixture

runner = CliRunner()


def test_late_master_data_then_reprocess_loads_once(url, tmp_path, monkeypatch):  # noqa: F811
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", url)
    landing = tmp_path / "landing"
    write_master(landing)
    write_csv(
        landing, "transactions", "a.csv", [tx("T1"), tx("T2", part="P9"), tx("T3", part="P9")]
    )
    run_ingest(url, landing)
    assert quarantine(url, "transactions") == {2: "unknown_reference", 3: "unknown_reference"}

    listed = runner.invoke(app, ["quarantine", "list", "--reason", "unknown_reference"])
    assert listed.exit_code == 0, listed.output
    assert 'unknown part_id "P9"' in listed.stdout and "2 of 2 rows shown" in listed.stdout

    write_csv(landing, "parts", "late.csv", [["P9", "PN-9", "", "C1", "", "3", "", "", ""]])
    run_ingest(url, landing)
    result = runner.invoke(app, ["quarantine", "reprocess"])
    assert result.exit_code == 0, result.output
    assert "transactions: 2 re-validated, 2 loaded" in result.stdout
    with connect(env.Warehouse(url)) as conn:
        assert list(reprocess_all(conn)) == []  # nothing open any more: never loaded twice
    ids = query(url, "select transaction_id from raw.transactions order by 1")["transaction_id"]
    assert ids.tolist() == ["T1", "T2", "T3"]
    still_open = runner.invoke(app, ["quarantine", "list"])
    assert "No quarantined rows match." in still_open.stdout
    b = query(url, "select * from raw.ingest_batches where source = 'reprocess'")
    assert b[["rows_read", "rows_loaded"]].values.tolist() == [[2, 2]]


KILLER = """
import os, signal, sys
from pathlib import Path
from orchestration import env
from orchestration.defs.ingest import loader
from orchestration.defs.ingest.batches import ingest_file
from orchestration.defs.ingest.files import file_hash
from orchestration.defs.ingest.raw_tables import ensure_raw_tables
from orchestration.warehouse import connect

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)  # after the rows were appended, before the commit

loader.record_batch = die
url, path = sys.argv[1], Path(sys.argv[2])
with connect(env.Warehouse(url)) as conn:
    ensure_raw_tables(conn)
    ingest_file(conn, "transactions", path, file_hash(path))
"""


def test_sigkill_mid_batch_leaves_clean_tables_as_before(url, tmp_path):  # noqa: F811
    landing = tmp_path / "landing"
    generate_landing(landing, GeneratorConfig(parts=20, locations=3, days=40, seed=5))
    for entity in ("categories", "suppliers", "locations", "parts"):
        run_ingest(url, landing, [entity])
    files = sorted((landing / "transactions").glob("*.csv"))
    proc = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(KILLER), url, str(files[0])],
        cwd=env.PROJECT_ROOT,
        capture_output=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()[-2000:]
    assert query(url, "select count(*) as n from raw.transactions")["n"][0] == 0
    assert batches(url, "transactions").empty

    assert run_ingest(url, landing).success
    b = batches(url, "transactions")
    expected = sum(len(f.read_text().splitlines()) - 1 for f in files)
    assert b["rows_read"].sum() == expected
    assert query(url, "select count(*) as n from raw.transactions")["n"][0] == expected


@pytest.mark.postgres
def test_erp_source_reads_only_new_rows(pg_database_url, tmp_path, monkeypatch):
    erp_url = pg_database_url
    warehouse_url = f"duckdb:///{tmp_path}/wh.duckdb"
    first, later = tmp_path / "first", tmp_path / "later"
    generate_landing(first, GeneratorConfig(parts=15, locations=3, days=45, seed=4))
    generate_landing(later, GeneratorConfig(parts=15, locations=3, days=75, seed=4))
    loaded = runner.invoke(app, ["erp", "load", "--from", str(first), "--url", erp_url])
    assert loaded.exit_code == 0, loaded.output
    monkeypatch.setenv("PARTSFLOW_SOURCE", "erp")
    empty_landing = tmp_path / "none"
    assert run_ingest(warehouse_url, empty_landing, erp_url=erp_url).success
    n_first = query(warehouse_url, "select count(*) as n from raw.transactions")["n"][0]
    assert n_first == sum(1 for _ in _erp_rows(erp_url, "transactions"))

    mark = "select watermark from raw.source_watermarks where entity = 'transactions'"
    watermark = int(query(warehouse_url, mark)["watermark"][0])
    appended = runner.invoke(app, ["erp", "append", "--from", str(later), "--url", erp_url])
    assert appended.exit_code == 0, appended.output
    assert run_ingest(warehouse_url, empty_landing, erp_url=erp_url).success
    b = query(
        warehouse_url,
        "select * from raw.ingest_batches where entity = 'transactions' order by started_at",
    )
    assert len(b) == 2 and (b["source"] == "erp").all()
    # The second batch holds exactly the rows changed since the first read, not everything.
    changed = sum(1 for _ in _erp_rows(erp_url, "transactions", after=watermark))
    assert b["rows_read"].iloc[1] == changed
    assert 0 < changed < sum(1 for _ in _erp_rows(erp_url, "transactions"))
    assert b["file_name"].iloc[1].startswith("erp.transactions change_seq ")
    # A third run finds nothing new: no batch, no row.
    assert run_ingest(warehouse_url, empty_landing, erp_url=erp_url).success
    assert (
        len(query(warehouse_url, "select * from raw.ingest_batches where entity = 'transactions'"))
        == 2
    )
    total = query(warehouse_url, "select count(*) as n from raw.transactions")["n"][0]
    assert total == sum(1 for _ in _erp_rows(erp_url, "transactions"))


def _erp_rows(erp_url: str, entity: str, after: int = 0):
    from orchestration import erp

    for _, rows, _ in erp.read_changes(erp_url, entity, after):
        yield from rows
