"""`partsflow bench dashboard`: each dashboard page rendered with AppTest, cold and warm.

Cold = empty Streamlit caches (data and connection) and a fresh session; warm = the same page
rerun in that session. Targets at the `m` scale: < 3 s cold, < 1 s warm. The pages read a
published serving copy: pass `--serving-dir` to time an existing one, otherwise the preset is
generated (reused when already there) and materialized once with `partsflow materialize`.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from orchestration import env
from orchestration.bench import bench_dataset

COLD_TARGET_S = 3.0
WARM_TARGET_S = 1.0
APP = env.PROJECT_ROOT / "dashboards" / "streamlit_app.py"
ADMIN = {"username": "bench", "name": "Bench", "role": "admin", "locations": []}


def _published(scale: str, progress: bool) -> tuple[Path, str]:
    """(serving dir, warehouse URL) of the preset's full pipeline, materialized once."""
    _, landing, marker, _ = bench_dataset(scale, None, None, ("duckdb",), progress)
    root = landing.parent / f"{landing.name}-dashboard"
    serving, warehouse = root / "serving", root / "warehouse.duckdb"
    stamp = root / "materialized-from.txt"
    url = f"duckdb:///{warehouse}"
    fresh = (
        stamp.is_file()
        and stamp.read_text() == str(marker)
        and (serving / "serving.duckdb").is_file()
    )
    if not fresh:
        root.mkdir(parents=True, exist_ok=True)
        if progress:
            print(f"Materializing {landing} into {root} ...", file=sys.stderr)
        run_env = {
            **os.environ,
            "PARTSFLOW_LANDING_DIR": str(landing),
            "PARTSFLOW_WAREHOUSE_URL": url,
            "PARTSFLOW_SERVING_DIR": str(serving),
            "PARTSFLOW_MODEL_STORE": str(root / "models"),
            "DAGSTER_HOME": str(root / "dagster_home"),
        }
        cli = Path(sys.executable).parent / "partsflow"
        subprocess.run([str(cli), "materialize"], env=run_env, check=True)
        stamp.write_text(str(marker))
    return serving, url


def _render(key: str, path: str) -> tuple[float, float, str | None]:
    """(cold seconds, warm seconds, first exception) of one page."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    st.cache_data.clear()
    st.cache_resource.clear()
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["user"] = ADMIN
    at.run()  # lands on the default page; the timed runs below are of `key` only
    at.switch_page(path)
    st.cache_data.clear()
    st.cache_resource.clear()
    start = time.perf_counter()
    at.run()
    cold = time.perf_counter() - start
    start = time.perf_counter()
    at.run()
    warm = time.perf_counter() - start
    error = at.exception[0].message if at.exception else None
    return cold, warm, error


def bench_dashboard(
    scale: str = "m", serving_dir: Path | None = None, progress: bool = True
) -> dict[str, Any]:
    from dashboards.pages_index import PAGES

    if serving_dir is None:
        serving_dir, url = _published(scale, progress)
    else:
        url = f"duckdb:///{Path(serving_dir).resolve()}/unused-warehouse.duckdb"
    os.environ["PARTSFLOW_SERVING_DIR"] = str(serving_dir)
    os.environ["PARTSFLOW_WAREHOUSE_URL"] = url
    pages = []
    for page in PAGES:
        cold, warm, error = _render(page.key, page.path)
        pages.append({"page": page.key, "cold_s": cold, "warm_s": warm, "error": error})
    label = scale if url.endswith("/warehouse.duckdb") else "given serving copy"
    return {"scale": label, "serving_dir": str(serving_dir), "pages": pages}


def format_report(report: dict[str, Any]) -> str:
    lines = [
        f"Dashboard pages ({report['scale']}; {report['serving_dir']}); targets: cold <"
        f" {COLD_TARGET_S:g} s, warm < {WARM_TARGET_S:g} s",
        f"{'page':<15}{'cold s':>8}{'warm s':>8}  verdict",
    ]
    for p in report["pages"]:
        ok = p["cold_s"] < COLD_TARGET_S and p["warm_s"] < WARM_TARGET_S and not p["error"]
        verdict = "ok" if ok else ("ERROR " + p["error"][:60] if p["error"] else "SLOW")
        lines.append(f"{p['page']:<15}{p['cold_s']:>8.2f}{p['warm_s']:>8.2f}  {verdict}")
    uptime = subprocess.run(["uptime"], capture_output=True, text=True, check=False).stdout
    lines.append(f"uptime: {uptime.strip()}")
    return "\n".join(lines)
