"""The forked child of training: its result, its failures, and a refit beside the backtest that
gives the same model as the refit after it."""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from ml.forecast.forked import Forked, can_fork
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


def test_the_refit_beside_the_backtest_is_the_refit_after_it():
    panel = small_panel()
    after, _ = train(panel, 3, 2, ("IMAPA", "TSB"))
    beside, fc = train(panel, 3, 2, ("IMAPA", "TSB"), aside=True)
    assert beside.global_model is not None, "the choice should use the global model here"
    assert fc.fit_seconds["GlobalHGB"] > 0
    np.testing.assert_array_equal(after.means(panel), beside.means(panel))
    assert after.choice == beside.choice
