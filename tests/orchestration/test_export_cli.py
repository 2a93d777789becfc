"""`partsflow export recommendations` on a small recommendations table (DuckDB and PostgreSQL):
every format reads back to the same rows, --location filters, bad input exits with code 2."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from typer.testing import CliRunner

import orchestration.definitions  # noqa: F401 - loaded before the env changes, as a server would
from ml.replenishment.recommend import recommend
from orchestration import env
from orchestration.cli import app
from orchestration.defs.replenishment.assets import prediction_history
from orchestration.defs.replenishment.tables import write
from orchestration.warehouse import connect

runner = CliRunner()
AS_OF = date(2024, 5, 31)


def _recommendations() -> pd.DataFrame:
    pairs = pd.DataFrame(
        {
            "part_id": ["P1", "P2", "P3", "P1"],
            "location_id": ["L1", "L1", "L1", "L2"],
            "on_hand": [2, 500, 30, 4],
            "on_order": [0, 0, 0, 0],
            "unit_cost": [10.0, 5.0, 8.0, 10.0],
            "abc_class": ["A", "B", "C", "A"],
            "demand_pattern": ["smooth", "smooth", "smooth", "lumpy"],
            "lead_time_mean_days": [7.0, 7.0, 7.0, 7.0],
            "lead_time_std_days": [1.0, 1.0, 1.0, 1.0],
            "dispersion": [0.1, 0.1, 0.1, 0.1],
        }
    )
    days = [AS_OF + timedelta(days=t) for t in range(1, 29)]
    fc = pd.DataFrame(
        [
            (p, loc, d, 1.0, 0, 2)
            for p, loc in pairs[["part_id", "location_id"]].values
            for d in days
        ],
        columns=["part_id", "location_id", "forecast_date", "mean", "p10", "p90"],
    )
    rec = recommend(pairs, fc, AS_OF)
    rec["model_version"] = "test"
    return rec


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path, monkeypatch) -> str:
    if request.param == "duckdb":
        url = f"duckdb:///{tmp_path}/wh.duckdb"
    else:
        url = request.getfixturevalue("pg_database_url")
    monkeypatch.setenv("PARTSFLOW_WAREHOUSE_URL", url)
    return url


def _fill(url: str) -> pd.DataFrame:
    rec = _recommendations()
    run = {
        "as_of_date": AS_OF,
        "model_version": "test",
        "pairs": len(rec),
        "predicted_stockouts": 0,
        "order_now": 0,
        "order_soon": 0,
    }
    with connect(env.Warehouse(url)) as conn:
        write(conn, rec, prediction_history(rec), run)
    return rec


def _read(path, fmt: str) -> pd.DataFrame:
    if fmt == "csv":
        return pd.read_csv(path)
    if fmt == "xlsx":
        return pd.read_excel(path, sheet_name="recommendations", engine="openpyxl")
    return pd.read_parquet(path)


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "parquet"])
def test_export_formats_read_back(warehouse_url, tmp_path, fmt):
    rec = _fill(warehouse_url)
    out = tmp_path / f"recs.{fmt}"
    result = runner.invoke(app, ["export", "recommendations", "--format", fmt, "--out", str(out)])
    assert result.exit_code == 0, result.output
    got = _read(out, fmt)
    assert len(got) == len(rec) and list(got.columns) == list(rec.columns)
    # Most urgent first: order_now rows, then order_soon, then ok.
    rank = got["status"].map({"order_now": 0, "order_soon": 1, "ok": 2})
    assert rank.is_monotonic_increasing and rank.iloc[0] == 0
    merged = got.merge(rec, on=["part_id", "location_id"], suffixes=("", "_want"))
    assert len(merged) == len(rec)
    assert (merged["suggested_order_qty"] == merged["suggested_order_qty_want"]).all()
    assert (merged["reason"] == merged["reason_want"]).all()
    assert str(pd.Timestamp(got["as_of_date"].iloc[0]).date()) == str(AS_OF)
    assert f"Wrote {len(rec)} recommendations" in result.stdout


def test_export_location_filter(warehouse_url, tmp_path):
    _fill(warehouse_url)
    out = tmp_path / "l2.xlsx"
    args = ["export", "recommendations", "--format", "xlsx", "--out", str(out), "--location", "L2"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    got = _read(out, "xlsx")
    assert got["location_id"].tolist() == ["L2"] and got["part_id"].tolist() == ["P1"]

    result = runner.invoke(app, [*args[:-1], "NOWHERE"])
    assert result.exit_code == 2
    assert "'NOWHERE' has no recommendations; locations: L1, L2" in result.output


def test_export_errors_exit_2_and_write_nothing(warehouse_url, tmp_path):
    out = tmp_path / "recs.csv"
    base = ["export", "recommendations", "--out", str(out)]
    # No table yet (an empty warehouse).
    result = runner.invoke(app, [*base, "--format", "csv"])
    assert result.exit_code == 2
    assert "materialize ml/fct_reorder_recommendations first" in result.output
    _fill(warehouse_url)
    result = runner.invoke(app, [*base, "--format", "json"])
    assert result.exit_code == 2 and "json" in result.output
    result = runner.invoke(app, [*base, "--format", "parquet"])
    assert result.exit_code == 2 and "must end with .parquet" in result.output
    missing_dir = tmp_path / "nope" / "recs.csv"
    result = runner.invoke(
        app, ["export", "recommendations", "--format", "csv", "--out", str(missing_dir)]
    )
    assert result.exit_code == 2 and "does not exist" in result.output
    assert not out.exists() and not missing_dir.exists()
