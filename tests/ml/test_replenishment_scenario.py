"""The simulation's inputs and PartsFlow's reviewed policy: ABC as of the period start, lead-time
pools with their fallbacks (no peeking at later receipts), the forecast, the levels, and where the
static policy sits on the sweep."""

from __future__ import annotations

from datetime import date

import numpy as np
import pytest
from scipy import stats

from ml.forecast.quantiles import series_dispersion
from ml.replenishment.comparison import Comparison, Run, static_on_curve
from ml.replenishment.reviewed import PolicySettings, forecast, partsflow_levels
from ml.replenishment.scenario import LeadTimes, Scenario, abc_classes
from ml.replenishment.simulate import Metrics


def test_abc_classes_follow_the_marts_rule_within_each_group():
    value = np.array([5.0, 50, 15, 30, 0, 0, 10, 10])
    group = np.array([0, 0, 0, 0, 1, 1, 2, 2])
    # Group 0 ranked 50, 30, 15, 5: value before 0%, 50%, 80%, 95% -> A, A, B, C (the item
    # crossing 80% is still A). No value: C. Ties keep the series order.
    assert abc_classes(value, group).tolist() == ["C", "A", "B", "A", "C", "C", "A", "A"]


def _scenario(
    history: np.ndarray,
    lead: LeadTimes,
    part: list[int],
    supplier: list[int],
    unit_cost: float = 10.0,
    days: int = 14,
) -> Scenario:
    n = history.shape[1]
    return Scenario(
        start=date(2025, 1, 1),
        history=history,
        demand=np.ones((days, n), dtype=np.int64),
        active=np.ones((days, n), dtype=bool),
        on_hand=np.full(n, 5),
        open_series=np.zeros(0, dtype=np.int64),
        open_arrival=np.zeros(0, dtype=np.int64),
        open_qty=np.zeros(0, dtype=np.int64),
        unit_cost=np.full(n, unit_cost),
        part=np.array(part),
        supplier=np.array(supplier),
        location=np.zeros(n, dtype=np.int64),
        reorder_point=np.full(n, 3),
        order_up_to=np.full(n, 9),
        lead_times=lead,
    )


# Part 0: five orders (one received in the period), part 1: two, part 3: one.
LEADS = LeadTimes(
    part=np.array([0, 0, 0, 0, 0, 1, 1, 3]),
    supplier=np.array([0, 0, 0, 0, 0, 0, 0, 1]),
    received_before=np.array([True, True, True, True, False, True, True, True]),
    days=np.array([10, 11, 12, 13, 14, 20, 22, 30]),
)


def test_lead_time_pools_fall_back_from_part_to_supplier_to_everyone():
    # Series 0 has its part's 5 orders, series 1 only 2 (-> supplier 0's 7), series 2 no
    # supplier (-> all 8).
    sc = _scenario(np.ones((30, 3)), LEADS, part=[0, 1, 2], supplier=[0, 0, -1], days=400)
    lead = sc.replay(seed=1).lead_time
    assert set(lead[:, 0]) == {10, 11, 12, 13, 14}
    assert set(lead[:, 1]) == {10, 11, 12, 13, 14, 20, 22}
    assert set(lead[:, 2]) == {10, 11, 12, 13, 14, 20, 22, 30}
    np.testing.assert_array_equal(lead, sc.replay(seed=1).lead_time)
    assert not np.array_equal(lead, sc.replay(seed=2).lead_time)


def test_keyed_series_draw_the_same_lead_times_in_any_subset():
    """With keys each series has its own random stream: a location group's scenario (a subset
    of the series) replays exactly the lead times the whole one gives those series."""
    from dataclasses import replace

    keys = np.array([11, 22, 33])
    whole = replace(
        _scenario(np.ones((30, 3)), LEADS, part=[0, 1, 2], supplier=[0, 0, -1], days=60),
        keys=keys,
    )
    subset = replace(
        _scenario(np.ones((30, 2)), LEADS, part=[0, 2], supplier=[0, -1], days=60),
        keys=keys[[0, 2]],
    )
    lead = whole.replay(seed=1).lead_time
    np.testing.assert_array_equal(subset.replay(seed=1).lead_time, lead[:, [0, 2]])
    assert not np.array_equal(lead, whole.replay(seed=2).lead_time)
    assert set(lead[:, 1]) <= {10, 11, 12, 13, 14, 20, 22}  # the same pools as without keys


def test_pooled_dispersion_of_a_pool_does_not_depend_on_the_other_pools():
    rng = np.random.default_rng(4)
    window = rng.negative_binomial(2, 0.3, (60, 6)).astype(float)
    window[:10, 1] = np.nan
    pools = np.array([0, 1, 0, 1, 2, 2])
    mean, var = forecast(window, pools)
    for pool in range(3):
        cols = pools == pool
        got = forecast(window[:, cols], pools[cols])
        np.testing.assert_array_equal(got[0], mean[cols])
        np.testing.assert_array_equal(got[1], var[cols])  # bit for bit
    # One pool is the single company-wide pool.
    np.testing.assert_allclose(forecast(window, np.zeros(6, dtype=int))[1], forecast(window)[1])
    assert not np.allclose(var, forecast(window)[1])


def test_lead_time_stats_use_only_orders_received_before_the_period():
    sc = _scenario(np.ones((30, 3)), LEADS, part=[0, 1, 2], supplier=[0, 0, -1])
    mean, std = sc.lead_time_stats()
    # Part 0 knows only 4 orders on day 0 (< 5): its supplier's 6 known orders are used.
    known = np.array([10, 11, 12, 13, 20, 22])
    everyone = np.array([10, 11, 12, 13, 20, 22, 30])
    np.testing.assert_allclose(mean, [known.mean(), known.mean(), everyone.mean()])
    np.testing.assert_allclose(std, [known.std(ddof=1), known.std(ddof=1), everyone.std(ddof=1)])


def test_forecast_is_the_window_mean_with_a_negative_binomial_spread():
    window = np.array([[0.0, 1.0], [0.0, np.nan], [0.0, 1.0], [8.0, 1.0]])
    mean, var = forecast(window[:, :1])
    # One series: moment dispersion (48 - 8) / 16 = 2.5, so var = 2 + 2.5 * 2^2 = 12.
    assert (mean[0], var[0]) == pytest.approx((2.0, 12.0))
    mean, var = forecast(window)
    assert mean[1] == pytest.approx(1.0)  # NaN days are not observed days


def test_partsflow_levels_by_hand():
    """Poisson demand of 2 a day, lead time exactly 9 days: protection 10 days, LTD ~ Poi(20)."""
    history = np.full((120, 1), 2.0)
    leads = LeadTimes(np.zeros(6, int), np.zeros(6, int), np.ones(6, bool), np.full(6, 9))
    sc = _scenario(history, leads, part=[0], supplier=[0])
    settings = PolicySettings(ordering_cost=50.0, holding_rate=0.25, window_days=91)
    lv = partsflow_levels(sc, settings, service_level=0.95)(0, np.zeros((0, 1)))
    assert lv.reorder_point[0] == stats.poisson.ppf(0.95, 20) == 28
    # EOQ = sqrt(2 x 730 x 50 / (0.25 x 10)) = 170.9 -> lots of 171.
    assert lv.lot_size[0] == 171 and lv.order_up_to[0] == 28 + 171
    # The class level: a lone series holds all the value, so it is A (98%).
    by_class = partsflow_levels(sc, settings)(0, np.zeros((0, 1)))
    assert by_class.reorder_point[0] == stats.poisson.ppf(0.98, 20)
    # At a later review the window holds what the replay served: 61 days of 2, 30 days of 4.
    later = partsflow_levels(sc, settings, 0.95)(30, np.full((30, 1), 4.0))
    mean = (61 * 2 + 30 * 4) / 91
    assert later.reorder_point[0] > lv.reorder_point[0]
    assert later.lot_size[0] == np.ceil(np.sqrt(2 * mean * 365 * 50 / 2.5))


def _metrics(fill: float, cost: float, incidents: int) -> Metrics:
    return Metrics(1, 100, int(fill * 100), fill, incidents, incidents, cost * 4, cost, 1, 1)


def test_static_sits_on_the_curve_where_its_fill_rate_is_reached():
    curve = [(0.9, 0.95, 100.0, 40), (0.95, 0.97, 120.0, 20), (0.99, 0.99, 160.0, 10)]
    runs = [Run("static", "static", None, {"all": _metrics(0.96, 150.0, 50)})]
    runs += [Run(f"sweep_{s}", "partsflow", s, {"all": _metrics(f, c, i)}) for s, f, c, i in curve]
    where = static_on_curve(Comparison(PolicySettings(), 0, 10, 0, runs))
    assert where["service_level"] == pytest.approx(0.925)
    assert where["carrying_cost"] == pytest.approx(110.0)
    assert where["stockout_incidents"] == pytest.approx(30.0)
    runs[0] = Run("static", "static", None, {"all": _metrics(0.999, 150.0, 50)})
    assert np.isnan(static_on_curve(Comparison(PolicySettings(), 0, 10, 0, runs))["service_level"])


def test_forecast_dispersion_equals_the_forecasters():
    rng = np.random.default_rng(5)
    window = rng.negative_binomial(1.5, rng.uniform(0.2, 0.9, 40), (91, 40)).astype(float)
    window[:30, :5] = np.nan  # series that started inside the window
    mean, var = forecast(window)
    alpha = series_dispersion(window.T, np.broadcast_to(mean[:, None], window.T.shape))
    np.testing.assert_allclose(var, mean + alpha * mean**2, rtol=1e-9)


def test_counted_orders_draw_and_average_as_one_row_per_order():
    """The warehouse reads its orders counted by part, supplier, lead time and before/in the
    period (a few thousand rows for millions of orders): the same pools, draws and statistics."""
    from dataclasses import replace

    counts = np.array([1, 2, 3, 1, 2, 3, 1, 2])
    each = LeadTimes(
        *(np.repeat(a, counts) for a in (LEADS.part, LEADS.supplier)),
        received_before=np.repeat(LEADS.received_before, counts),
        days=np.repeat(LEADS.days, counts),
    )
    counted = replace(LEADS, orders=counts)
    for keys in (None, np.array([11, 22, 33])):
        a, b = (
            replace(_scenario(np.ones((30, 3)), lt, [0, 1, 2], [0, 0, -1], days=60), keys=keys)
            for lt in (each, counted)
        )
        np.testing.assert_array_equal(a.replay(seed=3).lead_time, b.replay(seed=3).lead_time)
        for x, y in zip(a.lead_time_stats(), b.lead_time_stats(), strict=True):
            np.testing.assert_array_equal(x, y)
