"""Features of a series at a forecast origin, derived from its history alone.

Levels are divided by the series' mean demand so one model serves slow and fast movers; the
scale is returned separately (the model's target and prediction are in the same units).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

LAGS = {"D": 14, "W": 8, "M": 12}
WINDOWS = {"D": (7, 28, 91, 182), "W": (4, 13, 26, 52), "M": (3, 6, 12, 24)}
# Smoothing weights of the exponentially weighted level and demand probability (as in SES/TSB).
EWM_ALPHAS = (0.05, 0.1, 0.2, 0.4)


def ewm_paths(values: np.ndarray, last_only: bool = False) -> dict[str, np.ndarray]:
    """Every EWM feature after each period (series x periods); missing periods are skipped.

    Column j only uses periods 0..j, so an origin reads column cut-1 without seeing later data;
    computing the paths once serves all training origins. `last_only`: just the state after the
    last period (series,), without keeping the paths (scoring: 40,000 series x 3 years of paths
    would be 2.8 GB).
    """
    occurs = np.where(np.isnan(values), np.nan, np.nan_to_num(values) > 0)
    out = {}
    for prefix, series in (("ewm", values), ("ewm_p", occurs)):
        for alpha in EWM_ALPHAS:
            path = None if last_only else np.empty_like(series)
            state = np.full(series.shape[0], np.nan)
            for j, col in enumerate(series.T):
                step = np.where(np.isnan(state), col, state + alpha * (col - state))
                state = np.where(np.isnan(col), state, step)
                if path is not None:
                    path[:, j] = state
            out[f"{prefix}{alpha}"] = state if path is None else path
    return out


def _nanmean(x: np.ndarray) -> np.ndarray:
    n = (~np.isnan(x)).sum(axis=1)
    return np.where(n > 0, np.nansum(x, axis=1) / np.maximum(n, 1), np.nan)


def origin_state(
    values: np.ndarray, freq: str, ewm_now: dict[str, np.ndarray] | None = None
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Scale and step-independent features from a (series x known periods) matrix.

    `ewm_now` = the EWM paths at the last known period, if already computed (else computed here).
    """
    n, t = values.shape
    observed = ~np.isnan(values)
    n_obs = observed.sum(axis=1)
    mean_all = _nanmean(values)
    scale = np.where(mean_all > 0, mean_all, 1.0 / (n_obs + 1.0))
    nz = observed & (np.nan_to_num(values) > 0)
    last_nz = np.where(nz.any(axis=1), t - 1 - np.argmax(nz[:, ::-1], axis=1), -1)
    sizes = np.where(nz, values, np.nan)
    feats: dict[str, np.ndarray] = {
        "log_scale": np.log(scale),
        "n_obs": n_obs.astype(float),
        "nz_share": nz.sum(axis=1) / np.maximum(n_obs, 1),
        "since_nz": np.where(last_nz >= 0, t - 1 - last_nz, n_obs).astype(float),
        "nz_size": np.where(nz.any(axis=1), _nanmean(sizes) / scale, 0.0),
        "cv": np.nanstd(np.where(observed, values, np.nan), axis=1) / scale,
    }
    if ewm_now is None:
        ewm_now = ewm_paths(values, last_only=True)
    for name, now in ewm_now.items():
        feats[name] = now if name.startswith("ewm_p") else now / scale
    for lag in range(1, min(LAGS[freq], t) + 1):
        feats[f"lag{lag}"] = values[:, t - lag] / scale
    for w in WINDOWS[freq]:
        recent = values[:, max(t - w, 0) :]
        feats[f"mean{w}"] = _nanmean(recent) / scale
        feats[f"nz_share{w}"] = _nanmean(np.where(np.isnan(recent), np.nan, recent > 0))
    return scale, feats


def step_features(
    values: np.ndarray, target_periods: pd.PeriodIndex, freq: str, season: int, scale: np.ndarray
) -> list[dict[str, np.ndarray]]:
    """Per horizon step: step number, calendar of the target period, seasonal lags."""
    n, t = values.shape
    out = []
    for k, period in enumerate(target_periods, start=1):
        # Earlier periods at the same position in the season as the target.
        same = np.arange((t - 1 + k) % season, t, season)
        feats = {
            "step": np.full(n, float(k)),
            "season_pos": np.full(n, float(period.ordinal % season)),
            "slag": values[:, same[-1]] / scale if len(same) else np.full(n, np.nan),
            "season_mean": _nanmean(values[:, same]) / scale if len(same) else np.full(n, np.nan),
        }
        if freq == "D":
            feats["month"] = np.full(n, float(period.month))
        out.append(feats)
    return out


def design(
    values: np.ndarray,
    target_periods: pd.PeriodIndex,
    freq: str,
    season: int,
    ewm_now: dict[str, np.ndarray] | None = None,
) -> tuple[np.ndarray, pd.DataFrame]:
    """Rows = series x steps (series-major): the scale per row and the feature frame."""
    scale, base = origin_state(values, freq, ewm_now)
    steps = step_features(values, target_periods, freq, season, scale)
    h = len(steps)
    cols = {name: np.repeat(v, h) for name, v in base.items()}
    for name in steps[0]:
        cols[name] = np.stack([s[name] for s in steps], axis=1).ravel()
    return np.repeat(scale, h), pd.DataFrame(cols)
