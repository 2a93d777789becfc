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
# Series per block of ewm_paths: its time-major work arrays stay small (~70 MB at 1,000 periods).
EWM_BLOCK = 1024
EWM_TILE = 64


def ewm_paths(values: np.ndarray, last_only: bool = False) -> dict[str, np.ndarray]:
    """Every EWM feature after each period (series x periods); missing periods are skipped.

    Column j only uses periods 0..j, so an origin reads column cut-1 without seeing later data;
    computing the paths once serves all training origins. `last_only`: just the state after the
    last period (series,), without keeping the paths (scoring: 40,000 series x 3 years of paths
    would be 2.8 GB).
    """
    n, t = values.shape
    names = [f"{prefix}{alpha}" for prefix in ("ewm", "ewm_p") for alpha in EWM_ALPHAS]
    out = {name: np.empty(n) if last_only else np.empty((n, t)) for name in names}
    if t == 0:
        return {name: np.full(n, np.nan) if last_only else path for name, path in out.items()}
    alpha = np.array(EWM_ALPHAS)[None, :, None]
    # All 8 features of a block of series advance together, one period at a time, in place on a
    # time-major copy: a period is one contiguous row, not a strided column per feature.
    for lo in range(0, n, EWM_BLOCK):
        block = values[lo : lo + EWM_BLOCK]
        observed = ~np.isnan(block)
        occurs = np.where(observed, np.nan_to_num(block) > 0, np.nan)
        series = np.stack([block.T, occurs.T], axis=1)[:, :, None, :]  # period, kind, 1, series
        seen = observed.T[:, None, None, :]
        # The state starts at each series' first observation, where the update leaves it as it
        # is (x + a * (x - x) = x exactly); until then the paths are NaN (set below).
        first = np.where(observed.any(axis=1), np.argmax(observed, axis=1), t)
        rows, at = np.arange(len(block)), np.minimum(first, t - 1)
        at_first = np.stack([block[rows, at], occurs[rows, at]])
        state = np.repeat(np.where(first < t, at_first, np.nan)[:, None, :], len(EWM_ALPHAS), 1)
        step = np.empty_like(state)  # kind, alpha, series
        path = None if last_only else np.empty((t, *state.shape))
        for j in range(t):
            np.subtract(series[j], state, out=step)
            np.multiply(step, alpha, out=step)
            np.add(state, step, out=step)
            np.copyto(state, step, where=seen[j])
            if path is not None:
                path[j] = state
        if path is None:
            for k, name in enumerate(names):
                out[name][lo : lo + EWM_BLOCK] = state.reshape(len(names), -1)[k]
            continue
        # Back to series-major a tile of periods at a time (a whole-path transpose would miss
        # the cache on every element).
        for j in range(0, t, EWM_TILE):
            tile = path[j : j + EWM_TILE].reshape(-1, len(names), len(block))
            for k, name in enumerate(names):
                out[name][lo : lo + EWM_BLOCK, j : j + EWM_TILE] = tile[:, k].T
        late = int(first.max(initial=0))
        before = np.arange(min(late, t))[None, :] < first[:, None]
        for name in names:
            out[name][lo : lo + EWM_BLOCK, : before.shape[1]][before] = np.nan
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
