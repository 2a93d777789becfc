"""Marts benchmark: `dbt build` time per model group, and the SQL feature mart vs. the old pandas.

    from orchestration.bench_marts import bench_marts, format_report
    print(format_report(bench_marts("m", warehouses=("duckdb",))))

Plain Python (no Dagster). The data set is the ingest benchmark's (`data/bench/<scale>`, reused
while its marker matches). Each warehouse runs in a fresh spawned process: validated ingest of
every landing file into a fresh warehouse, then one `dbt build` (models, seeds, unit and data
tests) whose run_results.json gives the time per model group (staging, intermediate,
marts/<folder>, features). Then, on the first warehouse, the old design's pandas feature pipeline
(orchestration/bench_reference/features.py) runs on the exact daily demand rows the SQL feature
mart reads, and its features are compared with the mart's on a sample of rows.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path

from orchestration import env
from orchestration.bench import (
    ENTITY_ORDER,
    _entity_files,
)

FEATURE_MODEL = "fct_demand_features"
# The targets.
MIN_FEATURE_SPEEDUP = 5.0
MAX_DUCKDB_BUILD_SECONDS = 120.0


def ingest_all(url: str, data_dir: Path) -> float:
    """Validated ingest of every landing file into the warehouse at `url`; seconds taken."""
    from orchestration.defs.ingest.batches import ingest_file
    from orchestration.defs.ingest.files import file_hash
    from orchestration.defs.ingest.raw_tables import ensure_raw_tables
    from orchestration.warehouse import connect

    started = time.perf_counter()
    with connect(env.Warehouse(url)) as conn:
        ensure_raw_tables(conn)
        for entity in ENTITY_ORDER:
            for path in _entity_files(data_dir, entity):
                ingest_file(conn, entity, path, file_hash(path))
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
