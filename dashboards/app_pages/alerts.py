"""Alerts: open alerts by severity and type with the numbers behind them, recent history."""

from __future__ import annotations

import datetime as dt

import plotly.express as px
import streamlit as st

from dashboards import data, ui
from dashboards.formatting import count_axis

HISTORY_DAYS = 90
NOTIFICATIONS_SHOWN = 50
MINUTE = "YYYY-MM-DD HH:mm"

user = ui.page("alerts")
ui.require_tables("marts/mart_alerts", "marts.mart_alerts", "marts.fct_alert_history")

location_ids = ui.location_filter(user)
everything = data.open_alerts(location_ids)
severities = st.sidebar.multiselect("Severity", sorted(everything["severity"].dropna().unique()))
types = st.sidebar.multiselect("Alert type", sorted(everything["alert_type"].dropna().unique()))
alerts = data.open_alerts(location_ids, severities, types)

cols = st.columns(5)
cols[0].metric("Open alerts", f"{len(alerts):,}", border=True)
for col, level in zip(cols[1:], ("critical", "high", "medium", "low"), strict=True):
    col.metric(level.title(), f"{int((alerts['severity'] == level).sum()):,}", border=True)

if alerts.empty:
    st.success("No open alerts for this selection.")
else:
    counts = alerts.groupby(["alert_type", "severity"], as_index=False).size()
    fig = px.bar(
        counts,
        x="size",
        y="alert_type",
        color="severity",
        orientation="h",
        labels={"size": "Open alerts (count)", "alert_type": "", "severity": "Severity"},
    )
    fig.update_xaxes(**count_axis(counts.groupby("alert_type")["size"].sum().max()))
    fig.update_layout(
        margin={"l": 0, "r": 10, "t": 10, "b": 0}, height=100 + 35 * counts["alert_type"].nunique()
    )
    st.plotly_chart(fig, config={"displayModeBar": False})

    event = st.dataframe(
        alerts[
            [
                "severity",
                "alert_type",
                "part_number",
                "location_name",
                "opened_at",
                "days_open",
                "on_hand",
                "threshold",
                "quantity",
                "value",
                "message",
            ]
        ],
        hide_index=True,
        column_config={
            "severity": "Severity",
            "alert_type": "Type",
            "part_number": "Part",
            "location_name": "Location",
            "opened_at": st.column_config.DateColumn("Opened"),
            "days_open": st.column_config.NumberColumn("Age (days)", format="%d"),
            "on_hand": st.column_config.NumberColumn("On hand", format="localized"),
            "threshold": st.column_config.NumberColumn("Threshold", format="localized"),
            "quantity": st.column_config.NumberColumn("Quantity", format="localized"),
            "value": st.column_config.NumberColumn("Value", format="dollar"),
            "message": "Why",
        },
        on_select="rerun",
        selection_mode="single-row",
        key="open-alerts",
    )
    # A link (in-app, so the login stays) to the stock explorer of the selected alert's part.
    if user.may_open("stock"):
        rows = event.selection.rows if event else []
        pick = alerts.iloc[rows[0] if rows else 0]
        st.page_link(
            "app_pages/stock.py",
            label=f"Stock page of {pick['part_number']} at {pick['location_name']}"
            + ("" if rows else " (select a row to choose another alert)"),
            icon=":material/warehouse:",
            query_params={"part": pick["part_id"], "location": pick["location_id"]},
        )

st.subheader(f"Opened and closed in the last {HISTORY_DAYS} days")
since = (data.kpi_last_date() if not data.missing(data.KPI_TABLE) else None) or dt.date.today()
start = since - dt.timedelta(days=HISTORY_DAYS)
by_type = data.alert_history_by_type(location_ids, start)
if by_type.empty:
    st.caption("No alert opened or closed in that window.")
else:
    st.dataframe(
        by_type,
        hide_index=True,
        column_config={
            "alert_type": "Type",
            "episodes": st.column_config.NumberColumn("Episodes", format="localized"),
            "opened": st.column_config.NumberColumn("Opened", format="localized"),
            "closed": st.column_config.NumberColumn("Closed", format="localized"),
            "still_open": st.column_config.NumberColumn("Still open", format="localized"),
            "mean_duration_days": st.column_config.NumberColumn("Mean days", format="%.1f"),
        },
        key="alert-history-by-type",
    )
    total = int(by_type["episodes"].sum())
    history = data.alert_history(location_ids, start, data.ALERT_HISTORY_ROWS)
    st.caption(f"The latest {len(history):,} of {total:,} episodes, last closed or opened first.")
    st.dataframe(
        history,
        hide_index=True,
        column_config={
            "opened_at": st.column_config.DateColumn("Opened"),
            "closed_at": st.column_config.DateColumn("Closed"),
            "duration_days": st.column_config.NumberColumn("Duration (days)", format="%d"),
        },
        key="alert-history",
    )

st.subheader("Notifications sent")
if data.missing(data.NOTIFICATIONS_TABLE):
    ui.not_built([data.NOTIFICATIONS_TABLE], "ops/alert_notifications")
else:
    sent = data.recent_notifications(location_ids, NOTIFICATIONS_SHOWN)
    if sent.empty:
        st.caption("No notification recorded for these locations (or no channel configured).")
    else:
        st.dataframe(
            sent,
            hide_index=True,
            column_config={
                "created_at": st.column_config.DatetimeColumn("Recorded", format=MINUTE),
                "sent_at": st.column_config.DatetimeColumn("Sent", format=MINUTE),
            },
        )
