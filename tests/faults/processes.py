"""Faults put on one child process or one folder only, never on pytest itself or on the shared
PostgreSQL server: a full disk, a folder nobody may write."""

from __future__ import annotations

import os
import resource
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from orchestration import env


@contextmanager
def unwritable(folder: Path) -> Iterator[None]:
    """`folder` refuses new files and renames, even to root (who ignores permission bits): the
    immutable attribute then, a read-only mode otherwise."""
    if os.geteuid() == 0:
        done = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, text=True)
        if done.returncode != 0:
            pytest.skip(f"cannot make a folder immutable here: {done.stderr.strip()}")
        try:
            yield
        finally:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
    else:
        folder.chmod(0o555)
        try:
            yield
        finally:
            folder.chmod(0o755)


def file_size_limit(max_bytes: int) -> Callable[[], None]:
    """The child's writes stop at `max_bytes` per file with EFBIG, as on a full disk (a mounted
    small filesystem would need privileges CI may not have)."""

    def limit() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (max_bytes, max_bytes))

    return limit


def run_module(
    module: str, *args: str, preexec: Callable[[], None] | None = None, home: Path | None = None
) -> subprocess.CompletedProcess[str]:
    """`python -m module args` from the project root with the test's environment."""
    child_env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    if home is not None:
        child_env["HOME"] = str(home)
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        cwd=env.PROJECT_ROOT,
        env=child_env,
        preexec_fn=preexec,
        capture_output=True,
        text=True,
        timeout=300,
    )
