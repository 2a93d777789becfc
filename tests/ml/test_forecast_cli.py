"""`partsflow forecast` on a small history, and every kind of bad input (exit 2, no file)."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from orchestration.cli import app
from tests.ml.forecast_helpers import small_history

runner = CliRunner()


def invoke(history, out, horizon="3", extra=()):
    args = ["forecast", "--history", str(history), "--horizon", horizon, "--freq", "M"]
    return runner.invoke(app, [*args, "--out", str(out), *extra])


def test_forecast_writes_mean_and_quantiles(tmp_path):
    frame = small_history()
    frame.loc[5, "quantity"] = np.nan  # a missing month (empty cell in the CSV)
    history = tmp_path / "history.csv"
    frame.to_csv(history, index=False)
    out = tmp_path / "forecast.csv"
    result = invoke(history, out)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.stdout[result.stdout.index("{") :])
    assert summary["backtest_origins"] == 3
    fc = pd.read_csv(out, dtype={"series_id": str})
    levels = [f"p{q}" for q in range(10, 100, 10)]
    assert list(fc.columns) == ["series_id", "date", "mean", *levels]
    assert len(fc) == 10 * 3 and fc["series_id"].nunique() == 10
    assert sorted(fc["date"].unique()) == ["2022-07-01", "2022-08-01", "2022-09-01"]
    qs = fc[levels].to_numpy()
    assert (qs >= 0).all() and (np.diff(qs, axis=1) >= 0).all()
    assert (fc["mean"] >= 0).all()
    # Continuous quantiles (ml.forecast.quantiles): zero, or inside a positive count's unit
    # interval [k - shift, k + 1 - shift) with k >= 1.
    shift = summary["quantile_shift"]
    assert 0 <= shift <= 1
    assert ((qs == 0) | (qs > 1 - shift - 1e-9)).all() and (qs > 0).any()


def test_parquet_in_and_custom_quantiles(tmp_path):
    history = tmp_path / "history.parquet"
    small_history(series=4, months=20).to_parquet(history, index=False)
    out = tmp_path / "forecast.parquet"
    result = invoke(history, out, horizon="2", extra=["--quantiles", "0.5,0.95"])
    assert result.exit_code == 0, result.output
    fc = pd.read_parquet(out)
    assert list(fc.columns) == ["series_id", "date", "mean", "p50", "p95"]
    assert (fc["p95"] >= fc["p50"]).all()


def _csv(tmp_path, text):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    return path


GOOD = "series_id,date,quantity\nA,2020-01-01,1\nA,2020-02-01,0\n"


@pytest.mark.parametrize(
    ("text", "horizon", "message"),
    [
        ("series_id,day,quantity\nA,2020-01-01,1\n", "3", "missing column(s) date"),
        (GOOD + "A,2020-13-45,2\n", "3", "row 3: unparseable date"),
        (GOOD + "A,2020-03-01,-4\n", "3", "row 3: negative quantity"),
        (GOOD + "A,2020-03-01,many\n", "3", "row 3: quantity is not a number"),
        (GOOD + "A,2020-02-01,5\n", "3", "row 3: duplicate series_id and date"),
        (GOOD, "0", "--horizon must be at least 1"),
        (GOOD, "3", "periods of history"),
        (None, "3", "file not found"),
    ],
)
def test_bad_input_exits_2_without_output(tmp_path, text, horizon, message):
    history = _csv(tmp_path, text) if text is not None else tmp_path / "absent.csv"
    out = tmp_path / "forecast.csv"
    result = invoke(history, out, horizon=horizon)
    assert result.exit_code == 2, result.output
    assert message in result.stderr
    assert str(history) in result.stderr or message.startswith("--horizon")
    assert not out.exists()
    assert list(tmp_path.iterdir()) == ([history] if text is not None else [])


def test_bad_quantiles_exit_2(tmp_path):
    history = _csv(tmp_path, GOOD)
    out = tmp_path / "forecast.csv"
    result = invoke(history, out, extra=["--quantiles", "0.5,1.5"])
    assert result.exit_code == 2 and "strictly between 0 and 1" in result.stderr
    assert not out.exists()
