"""The one module that reads PartsFlow's environment variables.

Everything else asks this module for settings, so defaults and parsing live in one place.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from urllib.parse import unquote, urlparse

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"

DEFAULT_WAREHOUSE_URL = "duckdb:///data/warehouse.duckdb"


def _abs(path: str) -> Path:
    p = Path(path).expanduser()
    return p if p.is_absolute() else (PROJECT_ROOT / p).resolve()


@dataclass(frozen=True)
class Warehouse:
    """A parsed PARTSFLOW_WAREHOUSE_URL: either a DuckDB file or a PostgreSQL database."""

    url: str

    @cached_property
    def _parsed(self):
        return urlparse(self.url)

    @property
    def kind(self) -> str:
        scheme = self._parsed.scheme.split("+")[0]
        if scheme == "duckdb":
            return "duckdb"
        if scheme in ("postgresql", "postgres"):
            return "postgres"
        raise ValueError(
            f"PARTSFLOW_WAREHOUSE_URL must start with duckdb:/// or postgresql://, got {self.url!r}"
        )

    @property
    def is_duckdb(self) -> bool:
        return self.kind == "duckdb"

    @property
    def duckdb_path(self) -> Path:
        # duckdb:///data/x.duckdb is relative to the project; duckdb:////abs/x.duckdb is absolute.
        raw = self.url.split("://", 1)[1]
        raw = raw[1:] if raw.startswith("/") else raw
        return _abs(raw)

    @property
    def pg(self) -> dict[str, str]:
        p = self._parsed
        return {
            "host": p.hostname or "127.0.0.1",
            "port": str(p.port or 5432),
            "user": unquote(p.username or "postgres"),
            "password": unquote(p.password or ""),
            "dbname": (p.path or "/partsflow").lstrip("/") or "partsflow",
        }

    @property
    def pg_conninfo(self) -> str:
        """A libpq URL without any SQLAlchemy driver suffix."""
        return "postgresql://" + self.url.split("://", 1)[1]

    def dbt_env(self) -> dict[str, str]:
        """Variables that dbt_project/profiles.yml reads to pick and reach the target."""
        if self.is_duckdb:
            return {
                "PARTSFLOW_DBT_TARGET": "duckdb",
                "PARTSFLOW_DUCKDB_PATH": str(self.duckdb_path),
            }
        pg = self.pg
        return {
            "PARTSFLOW_DBT_TARGET": "postgres",
            "PARTSFLOW_PG_HOST": pg["host"],
            "PARTSFLOW_PG_PORT": pg["port"],
            "PARTSFLOW_PG_USER": pg["user"],
            "PARTSFLOW_PG_PASSWORD": pg["password"],
            "PARTSFLOW_PG_DATABASE": pg["dbname"],
        }


def warehouse_url() -> str:
    return os.environ.get("PARTSFLOW_WAREHOUSE_URL") or DEFAULT_WAREHOUSE_URL


def warehouse_url_is_set() -> bool:
    return bool(os.environ.get("PARTSFLOW_WAREHOUSE_URL"))


def warehouse() -> Warehouse:
    return Warehouse(warehouse_url())


def landing_dir() -> Path:
    return _abs(os.environ.get("PARTSFLOW_LANDING_DIR") or "data/landing")


def serving_dir() -> Path:
    return _abs(os.environ.get("PARTSFLOW_SERVING_DIR") or "data/serving")


def serving_duckdb_path() -> Path:
    return serving_dir() / "serving.duckdb"


def users_file() -> Path:
    """The dashboard's users file (bcrypt hashes, roles, location scopes); never in git."""
    return _abs(os.environ.get("PARTSFLOW_USERS_FILE") or "data/users.yaml")


def model_store() -> Path:
    return _abs(os.environ.get("PARTSFLOW_MODEL_STORE") or "data/models")


def dagster_home() -> Path:
    return _abs(os.environ.get("DAGSTER_HOME") or ".dagster_home")


def require_postgres() -> bool:
    return os.environ.get("PARTSFLOW_REQUIRE_POSTGRES", "") not in ("", "0", "false")


def test_postgres_url() -> str:
    """Admin URL of the server the PostgreSQL tests create their throwaway databases on."""
    return (
        os.environ.get("PARTSFLOW_TEST_POSTGRES_URL")
        or "postgresql://postgres@127.0.0.1:5432/postgres"
    )


def export_dbt_env() -> None:
    """Expose the warehouse target to dbt subprocesses, which inherit os.environ."""
    os.environ.update(warehouse().dbt_env())


DAGSTER_PG_TEMPLATE = PROJECT_ROOT / "dagster.postgres.yaml"


def dagster_pg_url() -> str | None:
    """PostgreSQL database for Dagster's run, event-log and schedule storage (dagster-postgres)."""
    return os.environ.get("PARTSFLOW_DAGSTER_PG_URL") or None


def dagster_pg_url_is_set() -> bool:
    return bool(os.environ.get("PARTSFLOW_DAGSTER_PG_URL"))


def ensure_dagster_home() -> Path:
    """Create DAGSTER_HOME (absolute, as Dagster requires) and pick its storage.

    With PARTSFLOW_DAGSTER_PG_URL set, runs and events go to PostgreSQL via dagster.postgres.yaml
    (which reads the URL from the environment at run time); otherwise Dagster's SQLite default.
    """
    home = dagster_home()
    home.mkdir(parents=True, exist_ok=True)
    os.environ["DAGSTER_HOME"] = str(home)
    config = home / "dagster.yaml"
    template = DAGSTER_PG_TEMPLATE.read_text()
    if dagster_pg_url_is_set():
        config.write_text(template)
    elif config.exists() and config.read_text() == template:
        config.unlink()
    return home


def max_quarantine_share() -> float:
    """Share of rows read in a run that may be quarantined before downstream assets are blocked."""
    return float(os.environ.get("PARTSFLOW_MAX_QUARANTINE_SHARE") or 0.05)


def gx_max_rows() -> int:
    """Rows of a run the Great Expectations suite reads; above it, a uniform sample of this size."""
    return int(os.environ.get("PARTSFLOW_GX_MAX_ROWS") or 250_000)


def ingest_source() -> str:
    """Where ingest reads from: `files`, `erp` or `both`."""
    value = (os.environ.get("PARTSFLOW_SOURCE") or "files").lower()
    if value not in ("files", "erp", "both"):
        raise ValueError(f"PARTSFLOW_SOURCE must be files, erp or both, got {value!r}")
    return value


def erp_url() -> str | None:
    return os.environ.get("PARTSFLOW_ERP_URL") or None


def sensor_interval_seconds() -> int:
    """Seconds between landing-zone sensor evaluations (PARTSFLOW_SENSOR_INTERVAL, default 30)."""
    value = int(os.environ.get("PARTSFLOW_SENSOR_INTERVAL") or 30)
    if value < 1:
        raise ValueError(f"PARTSFLOW_SENSOR_INTERVAL must be at least 1 second, got {value}")
    return value


def location_groups() -> int:
    """Location groups the heavy ML assets are partitioned by (PARTSFLOW_LOCATION_GROUPS, 4)."""
    value = int(os.environ.get("PARTSFLOW_LOCATION_GROUPS") or 4)
    if value < 1:
        raise ValueError(f"PARTSFLOW_LOCATION_GROUPS must be at least 1, got {value}")
    return value


def group_runs() -> int:
    """Location-group runs `partsflow materialize` executes at once, each in its own process
    (PARTSFLOW_GROUP_RUNS, default 2: one computes while another reads or writes the warehouse)."""
    value = int(os.environ.get("PARTSFLOW_GROUP_RUNS") or 2)
    if value < 1:
        raise ValueError(f"PARTSFLOW_GROUP_RUNS must be at least 1, got {value}")
    return value


def warehouse_writers() -> int:
    """Processes that may write the warehouse at once (PARTSFLOW_WAREHOUSE_WRITERS, default 4).

    Always 1 on DuckDB: one DuckDB file accepts one writer process, so more would only queue on
    its lock (or time out) instead of running in parallel.
    """
    if warehouse().is_duckdb:
        return 1
    value = int(os.environ.get("PARTSFLOW_WAREHOUSE_WRITERS") or 4)
    if value < 1:
        raise ValueError(f"PARTSFLOW_WAREHOUSE_WRITERS must be at least 1, got {value}")
    return value


def duckdb_memory_limit() -> str:
    """Memory DuckDB may use in PartsFlow's own connections (it spills to disk beyond it)."""
    return os.environ.get("PARTSFLOW_DUCKDB_MEMORY_LIMIT") or "2GB"


def duckdb_lock_wait_seconds() -> float:
    """How long a connection waits while another process holds the DuckDB warehouse file."""
    value = float(os.environ.get("PARTSFLOW_DUCKDB_LOCK_WAIT") or 600)
    if value < 0:
        raise ValueError(f"PARTSFLOW_DUCKDB_LOCK_WAIT must be 0 or more seconds, got {value:g}")
    return value


# Alert notifications (orchestration/defs/alerts). The webhook URL, SMTP user and password are
# secrets: they reach the resource through dg.EnvVar, these functions only say whether they are set.
def alert_webhook_url() -> str | None:
    """Slack-compatible incoming webhook for alert notifications (PARTSFLOW_ALERT_WEBHOOK_URL)."""
    return os.environ.get("PARTSFLOW_ALERT_WEBHOOK_URL") or None


def smtp_host() -> str | None:
    return os.environ.get("PARTSFLOW_SMTP_HOST") or None


def smtp_port() -> int:
    value = os.environ.get("PARTSFLOW_SMTP_PORT") or "587"
    if not value.isdigit() or not 0 < int(value) < 65536:
        raise ValueError(f"PARTSFLOW_SMTP_PORT must be a TCP port number, got {value!r}")
    return int(value)


def smtp_user() -> str | None:
    return os.environ.get("PARTSFLOW_SMTP_USER") or None


def smtp_password() -> str | None:
    return os.environ.get("PARTSFLOW_SMTP_PASSWORD") or None


def smtp_from() -> str | None:
    return os.environ.get("PARTSFLOW_SMTP_FROM") or None


def smtp_starttls() -> bool:
    """Upgrade the SMTP connection with STARTTLS before logging in (default on)."""
    return _flag("PARTSFLOW_SMTP_STARTTLS", default=True)


def alert_email_to() -> str | None:
    """Comma-separated recipients of alert e-mails (PARTSFLOW_ALERT_EMAIL_TO)."""
    return os.environ.get("PARTSFLOW_ALERT_EMAIL_TO") or None


def alert_notify_on_close() -> bool:
    """Also notify when an alert that was notified closes (PARTSFLOW_ALERT_NOTIFY_ON_CLOSE)."""
    return _flag("PARTSFLOW_ALERT_NOTIFY_ON_CLOSE", default=False)


def alert_min_severity() -> str:
    """Least severe alert that is notified: low (everything), medium, high or critical."""
    value = (os.environ.get("PARTSFLOW_ALERT_MIN_SEVERITY") or "low").lower()
    if value not in ("low", "medium", "high", "critical"):
        raise ValueError(
            f"PARTSFLOW_ALERT_MIN_SEVERITY must be low, medium, high or critical, got {value!r}"
        )
    return value


def alert_max_attempts() -> int:
    """Delivery attempts per notification over all runs before it is given up (default 10)."""
    value = int(os.environ.get("PARTSFLOW_ALERT_MAX_ATTEMPTS") or 10)
    if value < 1:
        raise ValueError(f"PARTSFLOW_ALERT_MAX_ATTEMPTS must be at least 1, got {value}")
    return value


def _flag(name: str, default: bool) -> bool:
    value = (os.environ.get(name) or "").strip().lower()
    if not value:
        return default
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1/true/yes/on or 0/false/no/off, got {value!r}")
