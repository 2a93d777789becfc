"""The promotion rule and the model store, without a warehouse."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import PoissonRegressor

from ml.registry import artifact_path, load_artifact, promotion, save_artifact


def test_first_version_is_promoted() -> None:
    promote, why = promotion({"wql": 0.5, "rmse": 1.2}, None)
    assert promote and "first version" in why


@pytest.mark.parametrize(
    ("candidate", "promote", "words"),
    [
        ({"wql": 0.39, "rmse": 1.00}, True, "promoted"),
        ({"wql": 0.39, "rmse": 1.10}, True, "promoted"),  # equal RMSE is fine
        ({"wql": 0.40, "rmse": 0.90}, False, "quantile loss not lower"),
        ({"wql": 0.30, "rmse": 1.11}, False, "RMSE higher"),
    ],
)
def test_a_candidate_must_beat_the_active_version(candidate, promote, words) -> None:
    active = {"wql": 0.40, "rmse": 1.10}
    got, why = promotion(candidate, active)
    assert got is promote
    assert words in why
    assert "vs 0.4," in why and "vs 1.1 (active)" in why  # the active version's values are quoted


def test_missing_metric_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="lack 'rmse'"):
        promotion({"wql": 0.3}, None)
    with pytest.raises(ValueError, match="active version's backtest metrics lack"):
        promotion({"wql": 0.3, "rmse": 1.0}, {"rmse": 1.0})


def test_artifact_round_trip(tmp_path) -> None:
    x = np.arange(20, dtype=float).reshape(-1, 1)
    model = PoissonRegressor().fit(x, np.arange(20) % 3)
    path = save_artifact(tmp_path, "global_hgb", 3, model)
    assert path == artifact_path(tmp_path, "global_hgb", 3) == tmp_path / "global_hgb/v0003.joblib"
    assert [p.name for p in path.parent.iterdir()] == ["v0003.joblib"]  # no temp file left
    np.testing.assert_array_equal(load_artifact(path).predict(x), model.predict(x))
