"""The process pool that renders PDFs. Its workers ignore Ctrl-C: the terminal sends SIGINT to
the whole process group, and a worker that took it printed its own `Process ForkPoolWorker-1:`
traceback; the parent alone handles it (已中止。) and its `with` block terminates the workers."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool


def cores() -> int:
    """The cores this process may run on: the default number of PDF processes and of a batch's
    local workers, and the most worth asking for."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


@contextmanager
def quiet_pool(jobs: int, initializer: Callable[[], None] | None = None) -> Iterator[Pool]:
    """A fork pool of `jobs` workers that ignore SIGINT. SIGINT is blocked while the workers are
    forked (a Ctrl-C then reaches the parent once they exist; a worker never runs with the
    default handler), and each worker ignores it before unblocking."""
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        pool = mp.get_context("fork").Pool(jobs, initializer=_worker_start, initargs=(initializer,))
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)
    with pool:
        yield pool


def _worker_start(initializer: Callable[[], None] | None) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    if initializer is not None:
        initializer()
