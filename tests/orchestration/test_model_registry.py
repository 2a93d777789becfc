"""The model registry table on both warehouses: versions, promotion, one active version."""

from __future__ import annotations

from datetime import date, datetime

import pandas as pd
import pytest

from ml.registry import Candidate, load_artifact
from orchestration import env
from orchestration.defs.forecasting.registry import (
    IMPORTANCE,
    active_version,
    model_versions,
    record_importance,
    register,
)
from orchestration.defs.forecasting.tables import SCORES, ensure_scores
from orchestration.warehouse import connect


@pytest.fixture(params=["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)])
def warehouse_url(request, tmp_path) -> str:
    if request.param == "duckdb":
        return f"duckdb:///{tmp_path}/warehouse.duckdb"
    return request.getfixturevalue("pg_database_url")


def _candidate(wql: float, rmse: float, name: str = "global_hgb") -> Candidate:
    return Candidate(
        model_name=name,
        model_type="HistGradientBoostingRegressor",
        train_start=date(2024, 1, 1),
        train_end=date(2024, 12, 31),
        parameters={"loss": "poisson", "max_iter": 200},
        metrics={"wql": wql, "rmse": rmse, "bias": 0.01},
        features=["lag_7_qty", "rolling_mean_28"],
    )


def test_versions_are_promoted_only_when_they_beat_the_active_one(warehouse_url, tmp_path):
    store = tmp_path / "models"
    with connect(env.Warehouse(warehouse_url)) as conn:
        first = register(conn, _candidate(0.40, 1.10), {"coef": 1}, store, datetime(2025, 1, 1))
        worse = register(conn, _candidate(0.45, 1.00), {"coef": 2}, store, datetime(2025, 2, 1))
        better = register(conn, _candidate(0.35, 1.05), {"coef": 3}, store, datetime(2025, 3, 1))
        other = register(conn, _candidate(0.90, 2.00, name="tsb"), {"a": 0.2}, store)
        versions = model_versions(conn, "global_hgb")
        active = active_version(conn, "global_hgb")

    statuses = [(v.version, v.status) for v in versions]
    assert statuses == [(1, "retired"), (2, "retired"), (3, "active")]
    assert (first.status, worse.status, better.status) == ("active", "retired", "active")
    assert "quantile loss not lower" in worse.decision
    assert versions[0].decision.endswith("replaced by v3 on 2025-03-01")
    assert active == versions[2]
    assert (other.version, other.status) == (1, "active")  # versions count per model
    # What was stored reads back as registered, and each version's artifact is its own model.
    assert versions[1].candidate.metrics == {"wql": 0.45, "rmse": 1.00, "bias": 0.01}
    assert versions[1].candidate.parameters == {"loss": "poisson", "max_iter": 200}
    assert versions[1].candidate.features == ["lag_7_qty", "rolling_mean_28"]
    assert versions[1].candidate.train_end == date(2024, 12, 31)
    assert [load_artifact(v.artifact) for v in versions] == [{"coef": 1}, {"coef": 2}, {"coef": 3}]
    assert all(str(store) in v.artifact for v in versions)


def test_a_failed_registration_changes_nothing(warehouse_url, tmp_path):
    store = tmp_path / "models"
    with connect(env.Warehouse(warehouse_url)) as conn:
        register(conn, _candidate(0.40, 1.10), {"coef": 1}, store)
        broken = _candidate(0.30, 1.00)
        broken = Candidate(**{**broken.__dict__, "metrics": {"rmse": 1.0}})
        with pytest.raises(ValueError, match="wql"):
            register(conn, broken, {"coef": 2}, store)
        assert [(v.version, v.status) for v in model_versions(conn, "global_hgb")] == [
            (1, "active")
        ]
    assert [p.name for p in (store / "global_hgb").iterdir()] == ["v0001.joblib"]


def test_an_integer_quantile_forecast_table_from_before_is_replaced(warehouse_url):
    """fct_forecasts had integer quantile columns before they became continuous; the table is
    rewritten whole by every scoring run, so ensure_scores recreates it with doubles."""
    old = ", ".join(f"p{q} integer not null" for q in range(10, 100, 10))
    with connect(env.Warehouse(warehouse_url)) as conn:
        conn.execute("create schema if not exists ml")
        conn.execute(f"create table {SCORES} (part_id text, {old})")
        ensure_scores(conn)
        ensure_scores(conn)  # and a double one stays
        kind = conn.fetchall(
            "select data_type from information_schema.columns "
            "where table_schema = ? and table_name = ? and column_name = ?",
            ("ml", "fct_forecasts", "p90"),
        )
        columns = conn.query_df(f"select * from {SCORES}").columns
    assert kind[0][0].lower() in ("double", "double precision")
    assert "grain" in columns


def test_feature_importance_is_stored_per_version_and_replaced(warehouse_url):
    frame = pd.DataFrame(
        {
            "feature": ["level", "lag_7"],
            "importance": [0.3, -0.01],
            "importance_std": [0.02, 0.01],
            "share": [1.0, 0.0],
        }
    )
    frame.attrs["rows"] = 5000
    with connect(env.Warehouse(warehouse_url)) as conn:
        assert record_importance(conn, "global_hgb", 1, frame, 3) == 2
        assert record_importance(conn, "global_hgb", 1, frame.head(1), 3) == 1  # replaced
        record_importance(conn, "global_hgb", 2, frame, 3)
        rows = conn.fetchall(
            f"select version, feature, share, sample_rows, repeats from {IMPORTANCE}"
            " order by version, feature"
        )
    assert [tuple(r) for r in rows] == [
        (1, "level", 1.0, 5000, 3),
        (2, "lag_7", 0.0, 5000, 3),
        (2, "level", 1.0, 5000, 3),
    ]
