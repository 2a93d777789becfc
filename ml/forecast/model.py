"""The trained forecaster as one artifact: train on a panel, score later panels, daily to monthly.

Training runs the backtest and the choice (ml.forecast.pipeline); the artifact keeps what scoring
needs: the choice and per-class picks, the refitted global model, the dispersion per series, and
the backtest's accuracy (overall, per demand class, per series). Statsforecast's local models are
refitted at scoring time: for them fitting is forecasting, and it takes a fraction of a second.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from ml.forecast.classes import CLASSES, classify
from ml.forecast.global_model import MAX_ROWS, GlobalModel
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES
from ml.forecast.pipeline import Forecast, candidate_means, run
from ml.forecast.quantiles import nb_quantiles

METRICS = ("rmse", "bias", "wql", "above_top", "below_bottom")
# Aggregates are calendar weeks (Monday start) and calendar months, cut to the forecast days.
GRAINS = {"week": "W-SUN", "month": "M"}


@dataclass
class ForecastModel:
    horizon: int
    levels: tuple[float, ...]
    choice: str
    per_class: dict[str, str]
    names: tuple[str, ...]  # the statsforecast candidates it was trained with
    global_model: GlobalModel | None
    alpha: dict[str, float]  # NB dispersion per series id
    alpha_default: float  # for series unseen in training: the median series' dispersion
    accuracy: pd.DataFrame  # backtest metrics: scope, demand_class, series_id, METRICS
    # Quantile shift fitted on the backtest (ml.forecast.quantiles); None = integer quantiles, as
    # the artifacts trained before it was introduced.
    shift: float | None = None

    def means(self, panel: Panel) -> np.ndarray:
        """Mean forecasts (series x horizon) for the days after the panel."""
        means, _, _ = candidate_means(
            panel,
            self.horizon,
            self.per_class,
            classify(panel.values),
            [self.choice],
            global_model=self.global_model,
        )
        return means[self.choice]

    def dispersion(self, ids: np.ndarray) -> np.ndarray:
        return np.array([self.alpha.get(str(i), self.alpha_default) for i in ids])


def accuracy_frame(fc: Forecast, levels: tuple[float, ...]) -> pd.DataFrame:
    """The choice's backtest metrics overall, per demand class and per series."""
    bt, name = fc.backtest, fc.choice
    rows = [{"scope": "overall", "demand_class": None, "series_id": None, **fc.scores[name]}]
    for cls in CLASSES:
        members = bt.classes == cls
        if members.any() and np.isfinite(bt.actual[members]).any():
            rows.append({"scope": "class", "demand_class": cls, **bt.score(name, levels, members)})
    for i, scores in enumerate(bt.series_scores(name, levels)):
        if scores is not None:
            cls, sid = bt.classes[i], str(fc.panel.ids[i])
            rows.append({"scope": "series", "demand_class": cls, "series_id": sid, **scores})
    frame = pd.DataFrame(rows)
    return frame[["scope", "demand_class", "series_id", *METRICS]]


def train(
    panel: Panel,
    horizon: int,
    n_origins: int,
    names: tuple[str, ...],
    max_rows: int = MAX_ROWS,
    levels: tuple[float, ...] = QUANTILES,
    aside: bool = False,
) -> tuple[ForecastModel, Forecast]:
    """Backtest, choose and refit on the panel (`aside`: parts of it in a forked child, see
    pipeline.run); the artifact and the run's details."""
    fc = run(
        panel,
        horizon,
        levels,
        n_origins,
        names=names,
        max_rows=max_rows,
        forecast=False,
        aside=aside,
    )
    alpha = fc.backtest.alpha(fc.choice)
    model = ForecastModel(
        horizon=horizon,
        levels=levels,
        choice=fc.choice,
        per_class=dict(fc.backtest.per_class),
        names=names,
        global_model=fc.global_model,
        alpha={str(i): float(a) for i, a in zip(panel.ids, alpha, strict=True)},
        alpha_default=float(np.median(alpha)) if len(alpha) else 0.0,
        accuracy=accuracy_frame(fc, levels),
        shift=fc.backtest.shift(fc.choice, levels),
    )
    return model, fc


def _quantile_columns(mean: np.ndarray, alpha: np.ndarray, model: ForecastModel) -> dict:
    qs = nb_quantiles(mean, alpha, model.levels, model.shift)
    return {f"p{q * 100:g}": qs[..., j] for j, q in enumerate(model.levels)}


def score(model: ForecastModel, panel: Panel) -> pd.DataFrame:
    """`series_id, grain, period_start, days, mean, p10..p90` for the days after the panel.

    Daily rows are NB(mean, alpha) quantiles, continuous with the model's shift. A week or month
    sums its days; with independent days its mean is Σμ and its variance Σ(μ + αμ²), matched by an
    NB with dispersion α·Σμ²/(Σμ)², whose quantiles (same shift) are those of the sum, not sums of
    daily quantiles. Day-to-day independence understates the spread of sums a little when a
    series' level is uncertain.
    """
    mean = model.means(panel)
    alpha = model.dispersion(panel.ids)
    days = panel.future(model.horizon).start_time
    n = len(panel.ids)
    frames = [
        pd.DataFrame(
            {
                "series_id": np.repeat(panel.ids, len(days)),
                "grain": "day",
                "period_start": np.tile(days, n),
                "days": 1,
                "mean": mean.ravel(),
                **{k: v.ravel() for k, v in _quantile_columns(mean, alpha[:, None], model).items()},
            }
        )
    ]
    for grain, freq in GRAINS.items():
        buckets = days.to_period(freq)
        codes, labels = pd.factorize(buckets)
        onehot = np.eye(len(labels))[codes]  # day x bucket
        total = mean @ onehot
        square = (mean**2) @ onehot
        agg_alpha = alpha[:, None] * square / np.maximum(total, 1e-12) ** 2
        starts = [days[codes == k].min() for k in range(len(labels))]
        frames.append(
            pd.DataFrame(
                {
                    "series_id": np.repeat(panel.ids, len(labels)),
                    "grain": grain,
                    "period_start": np.tile(starts, n),
                    "days": np.tile(np.bincount(codes), n),
                    "mean": total.ravel(),
                    **{k: v.ravel() for k, v in _quantile_columns(total, agg_alpha, model).items()},
                }
            )
        )
    return pd.concat(frames, ignore_index=True)
