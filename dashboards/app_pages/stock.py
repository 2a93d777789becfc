"""Stock explorer: one part at one location: position history with thresholds, receipts and
issues, open purchase orders, FIFO age buckets, ABC and demand class."""

from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st
from plotly.subplots import make_subplots

from dashboards import data, ui
from dashboards.formatting import AXIS_MONEY, AXIS_UNITS, money

user = ui.page("stock")
ui.require_tables("marts/fct_daily_stock", "marts.fct_daily_stock")

pairs = data.positions(user.locations)
if pairs.empty:
    st.info("No stock positions in your locations.")
    st.stop()
# An alert's link opens this page with ?part=..&location=..; a pair outside the scope is ignored.
part_id, location_id = ui.pick_pair(
    pairs, (st.query_params.get("part"), st.query_params.get("location"))
)
st.query_params.update({"part": part_id, "location": location_id})

history = data.stock_history(part_id, location_id, user.locations)
cls = data.classification(part_id, location_id, user.locations)
tiles = st.columns(4)
if not history.empty:
    last = history.iloc[-1]
    tiles[0].metric("On hand", f"{int(last['on_hand']):,} units", border=True)
    reorder = last["reorder_threshold"]
    tiles[1].metric(
        "Reorder threshold", "n/a" if reorder != reorder else f"{int(reorder):,}", border=True
    )
if not cls.empty:
    tiles[2].metric("ABC class", str(cls["abc_class"].iloc[0]), border=True)
    tiles[3].metric(
        "Demand pattern",
        str(cls["demand_pattern"].iloc[0]),
        border=True,
        help=f"ADI {cls['adi'].iloc[0]:.2f}, CV² {cls['cv_squared'].iloc[0]:.2f}",
    )

st.subheader("Stock position")
if history.empty:
    st.caption("No daily stock rows for this pair.")
else:
    fig = make_subplots(
        rows=2, cols=1, shared_xaxes=True, row_heights=[0.65, 0.35], vertical_spacing=0.05
    )
    fig.add_trace(
        go.Scatter(
            x=history["stock_date"], y=history["on_hand"], name="On hand", line={"shape": "hv"}
        ),
        row=1,
        col=1,
    )
    for col, name, dash in (
        ("reorder_threshold", "Reorder threshold", "dash"),
        ("critical_threshold", "Critical threshold", "dot"),
    ):
        fig.add_trace(
            go.Scatter(
                x=history["stock_date"],
                y=history[col],
                name=name,
                line={"dash": dash, "shape": "hv"},
            ),
            row=1,
            col=1,
        )
    fig.add_trace(
        go.Bar(x=history["stock_date"], y=history["received_qty"], name="Received"), row=2, col=1
    )
    fig.add_trace(
        go.Bar(x=history["stock_date"], y=-history["issued_qty"], name="Issued"), row=2, col=1
    )
    fig.update_yaxes(title_text="Units on hand", row=1, col=1, **AXIS_UNITS)
    fig.update_yaxes(title_text="Units in (+) / out (-)", row=2, col=1, **AXIS_UNITS)
    fig.update_xaxes(title_text="Date", row=2, col=1)
    fig.update_layout(height=480, margin={"l": 0, "r": 10, "t": 10, "b": 0}, barmode="relative")
    st.plotly_chart(fig, config={"displayModeBar": False})

left, right = st.columns(2)
with left:
    st.subheader("Open purchase orders")
    if data.missing("marts.fct_purchase_orders"):
        ui.not_built(["marts.fct_purchase_orders"], "marts/fct_purchase_orders")
    else:
        pos = data.open_purchase_orders(part_id, location_id, user.locations)
        if pos.empty:
            st.caption("Nothing on order.")
        else:
            st.dataframe(pos, hide_index=True)
with right:
    st.subheader("FIFO stock age")
    if data.missing("marts.fct_stock_ageing"):
        ui.not_built(["marts.fct_stock_ageing"], "marts/fct_stock_ageing")
    else:
        ageing = data.stock_ageing(part_id, location_id, user.locations)
        if ageing.empty or not ageing["qty"].sum():
            st.caption("No stock on hand to age.")
        else:
            fig = go.Figure(
                go.Bar(
                    x=ageing["bucket"],
                    y=ageing["value"],
                    customdata=ageing["qty"],
                    hovertemplate="%{x} days: $%{y:,.0f} (%{customdata:,} units)<extra></extra>",
                )
            )
            fig.update_xaxes(title_text="Age (days)")
            fig.update_yaxes(title_text="Stock value ($)", **AXIS_MONEY)
            fig.update_layout(height=260, margin={"l": 0, "r": 10, "t": 10, "b": 0})
            st.plotly_chart(fig, config={"displayModeBar": False})
            st.caption(f"Total {money(float(ageing['value'].sum()))}")
