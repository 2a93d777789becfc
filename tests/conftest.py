"""Shared fixtures: throwaway PostgreSQL databases (skip-or-fail when no server is reachable) and
the generated world materialized once per session on each warehouse."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import psycopg
import pytest
from psycopg import sql

from orchestration import env
from orchestration.generator import GeneratorConfig, generate_landing
from tests.orchestration.pipeline_helpers import materialize_all


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


@contextmanager
def throwaway_database(
    prefix: str = "partsflow_test", template: str | None = None
) -> Iterator[str]:
    """URL of a new database `<prefix>_<random>` (a copy of `template` if given), dropped after."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    admin = env.test_postgres_url()
    create = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
    if template is not None:
        create += sql.SQL(" TEMPLATE {}").format(sql.Identifier(template))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(create)
    try:
        yield urlunparse(urlparse(admin)._replace(path=f"/{name}"))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


@contextmanager
def copy_of_world(world: str, url: str, tmp_path: Path) -> Iterator[str]:
    """URL of a throwaway copy of a materialized world's warehouse (`marts_duckdb` or
    `marts_postgres`), for tests that write to it."""
    if world == "marts_duckdb":
        shutil.copy(env.Warehouse(url).duckdb_path, tmp_path / "warehouse.duckdb")
        yield f"duckdb:///{tmp_path}/warehouse.duckdb"
        return
    with throwaway_database("partsflow_copy", template=env.Warehouse(url).pg["dbname"]) as copy:
        yield copy


@pytest.fixture
def pg_database_url(require_postgres: None) -> Iterator[str]:
    """URL of a fresh empty database, dropped after the test."""
    with throwaway_database() as url:
        yield url


# A small generated world, materialized once per session on each warehouse, for the mart and
# pipeline tests that recompute KPIs independently from the landing files. 420 days so that
# trailing-365-day KPIs and the 364-day lag have history; no dirty rows, so every landing row is a
# clean row.
MARTS_CONFIG = GeneratorConfig(parts=30, locations=4, days=420, seed=7)
SMALL_WORLD = GeneratorConfig(parts=12, locations=2, days=75, seed=5, dirty_rate=0.02)


@pytest.fixture(scope="module")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A small, slightly dirty landing zone (SMALL_WORLD), generated once per test module: each
    module gets its own, because ingest runs write drop manifests into it."""
    out = tmp_path_factory.mktemp("small_world")
    generate_landing(out, SMALL_WORLD)
    return out


@pytest.fixture(scope="session")
def marts_landing(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Landing zone generated from MARTS_CONFIG (read it with tests.orchestration.expected)."""
    out = tmp_path_factory.mktemp("marts_landing")
    generate_landing(out, MARTS_CONFIG)
    return out


def serving_dir(duckdb_url: str) -> Path:
    """Where the DuckDB world at `duckdb_url` published its dashboard copy."""
    return env.Warehouse(duckdb_url).duckdb_path.parent / "serving"


def _materialized(url: str, landing: Path, serving: Path) -> str:
    result = materialize_all(url, landing, serving)
    assert result.success, [e.message for e in result.all_events if e.is_failure]
    return url


@pytest.fixture(scope="session")
def marts_duckdb(marts_landing: Path, tmp_path_factory: pytest.TempPathFactory) -> str:
    """Warehouse URL of a DuckDB file holding the whole pipeline materialized on marts_landing
    (its dashboard copy is in `serving_dir(url)`)."""
    root = tmp_path_factory.mktemp("marts_duck")
    url = f"duckdb:///{root}/warehouse.duckdb"
    return _materialized(url, marts_landing, serving_dir(url))


@pytest.fixture(scope="session")
def marts_postgres(
    require_postgres: None, marts_landing: Path, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Warehouse URL of a throwaway PostgreSQL database with the same materialization."""
    with throwaway_database("partsflow_marts_test") as url:
        yield _materialized(url, marts_landing, tmp_path_factory.mktemp("marts_pg") / "serving")


WORLD_FIXTURES = {"marts_duckdb", "marts_postgres"}
# The modules that read the shared world: under `pytest -n` they all run on one worker, so the world
# is materialized once, not once per worker (a check below keeps this list complete).
WORLD_MODULES = {
    "tests/dashboards/test_browser.py",
    "tests/dashboards/test_pages.py",
    "tests/dbt/test_features.py",
    "tests/dbt/test_purchasing_ageing_alerts.py",
    "tests/dbt/test_stock_marts.py",
    "tests/orchestration/test_alert_notifications.py",
    "tests/orchestration/test_forecasting_assets.py",
    "tests/orchestration/test_partitions.py",
    "tests/orchestration/test_pipeline.py",
    "tests/orchestration/test_policy_simulation_asset.py",
    "tests/orchestration/test_replenishment_assets.py",
}


# Under `pytest -n` the longest units start first, so that none of them starts last on one worker
# while the other sits idle (xdist would order them by their number of tests). Measured order.
LONGEST_FIRST = (
    "tests/orchestration/test_bench_all.py",
    "shared world",
    "tests/orchestration/test_bench_marts.py",
    "tests/dbt/test_stock_marts_incremental.py",
    "tests/faults/test_concurrent_runs.py",
    "tests/dbt/test_dbt_models.py",
    "tests/dbt/test_stockout_alerts.py",
    "tests/orchestration/test_ingest.py",
    "tests/orchestration/test_cli.py",
    "tests/orchestration/test_ingest_lifecycle.py",
    "tests/orchestration/test_quality.py",
    "tests/faults/test_warehouse_down.py",
    "tests/faults/test_corrupt_model.py",
    "tests/dashboards/test_access.py",
)


def _module(nodeid: str) -> str:
    return nodeid.split("::")[0]


def _unit(nodeid: str) -> str:
    """What runs whole on one worker: the shared world's modules together, other modules alone."""
    module = _module(nodeid)
    return "shared world" if module in WORLD_MODULES else module


def _start_rank(item: pytest.Item) -> int:
    unit = _unit(item.nodeid)
    return LONGEST_FIRST.index(unit) if unit in LONGEST_FIRST else len(LONGEST_FIRST)


def _uses_the_world(item: pytest.Item) -> bool:
    names = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    params = {str(v) for v in callspec.params.values()} if callspec else set()
    return bool(WORLD_FIXTURES & (names | params))


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    strays = sorted({_module(i.nodeid) for i in items if _uses_the_world(i)} - WORLD_MODULES)
    if strays:
        raise pytest.UsageError(f"add to WORLD_MODULES in tests/conftest.py: {', '.join(strays)}")
    # A stable sort: each unit's tests stay together and in their order.
    items.sort(key=_start_rank)


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """`pytest -n`: each module runs whole on one worker, in order (a module-scoped fixture is
    built once), the WORLD_MODULES run together on one worker, and the units start in collection
    order (LONGEST_FIRST, see pytest_collection_modifyitems)."""
    from xdist.scheduler import LoadScopeScheduling

    class ModuleScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    config.option.loadscopereorder = False
    return ModuleScheduling(config, log)
