"""The native Arrow types the generator writes, derived from the contract's column types."""

from __future__ import annotations

import pyarrow as pa

from orchestration.contract import CONTRACT, column_names, required_columns

ARROW_TYPES: dict[str, pa.DataType] = {
    "text": pa.string(),
    "int": pa.int64(),
    "decimal": pa.float64(),
    "date": pa.date32(),
    "timestamp": pa.timestamp("us"),
}
__all__ = ["arrow_schema", "column_names", "make_table", "required_columns"]

MASTER_ENTITIES: tuple[str, ...] = ("categories", "suppliers", "locations", "parts")
MONTHLY_ENTITIES: tuple[str, ...] = ("stock_levels", "transactions", "purchase_orders")


def arrow_schema(entity: str) -> pa.Schema:
    return pa.schema([pa.field(c.name, ARROW_TYPES[c.type]) for c in CONTRACT[entity]])


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
