"""Looking at and reprocessing quarantined rows (the `partsflow quarantine` commands)."""

from __future__ import annotations

from collections.abc import Iterator

import pandas as pd

from orchestration.contract import CONTRACT
from orchestration.defs.ingest.batches import reprocess_quarantine
from orchestration.defs.ingest.loader import BatchResult
from orchestration.defs.ingest.raw_tables import QUARANTINE, ensure_raw_tables
from orchestration.warehouse import Connection

# Entities whose rows others reference come first, so a late master row unblocks its dependants.
LOAD_ORDER = tuple(CONTRACT)


def list_quarantine(
    conn: Connection,
    reason: str | None,
    entity: str | None,
    include_resolved: bool,
    limit: int,
) -> tuple[pd.DataFrame, int]:
    ensure_raw_tables(conn)
    where = (
        "(cast(? as text) is null or reason = ?) and (cast(? as text) is null or entity = ?) "
        "and (cast(? as boolean) or resolved_at is null)"
    )
    params = (reason, reason, entity, entity, include_resolved)
    total = conn.fetchall(f"select count(*) from {QUARANTINE} where {where}", params)[0][0]
    frame = conn.query_df(
        "select entity, batch_id, file_name, row_number, reason, message, resolved_at "
        f"from {QUARANTINE} where {where} order by quarantined_at, batch_id, row_number limit ?",
        (*params, limit),
    )
    return frame, int(total)


def reprocess_all(conn: Connection, entity: str | None = None) -> Iterator[BatchResult]:
    ensure_raw_tables(conn)
    for name in LOAD_ORDER:
        if entity in (None, name):
            result = reprocess_quarantine(conn, name)
            if result is not None:
                yield result
