"""File in, file out: what `partsflow forecast` runs (kept here so the CLI stays thin)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd

from ml.forecast.backtest import MIN_ORIGIN_PERIODS
from ml.forecast.history import HistoryError, read_history, to_panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.pipeline import run, to_frame


def parse_levels(text: str | None) -> tuple[float, ...]:
    """'0.1,0.5,0.9' -> (0.1, 0.5, 0.9); levels strictly between 0 and 1, sorted, unique."""
    if not text:
        return QUANTILES
    try:
        levels = tuple(sorted({float(x) for x in text.split(",") if x.strip()}))
    except ValueError as exc:
        raise HistoryError(f"--quantiles: not a list of numbers: {text!r}") from exc
    if not levels or not all(0 < q < 1 for q in levels):
        raise HistoryError(f"--quantiles: levels must lie strictly between 0 and 1: {text!r}")
    return levels


def write_frame(frame: pd.DataFrame, out: Path) -> None:
    """Write CSV or Parquet (by suffix) via a temporary file, so a failure leaves no output."""
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=out.parent, prefix=f".{out.name}.", suffix=".tmp")
    os.close(fd)
    try:
        if out.suffix.lower() in (".parquet", ".pq"):
            frame.to_parquet(tmp, index=False)
        else:
            frame.to_csv(tmp, index=False)
        os.replace(tmp, out)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def forecast_file(
    history: Path, horizon: int, freq: str, out: Path, levels: tuple[float, ...] = QUANTILES
) -> dict:
    """Validate, backtest, choose, forecast and write; HistoryError for unusable input."""
    if horizon < 1:
        raise HistoryError(f"--horizon must be at least 1, got {horizon}")
    panel = to_panel(read_history(history), freq, str(history))
    if len(panel.periods) < MIN_ORIGIN_PERIODS + horizon:
        raise HistoryError(
            f"{history}: {len(panel.periods)} periods of history; a backtest with horizon "
            f"{horizon} needs at least {MIN_ORIGIN_PERIODS + horizon}"
        )
    fc = run(panel, horizon, levels)
    frame = to_frame(fc, levels)
    write_frame(frame, out)
    return {
        "series": len(panel.ids),
        "rows": len(frame),
        "choice": fc.choice,
        "backtest_origins": len(fc.backtest.cuts),
        "backtest": {k: round(v, 4) for k, v in fc.scores[fc.choice].items()},
        "quantile_shift": round(fc.backtest.shift(fc.choice, levels), 4),
    }
