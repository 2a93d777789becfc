"""Recommendations on a constructed forecast: position, stock-out day, status, quantity."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from ml.replenishment.recommend import Settings, cumulative_demand, recommend

AS_OF = date(2024, 3, 31)


def forecast(rows: dict[tuple[str, str], list[float]]) -> pd.DataFrame:
    """Daily forecast rows from a list of means per pair (day 1 = AS_OF + 1); p10/p90 from it."""
    out = []
    for (part, loc), means in rows.items():
        for t, m in enumerate(means, start=1):
            out.append((part, loc, AS_OF + timedelta(days=t), m, 0, int(np.ceil(2 * m))))
    return pd.DataFrame(
        out, columns=["part_id", "location_id", "forecast_date", "mean", "p10", "p90"]
    )


def pair(part: str, **kw) -> dict:
    base = {
        "part_id": part,
        "location_id": "L1",
        "on_hand": 10,
        "on_order": 0,
        "unit_cost": 20.0,
        "abc_class": "B",
        "demand_pattern": "smooth",
        "lead_time_mean_days": 5.0,
        "lead_time_std_days": 0.0,
        "dispersion": 0.0,
    }
    return {**base, **kw}


def test_inventory_position_counts_open_orders_and_backorders():
    pairs = pd.DataFrame(
        [pair("P1", on_hand=10, on_order=5), pair("P2", on_hand=-3, on_order=8), pair("P3")]
    )
    fc = forecast({(p, "L1"): [2.0] * 28 for p in ("P1", "P2", "P3")})
    rec = recommend(pairs, fc, AS_OF).set_index("part_id")
    assert rec.loc["P1", "inventory_position"] == 15
    # A negative ledger balance is a backorder: position = 0 + 8 - 3.
    assert rec.loc["P2", ["on_hand", "backorders", "inventory_position"]].tolist() == [-3, 3, 5]
    assert rec.loc["P3", "inventory_position"] == 10


def test_projected_stockout_day_from_cumulative_demand():
    # 2/day: position 15 is used up on day 8 (cum 16 >= 15); 0.5/day for 28 days then the tail
    # rate 0.5: position 20 lasts 40 days; position 0 is out today.
    pairs = pd.DataFrame(
        [pair("P1", on_hand=10, on_order=5), pair("P2", on_hand=20), pair("P3", on_hand=0)]
    )
    fc = forecast({("P1", "L1"): [2.0] * 28, ("P2", "L1"): [0.5] * 28, ("P3", "L1"): [1.0] * 28})
    rec = recommend(pairs, fc, AS_OF).set_index("part_id")
    assert rec.loc["P1", "days_to_stockout"] == 8
    assert rec.loc["P1", "projected_stockout_date"] == AS_OF + timedelta(days=8)
    assert rec.loc["P2", "days_to_stockout"] == 40
    assert rec.loc["P3", "days_to_stockout"] == 0
    # Protected window = ceil(5) + 7 = 12 days: P1 (8) and P3 (0) are predicted, P2 (40) is not.
    assert rec["is_predicted_stockout"].to_dict() == {"P1": True, "P2": False, "P3": True}


def test_stockout_day_follows_an_uneven_forecast():
    means = [0, 0, 5, 0, 0, 10, 1, 1] + [0.25] * 20
    rec = recommend(pd.DataFrame([pair("P1", on_hand=15)]), forecast({("P1", "L1"): means}), AS_OF)
    assert rec["days_to_stockout"].iloc[0] == 6  # cum: 0 0 5 5 5 15
    # Beyond the horizon the mean of the last (up to 7) days continues: (1 + 2 + 3) / 3 = 2.
    np.testing.assert_allclose(
        cumulative_demand(np.array([[1.0, 2.0, 3.0]]), 5)[0], [0, 1, 3, 6, 8, 10]
    )


def test_reorder_point_status_and_quantity():
    # d = 2/day over P = 5 + 7 = 12 days, Poisson (alpha 0): mu = 24; class B 95%.
    pairs = pd.DataFrame(
        [
            pair("NOW", on_hand=10, on_order=5),
            pair("SOON", on_hand=40),
            pair("OK", on_hand=200),
            pair("NONE", on_hand=3),
        ]
    )
    fc = forecast({(p, "L1"): [2.0] * 28 for p in ("NOW", "SOON", "OK")})
    rec = recommend(pairs, fc, AS_OF).set_index("part_id")
    rop = stats.poisson.ppf(0.95, 24.0)
    assert (rec["reorder_point"].loc[["NOW", "SOON", "OK"]] == rop).all()
    assert rec.loc["NOW", "safety_stock"] == pytest.approx(rop - 24)
    assert rec["status"].to_dict() == {
        "NOW": "order_now",
        "SOON": "order_soon",
        "OK": "ok",
        "NONE": "ok",
    }
    # SOON reaches s when 40 - 2t <= s: t = ceil((40 - s) / 2).
    assert rec.loc["SOON", "days_to_reorder"] == np.ceil((40 - rop) / 2)
    assert rec.loc["SOON", "suggested_order_date"] == AS_OF + timedelta(
        days=int(np.ceil((40 - rop) / 2))
    )
    # EOQ: sqrt(2 * 730 * 50 / (0.25 * 20)) = sqrt(14600) = 120.8 -> 121 units.
    assert rec.loc["NOW", "economic_order_qty"] == pytest.approx(np.sqrt(14600.0))
    assert rec.loc["NOW", "suggested_order_qty"] == 121
    assert rec.loc["NOW", "suggested_order_value"] == pytest.approx(121 * 20.0)
    # No forecast demand: nothing to order, never runs out.
    assert rec.loc["NONE", "suggested_order_qty"] == 0
    assert pd.isna(rec.loc["NONE", "days_to_stockout"])
    assert "No demand forecast" in rec.loc["NONE", "reason"]
    assert rec.loc["NOW", "reason"].startswith("Order 121 now")
    # Expected service level without an order = P(Poisson(24) <= position).
    assert rec.loc["NOW", "expected_service_level"] == pytest.approx(stats.poisson.cdf(15, 24.0))


def test_lumpy_orders_up_to_and_settings_apply():
    pairs = pd.DataFrame([pair("P1", on_hand=2, demand_pattern="lumpy", abc_class="A")])
    fc = forecast({("P1", "L1"): [0.5] * 28})
    settings = Settings(service_levels={"A": 0.99}, review_period_days=14)
    rec = recommend(pairs, fc, AS_OF, settings).iloc[0]
    # P = 5 + 14 = 19 days, mu = 9.5; S = s + ceil(0.5 * 14) = s + 7; order S - 2.
    rop = stats.poisson.ppf(0.99, 9.5)
    assert rec["service_level"] == 0.99
    assert rec["reorder_point"] == rop
    assert rec["order_policy"] == "order_up_to"
    assert rec["suggested_order_qty"] == rop + 7 - 2
    assert "lumpy" in rec["reason"]


def test_random_lead_time_and_dispersion_widen_the_protection():
    pairs = pd.DataFrame(
        [pair("P1"), pair("P2", lead_time_std_days=3.0), pair("P3", dispersion=0.5)]
    )
    fc = forecast({(p, "L1"): [2.0] * 28 for p in ("P1", "P2", "P3")})
    rec = recommend(pairs, fc, AS_OF).set_index("part_id")
    # var = 12 * (2 + alpha * 4) + 4 * sigma_L^2.
    np.testing.assert_allclose(
        rec["protection_demand_std"], np.sqrt([24.0, 24.0 + 36.0, 12 * (2 + 2.0)])
    )
    assert rec.loc["P2", "reorder_point"] > rec.loc["P1", "reorder_point"]
    assert rec.loc["P3", "reorder_point"] > rec.loc["P1", "reorder_point"]


def test_no_forecast_at_all_orders_nothing():
    pairs = pd.DataFrame([pair("P1", abc_class=None, dispersion=np.nan)])
    empty = forecast({})
    rec = recommend(pairs, empty, AS_OF).iloc[0]
    assert rec["status"] == "ok" and rec["suggested_order_qty"] == 0
    assert rec["service_level"] == 0.90  # no class: class C's target
    assert pd.isna(rec["days_to_stockout"]) and not rec["is_predicted_stockout"]
