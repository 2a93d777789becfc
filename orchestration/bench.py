"""Ingest benchmark: validated file ingest vs. a plain bulk copy, on DuckDB and PostgreSQL.

    from orchestration.bench import bench_ingest, format_report
    print(format_report(bench_ingest("m")))

Plain Python (no Dagster). The data set is a generator preset written as CSV to
`data/bench/<scale>` (reused while its marker file matches the config). Each warehouse runs in
a fresh spawned process, so the peak memory reported is that warehouse's alone:

- validated: `ensure_raw_tables`, then every landing file through `new_files` and `ingest_files`
  as the ingest asset does (hash, stage, validate, quarantine, dedup, append), entities in
  dependency order, timed per entity;
- floor: the same transaction files bulk-copied into an unvalidated all-text table (DuckDB
  `read_csv(all_varchar)`, PostgreSQL `COPY FROM STDIN`); ratio = validated / plain copy time.

The engine's SQL statements are timed per kind through a thin wrapper around this process's
connection (measurement only; the ingest code itself is untouched), so the report shows where
the transaction time goes.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import re
import resource
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any
from urllib.parse import urlparse, urlunparse

from orchestration import env
from orchestration.generator import PRESETS, GeneratorConfig

ENTITY_ORDER: tuple[str, ...] = (
    "categories",
    "suppliers",
    "locations",
    "parts",
    "stock_levels",
    "transactions",
    "purchase_orders",
)
TX = "transactions"
MARKER = ".partsflow-bench.json"
MARKER_VERSION = 1
PLAIN_TABLE = "bench_plain_transactions"

# The targets.
DUCKDB_MIN_TX_ROWS_PER_S = 1_000_000
DUCKDB_MAX_RATIO = 3.0
POSTGRES_MIN_TX_ROWS_PER_S = 150_000
MAX_PEAK_MB = 4096.0


# --------------------------------------------------------------------------------------------
# Data set
# --------------------------------------------------------------------------------------------


def _config_dict(config: GeneratorConfig) -> dict[str, Any]:
    out = asdict(config)
    out["start"] = config.start.isoformat()
    return out


def _entity_files(data_dir: Path, entity: str) -> list[Path]:
    from orchestration.defs.ingest.files import landing_files

    return landing_files(data_dir / entity)


def _read_marker(data_dir: Path) -> dict[str, Any] | None:
    try:
        return json.loads((data_dir / MARKER).read_text())
    except (OSError, ValueError):
        return None


def _marker_matches(data_dir: Path, config: GeneratorConfig) -> dict[str, Any] | None:
    """The marker when data_dir holds exactly the files a generation of `config` wrote."""
    marker = _read_marker(data_dir)
    if not marker or marker.get("version") != MARKER_VERSION:
        return None
    if marker.get("config") != _config_dict(config):
        return None
    for entity in ENTITY_ORDER:
        expected = marker.get("files", {}).get(entity)
        if expected is None:
            return None
        found = {p.name: p.stat().st_size for p in _entity_files(data_dir, entity)}
        if found != expected:
            return None
    return marker


def ensure_dataset(
    data_dir: Path, config: GeneratorConfig, progress: bool = True
) -> tuple[dict[str, Any], bool]:
    """(marker, generated): reuse a complete generation of `config` or write a fresh one."""
    from orchestration.generator import generate_landing

    data_dir = Path(data_dir)
    if config.fmt != "csv":
        raise ValueError("the ingest benchmark reads CSV landing files (config.fmt='csv')")
    marker = _marker_matches(data_dir, config)
    if marker is not None:
        return marker, False
    data_dir.mkdir(parents=True, exist_ok=True)
    (data_dir / MARKER).unlink(missing_ok=True)  # never trust a half-written generation
    if progress:
        print(f"Generating {data_dir} ({_config_dict(config)}) ...", file=sys.stderr)
    summary = generate_landing(data_dir, config, progress=progress)
    marker = {
        "version": MARKER_VERSION,
        "config": _config_dict(config),
        "rows": summary["rows"],
        "bytes": summary["bytes"],
        "generation_seconds": summary["seconds"],
        "files": {
            e: {p.name: p.stat().st_size for p in _entity_files(data_dir, e)} for e in ENTITY_ORDER
        },
    }
    tmp = data_dir / f"{MARKER}.tmp"
    tmp.write_text(json.dumps(marker, indent=2))
    tmp.replace(data_dir / MARKER)
    return marker, True


# --------------------------------------------------------------------------------------------
# One warehouse (runs in a fresh spawned process)
# --------------------------------------------------------------------------------------------


ENGINE_SOURCES = ("orchestration/defs/ingest", "orchestration/warehouse.py")


def engine_fingerprint() -> str:
    """Short hash of the ingest engine's source, so a measurement names the code it measured."""
    digest = hashlib.sha256()
    for rel in ENGINE_SOURCES:
        base = env.PROJECT_ROOT / rel
        for path in sorted(base.rglob("*.py")) if base.is_dir() else [base]:
            digest.update(str(path.relative_to(env.PROJECT_ROOT)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _peak_mb() -> float:
    # Linux reports ru_maxrss in KiB (macOS in bytes).
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return rss / (1024 * 1024) if sys.platform == "darwin" else rss / 1024


_LABEL_PATTERNS = (
    (re.compile(r"^create (?:temp |temporary )?table ([\w\".]+)", re.I), "create {}"),
    (re.compile(r"^create (?:temp |temporary )?view ([\w\".]+)", re.I), "create view {}"),
    (re.compile(r"^drop view if exists ([\w\".]+)", re.I), "drop view {}"),
    (re.compile(r"^analyze ([\w\".]+)", re.I), "analyze {}"),
    (re.compile(r"^insert into ([\w\".]+)", re.I), "insert into {}"),
    (re.compile(r"^update ([\w\".]+)", re.I), "update {}"),
    (re.compile(r"^drop table if exists ([\w\".]+)", re.I), "drop {}"),
    (re.compile(r"^select count\(\*\) from ([\w\".]+)(?: where (.*))?$", re.I | re.S), "count {}"),
)


def statement_label(sql: str) -> str:
    """A short, stable name for one of the engine's statements (for the time breakdown)."""
    text = " ".join(sql.split())
    for pattern, fmt in _LABEL_PATTERNS:
        m = pattern.match(text)
        if m:
            label = fmt.format(m.group(1).replace('"', ""))
            if label.startswith("count") and m.lastindex and m.lastindex >= 2 and m.group(2):
                label += f" where {m.group(2)[:40]}"
            if label == "insert into raw.quarantine" and "conflicting_duplicate" in text:
                label += " (conflicts)"
            return label
    return text[:48]


class _StatementTimer:
    """Wraps Connection.execute/fetchall to add up seconds per statement kind and entity.

    The class, not one connection: the DuckDB ingest judges the next file in a second
    connection (read_ahead.py). This process only benchmarks, so nothing else sees the wrap."""

    def __init__(self, conn: Any):
        self.entity = "setup"
        self.seconds: dict[str, dict[str, float]] = defaultdict(lambda: defaultdict(float))
        self.calls: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
        cls = type(conn)
        cls.execute = self._wrap(cls.execute)
        cls.fetchall = self._wrap(cls.fetchall)

    def _wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(conn: Any, sql: str, params: Any = ()) -> Any:
            t0 = time.perf_counter()
            try:
                return fn(conn, sql, params)
            finally:
                label = statement_label(sql)
                self.seconds[self.entity][label] += time.perf_counter() - t0
                self.calls[self.entity][label] += 1

        return timed


def _plain_copy_duckdb(conn: Any, files: list[Path]) -> tuple[int, float]:
    conn.execute(f"drop table if exists {PLAIN_TABLE}")
    t0 = time.perf_counter()
    conn.raw.execute(
        f"create table {PLAIN_TABLE} as select * from "
        "read_csv(?, all_varchar = true, header = true)",
        [[str(p) for p in files]],
    )
    seconds = time.perf_counter() - t0
    rows = conn.raw.execute(f"select count(*) from {PLAIN_TABLE}").fetchone()[0]
    return int(rows), seconds


def _plain_copy_postgres(conn: Any, files: list[Path]) -> tuple[int, float]:
    from psycopg import sql as pgsql

    with files[0].open("r", encoding="utf-8-sig", newline="") as fh:
        header = [h.strip().lower() for h in next(csv.reader(fh))]
    ident = pgsql.Identifier(PLAIN_TABLE)
    cols = pgsql.SQL(", ").join(pgsql.Identifier(c) for c in header)
    conn.raw.execute(pgsql.SQL("drop table if exists {}").format(ident))
    conn.raw.execute(
        pgsql.SQL("create table {} ({})").format(
            ident,
            pgsql.SQL(", ").join(pgsql.SQL("{} text").format(pgsql.Identifier(c)) for c in header),
        )
    )
    copy = pgsql.SQL("copy {} ({}) from stdin (format csv, header true)").format(ident, cols)
    t0 = time.perf_counter()
    for path in files:
        with conn.raw.cursor().copy(copy) as cp, path.open("rb") as fh:
            while chunk := fh.read(1 << 20):
                cp.write(chunk)
    seconds = time.perf_counter() - t0
    rows = conn.raw.execute(pgsql.SQL("select count(*) from {}").format(ident)).fetchone()[0]
    return int(rows), seconds


def _bench_warehouse(
    kind: str, url: str, data_dir: str, expected_rows: int, progress: bool
) -> dict[str, Any]:
    """Validated ingest of every file, then the plain copy floor; runs in its own process."""
    from tqdm import tqdm

    from orchestration.defs.ingest.files import new_files
    from orchestration.defs.ingest.raw_tables import QUARANTINE, ensure_raw_tables, raw_table
    from orchestration.defs.ingest.read_ahead import ingest_files
    from orchestration.warehouse import connect

    fingerprint = engine_fingerprint()
    load_before = _loadavg()
    root = Path(data_dir)
    entities: dict[str, dict[str, Any]] = {}
    with connect(env.Warehouse(url)) as conn:
        timer = _StatementTimer(conn)
        t0 = time.perf_counter()
        ensure_raw_tables(conn)
        setup_seconds = time.perf_counter() - t0
        bar = tqdm(
            total=expected_rows,
            unit="row",
            unit_scale=True,
            desc=kind,
            disable=not progress,
            file=sys.stderr,
            dynamic_ncols=True,
        )
        with bar:
            for entity in ENTITY_ORDER:
                timer.entity = entity
                stats = {
                    "files": 0,
                    "rows_read": 0,
                    "rows_loaded": 0,
                    "rows_duplicate": 0,
                    "rows_quarantined": 0,
                    "unparseable": 0,
                    "hash_seconds": 0.0,  # waiting for a file's hash (it is hashed ahead)
                    "per_file": [],  # [rows read, seconds] in load order
                }
                bar.set_description(f"{kind} {entity}")
                started = time.perf_counter()
                step_end = time.perf_counter()
                files = _timed(new_files(_entity_files(root, entity), set()), stats)
                for _, result in ingest_files(conn, entity, files):
                    now = time.perf_counter()
                    stats["per_file"].append([result.rows_read if result else 0, now - step_end])
                    step_end = now
                    stats["files"] += 1
                    if result is None:
                        continue
                    stats["unparseable"] += result.status == "unparseable"
                    for key in ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined"):
                        stats[key] += getattr(result, key)
                    bar.update(result.rows_read)
                stats["seconds"] = time.perf_counter() - started
                stats["rows_per_s"] = _rate(stats["rows_read"], stats["seconds"])
                entities[entity] = stats
        timer.entity = "check"
        for entity in ENTITY_ORDER:
            entities[entity]["rows_in_table"] = int(
                conn.fetchall(f"select count(*) from {raw_table(entity)}")[0][0]
            )
        reasons = conn.fetchall(
            f"select entity, reason, count(*) from {QUARANTINE} group by entity, reason "
            "order by entity, count(*) desc"
        )
        peak_ingest = _peak_mb()

        tx_files = _entity_files(root, TX)
        if tx_files:
            copy = _plain_copy_duckdb if conn.is_duckdb else _plain_copy_postgres
            plain_rows, plain_seconds = copy(conn, tx_files)
        else:
            plain_rows, plain_seconds = 0, 0.0
        peak_after_copy = _peak_mb()

    rows = sum(e["rows_read"] for e in entities.values())
    seconds = sum(e["seconds"] for e in entities.values())
    tx = entities[TX]
    statements = {
        entity: {
            label: {"seconds": secs, "calls": timer.calls[entity][label]}
            for label, secs in sorted(by_label.items(), key=lambda kv: -kv[1])
        }
        for entity, by_label in timer.seconds.items()
    }
    return {
        "warehouse": kind,
        "status": "ok",
        "engine": fingerprint,
        # 1-minute load average before/after: others' work on a shared machine skews timings.
        "load_average": [load_before, _loadavg()],
        "quarantine_reasons": [[e, r, int(n)] for e, r, n in reasons],
        "setup_seconds": setup_seconds,
        "rows": rows,
        "rows_loaded": sum(e["rows_loaded"] for e in entities.values()),
        "rows_quarantined": sum(e["rows_quarantined"] for e in entities.values()),
        "rows_duplicate": sum(e["rows_duplicate"] for e in entities.values()),
        "seconds": seconds,
        "rows_per_s": _rate(rows, seconds),
        "transaction_rows": tx["rows_read"],
        "transaction_seconds": tx["seconds"],
        "transaction_rows_per_s": _rate(tx["rows_read"], tx["seconds"]),
        "plain_copy_rows": plain_rows,
        "plain_copy_seconds": plain_seconds,
        "plain_copy_rows_per_s": _rate(plain_rows, plain_seconds),
        "ratio": tx["seconds"] / plain_seconds if plain_seconds > 0 else None,
        "peak_mb": peak_ingest,
        "peak_mb_after_copy": peak_after_copy,
        "entities": entities,
        "statements": statements,
    }


def _loadavg() -> float | None:
    try:
        return round(os.getloadavg()[0], 2)
    except OSError:
        return None


def _rate(rows: int, seconds: float) -> float:
    return rows / seconds if seconds > 0 else 0.0


def _in_fresh_process(fn: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        return pool.submit(fn, *args).result()


# --------------------------------------------------------------------------------------------
# PostgreSQL throwaway database
# --------------------------------------------------------------------------------------------


def _pg_problem(admin_url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(admin_url, connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)


def _create_database(admin_url: str) -> tuple[str, str]:
    import psycopg
    from psycopg import sql

    name = f"partsflow_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return name, urlunparse(urlparse(admin_url)._replace(path=f"/{name}"))


def _drop_database(admin_url: str, name: str) -> None:
    import psycopg
    from psycopg import sql

    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )


def skipped_run(kind: str, pg_admin_url: str) -> dict[str, Any] | None:
    """A run marked skipped (and said on stderr) when `kind` is postgres and the server is not
    reachable; None when the warehouse can run."""
    problem = _pg_problem(pg_admin_url) if kind == "postgres" else None
    if problem is None:
        return None
    note = f"PostgreSQL skipped: not reachable at {pg_admin_url}: {problem}"
    print(note, file=sys.stderr)
    return {"warehouse": kind, "status": "skipped", "note": note}


@contextmanager
def fresh_warehouse(kind: str, pg_admin_url: str) -> Iterator[str]:
    """The URL of an empty warehouse, removed afterwards: a DuckDB file in a temporary folder or
    a throwaway database on the PostgreSQL server at `pg_admin_url`."""
    if kind == "duckdb":
        with tempfile.TemporaryDirectory(prefix="partsflow-bench-") as tmp:
            yield f"duckdb:///{Path(tmp).resolve()}/bench.duckdb"
        return
    name, url = _create_database(pg_admin_url)
    try:
        yield url
    finally:
        _drop_database(pg_admin_url, name)


def fresh_warehouses(
    warehouses: tuple[str, ...], pg_admin_url: str
) -> Iterator[tuple[str, str | None, dict[str, Any] | None]]:
    """duckdb, then postgres, those picked: (kind, an empty warehouse's URL while the caller's loop
    body runs, None), or (kind, None, the skipped run) when PostgreSQL is not reachable."""
    for kind in ("duckdb", "postgres"):
        if kind not in warehouses:
            continue
        skipped = skipped_run(kind, pg_admin_url)
        if skipped:
            yield kind, None, skipped
            continue
        with fresh_warehouse(kind, pg_admin_url) as url:
            yield kind, url, None


# --------------------------------------------------------------------------------------------
# Targets, entry point, report
# --------------------------------------------------------------------------------------------


def _targets(run: dict[str, Any], scale: str) -> dict[str, dict[str, Any]]:
    """The issue sets the rates at m and the memory bound at l: `l` shows only the latter."""
    out: dict[str, dict[str, Any]] = {}
    tx_rate = run["transaction_rows_per_s"]
    rates = scale != "l"
    if rates and run["warehouse"] == "duckdb":
        out["transaction rows/s >= 1,000,000"] = {
            "value": tx_rate,
            "met": tx_rate >= DUCKDB_MIN_TX_ROWS_PER_S,
        }
        ratio = run["ratio"]
        out["ratio <= 3"] = {"value": ratio, "met": ratio is not None and ratio <= DUCKDB_MAX_RATIO}
    elif rates:
        out["transaction rows/s >= 150,000"] = {
            "value": tx_rate,
            "met": tx_rate >= POSTGRES_MIN_TX_ROWS_PER_S,
        }
    out["peak < 4 GB"] = {"value": run["peak_mb"], "met": run["peak_mb"] < MAX_PEAK_MB}
    return out


def bench_dataset(
    scale: str,
    config: GeneratorConfig | None,
    data_dir: Path | None,
    warehouses: tuple[str, ...],
    progress: bool,
) -> tuple[str, Path, dict[str, Any], bool]:
    """(data set name, its folder, its marker, whether it was generated now) for a benchmark:
    the preset `scale`, or `config` (then called "custom"); checks the warehouse names."""
    if config is None:
        if scale not in PRESETS:
            raise ValueError(f"unknown scale {scale!r}; presets: {', '.join(PRESETS)}")
        config, name = PRESETS[scale], scale
    else:
        name = "custom"
    unknown = set(warehouses) - {"duckdb", "postgres"}
    if unknown:
        raise ValueError(f"unknown warehouse(s): {', '.join(sorted(unknown))}")
    data_dir = Path(data_dir) if data_dir else env.PROJECT_ROOT / "data" / "bench" / name
    marker, generated = ensure_dataset(data_dir, config, progress=progress)
    return name, data_dir, marker, generated


def bench_ingest(
    scale: str = "m",
    data_dir: Path | None = None,
    pg_admin_url: str | None = None,
    progress: bool = True,
    config: GeneratorConfig | None = None,
    warehouses: tuple[str, ...] = ("duckdb", "postgres"),
) -> dict[str, Any]:
    """Benchmark the validated file ingest against a plain bulk copy; see the module docstring.

    `config` overrides the preset (the data set is then called "custom"); `warehouses` picks
    which of duckdb/postgres run. PostgreSQL is skipped with a note when unreachable.
    """
    name, data_dir, marker, generated = bench_dataset(scale, config, data_dir, warehouses, progress)
    expected_rows = sum(marker["rows"].values())

    admin = pg_admin_url or env.test_postgres_url()
    runs: list[dict[str, Any]] = []
    for kind, url, skipped in fresh_warehouses(warehouses, admin):
        runs.append(
            skipped
            or _in_fresh_process(
                _bench_warehouse, kind, url, str(data_dir), expected_rows, progress
            )
        )
    for run in runs:
        if run["status"] == "ok":
            run["targets"] = _targets(run, name)
            run["targets_met"] = all(t["met"] for t in run["targets"].values())
    done = [r for r in runs if r["status"] == "ok"]
    return {
        "scale": name,
        "config": marker["config"],
        "data_dir": str(data_dir),
        "generated": generated,
        "file_rows": marker["rows"],
        "file_bytes": marker.get("bytes"),
        "files": {e: len(marker["files"][e]) for e in ENTITY_ORDER},
        "warehouses": runs,
        "targets_met": bool(done) and all(r["targets_met"] for r in done),
    }


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def _table(header: list[str], rows: list[list[str]], left: int = 1) -> list[str]:
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:
        return "  ".join(
            c.ljust(w) if i < left else c.rjust(w)
            for i, (c, w) in enumerate(zip(cells, widths, strict=True))
        )

    return [line(header), "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def format_report(result: dict[str, Any]) -> str:
    """A readable summary of `bench_ingest`'s result."""
    cfg = result["config"]
    total_rows = sum(result["file_rows"].values())
    mb = (result.get("file_bytes") or 0) / 1e6
    out = [
        f"Ingest benchmark, scale {result['scale']} ({cfg['parts']:,} parts x "
        f"{cfg['locations']:,} locations x {cfg['days']:,} days, seed {cfg['seed']}, "
        f"dirty_rate {cfg['dirty_rate']})",
        f"Data: {result['data_dir']} ({sum(result['files'].values())} files, {total_rows:,} rows, "
        f"{result['file_rows'].get(TX, 0):,} transaction rows, {mb:,.0f} MB; "
        f"{'generated now' if result['generated'] else 'reused'})",
        "",
    ]
    header = [
        "warehouse",
        "rows",
        "seconds",
        "rows/s",
        "tx rows/s",
        "copy rows/s",
        "ratio",
        "peak MB",
        "targets",
    ]
    rows = []
    notes = []
    for run in result["warehouses"]:
        if run["status"] != "ok":
            rows.append([run["warehouse"], *["-"] * 7, "skipped"])
            notes.append(run["note"])
            continue
        rows.append(
            [
                run["warehouse"],
                _num(run["rows"]),
                _num(run["seconds"], 1),
                _num(run["rows_per_s"]),
                _num(run["transaction_rows_per_s"]),
                _num(run["plain_copy_rows_per_s"]),
                _num(run["ratio"], 2),
                _num(run["peak_mb"]),
                "met" if run["targets_met"] else "NOT met",
            ]
        )
    out += _table(header, rows)
    out += ["", "Targets:"]
    for run in result["warehouses"]:
        for name, t in run.get("targets", {}).items():
            digits = 2 if name.startswith("ratio") else 0
            mark = "ok  " if t["met"] else "MISS"
            out.append(f"  [{mark}] {run['warehouse']:<8} {name:<32} {_num(t['value'], digits)}")
    out += [f"  {n}" for n in notes]
    engines = {r["warehouse"]: r["engine"] for r in result["warehouses"] if r.get("engine")}
    if engines:
        line = ", ".join(f"{w} {e}" for w, e in engines.items())
        out += ["", f"Ingest engine source (sha256 prefix): {line}"]
        if len(set(engines.values())) > 1:
            out.append("  NOTE: the engine changed between the warehouse runs.")

    for run in result["warehouses"]:
        if run["status"] != "ok":
            continue
        load = run.get("load_average") or [None, None]
        out += [
            "",
            f"{run['warehouse']}: per entity (setup {run['setup_seconds']:.2f} s; 1-min load "
            f"average {_num(load[0], 2)} before, {_num(load[1], 2)} after on "
            f"{os.cpu_count()} CPUs)",
        ]
        ent_rows = []
        for entity, e in run["entities"].items():
            ent_rows.append(
                [
                    entity,
                    str(e["files"]),
                    _num(e["rows_read"]),
                    _num(e["rows_loaded"]),
                    _num(e["rows_quarantined"]),
                    _num(e["rows_in_table"]),
                    _num(e["seconds"], 2),
                    _num(e["hash_seconds"], 2),
                    _num(e["rows_per_s"]),
                ]
            )
        out += _table(
            [
                "entity",
                "files",
                "read",
                "loaded",
                "quarantined",
                "in table",
                "seconds",
                "hash s",
                "rows/s",
            ],
            ent_rows,
        )
        if run.get("quarantine_reasons"):
            reasons = ", ".join(f"{e}/{r} {n:,}" for e, r, n in run["quarantine_reasons"])
            out.append(f"quarantined by reason: {reasons}")
        tx = run["entities"].get(TX)
        trend = _trend(tx["per_file"]) if tx else None
        if trend:
            out.append(
                "transaction rows/s per file as raw.transactions grows: first {n} files {a:,.0f}, "
                "last {n} files {b:,.0f}".format(**trend)
            )
        stmts = run["statements"].get(TX, {})
        if tx and tx["seconds"] > 0:
            out += [
                "",
                f"{run['warehouse']}: where the {tx['seconds']:.2f} s of transaction ingest go "
                f"({tx['files']} files; plain copy {run['plain_copy_seconds']:.2f} s for "
                f"{run['plain_copy_rows']:,} rows)",
            ]
            st_rows = []
            accounted = 0.0
            for label, s in list(stmts.items())[:12]:
                st_rows.append(
                    [label, str(s["calls"]), _num(s["seconds"], 2), _pct(s["seconds"], tx)]
                )
            accounted = sum(s["seconds"] for s in stmts.values())
            st_rows.append(
                [
                    "waiting for file_hash (sha256)",
                    str(tx["files"]),
                    _num(tx["hash_seconds"], 2),
                    _pct(tx["hash_seconds"], tx),
                ]
            )
            other = tx["seconds"] - tx["hash_seconds"] - accounted
            what = "waits, commit, Python; negative when judging overlaps storing"
            if run["warehouse"] == "postgres":
                what = "COPY stage, " + what
            st_rows.append([f"other ({what})", "", _num(other, 2), _pct(other, tx)])
            out += _table(["statement", "calls", "seconds", "share"], st_rows)
    return "\n".join(out)


def _timed(items: Iterator[Any], stats: dict[str, Any]) -> Iterator[Any]:
    """`items`, adding the time spent waiting for each to stats["hash_seconds"]."""
    while True:
        t0 = time.perf_counter()
        item = next(items, None)
        stats["hash_seconds"] += time.perf_counter() - t0
        if item is None:
            return
        yield item


def _trend(per_file: list[list[float]], n: int = 6) -> dict[str, float] | None:
    if len(per_file) < 2 * n:
        n = len(per_file) // 2
    if n < 1:
        return None

    def rate(chunk: list[list[float]]) -> float:
        return _rate(int(sum(r for r, _ in chunk)), sum(s for _, s in chunk))

    return {"n": n, "a": rate(per_file[:n]), "b": rate(per_file[-n:])}


def _pct(seconds: float, tx: dict[str, Any]) -> str:
    return f"{100 * seconds / tx['seconds']:.1f}%"


def main(argv: list[str] | None = None) -> None:
    """`python -m orchestration.bench --scale m [--data-dir D]` (the CLI wires the same call)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", default="m", choices=sorted(PRESETS))
    parser.add_argument("--data-dir", type=Path, default=None)
    parser.add_argument("--pg-admin-url", default=None)
    parser.add_argument("--no-progress", action="store_true")
    parser.add_argument("--json", type=Path, default=None, help="Also write the result here.")
    args = parser.parse_args(argv)
    result = bench_ingest(
        args.scale, args.data_dir, args.pg_admin_url, progress=not args.no_progress
    )
    print(format_report(result))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2, default=str))


if __name__ == "__main__":
    main()
