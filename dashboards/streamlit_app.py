"""PartsFlow dashboard entry point: `streamlit run dashboards/streamlit_app.py` from the root."""

from __future__ import annotations

import sys
from pathlib import Path

import streamlit as st

# `streamlit run` only puts this script's folder on sys.path, but the pages import
# `dashboards.data` and `orchestration.env`: make the project root importable whatever the cwd.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

from dashboards import auth  # noqa: E402
from dashboards.pages_index import PAGES  # noqa: E402


def main() -> None:
    """Log in, then the pages of the user's role."""
    st.set_page_config(
        page_title="PartsFlow",
        page_icon=str(Path(__file__).parent / "static" / "favicon.png"),
        layout="wide",
    )

    user = auth.current_user()
    if user is None:
        # Before login every URL shows the login form: no other page is registered.
        st.navigation([st.Page(auth.login_page, title="Log in", icon=":material/login:")]).run()
        st.stop()

    with st.sidebar:
        scope = "all locations" if user.locations is None else ", ".join(user.locations)
        st.caption(f"Signed in as **{user.name}** ({user.role}; {scope})")
        if st.button("Log out", icon=":material/logout:"):
            auth.log_out()
            st.rerun()

    # Pages live in `app_pages/`, not `pages/`, so Streamlit's automatic multipage discovery
    # stays off and this list, cut to the user's role, is the single source of navigation.
    pages = [
        st.Page(p.path, title=p.title, icon=p.icon, url_path=p.key, default=i == 0)
        for i, p in enumerate(p for p in PAGES if user.may_open(p.key))
    ]
    st.navigation(pages).run()


# Streamlit (and AppTest) run this file as __main__; a process pool started while AppTest ran
# re-imports it as __mp_main__, which must not draw anything.
if __name__ == "__main__":
    main()
