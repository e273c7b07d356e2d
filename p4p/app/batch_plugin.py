"""The Dask worker plugin of `p4p batch`'s local cluster (imported only once Dask is)."""

from __future__ import annotations

import signal
from contextlib import suppress
from typing import Any

from distributed.diagnostics.plugin import WorkerPlugin


class IgnoreCtrlC(WorkerPlugin):
    """The worker ignores SIGINT: Ctrl-C is the client's to handle. The local cluster's first
    workers ignore it from their start (batch.workers_ignore_ctrl_c); this covers a worker the
    nanny starts later in place of one that died."""

    name = "p4p-ignore-ctrl-c"

    def setup(self, worker: Any) -> None:
        with suppress(ValueError):  # not the process's main thread: it receives no Ctrl-C there
            signal.signal(signal.SIGINT, signal.SIG_IGN)
