"""The data contract's entities and columns (../shared/DATA_CONTRACT.md), in contract order.

The one definition of the landing interface: ingest reads it, the generator writes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

ColumnType = Literal["text", "int", "decimal", "date", "timestamp"]


@dataclass(frozen=True)
class Column:
    name: str
    type: ColumnType = "text"
    required: bool = False


def _cols(spec: str) -> tuple[Column, ...]:
    # "*name:type": the star marks a required column, as bold does in the contract.
    out = []
    for item in spec.split():
        name, _, typ = item.lstrip("*").partition(":")
        out.append(Column(name, typ or "text", item.startswith("*")))  # type: ignore[arg-type]
    return tuple(out)


CONTRACT: dict[str, tuple[Column, ...]] = {
    "categories": _cols("*category_id *name parent_category_id"),
    "suppliers": _cols("*supplier_id *name lead_time_days:int reliability_score:decimal"),
    "locations": _cols("*location_id *name region country *location_type climate_zone"),
    "parts": _cols(
        "*part_id *part_number description *category_id supplier_id *unit_cost:decimal "
        "unit_price:decimal lead_time_days:int shelf_life_days:int"
    ),
    "stock_levels": _cols(
        "*as_of:date *part_id *location_id *on_hand:int reorder_threshold:int "
        "critical_threshold:int status"
    ),
    "transactions": _cols(
        "*transaction_id *occurred_at:timestamp *type *part_id *location_id *quantity:int "
        "unit_cost:decimal reference user_id"
    ),
    "purchase_orders": _cols(
        "*po_id *part_id *location_id supplier_id *quantity:int *ordered_at:timestamp "
        "expected_at:timestamp received_at:timestamp *status *updated_at:timestamp"
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
