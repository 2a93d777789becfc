"""Fixtures for the dbt tests.

`require_postgres`, the function-scoped `pg_database_url` and the shared generated world
(`marts_landing`, `marts_duckdb`, `marts_postgres`) come from tests/conftest.py. The dbt tests
build the warehouse once per module, so they need a module-scoped throwaway database of their own.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.conftest import throwaway_database


@pytest.fixture(scope="module")
def dbt_pg_database_url(require_postgres: None) -> Iterator[str]:
    """URL of a fresh empty database `partsflow_dbt_test_<random>`, dropped after the module."""
    with throwaway_database("partsflow_dbt_test") as url:
        yield url
