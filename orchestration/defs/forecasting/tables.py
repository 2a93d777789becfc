"""The forecasting output tables in the `ml` schema (same DDL on DuckDB and PostgreSQL)."""

from __future__ import annotations

from ml.forecast.metrics import QUANTILES
from orchestration.warehouse import Connection, qualified

SCORES = qualified("ml", "fct_forecasts")
ACCURACY = qualified("ml", "fct_forecast_accuracy")
FORECASTS = qualified("ml", "forecasts")
_QUANTILES = ", ".join(f"p{q * 100:g} double precision not null" for q in QUANTILES)


def ensure_scores(conn: Connection) -> None:
    conn.execute("create schema if not exists ml")
    # Before the quantiles were continuous they were integer columns. The table is rewritten
    # whole by every scoring run, so an old one is dropped rather than migrated.
    old = conn.fetchall(
        "select data_type from information_schema.columns "
        "where table_schema = ? and table_name = ? and column_name = ?",
        ("ml", "fct_forecasts", "p90"),
    )
    if old and old[0][0].lower() in ("integer", "int", "int4", "bigint"):
        conn.execute(f"drop table {SCORES}")
    conn.execute(
        f"create table if not exists {SCORES} ("
        "part_id text not null, location_id text not null, "
        "grain text not null check (grain in ('day', 'week', 'month')), "
        "period_start date not null, days integer not null, mean double precision not null, "
        f"{_QUANTILES}, model_version text not null, forecast_origin date not null, "
        "primary key (part_id, location_id, grain, period_start))"
    )


def ensure_accuracy(conn: Connection) -> None:
    conn.execute("create schema if not exists ml")
    conn.execute(
        f"create table if not exists {ACCURACY} ("
        "model_version text not null, trained_at timestamp not null, approach text not null, "
        "scope text not null check (scope in ('overall', 'class', 'series')), "
        "demand_class text, rmse double precision, bias double precision, "
        "wql double precision, above_top double precision, below_bottom double precision, "
        "part_id text, location_id text)"
    )


def ensure_forecasts(conn: Connection) -> None:
    conn.execute("create schema if not exists ml")
    conn.execute(
        f"create table if not exists {FORECASTS} ("
        "part_id text not null, location_id text not null, forecast_date date not null, "
        "mean double precision not null, model_version text not null, "
        "forecast_origin date not null, primary key (part_id, location_id, forecast_date))"
    )
