"""Generator settings and the named size presets the CLI offers."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

FORMATS = ("csv", "parquet")


@dataclass(frozen=True)
class GeneratorConfig:
    """What to generate. Same config (including seed) gives byte-identical files."""

    parts: int
    locations: int
    days: int
    start: date = date(2024, 1, 1)
    seed: int = 42
    fmt: str = "csv"
    dirty_rate: float = 0.0

    def __post_init__(self) -> None:
        # Fail early with a readable message instead of deep inside numpy.
        if self.parts < 1 or self.locations < 1 or self.days < 1:
            raise ValueError("parts, locations and days must all be >= 1")
        if self.fmt not in FORMATS:
            raise ValueError(f"fmt must be one of {FORMATS}, got {self.fmt!r}")
        if not 0.0 <= self.dirty_rate <= 1.0:
            raise ValueError(f"dirty_rate must be in [0, 1], got {self.dirty_rate}")
        if not isinstance(self.start, date):
            raise ValueError("start must be a datetime.date")

    @property
    def end(self) -> date:
        """The last simulated day (inclusive)."""
        return self.start + timedelta(days=self.days - 1)


PRESETS: dict[str, GeneratorConfig] = {
    "demo": GeneratorConfig(parts=300, locations=8, days=730),
    # Three years that end in the past (2025-12-31): later days would be future timestamps.
    "m": GeneratorConfig(parts=2000, locations=20, days=1095, start=date(2023, 1, 1)),
    "l": GeneratorConfig(parts=10000, locations=50, days=1095, start=date(2023, 1, 1)),
}
