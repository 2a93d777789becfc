"""A PostgreSQL server of the test's own (initdb into a temp folder, a free port, trust auth), so a
test may stop and restart it. The shared server on 5432 is never touched."""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest

from orchestration import env


def _bin_dir() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres() -> tuple[Callable[[], None] | None, int | None]:
    """initdb refuses root: run the server as the `postgres` user then."""
    if os.geteuid() != 0:
        return None, None
    user = pwd.getpwnam("postgres")

    def drop() -> None:
        os.setgroups([])
        os.setgid(user.pw_gid)
        os.setuid(user.pw_uid)

    return drop, user.pw_uid


class PostgresInstance:
    def __init__(self, bin_dir: Path, root: Path, port: int, preexec) -> None:
        self.bin_dir, self.root, self.port, self._preexec = bin_dir, root, port, preexec
        self.data = root / "data"

    def _run(self, *args: str) -> None:
        done = subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            preexec_fn=self._preexec,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if done.returncode != 0:
            raise RuntimeError(f"{' '.join(args)} failed: {done.stderr or done.stdout}")

    def init(self) -> None:
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c shared_buffers=32MB -c max_connections=30"
        )
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "log"),
            "-o",
            options,
            "-w",
            "start",
        )

    def stop(self, mode: str = "immediate") -> None:
        """`immediate` is a crash: no checkpoint, open transactions die with their connections."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def url(self, dbname: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{dbname}"

    def create_database(self, name: str) -> str:
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f'create database "{name}"')
        return self.url(name)


@contextmanager
def dedicated_postgres() -> Iterator[PostgresInstance]:
    bin_dir = _bin_dir()
    if bin_dir is None:
        message = "no /usr/lib/postgresql/*/bin/initdb for a dedicated PostgreSQL instance"
        if env.require_postgres():
            pytest.fail(message)
        pytest.skip(message)
    preexec, uid = _as_postgres()
    # Not under pytest's tmp folder: the server's user must be able to reach its data folder.
    root = Path(tempfile.mkdtemp(prefix="partsflow_pg_"))
    if uid is not None:
        os.chown(root, uid, -1)
    instance = PostgresInstance(bin_dir, root, _free_port(), preexec)
    try:
        instance.init()
        instance.start()
        yield instance
    finally:
        with contextlib.suppress(RuntimeError):  # already stopped
            instance.stop("fast")
        shutil.rmtree(root, ignore_errors=True)
