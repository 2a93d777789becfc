"""Entry points that turn a source (a landing file, ERP changes, quarantined rows) into a batch."""

from __future__ import annotations

import hashlib
from pathlib import Path

import psycopg
import pyarrow as pa

from orchestration.contract import column_names
from orchestration.defs.ingest.loader import (
    BatchResult,
    Judgement,
    judge_staged_batch,
    load_staged_batch,
    record_unparseable,
    utcnow,
)
from orchestration.defs.ingest.raw_tables import QUARANTINE, WATERMARKS
from orchestration.defs.ingest.staging_area import (
    READER_ERRORS,
    RawRows,
    UnparseableFile,
    map_columns,
    reader_message,
    reset_staging,
    stage_file,
    stage_text_batches,
)
from orchestration.warehouse import Connection, quote_ident


def batch_id_for(entity: str, digest: str) -> str:
    return f"{entity}-{digest[:16]}"


def ingest_file(conn: Connection, entity: str, path: Path, digest: str) -> BatchResult | None:
    """Load one landing file exactly once; None when another run loaded it first."""
    return store_file(conn, entity, path, digest, judge_file(conn, entity, path))


def judge_file(conn: Connection, entity: str, path: Path) -> Judgement | UnparseableFile:
    """Stage the file and judge its rows into temp tables, outside any transaction: this reads
    no stored row of the entity, so it may run while the previous batch commits
    (read_ahead.py)."""
    try:
        return judge_staged_batch(conn, entity, stage_file(conn, entity, path))
    except UnparseableFile as exc:
        return exc
    except READER_ERRORS as exc:  # a file read lazily (see stage_file) failed to parse
        return UnparseableFile(reader_message(exc))


def store_file(
    conn: Connection, entity: str, path: Path, digest: str, judged: Judgement | UnparseableFile
) -> BatchResult | None:
    """The judged file's batch in one transaction: checks against the stored rows, quarantine,
    append, batch record. None when another run loaded it first."""
    batch_id = batch_id_for(entity, digest)
    started = utcnow()
    try:
        if isinstance(judged, UnparseableFile):
            raise judged
        with conn.transaction():
            try:
                return load_staged_batch(
                    conn,
                    entity,
                    batch_id=batch_id,
                    file_name=path.name,
                    file_hash=digest,
                    source="files",
                    started=started,
                    raw_rows=judged.raw_rows,
                    judgement=judged,
                )
            except READER_ERRORS as exc:  # the quarantine re-reads the file's raw rows
                raise UnparseableFile(reader_message(exc)) from exc
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
        reset_staging(conn)
        conn.execute("drop table if exists _pf_requeue")
        conn.execute(
            "create temp table _pf_requeue as select row_number() over (order by batch_id, "
            "row_number) as _row_number, raw_row as _raw_json, batch_id as _source_batch, "
            f"row_number as _source_row, {picks} from {QUARANTINE} where {open_rows}",
            (entity,),
        )
        conn.execute("create temp view _pf_batch as select * from _pf_requeue")
        result = load_staged_batch(
            conn,
            entity,
            batch_id=batch_id,
            file_name="quarantine",
            file_hash=batch_id,
            source="reprocess",
            started=started,
            raw_rows=RawRows("_pf_requeue", "f._raw_json"),
            requarantine=False,
        )
        # Loaded or already present (a duplicate of a stored row): either way no longer open.
        conn.execute(
            f"update {QUARANTINE} set resolved_at = ?, resolved_batch_id = ? where {open_rows} "
            "and exists (select 1 from _pf_requeue b join _pf_outcome o on o._row_number = "
            f"b._row_number where b._source_batch = {QUARANTINE}.batch_id and "
            f"b._source_row = {QUARANTINE}.row_number and o._outcome <> 'conflict')",
            (utcnow(), batch_id, entity),
        )
    return result


def erp_watermark(conn: Connection, entity: str) -> int:
    rows = conn.fetchall(
        f"select watermark from {WATERMARKS} where source = 'erp' and entity = ?", (entity,)
    )
    return int(rows[0][0]) if rows else 0


def ingest_erp_changes(conn: Connection, entity: str, erp_url: str) -> BatchResult | None:
    """Rows new or changed in the ERP since the stored watermark, as one exactly-once batch.

    The batch and the advanced watermark commit in the same warehouse transaction, so a crash
    either keeps both or neither, and the next run reads the same changes again.
    """
    from orchestration import erp

    after = erp_watermark(conn, entity)
    names = column_names(entity)
    seen = {"max": after}

    def tables():
        for _, rows, chunk_max in erp.read_changes(erp_url, entity, after):
            seen["max"] = max(seen["max"], chunk_max)
            columns = list(zip(*rows, strict=True)) if rows else [[] for _ in names]
            yield pa.table(
                [pa.array(c, pa.string()) for c in columns],
                names=[f"c{i}" for i in range(len(names))],
            )

    started = utcnow()
    with conn.transaction():
        stage_text_batches(conn, len(names), tables())
        if seen["max"] == after:
            return None  # nothing new; the empty transaction rolls back harmlessly
        raw_rows = map_columns(conn, entity, names)
        identity = f"erp:{entity}:{after}:{seen['max']}"
        digest = hashlib.sha256(identity.encode()).hexdigest()
        result = load_staged_batch(
            conn,
            entity,
            batch_id=batch_id_for(entity, digest),
            file_name=f"erp.{entity} change_seq {after + 1}..{seen['max']}",
            file_hash=digest,
            source="erp",
            started=started,
            raw_rows=raw_rows,
        )
        conn.execute(f"delete from {WATERMARKS} where source = 'erp' and entity = ?", (entity,))
        conn.execute(
            f"insert into {WATERMARKS} (source, entity, watermark, updated_at) "
            "values ('erp', ?, ?, ?)",
            (entity, seen["max"], utcnow()),
        )
    return result
