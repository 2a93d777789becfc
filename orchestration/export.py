"""`partsflow export`: the planners' tables written to CSV, Excel or Parquet files."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from orchestration import env
from orchestration.warehouse import connect, qualified

FORMATS = ("csv", "xlsx", "parquet")
RECOMMENDATIONS = ("ml", "fct_reorder_recommendations")
# order_now first, then order_soon, then ok; within a status the earliest order date first.
STATUS_ORDER = "case status when 'order_now' then 0 when 'order_soon' then 1 else 2 end"


class ExportError(ValueError):
    """A missing table or an unusable option: the CLI prints it and exits with code 2."""


def read_recommendations(warehouse: env.Warehouse, location: str | None = None) -> pd.DataFrame:
    """ml.fct_reorder_recommendations (optionally one location), most urgent first."""
    schema, table = RECOMMENDATIONS
    missing = ExportError(
        f"{schema}.{table} does not exist in the warehouse: materialize {schema}/{table} first "
        "(partsflow materialize --select 'group:replenishment', after the marts and forecasts)"
    )
    if warehouse.is_duckdb and not warehouse.duckdb_path.exists():
        raise missing
    with connect(warehouse, read_only=warehouse.is_duckdb) as conn:
        if not conn.table_exists(schema, table):
            raise missing
        where, params = ("where location_id = ?", (location,)) if location else ("", ())
        frame = conn.query_df(
            f"select * from {qualified(schema, table)} {where} order by {STATUS_ORDER}, "
            "suggested_order_date nulls last, location_id, part_id",
            params,
        )
        if location and frame.empty:
            known = [
                r[0]
                for r in conn.fetchall(
                    f"select distinct location_id from {qualified(schema, table)}"
                )
            ]
            listed = ", ".join(sorted(known))
            raise ExportError(
                f"--location {location!r} has no recommendations; locations: {listed}"
            )
    for col in ("as_of_date", "projected_stockout_date", "suggested_order_date"):
        frame[col] = pd.to_datetime(frame[col]).dt.date
    return frame


def check_target(out: Path, fmt: str) -> None:
    """Refuse an unknown format, a suffix that does not match it or a missing folder."""
    if fmt not in FORMATS:
        raise ExportError(f"--format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if out.suffix.lower() != f".{fmt}":
        raise ExportError(f"--out {out} must end with .{fmt} for --format {fmt}")
    if not out.parent.is_dir():
        raise ExportError(f"--out {out}: folder {out.parent} does not exist")


def write_table(frame: pd.DataFrame, out: Path, fmt: str) -> None:
    """Write `frame` to `out` as csv, xlsx (one sheet, frozen header) or parquet."""
    check_target(out, fmt)
    if fmt == "csv":
        frame.to_csv(out, index=False)
    elif fmt == "parquet":
        frame.to_parquet(out, index=False)
    else:
        with pd.ExcelWriter(out, engine="openpyxl") as writer:
            frame.to_excel(writer, sheet_name="recommendations", index=False, freeze_panes=(1, 0))
