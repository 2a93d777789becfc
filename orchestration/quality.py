"""Great Expectations suites for the clean entities of ../shared/DATA_CONTRACT.md.

One suite per entity, built from `contract.CONTRACT` (column set, required columns) plus the
contract's value rules below. Great Expectations is imported inside functions only: the import costs
~3 s and the Dagster code location imports this module at load time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import cache
from types import ModuleType
from typing import TYPE_CHECKING, Any

import pandas as pd

from orchestration.contract import CONTRACT, LINEAGE_COLUMNS, column_names, required_columns

if TYPE_CHECKING:
    from great_expectations.core import ExpectationValidationResult
    from great_expectations.expectations import Expectation

TRANSACTION_TYPES = ("ISSUE", "RECEIPT", "TRANSFER_OUT", "TRANSFER_IN", "RETURN", "ADJUSTMENT")
OCCURRED_AT_MIN = datetime(2000, 1, 1)
MAX_KEY_LENGTH = 64

# Value rules of the contract. Columns named here must exist in CONTRACT (checked when a suite is
# built), so a renamed column fails loudly instead of silently dropping its rule.
_NON_NEGATIVE: dict[str, tuple[str, ...]] = {
    "suppliers": ("lead_time_days",),
    "parts": ("unit_cost", "unit_price", "lead_time_days"),
    "stock_levels": ("on_hand", "reorder_threshold", "critical_threshold"),
}
_UNIT_INTERVAL: dict[str, tuple[str, ...]] = {"suppliers": ("reliability_score",)}
_ENUMS: dict[str, dict[str, tuple[str, ...]]] = {
    "locations": {"location_type": ("warehouse", "service_center")},
    # Null status is legal (ingest defaults it to active); value-set checks ignore nulls.
    "stock_levels": {"status": ("active", "discontinued", "quarantined")},
    "transactions": {"type": TRANSACTION_TYPES},
    "purchase_orders": {"status": ("OPEN", "RECEIVED", "CANCELLED")},
}
_UNIQUE: dict[str, tuple[str, ...]] = {
    "transactions": ("transaction_id",),
    # A po_id has one row per state change; the latest updated_at is its current state.
    "purchase_orders": ("po_id", "updated_at"),
}


@dataclass(frozen=True)
class SuiteResult:
    entity: str
    success: bool
    evaluated: int
    failed: list[str]  # one description per failed expectation
    rows: int


def expectations(entity: str, now: datetime | None = None) -> list[Expectation]:
    """The entity's suite. `now` (naive UTC) bounds occurred_at; defaults to the current time."""
    _gx()
    import great_expectations.expectations as gxe
    from great_expectations.expectations.row_conditions import Column as Row

    names = column_names(entity)  # KeyError for an unknown entity
    now = now or datetime.now(UTC).replace(tzinfo=None)
    suite: list[Expectation] = [
        gxe.ExpectTableColumnsToMatchSet(column_set=names, exact_match=True)
    ]
    # Every key id is required in the contract, so this also covers "ids not null"; optional ids
    # (parent_category_id, supplier_id, user_id) are null by design.
    suite += [gxe.ExpectColumnValuesToNotBeNull(column=c) for c in required_columns(entity)]
    # Keys are any non-empty string up to 64 characters.
    suite += [
        gxe.ExpectColumnValueLengthsToBeBetween(column=c, min_value=1, max_value=MAX_KEY_LENGTH)
        for c in names
        if c.endswith("_id")
    ]
    suite += [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
        for c in _NON_NEGATIVE.get(entity, ())
    ]
    suite += [
        gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0, max_value=1)
        for c in _UNIT_INTERVAL.get(entity, ())
    ]
    suite += [
        gxe.ExpectColumnValuesToBeInSet(column=c, value_set=list(values))
        for c, values in _ENUMS.get(entity, {}).items()
    ]
    unique = _UNIQUE.get(entity, ())
    if len(unique) == 1:
        suite.append(gxe.ExpectColumnValuesToBeUnique(column=unique[0]))
    elif unique:
        suite.append(gxe.ExpectCompoundColumnsToBeUnique(column_list=list(unique)))

    if entity == "stock_levels":
        # 0 <= critical_threshold <= reorder_threshold; rows missing either are not compared.
        suite.append(
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(
                column_A="reorder_threshold",
                column_B="critical_threshold",
                or_equal=True,
                ignore_row_if="either_value_is_missing",
                description="critical_threshold <= reorder_threshold",
            )
        )
    elif entity == "transactions":
        # ADJUSTMENT is a signed non-zero delta; every other type moves a positive quantity.
        suite += [
            gxe.ExpectColumnValuesToNotBeInSet(column="quantity", value_set=[0]),
            gxe.ExpectColumnValuesToBeBetween(
                column="quantity",
                min_value=0,
                strict_min=True,
                row_condition=Row("type") != "ADJUSTMENT",
                description="quantity > 0 unless type is ADJUSTMENT",
            ),
            gxe.ExpectColumnValuesToBeBetween(
                column="occurred_at", min_value=OCCURRED_AT_MIN, max_value=now + timedelta(days=1)
            ),
        ]
    elif entity == "purchase_orders":
        suite.append(
            gxe.ExpectColumnValuesToBeBetween(column="quantity", min_value=0, strict_min=True)
        )

    unknown = {c for e in suite for c in _columns(e.configuration.kwargs)} - set(names)
    if unknown:
        raise ValueError(f"{entity} suite names columns missing from CONTRACT: {sorted(unknown)}")
    return suite


def validate_frame(entity: str, df: pd.DataFrame) -> SuiteResult:
    """Run the entity's suite on typed clean rows; lineage columns are ignored."""
    if entity not in CONTRACT:
        raise KeyError(f"unknown entity {entity!r}")
    if df.empty:
        # Nothing to check, and not worth the GX import.
        return SuiteResult(entity, True, 0, [], 0)

    gx = _gx()
    from great_expectations.data_context.types.base import ProgressBarsConfig

    frame = _comparable(df.drop(columns=[c for c in LINEAGE_COLUMNS if c in df.columns]))
    context = gx.get_context(mode="ephemeral")  # in memory: no files, no cloud, ~5 ms
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    suite = context.suites.add(gx.ExpectationSuite(name=f"partsflow_{entity}"))
    for expectation in expectations(entity):
        suite.add_expectation(expectation)
    batch = (
        context.data_sources.add_pandas("partsflow")
        .add_dataframe_asset(entity)
        .add_batch_definition_whole_dataframe("all_rows")
        .get_batch(batch_parameters={"dataframe": frame})
    )
    result = batch.validate(suite)
    failed = [_describe(r) for r in result.results if not r.success]
    return SuiteResult(entity, bool(result.success), len(result.results), failed, len(df))


def validate_chunks(entity: str, frames: Iterable[pd.DataFrame]) -> SuiteResult:
    """Run the entity's suite chunk by chunk (memory bounded by the chunk, not the table). A
    uniqueness expectation sees one chunk at a time; uniqueness across the table is the ingest's
    key (exactly-once) and the staging `unique` tests."""
    results = [validate_frame(entity, frame) for frame in frames]
    failed = list(dict.fromkeys(f for r in results for f in r.failed))
    return SuiteResult(
        entity,
        all(r.success for r in results),
        max((r.evaluated for r in results), default=0),
        failed,
        sum(r.rows for r in results),
    )


@cache
def _gx() -> ModuleType:
    """Import Great Expectations once, quietly."""
    # Its import and every ephemeral context log registry/temp-dir housekeeping at DEBUG/INFO into
    # the run logs. Some of its modules pin their own logger to INFO, so raise those too.
    logging.getLogger("great_expectations").setLevel(logging.ERROR)
    import great_expectations as gx

    for name, logger in list(logging.root.manager.loggerDict.items()):
        pinned = (
            isinstance(logger, logging.Logger) and logging.NOTSET < logger.level < logging.ERROR
        )
        if pinned and name.startswith("great_expectations."):
            logger.setLevel(logging.ERROR)
    return gx


def _comparable(frame: pd.DataFrame) -> pd.DataFrame:
    # Bounds are naive UTC; a tz-aware column would raise on comparison instead of validating.
    for col in frame.columns:
        if isinstance(frame[col].dtype, pd.DatetimeTZDtype):
            frame[col] = frame[col].dt.tz_convert("UTC").dt.tz_localize(None)
    return frame


def _columns(kwargs: dict[str, Any]) -> list[str]:
    cols = [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]
    return cols + list(kwargs.get("column_list") or [])


def _describe(r: ExpectationValidationResult) -> str:
    """`<expectation>(<columns>) [<description>]: <what went wrong>`, for run logs and tests."""
    config = r.expectation_config
    assert config is not None
    text = f"{config.type}({', '.join(_columns(config.kwargs))})"
    if config.description:
        text += f" [{config.description}]"
    if error := _error(r.exception_info or {}):
        return f"{text}: error: {error}"
    res = r.result or {}
    if "unexpected_count" in res:
        sample = ", ".join(_show(v) for v in (res.get("partial_unexpected_list") or [])[:3])
        return (
            f"{text}: {res['unexpected_count']} of {res.get('element_count')} rows, e.g. {sample}"
        )
    return f"{text}: observed {res.get('observed_value')} {res.get('details') or ''}".rstrip()


def _error(info: dict[str, Any]) -> str | None:
    # A failing metric nests its exception under the metric id instead of at the top level.
    if info.get("raised_exception"):
        return str(info.get("exception_message"))
    nested = (v for v in info.values() if isinstance(v, dict) and v.get("raised_exception"))
    return next((str(v.get("exception_message")) for v in nested), None)


def _show(value: Any) -> str:
    # numpy scalars repr as np.int64(0); keep quotes on strings so "" and " " stay visible.
    return repr(value) if isinstance(value, str) else str(value)
