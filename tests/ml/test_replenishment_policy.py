"""Policy math against hand-computed textbook cases (values from normal and Poisson tables)."""

from __future__ import annotations

import numpy as np
import pytest

from ml.replenishment import policy


def test_lead_time_demand_with_random_lead_time():
    # d = 10/day, var_d = 16, L = 9 days, sigma_L = 2: mu = 90, var = 9*16 + 100*4 = 544.
    mean, var = policy.lead_time_demand(10.0, 16.0, 9.0, 2.0)
    assert mean == pytest.approx(90.0)
    assert var == pytest.approx(544.0)
    # Fixed lead time: only the demand term remains; vectorized over series.
    mean, var = policy.lead_time_demand([2.0, 0.0], [3.0, 0.0], [5.0, 7.0], [0.0, 3.0])
    np.testing.assert_allclose(mean, [10.0, 0.0])
    np.testing.assert_allclose(var, [15.0, 0.0])


def test_lead_time_demand_rejects_negative_input():
    with pytest.raises(ValueError, match="non-negative"):
        policy.lead_time_demand(1.0, 1.0, -2.0, 0.0)


def test_safety_stock_and_reorder_point_normal():
    # z(0.95) = 1.6449 from the normal table; sigma_LTD = 20 -> SS = 32.90, R = 100 + 32.90.
    assert policy.safety_stock_normal(0.95, 20.0) == pytest.approx(32.897, abs=1e-3)
    assert policy.reorder_point_normal(0.95, 100.0, 20.0) == pytest.approx(132.897, abs=1e-3)
    # z(0.98) = 2.0537, z(0.90) = 1.2816; sigma_LTD = sqrt(544) = 23.324 (case above).
    np.testing.assert_allclose(
        policy.reorder_point_normal([0.98, 0.90], 90.0, np.sqrt(544.0)),
        [90 + 2.0537 * 23.3238, 90 + 1.2816 * 23.3238],
        atol=2e-3,
    )
    # z(0.5) = 0: no safety stock.
    assert policy.safety_stock_normal(0.5, 50.0) == pytest.approx(0.0)


@pytest.mark.parametrize("bad", [0.0, 1.0, 1.2, -0.1])
def test_service_level_outside_open_interval_is_rejected(bad):
    with pytest.raises(ValueError, match="strictly between 0 and 1"):
        policy.reorder_point_normal(bad, 10.0, 2.0)


def test_reorder_point_poisson_table_values():
    # Poisson(4): P(D<=6) = 0.8893, P(D<=7) = 0.9489, P(D<=8) = 0.9786, P(D<=9) = 0.9919.
    np.testing.assert_array_equal(
        policy.reorder_point_poisson([0.85, 0.90, 0.95, 0.98, 0.99], 4.0), [6, 7, 8, 9, 9]
    )
    # Poisson(0.5): P(D=0) = 0.6065, P(D<=1) = 0.9098, P(D<=2) = 0.9856.
    np.testing.assert_array_equal(policy.reorder_point_poisson([0.6, 0.9, 0.95], 0.5), [0, 1, 2])
    assert policy.reorder_point_poisson(0.95, 0.0) == 0.0


def test_reorder_point_negative_binomial_when_over_dispersed():
    # mu = 4, var = 8 -> r = 4, p = 0.5: P(D<=8) = 0.9270, P(D<=9) = 0.9539.
    assert policy.reorder_point_negative_binomial(0.95, 4.0, 8.0) == 9.0
    assert policy.reorder_point_negative_binomial(0.92, 4.0, 8.0) == 8.0
    # var <= mean falls back to Poisson(4): 8 at 95%.
    np.testing.assert_array_equal(
        policy.reorder_point_negative_binomial(0.95, [4.0, 4.0, 0.0], [4.0, 3.0, 0.0]), [8, 8, 0]
    )
    assert policy.reorder_point(0.95, 4.0, 8.0) == 9.0


def test_count_reorder_point_approaches_normal_for_large_demand():
    mean, var = 400.0, 900.0
    count = policy.reorder_point(0.95, mean, var)
    normal = policy.reorder_point_normal(0.95, mean, np.sqrt(var))
    assert abs(count - np.ceil(normal)) <= 2


def test_no_stockout_probability_matches_reorder_point():
    # Poisson(4): 7 units on hand cover the lead time with probability 0.9489.
    assert policy.no_stockout_probability(7, 4.0, 4.0) == pytest.approx(0.94887, abs=1e-5)
    assert policy.no_stockout_probability(8, 4.0, 8.0) == pytest.approx(0.92700, abs=1e-5)
    np.testing.assert_allclose(policy.no_stockout_probability([-3, 0], [4.0, 0.0], 0.0), [0, 1])
    rop = policy.reorder_point(0.95, 4.0, 8.0)
    assert policy.no_stockout_probability(rop, 4.0, 8.0) >= 0.95
    assert policy.no_stockout_probability(rop - 1, 4.0, 8.0) < 0.95


def test_economic_order_quantity():
    # D = 1200/yr, S = 50, c = 20, h = 25%/yr: sqrt(2*1200*50 / 5) = sqrt(24000) = 154.92.
    assert policy.economic_order_quantity(1200, 50, 20, 0.25) == pytest.approx(154.919, abs=1e-3)
    # Textbook: D = 1000, S = 10, c = 8, h = 0.25 -> sqrt(20000 / 2) = 100.
    np.testing.assert_allclose(
        policy.economic_order_quantity([1000, 0, 10], [10, 10, 10], [8, 8, 0], 0.25),
        [100.0, 0.0, np.inf],
    )


def test_service_level_for_class_defaults_and_overrides():
    np.testing.assert_allclose(
        policy.service_level_for_class(["A", "B", "C", None, "X"]), [0.98, 0.95, 0.90, 0.90, 0.90]
    )
    np.testing.assert_allclose(
        policy.service_level_for_class(["A", "C"], {"A": 0.995}), [0.995, 0.90]
    )
    with pytest.raises(ValueError):
        policy.service_level_for_class(["A"], {"A": 1.0})


def test_order_quantity_eoq_rounding_and_overshoot():
    # EOQ 154.9 -> 155; IP 35 under s = 40 -> one lot.
    assert policy.order_quantity(154.9, 40, 35, 0) == 155
    # Deep backorders: IP = -130, s = 40 -> n = ceil(171 / 155) = 2 lots.
    assert policy.order_quantity(154.9, 40, -130, 0) == 310
    # Tiny EOQ is at least 1; pack of 12 and a minimum of 20 round up to 24.
    np.testing.assert_array_equal(
        policy.order_quantity(
            [0.2, 7.0], [0, 0], [0, 0], [0, 0], pack_size=[1, 12], min_qty=[1, 20]
        ),
        [1, 24],
    )


def test_order_quantity_order_up_to_for_lumpy_series():
    # Lumpy: order S - IP = 30 - 4; EOQ ignored. Infinite EOQ also orders up to S.
    np.testing.assert_array_equal(
        policy.order_quantity(
            [50.0, np.inf, 50.0], [10, 10, 10], [4, 4, 4], [30, 30, 30], [True, False, False]
        ),
        [26, 26, 50],
    )
