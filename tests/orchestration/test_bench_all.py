"""`partsflow bench all` smoke test: the `demo` preset's pipeline with the smallest reference
settings; the report and its charts exist and hold every stage with numbers (`make bench
SCALE=demo` runs the same pipeline with the full reference settings: about 8 minutes)."""

from __future__ import annotations

import json
import re

from orchestration.bench_all import Settings, bench_all
from orchestration.bench_all_report import write_report
from orchestration.bench_all_tasks import PIPELINE_STAGES

SMALLEST = Settings(
    reference_pairs=10, reference_rows=150, forecast_series=30, quick_grid=True, holdout_days=56
)
NUMBER = r"[\d,]+(\.\d+)?"


# The smoke run of `make bench SCALE=demo` in CI. Every stage is a fresh process importing Dagster
# and the marts stage is a whole dbt build: about 3-4 minutes (it starts first).
def test_bench_all_writes_report_and_charts(tmp_path) -> None:
    result = bench_all("demo", "duckdb", SMALLEST, data_dir=tmp_path / "landing", progress=False)
    path = write_report(result, tmp_path / "bench")
    assert path.name == "report-demo.md"
    assert result["config"]["parts"] == 300 and result["config"]["locations"] == 8
    text = path.read_text()

    for stage in PIPELINE_STAGES:
        # stage | wall s | peak MB | rows | rows/s: all numbers, and the stage's peak is its own
        row = re.search(
            rf"^\| {stage} \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \| ({NUMBER}) \|", text, re.M
        )
        assert row, f"no numbers for pipeline stage {stage}"
        assert result["stages"][stage]["seconds"] > 0 and result["stages"][stage]["peak_mb"] > 20
    for stage in ("ingest", "features", "train", "score", "policy", "dashboard"):
        assert re.search(rf"^\| {stage} \| .*\d", text, re.M), f"no side-by-side row {stage}"
    for metric in ("RMSE", "bias", "quantile loss", "interval coverage"):
        assert re.search(rf"^\| {metric}[^|]* \| [+-]?{NUMBER}%? \| [+-]?{NUMBER}%? \|", text, re.M)
    assert len(re.findall(r"\*\*(PASS|MISS)\*\*", text)) == 6
    assert "whole pipeline" in text and "extrapolated" in text

    for chart in ("stages", "reference", "accuracy"):
        png = tmp_path / "bench" / f"report-demo-{chart}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and f"({png.name})" in text
    raw = json.loads((tmp_path / "bench" / "report-demo.json").read_text())
    assert raw["counts"]["ml.fct_forecasts"] > 0 and raw["counts"]["published"] > 0


def test_a_stage_peak_is_the_sum_of_processes_running_side_by_side(tmp_path) -> None:
    """Three children of the child hold 300 MB each at once: the stage's peak counts all three,
    not only the largest (which is all os.wait4 reports)."""
    import os
    import sys

    from orchestration.bench_all import run_child

    hold = "import time; block = bytearray(300 * 2**20); time.sleep(3)"
    spawn = (
        "import subprocess, sys; "
        f"ps = [subprocess.Popen([sys.executable, '-c', {hold!r}]) for _ in range(3)]; "
        "[p.wait() for p in ps]"
    )
    out = run_child([sys.executable, "-c", spawn], dict(os.environ), tmp_path / "log")
    assert out["returncode"] == 0
    assert 900 < out["peak_mb"] < 1400, out


def test_pages_a_forked_child_shares_with_its_parent_count_once(tmp_path) -> None:
    """A forked child holding its parent's 600 MB (copy-on-write): the stage's peak counts them
    once (proportional set sizes), not twice as a sum of resident set sizes would."""
    import os
    import sys

    from orchestration.bench_all import run_child

    hold = (
        "import os, time; block = bytearray(600 * 2**20); pid = os.fork(); time.sleep(4); "
        "os._exit(0) if pid == 0 else os.waitpid(pid, 0)"
    )
    out = run_child([sys.executable, "-c", hold], dict(os.environ), tmp_path / "log")
    assert out["returncode"] == 0
    assert 600 < out["peak_mb"] < 900, out
