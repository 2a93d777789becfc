"""Number formats for tiles: short enough to fit a sixth of a wide page."""

from __future__ import annotations


def compact(value: float, prefix: str = "") -> str:
    """1,234 stays exact; 134,567 -> 134.6K; 10,312,000 -> 10.3M."""
    magnitude = abs(value)
    for limit, suffix in ((1e9, "B"), (1e6, "M"), (1e5, "K")):
        if magnitude >= limit:
            scale = limit if suffix != "K" else 1e3
            return f"{prefix}{value / scale:,.1f}{suffix}"
    return f"{prefix}{value:,.0f}"
