"""The warehouse PostgreSQL crashes in the middle of an ingest (a dedicated server the test started
itself): the run fails saying so, no partial batch is visible after the restart, and a retry
completes with exact counts, equal to those of an uninterrupted run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from orchestration.defs.ingest import batches
from orchestration.generator import GeneratorConfig, generate_landing
from tests.faults.postgres_instance import PostgresInstance, dedicated_postgres
from tests.orchestration.ingest_helpers import query, run_ingest

pytestmark = pytest.mark.postgres

# Three monthly transaction files and a few dirty rows, so that duplicates and quarantine count.
WORLD = GeneratorConfig(parts=12, locations=2, days=75, seed=11, dirty_rate=0.02)
RAW_TABLES = ("categories", "suppliers", "locations", "parts", "stock_levels", "transactions")
BATCH_COLUMNS = "entity, file_name, rows_read, rows_loaded, rows_duplicate, rows_quarantined"


@pytest.fixture(scope="module")
def server(require_postgres: None) -> Iterator[PostgresInstance]:
    with dedicated_postgres() as instance:
        yield instance


@pytest.fixture(scope="module")
def landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("landing")
    generate_landing(out, WORLD)
    return out


def _batches(url: str) -> pd.DataFrame:
    return query(url, f"select {BATCH_COLUMNS} from raw.ingest_batches order by entity, file_name")


def _row_counts(url: str) -> dict[str, int]:
    counts = {t: int(query(url, f"select count(*) as n from raw.{t}")["n"][0]) for t in RAW_TABLES}
    counts["quarantine"] = int(query(url, "select count(*) as n from raw.quarantine")["n"][0])
    return counts


def _rows_by_batch(url: str, table: str) -> dict[str, int]:
    df = query(url, f"select _batch_id, count(*) as n from raw.{table} group by _batch_id")
    return dict(zip(df["_batch_id"], df["n"].astype(int), strict=True))


def test_a_crash_mid_ingest_leaves_whole_batches_and_a_retry_completes(
    server, landing, monkeypatch
):
    # Tiny master files make a few dirty rows a big share: quarantine must not block this test.
    monkeypatch.setenv("PARTSFLOW_MAX_QUARANTINE_SHARE", "1")
    clean = server.create_database("clean")
    assert run_ingest(clean, landing).success
    url = server.create_database("crashed")

    # The server dies inside the transaction of the second transactions file, after its rows were
    # staged and before they are loaded.
    real_load = batches.load_staged_batch
    seen: list[str] = []

    def crash_on_second_transactions_file(conn, entity, **kwargs):
        if entity == "transactions":
            seen.append(kwargs["file_name"])
            if len(seen) == 2:
                server.stop("immediate")
        return real_load(conn, entity, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(batches, "load_staged_batch", crash_on_second_transactions_file)
        result = run_ingest(url, landing)

    assert not result.success
    failures = [str(e.step_failure_data) for e in result.all_events if e.is_step_failure]
    assert any(
        f"The warehouse PostgreSQL at 127.0.0.1:{server.port}/crashed stopped answering" in f
        and "no partial batch is kept" in f
        for f in failures
    ), failures

    server.start()
    after_crash = _batches(url)
    transactions = after_crash[after_crash["entity"] == "transactions"]
    assert list(transactions["file_name"]) == [seen[0]]  # the crashed file left no batch row
    loaded = _rows_by_batch(url, "transactions")
    batch_ids = query(url, "select batch_id, rows_loaded from raw.ingest_batches")
    expected = {b: int(n) for b, n in batch_ids.itertuples(index=False) if b in loaded}
    assert loaded == expected  # every visible batch is whole
    assert not query(url, "select * from raw.quarantine where file_name = ?", (seen[1],)).shape[0]

    retry = run_ingest(url, landing)
    assert retry.success
    final = _batches(url)
    pd.testing.assert_frame_equal(final, _batches(clean))
    assert (
        final["rows_read"]
        == final["rows_loaded"] + final["rows_duplicate"] + final["rows_quarantined"]
    ).all()
    assert _row_counts(url) == _row_counts(clean)
    assert _row_counts(url)["quarantine"] > 0  # the dirty rows were counted, not lost
