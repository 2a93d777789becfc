"""The static thresholds vs. PartsFlow's policy on one scenario, and the service-level sweep.

Every run replays the same demand, starting stock and lead-time draws (one seed), so the
differences are the policies'. Rows per run: all series and each ABC class (as of the period
start).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ml.replenishment.reviewed import PolicySettings, partsflow_levels
from ml.replenishment.scenario import Scenario
from ml.replenishment.simulate import Metrics, metrics, simulate, static_levels

SWEEP_LEVELS = (0.80, 0.85, 0.90, 0.95, 0.975, 0.99, 0.995)
SCOPES = ("all", "A", "B", "C")


@dataclass(frozen=True)
class Run:
    scenario: str  # 'static', 'partsflow' (class service levels) or 'sweep_0.950'
    policy: str  # 'static' or 'partsflow'
    service_level: float | None  # the one level of a sweep run; None: static / per class
    scopes: dict[str, Metrics]  # 'all', 'A', 'B', 'C'

    @property
    def overall(self) -> Metrics:
        return self.scopes["all"]


@dataclass(frozen=True)
class Comparison:
    settings: PolicySettings
    seed: int
    days: int
    warmup_days: int  # simulated, not counted in the metrics
    runs: list[Run]

    def run(self, scenario: str) -> Run:
        return next(r for r in self.runs if r.scenario == scenario)

    @property
    def sweep(self) -> list[Run]:
        return [r for r in self.runs if r.scenario.startswith("sweep_")]


def compare(
    scenario: Scenario,
    settings: PolicySettings | None = None,
    seed: int = 0,
    sweep_levels: Sequence[float] = SWEEP_LEVELS,
    on_day: Callable[[int], None] | None = None,
    warmup_days: int = 0,
) -> Comparison:
    """Static, PartsFlow with its class service levels, then one PartsFlow run per sweep level.

    `on_day` is called after every simulated day of every run (progress bars). The metrics
    leave out the first `warmup_days` days (0: the whole period counts, including the switch
    from the static policy's stock and orders in flight to PartsFlow's levels).
    """
    settings = settings or PolicySettings()
    replay = scenario.replay(seed)
    abc = scenario.abc_class()
    masks = {"all": None, **{c: abc == c for c in SCOPES[1:]}}

    def run(name: str, policy: str, level: float | None) -> Run:
        if policy == "static":
            levels = static_levels(scenario.reorder_point, scenario.order_up_to)
            outcome = simulate(replay, levels, None, on_day)
        else:
            levels = partsflow_levels(scenario, settings, level)
            outcome = simulate(replay, levels, settings.review_days, on_day)
        scopes = {
            k: metrics(replay, outcome, settings.holding_rate, m, warmup_days)
            for k, m in masks.items()
        }
        return Run(name, policy, level, scopes)

    runs = [run("static", "static", None), run("partsflow", "partsflow", None)]
    runs += [run(f"sweep_{lv:.3f}", "partsflow", lv) for lv in sweep_levels]
    return Comparison(settings, seed, scenario.days, warmup_days, runs)


def simulated_days(scenario: Scenario, sweep_levels: Sequence[float] = SWEEP_LEVELS) -> int:
    """How many days `compare` simulates (the length of its progress bar)."""
    return scenario.days * (2 + len(sweep_levels))


def reduction(new: float, old: float) -> float:
    """1 - new / old (NaN when old is 0): 0.9 = 90% less."""
    return 1.0 - new / old if old else float("nan")


def static_on_curve(comparison: Comparison) -> dict[str, float]:
    """Where the static policy sits on the sweep: the service level at which PartsFlow's fill
    rate equals static's (linear between sweep points), and the curve's carrying cost and
    stock-out incidents there. NaN when static's fill rate is outside the curve."""
    static = comparison.run("static").overall
    pts = sorted(comparison.sweep, key=lambda r: r.overall.fill_rate)
    fill = np.array([r.overall.fill_rate for r in pts])
    out = {"fill_rate": static.fill_rate}
    if len(pts) < 2 or not fill[0] <= static.fill_rate <= fill[-1]:
        return out | dict.fromkeys(("service_level", "carrying_cost", "stockout_incidents"), np.nan)
    for key, values in (
        ("service_level", [r.service_level for r in pts]),
        ("carrying_cost", [r.overall.carrying_cost for r in pts]),
        ("stockout_incidents", [r.overall.stockout_incidents for r in pts]),
    ):
        out[key] = float(np.interp(static.fill_rate, fill, np.asarray(values, dtype=float)))
    return out


def to_frame(comparison: Comparison) -> pd.DataFrame:
    """One row per run and scope, with the changes against the static run of the same scope:
    incident and carrying-cost reduction (1 - run / static; NaN when static has none) and the
    fill-rate difference (run - static)."""
    static = comparison.run("static").scopes
    rows = []
    for r in comparison.runs:
        for scope, m in r.scopes.items():
            rows.append(
                {
                    "scenario": r.scenario,
                    "policy": r.policy,
                    "service_level": r.service_level,
                    "abc_class": scope,
                    **asdict(m),
                    "incident_reduction": reduction(
                        m.stockout_incidents, static[scope].stockout_incidents
                    ),
                    "carrying_cost_reduction": reduction(
                        m.carrying_cost, static[scope].carrying_cost
                    ),
                    "fill_rate_change": m.fill_rate - static[scope].fill_rate,
                }
            )
    frame = pd.DataFrame(rows)
    frame["service_level"] = frame["service_level"].astype(float)
    return frame
