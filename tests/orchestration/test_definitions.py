"""The Dagster code location loads, and every asset is documented, grouped and owned."""

from __future__ import annotations

import subprocess
import sys

import dagster as dg

from orchestration import env
from orchestration.definitions import defs


def test_definitions_validate_with_the_dagster_cli():
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "dagster",
            "definitions",
            "validate",
            "-m",
            "orchestration.definitions",
        ],
        cwd=env.PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_every_asset_has_description_group_and_owner():
    graph = defs.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    assert dg.AssetKey(["raw", "transactions"]) in keys
    assert dg.AssetKey(["marts", "mart_inventory_summary"]) in keys
    assert dg.AssetKey(["ml", "forecasts"]) in keys
    assert dg.AssetKey(["serving", "dashboard_copy"]) in keys
    for key in keys:
        node = graph.get(key)
        assert node.description, f"{key} has no description"
        assert node.group_name and node.group_name != "default", f"{key} has no group"
        assert node.owners, f"{key} has no owner"


def test_dbt_sources_map_to_ingest_assets():
    graph = defs.resolve_asset_graph()
    staging = dg.AssetKey(["staging", "stg_inventory__transactions"])
    assert dg.AssetKey(["raw", "transactions"]) in graph.get(staging).parent_keys


def test_dbt_tests_are_asset_checks():
    checks = defs.resolve_asset_graph().asset_check_keys
    assert any(c.asset_key == dg.AssetKey(["marts", "fct_inventory_position"]) for c in checks)


def test_alert_models_run_after_the_replenishment_asset_in_the_publish_job():
    """Marts -> replenishment -> predicted-stockout alerts resolves without a cycle, with the dbt
    project in two steps: the marts in refresh_prepare, the alert models in refresh_publish."""
    graph = defs.resolve_asset_graph()
    history = dg.AssetKey(["ml", "stockout_prediction_history"])
    downstream = dg.AssetSelection.assets(history).downstream().resolve(graph)
    assert dg.AssetKey(["staging", "int_predicted_stockout_episodes"]) in downstream
    assert dg.AssetKey(["marts", "mart_alerts"]) in downstream
    upstream = graph.get(dg.AssetKey(["ml", "fct_reorder_recommendations"])).parent_keys
    assert dg.AssetKey(["marts", "fct_inventory_position"]) in upstream
    assert dg.AssetKey(["ml", "fct_forecasts"]) in upstream
    steps = {
        name: sorted(n.name for n in defs.resolve_job_def(name).graph.nodes if "dbt" in n.name)
        for name in ("refresh_prepare", "refresh_publish")
    }
    assert steps == {
        "refresh_prepare": ["partsflow_dbt_models"],
        "refresh_publish": ["partsflow_dbt_alert_models"],
    }
