"""One computation in a forked child process while the parent goes on with other work.

Training is single-threaded numpy, statsforecast and one-thread boosting, so on a machine with a
spare core independent parts of it (a backtest origin, the refit of the global model, half of the
candidates' quantiles) run beside the rest. A forked child shares the parent's arrays (the panel
and its EWM paths, about 1.5 GB for 20,000 daily series) without pickling them; only the result
comes back, pickled through a pipe.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import traceback
from collections.abc import Callable
from multiprocessing.connection import Connection
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def can_fork() -> bool:
    return "fork" in mp.get_all_start_methods()


def spare_core() -> bool:
    """A forked child can run beside this process: fork exists and there is a second core."""
    return can_fork() and (os.cpu_count() or 1) >= 2


def _child(work: Callable[[], Any], out: Connection) -> None:
    try:
        result = ("ok", work())
    except BaseException:  # the parent re-raises it with the child's traceback
        result = ("error", traceback.format_exc())
    out.send(result)
    out.close()


class Forked(Generic[T]):
    """`work()` in a forked child from now on; result() waits for it. Without fork or a second
    core (or with `inline`), result() runs it in this process instead. Use as a context manager:
    leaving without result() stops the child."""

    def __init__(self, work: Callable[[], T], inline: bool = False) -> None:
        self._work, self._proc, self._pipe = work, None, None
        if inline or not spare_core():
            return  # no spare core (or no fork): a child would only add its start-up
        ctx = mp.get_context("fork")
        self._pipe, child_end = ctx.Pipe(duplex=False)
        # fork: the child inherits `work` and what it refers to; nothing is pickled on the way in
        self._proc = ctx.Process(target=_child, args=(work, child_end), daemon=True)
        self._proc.start()
        child_end.close()

    def result(self) -> T:
        if self._proc is None:
            return self._work()
        try:
            status, value = self._pipe.recv()
        except EOFError:
            self._proc.join()
            raise RuntimeError(
                f"the forked child (pid {self._proc.pid}) died with exit code "
                f"{self._proc.exitcode} before returning its result"
            ) from None
        finally:
            self._pipe.close()
        self._proc.join()
        self._proc = None
        if status == "error":
            raise RuntimeError(f"the forked child failed:\n{value}")
        return value

    def __enter__(self) -> Forked[T]:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._proc is not None:
            self._proc.kill()
            self._proc.join()
            self._pipe.close()
            self._proc = None
