"""The policy simulation asset: static thresholds vs. PartsFlow's policy on the held-out period.

A thin wrapper: the scenario comes from the marts (simulation_inputs.py), the replay and the
sweep from `ml.replenishment.comparison`. `ml.mart_policy_simulation` is replaced in one
transaction: one row per run (static, PartsFlow with its class service levels, the sweep) and
scope (all series, ABC class A, B, C).
"""

import os

import dagster as dg
import pandas as pd

from ml.replenishment.comparison import (
    Comparison,
    compare,
    reduction,
    simulated_days,
    static_on_curve,
    to_frame,
)
from ml.replenishment.reviewed import PolicySettings
from ml.replenishment.scenario import Scenario
from orchestration.defs.replenishment.simulation_inputs import read_scenario
from orchestration.resources import WarehouseResource
from orchestration.warehouse import Connection, qualified

OWNER = "team:data-science"
GROUP = "replenishment"
TABLE = qualified("ml", "mart_policy_simulation")
COLUMNS = (
    "scenario text not null, policy text not null, service_level double precision, "
    "abc_class text not null, series integer not null, demand_units bigint not null, "
    "served_units bigint not null, fill_rate double precision not null, "
    "stockout_days bigint not null, stockout_incidents bigint not null, "
    "avg_inventory_value double precision not null, carrying_cost double precision not null, "
    "orders bigint not null, ordered_units bigint not null, "
    "incident_reduction double precision, carrying_cost_reduction double precision, "
    "fill_rate_change double precision not null, period_start date not null, "
    "period_end date not null, review_days integer not null, holding_rate double precision "
    "not null, ordering_cost double precision not null, seed integer not null, "
    "primary key (scenario, abc_class)"
)


class PolicySimulationConfig(dg.Config):
    holdout_days: int = 182
    review_days: int = 7
    seed: int = 0


def simulation_table(scenario: Scenario, comparison: Comparison) -> pd.DataFrame:
    """The rows of ml.mart_policy_simulation: the comparison's, with the period and settings."""
    settings = comparison.settings
    return to_frame(comparison).assign(
        period_start=scenario.start,
        period_end=scenario.start + pd.Timedelta(days=scenario.days - 1),
        review_days=settings.review_days,
        holding_rate=settings.holding_rate,
        ordering_cost=settings.ordering_cost,
        seed=comparison.seed,
    )


def write_table(conn: Connection, frame: pd.DataFrame) -> None:
    with conn.transaction():
        # Readers see the previous simulation or this one, never half of it.
        conn.execute("create schema if not exists ml")
        conn.execute(f"create table if not exists {TABLE} ({COLUMNS})")
        conn.execute(f"delete from {TABLE}")
        conn.append_df("ml", "mart_policy_simulation", frame)


@dg.asset(
    key=dg.AssetKey(["ml", "mart_policy_simulation"]),
    deps=[
        dg.AssetKey(["marts", "fct_daily_demand"]),
        dg.AssetKey(["marts", "fct_daily_stock"]),
        dg.AssetKey(["marts", "fct_purchase_orders"]),
    ],
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python", "numpy"},
)
def mart_policy_simulation(
    context: dg.AssetExecutionContext,
    config: PolicySimulationConfig,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """Held-out replay: static thresholds vs. PartsFlow's policy, and the service-level sweep."""
    settings = PolicySettings(review_days=config.review_days)
    with warehouse.connect() as conn:
        scenario = read_scenario(conn, config.holdout_days)
    context.log.info(f"{scenario.series} pairs, {scenario.days} days from {scenario.start}")
    runs = simulated_days(scenario) // scenario.days
    done = [0]

    def on_day(_day: int) -> None:
        done[0] += 1
        if done[0] % scenario.days == 0:
            context.log.info(f"run {done[0] // scenario.days} of {runs} replayed")

    comparison = compare(scenario, settings, config.seed, on_day=on_day)
    frame = simulation_table(scenario, comparison)
    with warehouse.connect() as conn:
        write_table(conn, frame)
    static, ours = comparison.run("static").overall, comparison.run("partsflow").overall
    curve = static_on_curve(comparison)
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "series": scenario.series,
            "period": f"{scenario.start} .. {frame['period_end'].iloc[0]}",
            "static_fill_rate": static.fill_rate,
            "partsflow_fill_rate": ours.fill_rate,
            "static_stockout_incidents": static.stockout_incidents,
            "partsflow_stockout_incidents": ours.stockout_incidents,
            "static_carrying_cost": static.carrying_cost,
            "partsflow_carrying_cost": ours.carrying_cost,
            "incident_reduction": reduction(ours.stockout_incidents, static.stockout_incidents),
            "carrying_cost_reduction": reduction(ours.carrying_cost, static.carrying_cost),
            "static_on_curve_service_level": curve["service_level"],
            "load_average": str(tuple(round(x, 2) for x in os.getloadavg())),
        }
    )
