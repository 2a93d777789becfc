"""The data contract's row rules per entity, as data the SQL validator is generated from.

Conditions are SQL over the typed columns of a batch (see validate.py); they name only columns
of the contract, never anything that came from a file.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# Stable reason codes, in the order rules are checked (a row gets the first that applies).
REASONS: dict[str, str] = {
    "unparseable_file": "the file could not be read at all; it is quarantined whole",
    "missing_required": "a required value is empty",
    "bad_type": "a value does not parse as its type (integer, decimal, date, timestamp)",
    "unknown_enum": "a value is not one of the allowed values",
    "out_of_range": "a value is outside its allowed range (negative, > 1, thresholds inverted, "
    "before 2000-01-01, id longer than 64 characters)",
    "future_timestamp": "a date or timestamp more than 1 day in the future",
    "unknown_reference": "a part, location, category or supplier that does not exist",
    "category_cycle": "a category that is its own ancestor",
    "conflicting_duplicate": "a key delivered before (or earlier in the batch) with other content",
}


@dataclass(frozen=True)
class Range:
    violated: str  # SQL that is true when the rule is broken (NULLs never break a range)
    message: str  # readable explanation, without the value


@dataclass(frozen=True)
class Reference:
    column: str
    entity: str
    target: str
    in_batch: bool = False  # may also point at a row of the same batch (category parents)


@dataclass(frozen=True)
class EntityRules:
    key: tuple[str, ...]
    # Versioned entities keep every changed delivery (staging takes the latest); immutable ones
    # accept a key once and treat a different re-delivery as a conflict.
    versioned: bool
    enums: dict[str, tuple[str, ...]] = field(default_factory=dict)
    ranges: tuple[Range, ...] = ()
    references: tuple[Reference, ...] = ()
    not_future: tuple[str, ...] = ()
    ids: tuple[str, ...] = ()


def _non_negative(*cols: str) -> tuple[Range, ...]:
    return tuple(Range(f"{c} < 0", f"{c} must be >= 0") for c in cols)


def _part_location() -> tuple[Reference, ...]:
    return (
        Reference("part_id", "parts", "part_id"),
        Reference("location_id", "locations", "location_id"),
    )


TX_TYPES = ("ISSUE", "RECEIPT", "TRANSFER_OUT", "TRANSFER_IN", "RETURN", "ADJUSTMENT")

RULES: dict[str, EntityRules] = {
    "categories": EntityRules(
        key=("category_id",),
        versioned=True,
        ids=("category_id", "parent_category_id"),
        references=(Reference("parent_category_id", "categories", "category_id", in_batch=True),),
    ),
    "suppliers": EntityRules(
        key=("supplier_id",),
        versioned=True,
        ids=("supplier_id",),
        ranges=(
            *_non_negative("lead_time_days"),
            Range(
                "reliability_score < 0 or reliability_score > 1",
                "reliability_score must be in [0, 1]",
            ),
        ),
    ),
    "locations": EntityRules(
        key=("location_id",),
        versioned=True,
        ids=("location_id",),
        enums={"location_type": ("warehouse", "service_center")},
    ),
    "parts": EntityRules(
        key=("part_id",),
        versioned=True,
        ids=("part_id", "category_id", "supplier_id"),
        ranges=_non_negative("unit_cost", "unit_price", "lead_time_days", "shelf_life_days"),
        references=(
            Reference("category_id", "categories", "category_id"),
            Reference("supplier_id", "suppliers", "supplier_id"),
        ),
    ),
    "stock_levels": EntityRules(
        key=("as_of", "part_id", "location_id"),
        versioned=True,
        ids=("part_id", "location_id"),
        enums={"status": ("active", "discontinued", "quarantined")},
        ranges=(
            *_non_negative("on_hand", "reorder_threshold", "critical_threshold"),
            Range(
                "critical_threshold > reorder_threshold",
                "critical_threshold must not exceed reorder_threshold",
            ),
        ),
        references=_part_location(),
        not_future=("as_of",),
    ),
    "transactions": EntityRules(
        key=("transaction_id",),
        versioned=False,
        ids=("transaction_id", "part_id", "location_id", "reference", "user_id"),
        enums={"type": TX_TYPES},
        ranges=(
            Range("type <> 'ADJUSTMENT' and quantity <= 0", "quantity must be > 0"),
            Range("type = 'ADJUSTMENT' and quantity = 0", "an ADJUSTMENT quantity must not be 0"),
            *_non_negative("unit_cost"),
        ),
        references=_part_location(),
        not_future=("occurred_at",),
    ),
    "purchase_orders": EntityRules(
        key=("po_id", "updated_at"),
        versioned=False,
        ids=("po_id", "part_id", "location_id", "supplier_id"),
        enums={"status": ("OPEN", "RECEIVED", "CANCELLED")},
        ranges=(Range("quantity <= 0", "quantity must be > 0"),),
        references=(*_part_location(), Reference("supplier_id", "suppliers", "supplier_id")),
        not_future=("ordered_at", "received_at", "updated_at"),
    ),
}
