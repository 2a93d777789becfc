"""`partsflow bench policy` on a tiny generated data set: both policies, the ratios, the targets
and the curve, all replaying the generator's true demand."""

from __future__ import annotations

from typer.testing import CliRunner

from ml.replenishment.comparison import reduction
from orchestration.bench_policy import bench_policy, format_report
from orchestration.cli import app
from orchestration.generator import GeneratorConfig

CONFIG = GeneratorConfig(parts=40, locations=4, days=400, seed=3)


def test_report_shows_both_policies_the_ratios_and_the_curve():
    levels = {"A": 0.95, "B": 0.98, "C": 0.995}
    result = bench_policy(holdout_days=91, warmup_days=7, config=CONFIG, levels=levels)
    scenario, comparison = result["scenario"], result["comparison"]
    assert scenario.days == 91 and comparison.warmup_days == 7
    # Every run faces the same true demand (the days after the warm-up).
    demand = scenario.demand[7:].sum()
    assert {r.overall.demand_units for r in comparison.runs} == {demand}
    static, ours = comparison.run("static").overall, comparison.run("partsflow").overall
    assert 0 < static.fill_rate < 1 and static.stockout_incidents > 0
    report = format_report(result)
    assert "generator data set 'custom' (40 parts x 4 locations x 400 days, seed 3)" in report
    assert "metrics: from day 7 on" in report
    assert "PartsFlow (A95%/B98%/C99.5%) vs static" in report
    for run in ("static", "partsflow", "sweep_0.800", "sweep_0.995"):
        assert f"\n{run} " in report
    inc = reduction(ours.stockout_incidents, static.stockout_incidents)
    assert f"stock-out incidents {-inc:+.1%} (target -90%: " in report
    assert ("static on the curve:" in report) or ("outside the curve" in report)
    assert "load average" in report


def test_bench_policy_offers_the_demo_and_m_scales_only():
    result = CliRunner().invoke(app, ["bench", "policy", "--scale", "l"])
    assert result.exit_code == 2


def test_bad_service_levels_are_refused_before_any_work():
    result = CliRunner().invoke(app, ["bench", "policy", "--service-levels", "A=0.9,D=0.5"])
    assert result.exit_code == 2
    assert "expected CLASS=LEVEL" in result.output
