"""`make demo WAREHOUSE=postgres` selects PostgreSQL for the warehouse (dbt target and dashboard
follow the URL) and for Dagster's storage, and `partsflow materialize` creates the database."""

from __future__ import annotations

import os
import subprocess
import uuid

import psycopg
import pytest
from psycopg import sql

from orchestration import env
from orchestration.warehouse import create_database_if_missing

DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/partsflow"


def _make_config(*args: str) -> dict[str, str]:
    clean = {
        k: v
        for k, v in os.environ.items()
        if k not in ("PARTSFLOW_WAREHOUSE_URL", "PARTSFLOW_DAGSTER_PG_URL", "MAKEFLAGS")
    }
    done = subprocess.run(
        ["make", "-s", "--no-print-directory", "warehouse-config", *args],
        cwd=env.PROJECT_ROOT,
        env=clean,
        capture_output=True,
        text=True,
        check=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.splitlines() if "=" in line)


def test_make_selects_postgres_for_the_warehouse_and_dagster(tmp_path, monkeypatch):
    assert _make_config() == {"PARTSFLOW_WAREHOUSE_URL": "", "PARTSFLOW_DAGSTER_PG_URL": ""}
    chosen = _make_config("WAREHOUSE=postgres")
    assert chosen == {"PARTSFLOW_WAREHOUSE_URL": DEFAULT_PG, "PARTSFLOW_DAGSTER_PG_URL": DEFAULT_PG}
    other = "postgresql://pf@db.internal:5433/pf"
    assert set(_make_config("WAREHOUSE=postgres", f"PG_URL={other}").values()) == {other}

    # What the targets then run with: dbt's postgres target, and Dagster's storage in PostgreSQL.
    for name, value in chosen.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("DAGSTER_HOME", str(tmp_path / "home"))
    assert env.warehouse().kind == "postgres"
    assert env.warehouse().dbt_env()["PARTSFLOW_DBT_TARGET"] == "postgres"
    assert env.warehouse().dbt_env()["PARTSFLOW_PG_DATABASE"] == "partsflow"
    home = env.ensure_dagster_home()
    assert (home / "dagster.yaml").read_text() == env.DAGSTER_PG_TEMPLATE.read_text()


@pytest.mark.postgres
def test_a_missing_warehouse_database_is_created_once(require_postgres):
    name = f"partsflow_mode_{uuid.uuid4().hex[:10]}"
    admin = env.test_postgres_url()
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    try:
        assert create_database_if_missing(url) is True
        assert create_database_if_missing(url) is False
        with psycopg.connect(url) as conn:
            assert conn.execute("select current_database()").fetchone() == (name,)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            drop = sql.SQL("drop database if exists {} with (force)").format(sql.Identifier(name))
            conn.execute(drop)
