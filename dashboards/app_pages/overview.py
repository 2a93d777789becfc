"""Inventory overview: KPI tiles against targets, trends, breakdowns and the low-stock list."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import data, ui
from dashboards.formatting import AXIS_MONEY, AXIS_PERCENT, compact, money, percent, times

LOW_STOCK_LIMIT = 500
PERIODS = {"Last 90 days": 90, "Last 365 days": 365, "Last 2 years": 730}
# KPI column, tile label, formatter, higher-is-better, target column
KPIS = (
    ("inventory_value", "Inventory value", lambda v: compact(v, "$"), None, None),
    ("inventory_turnover", "Turnover", times, True, "inventory_turnover_target"),
    ("stockout_rate", "Stock-out rate", lambda v: percent(v, 2), False, "stockout_rate_target"),
    (
        "inventory_accuracy",
        "Inventory accuracy",
        lambda v: percent(v, 2),
        True,
        "inventory_accuracy_target",
    ),
    ("obsolete_share", "Obsolete share", percent, False, "obsolete_share_target"),
    ("carrying_cost_share", "Carrying cost share", percent, False, "carrying_cost_share_target"),
    ("fill_rate", "Fill rate", percent, True, "fill_rate_target"),
)
TREND_DAYS = 30

user = ui.page("overview")

location_ids = ui.location_filter(user)
locs = data.locations(location_ids)
regions = st.sidebar.multiselect("Regions", sorted(locs["region"].dropna().unique()))
if regions:
    location_ids = tuple(locs.loc[locs["region"].isin(regions), "location_id"])
cats = data.categories(location_ids)
cat_names = dict(zip(cats["category_id"], cats["category_name"], strict=True))
category_ids = st.sidebar.multiselect("Categories", list(cat_names), format_func=cat_names.get)
period = st.sidebar.selectbox("Period", list(PERIODS), index=1)

# --- KPI tiles against targets (mart_kpi_daily) ------------------------------------------------
st.subheader("KPIs against targets")
kpi = None
absent = data.missing(data.KPI_TABLE)
if absent:
    ui.not_built(absent, "marts/mart_kpi_daily")
else:
    last = data.kpi_last_date()
    since = (last or dt.date.today()) - dt.timedelta(days=PERIODS[period] + TREND_DAYS)
    kpi = data.kpi_daily(location_ids, since)
if kpi is not None and not kpi.empty:
    now = kpi.iloc[-1]
    before = kpi[kpi["kpi_date"] <= now["kpi_date"] - pd.Timedelta(days=TREND_DAYS)]
    prev = before.iloc[-1] if not before.empty else None
    # Two rows of four keep labels readable on a laptop screen.
    tiles = [*st.columns(4), *st.columns(4)]
    for tile, (col, label, fmt, higher_better, target_col) in zip(tiles, KPIS, strict=False):
        value = now[col]
        target = now[target_col] if target_col else None
        delta = None
        if prev is not None and pd.notna(value) and pd.notna(prev[col]):
            change = value - prev[col]
            # Streamlit picks the arrow from a leading minus sign, so the sign goes first.
            show = money if col == "inventory_value" else fmt
            # No arrow for a change too small to show (an up arrow on +0.00% reads as a change).
            if show(abs(change)) != show(0.0):
                delta = f"{'-' if change < 0 else '+'}{show(abs(change))}"
        goal = ""
        if target is not None and pd.notna(target):
            goal = f"target {'≥' if higher_better else '≤'} {fmt(target)}"
        tile.metric(
            label,
            fmt(value) if pd.notna(value) else "n/a",
            delta=delta,
            delta_color="normal" if higher_better in (True, None) else "inverse",
            border=True,
            help=goal or (f"Not published yet: {data.FILL_TABLE}" if col == "fill_rate" else None),
        )
        if goal and pd.notna(value):
            ok = value >= target if higher_better else value <= target
            tile.caption(f"{':green[on target]' if ok else ':red[off target]'}: {goal}")
    st.caption(
        f"As of {now['kpi_date']:%Y-%m-%d}, over the locations in view (categories do not"
        f" narrow these KPIs). Arrows: change over the last {TREND_DAYS} days. Accuracy covers"
        " the counts of the trailing 28 days. Fill rate is estimated over the trailing"
        f" {data.FILL_DAYS} days: issued units / (issued + units lost to stock-outs at each"
        " part's recent demand rate; mart_fill_rate_daily), as the data records no unmet demand."
    )
    chosen = st.selectbox("Trend", [k[1] for k in KPIS if kpi[k[0]].notna().any()])
    col, label, _, _, target_col = next(k for k in KPIS if k[1] == chosen)
    trend = kpi[kpi["kpi_date"] > kpi["kpi_date"].max() - pd.Timedelta(days=PERIODS[period])]
    fig = px.line(trend, x="kpi_date", y=col, labels={"kpi_date": "Date", col: label})
    if target_col:
        fig.add_hline(y=float(trend[target_col].max()), line_dash="dash", annotation_text="target")
    if col == "inventory_value":
        fig.update_yaxes(**AXIS_MONEY, title="Inventory value ($)")
    elif col == "inventory_turnover":
        fig.update_yaxes(title="Turnover (x per year)")
    else:
        fig.update_yaxes(**AXIS_PERCENT, title=f"{label} (%)")
    fig.update_layout(margin={"l": 0, "r": 10, "t": 10, "b": 0}, height=300)
    st.plotly_chart(fig, config={"displayModeBar": False})
elif kpi is not None:
    st.info("No KPI rows for the chosen locations.", icon=":material/info:")

# --- stock levels now (mart_inventory_summary) -------------------------------------------------
st.subheader("Stock now")
totals = data.kpi_totals(location_ids, category_ids)
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

by = st.radio("Inventory value by", list(data.BREAKDOWNS), index=2, horizontal=True)
split = data.breakdown(by, location_ids, category_ids)
fig = px.bar(
    split,
    x="total_value",
    y="label",
    orientation="h",
    labels={"total_value": "Inventory value ($)", "label": ""},
    hover_data={"item_count": ":,", "stockout_count": ":,"},
)
# Largest on top, currency ticks, and a height that follows the number of bars.
fig.update_layout(
    yaxis={"autorange": "reversed"},
    margin={"l": 0, "r": 10, "t": 10, "b": 0},
    height=120 + 40 * len(split),
    bargap=0.35,
)
fig.update_xaxes(**AXIS_MONEY)
st.plotly_chart(fig, config={"displayModeBar": False})

st.subheader("Low stock")
low = data.low_stock(location_ids, LOW_STOCK_LIMIT, category_ids)
low = low.drop(columns=["part_id", "location_id"]).rename(
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
