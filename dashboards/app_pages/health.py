"""Model & data health: model registry and metrics, freshness, quarantine, last ingest batches."""

from __future__ import annotations

import plotly.express as px
import streamlit as st

from dashboards import data, ui
from dashboards.formatting import count_axis

OPS_ASSET = "serving/dashboard_copy"

user = ui.page("health")

st.subheader("Models")
if data.missing("ml.ml_model_registry"):
    ui.not_built(["ml.ml_model_registry"], "ml/fct_forecasts (train + register)")
else:
    registry = data.model_registry()
    active = registry[registry["status"] == "active"]
    for row in active.itertuples():
        st.markdown(
            f"**{row.model_name}** v{row.version} ({row.model_type}), active since"
            f" training on {row.trained_at:%Y-%m-%d}: {row.decision}"
        )
        metrics = data.numeric_metrics(row.metrics)
        if metrics:
            cols = st.columns(min(len(metrics), 6))
            for col, (name, value) in zip(cols, list(metrics.items())[:6], strict=False):
                col.metric(name, f"{value:,.3f}", border=True)
        importance = data.model_feature_importance(row.model_name, row.version)
        if importance is not None:
            st.caption(
                f"Feature importance of the global model: permutation importance on"
                f" {int(importance['sample_rows'].iloc[0]):,} held-out rows (the last backtest"
                f" window, {int(importance['repeats'].iloc[0])} shuffles per feature), as shares"
                " of the total increase in Poisson deviance."
            )
        else:
            importance = data.feature_importance(row.metrics, row.parameters)
        if importance is not None:
            fig = px.bar(
                importance.head(20),
                x="importance",
                y="feature",
                orientation="h",
                labels={"importance": "Importance (share)", "feature": ""},
            )
            fig.update_layout(
                yaxis={"autorange": "reversed"},
                height=120 + 22 * min(len(importance), 20),
                margin={"l": 0, "r": 10, "t": 10, "b": 0},
            )
            st.plotly_chart(fig, config={"displayModeBar": False})
        else:
            st.caption(
                f"Features: {', '.join(data.json_list(row.features)) or 'none recorded'}."
                " The registry records no feature importance for this model type."
            )
    st.dataframe(
        registry.drop(columns=["parameters", "features"]),
        hide_index=True,
        column_config={"trained_at": st.column_config.DatetimeColumn("Trained at")},
    )

st.subheader("Data freshness")
absent = data.missing("ops.freshness")
if absent:
    ui.not_built(absent, OPS_ASSET)
else:
    st.dataframe(
        data.freshness(),
        hide_index=True,
        column_config={
            "as_of": st.column_config.DatetimeColumn("As of", format="YYYY-MM-DD HH:mm")
        },
    )

left, right = st.columns(2)
with left:
    st.subheader("Quarantined rows by reason")
    absent = data.missing("ops.quarantine_summary")
    if absent:
        ui.not_built(absent, OPS_ASSET)
    else:
        quarantine = data.quarantine_summary()
        if quarantine.empty:
            st.success("No quarantined rows.")
        else:
            fig = px.bar(
                quarantine,
                x="rows_quarantined",
                y="reason",
                color="entity",
                orientation="h",
                labels={"rows_quarantined": "Rows (count)", "reason": "", "entity": "Entity"},
            )
            fig.update_xaxes(
                **count_axis(quarantine.groupby("reason")["rows_quarantined"].sum().max())
            )
            fig.update_layout(
                height=140 + 25 * quarantine["reason"].nunique(),
                margin={"l": 0, "r": 10, "t": 10, "b": 0},
            )
            st.plotly_chart(fig, config={"displayModeBar": False})
            st.dataframe(quarantine, hide_index=True)
with right:
    st.subheader("Last ingest batches")
    absent = data.missing("ops.ingest_batches")
    if absent:
        ui.not_built(absent, OPS_ASSET)
    else:
        st.dataframe(data.ingest_batches().head(50), hide_index=True)
