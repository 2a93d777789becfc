"""Demand-pattern classes of Syntetos & Boylan (2005) from ADI and CV² of the non-zero sizes."""

from __future__ import annotations

import numpy as np

ADI_CUT = 1.32
CV2_CUT = 0.49
CLASSES = ("smooth", "erratic", "intermittent", "lumpy")


def classify(values: np.ndarray) -> np.ndarray:
    """One class per row of a series x period matrix (NaN ignored).

    ADI = observed periods / periods with demand; CV² = squared coefficient of variation of the
    non-zero sizes. A series without any demand is 'intermittent' (ADI is infinite, sizes unknown).
    """
    observed = ~np.isnan(values)
    nonzero = observed & (np.nan_to_num(values) > 0)
    n_obs = observed.sum(axis=1)
    n_nz = nonzero.sum(axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        adi = np.where(n_nz > 0, n_obs / np.maximum(n_nz, 1), np.inf)
        sizes = np.where(nonzero, values, np.nan)
        mean = np.nanmean(np.where(n_nz[:, None] > 0, sizes, 0.0), axis=1)
        var = np.nanvar(np.where(n_nz[:, None] > 0, sizes, 0.0), axis=1)
        cv2 = np.where(mean > 0, var / np.maximum(mean, 1e-12) ** 2, 0.0)
    out = np.where(
        adi < ADI_CUT,
        np.where(cv2 < CV2_CUT, "smooth", "erratic"),
        np.where(cv2 < CV2_CUT, "intermittent", "lumpy"),
    )
    return out.astype(object)
