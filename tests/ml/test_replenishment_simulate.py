"""The policy replay: a tiny case worked out by hand, and the vectorized engine against a plain
per-series loop on random cases."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ml.replenishment.simulate import (
    Levels,
    Replay,
    incidents,
    metrics,
    open_orders,
    simulate,
    static_levels,
)


def _tiny() -> tuple[Replay, Levels]:
    """Three series, five days.

    0: order-up-to (s=3, S=10), lead 2 days: orders 7 on day 0 (arrives day 2) and 9 on day 4.
    1: lot size 4 (s=1), one order of 3 open arriving on day 3: runs dry on day 1 (2 of 3 lost),
       stays dry on day 2 (one incident, two days), orders 4 on day 3 (lead 1 day).
    2: s=0, S=2, lead 3, discontinued from day 2: dry on days 0-1 (day 2 no longer counts),
       orders 2 on day 0 (arrives day 3), the demand of day 1 is lost.
    """
    demand = np.array([[2, 1, 0], [2, 3, 1], [0, 0, 0], [4, 2, 0], [3, 1, 0]])
    lead = np.tile([2, 1, 3], (5, 1))
    arrivals, on_order = open_orders(5, 3, np.array([1]), np.array([3]), np.array([3]))
    active = np.ones((5, 3), dtype=bool)
    active[2:, 2] = False
    replay = Replay(
        demand=demand,
        lead_time=lead,
        on_hand=np.array([5, 2, 0]),
        arrivals=arrivals,
        on_order=on_order,
        unit_cost=np.array([2.0, 10.0, 1.0]),
        active=active,
    )
    levels = Levels(np.array([3, 1, 0]), np.array([10, 99, 2]), np.array([np.inf, 4.0, np.inf]))
    return replay, levels


def test_tiny_case_computed_by_hand():
    replay, levels = _tiny()
    out = simulate(replay, lambda _d, _s: levels)
    np.testing.assert_array_equal(
        out.on_hand.T, [[3, 1, 8, 4, 1], [1, 0, 0, 1, 4], [0, 0, 0, 2, 2]]
    )
    np.testing.assert_array_equal(out.served.sum(axis=0), [11, 5, 0])
    np.testing.assert_array_equal(out.orders, [2, 1, 1])
    np.testing.assert_array_equal(out.ordered_units.sum(axis=0), [7 + 9, 4, 2])
    np.testing.assert_array_equal(out.stockout.sum(axis=0), [0, 2, 2])
    m = metrics(replay, out, holding_rate=0.25)
    assert (m.demand_units, m.served_units) == (19, 16)
    assert m.fill_rate == pytest.approx(16 / 19)
    assert (m.stockout_days, m.stockout_incidents, m.orders) == (4, 2, 4)
    # End-of-day values: (17 x 2 + 6 x 10 + 4 x 1) / 5 days.
    assert m.avg_inventory_value == pytest.approx(19.6)
    assert m.carrying_cost == pytest.approx(4.9)
    only_first = metrics(replay, out, 0.25, np.array([True, False, False]))
    assert (only_first.series, only_first.fill_rate, only_first.stockout_days) == (1, 1.0, 0)
    # After a 2-day warm-up: series 1's dry day 2 is a new incident; series 2 is inactive.
    late = metrics(replay, out, 0.25, first_day=2)
    assert (late.demand_units, late.served_units, late.stockout_days) == (10, 10, 1)
    assert (late.stockout_incidents, late.orders, late.ordered_units) == (1, 2, 9 + 4)
    assert late.avg_inventory_value == pytest.approx((13 * 2 + 5 * 10 + 4) / 3)


def test_incidents_are_runs_of_stockout_days():
    stockout = np.array([[1, 0], [0, 0], [1, 1], [1, 1], [0, 1], [1, 0]], dtype=bool)
    np.testing.assert_array_equal(incidents(stockout), [3, 1])


def test_a_review_sees_only_the_days_before_it():
    replay, levels = _tiny()
    seen = []

    def spy(day: int, served: np.ndarray) -> Levels:
        seen.append((day, served.shape[0], served.copy()))
        return levels

    out = simulate(replay, spy, review_days=2)
    assert [(d, k) for d, k, _ in seen] == [(0, 0), (2, 2), (4, 4)]
    np.testing.assert_array_equal(seen[-1][2], out.served[:4])


def test_bad_replays_are_refused():
    replay, _ = _tiny()
    with pytest.raises(ValueError, match="lead times"):
        Replay(**{**replay.__dict__, "lead_time": np.zeros((5, 3), dtype=int)})
    with pytest.raises(ValueError, match="shape"):
        Replay(**{**replay.__dict__, "active": np.ones((4, 3), dtype=bool)})
    with pytest.raises(ValueError, match="one reorder point"):
        simulate(replay, static_levels(np.zeros(2), np.ones(2)))


def _reference(replay: Replay, levels_of, review_days: int) -> tuple[np.ndarray, ...]:
    """The replay written the obvious way: one series at a time, one day at a time."""
    days, n = replay.demand.shape
    served = np.zeros((days, n), dtype=np.int64)
    on_hand_end = np.zeros((days, n), dtype=np.int64)
    orders = np.zeros(n, dtype=np.int64)
    for i in range(n):
        on_hand, on_order = int(replay.on_hand[i]), int(replay.on_order[i])
        incoming = {d: int(replay.arrivals[d, i]) for d in range(days)}
        s = big_s = lot = 0.0
        for d in range(days):
            if d % review_days == 0:
                lv = levels_of(d)
                s, big_s, lot = lv.reorder_point[i], lv.order_up_to[i], lv.lot_size[i]
            got = incoming.get(d, 0)
            on_hand, on_order = on_hand + got, on_order - got
            served[d, i] = min(int(replay.demand[d, i]), on_hand)
            on_hand -= int(served[d, i])
            on_hand_end[d, i] = on_hand
            position = on_hand + on_order
            if not replay.active[d, i] or position > s:
                continue
            if math.isfinite(lot):
                q = max(math.ceil(lot), 1)
                qty = max(1, math.ceil((s + 1 - position) / q)) * q
            elif big_s > position:
                qty = math.ceil(big_s - position)
            else:
                continue
            on_order += qty
            orders[i] += 1
            due = d + int(replay.lead_time[d, i])
            incoming[due] = incoming.get(due, 0) + qty
    return served, on_hand_end, orders


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_vectorized_replay_equals_a_per_series_loop(seed):
    rng = np.random.default_rng(seed)
    days, n, review = 40, 25, 5
    demand = rng.poisson(rng.uniform(0.1, 4.0, n), (days, n)) * rng.integers(1, 3, (days, n))
    open_series = rng.integers(0, n, 10)
    arrivals, on_order = open_orders(
        days, n, open_series, rng.integers(0, days + 5, 10), rng.integers(1, 20, 10)
    )
    active = rng.random((days, n)) > 0.05
    replay = Replay(
        demand=demand,
        lead_time=rng.integers(1, 9, (days, n)),
        on_hand=rng.integers(0, 15, n),
        arrivals=arrivals,
        on_order=on_order,
        unit_cost=rng.uniform(1, 50, n),
        active=active,
    )
    by_lot = rng.random(n) < 0.5

    def levels_of(day: int) -> Levels:
        r = np.random.default_rng(1000 * seed + day)  # new levels at every review
        s = r.integers(0, 12, n).astype(float)
        return Levels(s, s + r.integers(0, 15, n), np.where(by_lot, r.uniform(0.5, 9, n), np.inf))

    out = simulate(replay, lambda day, _served: levels_of(day), review_days=review)
    served, on_hand, orders = _reference(replay, levels_of, review)
    np.testing.assert_array_equal(out.served, served)
    np.testing.assert_array_equal(out.on_hand, on_hand)
    np.testing.assert_array_equal(out.orders, orders)
    assert out.orders.sum() > 20 and (out.served < demand).any()  # the case exercises both
