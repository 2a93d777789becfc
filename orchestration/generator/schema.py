"""Contract columns in contract order, with the native Arrow type the generator writes.

Kept here (not imported from orchestration.contract) so the generator is an independent producer:
the tests check that both agree with the data contract.
"""

from __future__ import annotations

from typing import NamedTuple

import pyarrow as pa

STR = pa.string()
INT = pa.int64()
FLOAT = pa.float64()
DATE = pa.date32()
TS = pa.timestamp("us")


class Field(NamedTuple):
    name: str
    type: pa.DataType
    required: bool


def _f(spec: str, typ: pa.DataType = STR) -> Field:
    return Field(spec.lstrip("*"), typ, spec.startswith("*"))


SCHEMAS: dict[str, tuple[Field, ...]] = {
    "categories": (_f("*category_id"), _f("*name"), _f("parent_category_id")),
    "suppliers": (
        _f("*supplier_id"),
        _f("*name"),
        _f("lead_time_days", INT),
        _f("reliability_score", FLOAT),
    ),
    "locations": (
        _f("*location_id"),
        _f("*name"),
        _f("region"),
        _f("country"),
        _f("*location_type"),
        _f("climate_zone"),
    ),
    "parts": (
        _f("*part_id"),
        _f("*part_number"),
        _f("description"),
        _f("*category_id"),
        _f("supplier_id"),
        _f("*unit_cost", FLOAT),
        _f("unit_price", FLOAT),
        _f("lead_time_days", INT),
        _f("shelf_life_days", INT),
    ),
    "stock_levels": (
        _f("*as_of", DATE),
        _f("*part_id"),
        _f("*location_id"),
        _f("*on_hand", INT),
        _f("reorder_threshold", INT),
        _f("critical_threshold", INT),
        _f("status"),
    ),
    "transactions": (
        _f("*transaction_id"),
        _f("*occurred_at", TS),
        _f("*type"),
        _f("*part_id"),
        _f("*location_id"),
        _f("*quantity", INT),
        _f("unit_cost", FLOAT),
        _f("reference"),
        _f("user_id"),
    ),
    "purchase_orders": (
        _f("*po_id"),
        _f("*part_id"),
        _f("*location_id"),
        _f("supplier_id"),
        _f("*quantity", INT),
        _f("*ordered_at", TS),
        _f("expected_at", TS),
        _f("received_at", TS),
        _f("*status"),
        _f("*updated_at", TS),
    ),
}

MASTER_ENTITIES: tuple[str, ...] = ("categories", "suppliers", "locations", "parts")
MONTHLY_ENTITIES: tuple[str, ...] = ("stock_levels", "transactions", "purchase_orders")


def column_names(entity: str) -> list[str]:
    return [f.name for f in SCHEMAS[entity]]


def required_columns(entity: str) -> list[str]:
    return [f.name for f in SCHEMAS[entity] if f.required]


def arrow_schema(entity: str) -> pa.Schema:
    return pa.schema([pa.field(f.name, f.type) for f in SCHEMAS[entity]])


def make_table(entity: str, columns: dict[str, pa.Array]) -> pa.Table:
    """A table with exactly the contract columns, in order, cast to the native types."""
    schema = arrow_schema(entity)
    arrays = []
    for f in schema:
        value = columns[f.name]
        if isinstance(value, pa.Array | pa.ChunkedArray):
            arrays.append(value.cast(f.type))
        else:
            # from_pandas=True: NaN in a float column means null, as in the contract.
            arrays.append(pa.array(value, type=f.type, from_pandas=True))
    return pa.Table.from_arrays(arrays, schema=schema)
