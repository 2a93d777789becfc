"""Location groups: the static partitions the heavy ML assets fan out over.

`PARTSFLOW_LOCATION_GROUPS` (N, default 4) gives the keys `lg1`..`lgN`. A location belongs to
group `lg{crc32(location_id) mod N + 1}`: stable across runs, processes and machines (Python's
own `hash` is salted per process), and computed here in Python. A group's location ids reach SQL
only as one array parameter (`IN_GROUP`), never pasted into the text.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable

import dagster as dg

from orchestration import env
from orchestration.warehouse import Connection

PREFIX = "lg"


def in_group(column: str = "location_id") -> str:
    """`column` is one of the group's location ids, bound as one text array parameter (same SQL
    on DuckDB and PostgreSQL); `column` is a constant from code."""
    return f"CAST({column} AS TEXT) = ANY(CAST(? AS TEXT[]))"


IN_GROUP = in_group()


def group_keys(groups: int) -> list[str]:
    return [f"{PREFIX}{i}" for i in range(1, groups + 1)]


location_groups = dg.StaticPartitionsDefinition(group_keys(env.location_groups()))


def group_index(location_id: str, groups: int | None = None) -> int:
    """0-based number of the location's group: crc32 of its id, modulo the number of groups."""
    n = groups or len(location_groups.get_partition_keys())
    return zlib.crc32(str(location_id).encode()) % n


def group_of(location_id: str, groups: int | None = None) -> str:
    """The group key of a location (`lg` + 1-based group number)."""
    return f"{PREFIX}{group_index(location_id, groups) + 1}"


def group_members(conn: Connection, group: str, tables: Iterable[str]) -> list[str]:
    """The distinct location ids of these tables (constant names from code) in the group."""
    tables = [t for t in tables if conn.table_exists(*t.split("."))]
    if not tables:
        return []
    union = " union ".join(f"select distinct location_id from {t}" for t in tables)
    ids = {str(row[0]) for row in conn.fetchall(union)}
    return sorted(i for i in ids if group_of(i) == group)
