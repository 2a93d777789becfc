"""Permutation importance of the global model on rows it never saw: how much its weighted Poisson
deviance grows when one feature's values are shuffled. Bounded: a sample of rows, few repeats."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.inspection import permutation_importance
from threadpoolctl import threadpool_limits

from ml.forecast.global_model import GlobalModel, to_bins
from ml.forecast.history import Panel

SAMPLE_ROWS = 5_000
REPEATS = 3


def holdout_importance(
    model: GlobalModel,
    panel: Panel,
    cut: int,
    sample_rows: int = SAMPLE_ROWS,
    repeats: int = REPEATS,
    seed: int = 0,
) -> pd.DataFrame:
    """`feature, importance, importance_std, share` (largest first) of `model`, trained on
    panel.head(cut), on at most `sample_rows` rows of origin `cut`: its held-out forecast window.
    importance is the mean increase of the deviance; share = max(importance, 0) / their sum."""
    if model.model is None:
        raise RuntimeError("fit the model first")
    x, y, w = model.origin_rows(panel, cut)
    if len(x) > sample_rows:
        keep = np.sort(np.random.default_rng(seed).choice(len(x), sample_rows, replace=False))
        x, y, w = x.iloc[keep], y[keep], w[keep]
    with threadpool_limits(limits=1):  # the machine is shared, as for the fit
        result = permutation_importance(
            model.model,
            to_bins(x, model.thresholds),
            y,
            scoring="neg_mean_poisson_deviance",
            n_repeats=repeats,
            random_state=seed,
            sample_weight=w,
        )
    frame = pd.DataFrame(
        {
            "feature": list(model.thresholds),
            "importance": result.importances_mean,
            "importance_std": result.importances_std,
        }
    )
    positive = frame["importance"].clip(lower=0)
    frame["share"] = positive / positive.sum() if positive.sum() > 0 else 0.0
    frame.attrs["rows"] = len(x)
    return frame.sort_values("importance", ascending=False, ignore_index=True)
