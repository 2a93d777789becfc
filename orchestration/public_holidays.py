"""The `public_holidays` dbt seed: national public holidays from the Python `holidays` package.

dbt-postgres has no Python models, so the holidays are written once to a CSV seed that both
warehouses load (`dbt seed` / `dbt build`). Regenerate after a `holidays` upgrade or when the
generator gains a country: `partsflow holidays` (tests/orchestration/test_public_holidays.py fails
while the committed seed differs from what the installed package produces).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

from orchestration import env
from orchestration.generator.master import COUNTRY_ORDER

SEED_PATH = env.DBT_PROJECT_DIR / "seeds" / "public_holidays.csv"
# A fixed range, so the seed does not change with the calendar; it covers every generator preset
# (they start in 2023 or 2024) with room on both sides. Days outside it count as non-holidays.
FIRST_YEAR = 2015
LAST_YEAR = 2035
HEADER = ("holiday_date", "country", "holiday_name")


def holiday_rows(
    countries: tuple[str, ...] = COUNTRY_ORDER,
    first_year: int = FIRST_YEAR,
    last_year: int = LAST_YEAR,
) -> list[tuple[str, str, str]]:
    """(ISO date, country, name) per national holiday, sorted by country then date.

    Several holidays on one day come as one row; the package joins their names with "; ".
    """
    import holidays

    rows = []
    for country in sorted(set(countries)):
        days = holidays.country_holidays(country, years=range(first_year, last_year + 1))
        rows += [(day.isoformat(), country, name) for day, name in days.items()]
    return sorted(rows, key=lambda r: (r[1], r[0]))


def seed_text(rows: list[tuple[str, str, str]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    writer.writerows(rows)
    return out.getvalue()


def write_seed(path: Path | None = None) -> int:
    """Write the seed CSV (default SEED_PATH); returns the number of holiday rows."""
    path = path or SEED_PATH
    rows = holiday_rows()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(seed_text(rows), encoding="utf-8")
    return len(rows)
