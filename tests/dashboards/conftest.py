"""Dashboard test helpers: a users file with one user per role, and logging in through AppTest."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import bcrypt
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboards.users import User, write_users

APP = str(Path(__file__).resolve().parents[2] / "dashboards" / "streamlit_app.py")
PASSWORD = "correct horse"
# One user per role; the scoped ones see location L1 only (the hand-made marts have L1 and L2).
USERS = (
    User("admin", "Ada Admin", "admin", None),
    User("executive", "Eve Executive", "executive", None),
    User("manager", "Max Manager", "manager", ("L1",)),
    User("planner", "Pat Planner", "planner", None),
    User("warehouse", "Walt Warehouse", "warehouse", ("L1",)),
    User("technician", "Tess Technician", "technician", ("L1",)),
)


@pytest.fixture(autouse=True)
def fresh_cache() -> Iterator[None]:
    # Cached results and connections outlive a test otherwise and would leak one test's data into
    # the next.
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    st.cache_data.clear()
    st.cache_resource.clear()


@pytest.fixture(autouse=True)
def users_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "users.yaml"
    # Cost 4 keeps the tests fast; the file format and the check are the same as in production.
    hashed = bcrypt.hashpw(PASSWORD.encode(), bcrypt.gensalt(rounds=4)).decode()
    write_users(path, [(u, hashed) for u in USERS])
    monkeypatch.setenv("PARTSFLOW_USERS_FILE", str(path))
    return path


def login(username: str, password: str = PASSWORD, app: str = APP) -> AppTest:
    """Run the app, fill the login form and submit it; the AppTest after the rerun."""
    at = AppTest.from_file(app, default_timeout=60).run()
    assert not at.exception, [e.message for e in at.exception]
    at.text_input[0].input(username)
    at.text_input[1].input(password)
    at.button[0].click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at
