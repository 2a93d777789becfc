"""Fixtures for the dbt tests.

`require_postgres` (skip when no server answers, FAIL when PARTSFLOW_REQUIRE_POSTGRES=1) and the
function-scoped `pg_database_url` come from tests/conftest.py. The dbt tests build the warehouse
once per module, so they need a module-scoped throwaway database of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from psycopg import sql

from orchestration import env
from orchestration.generator import GeneratorConfig, generate_landing
from tests.orchestration.pipeline_helpers import materialize_all


@pytest.fixture(scope="module")
def dbt_pg_database_url(require_postgres: None) -> Iterator[str]:
    """URL of a fresh empty database `partsflow_dbt_test_<random>`, dropped after the module."""
    name = f"partsflow_dbt_test_{uuid.uuid4().hex[:12]}"
    admin = env.test_postgres_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urlunparse(urlparse(admin)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


# A small generated world, materialized once per session on each warehouse, for the mart tests that
# recompute KPIs independently from the landing files. 420 days so that trailing-365-day KPIs and
# the 364-day lag have history; no dirty rows, so every landing row is a clean row.
MARTS_CONFIG = GeneratorConfig(parts=30, locations=4, days=420, seed=7)


@pytest.fixture(scope="session")
def marts_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing zone generated from MARTS_CONFIG (read it with tests.orchestration.expected)."""
    out = tmp_path_factory.mktemp("marts_landing")
    generate_landing(out, MARTS_CONFIG)
    return out


def _materialized(url: str, landing: Path, serving: Path) -> str:
    result = materialize_all(url, landing, serving)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return url


@pytest.fixture(scope="session")
def marts_duckdb(marts_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Warehouse URL of a DuckDB file holding the whole pipeline materialized on marts_landing."""
    root = tmp_path_factory.mktemp("marts_duck")
    return _materialized(f"duckdb:///{root}/warehouse.duckdb", marts_landing, root / "serving")


@pytest.fixture(scope="session")
def marts_postgres(
    require_postgres: None, marts_landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Warehouse URL of a throwaway PostgreSQL database with the same materialization."""
    name = f"partsflow_marts_test_{uuid.uuid4().hex[:12]}"
    admin = env.test_postgres_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    url = urlunparse(urlparse(admin)._replace(path=f"/{name}"))
    try:
        yield _materialized(url, marts_landing, tmp_path_factory.mktemp("marts_pg") / "serving")
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
