"""Landing drops: the dynamic partitions of the ingest assets.

A drop is the set of new landing files the file sensor saw in one tick (or, for `partsflow
materialize`, the nightly schedule and the tests, every landing file present at one moment). Its
key is the UTC time plus a short hash of its files, so keys sort in arrival order. Its files are
listed in a manifest `<landing>/_drops/<key>.json`, so every run of the partition (a retry, a
re-execution or a backfill from the UI) reads the same files; nothing from the data reaches SQL.

A drop's run ingests the files of every drop up to its own, drop by drop and within a drop in
name order. A batch already stored is skipped by its content hash, so this loads only what an
earlier drop whose run failed (or has not run yet) left behind: the rows are those of loading
every file one after the other in arrival order, whatever order the runs ran in.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from orchestration.contract import CONTRACT
from orchestration.defs.ingest.files import landing_files

DROPS_DIR = "_drops"
MANIFEST_VERSION = 1
KEY = re.compile(r"^\d{8}T\d{6}\.\d{6}Z-[0-9a-f]{8}$")

ingest_batches = dg.DynamicPartitionsDefinition(name="ingest_batches")

Files = Mapping[str, Iterable[str]]


def drop_key(files: Files, now: datetime | None = None) -> str:
    """`20261129T140427.123456Z-ab12cd34`: the UTC time, then a hash of the entity/file names."""
    names = "\n".join(f"{e}/{n}" for e in sorted(files) for n in sorted(files[e]))
    digest = hashlib.sha256(names.encode()).hexdigest()[:8]
    return f"{(now or datetime.now(UTC)):%Y%m%dT%H%M%S.%f}Z-{digest}"


def _manifest(landing: Path, key: str) -> Path:
    # Keys come from the UI too (a backfill, a re-execution): only our own form names a file.
    if not KEY.match(key):
        raise ValueError(f"not a landing drop key: {key!r}")
    return landing / DROPS_DIR / f"{key}.json"


def write_drop(landing: Path, files: Files, now: datetime | None = None) -> str:
    """Write a drop's manifest (atomically, by rename) and return its key."""
    listed = {e: sorted(set(names)) for e, names in files.items() if e in CONTRACT}
    key = drop_key(listed, now)
    path = _manifest(landing, key)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps({"version": MANIFEST_VERSION, "files": listed}, sort_keys=True))
    os.replace(tmp, path)
    return key


def read_drop(landing: Path, key: str) -> dict[str, list[str]]:
    """The files of a drop by entity; FileNotFoundError when its manifest is gone."""
    return {e: list(names) for e, names in _read(_manifest(landing, key)).items()}


@functools.lru_cache(maxsize=4096)
def _read(path: Path) -> dict[str, tuple[str, ...]]:
    # A manifest never changes once written, and each ingest step reads every earlier one.
    data = json.loads(path.read_text())
    return {e: tuple(names) for e, names in data["files"].items()}


def files_up_to(landing: Path, key: str, entity: str) -> list[Path]:
    """The entity's files of every drop up to `key`, in drop then name order, each once; files
    no longer in the landing zone are left out."""
    if not _manifest(landing, key).is_file():
        raise FileNotFoundError(f"no manifest of landing drop {key} in {landing / DROPS_DIR}")
    keys = sorted(p.stem for p in (landing / DROPS_DIR).glob("*.json") if KEY.match(p.stem))
    out: dict[str, Path] = {}
    for earlier in (k for k in keys if k <= key):
        for name in read_drop(landing, earlier).get(entity, []):
            path = landing / entity / name
            # A name is a plain file name of the entity's folder (manifests are ours, but a
            # hand-edited one must not reach outside it).
            if name not in out and Path(name).name == name and path.is_file():
                out[name] = path
    return list(out.values())


def landing_now(landing: Path) -> dict[str, list[str]]:
    """Every landing file present now, by entity (names only: ingest hashes them)."""
    return {e: [p.name for p in landing_files(landing / e)] for e in CONTRACT}


def register_now(instance: dg.DagsterInstance, landing: Path) -> str:
    """A drop of every landing file present now, registered as a partition: ingesting it loads
    everything new, as the unpartitioned ingest did."""
    key = write_drop(landing, landing_now(landing))
    instance.add_dynamic_partitions(ingest_batches.name, [key])
    return key
