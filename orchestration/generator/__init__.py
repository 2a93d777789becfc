"""Synthetic, deterministic landing zone for PartsFlow (all seven entities of the data contract).

    from orchestration.generator import PRESETS, GeneratorConfig, generate_landing
    summary = generate_landing(Path("data/landing"), PRESETS["demo"])

Same config (including seed) => byte-identical files. See docs in each module for the model.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path

import numpy as np

from orchestration.generator.config import PRESETS, GeneratorConfig
from orchestration.generator.demand import (
    PATTERNS,
    DemandModel,
    build_calendar,
    choose_pairs,
    classify,
)
from orchestration.generator.dirty import Injector
from orchestration.generator.ledger import MonthData
from orchestration.generator.master import build_master
from orchestration.generator.policy import build_policy
from orchestration.generator.schema import MASTER_ENTITIES, MONTHLY_ENTITIES
from orchestration.generator.simulate import Simulation
from orchestration.generator.tables import TableBuilder
from orchestration.generator.writer import batch_name, clear_entity_dir, write_batch

__all__ = ["PRESETS", "GeneratorConfig", "generate_landing"]


def generate_landing(out_dir: Path, config: GeneratorConfig, progress: bool = False) -> dict:
    """Write <out_dir>/<entity>/<batch> files for every entity and return a JSON-able summary."""
    started = time.perf_counter()
    out_dir = Path(out_dir)
    # Independent streams: changing dirty_rate (or adding a draw in one stage) leaves the others'
    # numbers untouched, so a dirty run is the clean run plus the injected rows.
    s_master, s_pairs, s_demand, s_policy, s_sim, s_dirty = np.random.SeedSequence(
        config.seed
    ).spawn(6)
    master = build_master(np.random.default_rng(s_master), config.parts, config.locations)
    cal = build_calendar(config.start, config.days, master.loc_country)
    pair_part, pair_loc = choose_pairs(np.random.default_rng(s_pairs), master)
    model = DemandModel(np.random.default_rng(s_demand), master, cal, pair_part, pair_loc)
    policy = build_policy(np.random.default_rng(s_policy), model, master, pair_part, config.days)
    injector = Injector(config.dirty_rate, np.random.default_rng(s_dirty))
    builder = TableBuilder(master, policy, pair_part, pair_loc)

    folders = {e: clear_entity_dir(out_dir, e) for e in (*MASTER_ENTITIES, *MONTHLY_ENTITIES)}
    rows = dict.fromkeys(folders, 0)
    files = dict.fromkeys(folders, 0)
    size = dict.fromkeys(folders, 0)

    def emit(entity: str, month: str | None, table) -> None:
        if table is None or table.num_rows == 0:
            return
        table = injector.inject(entity, table)
        name = batch_name(entity, month, config.fmt)
        size[entity] += write_batch(folders[entity], name, table, config.fmt)
        rows[entity] += table.num_rows
        files[entity] += 1

    for entity in MASTER_ENTITIES:
        emit(entity, None, master.tables[entity])

    def on_month(month: MonthData) -> None:
        emit("stock_levels", month.month, builder.stock_levels(month))
        emit("transactions", month.month, builder.transactions(month))
        emit("purchase_orders", month.month, builder.purchase_orders(month))

    sim = Simulation(np.random.default_rng(s_sim), master, cal, model, policy, pair_part, pair_loc)
    stats = sim.run(on_month, progress=progress)

    n_pairs = len(pair_part)
    realised = classify(stats.issue_days, stats.qty_sum, stats.qty_sq, config.days)
    counts = stats.counts
    pair_days = n_pairs * config.days
    config_dict = asdict(config)
    config_dict["start"] = config.start.isoformat()
    return {
        "config": config_dict,
        "out_dir": str(out_dir),
        "rows": rows,
        "files": files,
        "files_written": sum(files.values()),
        "bytes": sum(size.values()),
        "bytes_by_entity": size,
        "seconds": round(time.perf_counter() - started, 3),
        "pairs": n_pairs,
        "injected": injector.counts,
        "injected_total": sum(sum(r.values()) for r in injector.counts.values()),
        # Realised classes from the served ISSUE series (what the files show); "none" = no issue.
        "pattern_classes": {
            **{name: int((realised == i).sum()) for i, name in enumerate(PATTERNS)},
            "none": int((realised == -1).sum()),
        },
        "pattern_classes_intended": {
            name: int((model.pattern == i).sum()) for i, name in enumerate(PATTERNS)
        },
        "snapshot_discrepancies": counts.get("snapshot_discrepancies", 0),
        "stockout_pair_days": counts.get("stockout_pair_days", 0),
        "stockout_rate": round(counts.get("stockout_pair_days", 0) / pair_days, 6),
        "demand_units": counts.get("demand_units", 0),
        "lost_units": counts.get("lost_units", 0),
        "fill_rate": round(
            1 - counts.get("lost_units", 0) / max(counts.get("demand_units", 0), 1), 6
        ),
        "purchase_orders": {
            "created": counts.get("po_created", 0),
            "received": counts.get("po_received", 0),
            "cancelled": counts.get("po_cancelled", 0),
            "late": counts.get("po_late", 0),
        },
        "transfers": counts.get("transfers", 0),
        "returned_units": counts.get("returned_units", 0),
    }
