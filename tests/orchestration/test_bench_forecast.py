"""`partsflow bench forecast` end to end on tiny data: a monthly file and a generated landing."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from orchestration.bench_forecast import landing_history
from orchestration.cli import app
from tests.ml.forecast_helpers import small_history

runner = CliRunner()


def test_bench_on_a_history_file(tmp_path):
    data = tmp_path / "history.csv"
    small_history(series=6, months=24).to_csv(data, index=False)
    result = runner.invoke(
        app, ["bench", "forecast", "--data", str(data), "--horizon", "2", "--freq", "M"]
    )
    assert result.exit_code == 0, result.output
    out = result.stdout
    assert "6 series, 24 periods (M), last 2 held out" in out
    for name in ("ADIDA", "IMAPA", "TSB", "CrostonOptimized", "SeasonalNaive", "AutoETS"):
        assert f"\n{name}" in out
    assert "GlobalHGB" in out and "choice on holdout: RMSE" in out and "load average" in out


def test_landing_history_sums_daily_issues(tmp_path):
    landing = tmp_path / "landing"
    result = runner.invoke(
        app, ["generate", "--out", str(landing), "--parts", "5", "--locations", "2", "--days", "30"]
    )
    assert result.exit_code == 0, result.output
    history = landing_history(Path(landing))
    assert list(history.columns) == ["series_id", "date", "quantity"]
    assert not history.duplicated(["series_id", "date"]).any()
    # Every pair starts on the first day (zero if nothing was issued), so days without rows are 0.
    first = history["date"].min()
    assert (history.groupby("series_id")["date"].min() == first).all()
    assert (history["quantity"] >= 0).all() and history["quantity"].sum() > 0
