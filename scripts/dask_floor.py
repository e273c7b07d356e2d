#!/usr/bin/env python3
"""The ceiling of `p4p batch`'s scaling on this machine: Dask alone, no p4p.

A local cluster started as `p4p batch` starts it (worker processes of one thread, no dashboard)
runs TASKS tasks of pure Python arithmetic, ITERATIONS loop turns each, and is closed again. It
prints one JSON line: the whole script's wall seconds (interpreter start to exit) and its
computing phase (first task handed out to last result back). `scripts/bench.py` runs it with 1
and 2 workers on as much work as `p4p batch` does, so the two scalings can be compared.

  python scripts/dask_floor.py WORKERS TASKS ITERATIONS
"""

from __future__ import annotations

import json
import sys
import time

START = time.perf_counter()


def spin(iterations: int) -> int:
    total = 0
    for i in range(iterations):
        total += i * i
    return total


def main() -> None:
    from distributed import Client, LocalCluster, as_completed

    workers, tasks, iterations = (int(a) for a in sys.argv[1:4])
    with (
        LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None) as cluster,
        Client(cluster) as client,
    ):
        begun = time.perf_counter()
        for fut in as_completed([client.submit(spin, iterations, pure=False) for _ in range(tasks)]):
            fut.result()
        computing = time.perf_counter() - begun
    print(json.dumps({"computing": computing, "started": begun - START}))


if __name__ == "__main__":
    main()
