"""The shared generated-world fixture builds every mart on both warehouses."""

from __future__ import annotations

import pytest

from orchestration import env
from orchestration.warehouse import connect


def _mart_tables(url: str) -> set[str]:
    with connect(env.Warehouse(url)) as conn:
        return set(conn.tables_in("marts"))


def test_duckdb_world_has_marts(marts_duckdb):
    assert {"fct_daily_demand", "fct_inventory_position"} <= _mart_tables(marts_duckdb)


@pytest.mark.postgres
def test_postgres_world_has_the_same_marts(marts_duckdb, marts_postgres):
    assert _mart_tables(marts_postgres) == _mart_tables(marts_duckdb)
