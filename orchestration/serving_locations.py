"""Location ids the dashboard can show, read from what was published (for demo users)."""

from __future__ import annotations

import duckdb

from orchestration import env
from orchestration.warehouse import connect

SQL = (
    "select distinct cast(location_id as text) as location_id"
    " from marts.fct_inventory_position order by 1"
)


def published_location_ids() -> list[str]:
    """Sorted location ids of the served marts; empty when nothing is published yet."""
    wh = env.warehouse()
    if wh.is_duckdb:
        path = env.serving_duckdb_path()
        if not path.is_file():
            return []
        with duckdb.connect(str(path), read_only=True) as con:
            return [r[0] for r in con.execute(SQL).fetchall()]
    with connect(wh) as conn:
        if not conn.table_exists("marts", "fct_inventory_position"):
            return []
        return [r[0] for r in conn.fetchall(SQL)]
