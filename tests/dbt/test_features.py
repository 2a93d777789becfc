"""Classification and feature marts on a generated world, checked against pandas recomputations
from the landing files, plus no-leakage and incremental-equals-full-refresh rebuilds, on DuckDB
and PostgreSQL."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import holidays
import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from orchestration import env
from orchestration.bench_reference.features import build_features, compare
from orchestration.warehouse import connect
from tests.dbt.feature_expected import (
    daily_demand,
    feature_days,
    first_feature_day,
    monthly_classes,
    pair_classification,
    part_classification,
)
from tests.dbt.test_dbt_models import run_dbt
from tests.orchestration.expected import read_entity

WAREHOUSES = ["marts_duckdb", pytest.param("marts_postgres", marks=pytest.mark.postgres)]
FEATURE_KEYS = ["part_id", "location_id", "demand_date"]
# Every column of fct_demand_features except the targets: what may never see day D's demand.
TARGETS = ["target_qty", "target_next_7_qty", "target_next_28_qty"]
# The models between the raw transactions and the feature mart (what a rebuild needs).
FEATURE_PATH = "int_transactions_signed+,+fct_demand_features"


@pytest.fixture(params=WAREHOUSES)
def world(request: pytest.FixtureRequest) -> str:
    return request.getfixturevalue(request.param)


def query(url: str, text: str, params: tuple = ()) -> pd.DataFrame:
    with connect(env.Warehouse(url)) as conn:
        return conn.query_df(text, params)


def features(url: str, where: str = "", params: tuple = ()) -> pd.DataFrame:
    df = query(url, f"select * from marts.fct_demand_features {where}", params)
    df["demand_date"] = pd.to_datetime(df["demand_date"])
    return df.sort_values(FEATURE_KEYS).reset_index(drop=True)


def sample_pairs(daily: pd.DataFrame, n: int = 6) -> pd.DataFrame:
    pairs = daily[["part_id", "location_id"]].drop_duplicates().sort_values(["part_id"])
    return pairs.iloc[:: max(1, len(pairs) // n)]


# --------------------------------------------------------------------------------------------
# Classification
# --------------------------------------------------------------------------------------------


def test_pair_classification_matches_pandas(world: str, marts_landing: Path) -> None:
    got = query(world, "select * from marts.fct_part_location_classification")
    want = pair_classification(marts_landing)
    merged = want.merge(got, on=["part_id", "location_id"], suffixes=("", "_sql"), how="outer")
    assert len(merged) == len(want) == len(got)
    for col in ("observed_days", "demand_days", "issued_qty", "abc_class", "demand_pattern"):
        assert (merged[col] == merged[f"{col}_sql"]).all(), col
    for col in ("consumption_value", "adi", "cv_squared"):
        np.testing.assert_allclose(
            merged[f"{col}_sql"].astype(float), merged[col].astype(float), rtol=1e-9
        )
    assert set(got["abc_class"]) == {"A", "B", "C"}
    assert len(set(got["demand_pattern"])) >= 2


def test_part_classification_matches_pandas(world: str, marts_landing: Path) -> None:
    got = query(world, "select * from marts.dim_part_classification")
    want = part_classification(marts_landing)
    merged = want.merge(got, on="part_id", suffixes=("", "_sql"), how="outer")
    assert len(merged) == len(want) == len(got)
    for col in ("observed_days", "demand_days", "issued_qty", "abc_class", "demand_pattern"):
        assert (merged[col] == merged[f"{col}_sql"]).all(), col
    for col in ("consumption_value", "adi", "cv_squared"):
        np.testing.assert_allclose(
            merged[f"{col}_sql"].astype(float), merged[col].astype(float), rtol=1e-9
        )


# --------------------------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------------------------


def with_scoring_day(daily: pd.DataFrame, end: pd.Timestamp) -> pd.DataFrame:
    """`daily` plus a zero-demand row per pair on the scoring date (the day after `end`), so that
    pandas computes that day's features; no window of an earlier stored row reaches it (the
    origins are whole weeks before it, the targets span 7 and 28 days)."""
    pairs = daily[["part_id", "location_id"]].drop_duplicates()
    scoring = pairs.assign(demand_date=end + pd.Timedelta(days=1), issued_qty=0)
    return pd.concat([daily, scoring], ignore_index=True)


def test_features_match_pandas_on_a_sample(world: str, marts_landing: Path) -> None:
    """The stored rows (origins and scoring date) equal the pandas reference on those days."""
    daily, end = daily_demand(marts_landing)
    first = first_feature_day(end)
    days = feature_days(end)
    pairs = sample_pairs(daily)
    reference = build_features(with_scoring_day(daily.merge(pairs), end), first_day=first.date())
    want = reference[reference["demand_date"].isin(days)].reset_index(drop=True)
    scoring = want["demand_date"] == days[-1]
    want.loc[scoring, TARGETS] = np.nan  # the scoring date's demand is unknown
    got = features(world).merge(pairs)
    assert len(got) == len(want) > len(pairs)
    assert set(got["demand_date"]) == set(days)
    assert (got["demand_date"] == days[-1]).sum() == len(pairs)

    diffs = compare(want, got)
    assert diffs.pop("rows") == len(got)
    assert max(diffs.values()) < 1e-9, {k: v for k, v in diffs.items() if v >= 1e-9}

    # Calendar, holidays and attributes
    days = got["demand_date"]
    assert (got["day_of_week"] == days.dt.isocalendar().day.astype(int)).all()
    assert (got["iso_week"] == days.dt.isocalendar().week.astype(int)).all()
    assert (got["is_month_end"] == days.dt.is_month_end).all()
    assert np.allclose(got["month_sin"], np.sin(2 * np.pi * (days.dt.month - 1) / 12))
    locations = read_entity(marts_landing, "locations").set_index("location_id")
    country = got["location_id"].map(locations["country"])
    calendars = {c: holidays.country_holidays(c) for c in country.unique()}
    want_holiday = [d.date() in calendars[c] for d, c in zip(days, country, strict=True)]
    assert (got["is_public_holiday"] == want_holiday).all()
    assert got["is_public_holiday"].any()
    cost = read_entity(marts_landing, "parts").set_index("part_id")["unit_cost"]
    np.testing.assert_allclose(got["unit_cost"].astype(float), got["part_id"].map(cost))


def test_feature_classes_are_monthly_as_of_the_month_start(world: str, marts_landing: Path) -> None:
    """ADI, CV², pattern and ABC of a row come from the 12 calendar months before its month."""
    daily, end = daily_demand(marts_landing)
    cost = read_entity(marts_landing, "parts").set_index("part_id")["unit_cost"]
    # The scoring date may open a month after the data; a month's own days never count.
    want = monthly_classes(with_scoring_day(daily, end), cost)
    got = features(world)
    got["month"] = got["demand_date"].dt.to_period("M")
    merged = got.merge(want, on=["part_id", "location_id", "month"], suffixes=("", "_want"))
    assert len(merged) == len(got) > 0
    for col in ("abc_class", "demand_pattern"):
        assert (merged[col] == merged[f"{col}_want"]).all(), col
    for col in ("adi", "cv_squared"):
        np.testing.assert_allclose(
            merged[col].astype(float), merged[f"{col}_want"].astype(float), rtol=1e-9
        )
    assert merged["abc_class"].nunique() == 3 and merged["demand_pattern"].nunique() >= 2


def test_weekly_features_match_pandas_on_a_sample(world: str, marts_landing: Path) -> None:
    daily, _ = daily_demand(marts_landing)
    pairs = sample_pairs(daily)
    sample = daily.merge(pairs)
    sample["week_start"] = sample["demand_date"].dt.to_period("W-SUN").dt.start_time
    weeks = (
        sample.groupby(["part_id", "location_id", "week_start"])["issued_qty"]
        .agg(["sum", "size"])
        .reset_index()
    )
    weeks = weeks[weeks["size"] == 7].rename(columns={"sum": "qty"})
    grouped = weeks.groupby(["part_id", "location_id"])["qty"]
    weeks["lag_1_qty"] = grouped.shift(1)
    weeks["rolling_mean_4"] = grouped.transform(lambda x: x.shift(1).rolling(4, 1).mean())
    weeks["rolling_std_13"] = grouped.transform(lambda x: x.shift(1).rolling(13, 1).std())
    weeks["next_4"] = grouped.transform(lambda x: x[::-1].rolling(4, 4).sum()[::-1])

    got = query(world, "select * from marts.fct_demand_features_weekly")
    got["week_start"] = pd.to_datetime(got["week_start"])
    got = got.merge(pairs).sort_values(["part_id", "location_id", "week_start"])
    weeks = weeks.rename(columns={"next_4": "target_next_4_weeks_qty", "qty": "target_qty"})
    keys = ["part_id", "location_id", "week_start"]
    merged = weeks.merge(got, on=keys, how="outer", suffixes=("_want", ""))
    assert len(merged) == len(weeks) == len(got) > 0
    for col in ("target_qty", "lag_1_qty", "rolling_mean_4", "rolling_std_13"):
        np.testing.assert_allclose(
            merged[col].astype(float), merged[f"{col}_want"].astype(float), rtol=1e-9, err_msg=col
        )
    np.testing.assert_allclose(
        merged["target_next_4_weeks_qty"].astype(float),
        merged["target_next_4_weeks_qty_want"].astype(float),
    )


# --------------------------------------------------------------------------------------------
# Rebuilds on a copy of the world
# --------------------------------------------------------------------------------------------


@contextmanager
def world_copy(url: str, tmp_path: Path) -> Iterator[env.Warehouse]:
    """A private copy of a session world, to change raw data and rebuild."""
    source = env.Warehouse(url)
    if source.is_duckdb:
        target = tmp_path / "copy.duckdb"
        shutil.copy(source.duckdb_path, target)
        yield env.Warehouse(f"duckdb:///{target}")
        return
    name = f"partsflow_copy_{uuid.uuid4().hex[:12]}"
    admin = env.test_postgres_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(name), sql.Identifier(urlparse(url).path.lstrip("/"))
            )
        )
    try:
        yield env.Warehouse(urlunparse(urlparse(admin)._replace(path=f"/{name}")))
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def execute(warehouse: env.Warehouse, statement: str, params: tuple = ()) -> None:
    with connect(warehouse) as conn, conn.transaction():
        conn.execute(statement, params)


def test_no_leakage(world: str, tmp_path: Path) -> None:
    """Changing day D's demand changes D's targets and later features, never D's features."""
    issue = query(
        world,
        "select transaction_id, part_id, location_id, cast(occurred_at as date) as day "
        "from raw.transactions where type = 'ISSUE' order by part_id, location_id, occurred_at",
    )
    issue["day"] = pd.to_datetime(issue["day"])
    days = feature_days(
        query(world, "select max(occurred_date) as d from staging.int_transactions_signed")[
            "d"
        ].astype("datetime64[ns]")[0]
    )
    # An origin day inside the feature window, with a month after it.
    inside = issue[issue["day"].isin(days[4:-5])]
    pick = inside.iloc[len(inside) // 2]
    pair = ("where part_id = ? and location_id = ?", (pick.part_id, pick.location_id))
    day = pd.Timestamp(pick.day)
    before = features(world, *pair).set_index("demand_date")
    with world_copy(world, tmp_path) as copy:
        execute(
            copy,
            "update raw.transactions set quantity = quantity + 5 where transaction_id = ?",
            (pick.transaction_id,),
        )
        run_dbt(["run", "--select", FEATURE_PATH, "--full-refresh"], copy, tmp_path)
        after = features(copy.url, *pair).set_index("demand_date")

    next_origin = day + pd.Timedelta(days=7)
    inputs = [c for c in before.columns if c not in TARGETS]
    pd.testing.assert_series_equal(after.loc[day, inputs], before.loc[day, inputs])
    assert after.loc[day, "target_qty"] == before.loc[day, "target_qty"] + 5
    assert after.loc[next_origin, "lag_7_qty"] == before.loc[next_origin, "lag_7_qty"] + 5
    assert after.loc[next_origin, "rolling_sum_7"] == before.loc[next_origin, "rolling_sum_7"] + 5
    # Everything before D is untouched, targets included only when D is past their horizon.
    earlier = before.index < day - pd.Timedelta(days=27)
    pd.testing.assert_frame_equal(after[earlier], before[earlier])


def test_incremental_runs_equal_full_refresh(world: str, tmp_path: Path) -> None:
    """Build with the last 45 days missing; add 3 days (the origins move: every row recomputed),
    then 42 (they stay: only the last days recomputed); the result equals a full refresh."""
    with world_copy(world, tmp_path) as copy:
        end = query(copy.url, "select max(occurred_at) as t from raw.transactions")["t"][0]
        end = pd.Timestamp(end).normalize()
        execute(
            copy,
            "create table raw.later_transactions as select * from raw.transactions "
            "where occurred_at >= ?",
            ((end - pd.Timedelta(days=44)).to_pydatetime(),),
        )
        execute(
            copy,
            "delete from raw.transactions where occurred_at >= ?",
            ((end - pd.Timedelta(days=44)).to_pydatetime(),),
        )
        run_dbt(["run", "--select", FEATURE_PATH, "--full-refresh"], copy, tmp_path)
        scoring = [features(copy.url)["demand_date"].max()]

        def load_until(day: pd.Timestamp) -> None:
            moved = "from raw.later_transactions where occurred_at < ?"
            execute(copy, f"insert into raw.transactions select * {moved}", (day.to_pydatetime(),))
            execute(copy, f"delete {moved}", (day.to_pydatetime(),))
            run_dbt(["run", "--select", FEATURE_PATH], copy, tmp_path)
            scoring.append(features(copy.url)["demand_date"].max())

        load_until(end - pd.Timedelta(days=41))
        # A stored origin older than the reprocessed days, marked: the next run must keep it.
        old_day = (scoring[-1] - pd.Timedelta(days=63)).date()
        execute(
            copy,
            "update marts.fct_demand_features set lag_1_qty = -1 where demand_date = ?",
            (old_day,),
        )
        load_until(end + pd.Timedelta(days=1))
        incremental = features(copy.url)
        run_dbt(["run", "--select", "fct_demand_features", "--full-refresh"], copy, tmp_path)
        full = features(copy.url)

    assert [(b - a).days for a, b in zip(scoring, scoring[1:], strict=False)] == [3, 42]
    assert set(full["demand_date"]) == set(feature_days(scoring[-1] - pd.Timedelta(days=1)))
    marked = incremental["demand_date"] == pd.Timestamp(old_day)
    assert marked.any() and (incremental.loc[marked, "lag_1_qty"] == -1).all()
    incremental.loc[marked, "lag_1_qty"] = full.loc[marked, "lag_1_qty"]
    pd.testing.assert_frame_equal(incremental, full)
