"""Drawing helpers shared by the pages: header, empty states, scope-aware filters, downloads."""

from __future__ import annotations

import io
from collections.abc import Callable
from functools import partial

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


FORMATS = {
    "CSV": ("csv", "text/csv"),
    "Excel": ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    "Parquet": ("parquet", "application/vnd.apache.parquet"),
}


def pick_pair(
    pairs: pd.DataFrame, asked: tuple[str | None, str | None] = (None, None)
) -> tuple[str, str]:
    """(part_id, location_id): a location, then a part stocked there. Two short lists rather
    than one of every pair, which a large warehouse (200k pairs) could not ship to a select box.
    `asked` (part, location) preselects a pair of `pairs`; anything else falls back to the first."""
    places = pairs.drop_duplicates("location_id").sort_values(["location_name", "location_id"])
    names = dict(zip(places["location_id"], places["location_name"], strict=True))
    locations = list(names)
    part_asked, location_asked = asked
    location_id = st.selectbox(
        "Location",
        locations,
        index=locations.index(location_asked) if location_asked in names else 0,
        format_func=names.get,
    )
    here = pairs[pairs["location_id"] == location_id]
    labels = dict(
        zip(here["part_id"], here["part_number"] + " · " + here["description"], strict=True)
    )
    parts = list(labels)
    preselect = location_id == location_asked and part_asked in labels
    part_id = st.selectbox(
        "Part",
        parts,
        index=parts.index(part_asked) if preselect else 0,
        format_func=labels.get,
    )
    return part_id, location_id


def file_bytes(frame: pd.DataFrame, kind: str, sheet: str = "data") -> bytes:
    if kind == "CSV":
        return frame.to_csv(index=False).encode("utf-8")
    out = io.BytesIO()
    if kind == "Excel":
        frame.to_excel(out, index=False, sheet_name=sheet[:31])
    else:
        frame.to_parquet(out, index=False)
    return out.getvalue()


def downloads(rows: Callable[[], pd.DataFrame], stem: str, label: str) -> None:
    """CSV, Excel and Parquet download buttons. `rows` (already scoped to the user) runs only
    when a button is clicked, so a large file costs nothing on a page view."""
    for col, (kind, (ext, mime)) in zip(st.columns(len(FORMATS)), FORMATS.items(), strict=True):
        col.download_button(
            f"{label} ({kind})",
            data=partial(_deferred, rows, kind, stem),
            file_name=f"{stem}.{ext}",
            mime=mime,
            icon=":material/download:",
            on_click="ignore",  # downloading must not rerun the queries
            key=f"download-{stem}-{ext}",
        )


def _deferred(rows: Callable[[], pd.DataFrame], kind: str, stem: str) -> bytes:
    return file_bytes(rows(), kind, stem)


def generic_table(frame: pd.DataFrame) -> None:
    """A table whose columns another component owns: money-looking columns get a $ format."""
    config = {
        c: st.column_config.NumberColumn(format="dollar")
        for c in frame.columns
        if any(w in c for w in ("value", "cost")) and pd.api.types.is_numeric_dtype(frame[c])
    }
    st.dataframe(frame, hide_index=True, column_config=config)
