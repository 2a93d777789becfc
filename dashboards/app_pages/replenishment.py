"""Replenishment: what to order now or soon, and downloads of recommendations and forecasts."""

from __future__ import annotations

import streamlit as st

from dashboards import data, ui

RECOMMENDATIONS = "ml.fct_reorder_recommendations"
STATUS_ORDER = ("order_now", "order_soon", "ok")

user = ui.page("replenishment")
location_ids = ui.location_filter(user)

st.subheader("Recommendations")
if data.missing(RECOMMENDATIONS):
    ui.not_built([RECOMMENDATIONS], "ml/fct_reorder_recommendations")
else:
    recs = data.any_table(RECOMMENDATIONS, location_ids)
    if recs is None:
        st.warning("The recommendations have no location column; they are hidden for your scope.")
    else:
        if "status" in recs.columns:
            found = [s for s in STATUS_ORDER if s in set(recs["status"])]
            found += sorted(set(recs["status"].dropna()) - set(found))
            chosen = st.sidebar.multiselect("Status", found, default=found[:2] or found)
            counts = recs["status"].value_counts()
            cols = st.columns(len(STATUS_ORDER))
            for col, status in zip(cols, STATUS_ORDER, strict=True):
                col.metric(
                    status.replace("_", " ").capitalize(),
                    f"{int(counts.get(status, 0)):,}",
                    border=True,
                )
            if chosen:
                recs = recs[recs["status"].isin(chosen)]
        ui.generic_table(recs)
        st.caption(f"{len(recs):,} rows for the current filter.")
        ui.downloads(lambda: recs, "recommendations", "Recommendations")

st.subheader("Forecasts")
if data.missing("ml.fct_forecasts"):
    ui.not_built(["ml.fct_forecasts"], "ml/fct_forecasts")
else:
    grain = st.radio("Grain", ("day", "week", "month"), horizontal=True)
    count = data.forecast_count(location_ids, grain)
    st.caption(f"{count:,} forecast rows ({grain}) for the current filter.")
    ui.downloads(lambda: data.forecasts(location_ids, grain), f"forecasts_{grain}", "Forecasts")
