#!/usr/bin/env python3
"""make bench: province-scale timing of `p4p run --no-pdf`, and statement throughput.

1. A province-scale quarter (≈20,000 institutions, 200,000 work-point rows) from
   scripts/gen_alliance.py, run with --no-pdf: wall time and peak memory of the process.
2. A county of ≈300 institutions: `p4p statements` with --jobs 1 and --jobs 2 (all cores),
   statements per second.
Prints a Markdown table (copied into the README's Figures section by hand).
"""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
P4P = str(Path(sys.executable).with_name("p4p"))
DATA = ROOT / "bench-data"


def gen(out: Path, **kw):
    if (out / "2026Q1" / "institutions.csv").is_file():
        return
    args = [sys.executable, str(ROOT / "scripts" / "gen_alliance.py"), str(out), "--quarters", "1"]
    for k, v in kw.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    subprocess.run(args, check=True)


def timed(args) -> tuple[float, float, str]:
    """Wall seconds, peak RSS of the child (MB), stdout."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t = time.perf_counter()
    r = subprocess.run(args, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if r.returncode != 0:
        sys.exit(f"benchmark command failed: {' '.join(args)}\n{r.stderr[-2000:]}")
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024, r.stdout


def main():
    province, county = DATA / "province", DATA / "county"
    gen(province, townships=2000, villages=9, workpoint_rows=10, alliance="省级基准测试医共体", seed=11)
    gen(county, townships=30, villages=9, alliance="县级基准测试医共体", seed=12)
    work = Path(tempfile.mkdtemp(prefix="p4p-bench-"))
    try:
        n_inst = sum(1 for _ in open(province / "2026Q1" / "institutions.csv", encoding="utf-8")) - 1
        n_wp = sum(1 for _ in open(province / "2026Q1" / "workpoints.csv", encoding="utf-8")) - 1
        runs = [
            timed([P4P, "run", str(province / "2026Q1"), "--no-pdf", "--archive", str(work / "a")]) for _ in range(2)
        ]
        wall = min(r[0] for r in runs)
        peak = max(r[1] for r in runs)
        _, _, out = timed([P4P, "run", str(county / "2026Q1"), "--no-pdf", "--archive", str(work / "c")])
        run_dir = out.strip().splitlines()[-1]
        n_st = len({l.split(",")[1] for l in open(Path(run_dir) / "ledger.csv", encoding="utf-8-sig").readlines()[1:]})
        rates = {}
        for jobs in (1, os.cpu_count() or 1):
            w, _, _ = timed([P4P, "statements", run_dir, "--out", str(work / f"st{jobs}"), "--jobs", str(jobs)])
            rates[jobs] = (w, (n_st + 1) / w)
        print("\n| measure | figure |\n| --- | --- |")
        print(f"| province quarter: institutions / work-point rows | {n_inst:,} / {n_wp:,} |")
        print(f"| `p4p run --no-pdf`, wall (best of 2) | {wall:.1f} s |")
        print(f"| peak memory of that process | {peak:.0f} MB |")
        for jobs, (w, rate) in rates.items():
            print(
                f"| statements + summary.pdf for {n_st} institutions, --jobs {jobs} | {w:.1f} s = {rate:.1f} PDFs/s |"
            )
        print(f"\nmachine: {os.cpu_count()} cores, Python {sys.version.split()[0]}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
