"""Fixtures for the dbt tests.

`require_postgres` (skip when no server answers, FAIL when PARTSFLOW_REQUIRE_POSTGRES=1) and the
function-scoped `pg_database_url` come from tests/conftest.py. The dbt tests build the warehouse
once per module, so they need a module-scoped throwaway database of their own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from psycopg import sql

from orchestration import env


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
