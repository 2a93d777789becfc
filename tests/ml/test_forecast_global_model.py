"""The global model's own feature binning (weighted quantile edges, one sort per feature)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ml.forecast.global_model import MAX_BINS, bin_thresholds, to_bins


def test_few_values_are_split_at_midpoints_and_nan_stays_nan():
    column = np.array([3.0, 1.0, np.nan, 2.0, 1.0])
    edges = bin_thresholds(column, np.ones(5))
    np.testing.assert_array_equal(edges, [1.5, 2.5])
    bins = to_bins(pd.DataFrame({"f": column}), {"f": edges})[:, 0]
    np.testing.assert_array_equal(bins[[0, 1, 3, 4]], [2, 0, 1, 0])
    assert np.isnan(bins[2])


def test_many_values_get_weighted_quantile_edges():
    column = np.arange(10_000, dtype=float)
    # All the weight on the upper half: every edge falls there (weighted, not plain, quantiles).
    weight = np.where(column >= 5_000, 1.0, 0.0)
    edges = bin_thresholds(column, weight)
    assert len(edges) == MAX_BINS - 1
    assert edges.min() >= 5_000 and edges.max() < 10_000
    assert np.all(np.diff(edges) > 0)
    bins = to_bins(pd.DataFrame({"f": column}), {"f": edges})[:, 0]
    assert bins.max() <= MAX_BINS - 1 and (bins[:5_000] == 0).all()
