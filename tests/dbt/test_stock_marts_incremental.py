"""Incremental runs of the stock marts equal a full refresh, with real dbt runs on both warehouses:
a first delivery without two held-back months, then a later one with them and a part cost update."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration import env
from orchestration.defs.ingest.drops import register_now
from orchestration.resources import build_resources
from tests.dbt.test_dbt_models import run_dbt
from tests.dbt.test_stock_marts import read_mart
from tests.orchestration.expected import read_entity
from tests.orchestration.pipeline_helpers import all_assets

INCREMENTAL_MARTS = {
    "fct_daily_stock": ["part_id", "location_id", "stock_date"],
    "fct_daily_demand": ["part_id", "location_id", "demand_date"],
}
# Held back from the first load: the last month (new later days) and a month in the middle
# (late-arriving earlier days), for the ledger and the snapshots alike.
HELD_BACK = ("2024-06", "2025-02")


def _ingest(url: str, landing: Path, serving: Path) -> None:
    raw = [a for a in all_assets() if any(k.path[0] == "raw" for k in a.keys)]
    instance = dg.DagsterInstance.ephemeral()
    result = dg.materialize(
        raw,
        resources=build_resources(url, str(landing), str(serving)),
        instance=instance,
        raise_on_error=False,
        partition_key=register_now(instance, landing),
    )
    assert result.success, [e.message for e in result.all_events if e.is_failure]


def _split_landing(source: Path, work: Path) -> tuple[Path, Path]:
    """(first delivery, later delivery): the later one adds the held-back months and a part
    master update that changes one part's unit cost (it revalues that part's whole history)."""
    first, later = work / "landing_first", work / "landing_later"
    shutil.copytree(source, first)
    for entity in ("transactions", "stock_levels"):
        for month in HELD_BACK:
            (first / entity / f"{entity}_{month}.csv").unlink()
    shutil.copytree(source, later)
    parts = read_entity(source, "parts").head(1)
    parts["unit_cost"] = parts["unit_cost"] * 2 + 1
    parts.to_csv(later / "parts" / "parts_cost_update.csv", index=False)
    return first, later


def _incremental_equals_full_refresh(url: str, landing: Path, work: Path) -> None:
    warehouse = env.Warehouse(url)
    first, later = _split_landing(landing, work)
    upstream = [f"+{table}" for table in INCREMENTAL_MARTS]
    _ingest(url, first, work / "serving")
    run_dbt(["run", "--select", *upstream], warehouse, work)
    before = {t: read_mart(url, t) for t in INCREMENTAL_MARTS}

    _ingest(url, later, work / "serving")
    run_dbt(["run", "--select", *upstream], warehouse, work)
    incremental = {t: read_mart(url, t) for t in INCREMENTAL_MARTS}
    run_dbt(["run", "--full-refresh", "--select", *INCREMENTAL_MARTS], warehouse, work)
    full = {t: read_mart(url, t) for t in INCREMENTAL_MARTS}

    for table, keys in INCREMENTAL_MARTS.items():
        assert len(incremental[table]) > len(before[table]), table
        # Rows untouched by the new data kept the old watermark: the run really was incremental.
        old_mark = before[table]["loaded_through"].max()
        assert (incremental[table]["loaded_through"] == old_mark).any(), table
        columns = [c for c in full[table].columns if c != "loaded_through"]
        pd.testing.assert_frame_equal(
            incremental[table][columns].sort_values(keys).reset_index(drop=True),
            full[table][columns].sort_values(keys).reset_index(drop=True),
            obj=table,
        )


def test_incremental_equals_full_refresh_duckdb(marts_landing, tmp_path):
    url = f"duckdb:///{tmp_path}/warehouse.duckdb"
    _incremental_equals_full_refresh(url, marts_landing, tmp_path)


@pytest.mark.postgres
def test_incremental_equals_full_refresh_postgres(marts_landing, pg_database_url, tmp_path):
    _incremental_equals_full_refresh(pg_database_url, marts_landing, tmp_path)
