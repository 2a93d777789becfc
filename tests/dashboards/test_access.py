"""Login, roles and location scope through AppTest on a hand-made serving file (two marts only,
so every other page shows its not-built state)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest
from streamlit.testing.v1 import AppTest

from dashboards.pages_index import PAGES
from dashboards.users import ROLE_PAGES, UsersFileError, authenticate, load_users
from tests.dashboards.conftest import APP, PASSWORD, USERS, login
from tests.dashboards.test_overview import load_marts

PAGE_FILES = Path(APP).parent
NOT_BUILT = {
    "alerts": "marts/mart_alerts",
    "stock": "marts/fct_daily_stock",
    "forecasts": "ml/fct_forecasts",
    "replenishment": "ml/fct_reorder_recommendations",
    "policy": "ml/mart_policy_simulation",
    "health": "ml.ml_model_registry",
}


@pytest.fixture(autouse=True)
def serving_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PARTSFLOW_SERVING_DIR", str(tmp_path))
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", f"duckdb:///{tmp_path}/warehouse.duckdb")
    path = tmp_path / "serving.duckdb"
    with duckdb.connect(str(path)) as conn:
        load_marts(conn, "?")
    return path


def infos(at: AppTest) -> str:
    return " | ".join(i.value for i in at.info)


def test_no_page_before_login() -> None:
    at = AppTest.from_file(APP, default_timeout=60).run()
    assert [t.value for t in at.title] == ["PartsFlow"]
    assert not at.metric and not at.dataframe
    with pytest.raises(ValueError):
        at.switch_page("app_pages/overview.py")


@pytest.mark.parametrize(
    ("username", "password"), [("admin", "wrong password"), ("nobody", PASSWORD), ("admin", "")]
)
def test_wrong_credentials_are_refused(username: str, password: str) -> None:
    at = login(username, password)
    assert any("Wrong username or password" in e.value for e in at.error)
    assert [t.value for t in at.title] == ["PartsFlow"]
    assert not at.metric


def test_missing_users_file_is_explained(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(tmp_path / "absent.yaml"))
    at = login("admin")
    assert any("partsflow users create-demo" in e.value for e in at.error)


@pytest.mark.parametrize("user", USERS, ids=lambda u: u.role)
def test_each_role_is_offered_exactly_its_pages(user) -> None:
    at = login(user.username)
    first = next(p for p in PAGES if p.key in ROLE_PAGES[user.role])
    assert at.title[0].value == first.title
    assert any(user.name in c.value for c in at.sidebar.caption)
    for page in PAGES:
        if page.key not in ROLE_PAGES[user.role]:
            with pytest.raises(ValueError):
                at.switch_page(page.path)
            continue
        at.switch_page(page.path).run()
        assert not at.exception, (page.key, [e.message for e in at.exception])
        assert at.title[0].value == page.title
        if page.key in NOT_BUILT:
            assert "Not built yet" in infos(at), page.key
            assert NOT_BUILT[page.key] in infos(at), page.key


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.key)
def test_a_page_reached_directly_refuses_other_roles(page) -> None:
    outsider = next(u for u in USERS if page.key not in ROLE_PAGES[u.role])
    at = AppTest.from_file(str(PAGE_FILES / page.path), default_timeout=60)
    at.session_state["user"] = {
        "username": outsider.username,
        "name": outsider.name,
        "role": outsider.role,
        "locations": list(outsider.locations or []),
    }
    at.run()
    assert any("may not open this page" in e.value for e in at.error)
    assert not at.dataframe and not at.metric
    anonymous = AppTest.from_file(str(PAGE_FILES / page.path), default_timeout=60).run()
    assert any("Please log in" in e.value for e in anonymous.error)


def test_logout_returns_to_the_login_form() -> None:
    at = login("executive")
    at.sidebar.button[0].click().run()
    assert [t.value for t in at.title] == ["PartsFlow"]
    assert len(at.text_input) == 2


def test_a_manager_sees_only_their_locations() -> None:
    at = login("manager")  # scoped to L1 = Main Depot
    assert at.sidebar.multiselect[0].options == ["Main Depot (North)"]
    assert set(at.dataframe[0].value["Location"]) == {"Main Depot"}
    assert {m.label: m.value for m in at.metric}["Inventory value"] == "$740"  # 500 + 240 + 0


def test_users_file_rejects_bad_entries(tmp_path: Path) -> None:
    path = tmp_path / "users.yaml"
    path.write_text("users:\n  bob:\n    role: manager\n    password_hash: $2b$04$abc\n")
    with pytest.raises(UsersFileError, match="bob.*needs a non-empty list of locations"):
        load_users(path)
    path.write_text("users:\n  eve:\n    role: boss\n    password_hash: $2b$04$abc\n")
    with pytest.raises(UsersFileError, match="eve.*role must be one of"):
        load_users(path)
    path.write_text("users:\n  eve:\n    role: admin\n    password_hash: hunter2\n")
    with pytest.raises(UsersFileError, match="bcrypt hash"):
        authenticate(path, "eve", "hunter2")
