"""Shared fixtures: throwaway PostgreSQL databases, skip-or-fail when no server is reachable."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from psycopg import sql

from orchestration import env


def _server_reachable() -> str | None:
    try:
        with psycopg.connect(env.test_postgres_url(), connect_timeout=3):
            return None
    except psycopg.OperationalError as exc:
        return str(exc).strip()


@pytest.fixture(scope="session")
def require_postgres() -> None:
    """Skip when no PostgreSQL server answers, or fail when PARTSFLOW_REQUIRE_POSTGRES is set."""
    problem = _server_reachable()
    if problem is None:
        return
    message = f"PostgreSQL not reachable at {env.test_postgres_url()}: {problem}"
    if env.require_postgres():
        pytest.fail(message)
    pytest.skip(message)


@pytest.fixture
def pg_database_url(require_postgres: None) -> Iterator[str]:
    """URL of a fresh empty database, dropped after the test."""
    name = f"partsflow_test_{uuid.uuid4().hex[:12]}"
    admin = env.test_postgres_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parsed = urlparse(admin)
    try:
        yield urlunparse(parsed._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
