"""Login, logout and page guards for the dashboard (session state only: a reload logs out).

Production setups can swap this for OIDC with `st.login` (README, "Dashboard").
"""

from __future__ import annotations

from dataclasses import asdict

import streamlit as st

from dashboards.users import User, UsersFileError, authenticate
from orchestration import env

SESSION_KEY = "user"


def current_user() -> User | None:
    raw = st.session_state.get(SESSION_KEY)
    if not raw:
        return None
    locations = raw.get("locations")
    return User(raw["username"], raw["name"], raw["role"], tuple(locations) if locations else None)


def log_in(user: User) -> None:
    st.session_state[SESSION_KEY] = asdict(user)


def log_out() -> None:
    st.session_state.pop(SESSION_KEY, None)


def login_page() -> None:
    """The only page offered before a successful login."""
    st.title("PartsFlow")
    st.caption("Spare-parts inventory analytics. Log in to continue.")
    with st.form("login"):
        username = st.text_input("Username")
        password = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if not submitted:
        return
    try:
        user = authenticate(env.users_file(), username, password)
    except UsersFileError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if user is None:
        st.error("Wrong username or password.", icon=":material/lock:")
        return
    log_in(user)
    st.rerun()


def require(page: str) -> User:
    """The logged-in user when their role may open `page`; otherwise refuse and stop the page.

    Navigation only offers the role's pages; this guards a page reached any other way."""
    user = current_user()
    if user is None:
        st.error("Please log in first.", icon=":material/lock:")
        st.stop()
    if not user.may_open(page):
        st.error(f"Your role ({user.role}) may not open this page.", icon=":material/block:")
        st.stop()
    return user
