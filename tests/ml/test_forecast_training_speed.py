"""Shortcuts of a training run: they skip work, and what they return is what the long way does."""

from __future__ import annotations

import numpy as np
import pytest

from ml.forecast.backtest import GLOBAL, run_backtest
from ml.forecast.candidates import statsforecast_means
from ml.forecast.features import EWM_ALPHAS, ewm_paths
from ml.forecast.global_model import GlobalModel
from ml.forecast.history import Panel
from ml.forecast.metrics import QUANTILES, score, score_rows
from ml.forecast.pipeline import run
from ml.forecast.quantiles import expected_share_above, nb_parts
from tests.ml.forecast_helpers import small_panel

HORIZON = 3


def late_panel() -> Panel:
    """small_panel with two series that start late (some origins do not see them)."""
    base = small_panel()
    start, values = base.start.copy(), base.values.copy()
    start[0], start[3] = 12, 20
    values[0, :12] = np.nan
    values[3, :20] = np.nan
    return Panel(base.ids, base.periods, values, start, base.freq)


def test_paths_of_the_whole_panel_serve_its_heads():
    panel = late_panel()
    paths = ewm_paths(panel.values)
    for cut in (15, 22, len(panel.periods)):
        known, live = panel.head(cut), panel.start < cut
        rows = {k: p[live] for k, p in paths.items()}
        model = GlobalModel(HORIZON)
        a, b = model.training_set(known), model.training_set(known, rows)
        assert a[0].equals(b[0])
        np.testing.assert_array_equal(a[1], b[1])
        np.testing.assert_array_equal(a[2], b[2])
        model.fit(known, rows)
        np.testing.assert_array_equal(model.predict(known), model.predict(known, rows))


def ewm_paths_one_column_at_a_time(values: np.ndarray, last_only: bool) -> dict[str, np.ndarray]:
    """The plain loop that ewm_paths replaced: one feature and one period at a time."""
    occurs = np.where(np.isnan(values), np.nan, np.nan_to_num(values) > 0)
    out = {}
    for prefix, series in (("ewm", values), ("ewm_p", occurs)):
        for alpha in EWM_ALPHAS:
            path = np.empty_like(series)
            state = np.full(series.shape[0], np.nan)
            for j, col in enumerate(series.T):
                step = np.where(np.isnan(state), col, state + alpha * (col - state))
                state = np.where(np.isnan(col), state, step)
                path[:, j] = state
            out[f"{prefix}{alpha}"] = state if last_only else path
    return out


@pytest.mark.parametrize("last_only", [False, True])
def test_ewm_paths_equal_the_plain_loop(monkeypatch, last_only):
    rng = np.random.default_rng(11)
    values = np.where(rng.random((70, 40)) < 0.4, rng.poisson(3.0, (70, 40)) * 1.5, 0.0)
    values[rng.random(values.shape) < 0.1] = np.nan  # missing periods
    values[3] = np.nan  # never observed
    values[4, :25] = np.nan  # starts late
    values[5, :39] = np.nan  # observed in the last period only
    values[6] = 0.0
    # Blocks and tiles smaller than the panel, so their edges are crossed too.
    monkeypatch.setattr("ml.forecast.features.EWM_BLOCK", 16)
    monkeypatch.setattr("ml.forecast.features.EWM_TILE", 7)
    fast, plain = ewm_paths(values, last_only), ewm_paths_one_column_at_a_time(values, last_only)
    assert fast.keys() == plain.keys()
    for name in plain:
        np.testing.assert_array_equal(fast[name], plain[name])
    empty = ewm_paths(values[:, :0], last_only)
    assert all(p.shape == ((70,) if last_only else (70, 0)) for p in empty.values())


def test_backtest_expected_share_above_per_rows_matches_the_direct_one():
    bt = run_backtest(late_panel(), HORIZON, n_origins=3, names=("ADIDA", "IMAPA"))
    for name in (GLOBAL, "IMAPA"):
        for rows in (None, bt.classes == bt.classes[5]):
            mask = np.ones(len(bt.classes), bool) if rows is None else rows
            mean, actual = bt.means[name][mask], bt.actual[mask]
            alpha = np.broadcast_to(bt.oos_alpha(name)[mask][:, :, None], mean.shape)
            upper = bt.quantiles(name, QUANTILES)[mask][..., -1]
            direct = expected_share_above(mean, alpha, upper, actual)
            assert bt.score(name, QUANTILES, rows)["expected_above"] == pytest.approx(direct)


def test_training_without_forecast_refits_the_same_global_model():
    panel = small_panel()
    full = run(panel, HORIZON, names=("ADIDA", "IMAPA"))
    lean = run(panel, HORIZON, names=("ADIDA", "IMAPA"), forecast=False)
    assert lean.choice == full.choice and lean.means == {}
    assert lean.scores == full.scores
    if full.global_model is None:
        assert lean.global_model is None
    else:
        np.testing.assert_array_equal(
            lean.global_model.predict(panel), full.global_model.predict(panel)
        )


def test_scores_of_all_rows_at_once_match_one_row_at_a_time():
    rng = np.random.default_rng(3)
    actual = rng.poisson(2.0, (6, 10)).astype(float)
    actual[1, :4] = np.nan
    actual[2] = 0.0  # no demand: wQL undefined
    actual[3] = np.nan
    mean = rng.gamma(2.0, 1.0, (6, 10))
    qs = np.sort(rng.gamma(2.0, 1.0, (6, 10, len(QUANTILES))), axis=-1)
    rows = score_rows(actual, mean, qs, QUANTILES)
    for i in (0, 1, 2, 4, 5):
        one = score(actual[i], mean[i], qs[i], QUANTILES)
        for key, value in one.items():
            assert rows[key][i] == pytest.approx(value, nan_ok=True), (i, key)
    assert all(np.isnan(v[3]) for v in rows.values())


def test_baselines_fitted_together_forecast_as_fitted_one_by_one():
    panel = late_panel().head(22)
    names = ("ADIDA", "IMAPA", "TSB", "CrostonOptimized", "SeasonalNaive", "AutoETS")
    alone, _ = statsforecast_means(panel, HORIZON, names)
    together, seconds = statsforecast_means(panel, HORIZON, names, together=True)
    assert together.keys() == alone.keys() and seconds.keys() == alone.keys()
    for name in names:
        np.testing.assert_array_equal(together[name], alone[name])


def test_pmf_walk_stops_each_element_where_scipy_does():
    from scipy import stats

    rng = np.random.default_rng(5)
    mean = rng.gamma(0.5, 8.0, 3_000)  # elements leave the walk at many different steps
    alpha = np.where(rng.random(3_000) < 0.3, 0.0, rng.gamma(1.0, 0.5, 3_000))
    k, frac = nb_parts(mean, alpha, QUANTILES)
    r = 1 / np.clip(alpha, 1e-6, None)
    p = r / (r + mean)
    for j, q in enumerate(QUANTILES):
        expected = stats.nbinom.ppf(q, r, p)
        np.testing.assert_array_equal(k[:, j], np.where(mean > 0, expected, 0))
        below = stats.nbinom.cdf(expected - 1, r, p)
        share = (q - below) / stats.nbinom.pmf(expected, r, p)
        np.testing.assert_allclose(frac[:, j], np.clip(share, 0, 1), rtol=1e-6, atol=1e-9)
