"""The original design's model as a reference (TO_BE_DESIGN `InventoryDemandPredictor`).

A GradientBoostingRegressor (its base settings) tuned by GridSearchCV over the design's 72
combinations with 5 TimeSeriesSplit folds and MAE scoring, median imputation, then refitted with
the best combination; its "bounds" are the point forecast -10% / +10%. It runs here on our global
model's training rows (same features, same scaled target), so only the learner and its tuning
differ. Two deliberate changes: one core (`n_jobs=1`, as our model; the design used all cores),
and the grid search runs on a sample of the rows, in time order, because on all rows it takes hours:
its time on all rows is extrapolated with the ratio of the best combination's refit time on all
rows to its time on the sample (assumes every combination's time grows alike with the rows).
Times are CPU seconds of this process (one core each, so comparable on a shared machine).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.ensemble import GradientBoostingRegressor
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, TimeSeriesSplit
from threadpoolctl import threadpool_limits

BASE = {
    "random_state": 42,
    "n_estimators": 200,
    "learning_rate": 0.05,
    "max_depth": 6,
    "min_samples_split": 10,
    "min_samples_leaf": 4,
    "max_features": "sqrt",
}
PARAM_GRID = {
    "n_estimators": [100, 200],
    "learning_rate": [0.01, 0.05, 0.1],
    "max_depth": [4, 6, 8],
    "min_samples_split": [5, 10],
    "min_samples_leaf": [2, 4],
}
FOLDS = 5
BOUND = 0.10  # the design's lower_bound = 0.9 * prediction, upper_bound = 1.1 * prediction
SAMPLE_ROWS = 5_000


def combinations() -> int:
    return int(np.prod([len(v) for v in PARAM_GRID.values()]))


@dataclass
class ReferenceFit:
    best_params: dict
    rows: int
    sample_rows: int
    grid_seconds: float  # combinations x folds fits on the sample
    sample_refit_seconds: float  # the best combination on the sample
    refit_seconds: float  # the best combination on all rows
    imputer: SimpleImputer
    model: GradientBoostingRegressor

    @property
    def extrapolated_seconds(self) -> float:
        """Grid search + refit as the design runs them on all rows (see the module docstring)."""
        growth = self.refit_seconds / max(self.sample_refit_seconds, 1e-9)
        return self.grid_seconds * growth + self.refit_seconds

    def predict(self, x: pd.DataFrame) -> np.ndarray:
        with threadpool_limits(limits=1):
            return np.clip(self.model.predict(self.imputer.transform(x)), 0.0, None)


def fit_reference(
    x: pd.DataFrame,
    y: np.ndarray,
    sample_rows: int = SAMPLE_ROWS,
    seed: int = 0,
    grid: dict | None = None,
) -> ReferenceFit:
    """Grid search (`grid`, default the design's) on a time-ordered sample of the rows
    (index = origin), refit of the best combination on all rows."""
    order = np.argsort(x.index.to_numpy(), kind="stable")  # oldest origin first, as the design
    x, y = x.iloc[order], y[order]
    rng = np.random.default_rng(seed)
    n = min(sample_rows, len(x))
    sample = np.sort(rng.choice(len(x), size=n, replace=False))
    # The design fitted its imputer on all rows before the search; so do we.
    imputer = SimpleImputer(strategy="median").fit(x)
    features = imputer.transform(x)
    search = GridSearchCV(
        GradientBoostingRegressor(**BASE),
        grid or PARAM_GRID,
        cv=TimeSeriesSplit(n_splits=FOLDS),
        scoring="neg_mean_absolute_error",
        n_jobs=1,
        refit=False,
    )
    with threadpool_limits(limits=1):
        started = time.process_time()
        search.fit(features[sample], y[sample])
        grid_seconds = time.process_time() - started
        best = GradientBoostingRegressor(**{**BASE, **search.best_params_})
        started = time.process_time()
        best.fit(features[sample], y[sample])
        sample_refit = time.process_time() - started
        model = GradientBoostingRegressor(**{**BASE, **search.best_params_})
        started = time.process_time()
        model.fit(features, y)
        refit = time.process_time() - started
    return ReferenceFit(
        best_params=dict(search.best_params_),
        rows=len(x),
        sample_rows=n,
        grid_seconds=grid_seconds,
        sample_refit_seconds=sample_refit,
        refit_seconds=refit,
        imputer=imputer,
        model=model,
    )


def bound_quantiles(mean: np.ndarray, levels: tuple[float, ...]) -> np.ndarray:
    """The design's bounds read as the outer quantiles (p10 = -10%, p90 = +10%), the levels in
    between on a straight line through the point forecast (p50)."""
    lo, hi = levels[0], levels[-1]
    factors = [1 - BOUND + 2 * BOUND * (q - lo) / (hi - lo) for q in levels]
    return np.stack([mean * f for f in factors], axis=-1)
