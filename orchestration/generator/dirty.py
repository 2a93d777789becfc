"""Deliberate contract violations (dirty_rate > 0) for testing quarantine and de-duplication.

Bad rows are *added* as mutated copies of clean rows (with fresh ids where the entity has a single
key), at random positions in the batch. The clean rows are untouched and the injector draws from
its own random stream, so a dirty landing zone is exactly the clean one plus the counted bad rows.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from datetime import datetime

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from orchestration.generator.schema import required_columns
from orchestration.generator.writer import format_column

REASONS = (
    "missing_required",
    "unparseable_type",
    "out_of_range",
    "unknown_enum",
    "unknown_reference",
    "future_timestamp",
    "ancient_timestamp",
    "critical_above_reorder",
    "duplicate_identical",
    "duplicate_conflicting",
)
KINDS: dict[str, tuple[str, ...]] = {
    "categories": ("missing_required", "unknown_reference"),
    "suppliers": ("missing_required", "unparseable_type", "out_of_range"),
    "locations": ("missing_required", "unknown_enum"),
    "parts": ("missing_required", "unparseable_type", "out_of_range", "unknown_reference"),
    "stock_levels": (
        "missing_required", "unparseable_type", "out_of_range", "unknown_enum",
        "unknown_reference", "critical_above_reorder",
    ),
    "transactions": (
        "missing_required", "unparseable_type", "out_of_range", "unknown_enum",
        "unknown_reference", "future_timestamp", "ancient_timestamp", "duplicate_identical",
        "duplicate_conflicting",
    ),
    "purchase_orders": (
        "missing_required", "unparseable_type", "out_of_range", "unknown_enum",
        "unknown_reference",
    ),
}  # fmt: skip
KEYS = {
    "categories": ("category_id", "C-"),
    "suppliers": ("supplier_id", "S-"),
    "locations": ("location_id", "L-"),
    "parts": ("part_id", "P-"),
    "transactions": ("transaction_id", "T-"),
    "purchase_orders": ("po_id", "PO-"),
}
UNPARSEABLE: dict[str, tuple[tuple[str, str], ...]] = {
    "suppliers": (("lead_time_days", "ten days"), ("reliability_score", "high")),
    "parts": (("unit_cost", "abc"), ("lead_time_days", "two weeks")),
    "stock_levels": (("on_hand", "abc"), ("as_of", "31/02/2024")),
    "transactions": (("quantity", "abc"), ("occurred_at", "yesterday")),
    "purchase_orders": (("quantity", "twelve"), ("ordered_at", "2024-13-45T25:61:00")),
}
BAD_ENUM = {
    "locations": ("location_type", "depot"),
    "stock_levels": ("status", "lost"),
    "transactions": ("type", "SALE"),
    "purchase_orders": ("status", "SHIPPED"),
}
BAD_REFS: dict[str, tuple[tuple[str, str], ...]] = {
    "categories": (("parent_category_id", "C-Z"),),
    "parts": (("category_id", "C-Z"), ("supplier_id", "S-Z")),
    "stock_levels": (("part_id", "P-Z"), ("location_id", "L-Z")),
    "transactions": (("part_id", "P-Z"), ("location_id", "L-Z")),
    "purchase_orders": (("part_id", "P-Z"), ("location_id", "L-Z")),
}
POOL_CAP = 200_000
EPOCH = datetime(1970, 1, 1)


def _replace(table: pa.Table, name: str, values: pa.Array) -> pa.Table:
    return table.set_column(table.schema.get_field_index(name), name, values)


def _col(table: pa.Table, name: str) -> pa.Array:
    return table.column(name).combine_chunks()


class Injector:
    def __init__(self, rate: float, rng: np.random.Generator) -> None:
        self.rate, self.rng = rate, rng
        self.counts = {e: dict.fromkeys(kinds, 0) for e, kinds in KINDS.items()}
        self._fresh = 0
        self._pool: pa.Table | None = None

    # -- per-cell edits that keep other rows' types -----------------------------------------------
    def _set_where(self, rows: pa.Table, name: str, mask: np.ndarray, value: object) -> pa.Table:
        col = _col(rows, name)
        if isinstance(value, str) and not pa.types.is_string(col.type):
            col = format_column(col)  # "abc" in an int column: the column becomes text
        scalar = pa.scalar(value, col.type) if value is not None else pa.scalar(None, col.type)
        return _replace(rows, name, pc.if_else(pa.array(mask), scalar, col))

    def _set(self, rows: pa.Table, name: str, values: pa.Array) -> pa.Table:
        return _replace(rows, name, values.cast(rows.schema.field(name).type))

    def _choose(self, k: int, options: int) -> np.ndarray:
        return self.rng.integers(0, options, k)

    # -- mutators ---------------------------------------------------------------------------------
    def _missing_required(self, entity: str, rows: pa.Table) -> pa.Table:
        req = required_columns(entity)
        pick = self._choose(rows.num_rows, len(req))
        for j, name in enumerate(req):
            if (pick == j).any():
                rows = self._set_where(rows, name, pick == j, None)
        return rows

    def _unparseable_type(self, entity: str, rows: pa.Table) -> pa.Table:
        options = UNPARSEABLE[entity]
        pick = self._choose(rows.num_rows, len(options))
        for j, (name, text) in enumerate(options):
            if (pick == j).any():
                rows = self._set_where(rows, name, pick == j, text)
        return rows

    def _out_of_range(self, entity: str, rows: pa.Table) -> pa.Table:
        k = rows.num_rows
        if entity == "suppliers":
            half = self._choose(k, 2) == 0
            rows = self._set_where(rows, "reliability_score", half, 1.5)
            return self._set_where(rows, "lead_time_days", ~half, -5)
        if entity == "parts":
            cost = _col(rows, "unit_cost").to_numpy(zero_copy_only=False)
            return self._set(rows, "unit_cost", pa.array(-np.maximum(np.abs(cost), 1.0)))
        if entity == "stock_levels":
            on_hand = _col(rows, "on_hand").to_numpy(zero_copy_only=False)
            return self._set(rows, "on_hand", pa.array(-(np.abs(on_hand) + 1)))
        qty = _col(rows, "quantity").to_numpy(zero_copy_only=False)
        bad = -(np.abs(qty) + 1)
        if entity == "transactions":
            # An ADJUSTMENT may be negative; zero is what it must never be.
            bad = np.where(
                _col(rows, "type").to_numpy(zero_copy_only=False) == "ADJUSTMENT", 0, bad
            )
        return self._set(rows, "quantity", pa.array(bad))

    def _unknown_enum(self, entity: str, rows: pa.Table) -> pa.Table:
        name, value = BAD_ENUM[entity]
        return self._set_where(rows, name, np.ones(rows.num_rows, dtype=bool), value)

    def _unknown_reference(self, entity: str, rows: pa.Table) -> pa.Table:
        options = BAD_REFS[entity]
        pick = self._choose(rows.num_rows, len(options))
        for j, (name, prefix) in enumerate(options):
            mask = pick == j
            if mask.any():
                ids = pc.binary_join_element_wise(
                    prefix,
                    pc.cast(pa.array(self.rng.integers(100000, 999999, len(mask))), pa.string()),
                    "",
                )
                rows = _replace(rows, name, pc.if_else(pa.array(mask), ids, _col(rows, name)))
        return rows

    def _timestamp(self, rows: pa.Table, start: datetime, span_days: int) -> pa.Table:
        base = int((start - EPOCH).total_seconds())
        secs = base + self.rng.integers(0, span_days * 86400, rows.num_rows)
        return self._set(rows, "occurred_at", pa.array(secs * 1_000_000, pa.timestamp("us")))

    def _future_timestamp(self, entity: str, rows: pa.Table) -> pa.Table:
        return self._timestamp(rows, datetime(2099, 1, 1), 365)  # far beyond "now + 1 day"

    def _ancient_timestamp(self, entity: str, rows: pa.Table) -> pa.Table:
        return self._timestamp(rows, datetime(1990, 1, 1), 3650)  # before 2000-01-01

    def _critical_above_reorder(self, entity: str, rows: pa.Table) -> pa.Table:
        rop = _col(rows, "reorder_threshold").to_numpy(zero_copy_only=False)
        crit = rop + 1 + self.rng.integers(0, 5, rows.num_rows)
        return self._set(rows, "critical_threshold", pa.array(crit))

    MUTATORS: dict[str, Callable[[Injector, str, pa.Table], pa.Table]] = {
        "missing_required": _missing_required,
        "unparseable_type": _unparseable_type,
        "out_of_range": _out_of_range,
        "unknown_enum": _unknown_enum,
        "unknown_reference": _unknown_reference,
        "future_timestamp": _future_timestamp,
        "ancient_timestamp": _ancient_timestamp,
        "critical_above_reorder": _critical_above_reorder,
    }

    # -- duplicates of rows from earlier transaction files ----------------------------------------
    def _duplicates(self, reason: str, k: int) -> pa.Table | None:
        pool = self._pool
        if pool is None or k == 0 or pool.num_rows == 0:
            return None
        k = min(k, pool.num_rows)
        pick = self.rng.choice(pool.num_rows, k, replace=False)
        rest = np.setdiff1d(np.arange(pool.num_rows), pick)
        rows = pool.take(np.sort(pick))
        self._pool = pool.take(rest)  # never duplicate the same source row twice
        if reason == "duplicate_conflicting":
            qty = _col(rows, "quantity").to_numpy(zero_copy_only=False)
            rows = self._set(rows, "quantity", pa.array(np.where(qty == -1, qty - 1, qty + 1)))
        return rows

    def _remember(self, table: pa.Table) -> None:
        m = min(table.num_rows, math.ceil(self.rate * table.num_rows * 3) + 20)
        sample = table.take(np.sort(self.rng.choice(table.num_rows, m, replace=False)))
        pool = sample if self._pool is None else pa.concat_tables([self._pool, sample])
        self._pool = pool.slice(max(0, pool.num_rows - POOL_CAP))

    def _fresh_keys(self, entity: str, rows: pa.Table) -> pa.Table:
        if entity not in KEYS:
            return rows
        name, prefix = KEYS[entity]
        numbers = self._fresh + np.arange(1, rows.num_rows + 1)
        self._fresh += rows.num_rows
        digits = pc.utf8_lpad(pc.cast(pa.array(numbers), pa.string()), 7, "0")
        return _replace(rows, name, pc.binary_join_element_wise(f"{prefix}X", digits, ""))

    # -- entry point ------------------------------------------------------------------------------
    def inject(self, entity: str, table: pa.Table) -> pa.Table:
        """Return the batch with bad rows added (or the batch itself when the rate is 0)."""
        if self.rate <= 0 or table.num_rows == 0:
            return table
        n = table.num_rows
        blocks: list[pa.Table] = []
        for reason in KINDS[entity]:
            # Stochastic rounding: the expected count is exactly rate * rows, also for tiny batches.
            k = int(math.floor(self.rate * n + self.rng.random()))
            if reason.startswith("duplicate"):
                block = self._duplicates(reason, k)
            elif k > 0:
                rows = self._fresh_keys(entity, table.take(self.rng.integers(0, n, k)))
                block = self.MUTATORS[reason](self, entity, rows)
            else:
                block = None
            if block is not None and block.num_rows:
                self.counts[entity][reason] += block.num_rows
                blocks.append(block)
        if entity == "transactions":
            self._remember(table)
        return self._merge(table, blocks) if blocks else table

    def _merge(self, table: pa.Table, blocks: list[pa.Table]) -> pa.Table:
        tables = [table, *blocks]
        # A column that became text in any block becomes text everywhere (Parquet needs one type).
        for name in table.column_names:
            if any(pa.types.is_string(t.schema.field(name).type) for t in tables):
                tables = [
                    t if pa.types.is_string(t.schema.field(name).type)
                    else _replace(t, name, format_column(t.column(name)))
                    for t in tables
                ]  # fmt: skip
        merged = pa.concat_tables(tables)
        n, m = table.num_rows, merged.num_rows - table.num_rows
        # Bad rows land at random positions; clean rows keep their relative order.
        keys = np.concatenate([np.arange(n, dtype=np.float64), self.rng.uniform(-0.5, n, m)])
        return merged.take(np.argsort(keys, kind="stable"))
