"""A sensor that starts ingest, and everything downstream of it, when new landing files arrive.

The new files of one tick are a landing drop (defs/ingest/drops.py): the sensor writes its
manifest, registers it as a partition of the ingest assets and starts the refresh's first stage,
`refresh_ingest`, for it; prepare, the location groups and publishing follow (defs/chain.py).

The cursor remembers every landing file seen as `{entity: {name: {size, mtime_ns, sha256}}}`.
A file whose size and mtime match the cursor is not looked at again; only files that look new
are hashed, and a file whose content was already seen (touched, renamed or copied) is not new.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

import dagster as dg

from orchestration import env
from orchestration.contract import CONTRACT
from orchestration.defs.ingest.drops import ingest_batches, write_drop
from orchestration.defs.ingest.files import file_hash, landing_files
from orchestration.defs.ingest.raw_tables import RAW_SCHEMA
from orchestration.defs.jobs import INGEST, refresh_ingest
from orchestration.resources import LandingZoneResource

CURSOR_VERSION = 1
SKIP_MESSAGE = "no new landing files"
FILES_TAG = "partsflow/landing_files"
ENTITIES_TAG = "partsflow/landing_entities"
COUNT_TAG = "partsflow/landing_file_count"
MAX_TAG_CHARS = 200

Seen = dict[str, dict[str, dict[str, object]]]


@dataclass(frozen=True)
class NewFile:
    entity: str
    name: str
    size: int
    mtime_ns: int

    @property
    def label(self) -> str:
        return f"{self.entity}/{self.name}"

    @property
    def identity(self) -> str:
        return f"{self.entity}/{self.name}:{self.size}:{self.mtime_ns}"


def read_cursor(cursor: str | None) -> Seen:
    """The files seen so far; an empty or unreadable cursor means none."""
    if not cursor:
        return {}
    try:
        data = json.loads(cursor)
    except json.JSONDecodeError:
        return {}
    if not isinstance(data, dict) or data.get("version") != CURSOR_VERSION:
        return {}
    files = data.get("files")
    return files if isinstance(files, dict) else {}


def write_cursor(seen: Seen) -> str:
    return json.dumps({"version": CURSOR_VERSION, "files": seen}, sort_keys=True)


def scan(landing: LandingZoneResource, previous: Seen) -> tuple[list[NewFile], Seen]:
    """New files of every entity and the cursor state for the files present now."""
    new: list[NewFile] = []
    current: Seen = {}
    for entity in CONTRACT:
        before = previous.get(entity) or {}
        known_hashes = {e.get("sha256") for e in before.values() if isinstance(e, dict)}
        now: dict[str, dict[str, object]] = {}
        for path in landing_files(landing.entity_dir(entity)):
            try:
                stat = path.stat()
                seen = before.get(path.name)
                if _unchanged(seen, stat.st_size, stat.st_mtime_ns):
                    now[path.name] = seen
                    continue
                # Looks new: only now is the (expensive) content hash worth computing.
                digest = file_hash(path)
            except FileNotFoundError:  # vanished between listing and reading
                continue
            now[path.name] = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": digest}
            if digest not in known_hashes:  # else touched, renamed or copied: content seen
                known_hashes.add(digest)
                new.append(NewFile(entity, path.name, stat.st_size, stat.st_mtime_ns))
        if now:
            current[entity] = now
    return new, current


def _unchanged(seen: object, size: int, mtime_ns: int) -> bool:
    return isinstance(seen, dict) and seen.get("size") == size and seen.get("mtime_ns") == mtime_ns


def run_key(files: list[NewFile]) -> str:
    digest = hashlib.sha256("\n".join(sorted(f.identity for f in files)).encode())
    return f"landing-{digest.hexdigest()}"


def files_tag(files: list[NewFile]) -> str:
    """The new files' names, cut to MAX_TAG_CHARS with a count of those left out."""
    labels = sorted(f.label for f in files)
    text = ", ".join(labels)
    if len(text) <= MAX_TAG_CHARS:
        return text
    shown: list[str] = []
    for label in labels:
        rest = len(labels) - len(shown) - 1
        if len(", ".join([*shown, label]) + f", ... (+{rest} more)") > MAX_TAG_CHARS:
            break
        shown.append(label)
    if not shown:
        return text[: MAX_TAG_CHARS - 3] + "..."
    return ", ".join(shown) + f", ... (+{len(labels) - len(shown)} more)"


def selection_for(context: dg.SensorEvaluationContext, entities: set[str]) -> list[dg.AssetKey]:
    """The ingest assets of these entities and of those referencing them (their deps), which
    their run ingests; the later stages follow that run (defs/chain.py)."""
    if context.repository_def is None:
        raise dg.DagsterInvariantViolationError(
            "landing_zone_sensor needs the repository definitions to find downstream assets; "
            "pass definitions= to build_sensor_context"
        )
    graph = context.repository_def.asset_graph
    keys = [dg.AssetKey([RAW_SCHEMA, e]) for e in sorted(entities)]
    selected = (dg.AssetSelection.assets(*keys).downstream() & INGEST).resolve(graph)
    return sorted((k for k in selected if graph.get(k).is_materializable), key=str)


@dg.sensor(
    job=refresh_ingest,
    minimum_interval_seconds=env.sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Ingests each drop of new landing files, then refreshes what is downstream.",
)
def landing_zone_sensor(context: dg.SensorEvaluationContext, landing: LandingZoneResource):
    """Ingests each drop of new landing files, then refreshes what is downstream."""
    previous = read_cursor(context.cursor)
    new, current = scan(landing, previous)
    cursor = write_cursor(current)
    if cursor != context.cursor and (current or context.cursor):
        context.update_cursor(cursor)
    if not new:
        return dg.SkipReason(SKIP_MESSAGE)
    entities = {f.entity for f in new}
    by_entity: dict[str, list[str]] = {}
    for f in new:
        by_entity.setdefault(f.entity, []).append(f.name)
    key = write_drop(landing.root, by_entity)
    context.log.info(f"landing drop {key}, {len(new)} new file(s): {files_tag(new)}")
    request = dg.RunRequest(
        run_key=run_key(new),
        partition_key=key,
        asset_selection=selection_for(context, entities),
        tags={
            FILES_TAG: files_tag(new),
            ENTITIES_TAG: ", ".join(sorted(entities)),
            COUNT_TAG: str(len(new)),
        },
    )
    return dg.SensorResult(
        run_requests=[request],
        dynamic_partitions_requests=[ingest_batches.build_add_request([key])],
    )
