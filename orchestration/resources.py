"""Dagster resources: where the warehouse, the landing zone and the serving copy live."""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import psycopg
from dagster_dbt import DbtCliResource, DbtProject

from orchestration import env
from orchestration.notify import MAX_WEBHOOK_BATCH, Channel, EmailChannel, WebhookChannel
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
        try:
            with connect(self.info, read_only=read_only) as conn:
                yield conn
        except psycopg.OperationalError as exc:
            if not connection_lost(exc):
                raise
            raise dg.Failure(description=warehouse_lost(self.info, exc)) from exc


def connection_lost(exc: psycopg.OperationalError) -> bool:
    """The server went away or refused us (SQLSTATE class 08, 57P shutdown, or none: client-side),
    as opposed to a lock or serialization failure of a live server."""
    return exc.sqlstate is None or exc.sqlstate.startswith(("08", "57P"))


def warehouse_lost(info: env.Warehouse, exc: Exception) -> str:
    pg = info.pg
    first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return (
        f"The warehouse PostgreSQL at {pg['host']}:{pg['port']}/{pg['dbname']} stopped answering "
        f"({first}). Its open transaction was rolled back, so no partial batch is kept; rerun the "
        "run once the server is back (loaded batches are recognised and skipped)."
    )


class LandingZoneResource(dg.ConfigurableResource):
    """The folder where source systems drop batch files, one subfolder per entity."""

    path: str | None = None

    @property
    def root(self) -> Path:
        return Path(self.path or env.landing_dir())

    def entity_dir(self, entity: str) -> Path:
        return self.root / entity


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
    # Above this many part-locations training reads a sample of whole locations, which bounds
    # its memory at any scale: the m preset's 17,469 series peak at 7.3 GB, and 50,000 of the l
    # preset's 218,965 went past 20 GB.
    max_training_series: int = 20_000

    @property
    def store(self) -> Path:
        return Path(self.model_store) if self.model_store else env.model_store()


class NotificationResource(dg.ConfigurableResource):
    """Where alert notifications go (a Slack-compatible webhook and/or SMTP e-mail) and how
    hard delivery is tried. Nothing configured: nothing is sent."""

    webhook_url: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_from: str | None = None
    email_to: str | None = None  # comma-separated
    smtp_starttls: bool = True
    timeout_seconds: float = 10.0
    notify_on_close: bool = False
    min_severity: str = "low"
    max_attempts: int = 10  # per notification over all runs; then it is given up
    attempts_per_run: int = 3
    backoff_seconds: float = 2.0  # doubles after each failed attempt within a run
    batch_size: int = 20  # alerts per webhook message or e-mail

    def channels(self) -> tuple[list[Channel], list[str]]:
        """The configured channels, and why a half-configured one was left out."""
        channels: list[Channel] = []
        problems: list[str] = []
        if self.webhook_url:
            channels.append(WebhookChannel(self.webhook_url, self.timeout_seconds))
        recipients = tuple(a.strip() for a in (self.email_to or "").split(",") if a.strip())
        if self.smtp_host and self.smtp_from and recipients:
            channels.append(
                EmailChannel(
                    self.smtp_host,
                    self.smtp_port,
                    self.smtp_from,
                    recipients,
                    self.smtp_user,
                    self.smtp_password,
                    self.smtp_starttls,
                    self.timeout_seconds,
                )
            )
        elif self.smtp_host or self.email_to:
            problems.append(
                "e-mail not sent: it needs PARTSFLOW_SMTP_HOST, PARTSFLOW_SMTP_FROM and "
                "PARTSFLOW_ALERT_EMAIL_TO"
            )
        return channels, problems

    def batch_limit(self, channel: Channel) -> int:
        size = max(1, self.batch_size)
        return min(size, MAX_WEBHOOK_BATCH) if channel.name == "webhook" else size


def notifications_from_env() -> NotificationResource:
    """Channel settings from the environment; secrets as dg.EnvVar, resolved at run time."""

    def secret(name: str, value: str | None) -> dg.EnvVar | None:
        return dg.EnvVar(name) if value else None

    return NotificationResource(
        webhook_url=secret("PARTSFLOW_ALERT_WEBHOOK_URL", env.alert_webhook_url()),
        smtp_host=env.smtp_host(),
        smtp_port=env.smtp_port(),
        smtp_user=secret("PARTSFLOW_SMTP_USER", env.smtp_user()),
        smtp_password=secret("PARTSFLOW_SMTP_PASSWORD", env.smtp_password()),
        smtp_from=env.smtp_from(),
        email_to=env.alert_email_to(),
        smtp_starttls=env.smtp_starttls(),
        notify_on_close=env.alert_notify_on_close(),
        min_severity=env.alert_min_severity(),
        max_attempts=env.alert_max_attempts(),
    )


def build_resources(
    warehouse_url: str | None = None,
    landing_dir: str | None = None,
    serving_dir: str | None = None,
    forecasting: ForecastingResource | None = None,
    notifications: NotificationResource | None = None,
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
        "notifications": notifications or notifications_from_env(),
        "dbt": DbtCliResource(project_dir=dbt_project, dbt_executable=dbt_executable()),
    }
