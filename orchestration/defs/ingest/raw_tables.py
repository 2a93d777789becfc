"""DDL of the raw layer: one text table per entity plus the batch log."""

from __future__ import annotations

from orchestration.contract import column_names
from orchestration.warehouse import Connection, qualified, quote_ident

RAW_SCHEMA = "raw"
BATCHES_TABLE = "ingest_batches"


def ensure_raw_tables(conn: Connection, entity: str) -> None:
    cols = ",\n  ".join(f"{quote_ident(c)} text" for c in column_names(entity))
    conn.execute(f"create schema if not exists {quote_ident(RAW_SCHEMA)}")
    conn.execute(
        f"""create table if not exists {qualified(RAW_SCHEMA, entity)} (
  {cols},
  _batch_id text not null,
  _file_name text not null,
  _file_hash text not null,
  _row_number bigint not null,
  _loaded_at timestamp not null
)"""
    )
    # The unique (entity, file_hash) pair is what makes a batch load at most once, even when two
    # runs race on PostgreSQL.
    conn.execute(
        f"""create table if not exists {qualified(RAW_SCHEMA, BATCHES_TABLE)} (
  batch_id text primary key,
  entity text not null,
  file_name text not null,
  file_hash text not null,
  rows_read bigint not null,
  rows_loaded bigint not null,
  started_at timestamp not null,
  finished_at timestamp not null,
  status text not null,
  unique (entity, file_hash)
)"""
    )


def loaded_hashes(conn: Connection, entity: str) -> set[str]:
    rows = conn.fetchall(
        f"select file_hash from {qualified(RAW_SCHEMA, BATCHES_TABLE)} where entity = ?",
        (entity,),
    )
    return {r[0] for r in rows}
