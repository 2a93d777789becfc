"""`partsflow bench policy`: the static thresholds vs. PartsFlow's policy on the generator's truth.

The data set is a generator preset re-run in memory (orchestration/generator/truth.py): the
held-out period's demand is the demand the generator drew (including what the static policy lost
to stock-outs), the static policy is the generator's own (reorder threshold, order-up-to level),
and the history PartsFlow forecasts from is what the ledger recorded (served issues).

The issue's targets, versus static: at least 90% fewer stock-out incidents and at least 35% lower
carrying cost at an equal or higher fill rate; the report says which are met and, in any case,
prints the service-level curve and where the static policy sits on it.
"""

from __future__ import annotations

import os
import time
from datetime import timedelta
from typing import Any

import numpy as np
from tqdm import tqdm

from ml.replenishment.comparison import (
    Comparison,
    compare,
    reduction,
    simulated_days,
    static_on_curve,
)
from ml.replenishment.reviewed import PolicySettings
from ml.replenishment.scenario import LeadTimes, Scenario
from orchestration.generator import PRESETS, GeneratorConfig
from orchestration.generator.truth import GeneratorTruth, held_out_truth


def scenario_from_truth(config: GeneratorConfig, truth: GeneratorTruth) -> Scenario:
    """The pairs still active on the first held-out day, as a Scenario."""
    s = truth.start_day
    keep = np.flatnonzero(truth.active[s])
    index = np.full(len(truth.part), -1, dtype=np.int64)
    index[keep] = np.arange(len(keep))
    open_ok = index[truth.open_pair] >= 0
    return Scenario(
        start=config.start + timedelta(days=s),
        history=truth.served[:s, keep].astype(float),
        demand=truth.demand[s:, keep].astype(np.int64),
        active=truth.active[s:, keep],
        on_hand=truth.on_hand[keep],
        open_series=index[truth.open_pair[open_ok]],
        open_arrival=truth.open_arrival[open_ok] - s,
        open_qty=truth.open_qty[open_ok],
        unit_cost=truth.unit_cost[keep],
        part=truth.part[keep],
        supplier=truth.supplier[keep],
        location=truth.location[keep],
        reorder_point=truth.reorder_point[keep],
        order_up_to=truth.order_up_to[keep],
        lead_times=LeadTimes(
            part=truth.po_part,
            supplier=truth.po_supplier,
            received_before=truth.po_ordered + truth.po_lead < s,
            days=truth.po_lead,
        ),
    )


def preset(scale: str) -> GeneratorConfig:
    if scale not in PRESETS:
        raise ValueError(f"unknown scale {scale!r}; presets: {', '.join(PRESETS)}")
    return PRESETS[scale]


def generator_scenario(config: GeneratorConfig, holdout_days: int) -> Scenario:
    return scenario_from_truth(config, held_out_truth(config, holdout_days))


INCIDENT_TARGET = 0.90  # at least 90% fewer stock-out incidents
COST_TARGET = 0.35  # at least 35% lower carrying cost


def run_comparison(
    scenario: Scenario, settings: PolicySettings, seed: int, warmup_days: int, label: str
) -> Comparison:
    """`compare` with a progress bar over every simulated day of every run."""
    with tqdm(total=simulated_days(scenario), desc=label, unit="day", leave=False) as bar:
        return compare(
            scenario, settings, seed, on_day=lambda _d: bar.update(1), warmup_days=warmup_days
        )


def bench_policy(
    scale: str = "demo",
    holdout_days: int = 182,
    seed: int = 0,
    review_days: int = 7,
    warmup_days: int = 0,
    config: GeneratorConfig | None = None,
    levels: dict[str, float] | None = None,
) -> dict[str, Any]:
    """Static vs. PartsFlow on a preset's held-out period; the numbers behind format_report.

    `config` replaces the preset (the data set is then called "custom"); `levels` the cycle
    service levels per ABC class."""
    started = time.perf_counter()
    name = scale if config is None else "custom"
    config = config or preset(scale)
    scenario = generator_scenario(config, holdout_days)
    built = time.perf_counter()
    settings = PolicySettings(review_days=review_days)
    if levels is not None:
        settings = PolicySettings(review_days=review_days, service_levels=levels)
    comparison = run_comparison(scenario, settings, seed, warmup_days, f"simulating {name}")
    return {
        "data": f"generator data set {name!r} ({config.parts} parts x {config.locations} "
        f"locations x {config.days} days, seed {config.seed}); demand = the generator's truth",
        "scenario": scenario,
        "comparison": comparison,
        "scenario_seconds": built - started,
        "simulation_seconds": time.perf_counter() - built,
        "loadavg": os.getloadavg(),
    }


def _money(x: float) -> str:
    return f"{x:,.0f}"


def comparison_lines(scenario: Scenario, comparison: Comparison) -> list[str]:
    """The table of runs, PartsFlow vs. static, per class, and static's place on the curve."""
    s = comparison.settings
    end = scenario.start + timedelta(days=scenario.days - 1)
    counted = f"from day {comparison.warmup_days} on" if comparison.warmup_days else "every day"
    levels = "/".join(f"{k}{v:.1%}".replace(".0%", "%") for k, v in s.service_levels.items())
    lines = [
        f"held-out period {scenario.start} .. {end} ({scenario.days} days, metrics: {counted}), "
        f"{scenario.series} part-locations; review every {s.review_days} days, forecast window "
        f"{s.window_days} days; ordering cost {s.ordering_cost:g}/order, holding rate "
        f"{s.holding_rate:g}/year; lead times drawn with seed {comparison.seed}",
        "",
        f"{'run':12s} {'service level':>14s} {'fill rate':>9s} {'stock-out days':>14s} "
        f"{'incidents':>9s} {'avg inventory value':>19s} {'carrying cost/yr':>16s} {'orders':>8s}",
    ]
    for r in comparison.runs:
        m = r.overall
        level = "static" if r.policy == "static" else levels
        level = f"{r.service_level:.1%}" if r.service_level is not None else level
        lines.append(
            f"{r.scenario:12s} {level:>14s} {m.fill_rate:9.2%} {m.stockout_days:14,d} "
            f"{m.stockout_incidents:9,d} {_money(m.avg_inventory_value):>19s} "
            f"{_money(m.carrying_cost):>16s} {m.orders:8,d}"
        )
    static, ours = comparison.run("static"), comparison.run("partsflow")
    inc = reduction(ours.overall.stockout_incidents, static.overall.stockout_incidents)
    cost = reduction(ours.overall.carrying_cost, static.overall.carrying_cost)
    fill = ours.overall.fill_rate - static.overall.fill_rate
    lines += [
        "",
        f"PartsFlow ({levels}) vs static: stock-out incidents {-inc:+.1%} "
        f"(target -{INCIDENT_TARGET:.0%}: {'met' if inc >= INCIDENT_TARGET else 'not met'}), "
        f"carrying cost {-cost:+.1%} (target -{COST_TARGET:.0%}: "
        f"{'met' if cost >= COST_TARGET else 'not met'}), fill rate {fill * 100:+.2f} pt "
        f"(target >= 0: {'met' if fill >= 0 else 'not met'}), orders "
        f"{-reduction(ours.overall.orders, static.overall.orders):+.1%}",
    ]
    for cls in ("A", "B", "C"):
        a, b = static.scopes[cls], ours.scopes[cls]
        lines.append(
            f"  class {cls} ({a.series} series): fill {a.fill_rate:.2%} -> {b.fill_rate:.2%}, "
            f"incidents {a.stockout_incidents:,d} -> {b.stockout_incidents:,d}, carrying cost "
            f"{_money(a.carrying_cost)} -> {_money(b.carrying_cost)}, orders {a.orders:,d} -> "
            f"{b.orders:,d}"
        )
    curve = static_on_curve(comparison)
    if np.isnan(curve["service_level"]):
        lines.append(
            f"static's fill rate {curve['fill_rate']:.2%} is outside the curve's range: "
            "no point of equal fill rate"
        )
    else:
        lines.append(
            f"static on the curve: PartsFlow's policy reaches static's fill rate "
            f"{curve['fill_rate']:.2%} at a service level of {curve['service_level']:.1%} with "
            f"carrying cost {_money(curve['carrying_cost'])} "
            f"({-reduction(curve['carrying_cost'], static.overall.carrying_cost):+.1%}) and "
            f"{curve['stockout_incidents']:,.0f} stock-out incidents "
            f"({-reduction(curve['stockout_incidents'], static.overall.stockout_incidents):+.1%})"
        )
    return lines


def format_report(result: dict[str, Any]) -> str:
    lines = [f"policy benchmark: {result['data']}"]
    lines += comparison_lines(result["scenario"], result["comparison"])
    lines.append(
        f"scenario {result['scenario_seconds']:.1f} s, simulation "
        f"{result['simulation_seconds']:.1f} s ({len(result['comparison'].runs)} runs), "
        f"load average {result['loadavg'][0]:.2f} (2 cores shared; timings are noisy)"
    )
    return "\n".join(lines)
