"""Ingest assets: every batch loads exactly once, files are read as the contract says."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from orchestration import env
from orchestration.defs.ingest.assets import ingest_assets
from orchestration.resources import LandingZoneResource, WarehouseResource
from orchestration.warehouse import connect

HEADER = "category_id,name,parent_category_id\n"


def run_ingest(url: str, landing: Path, entity: str = "categories") -> dg.ExecuteInProcessResult:
    asset = next(a for a in ingest_assets if a.key == dg.AssetKey(["raw", entity]))
    return dg.materialize(
        [asset],
        resources={
            "warehouse": WarehouseResource(url=url),
            "landing": LandingZoneResource(path=str(landing)),
        },
        instance=dg.DagsterInstance.ephemeral(),
        raise_on_error=False,
    )


def raw_rows(url: str, entity: str = "categories") -> pd.DataFrame:
    with connect(env.Warehouse(url)) as conn:
        return conn.query_df(f"select * from raw.{entity} order by _file_name, _row_number")


def write(landing: Path, name: str, text: str, entity: str = "categories") -> Path:
    path = landing / entity / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture
def duck_url(tmp_path: Path) -> str:
    return f"duckdb:///{tmp_path}/wh.duckdb"


def test_batch_loads_once_by_content_hash(duck_url, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "a.csv", HEADER + "C1,Engine,\nC2,Filters,C1\n")
    assert run_ingest(duck_url, landing).success
    # Same bytes under a new name: the same batch, not loaded again.
    shutil.copy(landing / "categories" / "a.csv", landing / "categories" / "a_copy.csv")
    result = run_ingest(duck_url, landing)
    assert result.success
    meta = result.asset_materializations_for_node("raw__categories")[0].metadata
    assert meta["new_batches"].value == 0
    assert len(raw_rows(duck_url)) == 2
    # Same name, new content: a new batch.
    write(landing, "a.csv", HEADER + "C3,Brakes,\n")
    assert run_ingest(duck_url, landing).success
    rows = raw_rows(duck_url)
    assert sorted(rows["category_id"]) == ["C1", "C2", "C3"]
    assert rows["_batch_id"].nunique() == 2
    assert rows.loc[rows["category_id"] == "C1", "parent_category_id"].isna().all()


def test_csv_quirks_bom_case_and_extra_columns(duck_url, tmp_path):
    landing = tmp_path / "landing"
    text = '\ufeffName,CATEGORY_ID,Extra,parent_category_id\nEngine "V8",C\'1,x,\n'
    write(landing, "quirks.csv", text)
    assert run_ingest(duck_url, landing).success
    rows = raw_rows(duck_url)
    assert rows.loc[0, "category_id"] == "C'1"
    assert rows.loc[0, "name"] == 'Engine "V8"'
    assert "extra" not in rows.columns


def test_parquet_native_types_read_as_contract_text(duck_url, tmp_path):
    landing = tmp_path / "landing"
    (landing / "transactions").mkdir(parents=True)
    pd.DataFrame(
        {
            "transaction_id": ["T1"],
            "occurred_at": pd.to_datetime(["2024-03-01T10:15:00"]),
            "type": ["ISSUE"],
            "part_id": ["P1"],
            "location_id": ["L1"],
            "quantity": [3],
            "unit_cost": [12.5],
        }
    ).to_parquet(landing / "transactions" / "t.parquet")
    assert run_ingest(duck_url, landing, "transactions").success
    row = raw_rows(duck_url, "transactions").iloc[0]
    assert (row["occurred_at"], row["quantity"], row["unit_cost"]) == (
        "2024-03-01T10:15:00",
        "3",
        "12.5",
    )
    assert row["reference"] is None


def test_unparseable_file_fails_naming_the_file(duck_url, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "ok.csv", HEADER + "C1,Engine,\n")
    bad = landing / "categories" / "zz_broken.parquet"
    bad.write_bytes(b"this is not parquet")
    result = run_ingest(duck_url, landing)
    assert not result.success
    messages = " ".join(
        e.event_specific_data.error.to_string() for e in result.all_events if e.is_step_failure
    )
    assert "zz_broken.parquet" in messages
    # The good batch before it committed on its own.
    assert list(raw_rows(duck_url)["category_id"]) == ["C1"]


def test_missing_required_column_is_reported(duck_url, tmp_path):
    landing = tmp_path / "landing"
    write(landing, "nohead.csv", "name\nEngine\n")
    result = run_ingest(duck_url, landing)
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    message = failure.event_specific_data.error.to_string()
    assert "nohead.csv" in message
    assert "category_id" in message


@pytest.mark.postgres
def test_postgres_ingest_keeps_values_exactly(pg_database_url, tmp_path):
    landing = tmp_path / "landing"
    tricky = "DROP TABLE raw.parts; -- Ünïcødé, 'q' \\N "  # a COPY null marker inside text
    write(landing, "a.csv", HEADER + f'"{tricky}",Name,\nC2,"multi\nline",\n')
    assert run_ingest(pg_database_url, landing).success
    assert run_ingest(pg_database_url, landing).success
    rows = raw_rows(pg_database_url)
    assert sorted(rows["category_id"]) == sorted([tricky, "C2"])
    assert "multi\nline" in set(rows["name"])
