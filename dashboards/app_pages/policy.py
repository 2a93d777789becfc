"""Policy impact: the static reorder policy against PartsFlow's, and the service-level curve."""

from __future__ import annotations

import pandas as pd
import plotly.express as px
import streamlit as st

from dashboards import data, ui

SIMULATION = "ml.mart_policy_simulation"

user = ui.page("policy")
ui.require_tables("ml/mart_policy_simulation", SIMULATION)
location_ids = ui.location_filter(user)

sim = data.any_table(SIMULATION, location_ids)
if sim is None:
    st.info(
        "The simulation is company-wide; it is shown to users who see every location.",
        icon=":material/info:",
    )
    st.stop()
if sim.empty:
    st.caption("The simulation has no rows for the current filter.")
    st.stop()

numeric = [c for c in sim.columns if pd.api.types.is_numeric_dtype(sim[c])]
policy_col = next((c for c in ("policy", "policy_name", "scenario") if c in sim.columns), None)
service_col = next((c for c in sim.columns if "service_level" in c and c in numeric), None)

if policy_col and numeric:
    st.subheader("Static vs PartsFlow")
    metric = st.selectbox("Measure", [c for c in numeric if c != service_col] or numeric)
    per_policy = sim.groupby(policy_col, as_index=False)[metric].mean()
    fig = px.bar(per_policy, x=policy_col, y=metric, labels={policy_col: "Policy"})
    if any(w in metric for w in ("value", "cost")):
        fig.update_yaxes(tickprefix="$", tickformat=",.0f")
    fig.update_layout(height=300, margin={"l": 0, "r": 10, "t": 10, "b": 0})
    st.plotly_chart(fig, config={"displayModeBar": False})

if service_col:
    st.subheader("Service-level trade-off")
    others = [c for c in numeric if c != service_col]
    if others:
        y = st.selectbox(
            "Against",
            others,
            index=next((i for i, c in enumerate(others) if "value" in c or "cost" in c), 0),
        )
        fig = px.line(
            sim.sort_values(service_col),
            x=service_col,
            y=y,
            color=policy_col,
            markers=True,
            labels={service_col: "Service level"},
        )
        fig.update_xaxes(tickformat=".0%" if sim[service_col].max() <= 1 else ",.1f")
        fig.update_layout(height=320, margin={"l": 0, "r": 10, "t": 10, "b": 0})
        st.plotly_chart(fig, config={"displayModeBar": False})

st.subheader("All results")
ui.generic_table(sim)
