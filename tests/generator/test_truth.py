"""The generator's ground truth for the policy benchmark is the world the landing files describe:
the same issues, thresholds and stock, plus the demand the ledger cannot show (lost sales)."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from orchestration.generator import GeneratorConfig, generate_landing
from orchestration.generator.truth import held_out_truth

# 63 days from Monday 2024-01-01: the held-out period starts on Monday 2024-02-19, so the day
# before it is a snapshot Sunday.
CONFIG = GeneratorConfig(parts=25, locations=3, days=63, seed=11)
HOLDOUT = 14


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("truth_landing")
    generate_landing(out, CONFIG)
    return out, held_out_truth(CONFIG, HOLDOUT)


def _read(root: Path, entity: str) -> pd.DataFrame:
    return pd.concat([pd.read_csv(p) for p in sorted((root / entity).glob("*.csv"))])


def _pair_index(truth, frame: pd.DataFrame) -> np.ndarray:
    part = frame["part_id"].str[2:].astype(int).to_numpy() - 1
    loc = frame["location_id"].str[2:].astype(int).to_numpy() - 1
    lookup = {(p, q): i for i, (p, q) in enumerate(zip(truth.part, truth.location, strict=True))}
    return np.array([lookup[(p, q)] for p, q in zip(part, loc, strict=True)])


def test_served_demand_is_the_ledgers_issues_and_never_exceeds_demand(world):
    root, truth = world
    tx = _read(root, "transactions")
    tx = tx[tx["type"] == "ISSUE"]
    day = (pd.to_datetime(tx["occurred_at"]) - pd.Timestamp(CONFIG.start)).dt.days.to_numpy()
    issued = np.zeros_like(truth.served)
    np.add.at(issued, (day, _pair_index(truth, tx)), tx["quantity"].to_numpy())
    np.testing.assert_array_equal(truth.served, issued)
    assert (truth.demand >= truth.served).all()
    assert (truth.demand > truth.served).any()  # lost sales exist and only the truth shows them


def test_thresholds_and_starting_stock_match_the_stock_levels(world):
    root, truth = world
    levels = _read(root, "stock_levels")
    eve = CONFIG.start + timedelta(days=truth.start_day - 1)
    snap = levels[levels["as_of"] == eve.isoformat()]
    assert len(snap) == len(truth.part)
    idx = _pair_index(truth, snap)
    np.testing.assert_array_equal(truth.on_hand[idx], snap["on_hand"].to_numpy())
    np.testing.assert_array_equal(truth.reorder_point[idx], snap["reorder_threshold"].to_numpy())
    assert (truth.order_up_to > truth.reorder_point).all()


def test_open_orders_at_the_start_are_the_purchase_orders_in_flight(world):
    root, truth = world
    po = _read(root, "purchase_orders").sort_values("updated_at").groupby("po_id").last()
    start = pd.Timestamp(CONFIG.start + timedelta(days=truth.start_day))
    received = pd.to_datetime(po["received_at"])
    flying = po[
        (pd.to_datetime(po["ordered_at"]) < start)
        & (po["status"] != "CANCELLED")
        & ((po["status"] == "OPEN") | (received >= start))
    ]
    # Open at the end = still in flight after the period (arrival day past the last day).
    arrival = np.where(
        flying["status"] == "RECEIVED",
        (received[flying.index] - pd.Timestamp(CONFIG.start)).dt.days,
        -1,
    )
    got = sorted(zip(truth.open_pair, truth.open_qty, truth.open_arrival, strict=True))
    want = sorted(zip(_pair_index(truth, flying), flying["quantity"], arrival, strict=True))
    assert [g[:2] for g in got] == [w[:2] for w in want] and got
    for g, w in zip(got, want, strict=True):
        assert g[2] == w[2] or (w[2] == -1 and g[2] >= CONFIG.days)
