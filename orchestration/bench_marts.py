"""Marts benchmark: `dbt build` time per model group, and the SQL feature mart vs. the old pandas.

    from orchestration.bench_marts import bench_marts, format_report
    print(format_report(bench_marts("m", warehouses=("duckdb",))))

Plain Python (no Dagster). The data set is the ingest benchmark's (`data/bench/<scale>`, reused
while its marker matches). Each warehouse runs in a fresh spawned process: validated ingest of
every landing file into a fresh warehouse, then one `dbt build` (models, seeds, unit and data
tests) whose run_results.json gives the time per model group (staging, intermediate,
marts/<folder>, features). Then, on the first warehouse, the old design's pandas feature pipeline
(orchestration/bench_reference/features.py) runs on the exact daily demand rows the SQL feature
mart reads, and its features are compared with the mart's on a sample of rows. The two do not
compute the same number of rows: pandas computes every day of the window (the old design), the
mart only the forecast origins and the scoring date; the report says how many rows each side
computes and compares the rows both hold.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from orchestration import env
from orchestration.bench import (
    ENTITY_ORDER,
    _entity_files,
    _in_fresh_process,
    _num,
    _table,
    bench_dataset,
    fresh_warehouses,
)
from orchestration.generator import GeneratorConfig

FEATURE_MODEL = "fct_demand_features"
# dbt var feature_window_days (its default): the days up to the ledger end the mart's rows cover.
FEATURE_WINDOW_DAYS = 365
# The targets.
MIN_FEATURE_SPEEDUP = 5.0
MAX_DUCKDB_BUILD_SECONDS = 120.0


def ingest_all(url: str, data_dir: Path) -> float:
    """Validated ingest of every landing file into the warehouse at `url`; seconds taken."""
    from orchestration.defs.ingest.files import new_files
    from orchestration.defs.ingest.raw_tables import ensure_raw_tables
    from orchestration.defs.ingest.read_ahead import ingest_files
    from orchestration.warehouse import connect

    started = time.perf_counter()
    with connect(env.Warehouse(url)) as conn:
        ensure_raw_tables(conn)
        for entity in ENTITY_ORDER:
            files = new_files(_entity_files(data_dir, entity), set())
            for _ in ingest_files(conn, entity, files):
                pass
    return time.perf_counter() - started


def dbt_build(url: str, target_path: Path, extra: tuple[str, ...] = ()) -> float:
    """`dbt build` of the whole project on `url` into `target_path`; wall seconds."""
    from orchestration.resources import dbt_executable

    cmd = [
        dbt_executable(),
        "build",
        "--project-dir",
        str(env.DBT_PROJECT_DIR),
        "--profiles-dir",
        str(env.DBT_PROJECT_DIR),
        "--target-path",
        str(target_path),
        "--log-path",
        str(target_path / "logs"),
        *extra,
    ]
    started = time.perf_counter()
    done = subprocess.run(
        cmd,
        env={**os.environ, **env.Warehouse(url).dbt_env()},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        tail = "\n".join(done.stdout.splitlines()[-30:])
        raise RuntimeError(f"dbt build failed on {env.Warehouse(url).kind}:\n{tail}")
    return seconds


def model_group(original_file_path: str, resource_type: str) -> str:
    """staging, intermediate, marts, marts/<folder>, features, seeds or tests."""
    if resource_type in ("test", "unit_test"):
        return "tests"
    if resource_type == "seed":
        return "seeds"
    parts = Path(original_file_path).parts  # models/<layer>/[<folder>/]<file>
    if len(parts) >= 4 and parts[1] == "marts":
        return "features" if parts[2] == "features" else f"marts/{parts[2]}"
    return parts[1] if len(parts) >= 3 else "other"


def build_times(target_path: Path) -> tuple[dict[str, float], dict[str, float]]:
    """(seconds per group, seconds per model) from run_results.json and the manifest."""
    manifest = json.loads((target_path / "manifest.json").read_text())
    results = json.loads((target_path / "run_results.json").read_text())["results"]
    nodes = {**manifest["nodes"], **manifest.get("unit_tests", {})}
    groups: dict[str, float] = {}
    models: dict[str, float] = {}
    for result in results:
        node = nodes.get(result["unique_id"], {})
        rtype = node.get("resource_type", result["unique_id"].split(".")[0])
        group = model_group(node.get("original_file_path", ""), rtype)
        groups[group] = groups.get(group, 0.0) + result["execution_time"]
        if rtype == "model":
            models[node["name"]] = result["execution_time"]
    return groups, models


# --------------------------------------------------------------------------------------------
# The old pandas pipeline on the rows the SQL feature mart read
# --------------------------------------------------------------------------------------------


def feature_input(url: str) -> tuple[Any, date, date]:
    """(daily demand rows the feature mart read, the first day of its window, the first day read).

    The window is the var feature_window_days (default 365) days before the scoring date (the
    mart's last row); the mart reads from the first day of the month 12 months before its first
    day (the monthly classes need them; the lags need 364 days).
    """
    from orchestration.warehouse import connect

    with connect(env.Warehouse(url)) as conn:
        scoring = conn.fetchall(f"select max(demand_date) from marts.{FEATURE_MODEL}")[0][0]
        first_day = scoring - timedelta(days=FEATURE_WINDOW_DAYS)
        first_read = date(first_day.year - 1, first_day.month, 1)
        demand = conn.query_df(
            "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand "
            "where demand_date >= ?",
            (first_read,),
        )
    return demand, first_day, first_read


def run_reference(url: str, sample_pairs: int = 40) -> dict[str, Any]:
    """Time the pandas reference on the mart's input rows; compare a sample of pairs."""
    from orchestration.bench_reference.features import build_features, compare
    from orchestration.warehouse import connect

    demand, first_day, first_read = feature_input(url)
    started = time.perf_counter()
    reference = build_features(demand, first_day=first_day)
    seconds = time.perf_counter() - started

    pairs = reference[["part_id", "location_id"]].drop_duplicates().sort_values(["part_id"])
    pairs = pairs.iloc[:: max(1, len(pairs) // sample_pairs)]
    parts = sorted(set(pairs["part_id"]))
    marks = ", ".join("?" for _ in parts)
    with connect(env.Warehouse(url)) as conn:
        sql_rows = conn.query_df(
            f"select * from marts.{FEATURE_MODEL} where part_id in ({marks})", tuple(parts)
        )
    sql_rows = sql_rows.merge(pairs)
    diffs = compare(reference.merge(pairs), sql_rows)
    compared = int(diffs.pop("rows"))
    return {
        "seconds": seconds,
        "input_rows": len(demand),
        "output_rows": len(reference),
        "first_day": first_day.isoformat(),
        "first_read_day": first_read.isoformat(),
        "compared_pairs": len(pairs),
        "compared_rows": compared,
        "sql_rows_of_sample": len(sql_rows),
        "max_relative_difference": max(diffs.values()) if diffs else 0.0,
        "worst_column": max(diffs, key=diffs.get) if diffs else None,
    }


# --------------------------------------------------------------------------------------------
# One warehouse (runs in a fresh spawned process)
# --------------------------------------------------------------------------------------------


def _bench_warehouse(kind: str, url: str, data_dir: str, reference: bool) -> dict[str, Any]:
    from orchestration.warehouse import connect

    ingest_seconds = ingest_all(url, Path(data_dir))
    with tempfile.TemporaryDirectory(prefix="partsflow-bench-dbt-") as tmp:
        build_seconds = dbt_build(url, Path(tmp))
        groups, models = build_times(Path(tmp))
    with connect(env.Warehouse(url)) as conn:
        feature_rows = conn.fetchall(f"select count(*) from marts.{FEATURE_MODEL}")[0][0]
        demand_rows = conn.fetchall("select count(*) from marts.fct_daily_demand")[0][0]
    run = {
        "warehouse": kind,
        "status": "ok",
        "ingest_seconds": ingest_seconds,
        "build_seconds": build_seconds,
        "groups": groups,
        "models": models,
        "feature_seconds": models.get(FEATURE_MODEL),
        "feature_rows": int(feature_rows),
        "daily_demand_rows": int(demand_rows),
    }
    if reference:
        run["reference"] = run_reference(url)
    return run


def bench_marts(
    scale: str = "m",
    data_dir: Path | None = None,
    warehouses: tuple[str, ...] = ("duckdb", "postgres"),
    pg_admin_url: str | None = None,
    progress: bool = True,
    config: GeneratorConfig | None = None,
) -> dict[str, Any]:
    """Ingest + `dbt build` per warehouse, and the pandas reference on the first one."""
    name, data_dir, marker, generated = bench_dataset(scale, config, data_dir, warehouses, progress)

    admin = pg_admin_url or env.test_postgres_url()
    runs: list[dict[str, Any]] = []
    reference_done = False
    for kind, url, skipped in fresh_warehouses(warehouses, admin):
        if skipped:
            runs.append(skipped)
            continue
        run = _in_fresh_process(_bench_warehouse, kind, url, str(data_dir), not reference_done)
        reference_done = reference_done or "reference" in run
        runs.append(run)

    reference = next((r["reference"] for r in runs if "reference" in r), None)
    for run in runs:
        if run["status"] != "ok":
            continue
        ratio = reference["seconds"] / run["feature_seconds"] if reference else None
        run["speedup"] = ratio
        # The targets are set for DuckDB; PostgreSQL's numbers are printed beside them.
        run["targets"] = (
            {
                f"features >= {MIN_FEATURE_SPEEDUP:g}x pandas": {
                    "value": ratio,
                    "met": ratio is not None and ratio >= MIN_FEATURE_SPEEDUP,
                },
                f"dbt build < {MAX_DUCKDB_BUILD_SECONDS:g} s": {
                    "value": run["build_seconds"],
                    "met": run["build_seconds"] < MAX_DUCKDB_BUILD_SECONDS,
                },
            }
            if run["warehouse"] == "duckdb"
            else {}
        )
    return {
        "scale": name,
        "config": marker["config"],
        "data_dir": str(data_dir),
        "generated": generated,
        "file_rows": marker["rows"],
        "warehouses": runs,
        "reference": reference,
    }


GROUP_ORDER = ("seeds", "staging", "intermediate", "marts", "features", "tests")


def _group_sort_key(group: str) -> tuple[int, str]:
    base = group.split("/")[0]
    return (GROUP_ORDER.index(base) if base in GROUP_ORDER else len(GROUP_ORDER), group)


def format_report(result: dict[str, Any]) -> str:
    """A readable summary of `bench_marts`'s result."""
    cfg = result["config"]
    out = [
        f"Marts benchmark, scale {result['scale']} ({cfg['parts']:,} parts x "
        f"{cfg['locations']:,} locations x {cfg['days']:,} days, seed {cfg['seed']})",
        f"Data: {result['data_dir']} ({'generated now' if result['generated'] else 'reused'}, "
        f"{result['file_rows'].get('transactions', 0):,} transaction rows)",
        "",
    ]
    ok = [r for r in result["warehouses"] if r["status"] == "ok"]
    for run in result["warehouses"]:
        if run["status"] != "ok":
            out.append(f"{run['warehouse']}: {run['note']}")
    if not ok:
        return "\n".join(out)
    groups = sorted({g for r in ok for g in r["groups"]}, key=_group_sort_key)
    header = ["dbt build seconds", *(r["warehouse"] for r in ok)]
    rows = [[g, *(_num(r["groups"].get(g), 1) for r in ok)] for g in groups]
    rows.append(["total (wall, dbt build)", *(_num(r["build_seconds"], 1) for r in ok)])
    rows.append(["ingest (not in the build)", *(_num(r["ingest_seconds"], 1) for r in ok)])
    rows.append(["fct_daily_demand rows", *(_num(r["daily_demand_rows"]) for r in ok)])
    rows.append([f"{FEATURE_MODEL} rows", *(_num(r["feature_rows"]) for r in ok)])
    out += _table(header, rows)

    ref = result["reference"]
    out += ["", "Feature mart vs. the old pandas pipeline (same windows, same input rows):"]
    if ref:
        out.append(
            f"  pandas reference: {ref['seconds']:.1f} s on {ref['input_rows']:,} input rows -> "
            f"{ref['output_rows']:,} feature rows (every day from {ref['first_day']}; "
            f"reads from {ref['first_read_day']})"
        )
        for run in ok:
            out.append(
                f"  {run['warehouse']:<8} SQL {FEATURE_MODEL}: {_num(run['feature_seconds'], 1)} s"
                f" on the same input rows -> {_num(run['feature_rows'])} feature rows (forecast "
                f"origins + scoring date) -> {_num(run['speedup'], 1)}x faster"
            )
        out.append(
            f"  agreement on {ref['compared_pairs']} sampled pairs, on the {ref['compared_rows']:,}"
            f" rows both compute (of the mart's {ref['sql_rows_of_sample']:,} rows of those "
            f"pairs; the rest are the scoring date, which pandas does not compute): max relative "
            f"difference {ref['max_relative_difference']:.2e} ({ref['worst_column']})"
        )
    out += ["", "Targets:"]
    for run in ok:
        for name, t in run["targets"].items():
            mark = "ok  " if t["met"] else "MISS"
            out.append(f"  [{mark}] {run['warehouse']:<8} {name:<28} {_num(t['value'], 1)}")
    load = os.getloadavg()
    out.append(f"  (1-min load average now {load[0]:.2f} on {os.cpu_count()} CPUs)")
    return "\n".join(out)
