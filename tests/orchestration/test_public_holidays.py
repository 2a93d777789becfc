"""The committed public_holidays seed is exactly what the installed holidays package produces."""

from __future__ import annotations

from typer.testing import CliRunner

from orchestration.cli import app
from orchestration.generator.master import COUNTRY_ORDER
from orchestration.public_holidays import SEED_PATH, holiday_rows, seed_text


def test_committed_seed_equals_the_holidays_package() -> None:
    assert SEED_PATH.read_text(encoding="utf-8") == seed_text(holiday_rows()), (
        "dbt_project/seeds/public_holidays.csv is stale: run `partsflow holidays`"
    )


def test_seed_covers_every_generator_country_and_year() -> None:
    rows = holiday_rows()
    assert {country for _, country, _ in rows} == set(COUNTRY_ORDER)
    years = {day[:4] for day, _, _ in rows}
    assert years == {str(y) for y in range(2015, 2036)}
    assert ("2024-12-25", "DE", "Christmas Day") in rows
    assert len({(day, country) for day, country, _ in rows}) == len(rows)


def test_cli_writes_the_seed(tmp_path, monkeypatch) -> None:
    import orchestration.public_holidays as module

    target = tmp_path / "public_holidays.csv"
    monkeypatch.setattr(module, "SEED_PATH", target)
    result = CliRunner().invoke(app, ["holidays"])
    assert result.exit_code == 0, result.output
    assert target.read_text(encoding="utf-8") == seed_text(holiday_rows())


def test_seed_is_a_dagster_asset_upstream_of_the_calendar_and_features() -> None:
    import dagster as dg

    from orchestration.definitions import defs

    graph = defs.resolve_asset_graph()
    seed = dg.AssetKey(["staging", "public_holidays"])
    assert seed in graph.get_all_asset_keys()
    for model in ("dim_date", "fct_demand_features", "fct_demand_features_weekly"):
        assert seed in graph.get(dg.AssetKey(["marts", model])).parent_keys, model
