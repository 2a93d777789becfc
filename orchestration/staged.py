"""Materializing a selection in the refresh's stages (defs/jobs.py), in order.

Used by `partsflow materialize`, the benchmarks and the tests: the ingest assets for one new
landing drop of every landing file present (so everything new loads, as before drops), the
unpartitioned assets the location groups read, then one run per location group (on an instance,
several at once in processes of their own: `on_instance`), then the assets reading every group.
A stage that fails stops the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from functools import partial
from multiprocessing import get_context

import dagster as dg

from orchestration import env
from orchestration.defs.ingest.drops import register_now
from orchestration.defs.jobs import GROUPED, INGEST, PUBLISH
from orchestration.defs.partitions import location_groups

Execute = Callable[[list[dg.AssetKey], str | None], dg.ExecuteInProcessResult]
Run = tuple[list[dg.AssetKey], str | None]
# Runs side by side: (asset keys, location group) of each -> their results, in the same order.
ExecuteGroups = Callable[[list[Run]], list]


# The partition of the ingest run in a plan: a drop registered when that run starts.
NEW_DROP = "<new landing drop>"


def plan(graph, keys: Iterable[dg.AssetKey]) -> list[Run]:
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
            e.event_specific_data.materialization
            for e in self.get_asset_materialization_events()
            if e.node_name == node
        ]


@dataclass
class StoredRun:
    """A run another process executed, read back from the instance's storage."""

    instance: dg.DagsterInstance
    run_id: str

    @property
    def success(self) -> bool:
        run = self.instance.get_run_by_id(self.run_id)
        return run is not None and run.status == dg.DagsterRunStatus.SUCCESS

    @property
    def all_events(self) -> list[dg.DagsterEvent]:
        logs = self.instance.all_logs(self.run_id)
        return [entry.dagster_event for entry in logs if entry.is_dagster_event]

    def get_asset_materialization_events(self) -> list[dg.DagsterEvent]:
        return [e for e in self.all_events if e.is_step_materialization]


def in_process(job: dg.JobDefinition, instance: dg.DagsterInstance, **kwargs) -> Execute:
    """Runs of the job in this process on the instance (kwargs: execute_in_process's)."""

    def execute(keys: list[dg.AssetKey], group: str | None) -> dg.ExecuteInProcessResult:
        return job.execute_in_process(
            instance=instance, asset_selection=keys, partition_key=group, **kwargs
        )

    return execute


def _run_group(keys: list[str], group: str) -> str:
    """One location group's run of the asset job, in a worker process; its run id."""
    from orchestration.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    with dg.DagsterInstance.get() as instance:
        execute = in_process(job, instance, raise_on_error=False)
        return execute([dg.AssetKey.from_user_string(k) for k in keys], group).run_id


def in_processes(instance: dg.DagsterInstance, workers: int) -> ExecuteGroups | None:
    """Group runs of the asset job, `workers` at a time, each in a process of its own on the
    instance (DAGSTER_HOME): one group computes while another reads or writes the warehouse.
    None for one worker: the runs then stay in this process, one after the other."""
    if workers < 2:
        return None

    def execute_groups(runs: list[Run]) -> list[StoredRun]:
        spawn = get_context("spawn")  # no inherited warehouse connection or Dagster state
        with ProcessPoolExecutor(min(workers, len(runs)), mp_context=spawn) as pool:
            futures = [
                pool.submit(_run_group, [k.to_user_string() for k in keys], group)
                for keys, group in runs
            ]
            return [StoredRun(instance, f.result()) for f in futures]

    return execute_groups


def run_stages(
    graph,
    keys: Iterable[dg.AssetKey],
    execute: Execute,
    new_drop: Callable[[], str],
    execute_groups: ExecuteGroups | None = None,
) -> Staged:
    """Each run of plan(graph, keys) through `execute`, until one fails; `new_drop` registers
    the ingest run's drop (drops.register_now) and returns its key. With `execute_groups`, the
    location groups' runs go to it together instead (they are independent of each other)."""
    staged, runs = Staged(), plan(graph, keys)
    groups = set(location_groups.get_partition_keys())
    while runs:
        run_keys, partition = runs.pop(0)
        if execute_groups is not None and partition in groups:
            batch = [(run_keys, partition)]
            while runs and runs[0][1] in groups:
                batch.append(runs.pop(0))
            staged.results += execute_groups(batch)
        else:
            key = new_drop() if partition == NEW_DROP else partition
            staged.results.append(execute(run_keys, key))
        if not staged.success:
            break
    return staged


def on_instance(
    graph, keys: Iterable[dg.AssetKey], instance: dg.DagsterInstance, **kwargs
) -> Staged:
    """The runs of `partsflow materialize` on the instance (DAGSTER_HOME): a new drop of the
    landing zone, then the stages, the location groups PARTSFLOW_GROUP_RUNS at a time
    (kwargs: execute_in_process's)."""
    from orchestration.definitions import defs

    job = defs.resolve_implicit_global_asset_job_def()
    return run_stages(
        graph,
        keys,
        in_process(job, instance, **kwargs),
        partial(register_now, instance, env.landing_dir()),
        in_processes(instance, env.group_runs()),
    )
