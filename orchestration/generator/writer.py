"""Deterministic CSV / Parquet batch files in the landing layout."""

from __future__ import annotations

import os
import re
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pcsv
import pyarrow.parquet as pq

SUFFIX = {"csv": ".csv", "parquet": ".parquet"}


def batch_name(entity: str, month: str | None, fmt: str) -> str:
    """categories.csv for master data, transactions_2024-01.csv for monthly batches."""
    return f"{entity}{'' if month is None else '_' + month}{SUFFIX[fmt]}"


def clear_entity_dir(out_dir: Path, entity: str) -> Path:
    """Create <out>/<entity> and remove files this generator wrote there before (any format).

    Only names the generator produces are touched, so files dropped in by hand survive.
    """
    folder = out_dir / entity
    folder.mkdir(parents=True, exist_ok=True)
    own = re.compile(rf"^\.?{re.escape(entity)}(_\d{{4}}-\d{{2}})?\.(csv|parquet)(\.tmp)?$")
    for path in sorted(folder.iterdir()):
        if path.is_file() and own.match(path.name):
            path.unlink()
    return folder


def format_column(arr: pa.Array | pa.ChunkedArray) -> pa.Array:
    """The contract's text form of a native column (nulls stay null, written as empty strings)."""
    arr = arr.combine_chunks() if isinstance(arr, pa.ChunkedArray) else arr
    typ = arr.type
    if pa.types.is_string(typ):
        return arr
    if pa.types.is_timestamp(typ):
        # Whole seconds only; Arrow's cast gives "YYYY-MM-DD HH:MM:SS", ISO-8601 wants the T.
        text = pc.cast(arr.cast(pa.timestamp("s")), pa.string())
        return pc.utf8_replace_slice(text, 10, 11, "T")
    if pa.types.is_floating(typ):
        # Round to 4 decimals; Arrow then prints the shortest round-trip form (12.5, 0.0001).
        values = arr.to_numpy(zero_copy_only=False)
        rounded = pa.array(np.round(values, 4), pa.float64(), mask=arr.is_null().to_numpy(False))
        return pc.cast(rounded, pa.string())
    return pc.cast(arr, pa.string())


def to_text(table: pa.Table) -> pa.Table:
    return pa.Table.from_arrays(
        [format_column(table.column(i)) for i in range(table.num_columns)],
        names=table.column_names,
    )


def _write_csv(table: pa.Table, path: Path) -> None:
    text = to_text(table)
    with path.open("wb") as fh:
        # Header written by hand: Arrow would quote the names.
        fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
        try:
            pcsv.write_csv(text, fh, pcsv.WriteOptions(include_header=False, quoting_style="none"))
        except pa.ArrowInvalid:
            # Some value holds a comma, quote or newline: quote (all) strings instead.
            fh.seek(0)
            fh.truncate()
            fh.write((",".join(table.column_names) + "\n").encode("utf-8"))
            pcsv.write_csv(
                text, fh, pcsv.WriteOptions(include_header=False, quoting_style="needed")
            )


def write_batch(folder: Path, name: str, table: pa.Table, fmt: str) -> int:
    """Write atomically (temp file + rename) so a watcher never sees half a batch; returns bytes."""
    final = folder / name
    tmp = folder / f".{name}.tmp"
    if fmt == "csv":
        _write_csv(table, tmp)
    else:
        # Built from Arrow arrays (no pandas metadata); all writer options pinned for stable bytes.
        pq.write_table(
            table.replace_schema_metadata(None),
            tmp,
            compression="zstd",
            use_dictionary=True,
            write_statistics=True,
            row_group_size=1 << 20,
        )
    os.replace(tmp, final)
    return final.stat().st_size
