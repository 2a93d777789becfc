"""A real browser: log in, open each page, download the forecast CSV, save screenshots.

Screenshots go to test-artifacts/dashboard/<user>-<page>.png (gitignored)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest
from playwright.sync_api import Page, expect, sync_playwright

from dashboards.pages_index import PAGES
from dashboards.users import ROLE_PAGES
from tests.dashboards.browser import ARTIFACTS, CHROMIUM, streamlit_server
from tests.dashboards.conftest import PASSWORD
from tests.dashboards.world import (
    add_extra_tables,
    use_world_copy,
    world_locations,
    write_world_users,
)

CHART_PAGES = {"overview", "alerts", "stock", "forecasts", "policy"}
FORECAST_COLUMNS = [
    "part_id", "location_id", "grain", "period_start", "days", "mean", "p10", "p20", "p30",
    "p40", "p50", "p60", "p70", "p80", "p90", "model_version", "forecast_origin",
]  # fmt: skip


def log_in(page: Page, url: str, username: str) -> None:
    page.goto(url)
    page.get_by_role("textbox", name="Username").fill(username)
    # exact: the label also names the show-password button
    page.get_by_role("textbox", name="Password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_text("Signed in as")).to_be_visible(timeout=30_000)


def open_page(page: Page, key: str, shot: Path, charts: bool = True) -> None:
    info = next(p for p in PAGES if p.key == key)
    page.locator('[data-testid="stSidebarNav"]').get_by_text(info.title, exact=True).click()
    expect(page.get_by_role("heading", name=info.title, level=1)).to_be_visible(timeout=30_000)
    if charts and key in CHART_PAGES:
        page.locator(".js-plotly-plot .main-svg").first.wait_for(timeout=30_000)
    # Let the rest of the page finish drawing (Streamlit streams elements in).
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=30_000
    )
    assert page.get_by_text("Traceback").count() == 0, key
    page.screenshot(path=str(shot), full_page=True)


@pytest.fixture
def served_world(marts_duckdb: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict:
    path = use_world_copy(marts_duckdb, tmp_path, monkeypatch)
    add_extra_tables(path)
    users = tmp_path / "users.yaml"
    locations = world_locations(marts_duckdb)
    write_world_users(users, locations)
    return {
        "env": {
            "PARTSFLOW_SERVING_DIR": str(path.parent),
            "PARTSFLOW_WAREHOUSE_URL": marts_duckdb,
            "PARTSFLOW_USERS_FILE": str(users),
        },
        "serving": path,
        "own": locations[0],
    }


def test_log_in_open_every_page_and_download_forecasts(served_world: dict, tmp_path: Path) -> None:
    assert Path(CHROMIUM).is_file(), "run `make chromium` (apt-get install -y chromium)"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with duckdb.connect(str(served_world["serving"]), read_only=True) as con:
        scoped_rows = con.execute(
            "select count(*) from ml.fct_forecasts where grain = 'day' and location_id = ?",
            [served_world["own"]],
        ).fetchone()[0]
        all_rows = con.execute(
            "select count(*) from ml.fct_forecasts where grain = 'day'"
        ).fetchone()[0]
    with (
        streamlit_server(served_world["env"], tmp_path / "streamlit.log") as url,
        sync_playwright() as p,
    ):
        browser = p.chromium.launch(executable_path=CHROMIUM)
        try:
            for username in ("admin", "manager"):
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                log_in(page, url, username)
                for key in ROLE_PAGES[username]:
                    # The real policy simulation is company-wide: a scoped user gets a notice.
                    charts = not (key == "policy" and username == "manager")
                    open_page(page, key, ARTIFACTS / f"{username}-{key}.png", charts)
                # Back to replenishment (not the last page of either role) to download.
                open_page(page, "replenishment", ARTIFACTS / f"{username}-replenishment.png")
                with page.expect_download() as download:
                    page.get_by_role("button", name="Forecasts (CSV)").click()
                saved = tmp_path / f"{username}-forecasts.csv"
                download.value.save_as(saved)
                csv = pd.read_csv(saved, dtype={"location_id": str})
                assert list(csv.columns) == FORECAST_COLUMNS
                if username == "manager":
                    assert len(csv) == scoped_rows
                    assert set(csv["location_id"]) == {served_world["own"]}
                else:
                    assert len(csv) == all_rows > scoped_rows
                page.close()
        finally:
            browser.close()
    for name in ("admin-overview.png", "manager-replenishment.png"):
        assert (ARTIFACTS / name).stat().st_size > 10_000
