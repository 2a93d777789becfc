"""The forked child of training: its result, its failures, and the refit and the oldest backtest
origin beside the rest, which give the same model and backtest as one after the other."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from ml.forecast.backtest import choose, run_backtest
from ml.forecast.forked import Forked, can_fork
from ml.forecast.metrics import QUANTILES
from ml.forecast.model import train
from tests.ml.forecast_helpers import small_panel

pytestmark = pytest.mark.skipif(not can_fork(), reason="needs the fork start method")


def test_the_child_computes_on_the_parents_data_and_returns_it():
    data = np.arange(1_000_000, dtype=float)
    with Forked(lambda: (os.getpid(), float(data.sum()))) as child:
        pid, total = child.result()
    assert pid != os.getpid()
    assert total == data.sum()


def test_a_failure_in_the_child_is_raised_with_its_traceback():
    def fail() -> None:
        raise ValueError("bad origin 7")

    with Forked(fail) as child, pytest.raises(RuntimeError, match="bad origin 7"):
        child.result()


def test_a_child_that_dies_is_reported():
    with Forked(lambda: os._exit(3)) as child, pytest.raises(RuntimeError, match="exit code 3"):
        child.result()


def test_leaving_without_the_result_stops_the_child():
    with Forked(lambda: time.sleep(60)) as child:
        proc = child._proc
        assert proc.is_alive()
    assert not proc.is_alive()


def test_inline_runs_in_this_process():
    assert Forked(os.getpid, inline=True).result() == os.getpid()


def test_training_beside_is_training_in_order():
    """The oldest origin and the refit in a child, half of the quantiles in another: the same
    backtest, choice, scores and model as one process doing it all in order."""
    panel = small_panel()
    after, in_order = train(panel, 3, 3, ("IMAPA", "TSB"))
    beside, fc = train(panel, 3, 3, ("IMAPA", "TSB"), aside=True)
    assert beside.global_model is not None, "the choice should use the global model here"
    assert fc.fit_seconds["GlobalHGB"] > 0
    assert fc.backtest.cuts == in_order.backtest.cuts and len(fc.backtest.cuts) == 3
    assert list(fc.backtest.means) == list(in_order.backtest.means)
    for name, means in in_order.backtest.means.items():
        np.testing.assert_array_equal(fc.backtest.means[name], means, err_msg=name)
    assert (fc.choice, fc.scores) == (in_order.choice, in_order.scores)
    np.testing.assert_array_equal(after.means(panel), beside.means(panel))
    np.testing.assert_array_equal(
        fc.backtest.last_global.predict(panel), in_order.backtest.last_global.predict(panel)
    )


def test_half_of_the_quantiles_beside_give_the_same_choice_and_scores():
    panel = small_panel()
    inline = run_backtest(panel, 3, 3, ("IMAPA", "TSB"))
    beside = run_backtest(panel, 3, 3, ("IMAPA", "TSB"))
    choice, scores = choose(inline, QUANTILES)
    assert choose(beside, QUANTILES, beside=True) == (choice, scores)
    for name in inline.means:
        np.testing.assert_array_equal(
            beside.quantiles(name, QUANTILES), inline.quantiles(name, QUANTILES), err_msg=name
        )
        np.testing.assert_array_equal(beside.above(name, QUANTILES), inline.above(name, QUANTILES))
