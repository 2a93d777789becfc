"""Set-based validation: SQL generated from the contract and the rules, run inside the warehouse.

Input is the temp view `_pf_batch` (one text column per contract column, and `_row_number` unless
the rows are numbered in scan order). Output is the table `_pf_judged`: typed columns, the text as
delivered (`_txt_<col>`; on DuckDB one list `_txts`), and `_reason` for rows breaking a rule
(`message_sql` explains them, for those rows only); the view `_pf_checked` adds `_row_number` to
it (and names the kept texts `_txt_<col>`). Casts are gated by regular
expressions so that no value can make a statement fail: a bad value becomes a quarantined row,
never an error.

On DuckDB a value in the canonical spelling the generator and most exports write (`2024-03-01`,
`2024-03-01T10:00:00`, `-12`) skips the regular expressions: it is cast once and accepted when
printing the result gives back the text exactly and it lies in years 1000-9999. Such a text
matches the regular expression and the gated cast reads it to the same value, so the fast path
decides nothing on its own; every other value takes the gated path. PostgreSQL, which has no
try_cast, admits the same spellings by a test cheaper than the gated one (_PG_CANONICAL).
tests/orchestration/test_fast_typing.py holds the edge values for both.
"""

from __future__ import annotations

from orchestration.contract import CONTRACT, Column
from orchestration.defs.ingest.raw_tables import raw_table
from orchestration.defs.ingest.rules import RULES
from orchestration.warehouse import quote_ident

INT_RE = r"^[+-]?[0-9]{1,18}(\.0+)?$"
DEC_RE = r"^[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]{1,2})?$"
DATE_RE = r"^[1-9][0-9]{3}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
TIME_RE = r"[T ]([01][0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]{1,9})?)?"
OFFSET_RE = r"( ?([Zz]|[+-]([01][0-9]|2[0-3])(:?[0-5][0-9])?))"
# A date alone, or a date and time with an optional UTC offset (ISO-8601 has no offset on a date).
TS_RE = f"{DATE_RE}({TIME_RE}{OFFSET_RE}?)?$"
# The same without an offset: most values; a plain cast reads them (see _duckdb_timestamp).
TS_LOCAL_RE = f"{DATE_RE}({TIME_RE})?$"
MAX_DECIMAL = 1e14  # numeric(18,4) holds 14 integer digits
MAX_ID_LENGTH = 64


def _lit(text: str) -> str:
    """A SQL string literal of our own constant text (never of data)."""
    return "'" + text.replace("'", "''") + "'"


def _clean(col: str) -> str:
    return f"nullif(trim({quote_ident(col)}), '')"


def _day_ok(text: str) -> str:
    # Day of month within the month's length, so that e.g. 2024-02-30 is a bad value, not an error.
    year, month = f"cast(substr({text}, 1, 4) as int)", f"cast(substr({text}, 6, 2) as int)"
    last = (
        f"extract(day from make_date({year}, {month}, 1) + interval '1 month' - interval '1 day')"
    )
    # Days up to 28 exist in every month; only the rest need the (costlier) calendar lookup.
    day = f"cast(substr({text}, 9, 2) as int)"
    return f"(case when {day} <= 28 then true else {day} <= {last} end)"


def _duckdb_timestamp(t: str) -> str:
    """DuckDB: a plain cast where no offset is given (most values, 3x cheaper than the time zone
    path; one regex decides, as a second search for the offset cost as much as the first);
    otherwise the offset is normalised to a form DuckDB's parser takes and applied."""
    offset_form = f"regexp_replace(regexp_replace({t}, ' ?[Zz]$', '+00:00'), ' ([+-])', '\\1')"
    with_offset = (
        f"case when {_day_ok(t)} then cast(cast({offset_form} as timestamp with time zone) "
        "at time zone 'UTC' as timestamp) end"
    )
    return (
        f"case when {t} ~ {_lit(TS_LOCAL_RE)} then try_cast({t} as timestamp) "
        f"when {t} ~ {_lit(TS_RE)} then {with_offset} end"
    )


# DuckDB prints these types this way; years 1000-9999 keep %Y at the 4 digits DATE_RE wants and
# rule out 'infinity' and BC dates (which print back as themselves).
_CANONICAL = {
    "int": ("bigint", "cast({v} as text)", "abs({v}) < 1000000000000000000"),
    "date": ("date", "cast({v} as text)", "{v} between date '1000-01-01' and date '9999-12-31'"),
    "timestamp": (
        "timestamp",
        "strftime({v}, '%Y-%m-%dT%H:%M:%S')",
        "{v} between timestamp '1000-01-01' and timestamp '9999-12-31 23:59:59'",
    ),
}


# PostgreSQL has no try_cast: its fast path is a cheaper test than the gated regular expressions
# that admits only the canonical spelling, which they accept and read to the same value (days up
# to 28 exist in every month; sessions run in UTC, so a timestamp without an offset casts alike).
_PG_CANONICAL = {
    "int": ("bigint", "length({v}) between 1 and 18 and translate({v}, '0123456789', '') = ''"),
    "date": ("date", "{v} ~ " + _lit(DATE_RE + "$") + " and substr({v}, 9, 2) <= '28'"),
    "timestamp": (
        "timestamp",
        "{v} ~ "
        + _lit(DATE_RE + "T([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]$")
        + " and substr({v}, 9, 2) <= '28'",
    ),
}


def canonical_guard(column: Column, is_duckdb: bool = True) -> tuple[str, str]:
    """(condition, value) of the fast path: the condition holds for canonical text only."""
    q = quote_ident(column.name)
    if not is_duckdb:
        sql_type, guard = _PG_CANONICAL[column.type]
        return guard.replace("{v}", q), f"cast({q} as {sql_type})"
    sql_type, printed, bounds = _CANONICAL[column.type]
    v = f"try_cast({q} as {sql_type})"
    return f"{printed.replace('{v}', v)} = {q} and {bounds.replace('{v}', v)}", v


def typed_expr(
    column: Column, enums: dict[str, tuple[str, ...]], is_duckdb: bool = True, fast: bool = True
) -> str:
    """SQL typing one text column; `fast=False` keeps to the gated path alone (tests)."""
    if fast and column.type in _CANONICAL:
        # The canonical spelling cast directly, everything else through the gated expression.
        guard, value = canonical_guard(column, is_duckdb)
        gated = typed_expr(column, enums, is_duckdb, fast=False)
        return f"case when {guard} then {value} else {gated} end"
    t = _clean(column.name)
    if column.type == "int":
        return f"case when {t} ~ {_lit(INT_RE)} then cast(split_part({t}, '.', 1) as bigint) end"
    if column.type == "decimal":
        # Typed as stored (numeric(18,4)), so duplicates compare exactly with stored rows; a
        # value too large for it stays NULL here and is reported as out of range.
        as_double = f"cast({t} as double precision)"
        return (
            f"case when {t} ~ {_lit(DEC_RE)} then case when abs({as_double}) < {MAX_DECIMAL} "
            f"then cast({as_double} as numeric(18,4)) end end"
        )
    if column.type == "date" and is_duckdb:
        return f"case when {t} ~ {_lit(DATE_RE + '$')} then try_cast({t} as date) end"
    if column.type == "timestamp" and is_duckdb:
        return _duckdb_timestamp(t)
    if column.type == "date":
        return (
            f"case when {t} ~ {_lit(DATE_RE + '$')} then "
            f"case when {_day_ok(t)} then cast({t} as date) end end"
        )
    if column.type == "timestamp":
        # Warehouse sessions run in UTC (warehouse.connect), so a value without an offset is
        # read as UTC and one with an offset is converted: one cast serves both.
        to_utc = f"cast(cast({t} as timestamp with time zone) at time zone 'UTC' as timestamp)"
        return f"case when {t} ~ {_lit(TS_RE)} then case when {_day_ok(t)} then {to_utc} end end"
    if column.name in enums:
        # Enums are matched case-insensitively and stored as the contract spells them.
        upper = all(v.isupper() for v in enums[column.name])
        return f"{'upper' if upper else 'lower'}({t})"
    # Text and ids stay exactly as delivered (ids may contain spaces); only '' means NULL.
    return f"nullif({quote_ident(column.name)}, '')"


def _txt(col: str) -> str:
    return quote_ident(f"_txt_{col}")


def _value_message(col: str, before: str, after: str) -> str:
    """Message SQL quoting the delivered value: <before>"<value>"<after>."""
    return f"{_lit(before + chr(34))} || {_txt(col)} || {_lit(chr(34) + after)}"


def _checks(entity: str, batch: str = "_pf_batch") -> list[tuple[str, str, str]]:
    """(condition, reason, message SQL) in the order rows are judged."""
    rules = RULES[entity]
    cols = CONTRACT[entity]
    out: list[tuple[str, str, str]] = []
    for c in cols:
        if c.required:
            out.append(
                (f"{_txt(c.name)} is null", "missing_required", _lit(f"{c.name} is required"))
            )
    for c in cols:
        if c.type == "decimal":
            out.append(
                (
                    f"{_txt(c.name)} ~ {_lit(DEC_RE)} and {quote_ident(c.name)} is null",
                    "out_of_range",
                    _lit(f"{c.name} is too large"),
                )
            )
    for c in cols:
        if c.type != "text":
            q = quote_ident(c.name)
            msg = _value_message(c.name, f"{c.name} ", f" is not a valid {c.type}")
            out.append((f"{_txt(c.name)} is not null and {q} is null", "bad_type", msg))
    for col, allowed in rules.enums.items():
        q = quote_ident(col)
        values = ", ".join(_lit(v) for v in allowed)
        msg = _value_message(col, f"{col} ", " is not one of " + ", ".join(allowed))
        out.append((f"{q} is not null and {q} not in ({values})", "unknown_enum", msg))
    for col in rules.ids:
        q = quote_ident(col)
        out.append(
            (f"length({q}) > {MAX_ID_LENGTH}", "out_of_range", _lit(f"{col} is longer than 64"))
        )
    for c in cols:
        q = quote_ident(c.name)
        if c.type in ("date", "timestamp"):
            out.append(
                (
                    f"{q} < date '2000-01-01'",
                    "out_of_range",
                    _value_message(c.name, f"{c.name} ", " is before 2000-01-01"),
                )
            )
    for r in rules.ranges:
        out.append((f"({r.violated})", "out_of_range", _lit(r.message)))
    for col in rules.not_future:
        q = quote_ident(col)
        out.append(
            (
                # The bound as a plain timestamp (sessions run in UTC, see warehouse.connect):
                # comparing with a timestamptz converted every row's value first.
                f"{q} > cast(current_timestamp + interval '1 day' as timestamp)",
                "future_timestamp",
                _value_message(col, f"{col} ", " is more than 1 day in the future"),
            )
        )
    for ref in rules.references:
        q = quote_ident(ref.column)
        target = quote_ident(ref.target)
        cond = f"b.{q} is not null and not exists (select 1 from {raw_table(ref.entity)} r "
        cond += f"where r.{target} = b.{q})"
        if ref.in_batch:
            cond += f" and not exists (select 1 from {batch} x where x.{target} = b.{q})"
        # The id as typed is the id as delivered (ids are only NULLed when empty).
        msg = f"{_lit(f'unknown {ref.column} ' + chr(34))} || b.{q} || {_lit(chr(34))}"
        out.append((cond, "unknown_reference", msg))
    return out


def checked_sql(entity: str, is_duckdb: bool = True, numbered: bool = True) -> list[str]:
    """Statements creating _pf_judged and the view _pf_checked from _pf_batch.

    `numbered=False`: _pf_batch has no `_row_number`; rows are numbered in scan order, which
    DuckDB keeps (insertion order is preserved), so the heavy statements still run in parallel.
    """
    cols = CONTRACT[entity]
    enums = RULES[entity].enums
    typed = ",\n    ".join(
        f"{typed_expr(c, enums, is_duckdb)} as {quote_ident(c.name)}, "
        f"nullif({quote_ident(c.name)}, '') as {_txt(c.name)}"
        for c in cols
    )
    # Dependents first: the outcome view (loader.py) reads _pf_checked.
    reset = [
        "drop view if exists _pf_outcome",
        "drop table if exists _pf_classified",
        "drop view if exists _pf_checked",
        "drop table if exists _pf_judged",
    ]
    names = ", ".join(quote_ident(c.name) for c in cols)
    # The text as delivered is only kept for rows a rule rejects (their messages quote it);
    # copying it for every row cost as much as the typing.
    texts = ", ".join(
        f"case when _reason is not null then {_txt(c.name)} end as {_txt(c.name)}" for c in cols
    )
    if not is_duckdb:
        reason = " ".join(f"when {cond} then {_lit(code)}" for cond, code, _ in _checks(entity))
        # OFFSET 0 keeps PostgreSQL from inlining the subqueries (which would re-parse a value
        # once per rule reading it, and judge a row once per text column kept).
        return [
            *reset,
            f"create temp table _pf_judged as select _row_number, {names}, {texts}, _reason "
            f"from (select b.*, case {reason} end as _reason "
            f"from (select _row_number, {typed} from _pf_batch offset 0) b offset 0) j",
            "create temp view _pf_checked as select * from _pf_judged",
        ]
    # DuckDB: type and judge the row rules in one pass. References come last and need joins,
    # which would reorder the rows this statement numbers in scan order: they mark the (rare)
    # failures afterwards (reference_sql).
    row_checks = [c for c in _checks(entity) if c[1] != "unknown_reference"]
    reason = " ".join(f"when {cond} then {_lit(code)}" for cond, code, _ in row_checks)
    number = "_row_number, " if numbered else ""
    with_number = "*" if numbered else "row_number() over () as _row_number, *"
    # One list column instead of one text column each: a clean row then stores a single NULL
    # (a NULL text column still costs its full width per row); the view names them again.
    kept = ", ".join(_txt(c.name) for c in cols)
    kept = f"case when _reason is not null then list_value({kept}) end as _txts"
    named = ", ".join(f"_txts[{i}] as {_txt(c.name)}" for i, c in enumerate(cols, start=1))
    return [
        *reset,
        f"create temp table _pf_judged as select {number}{names}, {kept}, _reason from "
        f"(select *, case {reason} end as _reason "
        f"from (select {number}{typed} from _pf_batch) b) j",
        f"create temp view _pf_checked as select {with_number}, {named} from _pf_judged",
    ]


def reference_sql(entity: str) -> tuple[str | None, str] | None:
    """DuckDB: (check, update) marking the valid rows of _pf_judged whose reference is unknown.

    The update only has to run when `check` (a boolean SQL expression) finds an unknown value
    among the batch's distinct referenced values: a third of the cost of the update's anti-joins
    per row, which find nothing in the usual batch. `check` is None when a reference may point
    into the batch itself (category parents): the update then always runs.
    """
    rules = RULES[entity]
    conds = [(cond, code) for cond, code, _ in _checks(entity, "_pf_judged")]
    refs = [cond for cond, code in conds if code == "unknown_reference"]
    if not refs:
        return None
    update = "update _pf_judged b set _reason = 'unknown_reference' where _reason is null and ("
    update += " or ".join(f"({cond})" for cond in refs) + ")"
    if any(r.in_batch for r in rules.references):
        return None, update
    # Each condition reads only b.<its column>, so it holds for some row iff for some value.
    check = " or ".join(
        f"exists (select 1 from (select distinct {quote_ident(r.column)} from _pf_judged "
        f"where _reason is null) b where {cond})"
        for r, cond in zip(rules.references, refs, strict=True)
    )
    return check, update


def message_sql(entity: str) -> str:
    """The readable message of a rejected row of _pf_checked (alias b); built for those only.

    A row failing a reference passed every other rule, and on DuckDB keeps no delivered text
    (see checked_sql): its message is built from the reference rules alone.
    """
    checks = _checks(entity, batch="_pf_judged")
    rows = " ".join(f"when {c} then {m}" for c, code, m in checks if code != "unknown_reference")
    refs = " ".join(f"when {c} then {m}" for c, code, m in checks if code == "unknown_reference")
    whens = [f"when b._reason = 'unknown_reference' then case {refs} end"] if refs else []
    if entity == "categories":  # the cycle rule is set-based (loader.py), after the row rules
        # Read from the id itself: the delivered text is only kept for rows rejected by a rule.
        cycle = "'category_id \"' || b.category_id || '\" is its own ancestor'"
        whens.insert(0, f"when b._reason = 'category_cycle' then {cycle}")
    if not whens:
        return f"case {rows} end"
    return "case " + " ".join(whens) + f" else case {rows} end end"
