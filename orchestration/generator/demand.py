"""Calendar, stocked part-location pairs and the daily demand model.

Each pair gets a target demand pattern (Syntetos-Boylan: smooth, erratic, intermittent, lumpy)
set by two knobs: the daily probability of any demand (ADI ~ 1/p) and the spread of the order
sizes (CV²). Weekly and yearly seasonality, a trend, public holidays and the location size
modulate both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import holidays
import numpy as np

from orchestration.generator.master import Master

PATTERNS = ("smooth", "erratic", "intermittent", "lumpy")
PATTERN_SHARES = (0.17, 0.12, 0.43, 0.28)
ADI_CUT = 1.32
CV2_CUT = 0.49

# Weekly profile, Monday..Sunday. Frequent sellers keep selling at weekends (smaller orders), slow
# movers rarely see a weekend order at all.
WEEKLY_OCC_FREQUENT = np.array([1.0, 1.0, 1.0, 1.0, 1.0, 0.93, 0.85])
WEEKLY_OCC_SLOW = np.array([1.0, 1.05, 1.05, 1.0, 0.95, 0.55, 0.35])
WEEKLY_SIZE = np.array([1.1, 1.05, 1.05, 1.0, 1.0, 0.7, 0.5])
HOLIDAY_OCC = 0.3
HOLIDAY_SIZE = 0.6


@dataclass(frozen=True)
class Calendar:
    start: date
    days: int
    epoch_day: np.ndarray  # days since 1970-01-01
    dow: np.ndarray  # 0 = Monday
    doy: np.ndarray  # day of year, 1-based
    month_key: list[str]  # "YYYY-MM" per day
    holiday: np.ndarray  # bool [days, locations]


def build_calendar(start: date, days: int, countries: tuple[str, ...]) -> Calendar:
    dates = [start + timedelta(days=d) for d in range(days)]
    years = list(range(start.year, dates[-1].year + 1))
    by_country: dict[str, np.ndarray] = {}
    for country in sorted(set(countries)):
        cal = holidays.country_holidays(country, years=years)
        by_country[country] = np.array([d in cal for d in dates], dtype=bool)
    holiday = np.stack([by_country[c] for c in countries], axis=1)
    return Calendar(
        start=start,
        days=days,
        epoch_day=np.array([(d - date(1970, 1, 1)).days for d in dates], dtype=np.int64),
        dow=np.array([d.weekday() for d in dates], dtype=np.int64),
        doy=np.array([d.timetuple().tm_yday for d in dates], dtype=np.int64),
        month_key=[f"{d.year:04d}-{d.month:02d}" for d in dates],
        holiday=holiday,
    )


def choose_pairs(rng: np.random.Generator, master: Master) -> tuple[np.ndarray, np.ndarray]:
    """Which locations stock which part: warehouses carry most of the range, service centers less.

    Returns (part index, location index) sorted by part then location, so a part's pairs are
    contiguous (the transfer logic relies on that).
    """
    n_parts = len(master.part_cost)
    n_locs = len(master.loc_is_warehouse)
    # Popular parts are stocked more widely; on average a part is at ~40-45% of the locations.
    breadth = np.clip(rng.beta(2.0, 3.0, n_parts) + 0.05, 0.05, 1.0)
    p = breadth[:, None] * np.where(master.loc_is_warehouse, 1.35, 0.85)[None, :]
    stocked = rng.random((n_parts, n_locs)) < np.clip(p, 0.0, 0.98)
    # Every part is stocked somewhere (preferably a warehouse).
    empty = ~stocked.any(axis=1)
    wh = np.flatnonzero(master.loc_is_warehouse)
    stocked[np.flatnonzero(empty), wh[rng.integers(0, len(wh), int(empty.sum()))]] = True
    part, loc = np.nonzero(stocked)  # row-major: sorted by part, then location
    return part.astype(np.int64), loc.astype(np.int64)


class DemandModel:
    """Per-pair demand parameters and the vectorised draw of one day's demand."""

    def __init__(
        self,
        rng: np.random.Generator,
        master: Master,
        cal: Calendar,
        pair_part: np.ndarray,
        pair_loc: np.ndarray,
    ) -> None:
        n = len(pair_part)
        self.cal = cal
        self.pair_loc = pair_loc
        # Pattern: mostly a property of the part, sometimes different at one location.
        part_pattern = rng.choice(4, len(master.part_cost), p=PATTERN_SHARES)
        pattern = part_pattern[pair_part]
        redraw = rng.random(n) < 0.2
        pattern[redraw] = rng.choice(4, int(redraw.sum()), p=PATTERN_SHARES)
        self.pattern = pattern
        self.frequent = pattern <= 1  # smooth, erratic
        self.spread = (pattern == 1) | (pattern == 3)  # erratic, lumpy: high CV²

        scale = master.loc_scale[pair_loc]
        popularity = rng.lognormal(0.0, 0.5, len(master.part_cost))[pair_part]
        cheapness = (master.part_cost[pair_part] / 35.0) ** -0.2
        # Probability of a demand day. Frequent: ADI 1.0-1.15; slow movers: ADI ~2-30, and busier
        # locations see demand more often.
        adi = np.exp(rng.uniform(np.log(1.9), np.log(30.0), n)) / np.sqrt(scale)
        self.p_base = np.where(
            self.frequent, rng.uniform(0.9, 0.99, n), 1.0 / np.clip(adi, 1.9, 60.0)
        )
        # Mean order size on a demand day.
        base = popularity * cheapness * scale
        self.size = np.where(
            self.frequent, 2.0 + 10.0 * base, np.where(self.spread, 2.5 + 3.0 * base, 1.0 + base)
        )
        self.sigma = rng.uniform(0.95, 1.3, n)  # log-sd of erratic / lumpy sizes

        self.amp = rng.uniform(0.05, 0.3, n)
        # Parts of one top category peak around the same time of year (cooling in summer,
        # batteries in winter), so seasonality survives aggregation; the south is half a year off.
        top_peak = rng.uniform(0.0, 365.25, int(master.part_top.max()) + 1)
        peak = top_peak[master.part_top[pair_part]] + rng.normal(0.0, 30.0, n)
        peak += np.where(master.loc_south[pair_loc], 182.6, 0.0)
        self.cos_peak = self.amp * np.cos(2 * np.pi * peak / 365.25)
        self.sin_peak = self.amp * np.sin(2 * np.pi * peak / 365.25)
        self.slope = np.clip(rng.normal(0.02, 0.06, n), -0.12, 0.15)  # log growth per year

    def expected(self) -> tuple[np.ndarray, np.ndarray]:
        """Mean and variance of one day's demand per pair (no trend/season), for the policy."""
        occ = np.where(self.frequent, WEEKLY_OCC_FREQUENT.mean(), WEEKLY_OCC_SLOW.mean())
        p = np.clip(self.p_base * occ, 0.0, 1.0)
        m = self.size * WEEKLY_SIZE.mean()
        second = np.where(self.spread, m**2 * np.exp(self.sigma**2), (m - 1.0) + m**2)
        mean = p * m
        return mean, np.maximum(p * second - mean**2, mean)

    def draw(self, rng: np.random.Generator, d: int, active: np.ndarray) -> tuple[np.ndarray, ...]:
        """Demand of day d: (pair indices with demand, quantities). `active` masks live pairs."""
        cal = self.cal
        angle = 2 * np.pi * cal.doy[d] / 365.25
        season = 1.0 + self.cos_peak * np.cos(angle) + self.sin_peak * np.sin(angle)
        level = season * np.exp(self.slope * d / 365.0)
        hol = cal.holiday[d][self.pair_loc]
        # Frequent sellers: season and trend change order sizes, not how often demand occurs,
        # so they stay "smooth"/"erratic"; slow movers also see fewer/more demand days.
        p = np.where(
            self.frequent,
            self.p_base * WEEKLY_OCC_FREQUENT[cal.dow[d]],
            np.minimum(self.p_base * WEEKLY_OCC_SLOW[cal.dow[d]] * np.sqrt(level), 0.75),
        )
        p = np.where(hol, p * HOLIDAY_OCC, p)
        idx = np.flatnonzero((rng.random(len(p)) < p) & active)
        mean = self.size[idx] * level[idx] * WEEKLY_SIZE[cal.dow[d]]
        mean = np.where(hol[idx], mean * HOLIDAY_SIZE, mean)
        qty = np.empty(len(idx), dtype=np.int64)
        wide = self.spread[idx]
        # Low spread: 1 + Poisson keeps CV² well below 0.49; high spread: lognormal sizes.
        lam = np.maximum(mean[~wide] - 1.0, 0.0)
        qty[~wide] = 1 + rng.poisson(lam)
        sig = self.sigma[idx][wide]
        raw = rng.lognormal(np.log(mean[wide]) - sig**2 / 2, sig)
        qty[wide] = np.ceil(np.minimum(raw, 60.0 * mean[wide])).astype(np.int64)
        return idx, qty


def classify(
    issue_days: np.ndarray, qty_sum: np.ndarray, qty_sq: np.ndarray, days: int
) -> np.ndarray:
    """Syntetos-Boylan class per pair (index into PATTERNS) from served ISSUE quantities.

    ADI = days in the horizon / days with demand; CV² = population variance / mean² of the non-zero
    daily quantities. Compared in exact integer arithmetic so any re-computation from the files
    lands on the same side of the cuts. -1 = no demand at all.
    """
    n = issue_days.astype(np.int64)
    total = qty_sum.astype(np.int64)
    # CV² < 0.49  <=>  100 * (n * sum(q²) - sum(q)²) < 49 * sum(q)²
    low_cv2 = 100 * (n * qty_sq.astype(np.int64) - total**2) < 49 * total**2
    # ADI < 1.32  <=>  100 * days < 132 * n
    frequent = 100 * days < 132 * n
    cls = np.where(frequent, np.where(low_cv2, 0, 1), np.where(low_cv2, 2, 3))
    return np.where(n > 0, cls, -1)
