"""`partsflow`: the command line for data engineers (generate data, materialize, inspect)."""

from __future__ import annotations

import json
from datetime import date
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from orchestration import env

app = typer.Typer(help="PartsFlow: spare-parts inventory analytics.", no_args_is_help=True)


class Scale(StrEnum):
    demo = "demo"
    m = "m"
    l = "l"  # noqa: E741 - the preset is called "l" in the docs


class FileFormat(StrEnum):
    csv = "csv"
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
    """Materialize assets in this process, recorded in DAGSTER_HOME so the UI shows the run."""
    import dagster as dg

    env.ensure_dagster_home()
    from orchestration.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    keys = dg.AssetSelection.from_string(select).resolve(defs.resolve_asset_graph())
    if not keys:
        raise typer.BadParameter(f"selects no asset: {select!r}", param_hint="--select")
    with dg.DagsterInstance.get() as instance:
        result = job.execute_in_process(instance=instance, asset_selection=sorted(keys))
    if not result.success:
        raise typer.Exit(code=1)
    typer.echo(f"Materialized {len(result.get_asset_materialization_events())} assets.")


if __name__ == "__main__":
    app()
