"""Ingest assets: new landing files (and ERP changes) of each entity into the validated raw.

Partitioned by landing drop (defs/ingest/drops.py): a run stores the files of its drop and of the
drops before it that are not stored yet, one batch per file, in order, each exactly once."""

from pathlib import Path

import dagster as dg

from orchestration import env
from orchestration.contract import CONTRACT
from orchestration.defs.ingest.batches import ingest_erp_changes
from orchestration.defs.ingest.drops import files_up_to, ingest_batches
from orchestration.defs.ingest.files import new_files
from orchestration.defs.ingest.loader import BatchResult
from orchestration.defs.ingest.raw_tables import RAW_SCHEMA, ensure_raw_tables, known_hashes
from orchestration.defs.ingest.read_ahead import ingest_files
from orchestration.defs.ingest.rules import RULES
from orchestration.resources import ErpResource, LandingZoneResource, WarehouseResource
from orchestration.warehouse import Connection

OWNER = "team:data-engineering"
QUARANTINE_CHECK = "quarantine_share_within_limit"
PARSEABLE_CHECK = "all_files_parseable"
SUITE_CHECK = "great_expectations_suite"


def upstream_entities(entity: str) -> list[str]:
    """Entities whose rows this one references, so they load first."""
    return sorted({r.entity for r in RULES[entity].references} - {entity})


def _summary(results: list[BatchResult]) -> dict[str, int]:
    keys = ("rows_read", "rows_loaded", "rows_duplicate", "rows_quarantined")
    return {k: sum(getattr(r, k) for r in results) for k in keys}


def _suite_check(conn: Connection, entity: str, results: list[BatchResult]) -> dg.AssetCheckResult:
    from orchestration.quality import validate_chunks

    loaded = [r for r in results if r.rows_loaded]
    batch_ids = [r.batch_id for r in loaded] or [""]
    rows = sum(r.rows_loaded for r in loaded)
    limit = env.gx_max_rows()
    marks = ", ".join("?" for _ in batch_ids)
    sql = f"select * from {RAW_SCHEMA}.{entity} where _batch_id in ({marks})"
    params: list = list(batch_ids)
    if rows > limit:
        # Every row already passed the contract's rules in SQL; the suite is an independent second
        # look, on a uniform sample, so that a 30M-row file is not half an hour of pandas.
        sql += " and random() < ?"
        params.append(limit / rows)
    # Streamed in chunks: memory is bounded by a chunk, not by the run's rows.
    suite = validate_chunks(entity, conn.query_df_chunks(sql, params))
    return dg.AssetCheckResult(
        check_name=SUITE_CHECK,
        passed=suite.success,
        metadata={
            "rows_validated": suite.rows,
            "rows_loaded": rows,
            "sampled": rows > limit,
            "expectations": suite.evaluated,
            "failed": "; ".join(suite.failed) or "none",
        },
    )


def drop_files(landing: LandingZoneResource, key: str, entity: str) -> list[Path]:
    """The entity's files of the drop and the drops before it (defs/ingest/drops.py)."""
    try:
        return files_up_to(landing.root, key, entity)
    except (FileNotFoundError, ValueError) as exc:
        raise dg.Failure(f"landing drop {key} cannot be read: {exc}") from exc


def ingest_entity(
    context: dg.AssetExecutionContext,
    warehouse: WarehouseResource,
    landing: LandingZoneResource,
    erp: ErpResource,
    entity: str,
) -> dg.MaterializeResult:
    source = env.ingest_source()
    files = drop_files(landing, context.partition_key, entity) if source != "erp" else []
    results: list[BatchResult] = []
    with warehouse.connect() as conn:
        ensure_raw_tables(conn)
        known = known_hashes(conn, entity)
        if source != "files":
            if not erp.resolved_url:
                raise dg.Failure(f"PARTSFLOW_SOURCE={source} needs PARTSFLOW_ERP_URL")
            erp_result = ingest_erp_changes(conn, entity, erp.resolved_url)
            if erp_result is not None:
                results.append(erp_result)
                context.log.info(f"{entity} from the ERP: {erp_result.as_dict()}")
        position = {path: i for i, path in enumerate(files, start=1)}
        for path, result in ingest_files(conn, entity, new_files(files, known)):
            if result is None:
                continue
            results.append(result)
            context.log.info(
                f"[{position[path]}/{len(files)}] {entity} {path.name}: read {result.rows_read}, "
                f"loaded {result.rows_loaded}, duplicates {result.rows_duplicate}, quarantined "
                f"{result.rows_quarantined}" + (f" ({result.message})" if result.message else "")
            )
        suite = _suite_check(conn, entity, results)
    totals = _summary(results)
    share = totals["rows_quarantined"] / totals["rows_read"] if totals["rows_read"] else 0.0
    limit = env.max_quarantine_share()
    unparseable = [r.file_name for r in results if r.status == "unparseable"]
    return dg.MaterializeResult(
        metadata={
            "files_seen": len(files),
            "new_batches": len(results),
            **totals,
            "quarantine_share": share,
            "unparseable_files": ", ".join(unparseable) or "none",
        },
        check_results=[
            dg.AssetCheckResult(
                check_name=QUARANTINE_CHECK,
                passed=share <= limit,
                metadata={"quarantine_share": share, "limit": limit, **totals},
                description=f"{share:.2%} of the rows read this run were quarantined "
                f"(limit {limit:.2%})",
            ),
            dg.AssetCheckResult(
                check_name=PARSEABLE_CHECK,
                passed=not unparseable,
                severity=dg.AssetCheckSeverity.WARN,
                metadata={"unparseable_files": ", ".join(unparseable) or "none"},
                description="Unparseable: " + ", ".join(unparseable) if unparseable else None,
            ),
            suite,
        ],
    )


def _ingest_asset(entity: str) -> dg.AssetsDefinition:
    key = dg.AssetKey([RAW_SCHEMA, entity])

    @dg.asset(
        key=key,
        deps=[dg.AssetKey([RAW_SCHEMA, e]) for e in upstream_entities(entity)],
        group_name="ingest",
        partitions_def=ingest_batches,
        owners=[OWNER],
        kinds={"python"},
        description=f"New {entity} batches validated into raw.{entity}, each exactly once.",
        check_specs=[
            dg.AssetCheckSpec(
                QUARANTINE_CHECK,
                asset=key,
                blocking=True,
                description="Blocks downstream assets when too many rows are quarantined.",
            ),
            dg.AssetCheckSpec(
                PARSEABLE_CHECK, asset=key, description="Warns naming files that cannot be read."
            ),
            dg.AssetCheckSpec(
                SUITE_CHECK,
                asset=key,
                description="Great Expectations suite on the rows loaded (a sample above "
                "PARTSFLOW_GX_MAX_ROWS).",
            ),
        ],
    )
    def _asset(
        context: dg.AssetExecutionContext,
        warehouse: WarehouseResource,
        landing: LandingZoneResource,
        erp: ErpResource,
    ) -> dg.MaterializeResult:
        return ingest_entity(context, warehouse, landing, erp, entity)

    return _asset


ingest_assets = [_ingest_asset(entity) for entity in CONTRACT]
