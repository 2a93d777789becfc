"""Ingest assets: new landing files of each entity into the raw layer, each batch once."""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.contract import CONTRACT
from orchestration.defs.ingest.files import LandingFileError, file_hash, landing_files, read_batch
from orchestration.defs.ingest.raw_tables import (
    BATCHES_TABLE,
    RAW_SCHEMA,
    ensure_raw_tables,
    loaded_hashes,
)
from orchestration.resources import LandingZoneResource, WarehouseResource
from orchestration.warehouse import Connection, qualified

OWNER = "team:data-engineering"


def _utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def load_batch(conn: Connection, entity: str, path: Path, digest: str) -> int:
    """Load one file in one transaction: its rows and its batch record commit together."""
    df = read_batch(path, entity)
    started = _utcnow()
    batch_id = f"{entity}-{digest[:16]}"
    df["_batch_id"] = batch_id
    df["_file_name"] = path.name
    df["_file_hash"] = digest
    df["_row_number"] = range(1, len(df) + 1)
    df["_loaded_at"] = started
    with conn.transaction():
        loaded = conn.append_df(RAW_SCHEMA, entity, df)
        conn.execute(
            f"insert into {qualified(RAW_SCHEMA, BATCHES_TABLE)} (batch_id, entity, file_name, "
            "file_hash, rows_read, rows_loaded, started_at, finished_at, status) "
            "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (batch_id, entity, path.name, digest, len(df), loaded, started, _utcnow(), "loaded"),
        )
    return loaded


def ingest_entity(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingZoneResource,
    entity: str,
) -> dg.MaterializeResult:
    files = landing_files(landing.entity_dir(entity))
    new_batches = rows = 0
    with warehouse.connect() as conn:
        ensure_raw_tables(conn, entity)
        seen = loaded_hashes(conn, entity)
        for i, path in enumerate(files, start=1):
            digest = file_hash(path)
            if digest in seen:
                continue
            try:
                loaded = load_batch(conn, entity, path, digest)
            except LandingFileError as exc:
                raise dg.Failure(
                    description=str(exc),
                    metadata={
                        "file": dg.MetadataValue.path(str(path)),
                        "batches_loaded": new_batches,
                    },
                ) from exc
            seen.add(digest)
            new_batches += 1
            rows += loaded
            context.log.info(f"[{i}/{len(files)}] {entity}: loaded {loaded} rows from {path.name}")
        total = conn.fetchall(f"select count(*) from {qualified(RAW_SCHEMA, entity)}")[0][0]
    context.log.info(f"{entity}: {new_batches} new batch(es), {len(files) - new_batches} known")
    return dg.MaterializeResult(
        metadata={
            "files_seen": len(files),
            "new_batches": new_batches,
            "rows_loaded": rows,
            "raw_rows_total": int(total),
            "landing_dir": dg.MetadataValue.path(str(landing.entity_dir(entity))),
        }
    )


def _ingest_asset(entity: str) -> dg.AssetsDefinition:
    @dg.asset(
        key=dg.AssetKey([RAW_SCHEMA, entity]),
        group_name="ingest",
        owners=[OWNER],
        kinds={"python"},
        description=f"New {entity} landing files loaded into raw.{entity}, each batch once.",
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingZoneResource,
    ) -> dg.MaterializeResult:
        return ingest_entity(context, warehouse, landing, entity)

    return _asset


ingest_assets = [_ingest_asset(entity) for entity in CONTRACT]
