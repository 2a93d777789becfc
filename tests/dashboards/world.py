"""Helpers for the dashboard tests on the shared materialized world (tests/conftest.py)."""

from __future__ import annotations

import shutil
from pathlib import Path

import bcrypt
import duckdb
import pytest

from dashboards.users import User, write_users
from orchestration import env
from tests.conftest import serving_dir
from tests.dashboards.conftest import PASSWORD

# Stand-ins with rows for every location, written into a copy of the world's serving file so the
# generic drawing and the location scope of those pages are exercised on known rows.
EXTRA_TABLES = {
    "ml.fct_reorder_recommendations": (
        "part_id TEXT, location_id TEXT, status TEXT, reorder_point DOUBLE, safety_stock DOUBLE,"
        " order_qty BIGINT, projected_stockout_date DATE, reason TEXT"
    ),
    "ml.mart_policy_simulation": (
        "location_id TEXT, policy TEXT, service_level DOUBLE, inventory_value DOUBLE,"
        " stockout_days BIGINT"
    ),
    "marts.alert_notifications": "alert_id TEXT, location_id TEXT, channel TEXT, sent_at TIMESTAMP",
}


def world_locations(url: str) -> list[str]:
    with duckdb.connect(str(serving_dir(url) / "serving.duckdb"), read_only=True) as con:
        sql = "select distinct location_id from marts.fct_inventory_position order by 1"
        return [r[0] for r in con.execute(sql).fetchall()]


def use_world_copy(url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A private copy of the world's serving file (tests may change it), set as the served one."""
    target = tmp_path / "serving"
    target.mkdir()
    shutil.copy(serving_dir(url) / "serving.duckdb", target / "serving.duckdb")
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(target))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", url)
    return target / "serving.duckdb"


def add_extra_tables(path: Path) -> None:
    """Rows for every location in each EXTRA_TABLES table (two statuses, two policies)."""
    with duckdb.connect(str(path)) as con:
        pairs = con.execute(
            "select part_id, location_id from marts.fct_inventory_position order by 1, 2"
        ).fetchall()
        for table, columns in EXTRA_TABLES.items():
            # Stand-ins replace the real tables in this private copy: known rows per location.
            con.execute(f"drop table if exists {table}")
            con.execute(f"create table {table} ({columns})")
        for i, (part, loc) in enumerate(pairs):
            status = ("order_now", "order_soon", "ok")[i % 3]
            con.execute(
                "insert into ml.fct_reorder_recommendations values"
                " (?, ?, ?, 10, 4, 12, DATE '2026-01-01', 'test')",
                [part, loc, status],
            )
        for loc in sorted({loc for _, loc in pairs}):
            for policy, level, value in (("static", 0.9, 1000.0), ("partsflow", 0.95, 800.0)):
                con.execute(
                    "insert into ml.mart_policy_simulation values (?, ?, ?, ?, 3)",
                    [loc, policy, level, value],
                )
            con.execute(
                "insert into marts.alert_notifications values ('a', ?, 'email', now())", [loc]
            )


def write_world_users(path: Path, locations: list[str]) -> list[User]:
    """One user per role; the scoped ones see the world's first location only."""
    own = (locations[0],)
    users = [
        User("admin", "Ada Admin", "admin", None),
        User("executive", "Eve Executive", "executive", None),
        User("manager", "Max Manager", "manager", own),
        User("planner", "Pat Planner", "planner", None),
        User("warehouse", "Walt Warehouse", "warehouse", own),
        User("technician", "Tess Technician", "technician", own),
    ]
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    write_users(path, [(u, hashed) for u in users])
    return users


def warehouse_path(url: str) -> Path:
    return env.Warehouse(url).duckdb_path
