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

# The world runs without a notification channel, so ops.recent_notifications is published empty:
# a row per location goes into the real table (named columns: a renamed one breaks the tests).
NOTIFICATION_COLUMNS = (
    "alert_id, location_id, event, channel, alert_type, severity, status, attempts, created_at"
)


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
    """One sent notification per location in the copy's real ops.recent_notifications; the
    recommendations and the policy simulation are the world's own (real) tables."""
    with duckdb.connect(str(path)) as con:
        locations = con.execute(
            "select distinct location_id from marts.fct_inventory_position order by 1"
        ).fetchall()
        for i, (loc,) in enumerate(locations):
            con.execute(
                f"insert into ops.recent_notifications ({NOTIFICATION_COLUMNS}) values"
                " (?, ?, 'opened', 'email', 'stockout', 'critical', 'sent', 1, now())",
                [f"alert-{i}", loc],
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
