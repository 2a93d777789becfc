"""Forecasting assets: thin wrappers around ml/forecast, returning their results to the Dagster UI.

Training registers a version (promoted only if its backtest beats the active one); scoring uses
the active version, or the last good one when the active artifact is damaged (and says so);
accuracy keeps every version's backtest; `ml.forecasts` is the daily mean that the serving copy
publishes. Scoring runs per location group (defs/partitions.py), training once for all.
"""

import os
import time

import dagster as dg
import pandas as pd

from ml.forecast.candidates import DAILY_NAMES
from ml.forecast.importance import REPEATS, holdout_importance
from ml.forecast.metrics import QUANTILES
from ml.forecast.model import METRICS, ForecastModel, score, train
from ml.registry import Candidate, load_artifact
from orchestration.defs.forecasting.demand import (
    fingerprint,
    keys_of,
    read_daily_demand,
    training_locations,
)
from orchestration.defs.forecasting.registry import (
    NoUsableModel,
    ensure_registry,
    load_for_scoring,
    model_versions,
    record_importance,
    register,
)
from orchestration.defs.forecasting.tables import (
    ACCURACY,
    FORECASTS,
    SCORES,
    ensure_accuracy,
    ensure_forecasts,
    ensure_scores,
)
from orchestration.defs.partitions import IN_GROUP, group_members, location_groups
from orchestration.resources import ForecastingResource, WarehouseResource

OWNER = "team:data-science"
GROUP = "forecasting"
MODEL_NAME = "demand_forecast"
REGISTRY_KEY = dg.AssetKey(["ml", "ml_model_registry"])
SCORES_KEY = dg.AssetKey(["ml", "fct_forecasts"])
QUANTILE_COLUMNS = [f"p{q * 100:g}" for q in QUANTILES]


class TrainingConfig(dg.Config):
    horizon: int = 28
    origins: int = 3
    # Train even when the data and settings equal a registered version's (normally skipped).
    retrain: bool = False


def _version_label(version: int) -> str:
    return f"{MODEL_NAME}-v{version}"


@dg.asset(
    key=REGISTRY_KEY,
    deps=[dg.AssetKey(["marts", "fct_daily_demand"])],
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python", "scikit-learn"},
)
def demand_model(
    context: dg.AssetExecutionContext,
    config: TrainingConfig,
    warehouse: WarehouseResource,
    forecasting: ForecastingResource,
) -> dg.MaterializeResult:
    """Daily demand forecaster, backtested and registered; active only if it beats the last."""
    settings = {
        "horizon": config.horizon,
        "origins": config.origins,
        "candidates": list(DAILY_NAMES),
        "max_training_rows": forecasting.max_training_rows,
        "max_training_series": forecasting.max_training_series,
    }
    with warehouse.connect() as conn:
        locations = training_locations(conn, forecasting.max_training_series)
        panel = read_daily_demand(conn, locations)
        data_print = fingerprint(panel, settings)
        ensure_registry(conn)
        versions = model_versions(conn, MODEL_NAME)
    same = [v for v in versions if v.candidate.parameters.get("fingerprint") == data_print]
    if same and not config.retrain:
        decision = f"unchanged: same data and settings as v{same[-1].version}; not retrained"
        context.log.info(decision)
        return dg.MaterializeResult(metadata={"decision": decision, "version": same[-1].version})
    started = time.perf_counter()
    model, fc = train(
        panel,
        config.horizon,
        config.origins,
        DAILY_NAMES,
        forecasting.max_training_rows,
        aside=True,  # origins, refit and quantiles on two cores: otherwise one core's work
    )
    seconds = time.perf_counter() - started
    metrics = {k: float(v) for k, v in fc.scores[fc.choice].items()}
    candidate = Candidate(
        model_name=MODEL_NAME,
        model_type=fc.choice,
        train_start=panel.periods[0].start_time.date(),
        train_end=panel.periods[-1].start_time.date(),
        parameters={
            **settings,
            "choice": fc.choice,
            "per_class": model.per_class,
            "backtest_cuts": fc.backtest.cuts,
            "fingerprint": data_print,
        },
        metrics=metrics,
        features=model.global_model.features if model.global_model else [],
    )
    importance = None
    if model.global_model is not None and fc.backtest.last_global is not None:
        # Scored on the last backtest origin's window, which that origin's model never saw.
        importance = holdout_importance(fc.backtest.last_global, panel, fc.backtest.cuts[-1])
    with warehouse.connect() as conn:
        registered = register(conn, candidate, model, forecasting.store)
        if importance is not None:
            record_importance(conn, MODEL_NAME, registered.version, importance, REPEATS)
    context.log.info(f"v{registered.version}: {registered.decision}")
    return dg.MaterializeResult(
        metadata={
            "decision": registered.decision,
            "status": registered.status,
            "version": registered.version,
            "choice": fc.choice,
            "per_class": dg.MetadataValue.json(model.per_class),
            "series": len(panel.ids),
            "training_locations": "all" if locations is None else len(locations),
            "training_window": f"{candidate.train_start} .. {candidate.train_end}",
            **{f"backtest_{k}": metrics[k] for k in METRICS},
            "train_seconds": round(seconds, 1),
            "load_average": str(tuple(round(x, 2) for x in os.getloadavg())),
            "artifact": registered.artifact,
            "top_features": "none" if importance is None else ", ".join(importance["feature"][:5]),
        }
    )


def _scores(model: ForecastModel, panel, version: int) -> pd.DataFrame:
    """The rows of ml.fct_forecasts for the panel's series."""
    frame = score(model, panel)
    # Each id decoded once, not once per row (a series has 35 rows).
    codes, ids = pd.factorize(frame["series_id"])
    keys = keys_of(pd.Series(ids)).iloc[codes].set_axis(frame.index)
    frame = pd.concat([keys, frame.drop(columns="series_id")], axis=1)
    frame["period_start"] = frame["period_start"].dt.date
    frame["model_version"] = _version_label(version)
    frame["forecast_origin"] = panel.periods[-1].start_time.date()
    return frame


@dg.asset(
    key=SCORES_KEY,
    deps=[REGISTRY_KEY, dg.AssetKey(["marts", "fct_daily_demand"])],
    partitions_def=location_groups,
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python"},
)
def fct_forecasts(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Next 28 days of demand per part and location, daily, weekly and monthly, with p10..p90."""
    group = context.partition_key
    with warehouse.connect() as conn:
        try:
            used, model, fallback = load_for_scoring(conn, MODEL_NAME, ForecastModel)
        except (LookupError, NoUsableModel) as exc:
            raise dg.Failure(str(exc)) from exc
        if fallback:
            context.log.warning(fallback)
        locations = group_members(conn, group, ["marts.fct_daily_demand"])
        # The group's old rows go too, also those of locations no longer in the marts.
        replaced = group_members(conn, group, ["marts.fct_daily_demand", "ml.fct_forecasts"])
        # a group may hold no location (fewer locations than groups)
        panel = read_daily_demand(conn, locations) if locations else None
    # Scored without the warehouse: another group's run can read or write it meanwhile.
    frame, series = pd.DataFrame(), 0
    if panel is not None:
        frame, series = _scores(model, panel, used.version), len(panel.ids)
    with warehouse.connect() as conn, conn.transaction():
        # Replace the group in one transaction: readers see its old forecast or the new one.
        ensure_scores(conn)
        conn.execute(f"delete from {SCORES} where {IN_GROUP}", (replaced,))
        if len(frame):
            conn.append_df("ml", "fct_forecasts", frame)
    context.log.info(f"{group}: scored {series} series of {len(locations)} locations")
    days = frame[frame["grain"] == "day"] if len(frame) else frame
    return dg.MaterializeResult(
        metadata={
            "rows": len(frame),
            "series": series,
            "locations": len(locations),
            "model_version": _version_label(used.version),
            "model_fallback": fallback or "none",
            "forecast_origin": str(frame["forecast_origin"].iloc[0]) if len(frame) else "none",
            "mean_daily_demand": float(days["mean"].mean()) if len(days) else 0.0,
        }
    )


@dg.asset(
    key=dg.AssetKey(["ml", "fct_forecast_accuracy"]),
    deps=[REGISTRY_KEY],
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python"},
)
def fct_forecast_accuracy(
    context: dg.AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    """Backtest accuracy of every model version: overall, per demand class and per series."""
    added = []
    with warehouse.connect() as conn:
        ensure_accuracy(conn)
        have = {r[0] for r in conn.fetchall(f"select distinct model_version from {ACCURACY}")}
        with conn.transaction():
            for v in model_versions(conn, MODEL_NAME):
                label = _version_label(v.version)
                if label in have:
                    continue  # appended once per version: history is kept, never rewritten
                try:
                    model: ForecastModel = load_artifact(v.artifact)
                except Exception as exc:  # a damaged artifact; retried on the next run
                    context.log.warning(f"{label}: artifact {v.artifact} unusable ({exc!r})")
                    continue
                acc = model.accuracy
                keys = keys_of(acc["series_id"].dropna()).reindex(acc.index)
                frame = pd.concat([acc.drop(columns="series_id"), keys], axis=1)
                frame.insert(0, "approach", model.choice)
                frame.insert(0, "trained_at", v.trained_at)
                frame.insert(0, "model_version", label)
                conn.append_df("ml", "fct_forecast_accuracy", frame)
                added.append(label)
        versions = conn.fetchall(f"select count(distinct model_version) from {ACCURACY}")[0][0]
    context.log.info(f"Accuracy appended for {added or 'no new version'}")
    return dg.MaterializeResult(metadata={"versions_added": ", ".join(added), "versions": versions})


@dg.asset(
    key=dg.AssetKey(["ml", "forecasts"]),
    deps=[SCORES_KEY],
    group_name=GROUP,
    owners=[OWNER],
    kinds={"python"},
)
def forecasts(warehouse: WarehouseResource) -> dg.MaterializeResult:
    """Daily mean demand per part and location for the next 28 days (the dashboard's table)."""
    with warehouse.connect() as conn, conn.transaction():
        # DuckDB: a new table, not emptied. Deleting 6M rows under the primary key and inserting
        # the same keys again took 24 s at l, 4.4 s into a new table; its readers use the
        # serving copy. PostgreSQL's readers (the dashboard) keep reading the old rows meanwhile.
        if conn.is_duckdb:
            conn.execute(f"drop table if exists {FORECASTS}")
        ensure_forecasts(conn)
        conn.execute(f"delete from {FORECASTS}")
        conn.execute(
            f"insert into {FORECASTS} (part_id, location_id, forecast_date, mean, model_version, "
            "forecast_origin) select part_id, location_id, period_start, mean, model_version, "
            f"forecast_origin from {SCORES} where grain = ?",
            ("day",),
        )
        rows = conn.fetchall(f"select count(*), avg(mean) from {FORECASTS}")[0]
    return dg.MaterializeResult(
        metadata={"rows": int(rows[0]), "mean_daily_demand": float(rows[1] or 0.0)}
    )
