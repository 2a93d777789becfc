"""The policy simulation asset: static thresholds vs. PartsFlow's policy on the held-out period.

A thin wrapper: the scenario comes from the marts (simulation_inputs.py), the replay and the
sweep from `ml.replenishment.comparison`. It runs per location group (`ml.policy_simulation_groups`,
a group's rows replaced in one transaction); `ml.mart_policy_simulation` sums the groups, also in
one transaction: one row per run (static, PartsFlow with its class service levels, the sweep)
and scope (all series, ABC class A, B, C).
"""

import os

import dagster as dg
import numpy as np
import pandas as pd

from ml.replenishment.comparison import Comparison, compare, reduction, to_frame
from ml.replenishment.reviewed import PolicySettings
from ml.replenishment.scenario import Scenario
from orchestration.defs.partitions import group_members, in_group, location_groups
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


GROUPS_KEY = dg.AssetKey(["ml", "policy_simulation_groups"])
GROUPS_TABLE = qualified("ml", "policy_simulation_groups")
RUN_COLUMNS = ["scenario", "policy", "service_level", "abc_class"]
ADDITIVE = [
    "series",
    "demand_units",
    "served_units",
    "stockout_days",
    "stockout_incidents",
    "avg_inventory_value",
    "carrying_cost",
    "orders",
    "ordered_units",
]
SETTINGS = ["period_start", "period_end", "review_days", "holding_rate", "ordering_cost", "seed"]
GROUPS_COLUMNS = (
    "location_group text not null, scenario text not null, policy text not null, "
    "service_level double precision, abc_class text not null, series integer not null, "
    "demand_units bigint not null, served_units bigint not null, stockout_days bigint not null, "
    "stockout_incidents bigint not null, avg_inventory_value double precision not null, "
    "carrying_cost double precision not null, orders bigint not null, "
    "ordered_units bigint not null, period_start date not null, period_end date not null, "
    "review_days integer not null, holding_rate double precision not null, "
    "ordering_cost double precision not null, seed integer not null, "
    "primary key (location_group, scenario, abc_class)"
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


def combine(parts: pd.DataFrame) -> pd.DataFrame:
    """The rows of ml.mart_policy_simulation from the location groups' rows: counts, units and
    values summed (each pair replays as in the whole), the ratios recomputed from the sums."""
    by = parts.groupby(RUN_COLUMNS, dropna=False, sort=False)
    frame = by[ADDITIVE].sum().join(by[SETTINGS].first()).reset_index()
    demand, served = frame["demand_units"], frame["served_units"]
    frame["fill_rate"] = np.where(demand > 0, served / demand.where(demand > 0, 1), 1.0)
    static = frame[frame["scenario"] == "static"].set_index("abc_class").reindex(frame["abc_class"])
    for column, source in (
        ("incident_reduction", "stockout_incidents"),
        ("carrying_cost_reduction", "carrying_cost"),
    ):
        pairs = zip(frame[source], static[source], strict=True)
        frame[column] = [reduction(new, old) for new, old in pairs]
    frame["fill_rate_change"] = frame["fill_rate"] - static["fill_rate"].to_numpy()
    changes = ["incident_reduction", "carrying_cost_reduction", "fill_rate_change"]
    return frame[[*RUN_COLUMNS, "fill_rate", *ADDITIVE, *changes, *SETTINGS]]


@dg.asset(
    key=GROUPS_KEY,
    deps=[
        dg.AssetKey(["marts", "fct_daily_demand"]),
        dg.AssetKey(["marts", "fct_daily_stock"]),
        dg.AssetKey(["marts", "fct_purchase_orders"]),
    ],
    partitions_def=location_groups,
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python", "numpy"},
)
def policy_simulation_groups(
    context: dg.AssetExecutionContext,
    config: PolicySimulationConfig,
    warehouse: WarehouseResource,
) -> dg.MaterializeResult:
    """One location group's held-out replay: static thresholds vs. PartsFlow's policy, sweep."""
    group, settings = context.partition_key, PolicySettings(review_days=config.review_days)
    frame = pd.DataFrame()
    with warehouse.connect() as conn:
        locations = group_members(conn, group, ["marts.fct_inventory_position"])
        scenario = read_scenario(conn, config.holdout_days, locations) if locations else None
    if scenario is not None:
        context.log.info(f"{group}: {scenario.series} pairs, {scenario.days} days")
        comparison = compare(scenario, settings, config.seed)
        frame = simulation_table(scenario, comparison)[RUN_COLUMNS + ADDITIVE + SETTINGS]
        frame.insert(0, "location_group", group)
    with warehouse.connect() as conn, conn.transaction():
        # The group's rows are replaced at once: the mart never sums half a group.
        conn.execute("create schema if not exists ml")
        conn.execute(f"create table if not exists {GROUPS_TABLE} ({GROUPS_COLUMNS})")
        conn.execute(f"delete from {GROUPS_TABLE} where location_group = ?", (group,))
        conn.append_df("ml", "policy_simulation_groups", frame)
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "locations": len(locations),
            "series": scenario.series if scenario is not None else 0,
            "load_average": str(tuple(round(x, 2) for x in os.getloadavg())),
        }
    )


@dg.asset(
    key=dg.AssetKey(["ml", "mart_policy_simulation"]),
    deps=[GROUPS_KEY],
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python"},
)
def mart_policy_simulation(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Held-out replay: static thresholds vs. PartsFlow's policy, and the service-level sweep."""
    with warehouse.connect() as conn:
        parts = pd.DataFrame()
        if conn.table_exists("ml", "policy_simulation_groups"):
            parts = conn.query_df(
                f"select * from {GROUPS_TABLE} where {in_group('location_group')}",
                (location_groups.get_partition_keys(),),
            )
        if parts.empty:
            raise dg.Failure("no location group simulated: materialize ml/policy_simulation_groups")
        frame = combine(parts)
        write_table(conn, frame)
    row = frame[frame["abc_class"] == "all"].set_index("scenario")
    static, ours = row.loc["static"], row.loc["partsflow"]
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "series": int(static["series"]),
            "period": f"{frame['period_start'].iloc[0]} .. {frame['period_end'].iloc[0]}",
            "static_fill_rate": float(static["fill_rate"]),
            "partsflow_fill_rate": float(ours["fill_rate"]),
            "static_stockout_incidents": int(static["stockout_incidents"]),
            "partsflow_stockout_incidents": int(ours["stockout_incidents"]),
            "static_carrying_cost": float(static["carrying_cost"]),
            "partsflow_carrying_cost": float(ours["carrying_cost"]),
            "incident_reduction": float(ours["incident_reduction"]),
            "carrying_cost_reduction": float(ours["carrying_cost_reduction"]),
        }
    )
