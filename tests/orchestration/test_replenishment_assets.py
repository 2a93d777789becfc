"""The replenishment assets in the shared world (materialized in-process on DuckDB and
PostgreSQL): one recommendation per active pair, inventory position and stock-out day recomputed
from the marts and the forecast, predicted_stockout alerts in the alert marts, and, on a copy,
episodes that keep their id across runs and close when the prediction goes away."""

from __future__ import annotations

from datetime import timedelta

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from orchestration import env
from orchestration.warehouse import connect
from tests.conftest import copy_of_world
from tests.orchestration.pipeline_helpers import materialize_all, read_table

WORLDS = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]
KEYS = ["part_id", "location_id"]
RERUN = dg.AssetSelection.groups("replenishment").downstream() - dg.AssetSelection.groups("serving")


def _query(url: str, sql: str) -> pd.DataFrame:
    with connect(env.Warehouse(url)) as conn:
        return conn.query_df(sql)


def _recommendations(url: str) -> pd.DataFrame:
    return read_table(url, "ml", "fct_reorder_recommendations", KEYS)


@pytest.mark.parametrize("world", WORLDS)
def test_one_recommendation_per_active_pair_with_its_position(world, request):
    url = request.getfixturevalue(world)
    rec = _recommendations(url)
    active = _query(
        url,
        "select part_id, location_id, on_hand from marts.fct_inventory_position "
        "where status = 'active'",
    )
    assert sorted(map(tuple, rec[KEYS].to_numpy())) == sorted(map(tuple, active[KEYS].to_numpy()))
    # Inventory position = on hand + open purchase-order quantity (no backorders: lost sales).
    open_pos = _query(
        url,
        "select part_id, location_id, quantity from marts.fct_purchase_orders where is_open",
    )
    on_order = open_pos.groupby(KEYS)["quantity"].sum().rename("open_qty")
    want = active.merge(on_order.reset_index(), on=KEYS, how="left").fillna({"open_qty": 0})
    got = rec.merge(want, on=KEYS, suffixes=("", "_mart"))
    np.testing.assert_array_equal(got["on_order"], got["open_qty"].astype(int))
    np.testing.assert_array_equal(got["inventory_position"], got["on_hand_mart"] + got["open_qty"])
    assert (got["backorders"] == 0).all() and (got["on_order"] > 0).any()
    # Status follows the reorder point; every ordering pair gets a positive quantity.
    order_now = (rec["inventory_position"] <= rec["reorder_point"]) & (rec["daily_demand_mean"] > 0)
    assert (rec["status"] == "order_now").eq(order_now).all()
    assert (rec.loc[rec["status"] != "ok", "suggested_order_qty"] >= 1).all()
    assert set(rec["status"]) == {"order_now", "order_soon", "ok"}
    assert rec["reason"].str.len().gt(40).all()


@pytest.mark.parametrize("world", WORLDS)
def test_projected_stockout_day_follows_the_forecast(world, request):
    """Pair by pair: the first day whose cumulative daily forecast reaches the position."""
    url = request.getfixturevalue(world)
    rec = _recommendations(url).set_index(KEYS)
    fc = _query(
        url,
        "select part_id, location_id, period_start, mean from ml.fct_forecasts where grain = 'day'",
    )
    as_of = pd.Timestamp(rec["as_of_date"].iloc[0])
    checked = 0
    for key, days in fc.sort_values("period_start").groupby(KEYS):
        if key not in rec.index:
            continue
        r = rec.loc[key]
        position, cum = float(r["inventory_position"]), days["mean"].cumsum().to_numpy()
        hit = np.flatnonzero(cum >= position - 1e-9)
        if position > 0 and len(hit):
            want = pd.Timestamp(days["period_start"].iloc[hit[0]])
            assert pd.Timestamp(r["projected_stockout_date"]) == want, key
            assert r["days_to_stockout"] == (want - as_of).days
            checked += 1
        elif position > 0 and r["daily_demand_mean"] > 0:
            assert pd.isna(r["days_to_stockout"]) or r["days_to_stockout"] > len(days), key
    assert checked > 0


@pytest.mark.parametrize("world", WORLDS)
def test_predicted_stockouts_are_open_alerts(world, request):
    url = request.getfixturevalue(world)
    rec = _recommendations(url)
    predicted = rec[rec["is_predicted_stockout"]]
    assert len(predicted) > 0
    window = np.ceil(predicted["lead_time_mean_days"]) + predicted["review_period_days"]
    assert (predicted["days_to_stockout"] <= window).all()
    alerts = read_table(url, "marts", "mart_alerts", ["alert_id"])
    alerts = alerts[alerts["alert_type"] == "predicted_stockout"]
    assert sorted(map(tuple, alerts[KEYS].to_numpy())) == sorted(
        map(tuple, predicted[KEYS].to_numpy())
    )
    got = alerts.merge(predicted, on=KEYS)
    assert (got["severity"] == "high").all()
    np.testing.assert_array_equal(got["days"], got["days_to_stockout"])
    assert (pd.to_datetime(got["opened_at"]) == pd.to_datetime(got["as_of_date"])).all()
    assert got["message"].str.startswith("Predicted stock-out: part").all()


@pytest.mark.postgres
def test_same_recommendations_on_both_targets(marts_duckdb, marts_postgres):
    duck, pg = _recommendations(marts_duckdb), _recommendations(marts_postgres)
    for df in (duck, pg):
        for col in ("as_of_date", "projected_stockout_date", "suggested_order_date"):
            df[col] = pd.to_datetime(df[col]).astype("datetime64[ns]")
    pd.testing.assert_frame_equal(duck, pg, check_dtype=False, rtol=1e-9)


def _predicted_history(url: str) -> pd.DataFrame:
    history = read_table(url, "marts", "fct_alert_history", ["alert_id"])
    return history[history["alert_type"] == "predicted_stockout"].reset_index(drop=True)


@pytest.mark.parametrize("world", WORLDS)
def test_episodes_keep_their_id_across_runs_and_close(world, request, tmp_path):
    """On a copy: an earlier run day is recorded with two predictions, one of them (A) still
    predicted today, the other (B) a pair that is not. After the next materialization A's episode
    opened on the earlier day (same id on a rerun), B's closed today; history is not duplicated."""
    with copy_of_world(world, request.getfixturevalue(world), tmp_path) as url:
        rec = _recommendations(url)
        as_of = pd.Timestamp(rec["as_of_date"].iloc[0]).date()
        earlier = as_of - timedelta(days=3)
        a = rec[rec["is_predicted_stockout"]].iloc[0]
        b = rec[~rec["is_predicted_stockout"]].iloc[0]
        with connect(env.Warehouse(url)) as conn:
            conn.execute(
                "insert into ml.replenishment_runs values (?, 'test', 2, 2, 0, 0)", (earlier,)
            )
            for r in (a, b):
                conn.execute(
                    "insert into ml.stockout_prediction_history values (?, ?, ?, 5, ?, 1, 2, 9)",
                    (earlier, r["part_id"], r["location_id"], earlier + timedelta(days=5)),
                )
        landing, serving = tmp_path / "landing", tmp_path / "serving"
        for attempt in range(2):
            result = materialize_all(url, landing, serving, RERUN)
            assert result.success, [e.message for e in result.all_events if e.is_failure]
            history = _predicted_history(url).set_index(KEYS)
            if attempt == 0:
                first = history
        pd.testing.assert_frame_equal(history, first)
        ep_a = history.loc[(a["part_id"], a["location_id"])]
        assert pd.Timestamp(ep_a["opened_at"]).date() == earlier and pd.isna(ep_a["closed_at"])
        ep_b = history.loc[(b["part_id"], b["location_id"])]
        assert pd.Timestamp(ep_b["opened_at"]).date() == earlier
        assert pd.Timestamp(ep_b["closed_at"]).date() == as_of and not ep_b["is_open"]
        runs = read_table(url, "ml", "replenishment_runs", ["as_of_date"])
        assert len(runs) == 2
        kept = read_table(url, "ml", "stockout_prediction_history", ["as_of_date", *KEYS])
        assert len(kept) == 2 + int(rec["is_predicted_stockout"].sum())


def test_without_a_forecast_the_asset_fails_clearly(marts_duckdb, tmp_path):
    """No forecast rows would make every pair look demand-free: the run fails instead, saying
    what to materialize, and the previous recommendations stay."""
    with copy_of_world("marts_duckdb", marts_duckdb, tmp_path) as url:
        before = _recommendations(url)
        with connect(env.Warehouse(url)) as conn:
            conn.execute("delete from ml.fct_forecasts")
        result = materialize_all(
            url,
            tmp_path / "landing",
            tmp_path / "serving",
            dg.AssetSelection.groups("replenishment"),
        )
        assert not result.success
        messages = " ".join(str(e.event_specific_data) for e in result.all_events if e.is_failure)
        assert "materialize ml/fct_forecasts first" in messages
        pd.testing.assert_frame_equal(_recommendations(url), before)


def test_lead_times_drop_the_warehouses_summation_noise():
    """Parallel sums return the same std a few ulps apart; the inputs (and the reason text) must
    not change with that."""
    from orchestration.defs.replenishment.inputs import lead_times

    frame = pd.DataFrame(
        {
            "part_lt_n": [5, 5],
            "part_lt_mean": [14.4, 14.400000000000002],
            "part_lt_std": [2.2499999999999996, 2.2500000000000004],
            "supplier_lt_n": [0, 0],
            "supplier_lt_mean": [np.nan, np.nan],
            "supplier_lt_std": [np.nan, np.nan],
            "nominal_lt": [10.0, 10.0],
        }
    )
    out = lead_times(frame, min_samples=3)
    assert out["lead_time_std_days"].nunique() == 1
    assert out["lead_time_mean_days"].nunique() == 1
    assert {f"{v:.1f}" for v in out["lead_time_std_days"]} == {"2.2"}
