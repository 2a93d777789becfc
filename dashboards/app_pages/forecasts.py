"""Forecasts: history, mean and p10-p90 / p20-p80 bands for a part and location, totals by
category or location, and the backtest accuracy of the models."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go
import streamlit as st

from dashboards import data, ui
from dashboards.formatting import AXIS_UNITS, number

HISTORY_DAYS = 180
GRAINS = {"Daily": "day", "Weekly": "week", "Monthly": "month"}

user = ui.page("forecasts")
ui.require_tables("ml/fct_forecasts", "ml.fct_forecasts")

location_ids = ui.location_filter(user)
grain_label = st.sidebar.radio("Grain", list(GRAINS), index=1)
grain = GRAINS[grain_label]

pairs = data.positions(location_ids)
if pairs.empty:
    st.info("No stock positions in the chosen locations.")
    st.stop()
part_id, location_id = ui.pick_pair(pairs)

fc = data.forecast_series(part_id, location_id, location_ids, grain)
if fc.empty:
    st.caption("No forecast for this pair (it may have no demand history).")
else:
    origin = pd.Timestamp(fc["forecast_origin"].iloc[0]).date()
    hist = data.demand_history(
        part_id, location_id, location_ids, origin - dt.timedelta(days=HISTORY_DAYS)
    )
    hist["period_start"] = pd.to_datetime(hist["demand_date"])
    if grain != "day":
        rule = "W-MON" if grain == "week" else "MS"
        hist = (
            hist.set_index("period_start")["issued_qty"]
            .resample(rule, label="left", closed="left")
            .sum()
            .reset_index()
        )
    x = pd.to_datetime(fc["period_start"])
    fig = go.Figure()
    for lo, hi, shade, name in (("p10", "p90", 0.15, "p10-p90"), ("p20", "p80", 0.3, "p20-p80")):
        fig.add_trace(
            go.Scatter(
                x=x, y=fc[hi], mode="lines", line={"width": 0}, showlegend=False, hoverinfo="skip"
            )
        )
        fig.add_trace(
            go.Scatter(
                x=x,
                y=fc[lo],
                mode="lines",
                line={"width": 0},
                fill="tonexty",
                fillcolor=f"rgba(31,119,180,{shade})",
                name=name,
            )
        )
    fig.add_trace(go.Scatter(x=x, y=fc["mean"], name="Forecast mean", line={"color": "#1f77b4"}))
    fig.add_trace(
        go.Scatter(
            x=hist["period_start"],
            y=hist["issued_qty"],
            name="Issued (history)",
            line={"color": "#444"},
        )
    )
    fig.update_xaxes(title_text="Period start")
    fig.update_yaxes(title_text=f"Units issued per {grain}", **AXIS_UNITS)
    fig.update_layout(height=380, margin={"l": 0, "r": 10, "t": 10, "b": 0})
    st.plotly_chart(fig, config={"displayModeBar": False})
    st.caption(
        f"Model {fc['model_version'].iloc[0]}, made from history through {origin:%Y-%m-%d}."
        f" Next {len(fc)} {grain}s: {number(float(fc['mean'].sum()), 1)} units expected."
    )

st.subheader("Forecast totals")
by = st.radio("By", list(data.FORECAST_GROUPS), horizontal=True)
totals = data.forecast_by(by, location_ids, "week")
if totals.empty:
    st.caption("No weekly forecasts.")
else:
    fig = px.line(
        totals,
        x="period_start",
        y="mean",
        color="label",
        labels={"period_start": "Week", "mean": "Forecast units per week", "label": by},
    )
    fig.update_yaxes(**AXIS_UNITS)
    fig.update_layout(height=320, margin={"l": 0, "r": 10, "t": 10, "b": 0})
    st.plotly_chart(fig, config={"displayModeBar": False})

st.subheader("Backtest accuracy")
if data.missing("ml.fct_forecast_accuracy"):
    ui.not_built(["ml.fct_forecast_accuracy"], "ml/fct_forecast_accuracy")
else:
    acc = data.forecast_accuracy()
    if acc.empty:
        st.caption("No backtest yet.")
    else:
        fig = px.line(
            acc,
            x="trained_at",
            y="wql",
            color="approach",
            markers=True,
            labels={"trained_at": "Trained at", "wql": "Weighted quantile loss (lower is better)"},
        )
        fig.update_layout(height=280, margin={"l": 0, "r": 10, "t": 10, "b": 0})
        st.plotly_chart(fig, config={"displayModeBar": False})
        st.dataframe(acc, hide_index=True)
