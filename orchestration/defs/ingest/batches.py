"""Entry points that turn a source (a landing file, ERP changes, quarantined rows) into a batch."""

from __future__ import annotations

from pathlib import Path

import psycopg

from orchestration.contract import column_names
from orchestration.defs.ingest.loader import (
    BatchResult,
    load_staged_batch,
    record_unparseable,
    utcnow,
)
from orchestration.defs.ingest.raw_tables import QUARANTINE
from orchestration.defs.ingest.staging_area import UnparseableFile, stage_file
from orchestration.warehouse import Connection, quote_ident


def batch_id_for(entity: str, digest: str) -> str:
    return f"{entity}-{digest[:16]}"


def ingest_file(conn: Connection, entity: str, path: Path, digest: str) -> BatchResult | None:
    """Load one landing file exactly once; None when another run loaded it first."""
    batch_id = batch_id_for(entity, digest)
    started = utcnow()
    try:
        with conn.transaction():
            stage_file(conn, entity, path)
            return load_staged_batch(
                conn,
                entity,
                batch_id=batch_id,
                file_name=path.name,
                file_hash=digest,
                source="files",
                started=started,
            )
    except UnparseableFile as exc:
        with conn.transaction():
            return record_unparseable(conn, entity, batch_id, path.name, digest, f"{path}: {exc}")
    except psycopg.errors.UniqueViolation:
        return None  # a concurrent run recorded this batch; its transaction won


def _json_field(conn: Connection, column: str) -> str:
    # `column` is a contract column name (ours), so it can be a literal JSON path.
    if conn.is_duckdb:
        return f"json_extract_string(raw_row, '$.\"{column}\"')"
    return f"cast(raw_row as json) ->> '{column}'"


def reprocess_quarantine(conn: Connection, entity: str) -> BatchResult | None:
    """Re-validate open quarantined rows of one entity; rows that now pass load exactly once."""
    open_rows = "entity = ? and resolved_at is null and reason <> 'unparseable_file'"
    count = conn.fetchall(f"select count(*) from {QUARANTINE} where {open_rows}", (entity,))
    if not count[0][0]:
        return None
    started = utcnow()
    batch_id = f"{entity}-reprocess-{started:%Y%m%dT%H%M%S%f}"
    picks = ", ".join(f"{_json_field(conn, c)} as {quote_ident(c)}" for c in column_names(entity))
    with conn.transaction():
        conn.execute("drop table if exists _pf_batch")
        conn.execute(
            "create temp table _pf_batch as select row_number() over (order by batch_id, "
            "row_number) as _row_number, raw_row as _raw_json, batch_id as _source_batch, "
            f"row_number as _source_row, {picks} from {QUARANTINE} where {open_rows}",
            (entity,),
        )
        result = load_staged_batch(
            conn,
            entity,
            batch_id=batch_id,
            file_name="quarantine",
            file_hash=batch_id,
            source="reprocess",
            started=started,
            requarantine=False,
        )
        # Loaded or already present (a duplicate of a stored row): either way no longer open.
        conn.execute(
            f"update {QUARANTINE} set resolved_at = ?, resolved_batch_id = ? where {open_rows} "
            "and exists (select 1 from _pf_batch b join _pf_outcome o on o._row_number = "
            f"b._row_number where b._source_batch = {QUARANTINE}.batch_id and "
            f"b._source_row = {QUARANTINE}.row_number and o._outcome <> 'conflict')",
            (utcnow(), batch_id, entity),
        )
    return result
