"""`partsflow bench landing`: a landing zone of many small files and one huge file, ingested.

    from orchestration.bench_landing import bench_landing, format_report
    print(format_report(bench_landing(small_files=10_000, big_gb=2.0)))

The master data and transactions come from the demo-scale generation (reused from the ingest
benchmark's folder). The transactions are split into `small_files` files, and one file of about
`big_gb` GB repeats them with ids made unique per copy (`<id>-B<copy>`), so every row is valid and
distinct: the ingest must load each exactly once. It runs in a fresh process (its peak resident
memory is the ingest's own) through the same per-file path the ingest assets use, and the
counts are checked: rows read = rows in the files = rows loaded = rows stored.
"""

from __future__ import annotations

import csv
import json
import resource
import shutil
import sys
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from orchestration import env
from orchestration.bench import (
    ENTITY_ORDER,
    MAX_PEAK_MB,
    _entity_files,
    _in_fresh_process,
    _num,
    _pg_problem,
    bench_dataset,
    fresh_warehouse,
)
from orchestration.generator import GeneratorConfig

MARKER = "_landing.json"


def _read_text_csv(paths: list[Path]) -> pa.Table:
    """Transactions exactly as delivered: every column text, empty stays empty."""
    tables = []
    for path in paths:
        with path.open(newline="", encoding="utf-8-sig") as fh:
            names = next(csv.reader(fh))
        convert = pacsv.ConvertOptions(
            column_types=dict.fromkeys(names, pa.string()), strings_can_be_null=False
        )
        tables.append(pacsv.read_csv(path, convert_options=convert))
    return pa.concat_tables(tables)


def build_landing(source: Path, dest: Path, small_files: int, big_bytes: int) -> dict[str, Any]:
    """Write the landing zone (reused when its marker matches); its files and row counts."""
    settings = {"source": str(source), "small_files": small_files, "big_bytes": big_bytes}
    marker_path = dest / MARKER
    if marker_path.exists() and json.loads(marker_path.read_text()).get("settings") == settings:
        return json.loads(marker_path.read_text())
    shutil.rmtree(dest, ignore_errors=True)
    for entity in ENTITY_ORDER:
        (dest / entity).mkdir(parents=True)
        if entity != "transactions":
            for path in _entity_files(source, entity):
                shutil.copy(path, dest / entity / path.name)
    tx = _read_text_csv(_entity_files(source, "transactions"))
    out = dest / "transactions"
    if tx.num_rows < small_files:
        raise ValueError(f"{tx.num_rows} transaction rows cannot fill {small_files} files")
    bounds = [tx.num_rows * i // small_files for i in range(small_files + 1)]
    for i in range(small_files):
        part = tx.slice(bounds[i], bounds[i + 1] - bounds[i])
        pacsv.write_csv(part, out / f"transactions_small_{i + 1:05d}.csv")
    big_path = out / "transactions_big.csv"
    copies = 0
    with pacsv.CSVWriter(big_path, tx.schema) as writer:
        while big_path.stat().st_size < big_bytes:
            copies += 1
            ids = pc.binary_join_element_wise(tx["transaction_id"], f"B{copies}", "-")
            writer.write_table(tx.set_column(0, "transaction_id", ids))
    marker = {
        "settings": settings,
        "small_files": small_files,
        "small_rows": tx.num_rows,
        "big_rows": tx.num_rows * copies,
        "big_bytes": big_path.stat().st_size,
    }
    marker_path.write_text(json.dumps(marker, indent=2))
    return marker


def _ingest(url: str, landing: str, progress: bool) -> dict[str, Any]:
    """Ingest every file (masters, the small files, then the big one); timings and counts."""
    from tqdm import tqdm

    from orchestration.defs.ingest.files import new_files
    from orchestration.defs.ingest.raw_tables import RAW_SCHEMA, ensure_raw_tables, known_hashes
    from orchestration.defs.ingest.read_ahead import ingest_files
    from orchestration.warehouse import connect

    root = Path(landing)
    totals = dict.fromkeys(("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined"), 0)
    seconds: dict[str, float] = {}
    with connect(env.Warehouse(url)) as conn:
        ensure_raw_tables(conn)
        for entity in ENTITY_ORDER:
            known = known_hashes(conn, entity)
            files = _entity_files(root, entity)
            phases = {entity: files}
            if entity == "transactions":
                big = [p for p in files if p.name == "transactions_big.csv"]
                phases = {"small files": [p for p in files if p not in big], "big file": big}
            for phase, paths in phases.items():
                started = time.perf_counter()
                bar = tqdm(total=len(paths), desc=phase, disable=not progress, file=sys.stderr)
                # As the ingest asset does: one batch per content, judged ahead.
                with bar:
                    for _, result in ingest_files(conn, entity, new_files(paths, known)):
                        bar.update()
                        if entity == "transactions" and result is not None:
                            for key in totals:
                                totals[key] += getattr(result, key)
                seconds[phase] = time.perf_counter() - started
        stored = conn.fetchall(f"select count(*) from {RAW_SCHEMA}.transactions")[0][0]
    return {
        "seconds": seconds,
        "transactions": totals,
        "stored_transactions": int(stored),
        # Linux reports ru_maxrss in KiB.
        "peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


def bench_landing(
    small_files: int = 10_000,
    big_gb: float = 2.0,
    warehouse: str = "duckdb",
    work_dir: Path | None = None,
    progress: bool = True,
    source_config: GeneratorConfig | None = None,
    source_dir: Path | None = None,
) -> dict[str, Any]:
    """Build (or reuse) the landing zone, ingest it into a fresh warehouse, check the counts.

    The rows come from the demo preset's generation, or from `source_config` (in `source_dir`).
    """
    _, source, _, _ = bench_dataset("demo", source_config, source_dir, (warehouse,), progress)
    work_dir = Path(work_dir) if work_dir else env.PROJECT_ROOT / "data" / "bench" / "landing"
    landing = build_landing(source, work_dir, small_files, int(big_gb * 1e9))
    admin = env.test_postgres_url()
    problem = _pg_problem(admin) if warehouse == "postgres" else None
    if problem is not None:
        raise RuntimeError(f"PostgreSQL not reachable at {admin}: {problem}")
    with fresh_warehouse(warehouse, admin) as url:
        run = _in_fresh_process(_ingest, url, str(work_dir), progress)
    rows = landing["small_rows"] + landing["big_rows"]
    tx = run["transactions"]
    counts_exact = tx["rows_read"] == tx["rows_loaded"] == run["stored_transactions"] == rows
    return {"warehouse": warehouse, "landing": landing, **run, "counts_exact": counts_exact}


def format_report(result: dict[str, Any]) -> str:
    land, secs, tx = result["landing"], result["seconds"], result["transactions"]
    small_s, big_s = secs["small files"], secs["big file"]
    lines = [
        f"Landing stress on {result['warehouse']}: {land['small_files']:,} small transaction "
        f"files ({land['small_rows']:,} rows) and one {land['big_bytes'] / 1e9:.2f} GB file "
        f"({land['big_rows']:,} rows)",
        f"  small files: {_num(small_s, 1)} s, {small_s / land['small_files'] * 1000:.1f} ms "
        f"per file",
        f"  big file:    {_num(big_s, 1)} s, {land['big_rows'] / big_s:,.0f} rows/s",
        f"  rows read {tx['rows_read']:,}, loaded {tx['rows_loaded']:,}, duplicates "
        f"{tx['rows_duplicate']:,}, quarantined {tx['rows_quarantined']:,}, stored "
        f"{result['stored_transactions']:,}",
        f"  peak memory of the ingest process: {_num(result['peak_mb'])} MB",
        "Targets:",
        f"  [{'ok  ' if result['counts_exact'] else 'MISS'}] every row loaded exactly once",
        f"  [{'ok  ' if result['peak_mb'] < MAX_PEAK_MB else 'MISS'}] peak memory < "
        f"{MAX_PEAK_MB:,.0f} MB",
    ]
    return "\n".join(lines)
