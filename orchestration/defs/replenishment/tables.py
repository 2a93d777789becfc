"""The replenishment tables in the `ml` schema (same DDL on DuckDB and PostgreSQL).

- `fct_reorder_recommendations`: the latest recommendation per active part and location
  (a location group's rows replaced on every run of that group);
- `stockout_prediction_history`: the predicted stock-outs of every as-of day (kept), read by the
  dbt model `int_predicted_stockout_episodes` through staging, so alert ids stay stable;
- `replenishment_runs`: one row per as-of day with a recommendation run, so an episode closes on
  the first run day without its prediction.
"""

from __future__ import annotations

import pandas as pd

from orchestration.defs.partitions import IN_GROUP
from orchestration.warehouse import Connection, qualified

RECOMMENDATIONS = qualified("ml", "fct_reorder_recommendations")
HISTORY = qualified("ml", "stockout_prediction_history")
RUNS = qualified("ml", "replenishment_runs")

_RECOMMENDATION_COLUMNS = (
    "as_of_date date not null, part_id text not null, location_id text not null, "
    "abc_class text, demand_pattern text, service_level double precision not null, "
    "unit_cost double precision not null, daily_demand_mean double precision not null, "
    "dispersion double precision not null, lead_time_mean_days double precision not null, "
    "lead_time_std_days double precision not null, lead_time_source text not null, "
    "review_period_days integer not null, protection_days double precision not null, "
    "protection_demand_mean double precision not null, "
    "protection_demand_std double precision not null, safety_stock double precision not null, "
    "reorder_point bigint not null, order_policy text not null, "
    "economic_order_qty double precision, order_up_to_level double precision, "
    "on_hand bigint not null, on_order bigint not null, backorders bigint not null, "
    "inventory_position bigint not null, days_to_stockout integer, "
    "projected_stockout_date date, is_predicted_stockout boolean not null, "
    "days_to_reorder integer, suggested_order_date date, suggested_order_qty bigint not null, "
    "suggested_order_value double precision not null, "
    "expected_service_level double precision not null, "
    "status text not null check (status in ('order_now', 'order_soon', 'ok')), "
    "reason text not null, model_version text, primary key (part_id, location_id)"
)


def ensure_tables(conn: Connection) -> None:
    """Create the three tables when missing (the dbt staging views handle their absence)."""
    conn.execute("create schema if not exists ml")
    conn.execute(f"create table if not exists {RECOMMENDATIONS} ({_RECOMMENDATION_COLUMNS})")
    conn.execute(
        f"create table if not exists {HISTORY} ("
        "as_of_date date not null, part_id text not null, location_id text not null, "
        "days_to_stockout integer not null, projected_stockout_date date not null, "
        "inventory_position bigint not null, reorder_point bigint not null, "
        "stockout_window_days integer not null, "
        "primary key (as_of_date, part_id, location_id))"
    )
    conn.execute(
        f"create table if not exists {RUNS} ("
        "as_of_date date not null primary key, model_version text, pairs integer not null, "
        "predicted_stockouts integer not null, order_now integer not null, "
        "order_soon integer not null)"
    )


def write(
    conn: Connection,
    rec: pd.DataFrame,
    history: pd.DataFrame,
    run: dict,
    locations: list[str] | None = None,
) -> None:
    """Replace the recommendations and this as-of day's history and run row, in one transaction:
    a rerun on the same as-of day gives the same rows, and readers never see half a run.

    With `locations` (one location group) only their rows are replaced, and the run row counts
    every group's recommendations of that day, so after all groups it equals an unpartitioned
    run's."""
    where, params = ("", ()) if locations is None else (f" and {IN_GROUP}", (locations,))
    with conn.transaction():
        ensure_tables(conn)
        conn.execute(f"delete from {RECOMMENDATIONS} where true{where}", params)
        conn.append_df("ml", "fct_reorder_recommendations", rec)
        conn.execute(
            f"delete from {HISTORY} where as_of_date = ?{where}", (run["as_of_date"], *params)
        )
        conn.append_df("ml", "stockout_prediction_history", history)
        conn.execute(f"delete from {RUNS} where as_of_date = ?", (run["as_of_date"],))
        if locations is None:
            conn.append_df("ml", "replenishment_runs", pd.DataFrame([run]))
            return
        conn.execute(
            f"insert into {RUNS} (as_of_date, model_version, pairs, predicted_stockouts, "
            "order_now, order_soon) select ?, ?, count(*), "
            "coalesce(sum(case when is_predicted_stockout then 1 else 0 end), 0), "
            "coalesce(sum(case when status = 'order_now' then 1 else 0 end), 0), "
            "coalesce(sum(case when status = 'order_soon' then 1 else 0 end), 0) "
            f"from {RECOMMENDATIONS} where as_of_date = ?",
            (run["as_of_date"], run["model_version"], run["as_of_date"]),
        )
