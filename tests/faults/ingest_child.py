"""Child processes of test_concurrent_runs: each runs the ingest assets on a landing zone in a
process of its own (its own DuckDB instance, so the file lock is contended for real), forked from a
fork server that imported Dagster, the ingest code and Great Expectations once: paying those imports
in every child cost most of the test's time."""

from __future__ import annotations

import json
import multiprocessing
import os
from multiprocessing.process import BaseProcess
from pathlib import Path

from tests.orchestration.ingest_helpers import run_ingest

# What the fork server imports before it forks any child: this module (Dagster and the ingest code)
# and the suite check's Great Expectations, which the test process itself never needs.
PRELOAD = [__name__, "great_expectations"]


def _ingest(url: str, landing: str, log: str, outcome: str, environ: dict[str, str]) -> None:
    """The child: the test's environment, stdout and stderr (where the ingest logs its waits) into
    `log`, the outcome as JSON into `outcome`."""
    os.environ.clear()
    os.environ.update(environ)
    with open(log, "a") as out:
        os.dup2(out.fileno(), 1)
        os.dup2(out.fileno(), 2)
    result = run_ingest(url, Path(landing))
    failures = [
        e.step_failure_data.error.to_string()  # type: ignore[union-attr]
        for e in result.all_events
        if e.is_step_failure and e.step_failure_data.error is not None
    ]
    Path(outcome).write_text(json.dumps({"ok": result.success, "errors": failures}))


def start(
    url: str, landing: Path, log: Path, outcome: Path, environ: dict[str, str]
) -> BaseProcess:
    """A new process running the ingest of `landing` into `url`; it writes `outcome` when done."""
    context = multiprocessing.get_context("forkserver")
    # Only takes effect when the fork server starts (once per test process); the modules are found
    # from the project root, the current folder of every test run (else each child imports them).
    context.set_forkserver_preload(PRELOAD)
    log.write_text("")  # there before the child starts: the test reads it while waiting
    child = context.Process(
        target=_ingest, args=(url, str(landing), str(log), str(outcome), environ)
    )
    child.start()
    return child
