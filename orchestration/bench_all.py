"""`partsflow bench all`: every benchmark over one generated data set, side by side with the old
design, written to `bench/report-<scale>.md` with PNG charts (orchestration/bench_all_report.py).

    from orchestration.bench_all import bench_all
    result = bench_all("m")

The data set is the ingest benchmark's (`data/bench/<scale>`, reused while its marker matches).
Every stage runs in its own child process (orchestration/bench_all_tasks.py, or dbt), and its
peak memory is the child's peak resident set size from os.wait4 (which includes the child's own
reaped children, e.g. dbt under Dagster) or, where it is larger, the largest sum of the
proportional set sizes of the child and its descendants (the location-group runs side by side,
training's forked child, whose pages shared with its parent count once; checked every second and
read when it could raise the peak, see TreePeak), so each stage's peak is its own:

1. the pipeline through Dagster, stage by stage on a fresh warehouse: ingest -> marts -> train ->
   score -> recommendations -> publish;
2. side by side on the same warehouse: the plain bulk copy (ingest floor), the SQL feature mart
   alone (`dbt run --full-refresh`) vs. the old pandas features, our training vs. the old grid
   search (with accuracy on the last 28 held-out days), the static policy vs. ours, and the
   dashboard pages on the published copy.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orchestration import env
from orchestration.bench import _create_database, _drop_database, _pg_problem, bench_dataset
from orchestration.bench_all_tasks import PIPELINE_STAGES
from orchestration.generator import GeneratorConfig


@dataclass
class Settings:
    """How much of the old design runs where it would take hours (see the report's notes)."""

    reference_pairs: int = 5_000  # part-locations the pandas features run on (whole parts)
    reference_rows: int = 5_000  # training rows the grid search runs on (the design's 72 x 5)
    forecast_series: int = 5_000  # series both forecasters are trained and scored on
    quick_grid: bool = False  # one combination instead of 72 (the smoke test only)
    policy_scale: str | None = None  # None: the data set's own preset (l falls back to m)
    holdout_days: int = 182
    seed: int = 0
    extra: dict = field(default_factory=dict)


def _loadavg() -> float:
    return round(os.getloadavg()[0], 2)


def _pss_kib(pid: int) -> int:
    """Proportional set size: resident pages, those shared with other processes (a forked child's
    inherited arrays) counted as their share, so a tree's sum counts each page once."""
    try:
        for line in Path(f"/proc/{pid}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                return int(line.split()[1])
    except (OSError, IndexError, ValueError):
        pass  # the process ended meanwhile, or a kernel without smaps_rollup
    return _rss_kib(pid)


def _rss_kib(pid: int) -> int:
    """Resident set size, from statm: cheap to read, and never below the PSS."""
    try:
        pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    except (OSError, IndexError, ValueError):
        return 0
    return pages * os.sysconf("SC_PAGE_SIZE") // 1024


def tree_pids(root: int) -> list[int]:
    """Process `root` and its descendants now, from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parent = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue  # the process ended meanwhile
        children.setdefault(parent, []).append(int(stat.parent.name))
    pids, todo = [], [root]
    while todo:
        pid = todo.pop()
        pids.append(pid)
        todo += children.get(pid, [])
    return pids


class TreePeak(threading.Thread):
    """The largest PSS sum (MB) of process `pid` and its descendants, sampled every `interval`
    seconds until stop().

    Reading a PSS walks the process's page tables: 0.2-0.3 s for dbt's 9.5 GB at the l scale,
    which, read every second, took an eighth of a core from the stage being measured. So the PSS
    is read only when the RSS sum (cheap, and never below the PSS sum) could raise the peak, and
    then at most ~3% of the time.
    """

    SPACING = 30  # seconds between PSS reads >= SPACING x the last read's seconds

    def __init__(self, pid: int, interval: float = 1.0):
        super().__init__(daemon=True)
        self.pid, self.interval, self.peak_mb = pid, interval, 0.0
        self._stop_event = threading.Event()

    def run(self) -> None:
        next_read = 0.0
        while not self._stop_event.wait(self.interval):
            pids = tree_pids(self.pid)
            if sum(map(_rss_kib, pids)) / 1024 <= self.peak_mb or time.monotonic() < next_read:
                continue
            started = time.monotonic()
            self.peak_mb = max(self.peak_mb, sum(map(_pss_kib, pids)) / 1024)
            next_read = time.monotonic() + self.SPACING * (time.monotonic() - started)

    def stop(self) -> float:
        self._stop_event.set()
        self.join()
        return self.peak_mb


def run_child(cmd: list[str], run_env: dict[str, str], log: Path) -> dict[str, Any]:
    """Run `cmd`; wall seconds, peak RSS (MB) of it and its children (the largest of any one of
    them, or of their sum while they run side by side), load before/after."""
    load = _loadavg()
    started = time.perf_counter()
    with log.open("ab") as fh:
        fh.write(f"\n$ {' '.join(cmd)}\n".encode())
        fh.flush()
        proc = subprocess.Popen(cmd, env=run_env, stdout=fh, stderr=subprocess.STDOUT)
        sampler = TreePeak(proc.pid)
        sampler.start()
        _, status, usage = os.wait4(proc.pid, 0)
        side_by_side_mb = sampler.stop()
    proc.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    out = {
        "seconds": seconds,
        "peak_mb": max(usage.ru_maxrss / 1024, side_by_side_mb),  # ru_maxrss: KiB on Linux
        "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "load": [load, _loadavg()],
        "returncode": proc.returncode,
    }
    if proc.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-25:])
        raise RuntimeError(f"{' '.join(cmd[:4])} ... exited {proc.returncode}:\n{tail}")
    return out


class Runner:
    """Runs tasks of orchestration/bench_all_tasks.py in child processes against one warehouse."""

    def __init__(self, work: Path, run_env: dict[str, str], progress: bool):
        self.work, self.env, self.progress = work, run_env, progress
        self.log = work / "bench.log"
        # Steps done so far: `--resume` after a failure reruns only the steps not in it.
        self.done_file = work / "steps-done.json"
        self.done = json.loads(self.done_file.read_text()) if self.done_file.exists() else {}

    def step(self, key: str, fn: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        if key not in self.done:
            self.done[key] = fn(*args, **kwargs)
            self.done_file.write_text(json.dumps(self.done, default=str))
        return self.done[key]

    def task(self, name: str, **args: Any) -> dict[str, Any]:
        key = f"{name} {json.dumps(args, sort_keys=True)}"
        return self.step(key, self._task, name, **args)

    def _task(self, name: str, **args: Any) -> dict[str, Any]:
        out = self.work / f"{name}-{time.monotonic_ns()}.json"
        cmd = [sys.executable, "-m", "orchestration.bench_all_tasks", name, json.dumps(args)]
        if self.progress:
            print(f"[bench all] {name} {args or ''} ...", file=sys.stderr, flush=True)
        measured = run_child([*cmd, str(out)], self.env, self.log)
        result = json.loads(out.read_text())
        out.unlink()
        return {**measured, "result": result}

    def dbt_features(self) -> dict[str, Any]:
        return self.step("dbt features", self._dbt_features)

    def _dbt_features(self) -> dict[str, Any]:
        """The SQL feature mart alone, rebuilt from scratch; the model's own execution time."""
        from orchestration.bench_marts import FEATURE_MODEL, build_times
        from orchestration.resources import dbt_executable

        target = self.work / "dbt-features"
        shutil.rmtree(target, ignore_errors=True)
        cmd = [dbt_executable(), "run", "--select", FEATURE_MODEL, "--full-refresh"]
        cmd += ["--project-dir", str(env.DBT_PROJECT_DIR), "--profiles-dir"]
        cmd += [str(env.DBT_PROJECT_DIR), "--target-path", str(target)]
        cmd += ["--log-path", str(target / "logs")]
        if self.progress:
            print(f"[bench all] dbt run {FEATURE_MODEL} ...", file=sys.stderr, flush=True)
        wh = env.Warehouse(self.env["PARTSFLOW_WAREHOUSE_URL"])
        measured = run_child(cmd, {**self.env, **wh.dbt_env()}, self.log)
        _, models = build_times(target)
        return {**measured, "model_seconds": models[FEATURE_MODEL]}


# Settings the l scale needs on the 2-core, 24 GB machine (the environment overrides them): 219k
# part-locations in 8 location groups of 23k-32k pairs (two group runs side by side peak at about
# 7 GB; 25 groups took 174 s to score and 285 s for the recommendations stage instead of 151 and
# 231 s, as every run has its fixed costs), and dbt builds one model at a time so that two
# 240M-row daily models do not share memory_limit (their spill to disk then doubled).
SCALE_ENV = {
    "l": {
        "PARTSFLOW_LOCATION_GROUPS": "8",
        "PARTSFLOW_DBT_THREADS": "1",
        "PARTSFLOW_DBT_DUCKDB_MEMORY_LIMIT": "9GB",
    }
}


def _work_env(work: Path, landing: Path, url: str, scale: str = "") -> dict[str, str]:
    return {
        **SCALE_ENV.get(scale, {}),
        **os.environ,
        "PARTSFLOW_LANDING_DIR": str(landing),
        "PARTSFLOW_WAREHOUSE_URL": url,
        "PARTSFLOW_SERVING_DIR": str(work / "serving"),
        "PARTSFLOW_MODEL_STORE": str(work / "models"),
        "DAGSTER_HOME": str(work / "dagster_home"),
        # Dagster's own storage stays in DAGSTER_HOME (SQLite) for a benchmark run.
        "PARTSFLOW_DAGSTER_PG_URL": "",
    }


def bench_all(
    scale: str = "m",
    warehouse: str = "duckdb",
    settings: Settings | None = None,
    config: GeneratorConfig | None = None,
    data_dir: Path | None = None,
    progress: bool = True,
    resume: bool = False,
) -> dict[str, Any]:
    """The whole benchmark; see the module docstring. `config` replaces the preset; `resume`
    keeps the steps a failed run of the same scale and warehouse (DuckDB) finished."""
    settings = settings or Settings()
    name, landing, marker, generated = bench_dataset(
        scale, config, data_dir, (warehouse,), progress
    )
    work = landing.parent / f"{landing.name}-all-{warehouse}"
    if not (resume and warehouse == "duckdb"):
        shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True, exist_ok=True)
    admin = db_name = None
    if warehouse == "duckdb":
        url = f"duckdb:///{(work / 'warehouse.duckdb').resolve()}"
    else:
        admin = env.test_postgres_url()
        problem = _pg_problem(admin)
        if problem is not None:
            raise RuntimeError(f"PostgreSQL not reachable at {admin}: {problem}")
        db_name, url = _create_database(admin)
    run_env = _work_env(work, landing, url, name)
    runner = Runner(work, run_env, progress)
    started = time.perf_counter()
    try:
        stages = {s: runner.task("materialize", stage=s) for s in PIPELINE_STAGES}
        counts = runner.task("counts")["result"]
        side = _side_by_side(runner, name, marker["config"], landing, work, settings)
    finally:
        if db_name is not None:
            _drop_database(admin, db_name)
    return {
        "scale": name,
        "warehouse": warehouse,
        "config": marker["config"],
        "scale_settings": {k: run_env[k] for k in SCALE_ENV.get(name, {})},
        "data_dir": str(landing),
        "generated": generated,
        "file_rows": marker["rows"],
        "stages": stages,
        "counts": counts,
        **side,
        "settings": {k: v for k, v in vars(settings).items() if k != "extra"},
        "seconds": time.perf_counter() - started,
        "cpus": os.cpu_count(),
        "memory_gb": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1e9,
        "finished": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }


def _side_by_side(
    runner: Runner, name: str, config: dict, landing: Path, work: Path, settings: Settings
) -> dict[str, Any]:
    # The policy replays re-run the generator in memory; at l that takes too long (~25x m).
    policy_scale = settings.policy_scale or ("m" if name == "l" else name)
    policy_config = config if policy_scale == "custom" else None
    return {
        "plain_copy": runner.task("plain_copy", data_dir=str(landing), scratch=str(work)),
        "features": runner.dbt_features(),
        "reference_features": runner.task(
            "reference_features", pairs=settings.reference_pairs, seed=settings.seed
        ),
        "forecast": runner.task(
            "forecast",
            series=settings.forecast_series,
            ref_rows=settings.reference_rows,
            quick=settings.quick_grid,
            seed=settings.seed,
        ),
        "policy": runner.task(
            "policy", scale=policy_scale, holdout_days=settings.holdout_days, config=policy_config
        ),
        "policy_scale": policy_scale,
        "dashboard": runner.task("dashboard"),
    }
