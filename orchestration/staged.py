"""Materializing a selection in the refresh's stages (defs/jobs.py), in order, in one process.

Used by `partsflow materialize`, the benchmarks and the tests: the ingest assets for one new
landing drop of every landing file present (so everything new loads, as before drops), the
unpartitioned assets the location groups read, then one run per location group, then the assets
reading every group. A stage that fails stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

import dagster as dg

from orchestration.defs.jobs import GROUPED, INGEST, PUBLISH
from orchestration.defs.partitions import location_groups

Execute = Callable[[list[dg.AssetKey], str | None], dg.ExecuteInProcessResult]


# The partition of the ingest run in a plan: a drop registered when that run starts.
NEW_DROP = "<new landing drop>"


def plan(graph, keys: Iterable[dg.AssetKey]) -> list[tuple[list[dg.AssetKey], str | None]]:
    """(asset keys, partition key) of each run: ingest (NEW_DROP), prepare, each location group,
    publish."""
    keys = set(keys)
    ingest, grouped, publish = (s.resolve(graph) for s in (INGEST, GROUPED, PUBLISH))
    prepare = keys - ingest - grouped - publish
    runs = [(keys & ingest, NEW_DROP), (prepare, None)]
    runs += [(keys & grouped, group) for group in location_groups.get_partition_keys()]
    runs.append((keys & publish, None))
    return [(sorted(k), group) for k, group in runs if k]


@dataclass
class Staged:
    """The runs of a staged materialization, read like one ExecuteInProcessResult."""

    results: list[dg.ExecuteInProcessResult] = field(default_factory=list)

    @property
    def success(self) -> bool:
        return all(r.success for r in self.results)

    @property
    def all_events(self) -> list[dg.DagsterEvent]:
        return [e for r in self.results for e in r.all_events]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [e for r in self.results for e in r.get_asset_materialization_events()]

    def asset_materializations_for_node(self, node: str) -> list[dg.AssetMaterialization]:
        return [
            m
            for r in self.results
            if node in {n.name for n in r.job_def.graph.nodes}
            for m in r.asset_materializations_for_node(node)
        ]


def in_process(job: dg.JobDefinition, instance: dg.DagsterInstance, **kwargs) -> Execute:
    """Runs of the job in this process on the instance (kwargs: execute_in_process's)."""

    def execute(keys: list[dg.AssetKey], group: str | None) -> dg.ExecuteInProcessResult:
        return job.execute_in_process(
            instance=instance, asset_selection=keys, partition_key=group, **kwargs
        )

    return execute


def run_stages(
    graph, keys: Iterable[dg.AssetKey], execute: Execute, new_drop: Callable[[], str]
) -> Staged:
    """Each run of plan(graph, keys) through `execute`, until one fails; `new_drop` registers
    the ingest run's drop (drops.register_now) and returns its key."""
    staged = Staged()
    for run_keys, partition in plan(graph, keys):
        key = new_drop() if partition == NEW_DROP else partition
        staged.results.append(execute(run_keys, key))
        if not staged.results[-1].success:
            break
    return staged
