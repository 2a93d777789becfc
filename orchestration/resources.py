"""Dagster resources: where the warehouse, the landing zone and the serving copy live."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from orchestration import env
from orchestration.warehouse import Connection, connect

dbt_project = DbtProject(project_dir=env.DBT_PROJECT_DIR, profiles_dir=env.DBT_PROJECT_DIR)
# Parses only under `dagster dev`; CI and `make` prepare the manifest beforehand.
dbt_project.prepare_if_dev()


def dbt_executable() -> str:
    """The dbt next to this interpreter, so an unactivated venv still finds it."""
    beside = Path(sys.executable).parent / "dbt"
    return str(beside) if beside.exists() else (shutil.which("dbt") or "dbt")


class WarehouseResource(dg.ConfigurableResource):
    """The analytical warehouse: `duckdb:///file` or `postgresql://...`."""

    url: str | None = None  # None: the environment's, looked up when the run starts

    @property
    def info(self) -> env.Warehouse:
        return env.Warehouse(self.url or env.warehouse_url())

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[Connection]:
        with connect(self.info, read_only=read_only) as conn:
            yield conn


class LandingZoneResource(dg.ConfigurableResource):
    """The folder where source systems drop batch files, one subfolder per entity."""

    path: str | None = None

    def entity_dir(self, entity: str) -> Path:
        return Path(self.path or env.landing_dir()) / entity


class ErpResource(dg.ConfigurableResource):
    """The operational ERP database that ingest may read incrementally (PARTSFLOW_SOURCE)."""

    url: str | None = None

    @property
    def resolved_url(self) -> str | None:
        return self.url or env.erp_url()


class ServingResource(dg.ConfigurableResource):
    """Where the dashboard's published copy of the marts goes (DuckDB warehouses only)."""

    path: str | None = None

    @property
    def duckdb_file(self) -> Path:
        return Path(self.path or env.serving_dir()) / "serving.duckdb"


# Training rows of the global model per fit in the pipeline: keeps train + backtest + score of
# the demo scale within 2 minutes on 2 cores (`partsflow bench forecast --speed`).
PIPELINE_TRAINING_ROWS = 60_000


class ForecastingResource(dg.ConfigurableResource):
    """Where trained models are stored (PARTSFLOW_MODEL_STORE) and the global model's budget."""

    model_store: str | None = None
    max_training_rows: int = PIPELINE_TRAINING_ROWS

    @property
    def store(self) -> Path:
        return Path(self.model_store) if self.model_store else env.model_store()


def build_resources(
    warehouse_url: str | None = None,
    landing_dir: str | None = None,
    serving_dir: str | None = None,
    forecasting: ForecastingResource | None = None,
) -> dict[str, object]:
    """Resources from explicit values (tests) or, left None, from the environment at run time."""
    if warehouse_url is None and env.warehouse_url_is_set():
        # The URL may carry a password: Dagster resolves it at run time and never stores it.
        warehouse_url = dg.EnvVar("PARTSFLOW_WAREHOUSE_URL")
    erp_url = dg.EnvVar("PARTSFLOW_ERP_URL") if env.erp_url() else None
    return {
        "warehouse": WarehouseResource(url=warehouse_url),
        "erp": ErpResource(url=erp_url),
        "landing": LandingZoneResource(path=landing_dir),
        "serving": ServingResource(path=serving_dir),
        "forecasting": forecasting or ForecastingResource(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
