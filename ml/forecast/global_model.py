"""One gradient-boosting model for all series: Poisson loss, direct multi-step, scaled levels.

Training rows come from many past origins of the same history (each origin sees only the periods
before it). Features and target are divided by the series' mean, which lets trees share shapes
across scales, and rows are weighted by a power of that mean (WEIGHT_POWERS).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from sklearn.ensemble import HistGradientBoostingRegressor
from threadpoolctl import threadpool_limits

from ml.forecast.features import design, ewm_paths
from ml.forecast.history import Panel

PARAMS = {
    "loss": "poisson",
    # 200 trees at 0.075 instead of 300 at 0.05: a third less fitting and predicting, and at the
    # m scale as accurate (README, "Training vs. the grid search at m").
    "learning_rate": 0.075,
    "max_iter": 200,
    "max_leaf_nodes": 15,
    "min_samples_leaf": 200,
    "l2_regularization": 1.0,
    "early_stopping": False,
    "random_state": 0,
}
MAX_ROWS = 400_000
# Sample weight = scale ** power, by the panel's period: 1 keeps the Poisson deviance of the
# original units, 0 weighs every series alike. Daily counts of fast movers are mostly noise that
# full weights let steer the shared trees: over 10 windows and samples of the l panel 0.25 had the
# lowest mean RMSE of 0, 0.25, 0.5 and 1, and was below 1 in all 10 (README, "RMSE at l").
# Monthly carparts keeps 1: with 0.25 its backtest bias went from -0.001 to -0.019, and the choice
# moved to an ensemble with a holdout bias of +0.045 (its target is |bias| <= 0.03).
WEIGHT_POWERS = {"D": 0.25, "W": 1.0, "M": 1.0}
MIN_PERIODS = 3  # origins need this many known periods before them
MAX_BINS = 255  # HistGradientBoostingRegressor's default number of bins (without the NaN bin)
SPOT_CHECK_ROWS = 32  # about this many rows of each predict_binned call also go through predict


def bin_thresholds(column: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """Bin edges of one feature at its weighted quantiles (midpoints when it has few values).

    What HistGradientBoostingRegressor does itself with sample weights, but scikit-learn 1.9 sorts
    the whole column again for each of its 254 quantiles (~50 s of a demo-scale fit); here it is
    one sort per feature.
    """
    keep = ~np.isnan(column) & (weight > 0)
    # Few distinct values (most features) need no weights: their midpoints, without the
    # weighted sort.
    distinct = np.unique(column[keep])
    if len(distinct) <= MAX_BINS:
        return (distinct[:-1] + distinct[1:]) / 2
    order = np.argsort(column[keep], kind="stable")
    values, w = column[keep][order], weight[keep][order]
    cum = np.cumsum(w)
    targets = cum[-1] * np.arange(1, MAX_BINS) / MAX_BINS
    return np.unique(values[np.minimum(np.searchsorted(cum, targets), len(values) - 1)])


def to_bins(x: pd.DataFrame, thresholds: dict[str, np.ndarray]) -> np.ndarray:
    """Each feature as its bin number (NaN stays NaN): at most 256 values, so the regressor's own
    binning is a lookup, and its splits are those on the thresholds."""
    out = np.empty((len(x), len(thresholds)))
    for j, (name, edges) in enumerate(thresholds.items()):
        col = x[name].to_numpy(float)
        out[:, j] = np.where(np.isnan(col), np.nan, np.searchsorted(edges, col, side="left"))
    return out


_fallback_warned = False


def _warn_fallback(reason: str) -> None:
    """Warn (once per process) that predict_binned fell back to predict()."""
    global _fallback_warned
    if not _fallback_warned:
        _fallback_warned = True
        warnings.warn(
            f"PrebinnedHGB.predict_binned: scikit-learn's internals differ ({reason}); "
            "using the slower predict() instead",
            RuntimeWarning,
            stacklevel=3,
        )


class PrebinnedHGB(HistGradientBoostingRegressor):
    """HistGradientBoostingRegressor for to_bins' output: the same bins, thresholds and trees.

    On a column of at most 255 distinct small whole numbers (every bin number present here),
    scikit-learn's binning is the rank of each value among the column's distinct values, with
    thresholds halfway between them; it finds them by sorting every column (~0.7 CPU s of each
    m-scale fit), here by counting. Anything else (a sample it would subsample, zero weights,
    categorical features, other values) it bins itself.
    """

    def _bin_data(self, X, sample_weight, is_training_data):
        mapper = self._bin_mapper
        n_bins = mapper.n_bins
        usable = (
            is_training_data
            and mapper.is_categorical is None
            and (mapper.subsample is None or X.shape[0] <= mapper.subsample)
            and (sample_weight is None or bool(np.all(sample_weight != 0)))
        )
        if not usable:
            return super()._bin_data(X, sample_weight, is_training_data)
        binned = np.empty(X.shape, dtype=np.uint8, order="F")
        thresholds = []
        for j in range(X.shape[1]):
            col = X[:, j]
            missing = np.isnan(col)
            known = col[~missing]
            whole = (known == np.floor(known)) & (known >= 0) & (known < n_bins - 1)
            if not len(known) or not whole.all():  # all missing, or not bin numbers
                return super()._bin_data(X, sample_weight, is_training_data)
            values = np.where(missing, 0, col).astype(np.intp)
            present = np.flatnonzero(np.bincount(known.astype(np.intp), minlength=n_bins))
            thresholds.append((present[:-1] + present[1:]) / 2.0)
            rank = np.zeros(n_bins, dtype=np.uint8)
            rank[present] = np.arange(len(present))
            binned[:, j] = np.where(missing, n_bins - 1, rank[values])
        mapper.is_categorical_ = np.zeros(X.shape[1], dtype=np.uint8)
        mapper.missing_values_bin_idx_ = n_bins - 1
        mapper.bin_thresholds_ = thresholds
        mapper.n_bins_non_missing_ = np.array([len(t) + 1 for t in thresholds], dtype=np.uint32)
        return binned

    def predict_binned(self, x: np.ndarray) -> np.ndarray:
        """predict() walking the trees on the uint8 bins of training instead of the floats: the
        same split (value <= threshold is bin <= the threshold's bin; NaN is the missing bin),
        the same sum in the same tree order, so the same forecasts bit for bit, in a third of the
        time (a row of 41 bytes instead of 328 stays in the cache over 200 trees).

        The walk uses scikit-learn's private internals (tested on the pinned version): when they
        fail or disagree with predict() on a spot check of a few rows, it warns once and returns
        predict() instead.
        """
        x = np.asarray(x, dtype=np.float64)
        spot = slice(None, None, max(1, len(x) // SPOT_CHECK_ROWS))  # rows spread over x
        expected = self.predict(x[spot])  # also rejects bad input as predict() does
        try:
            pred = self._walk_bins(x)
        except (AttributeError, TypeError, ValueError, IndexError) as exc:
            reason = f"{type(exc).__name__}: {exc}"
        else:
            # Internals that changed their meaning, not their shape, give other numbers.
            if np.array_equal(pred[spot], expected):
                return pred
            reason = "its forecasts differ from predict()"
        _warn_fallback(reason)
        return self.predict(x)

    def _walk_bins(self, x: np.ndarray) -> np.ndarray:
        mapper = self._bin_mapper
        if mapper.is_categorical_ is not None and mapper.is_categorical_.any():
            return self.predict(x)
        binned = mapper.transform(x)
        raw = np.zeros((len(binned), 1), dtype=self._baseline_prediction.dtype, order="F")
        raw += self._baseline_prediction
        for (predictor,) in self._predictors:
            # One thread: the machine is shared, as in fit_rows.
            raw[:, 0] += predictor.predict_binned(binned, mapper.missing_values_bin_idx_, 1)
        return self._loss.link.inverse(raw.ravel())


@dataclass
class GlobalModel:
    horizon: int
    params: dict = field(default_factory=lambda: dict(PARAMS))
    max_rows: int = MAX_ROWS
    weight_power: float | None = None  # None: WEIGHT_POWERS of the panel's period
    model: HistGradientBoostingRegressor | None = None
    features: list[str] = field(default_factory=list)
    thresholds: dict[str, np.ndarray] = field(default_factory=dict)

    def _origins(self, panel: Panel) -> list[int]:
        """Origins (number of known periods), newest first, thinned to stay under max_rows."""
        last = len(panel.periods) - self.horizon
        candidates = list(range(last, MIN_PERIODS - 1, -1))
        per_origin = max(len(panel.ids), 1) * self.horizon
        stride = max(1, int(np.ceil(len(candidates) * per_origin / self.max_rows)))
        return candidates[::stride]

    def training_set(
        self, panel: Panel, paths: dict[str, np.ndarray] | None = None
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """Features, scaled targets and weights; the frame's index is each row's origin.

        `paths`: ewm_paths of the panel's rows, if already computed. They may run past the panel's
        last period (column j depends on periods 0..j only), so a longer panel's paths serve its
        heads: the backtest computes them once for all its origins.
        """
        paths = paths if paths is not None else ewm_paths(panel.values)
        rows = [self.origin_rows(panel, cut, paths) for cut in self._origins(panel)]
        return (
            pd.concat([x for x, _, _ in rows]),
            np.concatenate([y for _, y, _ in rows]),
            np.concatenate([w for _, _, w in rows]),
        )

    def origin_rows(
        self, panel: Panel, cut: int, paths: dict[str, np.ndarray] | None = None
    ) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
        """The rows of one origin (`cut` known periods): features, scaled targets, weights."""
        paths = paths if paths is not None else ewm_paths(panel.values)
        live = panel.start < cut
        now = {name: path[live, cut - 1] for name, path in paths.items()}
        target_periods = panel.periods[cut : cut + self.horizon]
        known = panel.values[live, :cut]
        scale, x = design(known, target_periods, panel.freq, panel.season, now)
        y = panel.values[live, cut : cut + self.horizon].ravel()
        keep = ~np.isnan(y)
        x = x[keep].set_axis(np.full(int(keep.sum()), cut))
        power = WEIGHT_POWERS[panel.freq] if self.weight_power is None else self.weight_power
        return x, y[keep] / scale[keep], scale[keep] ** power

    def fit(self, panel: Panel, paths: dict[str, np.ndarray] | None = None) -> GlobalModel:
        return self.fit_rows(*self.training_set(panel, paths))

    def fit_rows(self, x: pd.DataFrame, y: np.ndarray, w: np.ndarray) -> GlobalModel:
        """Fit on rows from training_set."""
        self.features = list(x.columns)
        self.thresholds = {name: bin_thresholds(x[name].to_numpy(float), w) for name in x}
        self.model = PrebinnedHGB(**self.params)
        with threadpool_limits(limits=1):  # the machine is shared: one core for boosting
            self.model.fit(to_bins(x, self.thresholds), y, sample_weight=w)
        return self

    def predict(self, panel: Panel, paths: dict[str, np.ndarray] | None = None) -> np.ndarray:
        """Mean forecasts, series x horizon, for the periods after the panel's last one
        (`paths` as in training_set)."""
        if self.model is None:
            raise RuntimeError("fit the model first")
        scale, x = self.future_design(panel, paths)
        # Artifacts trained before the pre-binning have no thresholds: raw features.
        bins = getattr(self, "thresholds", None)
        rows = to_bins(x, bins) if bins else x[self.features]
        with threadpool_limits(limits=1):
            if bins and isinstance(self.model, PrebinnedHGB):
                pred = self.model.predict_binned(rows) * scale
            else:
                pred = self.model.predict(rows) * scale
        return pred.reshape(len(panel.ids), self.horizon)

    def future_design(
        self, panel: Panel, paths: dict[str, np.ndarray] | None = None
    ) -> tuple[np.ndarray, pd.DataFrame]:
        """Scale and features of the rows (series x horizon) for the periods after the panel."""
        last = len(panel.periods) - 1
        now = None if paths is None else {name: p[:, last] for name, p in paths.items()}
        return design(panel.values, panel.future(self.horizon), panel.freq, panel.season, now)
