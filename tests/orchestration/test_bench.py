"""The ingest benchmark on a tiny data set: counts add up, numbers are sane, it renders."""

from __future__ import annotations

import json

import pytest

from orchestration import env
from orchestration.bench import (
    ENTITY_ORDER,
    MARKER,
    TX,
    _targets,
    bench_ingest,
    ensure_dataset,
    format_report,
    statement_label,
)
from orchestration.generator import GeneratorConfig

TINY = GeneratorConfig(parts=20, locations=3, days=60)


def _check_run(run: dict, file_rows: dict[str, int]) -> None:
    assert run["status"] == "ok"
    for entity in ENTITY_ORDER:
        e = run["entities"][entity]
        # Clean data: every row in the files is read, loaded and stored, none quarantined.
        assert e["rows_read"] == file_rows[entity], entity
        assert e["rows_loaded"] == file_rows[entity], entity
        assert e["rows_in_table"] == file_rows[entity], entity
        assert e["rows_quarantined"] == 0 and e["rows_duplicate"] == 0 and e["unparseable"] == 0
        assert e["seconds"] > 0
    assert run["rows"] == sum(file_rows.values()) == run["rows_loaded"]
    assert run["transaction_rows"] == file_rows[TX] > 0
    # The plain copy reads exactly the same transaction files.
    assert run["plain_copy_rows"] == file_rows[TX]
    for key in (
        "seconds",
        "rows_per_s",
        "transaction_seconds",
        "transaction_rows_per_s",
        "plain_copy_seconds",
        "plain_copy_rows_per_s",
        "ratio",
        "peak_mb",
    ):
        assert run[key] > 0, key
    assert run["peak_mb_after_copy"] >= run["peak_mb"]
    assert run["transaction_rows_per_s"] == pytest.approx(
        run["transaction_rows"] / run["transaction_seconds"]
    )
    assert set(run["targets"]) and all(isinstance(t["met"], bool) for t in run["targets"].values())
    assert run["statements"][TX], "the transaction statements were timed"


def test_bench_duckdb_tiny(tmp_path):
    result = bench_ingest(
        config=TINY, data_dir=tmp_path / "d", progress=False, warehouses=("duckdb",)
    )
    assert result["generated"] is True
    assert result["scale"] == "custom"
    file_rows = result["file_rows"]
    assert set(file_rows) == set(ENTITY_ORDER)
    [run] = result["warehouses"]
    assert run["warehouse"] == "duckdb"
    _check_run(run, file_rows)

    report = format_report(result)
    assert "duckdb" in report and "tx rows/s" in report and "ratio" in report
    assert "Targets:" in report and "create _pf_judged" in report
    json.dumps(result)  # plain data, ready for a --json option

    # A second run reuses the generation; a changed config regenerates it.
    marker = (tmp_path / "d" / MARKER).read_text()
    assert ensure_dataset(tmp_path / "d", TINY, progress=False)[1] is False
    assert (tmp_path / "d" / MARKER).read_text() == marker
    _, generated = ensure_dataset(
        tmp_path / "d", GeneratorConfig(parts=20, locations=3, days=40), progress=False
    )
    assert generated is True


def test_incomplete_generation_is_not_reused(tmp_path):
    ensure_dataset(tmp_path, TINY, progress=False)
    victim = next((tmp_path / TX).iterdir())
    victim.unlink()
    assert ensure_dataset(tmp_path, TINY, progress=False)[1] is True
    assert victim.exists()


@pytest.mark.postgres
def test_bench_both_warehouses_tiny(tmp_path, require_postgres):
    result = bench_ingest(
        config=TINY,
        data_dir=tmp_path / "d",
        pg_admin_url=env.test_postgres_url(),
        progress=False,
    )
    runs = {r["warehouse"]: r for r in result["warehouses"]}
    assert set(runs) == {"duckdb", "postgres"}
    for run in runs.values():
        _check_run(run, result["file_rows"])
    assert "postgres" in format_report(result)


def test_unreachable_postgres_is_skipped_with_a_note(tmp_path, capsys):
    result = bench_ingest(
        config=GeneratorConfig(parts=5, locations=2, days=31),
        data_dir=tmp_path / "d",
        pg_admin_url="postgresql://postgres@127.0.0.1:1/postgres",
        progress=False,
        warehouses=("postgres",),
    )
    [run] = result["warehouses"]
    assert run["status"] == "skipped" and "not reachable" in run["note"]
    assert "not reachable" in capsys.readouterr().err
    assert "skipped" in format_report(result)
    assert result["targets_met"] is False


def test_statement_labels():
    assert statement_label("create temp table _pf_checked as\nwith typed") == "create _pf_checked"
    assert statement_label('insert into "raw"."transactions" (a) select 1') == (
        "insert into raw.transactions"
    )
    assert statement_label("select count(*) from _pf_batch") == "count _pf_batch"


def test_unknown_scale_is_refused():
    with pytest.raises(ValueError, match="presets"):
        bench_ingest("xl", progress=False)


def test_view_and_analyze_labels():
    assert statement_label("create temp view _pf_batch as select 1") == "create view _pf_batch"
    assert statement_label("drop view if exists _pf_batch") == "drop view _pf_batch"
    assert statement_label("analyze _pf_valid") == "analyze _pf_valid"


def test_rates_are_judged_at_m_and_memory_at_every_scale():
    run = {"warehouse": "duckdb", "transaction_rows_per_s": 9e5, "ratio": 1.9, "peak_mb": 2219}
    assert {k: t["met"] for k, t in _targets(run, "m").items()} == {
        "transaction rows/s >= 1,000,000": False,
        "ratio <= 3": True,
        "peak < 4 GB": True,
    }
    assert list(_targets(run, "l")) == ["peak < 4 GB"]  # the issue sets only memory at l
