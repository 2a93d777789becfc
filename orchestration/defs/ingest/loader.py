"""One batch, one transaction: validate, quarantine, drop duplicates, append the clean rows.

For every batch: rows_read = rows_loaded + rows_duplicate + rows_quarantined.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime

from orchestration.contract import CONTRACT
from orchestration.defs.ingest.raw_tables import BATCHES, QUARANTINE, raw_table
from orchestration.defs.ingest.rules import RULES
from orchestration.defs.ingest.staging_area import RawRows
from orchestration.defs.ingest.validate import checked_sql, message_sql, reference_sql
from orchestration.warehouse import Connection, quote_ident


@dataclass(frozen=True)
class BatchResult:
    batch_id: str
    entity: str
    file_name: str
    status: str  # loaded | unparseable
    rows_read: int
    rows_loaded: int
    rows_duplicate: int
    rows_quarantined: int
    message: str = ""

    def as_dict(self) -> dict:
        return asdict(self)


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _same(a: str, b: str, cols: list[str]) -> str:
    return " and ".join(
        f"{a}.{quote_ident(c)} is not distinct from {b}.{quote_ident(c)}" for c in cols
    )


def _on_key(a: str, b: str, key: tuple[str, ...]) -> str:
    return " and ".join(f"{a}.{quote_ident(k)} = {b}.{quote_ident(k)}" for k in key)


def _mark_category_cycles(conn: Connection) -> None:
    """A category that reaches itself by following parents (stored ones and this batch's)."""
    raw = raw_table("categories")
    conn.execute(
        f"""update _pf_judged set _reason = 'category_cycle'
where _reason is null and category_id in (
  with recursive edges as (
    select category_id, parent_category_id from _pf_judged where _reason is null
    union all
    select r.category_id, r.parent_category_id from {raw} r
    where not exists (select 1 from _pf_judged c where c.category_id = r.category_id)
  ),
  walk (start_id, node, depth) as (
    select category_id, parent_category_id, 1 from edges where parent_category_id is not null
    union all
    select w.start_id, e.parent_category_id, w.depth + 1 from walk w
    join edges e on e.category_id = w.node
    where w.node <> w.start_id and e.parent_category_id is not null and w.depth < 1000
  )
  select start_id from walk where node = start_id)"""
    )


def _classify(conn: Connection, entity: str, repeats: bool) -> None:
    """_pf_outcome: every valid row with its outcome (loaded, duplicate or conflict).

    A row is compared with the one before it in the batch (same key; the first of the key for
    immutable entities) through window functions, and with what is stored through one join.
    """
    rules = RULES[entity]
    cols = [c.name for c in CONTRACT[entity]]
    keys = ", ".join(quote_ident(k) for k in rules.key)
    before = "lag" if rules.versioned else "first_value"
    window = f"over (partition by {keys} order by _row_number)"
    previous = ", ".join(
        f"{before}({quote_ident(c)}) {window} as {quote_ident('_prev_' + c)}" for c in cols
    )
    same_as_previous = " and ".join(
        f"v.{quote_ident(c)} is not distinct from v.{quote_ident('_prev_' + c)}" for c in cols
    )
    ranked = (
        f"select b.*, row_number() {window} as _rank, {previous} "
        "from _pf_checked b where b._reason is null"
    )
    if not repeats:
        # The usual batch has each key once: skip the window functions.
        ranked = "select b.* from _pf_checked b where b._reason is null"
    raw = raw_table(entity)
    if conn.is_duckdb:
        # Only stored rows whose key occurs in this batch matter; a hash join over them is cheap.
        col_list = ", ".join(quote_ident(c) for c in cols)
        in_batch = (
            f"from {raw} s where exists (select 1 from _pf_checked k "
            f"where k._reason is null and {_on_key('k', 's', rules.key)})"
        )
        latest = "_loaded_at desc, _batch_id desc, _row_number desc"
        stored = (
            f"select * from (select {col_list}, row_number() over (partition by {keys} "
            f"order by {latest}) as _n {in_batch}) x where _n = 1"
            if rules.versioned
            else f"select {col_list}, 1 as _n {in_batch}"  # immutable: one stored row per key
        )
        stored_join = f"left join ({stored}) r on {_on_key('r', 'v', rules.key)}"
    else:
        # PostgreSQL: probe the key index once per batch row instead of scanning a table that
        # grows with every batch.
        s_cols = ", ".join(f"s.{quote_ident(c)}" for c in cols)
        stored_join = (
            f"left join lateral (select 1 as _n, {s_cols} from {raw} s where "
            f"{_on_key('s', 'v', rules.key)} order by s._loaded_at desc, s._batch_id desc, "
            "s._row_number desc limit 1) r on true"
        )
    other = "loaded" if rules.versioned else "conflict"
    within_batch = (
        f"when v._rank > 1 then case when {same_as_previous} then 'duplicate' else '{other}' end "
        if repeats
        else ""
    )
    outcome = (
        f"case {within_batch}when r._n is null then 'loaded' "
        f"when {_same('v', 'r', cols)} then 'duplicate' else '{other}' end"
    )
    v_cols = ", ".join(f"v.{quote_ident(c)}" for c in cols)
    conn.execute(
        f"create temp table _pf_classified as select v._row_number, {v_cols}, {outcome} "
        f"as _outcome from ({ranked}) v {stored_join}"
    )
    if not conn.is_duckdb:
        conn.execute("analyze _pf_classified")  # for the quarantine joins; temp tables have none
    conn.execute("create temp view _pf_outcome as select * from _pf_classified")


def _all_valid_rows_load(conn: Connection, entity: str) -> None:
    """_pf_outcome when no key repeats in the batch or is stored: every valid row loads. A view,
    because copying the batch once more is the costliest part of classifying it."""
    cols = ", ".join(quote_ident(c.name) for c in CONTRACT[entity])
    conn.execute(
        f"create temp view _pf_outcome as select _row_number, {cols}, 'loaded' as _outcome "
        "from _pf_checked where _reason is null"
    )


def _repeats_a_key(conn: Connection, entity: str) -> bool:
    keys = ", ".join(quote_ident(k) for k in RULES[entity].key)
    rows = conn.fetchall(
        f"select count(*) - count(distinct ({keys})) from _pf_judged where _reason is null"
        if keys.count(",") == 0
        else f"select count(*) - (select count(*) from (select distinct {keys} from _pf_judged "
        "where _reason is null) d) from _pf_judged where _reason is null"
    )
    return bool(rows[0][0])


def _any_key_stored(conn: Connection, entity: str) -> bool:
    """Whether a valid row's key is already stored."""
    raw, on = raw_table(entity), _on_key("k", "s", RULES[entity].key)
    if conn.is_duckdb:
        # A hash join; DuckDB prunes the stored side by the batch keys' min/max, so the scan
        # stays cheap as the table grows when keys arrive roughly in order.
        sql = f"select exists (select 1 from {raw} s join _pf_judged k on {on} "
        sql += "where k._reason is null)"
    else:
        # First one index range probe: when no stored key's first column lies within the batch's
        # range, no key is stored (the usual feed, whose new ids follow the stored ones).
        first = quote_ident(RULES[entity].key[0])
        lo, hi = conn.fetchall(
            f"select min({first}), max({first}) from _pf_judged where _reason is null"
        )[0]
        if lo is None:
            return False
        in_range = f"select exists (select 1 from {raw} where {first} between ? and ?)"
        if not conn.fetchall(in_range, (lo, hi))[0][0]:
            return False
        # Else one key-index probe per batch row: OFFSET 0 keeps PostgreSQL from turning this
        # into a join, which it would plan blind (temp tables have no statistics) and could
        # nest-loop.
        sql = (
            "select exists (select 1 from _pf_judged k where k._reason is null and exists "
            f"(select 1 from {raw} s where {on} offset 0))"
        )
    return bool(conn.fetchall(sql)[0][0])


@dataclass(frozen=True)
class Judgement:
    """A staged batch judged into _pf_judged; `repeats`: whether a valid row's key repeats in
    it, None until the checks against stored rows of the entity itself have run."""

    raw_rows: RawRows
    repeats: bool | None


def judge_staged_batch(conn: Connection, entity: str, raw_rows: RawRows) -> Judgement:
    """_pf_judged: `_pf_batch` typed and judged by the row rules and (unless the entity refers
    to itself) its references. Temp tables only, and it reads no stored row of the entity
    itself, so it may run before the batch's transaction begins (read_ahead.py overlaps it with
    the previous batch's)."""
    for statement in checked_sql(entity, conn.is_duckdb, raw_rows.numbered):
        conn.execute(statement)
    if any(r.entity == entity for r in RULES[entity].references):
        return Judgement(raw_rows, None)  # category parents: checked in the transaction
    _mark_unknown_references(conn, entity)
    return Judgement(raw_rows, _repeats_a_key(conn, entity))


def _mark_unknown_references(conn: Connection, entity: str) -> None:
    references = reference_sql(entity) if conn.is_duckdb else None
    if references:
        check, update = references
        if check is None or conn.fetchall(f"select {check}")[0][0]:
            conn.execute(update)


def load_staged_batch(
    conn: Connection,
    entity: str,
    *,
    batch_id: str,
    file_name: str,
    file_hash: str,
    source: str,
    started: datetime,
    raw_rows: RawRows,
    requarantine: bool = True,
    judgement: Judgement | None = None,
) -> BatchResult:
    """Validate `_pf_batch` and write its outcome; the caller holds the transaction.

    `requarantine=False` (reprocessing) leaves rows that still fail where they already are.
    `judgement`: `judge_staged_batch` has already run (outside the transaction).
    """
    repeats = (judgement or judge_staged_batch(conn, entity, raw_rows)).repeats
    if repeats is None:
        _mark_unknown_references(conn, entity)
        if entity == "categories":
            _mark_category_cycles(conn)
        repeats = _repeats_a_key(conn, entity)
    read, rejected = conn.fetchall("select count(*), count(_reason) from _pf_judged")[0]
    read, rejected = int(read), int(rejected)
    if repeats or _any_key_stored(conn, entity):
        _classify(conn, entity, repeats)
        outcomes = conn.fetchall("select _outcome, count(*) from _pf_outcome group by _outcome")
        counts = {k: int(n) for k, n in outcomes}
        loaded, duplicate = counts.get("loaded", 0), counts.get("duplicate", 0)
    else:
        _all_valid_rows_load(conn, entity)
        loaded, duplicate = read - rejected, 0
    quarantined = read - loaded - duplicate
    if quarantined and requarantine:
        _quarantine_rejected(conn, entity, batch_id, file_name, raw_rows)
    cols = ", ".join(quote_ident(c.name) for c in CONTRACT[entity])
    conn.execute(
        f"insert into {raw_table(entity)} ({cols}, _batch_id, _file_name, _file_hash, "
        f"_row_number, _loaded_at) select {cols}, ?, ?, ?, _row_number, ? from _pf_outcome "
        "where _outcome = 'loaded'",
        (batch_id, file_name, file_hash, started),
    )
    result = BatchResult(
        batch_id, entity, file_name, "loaded", read, loaded, duplicate, quarantined
    )
    record_batch(conn, result, source, file_hash, started)
    return result


def _quarantine_rejected(
    conn: Connection, entity: str, batch_id: str, file_name: str, raw_rows: RawRows
) -> None:
    """Rows that broke a rule or conflict with a stored key, with their raw row and message."""
    if not conn.is_duckdb:
        # Fresh temp tables have no statistics; without them PostgreSQL may nest-loop the joins.
        for table in (raw_rows.table, "_pf_judged"):
            conn.execute(f"analyze {table}")
    now = utcnow()
    key_text = " || ', ' || ".join(f"cast(b.{quote_ident(k)} as text)" for k in RULES[entity].key)
    lineage = (batch_id, entity, file_name)
    raw_join = f"join {raw_rows.table} f on f._row_number = b._row_number"
    insert = (
        f"insert into {QUARANTINE} (batch_id, entity, file_name, row_number, raw_row, reason, "
        f"message, quarantined_at) select ?, ?, ?, b._row_number, {raw_rows.expr}, "
    )
    conn.execute(
        f"{insert} b._reason, {message_sql(entity)}, ? from _pf_checked b {raw_join} "
        "where b._reason is not null",
        (*lineage, *raw_rows.params, now),
    )
    conn.execute(
        f"{insert} 'conflicting_duplicate', ? || {key_text} || "
        "' was delivered before with other content', ? from _pf_outcome b "
        f"{raw_join} where b._outcome = 'conflict'",
        (*lineage, *raw_rows.params, f"{', '.join(RULES[entity].key)} ", now),
    )


def record_batch(
    conn: Connection, result: BatchResult, source: str, file_hash: str, started: datetime
) -> None:
    conn.execute(
        f"insert into {BATCHES} (batch_id, entity, source, file_name, file_hash, rows_read, "
        "rows_loaded, rows_duplicate, rows_quarantined, started_at, finished_at, status) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            result.batch_id,
            result.entity,
            source,
            result.file_name,
            file_hash,
            result.rows_read,
            result.rows_loaded,
            result.rows_duplicate,
            result.rows_quarantined,
            started,
            utcnow(),
            result.status,
        ),
    )


def record_unparseable(
    conn: Connection, entity: str, batch_id: str, file_name: str, file_hash: str, message: str
) -> BatchResult:
    """A file that cannot be read is one quarantine row; its hash is kept so it is not retried."""
    now = utcnow()
    result = BatchResult(batch_id, entity, file_name, "unparseable", 0, 0, 0, 0, message)
    conn.execute(
        f"insert into {QUARANTINE} (batch_id, entity, file_name, row_number, raw_row, reason, "
        "message, quarantined_at) values (?, ?, ?, null, null, 'unparseable_file', ?, ?)",
        (batch_id, entity, file_name, message, now),
    )
    record_batch(conn, result, "files", file_hash, now)
    return result
