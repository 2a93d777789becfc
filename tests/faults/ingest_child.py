"""Child process of test_concurrent_runs: the ingest assets on a landing zone, outcome as JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from tests.orchestration.ingest_helpers import run_ingest


def main(warehouse_url: str, landing: str) -> None:
    result = run_ingest(warehouse_url, Path(landing))
    failures = [
        e.step_failure_data.error.to_string()  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    ]
    print(json.dumps({"ok": result.success, "errors": failures}))


if __name__ == "__main__":
    main(*sys.argv[1:3])
