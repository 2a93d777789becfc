"""The landing stress benchmark on a tiny landing zone: every row of many small files and one
big file is loaded exactly once, on DuckDB and PostgreSQL."""

from __future__ import annotations

import pytest

from orchestration.bench_landing import bench_landing, build_landing, format_report
from orchestration.generator import GeneratorConfig

TINY = GeneratorConfig(parts=20, locations=3, days=60)


def _run(tmp_path, warehouse: str) -> dict:
    return bench_landing(
        small_files=40,
        big_gb=0.002,
        warehouse=warehouse,
        work_dir=tmp_path / "landing",
        progress=False,
        source_config=TINY,
        source_dir=tmp_path / "source",
    )


def _check(result: dict) -> None:
    land = result["landing"]
    assert land["small_files"] == 40 and land["big_rows"] >= 2 * land["small_rows"] > 0
    tx = result["transactions"]
    assert tx["rows_read"] == land["small_rows"] + land["big_rows"]
    assert tx["rows_loaded"] == tx["rows_read"] == result["stored_transactions"]
    assert tx["rows_duplicate"] == tx["rows_quarantined"] == 0
    assert result["counts_exact"]
    assert set(result["seconds"]) >= {"small files", "big file"}
    report = format_report(result)
    assert "[ok  ] every row loaded exactly once" in report


def test_landing_stress_duckdb(tmp_path) -> None:
    _check(_run(tmp_path, "duckdb"))


@pytest.mark.postgres
def test_landing_stress_postgres(tmp_path, require_postgres) -> None:
    _check(_run(tmp_path, "postgres"))


def test_landing_is_reused_and_its_big_file_ids_are_unique(tmp_path) -> None:
    first = _run(tmp_path, "duckdb")["landing"]
    big = tmp_path / "landing" / "transactions" / "transactions_big.csv"
    stamp = big.stat().st_mtime_ns
    again = build_landing(tmp_path / "source", tmp_path / "landing", 40, int(0.002e9))
    assert again == first and big.stat().st_mtime_ns == stamp  # reused, not rewritten
    ids = [line.split(",", 1)[0] for line in big.read_text().splitlines()[1:]]
    assert len(ids) == len(set(ids)) == first["big_rows"]
