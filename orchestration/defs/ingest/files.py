"""Reading landing files into text frames in contract column order (no validation of values yet)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from orchestration.contract import column_names, required_columns

SUPPORTED_SUFFIXES = (".csv", ".parquet")


class LandingFileError(ValueError):
    """A landing file that cannot be read; the message names the file and the reason."""


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def landing_files(entity_dir: Path) -> list[Path]:
    """Batch files of one entity, in name order so loads are reproducible."""
    if not entity_dir.is_dir():
        return []
    return sorted(
        p for p in entity_dir.iterdir() if p.is_file() and p.suffix.lower() in SUPPORTED_SUFFIXES
    )


def _to_text(series: pd.Series) -> pd.Series:
    """Native Parquet values as the text a CSV would carry (ISO-8601 timestamps, ints bare)."""
    if pd.api.types.is_datetime64_any_dtype(series):
        tz = getattr(series.dt, "tz", None)
        values = series.dt.tz_convert("UTC") if tz is not None else series
        text = values.dt.strftime("%Y-%m-%dT%H:%M:%S")
    elif pd.api.types.is_float_dtype(series):
        text = series.map(lambda v: format(v, ".15g") if pd.notna(v) else None)
    else:
        text = series.map(lambda v: v.isoformat() if hasattr(v, "isoformat") else str(v))
    return text.where(series.notna(), None)


def read_batch(path: Path, entity: str) -> pd.DataFrame:
    """Return the file's rows as text in contract order; raises LandingFileError naming the file."""
    try:
        if path.suffix.lower() == ".csv":
            df = pd.read_csv(
                path,
                dtype=str,
                keep_default_na=False,
                encoding="utf-8-sig",
                skipinitialspace=False,
            )
        else:
            df = pq.read_table(path).to_pandas()
    except Exception as exc:  # noqa: BLE001 - any parser failure is reported the same way
        raise LandingFileError(f"{path}: cannot be parsed as {path.suffix[1:]}: {exc}") from exc

    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in required_columns(entity) if c not in df.columns]
    if missing:
        raise LandingFileError(f"{path}: missing required column(s) {', '.join(missing)}")
    out = pd.DataFrame(index=df.index)
    for col in column_names(entity):
        if col not in df.columns:
            out[col] = None
        elif df[col].dtype == object and path.suffix.lower() == ".csv":
            out[col] = df[col].where(df[col] != "", None)
        else:
            out[col] = _to_text(df[col]).where(lambda s: s != "", None)
    return out.reset_index(drop=True)
