"""The data contract's entities and columns (../shared/DATA_CONTRACT.md), in contract order."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Column:
    name: str
    required: bool = False


def _cols(spec: str) -> tuple[Column, ...]:
    # "*name" marks a required column, as bold does in the contract.
    return tuple(Column(c.lstrip("*"), c.startswith("*")) for c in spec.split())


CONTRACT: dict[str, tuple[Column, ...]] = {
    "categories": _cols("*category_id *name parent_category_id"),
    "suppliers": _cols("*supplier_id *name lead_time_days reliability_score"),
    "locations": _cols("*location_id *name region country *location_type climate_zone"),
    "parts": _cols(
        "*part_id *part_number description *category_id supplier_id *unit_cost unit_price "
        "lead_time_days shelf_life_days"
    ),
    "stock_levels": _cols(
        "*as_of *part_id *location_id *on_hand reorder_threshold critical_threshold status"
    ),
    "transactions": _cols(
        "*transaction_id *occurred_at *type *part_id *location_id *quantity unit_cost reference "
        "user_id"
    ),
    "purchase_orders": _cols(
        "*po_id *part_id *location_id supplier_id *quantity *ordered_at expected_at received_at "
        "*status *updated_at"
    ),
}

LINEAGE_COLUMNS: tuple[str, ...] = (
    "_batch_id",
    "_file_name",
    "_file_hash",
    "_row_number",
    "_loaded_at",
)


def column_names(entity: str) -> list[str]:
    return [c.name for c in CONTRACT[entity]]


def required_columns(entity: str) -> list[str]:
    return [c.name for c in CONTRACT[entity] if c.required]
