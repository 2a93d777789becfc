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

st.set_page_config(page_title="PartsFlow", layout="wide")

# Pages live in `app_pages/`, not `pages/`, so Streamlit's automatic multipage discovery stays off
# and this list is the single source of navigation.
pages = [
    st.Page(
        "app_pages/overview.py",
        title="Inventory overview",
        icon=":material/inventory_2:",
        default=True,
    ),
]
st.navigation(pages).run()
