"""Small landing zones written by hand, and running the ingest assets on them."""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pandas as pd

from orchestration import env
from orchestration.contract import column_names
from orchestration.defs.ingest.assets import ingest_assets
from orchestration.defs.ingest.drops import register_now
from orchestration.resources import ErpResource, LandingZoneResource, WarehouseResource
from orchestration.warehouse import connect

MASTER = {
    "categories": [["C1", "Engine", ""], ["C2", "Filters", "C1"]],
    "suppliers": [["S1", "Acme", "7", "0.9"]],
    "locations": [["L1", "Main depot", "EMEA", "DE", "warehouse", "temperate"]],
    "parts": [["P1", "PN-1", "Oil filter", "C2", "S1", "12.5", "20", "", ""]],
}


def write_csv(landing: Path, entity: str, name: str, rows: list[list[str]], header=None) -> Path:
    path = landing / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame(rows, columns=header or column_names(entity))
    frame.to_csv(path, index=False)
    return path


def write_master(landing: Path) -> None:
    for entity, rows in MASTER.items():
        write_csv(landing, entity, f"{entity}.csv", rows)


def run_ingest(
    url: str, landing: Path, entities: list[str] | None = None, extra=(), erp_url: str | None = None
):
    """The ingest assets (or those of `entities`) for a new drop of every landing file present
    (defs/ingest/drops.py), so everything new loads."""
    chosen = [a for a in ingest_assets if entities is None or a.key.path[-1] in entities]
    instance = dg.DagsterInstance.ephemeral()
    return dg.materialize(
        [*chosen, *extra],
        resources={
            "warehouse": WarehouseResource(url=url),
            "landing": LandingZoneResource(path=str(landing)),
            "erp": ErpResource(url=erp_url),
        },
        instance=instance,
        raise_on_error=False,
        partition_key=register_now(instance, landing),
    )


def query(url: str, sql: str, params=()) -> pd.DataFrame:
    with connect(env.Warehouse(url)) as conn:
        return conn.query_df(sql, params)


def quarantine(url: str, entity: str) -> dict[int | None, str]:
    df = query(url, "select row_number, reason from raw.quarantine where entity = ?", (entity,))
    return {(None if pd.isna(r) else int(r)): reason for r, reason in df.itertuples(index=False)}


def batches(url: str, entity: str) -> pd.DataFrame:
    return query(
        url, "select * from raw.ingest_batches where entity = ? order by file_name", (entity,)
    )


def snapshot(url: str) -> dict[str, pd.DataFrame]:
    out = {}
    for table in [*MASTER, "stock_levels", "transactions", "purchase_orders", "quarantine"]:
        df = query(url, f"select * from raw.{table}")
        drop = [c for c in ("quarantined_at",) if c in df.columns]
        df = df.drop(columns=drop)
        out[table] = df.sort_values(list(df.columns)).reset_index(drop=True)
    return out


def sensor_tick(
    instance: dg.DagsterInstance, landing: Path, cursor: str | None
) -> dg.SensorExecutionData:
    """One evaluation of the landing sensor against the definitions, on a persistent instance
    (a sensor checks the dynamic partitions it requests against the instance's ref)."""
    from orchestration.definitions import defs
    from orchestration.defs.ingest.sensors import landing_zone_sensor

    context = dg.build_sensor_context(
        cursor=cursor,
        resources={"landing": LandingZoneResource(path=str(landing))},
        definitions=defs,
        instance=instance,
        instance_ref=instance.get_ref(),
    )
    return landing_zone_sensor.evaluate_tick(context)
