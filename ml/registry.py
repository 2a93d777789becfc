"""Model versions, the promotion rule, and the model store folder that holds their artifacts.

A version is what a training run produced: its parameters, training window, features and the
metrics of its rolling-origin backtest. It becomes the active version of its model only if that
backtest beats the active one's; otherwise it is kept, retired, with the reason. Artifacts live in
the model store folder (`PARTSFLOW_MODEL_STORE`, default `data/models`), never in git.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal

import joblib

Status = Literal["active", "retired"]
# Distributions first: planners order from quantiles, so weighted quantile loss decides, and the
# point forecast may not get worse (RMSE, not MAE: see ../shared/data/README.md).
DECIDING_METRIC = "wql"  # weighted quantile loss over p10..p90 (ml.forecast.metrics)
GUARD_METRIC = "rmse"


@dataclass(frozen=True)
class Candidate:
    """A trained model before it is registered (the registry gives it a version)."""

    model_name: str
    model_type: str
    train_start: date
    train_end: date
    parameters: Mapping[str, Any]
    metrics: Mapping[str, float]
    features: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class ModelVersion:
    """One row of the model registry: a candidate with its version and the promotion decision."""

    candidate: Candidate
    version: int
    trained_at: datetime
    artifact: str
    status: Status
    decision: str

    @property
    def model_name(self) -> str:
        return self.candidate.model_name


def _metric(metrics: Mapping[str, float], name: str, who: str) -> float:
    if name not in metrics or metrics[name] is None:
        raise ValueError(f"{who} backtest metrics lack {name!r} (have: {sorted(metrics)})")
    return float(metrics[name])


def promotion(
    candidate: Mapping[str, float], active: Mapping[str, float] | None
) -> tuple[bool, str]:
    """(promote?, why): promote when there is no active version, or when the candidate's
    backtest has a lower weighted quantile loss and an RMSE no higher than the active one's."""
    new_wql = _metric(candidate, DECIDING_METRIC, "the candidate's")
    new_rmse = _metric(candidate, GUARD_METRIC, "the candidate's")
    if active is None:
        return True, "first version of this model: active"
    old_wql = _metric(active, DECIDING_METRIC, "the active version's")
    old_rmse = _metric(active, GUARD_METRIC, "the active version's")
    compared = (
        f"{DECIDING_METRIC} {new_wql:.4g} vs {old_wql:.4g}, {GUARD_METRIC} {new_rmse:.4g} vs "
        f"{old_rmse:.4g} (active)"
    )
    if new_wql >= old_wql:
        return False, f"retired: quantile loss not lower than the active version's; {compared}"
    if new_rmse > old_rmse:
        return False, f"retired: RMSE higher than the active version's; {compared}"
    return True, f"promoted: beats the active version; {compared}"


def artifact_path(store: Path, model_name: str, version: int) -> Path:
    return store / model_name / f"v{version:04d}.joblib"


def save_artifact(store: Path, model_name: str, version: int, model: Any) -> Path:
    """Write the fitted model atomically (a crash leaves no half-written artifact)."""
    path = artifact_path(store, model_name, version)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
    os.close(fd)
    try:
        joblib.dump(model, tmp)
        os.replace(tmp, path)
    finally:
        Path(tmp).unlink(missing_ok=True)
    return path


def load_artifact(path: str | Path) -> Any:
    """The fitted model of a registered version (artifacts are ours: the store is trusted)."""
    return joblib.load(path)
