"""Number formats for tiles: short enough to fit a sixth of a wide page."""

from __future__ import annotations

import math


def compact(value: float, prefix: str = "") -> str:
    """1,234 stays exact; 134,567 -> 134.6K; 10,312,000 -> 10.3M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e5, "K")):
        if magnitude >= limit:
            scale = limit if suffix != "K" else 1e3
            return f"{prefix}{value / scale:,.1f}{suffix}"
    return f"{prefix}{value:,.0f}"


def money(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None or value != value else f"${value:,.{digits}f}"


def percent(share: float | None, digits: int = 1) -> str:
    """A share (0.0123) as a percentage (1.2%)."""
    return "n/a" if share is None or share != share else f"{share * 100:,.{digits}f}%"


def number(value: float | None, digits: int = 0) -> str:
    return "n/a" if value is None or value != value else f"{value:,.{digits}f}"


def times(value: float | None) -> str:
    """A turnover (8.25) as 8.3x."""
    return "n/a" if value is None or value != value else f"{value:,.1f}x"


# Plotly axis formats, so every chart spells units the same way.
AXIS_MONEY = {"tickprefix": "$", "tickformat": ",.0f"}
AXIS_PERCENT = {"tickformat": ".1%"}
AXIS_UNITS = {"tickformat": ",~g"}  # 12,000 and 0.5 alike, never 1 twice
# Streamlit column formats for st.column_config.NumberColumn.
COLUMN_MONEY = "dollar"
COLUMN_UNITS = "localized"


def count_axis(largest: float) -> dict:
    """Whole-number ticks for a count axis (never 0.5 alerts), about five of them."""
    step = max(1, math.ceil(largest / 5)) if largest == largest else 1
    return {"tickformat": ",d", "dtick": step, "rangemode": "tozero"}
