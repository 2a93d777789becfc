"""DDL of the raw layer: typed clean tables per entity, quarantine, batch log, ERP watermarks."""

from __future__ import annotations

from orchestration.contract import CONTRACT, ColumnType
from orchestration.defs.ingest.rules import RULES
from orchestration.warehouse import Connection, qualified, quote_ident

RAW_SCHEMA = "raw"
BATCHES = qualified(RAW_SCHEMA, "ingest_batches")
QUARANTINE = qualified(RAW_SCHEMA, "quarantine")
WATERMARKS = qualified(RAW_SCHEMA, "source_watermarks")

SQL_TYPES: dict[ColumnType, str] = {
    "text": "text",
    "int": "bigint",
    "decimal": "numeric(18,4)",
    "date": "date",
    "timestamp": "timestamp",
}
LINEAGE_DDL = (
    "_batch_id text not null, _file_name text not null, _file_hash text not null, "
    "_row_number bigint, _loaded_at timestamp not null"
)


def raw_table(entity: str) -> str:
    return qualified(RAW_SCHEMA, entity)


# Any constant shared by every PartsFlow process: the key of the advisory lock below.
DDL_LOCK_KEY = 0x5046_7261_7744_444C  # "PFrawDDL"


def ensure_raw_tables(conn: Connection) -> None:
    """Create every raw table once; idempotent, and cheap enough to call per asset."""
    with conn.transaction():
        if not conn.is_duckdb:
            # Two runs creating the same table at once collide in PostgreSQL's catalog (a
            # duplicate pg_type key) despite IF NOT EXISTS: the second waits for the first.
            conn.execute("select pg_advisory_xact_lock(?)", (DDL_LOCK_KEY,))
        _create_raw_tables(conn)


def _create_raw_tables(conn: Connection) -> None:
    conn.execute(f"create schema if not exists {quote_ident(RAW_SCHEMA)}")
    for entity, columns in CONTRACT.items():
        cols = ", ".join(f"{quote_ident(c.name)} {SQL_TYPES[c.type]}" for c in columns)
        conn.execute(f"create table if not exists {raw_table(entity)} ({cols}, {LINEAGE_DDL})")
        if not conn.is_duckdb:
            # Duplicate detection joins each batch to the stored keys; PostgreSQL needs an index
            # for that not to rescan the table per batch (DuckDB's hash join does not).
            keys = ", ".join(quote_ident(k) for k in RULES[entity].key)
            conn.execute(
                f"create index if not exists {quote_ident(f'ix_raw_{entity}_key')} "
                f"on {raw_table(entity)} ({keys})"
            )
    # The unique (entity, file_hash) pair makes a batch load at most once, even when two runs race.
    conn.execute(
        f"""create table if not exists {BATCHES} (
  batch_id text primary key, entity text not null, source text not null, file_name text not null,
  file_hash text not null, rows_read bigint not null, rows_loaded bigint not null,
  rows_duplicate bigint not null, rows_quarantined bigint not null,
  started_at timestamp not null, finished_at timestamp not null, status text not null,
  unique (entity, file_hash))"""
    )
    conn.execute(
        f"""create table if not exists {QUARANTINE} (
  batch_id text not null, entity text not null, file_name text not null, row_number bigint,
  raw_row text, reason text not null, message text not null, quarantined_at timestamp not null,
  resolved_at timestamp, resolved_batch_id text)"""
    )
    conn.execute(
        f"""create table if not exists {WATERMARKS} (
  source text not null, entity text not null, watermark bigint not null,
  updated_at timestamp not null, primary key (source, entity))"""
    )


def known_hashes(conn: Connection, entity: str) -> set[str]:
    rows = conn.fetchall(f"select file_hash from {BATCHES} where entity = ?", (entity,))
    return {r[0] for r in rows}
