"""Codes, buffers and event queues shared by the simulation and the table builder."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

TYPES = ("ISSUE", "RECEIPT", "TRANSFER_OUT", "TRANSFER_IN", "RETURN", "ADJUSTMENT")
ISSUE, RECEIPT, TRANSFER_OUT, TRANSFER_IN, RETURN, ADJUSTMENT = range(6)
REF_NONE, REF_PO, REF_TRANSFER, REF_TXN = range(4)
PO_STATUSES = ("OPEN", "RECEIVED", "CANCELLED")
OPEN, RECEIVED, CANCELLED = range(3)
USERS_PER_LOCATION = 4

TX_FIELDS = ("ts", "type", "pair", "qty", "cost", "ref_kind", "ref_num")
PO_FIELDS = ("po", "pair", "qty", "ordered", "expected", "received", "status", "updated")


@dataclass
class MonthData:
    """Everything one monthly batch needs; arrays are index-based, tables.py turns them to text."""

    month: str
    tx: dict[str, np.ndarray]
    po: dict[str, np.ndarray]
    snap_day: np.ndarray  # epoch day per snapshot row
    snap_pair: np.ndarray
    snap_on_hand: np.ndarray
    snap_status: np.ndarray


@dataclass
class Stats:
    issue_days: np.ndarray
    qty_sum: np.ndarray
    qty_sq: np.ndarray
    counts: dict[str, int] = field(default_factory=dict)

    def add(self, key: str, value: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + int(value)


Queue = dict[int, list[tuple[np.ndarray, ...]]]


def schedule(queue: Queue, day: np.ndarray, arrays: tuple[np.ndarray, ...]) -> None:
    """Queue rows for future days (loop over distinct days only)."""
    if len(day) == 0:
        return
    order = np.argsort(day, kind="stable")
    uniq, starts = np.unique(day[order], return_index=True)
    bounds = np.append(starts, len(order))
    for j, dd in enumerate(uniq):
        sl = order[bounds[j] : bounds[j + 1]]
        queue.setdefault(int(dd), []).append(tuple(a[sl] for a in arrays))


def pop_due(queue: Queue, d: int) -> tuple[np.ndarray, ...] | None:
    chunks = queue.pop(d, None)
    if not chunks:
        return None
    return tuple(np.concatenate(cols) for cols in zip(*chunks, strict=True))
