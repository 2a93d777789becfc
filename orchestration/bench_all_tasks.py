"""The child-process side of `partsflow bench all`: one task per process, so the peak memory the
parent reads with os.wait4 is that task's alone.

    python -m orchestration.bench_all_tasks TASK ARGS_JSON OUT_JSON

The warehouse, landing, serving, model store and DAGSTER_HOME come from the environment the
parent sets (orchestration/env.py reads them). Each task writes a JSON result to OUT_JSON.
"""

from __future__ import annotations

import json
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import numpy as np

from orchestration import env

PIPELINE_STAGES = ("ingest", "marts", "train", "score", "recommendations", "publish")
HORIZON = 28


def stage_selections(graph: Any) -> dict[str, set]:
    """The pipeline's asset keys per stage; every materializable asset is in exactly one."""
    import dagster as dg

    def keys(selection: dg.AssetSelection) -> set:
        return {k for k in selection.resolve(graph) if graph.get(k).is_materializable}

    after = keys(dg.AssetSelection.groups("replenishment").downstream())
    train = {dg.AssetKey(["ml", "ml_model_registry"])}
    out = {
        "ingest": keys(dg.AssetSelection.groups("ingest")),
        "marts": keys(dg.AssetSelection.groups("transform")) - after,
        "train": train,
        "score": keys(dg.AssetSelection.groups("forecasting")) - train,
        "recommendations": keys(dg.AssetSelection.groups("replenishment", "alerts"))
        | (keys(dg.AssetSelection.groups("transform")) & after),
        "publish": keys(dg.AssetSelection.groups("serving")),
    }
    every = keys(dg.AssetSelection.all())
    placed = set().union(*out.values())
    if every - placed:
        # A new asset group must be given a stage here, or the pipeline time would miss it.
        raise RuntimeError(f"assets in no bench stage: {sorted(map(str, every - placed))}")
    return out


def materialize(stage: str) -> dict[str, Any]:
    """One pipeline stage through Dagster, in process, recorded in DAGSTER_HOME."""
    import dagster as dg

    env.ensure_dagster_home()
    from orchestration.definitions import defs
    from orchestration.staged import on_instance

    graph = defs.resolve_asset_graph()
    keys = stage_selections(graph)[stage]
    with dg.DagsterInstance.get() as instance:
        # One run per location group for the partitioned assets, as `partsflow materialize`.
        result = on_instance(graph, keys, instance, raise_on_error=False)
    if not result.success:
        raise RuntimeError(f"stage {stage} failed (see the Dagster log above)")
    return {"assets": len(keys), "materializations": len(result.get_asset_materialization_events())}


def _conn():
    from orchestration.warehouse import connect

    return connect(env.warehouse())


def plain_copy(data_dir: str, scratch: str) -> dict[str, Any]:
    """The floor: the transaction files bulk-copied as text, no validation."""
    from orchestration.bench import _entity_files, _plain_copy_duckdb, _plain_copy_postgres
    from orchestration.warehouse import connect

    files = _entity_files(Path(data_dir), "transactions")
    wh = env.warehouse()
    if wh.is_duckdb:
        wh = env.Warehouse(f"duckdb:///{Path(scratch).resolve()}/plain-copy.duckdb")
    with connect(wh) as conn:
        copy = _plain_copy_duckdb if conn.is_duckdb else _plain_copy_postgres
        rows, seconds = copy(conn, files)
        conn.raw.execute("drop table if exists bench_plain_transactions")
    return {"rows": rows, "seconds": seconds}


def reference_features(pairs: int, seed: int) -> dict[str, Any]:
    """The old pandas feature pipeline on the mart's input rows of a sample of parts (all their
    locations), timed; its time on all rows is extrapolated by input rows."""
    from orchestration.bench_marts import FEATURE_MODEL, FEATURE_WINDOW_DAYS
    from orchestration.bench_reference.features import build_features

    with _conn() as conn:
        scoring = conn.fetchall(f"select max(demand_date) from marts.{FEATURE_MODEL}")[0][0]
        first_day = scoring - timedelta(days=FEATURE_WINDOW_DAYS)
        first_read = date(first_day.year - 1, first_day.month, 1)
        total_rows = conn.fetchall(
            "select count(*) from marts.fct_daily_demand where demand_date >= ?", (first_read,)
        )[0][0]
        total_pairs = conn.fetchall(
            "select count(*) from (select distinct part_id, location_id "
            "from marts.fct_daily_demand where demand_date >= ?) p",
            (first_read,),
        )[0][0]
        parts = [r[0] for r in conn.fetchall("select distinct part_id from marts.fct_daily_demand")]
        parts.sort()
        share = min(1.0, pairs / max(total_pairs, 1))
        rng = np.random.default_rng(seed)
        size = max(1, round(share * len(parts)))
        chosen = sorted(str(p) for p in rng.choice(parts, size=size, replace=False))
        marks = ", ".join("?" for _ in chosen)
        demand = conn.query_df(
            "select part_id, location_id, demand_date, issued_qty from marts.fct_daily_demand "
            f"where demand_date >= ? and part_id in ({marks})",
            (first_read, *chosen),
        )
    started = time.perf_counter()
    cpu = time.process_time()
    out = build_features(demand, first_day=first_day)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    factor = int(total_rows) / max(len(demand), 1)
    return {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "sample_input_rows": len(demand),
        "input_rows": int(total_rows),
        "pairs": int(total_pairs),
        "sample_pairs": int(demand[["part_id", "location_id"]].drop_duplicates().shape[0]),
        "sample_parts": len(chosen),
        "output_rows": len(out),
        "factor": factor,
        "extrapolated_seconds": seconds * factor,
    }


def forecast(series: int, ref_rows: int, quick: bool, seed: int) -> dict[str, Any]:
    """Ours (the pipeline's train) vs. the old design's grid-searched GBR, trained on the same
    series without their last 28 days and scored on those days."""
    from ml.forecast.candidates import DAILY_NAMES
    from ml.forecast.global_model import GlobalModel
    from ml.forecast.history import Panel
    from ml.forecast.metrics import QUANTILES, score
    from ml.forecast.model import train
    from ml.forecast.quantiles import nb_quantiles
    from orchestration.bench_reference.grid_search import bound_quantiles, fit_reference
    from orchestration.defs.forecasting.demand import read_daily_demand, training_locations
    from orchestration.resources import PIPELINE_TRAINING_ROWS, ForecastingResource

    with _conn() as conn:
        # The series the pipeline's training reads (all of them up to its budget): at l the
        # whole panel, 219k series x 3 years, would not fit in memory.
        budget = ForecastingResource().max_training_series
        panel = read_daily_demand(conn, training_locations(conn, budget))
    n_all = len(panel.ids)
    if series < n_all:
        pick = np.sort(np.random.default_rng(seed).choice(n_all, size=series, replace=False))
        panel = Panel(
            panel.ids[pick], panel.periods, panel.values[pick], panel.start[pick], panel.freq
        )
    n_train = len(panel.periods) - HORIZON
    train_panel = panel.head(n_train)
    actual = panel.values[panel.start < n_train, n_train:]

    wall, cpu = time.perf_counter(), time.process_time()
    model, _ = train(train_panel, HORIZON, 3, DAILY_NAMES, PIPELINE_TRAINING_ROWS)
    ours_wall, ours_cpu = time.perf_counter() - wall, time.process_time() - cpu
    mean = model.means(train_panel)
    alpha = model.dispersion(train_panel.ids)[:, None]
    qs = nb_quantiles(mean, alpha, model.levels, model.shift)
    ours = _accuracy(score, actual, mean, qs, QUANTILES)

    learner = GlobalModel(HORIZON, max_rows=PIPELINE_TRAINING_ROWS)
    x, y, w = learner.training_set(train_panel)
    cpu = time.process_time()
    learner.fit_rows(x, y, w)
    learner_cpu = time.process_time() - cpu

    grid = {"n_estimators": [20], "max_depth": [3]} if quick else None
    ref = fit_reference(x, y, sample_rows=ref_rows, grid=grid)
    scale, future = learner.future_design(train_panel)
    ref_mean = (ref.predict(future[x.columns]) * scale).reshape(len(train_panel.ids), HORIZON)
    ref_acc = _accuracy(score, actual, ref_mean, bound_quantiles(ref_mean, QUANTILES), QUANTILES)
    return {
        "series": len(train_panel.ids),
        "series_all": n_all,
        "training_rows": len(x),
        "ours": {
            **ours,
            "train_wall_s": ours_wall,
            "train_cpu_s": ours_cpu,
            "choice": model.choice,
        },
        "ours_learner_cpu_s": learner_cpu,
        "reference": {
            **ref_acc,
            "sample_rows": ref.sample_rows,
            "grid_cpu_s": ref.grid_seconds,
            "sample_refit_cpu_s": ref.sample_refit_seconds,
            "refit_cpu_s": ref.refit_seconds,
            "extrapolated_cpu_s": ref.extrapolated_seconds,
            "best_params": ref.best_params,
            "grid": "quick (1 combination)" if quick else "design (72 combinations)",
        },
    }


def _accuracy(score: Any, actual: np.ndarray, mean: np.ndarray, qs: np.ndarray, levels) -> dict:
    s = score(actual.ravel(), mean.ravel(), qs.reshape(-1, len(levels)), levels)
    return {
        "rmse": s["rmse"],
        "bias": s["bias"],
        "wql": s["wql"],
        "coverage": 1.0 - s["above_top"] - s["below_bottom"],
        "interval": f"p{levels[0] * 100:g}-p{levels[-1] * 100:g}",
    }


def policy(scale: str, holdout_days: int, config: dict | None = None) -> dict[str, Any]:
    """Static thresholds (reference) vs. PartsFlow's policy on the generator's true demand."""
    from orchestration.bench_policy import bench_policy
    from orchestration.generator import GeneratorConfig

    custom = None
    if config is not None:
        custom = GeneratorConfig(**{**config, "start": date.fromisoformat(config["start"])})
    result = bench_policy(scale, holdout_days, config=custom)
    comp = result["comparison"]
    runs = {}
    for name in ("static", "partsflow"):
        m = comp.run(name).overall
        runs[name] = {
            "fill_rate": m.fill_rate,
            "stockout_incidents": m.stockout_incidents,
            "carrying_cost": m.carrying_cost,
            "orders": m.orders,
        }
    return {
        "series": result["scenario"].series,
        "days": result["scenario"].days,
        "scenario_seconds": result["scenario_seconds"],
        "simulation_seconds": result["simulation_seconds"],
        "runs": runs,
        "replays": len(comp.runs),
    }


def dashboard() -> dict[str, Any]:
    """Every page rendered cold and warm (AppTest) on the published serving copy."""
    from dashboards.pages_index import PAGES
    from orchestration.bench_dashboard import _render

    pages = []
    for page in PAGES:
        cold, warm, error = _render(page.key, page.path)
        pages.append({"page": page.key, "cold_s": cold, "warm_s": warm, "error": error})
    return {"pages": pages}


def counts() -> dict[str, int]:
    """Rows of the tables the report's rows/s are of; `published` = every marts and ml table."""
    with _conn() as conn:
        out = {
            t: int(conn.fetchall(f"select count(*) from {t}")[0][0])
            for t in (
                "marts.fct_daily_demand",
                "ml.fct_forecasts",
                "ml.fct_reorder_recommendations",
            )
        }
        tables = conn.fetchall(
            "select table_schema, table_name from information_schema.tables "
            "where table_schema in ('marts', 'ml') and table_type = 'BASE TABLE'"
        )
        out["published"] = sum(
            int(conn.fetchall(f"select count(*) from {_quote(s)}.{_quote(t)}")[0][0])
            for s, t in tables
        )
    return out


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


TASKS = {
    "counts": counts,
    "materialize": materialize,
    "plain_copy": plain_copy,
    "reference_features": reference_features,
    "forecast": forecast,
    "policy": policy,
    "dashboard": dashboard,
}


def main() -> None:
    task, args, out = sys.argv[1], json.loads(sys.argv[2]), Path(sys.argv[3])
    result = TASKS[task](**args)
    out.write_text(json.dumps(result, default=str))


if __name__ == "__main__":
    main()
