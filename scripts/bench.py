#!/usr/bin/env python3
"""make bench: the province-scale figures of the README ("Figures"), in one run.

1. p4p against a vectorised computation of the same quarter (scripts/vectorised_reference.py,
   pandas + integers, R1–R4 and R6 only) at 20,000 and 100,000 institutions: CPU seconds of the
   `p4p run --no-pdf` process including its child processes, and of the reference; peak memory;
   whether both give the same amounts.
2. 10^7 work-point rows (one row per service delivered) end to end: `p4p run --no-pdf`.
3. Statements per second, `p4p statements RUN --jobs 1|2` on a county run of ~300 institutions.
4. `p4p batch` on 40 alliances of ~500 institutions with 1 and 2 workers, --no-pdf (scaling; three
   turns each, medians and the range of the pairs);
   with statements on the first --pdf-alliances of them (20,000 PDFs would take an hour);
   and Dask alone on as much pure arithmetic (scripts/dask_floor.py): the scaling this machine
   gives a local cluster at all.

Data are generated into ./bench-data with scripts/gen_alliance.py and kept (regenerated when
the generator's arguments change). Progress goes to stderr; the Markdown table to stdout.

  python scripts/bench.py [--pdf-alliances N] [--profile] [--only NAME,…]

--profile also writes cProfile summaries of the 20k and 100k runs (bench-data/profile-*.txt).
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PY = sys.executable
P4P = str(Path(sys.executable).with_name("p4p"))
DATA = ROOT / "bench-data"
GEN = ROOT / "scripts" / "gen_alliance.py"
REFERENCE = ROOT / "scripts" / "vectorised_reference.py"
REFERENCE_ITEMS = {"PERF_POOL", "DIRECTOR_BONUS", "PH_FUND", "VILLAGE_TOPUP"}
BATCH_ALLIANCES = 40


def say(msg: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---- data -------------------------------------------------------------------------------------


def gen(out: Path, **kw: object) -> Path:
    """One Q1 from gen_alliance.py into out/2026Q1 (kept while its arguments are the same)."""
    args = [str(out), "--quarters", "1"]
    for k, v in sorted(kw.items()):
        args += [f"--{k.replace('_', '-')}", str(v)]
    stamp = out / "gen-args.json"
    if stamp.is_file() and json.loads(stamp.read_text(encoding="utf-8")) == args:
        return out / "2026Q1"
    shutil.rmtree(out, ignore_errors=True)
    say(f"generating {out.relative_to(ROOT)} ({' '.join(args[1:])})")
    subprocess.run([PY, str(GEN), *args], check=True)
    stamp.write_text(json.dumps(args, ensure_ascii=False), encoding="utf-8")
    return out / "2026Q1"


def batch_province(n: int, townships: int) -> Path:
    """n alliances of ~10 × townships institutions, each its own folder with a 2026Q1."""
    root = DATA / f"batch{n}"
    for i in range(n):
        gen(root / f"a{i + 1:02d}", townships=townships, villages=9, seed=100 + i, alliance=f"基准测试第{i + 1}医共体")
    return root


def subset(src: Path, n: int) -> Path:
    """The first n alliances of a batch province (links, no copies)."""
    dst = DATA / f"{src.name}-first{n}"
    shutil.rmtree(dst, ignore_errors=True)
    dst.mkdir(parents=True)
    for d in sorted(src.iterdir())[:n]:
        (dst / d.name).symlink_to(d.resolve())
    return dst


def count_rows(path: Path) -> int:
    with open(path, "rb") as f:
        return sum(1 for _ in f) - 1


# ---- measuring a command -----------------------------------------------------------------------


@dataclass
class Measure:
    wall: float  # seconds
    cpu: float  # user + system seconds of the process and every child it waited for
    peak_mb: float  # largest resident set of the process or any of its children
    stdout: str
    stderr: str


def measure(args: list[str], ok: tuple[int, ...] = (0,)) -> Measure:
    """Run a command; its own rusage via wait4 (children included, the way the kernel sums
    them: CPU added up, peak memory the largest single process)."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        t = time.perf_counter()
        p = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, ru = os.wait4(p.pid, 0)
        wall = time.perf_counter() - t
        p.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        text, errors = out.read().decode("utf-8", "replace"), err.read().decode("utf-8", "replace")
    if p.returncode not in ok:
        sys.exit(f"benchmark command failed ({p.returncode}): {' '.join(args)}\n{errors[-3000:]}")
    return Measure(wall, ru.ru_utime + ru.ru_stime, ru.ru_maxrss / 1024, text, errors)


def best(n: int, fn: Callable[[], Measure]) -> Measure:
    """Best of n (least CPU; the machine is shared, the least disturbed run is the truest)."""
    runs = [fn() for _ in range(n)]
    return min(runs, key=lambda m: m.cpu)


def p4p_run(inp: Path, archive: Path, *extra: str) -> Measure:
    return measure([P4P, "run", str(inp), "--no-pdf", "--archive", str(archive), *extra])


def last_line(m: Measure) -> Path:
    return Path(m.stdout.strip().splitlines()[-1])


# ---- the figures ------------------------------------------------------------------------------


def agreement(run_dir: Path, ref_csv: Path) -> str:
    """Whether p4p and the reference give the same amounts for the items the reference computes."""
    with open(run_dir / "ledger.csv", encoding="utf-8-sig") as f:
        mine = {
            (r["inst_id"], r["item"]): Decimal(r["amount"]) for r in csv.DictReader(f) if r["item"] in REFERENCE_ITEMS
        }
    with open(ref_csv, encoding="utf-8") as f:
        ref = {(r["inst_id"], r["item"]): Decimal(r["amount"]) for r in csv.DictReader(f)}
    differ = sum(1 for k in mine.keys() | ref.keys() if mine.get(k) != ref.get(k))
    return f"all {len(ref):,} lines equal" if differ == 0 else f"**{differ:,} of {len(ref):,} lines differ**"


def versus_reference(label: str, inp: Path, work: Path, rows: list[tuple[str, str]], target: str) -> None:
    n_inst, n_wp = count_rows(inp / "institutions.csv"), count_rows(inp / "workpoints.csv")
    say(f"{label}: p4p run --no-pdf ({n_inst:,} institutions, {n_wp:,} work-point rows), best of 2")
    runs = [p4p_run(inp, work / f"{label}-{i}") for i in range(2)]
    mine = min(runs, key=lambda m: m.cpu)
    say(f"{label}: vectorised reference, best of 2")
    ref_csv = work / f"{label}-ref.csv"
    ref = best(2, lambda: measure([PY, str(REFERENCE), str(inp), str(ref_csv)]))
    same = agreement(last_line(mine), ref_csv)
    rows += [
        (f"{label}: institutions / work-point rows", f"{n_inst:,} / {n_wp:,}"),
        (f"{label}: `p4p run --no-pdf` CPU incl. children (wall)", f"{mine.cpu:.1f} s ({mine.wall:.1f} s)"),
        (f"{label}: vectorised reference CPU (wall)", f"{ref.cpu:.1f} s ({ref.wall:.1f} s)"),
        (f"{label}: ratio p4p / reference (CPU)", f"{mine.cpu / ref.cpu:.1f}× {target}"),
        (f"{label}: peak memory p4p / reference", f"{mine.peak_mb:,.0f} MB / {ref.peak_mb:,.0f} MB"),
        (f"{label}: p4p and reference amounts (R1–R4, R6)", same),
    ]


def events(inp: Path, work: Path, rows: list[tuple[str, str]]) -> None:
    n_wp = count_rows(inp / "workpoints.csv")
    say(f"10^7 rows: p4p run --no-pdf ({n_wp:,} work-point rows)")
    m = p4p_run(inp, work / "events")
    what = f"{n_wp:,} work-point rows ({count_rows(inp / 'institutions.csv'):,} institutions): wall (CPU)"
    rows += [
        (what, f"{m.wall:.1f} s ({m.cpu:.1f} s) (target ≤ 30 s)"),
        ("that run's peak memory", f"{m.peak_mb:,.0f} MB (target ≤ 4 GB)"),
    ]


def statements(inp: Path, work: Path, rows: list[tuple[str, str]]) -> None:
    run_dir = last_line(p4p_run(inp, work / "county"))
    n = count_rows(run_dir / "inputs" / "institutions.csv")
    for jobs in (1, 2):
        say(f"statements: {n} institutions, --jobs {jobs}")
        m = measure([P4P, "statements", str(run_dir), "--out", str(work / f"st{jobs}"), "--jobs", str(jobs)])
        rows.append((f"statements + summary.pdf for {n} institutions, `--jobs {jobs}`",
                     f"{m.wall:.1f} s = {(n + 1) / m.wall:.1f} PDFs/s ({m.cpu:.1f} s CPU)"))  # fmt: skip


READY = re.compile(r"^\[\s*([\d.]+)s\] \d+ 个计算进程已就绪", re.M)
DONE = re.compile(r"^\[\s*([\d.]+)s\] (\d+)/(\d+) ", re.M)


def batch(province: Path, work: Path, rows: list[tuple[str, str]], pdf: bool, target: str, repeats: int = 1) -> float:
    """The whole command (start-up and shut-down of the local cluster included) and its computing
    phase: from the moment the workers are up to the last alliance archived (the command's
    progress lines on stderr). With `repeats`, 1 and 2 workers take turns that many times and the
    medians are reported, with the range of the pairs' ratios (this machine is shared: one pair
    of runs can be off by a fifth)."""
    n = sum(1 for _ in province.iterdir())
    what = "with statements" if pdf else "`--no-pdf`"
    runs: dict[int, list[tuple[float, float, float]]] = {1: [], 2: []}
    for r in range(repeats):
        for workers in (1, 2):
            say(f"batch: {n} alliances, --workers {workers}{'' if pdf else ' --no-pdf'} ({r + 1}/{repeats})")
            archive = work / f"batch-{workers}-{r}-{'pdf' if pdf else 'nopdf'}"
            m = measure([P4P, "batch", str(province), "--archive", str(archive), "--workers", str(workers),
                         *([] if pdf else ["--no-pdf"])])  # fmt: skip
            ready, last = READY.search(m.stderr), [d for d in DONE.finditer(m.stderr) if d[2] == d[3]]
            phase = float(last[-1][1]) - float(ready[1]) if ready and last else float("nan")
            runs[workers].append((m.wall, phase, m.cpu))
    med = {w: [statistics.median(x[k] for x in runs[w]) for k in range(3)] for w in (1, 2)}
    label = f"median of {repeats}, " if repeats > 1 else ""
    for workers in (1, 2):
        wall, phase, cpu = med[workers]
        rows.append((f"`p4p batch` {n} alliances × ~{_size(province)} institutions, {what}, {workers} worker(s)",
                     f"{label}{wall:.1f} s wall, of which computing {phase:.1f} s ({cpu:.1f} s CPU)"))  # fmt: skip
    whole = med[1][0] / med[2][0]
    computing = med[1][1] / med[2][1]
    spread = ""
    if repeats > 1:
        pairs = [(a[0] / b[0], a[1] / b[1]) for a, b in zip(runs[1], runs[2], strict=True)]
        spread = (f" (pairs: {min(p[0] for p in pairs):.2f}–{max(p[0] for p in pairs):.2f}× / "
                  f"{min(p[1] for p in pairs):.2f}–{max(p[1] for p in pairs):.2f}×)")  # fmt: skip
    rows.append((f"scaling 1 → 2 workers, {what}: whole command / computing phase",
                 f"{whole:.2f}× / {computing:.2f}×{spread} {target}"))  # fmt: skip
    return med[1][1]


FLOOR = ROOT / "scripts" / "dask_floor.py"


def dask_floor(seconds: float, tasks: int, rows: list[tuple[str, str]], repeats: int = 3) -> None:
    """Dask alone (scripts/dask_floor.py): `tasks` tasks of pure arithmetic adding up to `seconds`
    of one worker's computing, 1 and 2 workers taking turns, medians — the scaling this machine
    gives a local cluster with no p4p in it, to read the batch figures against."""
    iterations = int(seconds / tasks / _seconds_per_turn())
    runs: dict[int, list[tuple[float, float]]] = {1: [], 2: []}
    for r in range(repeats):
        for workers in (1, 2):
            say(f"Dask alone: {tasks} tasks of pure arithmetic, {workers} worker(s) ({r + 1}/{repeats})")
            m = measure([PY, str(FLOOR), str(workers), str(tasks), str(iterations)])
            runs[workers].append((m.wall, json.loads(m.stdout)["computing"]))
    med = {w: [statistics.median(x[k] for x in runs[w]) for k in range(2)] for w in (1, 2)}
    rows.append((f"Dask alone, no p4p: {tasks} tasks of pure arithmetic (≈{seconds:.1f} s for one worker), 1 → 2 "
                 "workers, whole script / computing phase (median of 3)",
                 f"{med[1][0]:.1f} → {med[2][0]:.1f} s, {med[1][0] / med[2][0]:.2f}× / "
                 f"{med[1][1]:.1f} → {med[2][1]:.1f} s, {med[1][1] / med[2][1]:.2f}×"))  # fmt: skip


def _seconds_per_turn() -> float:
    """The arithmetic loop of dask_floor.py, timed here (best of three)."""
    sys.path.insert(0, str(FLOOR.parent))
    from dask_floor import spin

    n = 2_000_000
    best_time = float("inf")
    for _ in range(3):
        t = time.perf_counter()
        spin(n)
        best_time = min(best_time, time.perf_counter() - t)
    return best_time / n


def _size(province: Path) -> int:
    first = sorted(province.iterdir())[0] / "2026Q1" / "institutions.csv"
    return count_rows(first)


def profile(inp: Path, work: Path, label: str) -> Path:
    """cProfile of `p4p run --no-pdf` in one process: the 30 heaviest functions by own time
    and by cumulative time."""
    out = DATA / f"profile-{label}.txt"
    code = (
        "import cProfile, pstats, io, sys\n"
        "from p4p.cli import main\n"
        "pr = cProfile.Profile()\n"
        "pr.enable()\n"
        "try:\n"
        f"    main([{str(inp)!r}, '--no-pdf', '--archive', {str(work / ('prof-' + label))!r}], prog_name='p4p')\n"
        "except SystemExit:\n"
        "    pass\n"
        "pr.disable()\n"
        "s = io.StringIO()\n"
        "for key in ('tottime', 'cumulative'):\n"
        "    pstats.Stats(pr, stream=s).sort_stats(key).print_stats(30)\n"
        f"open({str(out)!r}, 'w').write(s.getvalue())\n"
    ).replace("main([", "main(['run', ")
    say(f"profiling {label}")
    subprocess.run([PY, "-c", code], check=True, capture_output=True)
    return out


def table(rows: list[tuple[str, str]]) -> str:
    out = ["| measure | figure |", "| --- | --- |"]
    out += [f"| {a} | {b} |" for a, b in rows]
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pdf-alliances", type=int, default=2, help="alliances of the batch run with statements")
    ap.add_argument("--profile", action="store_true", help="also write cProfile summaries of the 20k and 100k runs")
    ap.add_argument("--only", default="", help="comma-separated: 20k,100k,events,statements,batch,batch-pdf")
    a = ap.parse_args()
    only = set(a.only.split(",")) if a.only else {"20k", "100k", "events", "statements", "batch", "batch-pdf"}
    p20k = gen(DATA / "p20k", townships=2000, villages=9, workpoint_rows=10, seed=11, alliance="省级基准测试医共体")
    p100k = gen(
        DATA / "p100k", townships=10000, villages=9, workpoint_rows=10, seed=13, alliance="十万机构基准测试医共体"
    )
    ev = gen(DATA / "events", townships=2000, villages=9, workpoint_events=10_000_000, seed=17, alliance="工分明细基准测试医共体")  # fmt: skip
    county = gen(DATA / "county", townships=30, villages=9, seed=12, alliance="县级基准测试医共体")
    province = batch_province(BATCH_ALLIANCES, 50)
    rows: list[tuple[str, str]] = []
    work = Path(tempfile.mkdtemp(prefix="p4p-bench-"))
    t0 = time.perf_counter()
    try:
        if "20k" in only:
            versus_reference("20k", p20k, work, rows, "(target ≤ 3×)")
        if "100k" in only:
            versus_reference("100k", p100k, work, rows, "(target: p4p ≤ 6 s CPU, ≤ 1 GB)")
        if "events" in only:
            events(ev, work, rows)
        if "statements" in only:
            statements(county, work, rows)
        if "batch" in only:
            one_worker = batch(province, work, rows, False, "(target ≥ 1.8×)", repeats=3)
            dask_floor(one_worker, BATCH_ALLIANCES, rows)
        if "batch-pdf" in only:
            batch(subset(province, a.pdf_alliances), work, rows, True, "(target ≥ 1.4×)")
        if a.profile:
            for label, inp in (("20k", p20k), ("100k", p100k)):
                say(f"cProfile summary: {profile(inp, work, label)}")
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(table(rows))
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"\nmachine: {cores} cores, Python {sys.version.split()[0]}; load average {load:.1f} at the end; "
          f"bench took {time.perf_counter() - t0:.0f} s")  # fmt: skip


if __name__ == "__main__":
    main()
