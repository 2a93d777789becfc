"""Read and check a long-format demand history and turn it into a dense series x period panel."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

COLUMNS = ("series_id", "date", "quantity")
SEASON = {"D": 7, "W": 52, "M": 12}


class HistoryError(ValueError):
    """Input the forecaster cannot use; the message names the file, the row and the reason."""


@dataclass(frozen=True)
class Panel:
    """Demand as a matrix: one row per series, one column per period (NaN = missing/not started).

    `start[i]` is the first period of series i; absent rows after it are zero demand, an empty
    quantity is a missing period (NaN).
    """

    ids: np.ndarray
    periods: pd.PeriodIndex
    values: np.ndarray
    start: np.ndarray
    freq: str

    @property
    def season(self) -> int:
        return SEASON[self.freq]

    def head(self, n_periods: int) -> Panel:
        """The panel cut after its first `n_periods` periods (what was known at that origin)."""
        keep = self.start < n_periods
        return Panel(
            self.ids[keep],
            self.periods[:n_periods],
            self.values[keep, :n_periods],
            self.start[keep],
            self.freq,
        )

    def select(self, rows: np.ndarray) -> Panel:
        """The series where `rows` (a boolean mask) is true."""
        return Panel(self.ids[rows], self.periods, self.values[rows], self.start[rows], self.freq)

    def future(self, horizon: int) -> pd.PeriodIndex:
        return pd.period_range(self.periods[-1] + 1, periods=horizon, freq=self.periods.freq)

    def to_long(self) -> pd.DataFrame:
        """`series_id, date, quantity` rows from each series' start (the inverse of to_panel)."""
        n, t = self.values.shape
        rows, cols = np.nonzero(np.arange(t)[None, :] >= self.start[:, None])
        return pd.DataFrame(
            {
                "series_id": self.ids[rows],
                "date": self.periods[cols].start_time,
                "quantity": self.values[rows, cols],
            }
        )


def read_history(path: Path) -> pd.DataFrame:
    """Read CSV or Parquet (by suffix) with series_id as text; the checks are in check_history."""
    if not path.exists():
        raise HistoryError(f"{path}: file not found")
    try:
        if path.suffix.lower() in (".parquet", ".pq"):
            frame = pd.read_parquet(path)
        else:
            frame = pd.read_csv(path, dtype={"series_id": str, "date": str}, keep_default_na=False)
    except Exception as exc:  # any parser failure is a user error here, reported with the file
        raise HistoryError(f"{path}: cannot read: {exc}") from exc
    return check_history(frame, str(path))


def _first_bad(mask: pd.Series, source: str, reason: str) -> None:
    if mask.any():
        row = int(np.flatnonzero(mask.to_numpy())[0])
        # Row numbers are 1-based data rows (the CSV header line is not counted).
        raise HistoryError(f"{source}: row {row + 1}: {reason} ({int(mask.sum())} rows in all)")


def check_history(frame: pd.DataFrame, source: str) -> pd.DataFrame:
    """Validate columns, dates and quantities; return series_id (str), date, quantity (float)."""
    missing = [c for c in COLUMNS if c not in frame.columns]
    if missing:
        raise HistoryError(f"{source}: missing column(s) {', '.join(missing)}")
    frame = frame.reset_index(drop=True)
    ids = frame["series_id"].astype(str).str.strip()
    _first_bad(frame["series_id"].isna() | (ids == ""), source, "empty series_id")
    raw_dates = frame["date"]
    dates = pd.to_datetime(raw_dates.astype(str).str.strip(), errors="coerce", format="mixed")
    _first_bad(dates.isna(), source, f"unparseable date {raw_dates[dates.isna()].head(1).tolist()}")
    raw_qty = frame["quantity"]
    blank = raw_qty.isna() | (raw_qty.astype(str).str.strip() == "")
    qty = pd.to_numeric(raw_qty.where(~blank), errors="coerce")
    _first_bad(qty.isna() & ~blank, source, "quantity is not a number")
    _first_bad(qty < 0, source, "negative quantity")
    return pd.DataFrame({"series_id": ids, "date": dates, "quantity": qty.astype(float)})


def to_panel(history: pd.DataFrame, freq: str, source: str = "history") -> Panel:
    """Bucket dates into periods (weeks start on the first date's weekday) and build the panel."""
    if freq not in SEASON:
        raise HistoryError(f"{source}: unknown frequency {freq!r} (use D, W or M)")
    if history.empty:
        raise HistoryError(f"{source}: no rows")
    if freq == "W":
        # A week that starts on the first date's weekday ends the day before it.
        end_day = (history["date"].min() - pd.Timedelta(days=1)).day_name()[:3].upper()
        period_freq = f"W-{end_day}"
    else:
        period_freq = freq
    periods = history["date"].dt.to_period(period_freq)
    dup = pd.Series(pd.MultiIndex.from_arrays([history["series_id"], periods]).duplicated())
    _first_bad(dup, source, f"duplicate series_id and date: two rows in one period (--freq {freq})")
    grid = pd.period_range(periods.min(), periods.max(), freq=period_freq)
    ids, row = np.unique(history["series_id"].to_numpy(), return_inverse=True)
    col = periods.array.asi8 - grid[0].ordinal
    start = np.full(len(ids), len(grid), dtype=int)
    np.minimum.at(start, row, col)
    values = np.where(np.arange(len(grid))[None, :] >= start[:, None], 0.0, np.nan)
    values[row, col] = history["quantity"].to_numpy()
    return Panel(ids, grid, values, start, freq)
