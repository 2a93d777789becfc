"""The `ml.ml_model_registry` table: every trained version, and which one is active.

The promotion rule and the artifact files are plain Python (ml/registry.py); this module stores
the decision in the warehouse, in one transaction per registration, so a model has at most one
active version whatever fails.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ml.registry import Candidate, ModelVersion, load_artifact, promotion, save_artifact
from orchestration.warehouse import Connection, qualified

REGISTRY = qualified("ml", "ml_model_registry")
COLUMNS = (
    "model_name, version, model_type, trained_at, train_start, train_end, parameters, metrics, "
    "features, artifact, status, decision"
)


def ensure_registry(conn: Connection) -> None:
    conn.execute("create schema if not exists ml")
    conn.execute(
        f"""create table if not exists {REGISTRY} (
  model_name text not null, version integer not null, model_type text not null,
  trained_at timestamp not null, train_start date not null, train_end date not null,
  parameters text not null, metrics text not null, features text not null,
  artifact text not null, status text not null check (status in ('active', 'retired')),
  decision text not null, primary key (model_name, version))"""
    )


def _as_version(row: tuple) -> ModelVersion:
    name, version, mtype, trained, start, end, params, metrics, features, artifact = row[:10]
    candidate = Candidate(
        name, mtype, start, end, json.loads(params), json.loads(metrics), json.loads(features)
    )
    return ModelVersion(
        candidate, int(version), trained, artifact, status=row[10], decision=row[11]
    )


def _as_row(v: ModelVersion) -> tuple:
    c = v.candidate
    json_columns = (dict(c.parameters), dict(c.metrics), list(c.features))
    return (
        c.model_name,
        v.version,
        c.model_type,
        v.trained_at,
        c.train_start,
        c.train_end,
        *(json.dumps(value, sort_keys=True, default=str) for value in json_columns),
        v.artifact,
        v.status,
        v.decision,
    )


def model_versions(conn: Connection, model_name: str) -> list[ModelVersion]:
    """Every registered version of a model, oldest first."""
    rows = conn.fetchall(
        f"select {COLUMNS} from {REGISTRY} where model_name = ? order by version", (model_name,)
    )
    return [_as_version(r) for r in rows]


def active_version(conn: Connection, model_name: str) -> ModelVersion | None:
    rows = conn.fetchall(
        f"select {COLUMNS} from {REGISTRY} where model_name = ? and status = 'active'",
        (model_name,),
    )
    return _as_version(rows[0]) if rows else None


def register(
    conn: Connection,
    candidate: Candidate,
    model: Any,
    store: Path,
    trained_at: datetime | None = None,
) -> ModelVersion:
    """Store the candidate's artifact and registry row; it becomes active only if its backtest
    beats the active version's (which is then retired). Returns the registered version."""
    ensure_registry(conn)
    trained_at = trained_at or datetime.now(UTC).replace(tzinfo=None)
    with conn.transaction():
        active = active_version(conn, candidate.model_name)
        active_metrics = active.candidate.metrics if active else None
        promote, decision = promotion(candidate.metrics, active_metrics)
        last = conn.fetchall(
            f"select max(version) from {REGISTRY} where model_name = ?", (candidate.model_name,)
        )[0][0]
        version = int(last or 0) + 1
        artifact = save_artifact(store, candidate.model_name, version, model)
        if promote and active is not None:
            conn.execute(
                f"update {REGISTRY} set status = 'retired', decision = decision || ? "
                "where model_name = ? and version = ?",
                (
                    f"; replaced by v{version} on {trained_at:%Y-%m-%d}",
                    active.model_name,
                    active.version,
                ),
            )
        registered = ModelVersion(
            candidate,
            version,
            trained_at,
            str(artifact),
            status="active" if promote else "retired",
            decision=decision,
        )
        conn.execute(
            f"insert into {REGISTRY} ({COLUMNS}) values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            _as_row(registered),
        )
    return registered


IMPORTANCE = qualified("ml", "model_feature_importance")


def record_importance(
    conn: Connection, model_name: str, version: int, frame: Any, repeats: int
) -> int:
    """Store a registered version's permutation importance (ml.forecast.importance), one row per
    feature; recording again replaces the version's rows. Returns the rows written."""
    conn.execute("create schema if not exists ml")
    conn.execute(
        f"""create table if not exists {IMPORTANCE} (
  model_name text not null, version integer not null, feature text not null,
  importance double precision not null, importance_std double precision not null,
  share double precision not null, sample_rows integer not null, repeats integer not null,
  primary key (model_name, version, feature))"""
    )
    rows = [
        (model_name, version, str(r.feature), float(r.importance), float(r.importance_std))
        + (float(r.share), int(frame.attrs.get("rows", 0)), repeats)
        for r in frame.itertuples()
    ]
    with conn.transaction():
        conn.execute(
            f"delete from {IMPORTANCE} where model_name = ? and version = ?", (model_name, version)
        )
        for row in rows:
            conn.execute(f"insert into {IMPORTANCE} values (?, ?, ?, ?, ?, ?, ?, ?)", row)
    return len(rows)


class NoUsableModel(RuntimeError):
    """No registered version of a model has an artifact that loads."""


def load_for_scoring(
    conn: Connection, model_name: str, expected: type
) -> tuple[ModelVersion, Any, str | None]:
    """(version, fitted model, fallback note): the active version's model or, when its artifact
    cannot be loaded, the last good one: the newest earlier version that was once active (then
    any earlier one) whose artifact loads. The note says which failed and why (None: no fallback).
    """
    versions = model_versions(conn, model_name)
    active = next((v for v in versions if v.status == "active"), None)
    if active is None:
        raise LookupError(f"no active version of {model_name} in the model registry")
    earlier = [v for v in reversed(versions) if v.version < active.version]
    once_active = [v for v in earlier if not v.decision.startswith("retired")]
    problems: list[str] = []
    for v in [active, *once_active, *(v for v in earlier if v not in once_active)]:
        try:
            model = load_artifact(v.artifact)
            if not isinstance(model, expected):
                raise TypeError(f"holds a {type(model).__name__}, not a {expected.__name__}")
        # A damaged pickle fails in many ways (EOFError, UnpicklingError, KeyError, ...).
        except Exception as exc:
            problems.append(
                f"v{v.version} artifact {v.artifact} unusable ({type(exc).__name__}: {exc})"
            )
            continue
        if v is active:
            return v, model, None
        note = (
            f"scoring with v{v.version}, the last good version, instead of active v{active.version}"
        )
        return v, model, f"{note}: {'; '.join(problems)}"
    raise NoUsableModel(f"no version of {model_name} can be loaded: {'; '.join(problems)}")
