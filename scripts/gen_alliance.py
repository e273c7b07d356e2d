#!/usr/bin/env python3
"""Generate a synthetic alliance-year of inputs (SPEC §3): four quarter folders.

Used for the shipped demo (`inputs/demo`, small, realistic) and for the benchmark
(province scale). Deterministic for a given seed. Not derived from shared/acceptance.

  python scripts/gen_alliance.py OUT --townships 4 --villages 3 --seed 7
  python scripts/gen_alliance.py OUT --townships 2000 --villages 9 --quarters 1 --workpoint-events 10000000
      (province scale: ~20,000 institutions, workpoints.csv with one row per service, 10^7 rows)
"""

from __future__ import annotations

import argparse
import csv
import random
from pathlib import Path

ITEMS = ["EHR", "HTN", "DM", "ELD", "CHILD", "MAT", "SMI", "TB", "TCM", "EDU"]
TOWNS = [
    "深渡镇",
    "王村镇",
    "杞梓里镇",
    "徽城镇",
    "郑村镇",
    "富堨镇",
    "北岸镇",
    "雄村镇",
    "桂林镇",
    "溪头镇",
    "许村镇",
    "霞坑镇",
    "岔口镇",
    "街口镇",
    "璜田乡",
    "长陔乡",
    "昌溪乡",
    "武阳乡",
    "三阳镇",
    "金川乡",
]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙胡朱高林何郭马罗"


def money(x: float) -> str:
    return f"{x:.2f}"


def generate(  # noqa: C901, PLR0912, PLR0917  (one straight-line generator; its options are its arguments)
    out: Path,
    townships: int,
    villages: int,
    seed: int,
    year: int,
    alliance: str,
    wp_rows_per_unit: int | None = None,
    thousands: bool = True,
    quarters: int = 4,
    edgy: bool = False,
    workpoint_events: int | None = None,
):
    """edgy: many of the awkward cases at once (band-edge scores, vetoes, zero targets, villages
    without guarantee, units that stop reporting or leave in Q4, low incomes, an insurance
    deficit or surplus by seed) — for cross-checking the engine, not for the demo."""
    rnd = random.Random(seed)
    p_veto, p_g0, p_t0 = (0.1, 0.25, 0.2) if edgy else (0.03, 0.15, 0.08)
    insts = [("L01", "歙县人民医院", "lead_hospital", "", 860, 24_680_000 + rnd.randint(0, 99999) / 100, 0, 0, 0, "")]
    n_county = max(1, townships // 10)
    for c in range(1, n_county + 1):
        insts.append(
            (
                f"C{c:02d}",
                f"歙县第{c + 1}人民医院" if c > 1 else "歙县中医医院",
                "county_hospital",
                "",
                rnd.randint(80, 300),
                rnd.randint(1_500_000, 6_000_000) + rnd.randint(0, 99) / 100,
                0,
                0,
                0,
                "",
            )
        )
    for t in range(1, townships + 1):
        tid = f"T{t:03d}" if townships > 99 else f"T{t:02d}"
        town = TOWNS[(t - 1) % len(TOWNS)] + ("" if t <= len(TOWNS) else str((t - 1) // len(TOWNS) + 1))
        insts.append(
            (
                tid,
                f"{town}卫生院",
                "township",
                "L01",
                rnd.randint(8, 60),
                rnd.randint(600_000, 2_200_000) + rnd.randint(0, 99) / 100,
                rnd.randint(8_000, 30_000),
                0,
                0,
                f"{rnd.choice(SURNAMES)}{rnd.choice('建国华明红军丽平强伟')}",
            )
        )
        for v in range(1, villages + 1):
            guarantee = 0 if rnd.random() < p_g0 else 1
            target = 0 if rnd.random() < p_t0 else rnd.randint(300, 900)
            insts.append(
                (
                    f"{tid}V{v:02d}",
                    f"{town}{v}村卫生室",
                    "village",
                    tid,
                    rnd.randint(1, 3),
                    0.0,
                    rnd.randint(600, 3_500),
                    guarantee,
                    target,
                    "",
                )
            )
    budget = 38 * sum(i[6] for i in insts)
    for qn in range(1, quarters + 1):
        d = out / f"{year}Q{qn}"
        d.mkdir(parents=True, exist_ok=True)
        period = [f"period: {year}Q{qn}", f"alliance: {alliance}", f"ph_annual_budget: {budget:.2f}"]
        gone = set()
        if qn == 4 and edgy:  # one village leaves the alliance before Q4 but is still settled
            gone = {next(i[0] for i in insts if i[2] == "village")}
        if qn == 4:
            mi_budget = 900 * sum(i[6] for i in insts) + 20_000_000
            spent = mi_budget * (0.985 + rnd.random() * 0.01)
            if edgy:
                spent = mi_budget * [0.995, 1.02, 1.08, 1.0][seed % 4]  # surplus, deficit within/beyond 5 %, nil
            period += [
                f"mi_budget: {mi_budget:.2f}",
                f"mi_spent: {spent:.2f}",
                f"alliance_score: {rnd.randint(780, 960) / 10}",
            ]
        (d / "period.yaml").write_text("\n".join(period) + "\n", encoding="utf-8")
        with open(d / "institutions.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(
                [
                    "inst_id",
                    "name",
                    "kind",
                    "parent_id",
                    "staff_count",
                    "perf_base_annual",
                    "population",
                    "guarantee",
                    "workload_target",
                    "director",
                ]
            )
            for i in insts:
                if i[0] in gone:
                    continue
                amt = f"{i[5]:,.2f}" if thousands and qn == 2 else money(i[5])
                w.writerow([i[0], i[1], i[2], i[3], i[4], amt, i[6], i[7], i[8], i[9]])
        with open(d / "assessment.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["inst_id", "score", "veto", "veto_reason"])
            for i in insts:
                if i[0] in gone:
                    continue
                score = max(0, min(100, round(rnd.gauss(84, 8), 1)))
                if edgy:
                    score = rnd.choice(
                        [59.9, 60, 69.9, 70, 79.9, 80, 89.9, 90, 94.9, 95, 100, 0, round(rnd.uniform(40, 100), 1)]
                    )
                veto = 1 if rnd.random() < p_veto else 0
                w.writerow([i[0], score, veto, "发生重大医疗安全事件" if veto else ""])
        with open(d / "workpoints.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["inst_id", "item", "count"])
            for i in insts:
                if i[2] not in ("township", "village") or i[0] in gone:
                    continue
                scale = 25 if i[2] == "township" else 1
                if qn == 4 and rnd.random() < (0.4 if edgy else 0.25):  # little Q4 work: pays advances back
                    scale = max(1, scale // 25) if i[2] == "township" else 0
                elif qn == 4 and edgy:
                    scale *= 4  # the year-end rush of the others makes the idle ones repay
                items = ITEMS if wp_rows_per_unit is None else [ITEMS[k % len(ITEMS)] for k in range(wp_rows_per_unit)]
                for item in items:
                    if wp_rows_per_unit is None and rnd.random() < 0.15:
                        continue
                    w.writerow([i[0], item, rnd.randint(0, 120) * scale])
        if workpoint_events is not None:
            units = [i[0] for i in insts if i[2] in ("township", "village") and i[0] not in gone]
            write_events(d / "workpoints.csv", units, workpoint_events, seed * 10 + qn)
        with open(d / "village_income.csv", "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f)
            w.writerow(["inst_id", "drug_subsidy", "service_fee", "operating_subsidy", "medical_income", "visits"])
            low = 0.3 if edgy else 1.0
            for i in insts:
                if i[2] == "village" and i[7] == 1 and i[0] not in gone:
                    w.writerow(
                        [
                            i[0],
                            money(rnd.uniform(300, 1600) * low),
                            money(rnd.uniform(300, 1800) * low),
                            money(rnd.uniform(300, 1000) * low),
                            money(rnd.uniform(0, 4000) * low),
                            rnd.randint(0, 1100),
                        ]
                    )


def write_events(path: Path, units: list[str], n: int, seed: int, chunk: int = 1_000_000):
    """workpoints.csv with one row per service delivered (count 1): n rows over the units."""
    import numpy as np

    rng = np.random.default_rng(seed)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write("inst_id,item,count\n")
        for start in range(0, n, chunk):
            m = min(chunk, n - start)
            who = rng.integers(0, len(units), m).tolist()
            what = rng.integers(0, len(ITEMS), m).tolist()
            f.write("".join(f"{units[u]},{ITEMS[k]},1\n" for u, k in zip(who, what, strict=True)))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path)
    ap.add_argument("--townships", type=int, default=4)
    ap.add_argument("--villages", type=int, default=3)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--year", type=int, default=2026)
    ap.add_argument("--alliance", default="歙县紧密型县域医共体")
    ap.add_argument("--workpoint-rows", type=int, default=None, help="rows per unit (benchmark)")
    ap.add_argument("--quarters", type=int, default=4)
    ap.add_argument("--edgy", action="store_true", help="many awkward cases (for cross-checks)")
    ap.add_argument(
        "--workpoint-events", type=int, default=None, help="workpoints.csv as N rows of one service each (benchmark)"
    )
    a = ap.parse_args()
    generate(
        a.out,
        a.townships,
        a.villages,
        a.seed,
        a.year,
        a.alliance,
        a.workpoint_rows,
        quarters=a.quarters,
        edgy=a.edgy,
        workpoint_events=a.workpoint_events,
    )
