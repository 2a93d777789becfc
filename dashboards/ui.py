"""Drawing helpers shared by the pages: header, empty states, scope-aware filters, downloads."""

from __future__ import annotations

import io

import pandas as pd
import streamlit as st

from dashboards import auth, data
from dashboards.pages_index import TITLES
from dashboards.users import User


def page(key: str) -> User:
    """Guard, title and 'data refreshed' line of a page; stops when nothing is published."""
    user = auth.require(key)
    st.title(TITLES[key])
    if not data.serving_available():
        st.info(data.NO_DATA_MESSAGE, icon=":material/info:")
        st.stop()
    refreshed = data.last_refreshed()
    if refreshed is not None:
        st.caption(f"Data refreshed {refreshed:%Y-%m-%d %H:%M} UTC")
    return user


def not_built(tables: list[str], asset: str) -> None:
    """The empty state of a page or section whose tables are not published yet."""
    st.info(
        f"Not built yet: materialize `{asset}` (missing {', '.join(tables)}), then publish"
        " `serving/dashboard_copy`.",
        icon=":material/construction:",
    )


def require_tables(asset: str, *tables: str) -> None:
    """Show the not-built state and stop the page when any of `tables` is missing."""
    absent = data.missing(*tables)
    if absent:
        not_built(absent, asset)
        st.stop()


def location_filter(user: User, label: str = "Locations") -> data.LocationIds:
    """Sidebar multiselect limited to the user's locations; returns the scope to query with.

    An empty selection means the whole scope: every location for unscoped roles (None), the
    user's own locations otherwise (never None, so a scoped user can never widen it)."""
    locs = data.locations(user.locations)
    labels = {
        r.location_id: f"{r.location_name} ({r.region})" if r.region else r.location_name
        for r in locs.itertuples()
    }
    chosen = st.sidebar.multiselect(
        label, options=list(labels), format_func=labels.get, placeholder="All my locations"
    )
    if chosen:
        return tuple(chosen)
    return user.locations


def downloads(frame: pd.DataFrame, stem: str, label: str) -> None:
    """CSV, Excel and Parquet download buttons for the rows shown (already scoped)."""
    cols = st.columns(3)
    excel = io.BytesIO()
    frame.to_excel(excel, index=False, sheet_name=stem[:31])
    parquet = io.BytesIO()
    frame.to_parquet(parquet, index=False)
    for col, (kind, blob, mime) in zip(
        cols,
        (
            ("CSV", frame.to_csv(index=False).encode("utf-8"), "text/csv"),
            (
                "Excel",
                excel.getvalue(),
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ),
            ("Parquet", parquet.getvalue(), "application/vnd.apache.parquet"),
        ),
        strict=True,
    ):
        ext = {"CSV": "csv", "Excel": "xlsx", "Parquet": "parquet"}[kind]
        col.download_button(
            f"{label} ({kind})",
            data=blob,
            file_name=f"{stem}.{ext}",
            mime=mime,
            icon=":material/download:",
            on_click="ignore",  # downloading must not rerun the queries
            key=f"download-{stem}-{ext}",
        )


def generic_table(frame: pd.DataFrame) -> None:
    """A table whose columns another component owns: money-looking columns get a $ format."""
    config = {
        c: st.column_config.NumberColumn(format="dollar")
        for c in frame.columns
        if any(w in c for w in ("value", "cost")) and pd.api.types.is_numeric_dtype(frame[c])
    }
    st.dataframe(frame, hide_index=True, column_config=config)
