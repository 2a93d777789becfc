"""A damaged model artifact: scoring falls back to the last good version and says so (log and
materialization metadata); with no loadable version at all it fails naming each artifact."""

from __future__ import annotations

import logging
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from ml.forecast.model import train
from ml.registry import Candidate
from orchestration import env
from orchestration.defs.forecasting.assets import MODEL_NAME, fct_forecasts
from orchestration.defs.forecasting.demand import read_daily_demand
from orchestration.defs.forecasting.registry import register
from orchestration.defs.partitions import group_of
from orchestration.resources import WarehouseResource
from orchestration.warehouse import connect

SERIES, DAYS = 6, 120


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
    return request.getfixturevalue("pg_database_url")


def _registered_versions(url: str, store: Path) -> list[str]:
    """Daily demand of a few series and two registered versions; v2 is the active one."""
    rng = np.random.default_rng(3)
    days = pd.date_range("2025-01-01", periods=DAYS, freq="D")
    demand = pd.DataFrame(
        {
            "part_id": np.repeat([f"P{i}" for i in range(SERIES)], DAYS),
            "location_id": "L1",
            "demand_date": np.tile(days.date, SERIES),
            "issued_qty": rng.poisson(2.0, SERIES * DAYS).astype(float),
        }
    )
    with connect(env.Warehouse(url)) as conn:
        conn.execute("create schema if not exists marts")
        conn.execute(
            "create table marts.fct_daily_demand (part_id text, location_id text, "
            "demand_date date, issued_qty double precision)"
        )
        conn.append_df("marts", "fct_daily_demand", demand)
        model, _ = train(read_daily_demand(conn), 7, 1, ("SeasonalNaive",), 2_000)
        artifacts = []
        for wql in (0.5, 0.4):  # the second beats the first: v2 active, v1 retired by it
            candidate = Candidate(
                MODEL_NAME,
                "SeasonalNaive",
                days[0].date(),
                days[-1].date(),
                {},
                {"wql": wql, "rmse": 1.0},
            )
            artifacts.append(register(conn, candidate, model, store).artifact)
    return artifacts


def _score(url: str) -> tuple[dg.ExecuteInProcessResult, list[str]]:
    """The scoring run and its warnings."""
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        [fct_forecasts],
        resources={"warehouse": WarehouseResource(url=url)},
        instance=instance,
        raise_on_error=False,
        partition_key=group_of("L1"),  # the location group of the series
    )
    logs = instance.all_logs(result.run_id)
    return result, [e.user_message for e in logs if e.level == logging.WARNING]


def test_a_corrupt_active_artifact_falls_back_to_the_last_good_version(warehouse_url, tmp_path):
    v1, v2 = _registered_versions(warehouse_url, tmp_path / "models")
    Path(v2).write_bytes(Path(v2).read_bytes()[:200])  # truncated, as by a crash or a bad copy

    result, warnings = _score(warehouse_url)

    assert result.success
    metadata = result.get_asset_materialization_events()[0].materialization.metadata
    assert metadata["model_version"].value == f"{MODEL_NAME}-v1"
    fallback = metadata["model_fallback"].value
    assert "scoring with v1, the last good version, instead of active v2" in fallback
    assert f"v2 artifact {v2} unusable" in fallback
    assert fallback in warnings
    with connect(env.Warehouse(warehouse_url)) as conn:
        used = conn.fetchall("select distinct model_version from ml.fct_forecasts")
    assert used == [(f"{MODEL_NAME}-v1",)]


def test_no_loadable_version_fails_naming_every_artifact(warehouse_url, tmp_path):
    artifacts = _registered_versions(warehouse_url, tmp_path / "models")
    for path in artifacts:
        Path(path).write_bytes(b"not a model")

    result, warnings = _score(warehouse_url)

    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = str(failure.step_failure_data)
    assert f"no version of {MODEL_NAME} can be loaded" in message
    assert all(f"artifact {path} unusable" in message for path in artifacts)
