"""`partsflow`: the command line for data engineers (generate data, materialize, inspect)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orchestration import env
from orchestration.warehouse import connect

app = typer.Typer(help="PartsFlow: spare-parts inventory analytics.", no_args_is_help=True)


class Scale(StrEnum):
    demo = "demo"
    m = "m"
    l = "l"  # noqa: E741 - the preset is called "l" in the docs


class FileFormat(StrEnum):
    csv = "csv"
    parquet = "parquet"


class ExportFormat(StrEnum):
    csv = "csv"
    xlsx = "xlsx"
    parquet = "parquet"


@app.command()
def generate(
    out: Annotated[Path, typer.Option(help="Landing folder to write.")] = Path("data/landing"),
    scale: Annotated[Scale, typer.Option(help="Preset size.")] = Scale.demo,
    parts: Annotated[int | None, typer.Option(help="Override the preset's part count.")] = None,
    locations: Annotated[int | None, typer.Option(help="Override the location count.")] = None,
    days: Annotated[int | None, typer.Option(help="Override the number of days.")] = None,
    start: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    seed: Annotated[int, typer.Option(help="Random seed; same seed, same files.")] = 42,
    fmt: Annotated[FileFormat, typer.Option("--format", help="File format.")] = FileFormat.csv,
    dirty_rate: Annotated[float, typer.Option(help="Share of rows breaking a rule.")] = 0.0,
) -> None:
    """Write a realistic synthetic landing zone (all seven entities of the data contract)."""
    from dataclasses import replace

    from orchestration.generator import PRESETS, generate_landing

    config = replace(PRESETS[scale.value], seed=seed, fmt=fmt.value, dirty_rate=dirty_rate)
    overrides = {"parts": parts, "locations": locations, "days": days}
    config = replace(config, **{k: v for k, v in overrides.items() if v is not None})
    if start:
        config = replace(config, start=date.fromisoformat(start))
    summary = generate_landing(out, config, progress=True)
    typer.echo(json.dumps(summary, indent=2, default=str))


@app.command()
def materialize(
    select: Annotated[
        str, typer.Option(help="Dagster asset selection, e.g. 'group:ingest' or 'raw/parts+'.")
    ] = "*",
) -> None:
    """Materialize assets in this process, recorded in DAGSTER_HOME so the UI shows the runs.

    In the refresh's stages: ingest (one landing drop of every file present: everything new
    loads), marts and training, then one run per location group (scoring, recommendations),
    then what reads every group (alerts, the dashboard copy).
    """
    import dagster as dg

    from orchestration.warehouse import create_database_if_missing

    # PostgreSQL mode (`make demo WAREHOUSE=postgres`): the databases exist before anything runs.
    for url in {env.warehouse_url(), env.dagster_pg_url()} - {None}:
        if not env.Warehouse(url).is_duckdb and create_database_if_missing(url):
            typer.echo(f"Created database {env.Warehouse(url).pg['dbname']}")
    env.ensure_dagster_home()
    from orchestration.definitions import defs
    from orchestration.staged import on_instance

    graph = defs.resolve_asset_graph()
    keys = dg.AssetSelection.from_string(select).resolve(graph)
    if not keys:
        raise typer.BadParameter(f"selects no asset: {select!r}", param_hint="--select")
    with dg.DagsterInstance.get() as instance:
        result = on_instance(graph, keys, instance)
    if not result.success:
        raise typer.Exit(code=1)
    typer.echo(
        f"Materialized {len(result.get_asset_materialization_events())} assets "
        f"in {len(result.results)} runs."
    )


quarantine_app = typer.Typer(help="Rows that broke the data contract.", no_args_is_help=True)
erp_app = typer.Typer(help="The operational ERP database source.", no_args_is_help=True)
bench_app = typer.Typer(help="Benchmarks that print numbers and ratios.", no_args_is_help=True)
users_app = typer.Typer(help="Dashboard users (the users file).", no_args_is_help=True)
app.add_typer(quarantine_app, name="quarantine")
app.add_typer(erp_app, name="erp")
app.add_typer(bench_app, name="bench")
export_app = typer.Typer(help="Write planners' tables to files.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(users_app, name="users")


@quarantine_app.command("list")
def quarantine_list(
    reason: Annotated[str | None, typer.Option(help="Only this reason code.")] = None,
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
    include_resolved: Annotated[bool, typer.Option(help="Also rows loaded since.")] = False,
    limit: Annotated[int, typer.Option(help="At most this many rows.")] = 50,
) -> None:
    """Show quarantined rows: batch, file, row, reason and message."""
    from orchestration.defs.ingest.quarantine import list_quarantine

    with connect(env.warehouse()) as conn:
        frame, total = list_quarantine(conn, reason, entity, include_resolved, limit)
    if frame.empty:
        typer.echo("No quarantined rows match.")
        return
    import pandas as pd

    with pd.option_context("display.max_colwidth", 80, "display.width", 200):
        typer.echo(frame.to_string(index=False))
    typer.echo(f"{len(frame)} of {total} rows shown.")


@quarantine_app.command("reprocess")
def quarantine_reprocess(
    entity: Annotated[str | None, typer.Option(help="Only this entity.")] = None,
) -> None:
    """Re-validate open quarantined rows (e.g. after late master data); load those that pass."""
    from orchestration.defs.ingest.quarantine import reprocess_all

    with connect(env.warehouse()) as conn:
        for result in reprocess_all(conn, entity):
            typer.echo(
                f"{result.entity}: {result.rows_read} re-validated, {result.rows_loaded} loaded, "
                f"{result.rows_duplicate} already present, {result.rows_quarantined} still failing"
            )


@erp_app.command("load")
def erp_load(
    from_dir: Annotated[Path, typer.Option("--from", help="Generator output to load.")],
    url: Annotated[str, typer.Option(help="postgresql:// URL of the ERP database.")],
) -> None:
    """Load a landing folder into the ERP schema (one table per entity), as an ERP holds it."""
    from orchestration import erp

    typer.echo(json.dumps(erp.load_from_landing(url, from_dir, progress=True), indent=2))


@erp_app.command("append")
def erp_append(
    from_dir: Annotated[Path, typer.Option("--from", help="Later generator output.")],
    url: Annotated[str, typer.Option(help="postgresql:// URL of the ERP database.")],
    since: Annotated[str | None, typer.Option(help="Only monthly files from YYYY-MM-DD.")] = None,
) -> None:
    """Add new and changed rows to the ERP over time (upserts; unchanged rows stay untouched)."""
    from orchestration import erp

    day = date.fromisoformat(since) if since else None
    typer.echo(json.dumps(erp.append(url, from_dir, since=day, progress=True), indent=2))


@bench_app.command("ingest")
def bench_ingest(
    scale: Annotated[Scale, typer.Option(help="Generator preset to ingest.")] = Scale.m,
    data_dir: Annotated[Path | None, typer.Option(help="Reuse or write the data here.")] = None,
) -> None:
    """Ingest a generated data set into fresh DuckDB and PostgreSQL warehouses; print rows/s."""
    from orchestration.bench import bench_ingest as run
    from orchestration.bench import format_report

    typer.echo(format_report(run(scale.value, data_dir)))


class BenchWarehouse(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"
    both = "both"


@bench_app.command("marts")
def bench_marts(
    scale: Annotated[Scale, typer.Option(help="Generator preset to build.")] = Scale.m,
    warehouse: Annotated[
        BenchWarehouse, typer.Option(help="Which warehouse(s) to build on.")
    ] = BenchWarehouse.both,
    data_dir: Annotated[Path | None, typer.Option(help="Reuse or write the data here.")] = None,
) -> None:
    """dbt build time per model group, and the SQL feature mart vs. the old pandas pipeline."""
    from orchestration.bench_marts import bench_marts as run
    from orchestration.bench_marts import format_report

    kinds = ("duckdb", "postgres") if warehouse is BenchWarehouse.both else (warehouse.value,)
    typer.echo(format_report(run(scale.value, data_dir, warehouses=kinds)))


@bench_app.command("dashboard")
def bench_dashboard(
    scale: Annotated[Scale, typer.Option(help="Generator preset to publish and time.")] = Scale.m,
    serving_dir: Annotated[
        Path | None, typer.Option(help="Time this published serving copy instead.")
    ] = None,
) -> None:
    """Render each dashboard page with AppTest; print cold and warm seconds per page."""
    from orchestration.bench_dashboard import bench_dashboard as run
    from orchestration.bench_dashboard import format_report

    typer.echo(format_report(run(scale.value, serving_dir)))


class AllWarehouse(StrEnum):
    duckdb = "duckdb"
    postgres = "postgres"


# Landing stress sizes per scale: (small files, GB of the one big file).
LANDING_SIZES = {"demo": (1_000, 0.2), "m": (10_000, 2.0), "l": (10_000, 2.0)}


@bench_app.command("landing")
def bench_landing(
    scale: Annotated[
        Scale, typer.Option(help="demo: 1,000 files + 0.2 GB; m, l: 10,000 + 2 GB.")
    ] = Scale.m,
    small_files: Annotated[int | None, typer.Option(help="Number of small files.")] = None,
    big_gb: Annotated[float | None, typer.Option(help="Size of the big file in GB.")] = None,
    warehouse: Annotated[AllWarehouse, typer.Option(help="Warehouse to ingest into.")] = (
        AllWarehouse.duckdb
    ),
    work_dir: Annotated[Path | None, typer.Option(help="Reuse or write the landing here.")] = None,
) -> None:
    """Ingest many small files and one huge file; print time, memory and exact counts."""
    from orchestration.bench_landing import bench_landing as run
    from orchestration.bench_landing import format_report

    files, gb = LANDING_SIZES[scale.value]
    result = run(small_files or files, big_gb or gb, warehouse.value, work_dir)
    typer.echo(format_report(result))
    if not result["counts_exact"]:
        raise typer.Exit(1)


@bench_app.command("all")
def bench_all(
    scale: Annotated[Scale, typer.Option(help="Generator preset: one data set for everything.")] = (
        Scale.m
    ),
    warehouse: Annotated[AllWarehouse, typer.Option(help="Warehouse of the pipeline.")] = (
        AllWarehouse.duckdb
    ),
    out: Annotated[Path, typer.Option(help="Folder of report-<scale>.md and its charts.")] = Path(
        "bench"
    ),
    reference_pairs: Annotated[
        int, typer.Option(help="Part-locations the pandas reference features run on.")
    ] = 5_000,
    reference_rows: Annotated[int, typer.Option(help="Training rows of the grid search.")] = 5_000,
    forecast_series: Annotated[
        int, typer.Option(help="Series both forecasters are trained and scored on.")
    ] = 5_000,
    resume: Annotated[
        bool, typer.Option(help="DuckDB: keep the steps a failed run finished; run the rest.")
    ] = False,
) -> None:
    """Every benchmark (ingest, marts, forecast, policy, dashboard) and the old design's
    reference over one data set: writes <out>/report-<scale>.md and PNG charts."""
    from orchestration.bench_all import Settings
    from orchestration.bench_all import bench_all as run
    from orchestration.bench_all_report import write_partial, write_report

    settings = Settings(
        reference_pairs=reference_pairs,
        reference_rows=reference_rows,
        forecast_series=forecast_series,
    )
    out = out if out.is_absolute() else env.PROJECT_ROOT / out
    try:
        result = run(scale.value, warehouse.value, settings, resume=resume)
    except (RuntimeError, KeyboardInterrupt) as exc:
        work = env.PROJECT_ROOT / "data" / "bench" / f"{scale.value}-all-{warehouse.value}"
        path = write_partial(scale.value, work, str(exc).splitlines()[0], out)
        typer.echo(f"error: {exc}\nPartial report: {path}", err=True)
        raise typer.Exit(code=1) from exc
    path = write_report(result, out)
    typer.echo(path.read_text())
    typer.echo(f"Report: {path}")


class Freq(StrEnum):
    D = "D"
    W = "W"
    M = "M"


@app.command()
def forecast(
    history: Annotated[Path, typer.Option(help="series_id, date, quantity (CSV or Parquet).")],
    horizon: Annotated[int, typer.Option(help="Periods to forecast.")],
    freq: Annotated[Freq, typer.Option(help="Period: D(ay), W(eek) or M(onth).")],
    out: Annotated[Path, typer.Option(help="series_id, date, mean, p10.. (CSV or Parquet).")],
    quantiles: Annotated[str | None, typer.Option(help="Levels, e.g. 0.1,0.5,0.9.")] = None,
) -> None:
    """Backtest the candidates on a history, choose, and write mean and quantile forecasts.

    An empty quantity is a missing period; a period without a row after a series' first date is
    zero demand. Bad input exits with code 2 and writes nothing.
    """
    from ml.forecast.api import forecast_file, parse_levels
    from ml.forecast.history import HistoryError

    try:
        summary = forecast_file(history, horizon, freq.value, out, parse_levels(quantiles))
    except HistoryError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(json.dumps(summary, indent=2))


@bench_app.command("forecast")
def bench_forecast(
    data: Annotated[
        Path | None, typer.Option(help="Long-format history; default ../shared/data/carparts.csv.")
    ] = None,
    landing: Annotated[
        Path | None, typer.Option(help="Generated landing folder: daily issues as the history.")
    ] = None,
    horizon: Annotated[int, typer.Option(help="Held-out periods.")] = 6,
    freq: Annotated[Freq, typer.Option(help="Period of the data.")] = Freq.M,
    reference: Annotated[
        bool, typer.Option(help="Also the original design's grid search (~15 min or more).")
    ] = False,
    speed: Annotated[
        bool,
        typer.Option(
            help="Instead: the pipeline's time budget (demo train + score, m-scale scoring); "
            "--landing is the demo data (default: generated)."
        ),
    ] = False,
) -> None:
    """Backtest, choose, then score every candidate and the choice on the held-out periods."""
    if speed:
        from orchestration.bench_forecast_speed import bench_speed, format_speed

        typer.echo(format_speed(bench_speed(landing)))
        return
    from orchestration.bench_forecast import bench_forecast as run
    from orchestration.bench_forecast import format_report

    typer.echo(format_report(run(data, landing, horizon, freq.value, reference)))


@export_app.command("recommendations")
def export_recommendations(
    fmt: Annotated[ExportFormat, typer.Option("--format", help="File format.")],
    out: Annotated[Path, typer.Option(help="File to write (suffix = format).")],
    location: Annotated[str | None, typer.Option(help="Only this location_id.")] = None,
) -> None:
    """Write ml.fct_reorder_recommendations, most urgent first (order_now, order_soon, ok).

    A missing table or a bad option exits with code 2 and writes nothing.
    """
    from orchestration.export import ExportError, check_target, read_recommendations, write_table

    try:
        check_target(out, fmt.value)
        frame = read_recommendations(env.warehouse(), location)
        write_table(frame, out, fmt.value)
    except ExportError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    urgent = int((frame["status"] != "ok").sum())
    typer.echo(f"Wrote {len(frame)} recommendations ({urgent} to order) to {out}")


@app.command()
def simulate(
    holdout_days: Annotated[int, typer.Option(help="Replay the last N days of demand.")] = 182,
    review_days: Annotated[int, typer.Option(help="PartsFlow re-plans every N days.")] = 7,
    seed: Annotated[int, typer.Option(help="Seed of the lead-time draws.")] = 0,
    warmup_days: Annotated[int, typer.Option(help="Simulated but not counted.")] = 0,
    service_levels: Annotated[
        str | None, typer.Option(help="Cycle service level per ABC class, e.g. A=0.98,B=0.95.")
    ] = None,
) -> None:
    """Replay the warehouse's held-out period under the static thresholds and PartsFlow's policy.

    Prints both policies, the service-level sweep (80% to 99.5%) and where the static policy
    sits on it. Demand is the recorded issues (what the static policy lost is not in them).
    """
    from ml.replenishment.reviewed import PolicySettings
    from orchestration.bench_policy import comparison_lines, run_comparison
    from orchestration.defs.replenishment.simulation_inputs import read_scenario

    settings = PolicySettings(review_days=review_days, **_class_levels(service_levels))
    with connect(env.warehouse(), read_only=True) as conn:
        scenario = read_scenario(conn, holdout_days)
    comparison = run_comparison(scenario, settings, seed, warmup_days, "simulating")
    typer.echo("\n".join(comparison_lines(scenario, comparison)))


def _class_levels(text: str | None) -> dict:
    """`A=0.98,B=0.95` -> {"service_levels": {...}} (the classes not named keep the default)."""
    if not text:
        return {}
    from ml.replenishment.policy import DEFAULT_SERVICE_LEVELS

    levels = dict(DEFAULT_SERVICE_LEVELS)
    for item in text.split(","):
        cls, _, value = item.partition("=")
        cls = cls.strip().upper()
        try:
            level = float(value)
        except ValueError:
            level = -1.0
        if cls not in levels or not 0 < level < 1:
            raise typer.BadParameter(
                f"{item.strip()!r}: expected CLASS=LEVEL with CLASS in A, B, C and 0 < LEVEL < 1",
                param_hint="--service-levels",
            )
        levels[cls] = level
    return {"service_levels": levels}


class PolicyScale(StrEnum):
    demo = "demo"
    m = "m"


@bench_app.command("policy")
def bench_policy(
    scale: Annotated[PolicyScale, typer.Option(help="Generator preset to replay.")] = (
        PolicyScale.demo
    ),
    holdout_days: Annotated[int, typer.Option(help="Held-out days at the end.")] = 182,
    review_days: Annotated[int, typer.Option(help="PartsFlow re-plans every N days.")] = 7,
    seed: Annotated[int, typer.Option(help="Seed of the lead-time draws.")] = 0,
    warmup_days: Annotated[int, typer.Option(help="Simulated but not counted.")] = 0,
    service_levels: Annotated[
        str | None, typer.Option(help="Cycle service level per ABC class, e.g. A=0.98,B=0.95.")
    ] = None,
) -> None:
    """Static thresholds vs. PartsFlow's policy on the generator's true demand; the targets."""
    from orchestration.bench_policy import bench_policy as run
    from orchestration.bench_policy import format_report

    levels = _class_levels(service_levels).get("service_levels")
    result = run(scale.value, holdout_days, seed, review_days, warmup_days, levels=levels)
    typer.echo(format_report(result))


@users_app.command("create-demo")
def users_create_demo(
    locations: Annotated[
        str | None, typer.Option(help="Comma-separated location ids for the scoped demo users.")
    ] = None,
) -> None:
    """Write one demo user per role with fresh random passwords and print them (once)."""
    from dashboards.users import create_demo_users
    from orchestration.serving_locations import published_location_ids

    path = env.users_file()
    ids = [x.strip() for x in locations.split(",") if x.strip()] if locations else None
    ids = ids or published_location_ids()
    if not ids:
        typer.echo("error: no locations published yet: run `make materialize` first", err=True)
        raise typer.Exit(code=2)
    created = create_demo_users(path, ids)
    typer.echo(f"Demo users written to {path} (bcrypt hashes; passwords shown only now):")
    for user, password in created:
        scope = "all locations" if user.locations is None else ", ".join(user.locations)
        typer.echo(f"  {user.username:<11} {password:<14} {user.role:<10} {scope}")


@app.command()
def holidays() -> None:
    """Regenerate the dbt seed of public holidays (dbt_project/seeds/public_holidays.csv)."""
    from orchestration.public_holidays import SEED_PATH, write_seed

    rows = write_seed()
    typer.echo(f"Wrote {rows} holidays to {SEED_PATH}")


if __name__ == "__main__":
    app()
