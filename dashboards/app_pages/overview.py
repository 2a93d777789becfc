"""Inventory overview: KPI tiles, value by category and the low-stock list. Drawing only."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data
from dashboards.formatting import compact

LOW_STOCK_LIMIT = 500

st.title("Inventory overview")

if not data.serving_available():
    st.info(data.NO_DATA_MESSAGE, icon=":material/info:")
    st.stop()

refreshed = data.last_refreshed()
if refreshed is not None:
    st.caption(f"Data refreshed {refreshed:%Y-%m-%d %H:%M}")

locs = data.locations()
labels = {
    row.location_id: f"{row.location_name} ({row.region})" if row.region else row.location_name
    for row in locs.itertuples()
}
chosen = st.sidebar.multiselect(
    "Locations", options=list(labels), format_func=labels.get, placeholder="All locations"
)
# An empty selection reads as "all locations", which data.py spells None.
location_ids = tuple(chosen) or None

totals = data.kpi_totals(location_ids)
tiles = st.columns(6)
tiles[0].metric(
    "Inventory value",
    compact(totals.total_value, "$"),
    border=True,
    help=f"On-hand x unit cost: ${totals.total_value:,.2f}",
)
tiles[1].metric("Items", compact(totals.item_count), border=True, help="Part-location positions")
tiles[2].metric(
    "On-hand units", compact(totals.on_hand_units), border=True, help=f"{totals.on_hand_units:,}"
)
tiles[3].metric("Low stock", f"{totals.low_stock_count:,}", border=True)
tiles[4].metric("Critical", f"{totals.critical_stock_count:,}", border=True)
tiles[5].metric("Stock-outs", f"{totals.stockout_count:,}", border=True)

# Chart and table stacked at full width: the eight-column table does not fit beside a chart.
st.subheader("Inventory value by category")
by_cat = data.value_by_category(location_ids)
fig = px.bar(
    by_cat,
    x="total_value",
    y="category_name",
    orientation="h",
    labels={"total_value": "Inventory value", "category_name": ""},
)
# Largest category on top, currency ticks, and a height that follows the number of bars so a
# handful of categories does not turn into giant blocks.
fig.update_layout(
    yaxis={"autorange": "reversed"},
    margin={"l": 0, "r": 10, "t": 10, "b": 0},
    height=120 + 40 * len(by_cat),
    bargap=0.35,
)
fig.update_xaxes(tickprefix="$", tickformat=",.0f")
fig.update_traces(hovertemplate="%{y}: $%{x:,.0f}<extra></extra>")
st.plotly_chart(fig, config={"displayModeBar": False})

st.subheader("Low stock")
low = data.low_stock(location_ids, LOW_STOCK_LIMIT).rename(
    columns={
        "part_number": "Part",
        "description": "Description",
        "location_name": "Location",
        "on_hand": "On hand",
        "reorder_threshold": "Reorder threshold",
        "critical_threshold": "Critical threshold",
        "inventory_value": "Value",
        "level": "Level",
    }
)
if low.empty:
    st.success("Nothing at or below its reorder threshold.")
else:
    st.dataframe(
        low,
        hide_index=True,
        column_config={"Value": st.column_config.NumberColumn(format="dollar")},
    )
    if len(low) == LOW_STOCK_LIMIT:
        st.caption(f"Showing the first {LOW_STOCK_LIMIT}; the download has the same rows.")
    st.download_button(
        "Download low-stock list (CSV)",
        data=low.to_csv(index=False).encode("utf-8"),
        file_name="low_stock.csv",
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",  # downloading must not rerun the queries
    )
