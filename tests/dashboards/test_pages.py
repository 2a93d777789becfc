"""Every page for every role on the shared materialized world (DuckDB serving copy): renders,
stays inside the user's locations, shows a new publish, answers while the warehouse is locked."""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import psycopg
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.data import ALERT_HISTORY_ROWS
from dashboards.formatting import compact, percent, times
from dashboards.pages_index import PAGES
from dashboards.users import ROLE_PAGES
from tests.dashboards.conftest import login
from tests.dashboards.world import (
    add_extra_tables,
    use_world_copy,
    warehouse_path,
    world_locations,
    write_world_users,
)

CHARTS = {"overview": 2, "alerts": 1, "stock": 2, "forecasts": 3}


@pytest.fixture
def world(marts_duckdb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The served copy of the world, with the tables other components will add."""
    path = use_world_copy(marts_duckdb, tmp_path, monkeypatch)
    add_extra_tables(path)
    users = tmp_path / "users.yaml"
    write_world_users(users, world_locations(marts_duckdb))
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(users))
    return path


def open_page(at: AppTest, key: str) -> AppTest:
    page = next(p for p in PAGES if p.key == key)
    at.switch_page(page.path).run()
    assert not at.exception, (key, [e.message for e in at.exception])
    assert at.title[0].value == page.title
    return at


@pytest.mark.parametrize("role", list(ROLE_PAGES))
def test_every_offered_page_renders_with_data(world: Path, role: str) -> None:
    at = login(role)
    for key in ROLE_PAGES[role]:
        open_page(at, key)
        assert not [i.value for i in at.info if "Not built yet" in i.value], key
        assert len(at.get("plotly_chart")) >= CHARTS.get(key, 0), key
        if key == "overview":
            labels = [m.label for m in at.metric]
            for kpi in ("Turnover", "Stock-out rate", "Inventory accuracy", "Obsolete share"):
                assert kpi in labels
        if key == "policy" and role == "manager":
            # The real simulation is company-wide: a scoped user gets the notice, not the rows.
            assert any("company-wide" in i.value for i in at.info)
        elif key in ("replenishment", "policy", "health", "alerts"):
            assert at.dataframe, key
        if key == "alerts":
            sent = [d.value for d in at.dataframe if "channel" in d.value.columns]
            assert sent and (sent[0]["status"] == "sent").all()
        if key == "health":
            assert_feature_importance_drawn(at)
        if key == "alerts":
            # The in-app link to the stock explorer of an alert's part, for roles that have it.
            links = [link.proto for link in at.get("page_link")]
            if "stock" in ROLE_PAGES[role]:
                assert links[0].page == "stock" and "part=" in links[0].query_string
                first = at.dataframe[0].value.iloc[0]
                assert f"{first['part_number']} at {first['location_name']}" in links[0].label
            else:
                assert not links


def test_alert_history_counts_every_episode_and_lists_the_latest(world: Path) -> None:
    at = open_page(login("admin"), "alerts")
    by_type = next(d.value for d in at.dataframe if "episodes" in d.value.columns)
    listed = next(d.value for d in at.dataframe if "duration_days" in d.value.columns)
    with duckdb.connect(str(world), read_only=True) as con:
        expected = dict(
            con.execute(
                "with w as (select max(kpi_date) - interval 90 day as since"
                " from marts.mart_kpi_daily) select alert_type, count(*)"
                " from marts.fct_alert_history, w where opened_at >= since or closed_at >= since"
                " group by alert_type"
            ).fetchall()
        )
    assert expected  # the world has alert history in the window
    assert dict(zip(by_type["alert_type"], by_type["episodes"], strict=True)) == expected
    assert (by_type["opened"] <= by_type["episodes"]).all()
    assert len(listed) == min(ALERT_HISTORY_ROWS, sum(expected.values()))
    last_seen = listed["closed_at"].fillna(listed["opened_at"])
    assert last_seen.is_monotonic_decreasing
    assert f"of {sum(expected.values()):,} episodes" in " ".join(c.value for c in at.caption)


def assert_feature_importance_drawn(at: AppTest) -> None:
    """The active version's permutation importance, as a horizontal bar per feature."""
    served = Path(os.environ["PARTSFLOW_SERVING_DIR"]) / "serving.duckdb"
    with duckdb.connect(str(served), read_only=True) as con:
        recorded = con.execute(
            "select count(*) from ml.model_feature_importance i join ml.ml_model_registry r"
            " using (model_name, version) where r.status = 'active'"
        ).fetchone()[0]
    assert recorded > 0  # the world's choice uses the global model
    specs = [c.proto.spec.replace(" ", "") for c in at.get("plotly_chart")]
    assert any('"orientation":"h"' in s and "Importance(share)" in s for s in specs)
    assert any("permutation importance" in c.value for c in at.caption)


def location_names(path: Path) -> dict[str, str]:
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(
            "select distinct location_id, location_name from marts.fct_inventory_position"
        ).fetchall()
    return dict(rows)


def test_a_manager_sees_no_row_of_another_location(world: Path) -> None:
    names = location_names(world)
    own = min(names)
    others_ids, others_names = set(names) - {own}, {n for i, n in names.items() if i != own}
    at = login("manager")
    seen_tables = 0
    for key in ROLE_PAGES["manager"]:
        open_page(at, key)
        for frame in (d.value for d in at.dataframe):
            for col in ("location_id",):
                if col in frame.columns:
                    assert not set(frame[col].astype(str)) & others_ids, key
                    seen_tables += 1
            for col in ("location_name", "Location"):
                if col in frame.columns:
                    assert not set(frame[col]) & others_names, key
                    seen_tables += 1
        if key == "replenishment":
            # The download buttons carry the frames counted here: scoped forecasts only.
            with duckdb.connect(str(world), read_only=True) as con:
                scoped = con.execute(
                    "select count(*) from ml.fct_forecasts where grain = 'day' and location_id = ?",
                    [own],
                ).fetchone()[0]
                total = con.execute(
                    "select count(*) from ml.fct_forecasts where grain = 'day'"
                ).fetchone()[0]
            captions = " ".join(c.value for c in at.caption)
            assert f"{scoped:,} forecast rows (day)" in captions
            assert scoped < total
            labels = [b.proto.label for b in at.get("download_button")]
            assert "Forecasts (CSV)" in labels and "Recommendations (Parquet)" in labels
    assert seen_tables >= 4


def test_a_stock_link_to_another_location_is_ignored(world: Path) -> None:
    names = location_names(world)
    own, other = sorted(names)[:2]
    with duckdb.connect(str(world), read_only=True) as con:
        part = con.execute(
            "select part_id from marts.fct_inventory_position where location_id = ? limit 1",
            [other],
        ).fetchone()[0]
    at = login("warehouse")
    at.query_params.update({"part": part, "location": other})
    open_page(at, "stock")
    assert at.selectbox[0].value == own


def test_a_stock_link_opens_its_pair(world: Path) -> None:
    with duckdb.connect(str(world), read_only=True) as con:
        part, location = con.execute(
            "select part_id, location_id from marts.fct_inventory_position"
            " order by location_name desc, part_number desc limit 1"
        ).fetchone()
    at = login("admin")
    at.query_params.update({"part": part, "location": location})
    open_page(at, "stock")
    chosen = [at.selectbox[0].value, at.selectbox[1].value]
    assert chosen == [location, part], (chosen, location, part)
    # Picking another location lists that location's parts only.
    with duckdb.connect(str(world), read_only=True) as con:
        other = con.execute(
            "select min(location_id) from marts.fct_inventory_position where location_id <> ?",
            [location],
        ).fetchone()[0]
        stocked = con.execute(
            "select part_number || ' · ' || description from marts.fct_inventory_position"
            " where location_id = ? order by part_number",
            [other],
        ).fetchall()
    at.selectbox[0].select(other).run()
    assert at.selectbox[0].value == other
    assert at.selectbox[1].options == [label for (label,) in stocked]


def test_a_new_publish_shows_up(world: Path) -> None:
    at = login("admin")
    open_page(at, "alerts")
    before = int(at.metric[0].value.replace(",", ""))
    assert before > 1
    # Publish a changed copy the way the pipeline does: write aside, then rename over it.
    staged = world.with_suffix(".duckdb.tmp")
    shutil.copy(world, staged)
    with duckdb.connect(str(staged)) as con:
        con.execute(
            "delete from marts.mart_alerts"
            " where alert_id <> (select min(alert_id) from marts.mart_alerts)"
        )
    os.replace(staged, world)
    at.run()
    assert not at.exception
    assert at.metric[0].value == "1"


HOLD_WRITE_LOCK = """
import sys, time, duckdb
con = duckdb.connect(sys.argv[1])
con.execute("begin transaction")
con.execute("create table raw.dashboard_lock_probe as select 1 as x")
print("locked", flush=True)
time.sleep(120)
"""


def test_the_dashboard_answers_while_the_warehouse_is_written(
    world: Path, marts_duckdb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A private copy of the warehouse, held open for writing by another process, as a run does.
    warehouse = tmp_path / "warehouse.duckdb"
    shutil.copy(warehouse_path(marts_duckdb), warehouse)
    writer = subprocess.Popen(
        [sys.executable, "-c", HOLD_WRITE_LOCK, str(warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert writer.stdout is not None and writer.stdout.readline().strip() == "locked"
        with pytest.raises(duckdb.IOException, match=re.compile("lock", re.I)):
            duckdb.connect(str(warehouse), read_only=True)
        monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{warehouse}")
        at = login("admin")
        for page in PAGES:
            open_page(at, page.key)
        assert writer.poll() is None  # still holding the lock
    finally:
        writer.kill()
        writer.wait()


@pytest.mark.postgres
@pytest.mark.parametrize("role", ["admin", "manager"])
def test_every_page_renders_on_postgres(
    marts_postgres: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, role: str
) -> None:
    with psycopg.connect(marts_postgres) as con:
        names = dict(
            con.execute(
                "select distinct location_id, location_name from marts.fct_inventory_position"
            ).fetchall()
        )
    users = tmp_path / "users.yaml"
    write_world_users(users, sorted(names))
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(users))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", marts_postgres)
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(tmp_path / "unused"))
    own = min(names)
    at = login(role)
    for key in ROLE_PAGES[role]:
        open_page(at, key)
        # The shared world materializes every asset, replenishment and simulation included.
        infos = " ".join(i.value for i in at.info)
        assert "Not built yet" not in infos or key == "alerts", (key, infos)
        if role == "manager":
            for frame in (d.value for d in at.dataframe):
                for col in ("location_name", "Location"):
                    if col in frame.columns:
                        assert set(frame[col]) <= {names[own]}, key


@pytest.mark.parametrize("role", ["admin", "manager"])
def test_kpi_tiles_equal_the_mart_rows_of_the_scope(world: Path, role: str) -> None:
    """Admin tiles = the company row; a manager's = the row of their one location (the tiles
    are rebuilt from location rows, so this checks the ratios of sums)."""
    own = min(location_names(world))
    scope, scope_id = ("company", None) if role == "admin" else ("location", own)
    with duckdb.connect(str(world), read_only=True) as con:
        row = con.execute(
            "select inventory_value, inventory_turnover, stockout_rate, obsolete_share,"
            " carrying_cost_share from marts.mart_kpi_daily"
            " where scope_type = ? and scope_id is not distinct from ?"
            " order by kpi_date desc limit 1",
            [scope, scope_id],
        ).fetchone()
        fill = con.execute(
            "select sum(issued_units) / (sum(issued_units) + sum(lost_units_estimate))"
            " from marts.mart_fill_rate_daily where scope_type = 'location'"
            " and (? or scope_id = ?) and fill_date > ("
            "  select max(kpi_date) from marts.mart_kpi_daily) - interval 30 day",
            [scope_id is None, scope_id],
        ).fetchone()[0]
    value, turnover, stockout, obsolete, carrying = (float(v) for v in row)
    at = login(role)
    shown = {}
    for m in at.metric:
        shown.setdefault(m.label, m.value)  # the KPI row comes before the stock row
    assert shown["Inventory value"] == compact(value, "$")
    assert shown["Turnover"] == times(turnover)
    assert shown["Stock-out rate"] == percent(stockout, 2)
    assert shown["Obsolete share"] == percent(obsolete)
    assert shown["Carrying cost share"] == percent(carrying)
    # The estimated fill rate over the trailing 30 days, from the location rows of the scope.
    assert fill is not None and shown["Fill rate"] == percent(float(fill))


def test_demand_history_is_the_daily_demand_of_the_warehouse(
    world: Path, marts_duckdb: str
) -> None:
    """The forecast page's history comes from the served daily stock (the serving copy has no
    fct_daily_demand): the same issues per day as the warehouse's daily demand mart."""
    from dashboards import data

    with duckdb.connect(str(warehouse_path(marts_duckdb)), read_only=True) as con:
        part, location, last = con.execute(
            "select part_id, location_id, max(demand_date) from marts.fct_daily_demand"
            " group by all order by sum(issued_qty) desc, 1, 2 limit 1"
        ).fetchone()
        since = last - dt.timedelta(days=120)
        expected = con.execute(
            "select demand_date, issued_qty from marts.fct_daily_demand"
            " where part_id = ? and location_id = ? and demand_date >= ? order by 1",
            (part, location, since),
        ).fetchall()
    with duckdb.connect(str(world), read_only=True) as con:
        served = {t for (t,) in con.execute("select table_name from duckdb_tables()").fetchall()}
    assert "fct_daily_demand" not in served and "fct_daily_stock" in served
    got = data.demand_history(part, location, None, since)
    assert sum(q for _, q in expected) > 0
    assert [(d.date() if hasattr(d, "date") else d, q) for d, q in got.itertuples(index=False)] == [
        (d, q) for d, q in expected
    ]
