#!/usr/bin/env python3
"""An independent, vectorised computation of a Q1–Q3 quarter of SPEC §4 (R1–R4, R6) with pandas
and integer arithmetic — the yardstick `make bench` compares `p4p run` against.

It shares no code with p4p: the rule numbers are written here as SPEC §4 states them, amounts
are integer fen (exact: a quotient is floored or rounded with integer division, never a float),
largest remainder ties go to the smaller inst_id. It reads the plain CSV form the bench
generator writes (English headers, UTF-8, no thousands separators) and writes the ledger lines
(inst_id, item, amount, quantity) sorted, so the bench can also check that both agree.

  python scripts/vectorised_reference.py INPUT_DIR OUT.csv
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd

POINTS = {"EHR": 1, "HTN": 4, "DM": 4, "ELD": 10, "CHILD": 3, "MAT": 5, "SMI": 5, "TB": 5, "TCM": 2, "EDU": 20}


def fen(col: pd.Series) -> pd.Series:
    """'1234.5' → 123450 exactly (text split at the point, no float)."""
    parts = col.astype(str).str.split(".", n=1, expand=True)
    whole = parts[0].astype("int64")
    frac = parts[1].fillna("").str.ljust(2, "0").str[:2] if parts.shape[1] > 1 else pd.Series("00", index=col.index)
    return whole * 100 + frac.replace("", "00").astype("int64")


def tenths(col: pd.Series) -> pd.Series:
    parts = col.astype(str).str.split(".", n=1, expand=True)
    whole = parts[0].astype("int64")
    frac = parts[1].fillna("0").str[:1].replace("", "0").astype("int64") if parts.shape[1] > 1 else 0
    return whole * 10 + frac


def band(s10: np.ndarray, veto: np.ndarray, edges: list[tuple[int, int]]) -> np.ndarray:
    """Coefficient in hundredths for the first edge (lower bound in tenths) the score reaches."""
    out = np.zeros(len(s10), dtype=np.int64)
    for lo, value in sorted(edges, reverse=True):
        out = np.where((out == 0) & (s10 >= lo), value, out)
    return np.where(veto == 1, 0, out)


def round_div(num: np.ndarray, den: int | np.ndarray) -> np.ndarray:
    """round half up of num/den for num ≥ 0 (integers)."""
    return (2 * num + den) // (2 * den)


def largest_remainder(total: int, weights: np.ndarray) -> np.ndarray:
    """weights: non-negative integers in inst_id order."""
    s = int(weights.sum())
    if s == 0:
        return np.zeros(len(weights), dtype=object)
    w = weights.astype(object)
    prod = w * total
    floor, rest = prod // s, prod % s
    left = total - int(floor.sum())
    order = np.argsort(-rest.astype(float) if rest.max() < 2**52 else -rest, kind="stable")
    floor[order[:left]] += 1
    return floor


def quarter(folder: Path) -> pd.DataFrame:
    inst = pd.read_csv(folder / "institutions.csv", dtype=str, keep_default_na=False).sort_values("inst_id")
    ass = pd.read_csv(folder / "assessment.csv", dtype=str, keep_default_na=False).set_index("inst_id")
    wp = pd.read_csv(folder / "workpoints.csv", dtype={"inst_id": str, "item": str, "count": "int64"})
    inc = pd.read_csv(folder / "village_income.csv", dtype=str, keep_default_na=False).set_index("inst_id")
    budget = next(int(fen(pd.Series([line.split(":", 1)[1].strip()]))[0])
                  for line in (folder / "period.yaml").read_text(encoding="utf-8").splitlines()
                  if line.startswith("ph_annual_budget"))  # fmt: skip
    df = inst.set_index("inst_id").join(ass, how="left")
    s10 = tenths(df["score"]).to_numpy()
    veto = df["veto"].astype("int64").to_numpy()
    kind = df["kind"].to_numpy()
    base = fen(df["perf_base_annual"].replace("", "0")).to_numpy()
    staff = df["staff_count"].replace("", "0").astype("int64").to_numpy()
    k = band(s10, veto, [(900, 100), (800, 90), (700, 80), (600, 60)])
    m = band(s10, veto, [(950, 200), (900, 180), (800, 150), (600, 100)])
    ids = df.index.to_numpy()
    lines = []
    pool = np.isin(kind, ["lead_hospital", "county_hospital", "township"])
    # R2: round2(base/4 × k) in fen: base(fen) × k(hundredths) / 400
    perf = round_div(base * k, 400)
    lines.append(pd.DataFrame({"inst_id": ids[pool], "item": "PERF_POOL", "amount": perf[pool],
                               "quantity": k[pool] / 100}))  # fmt: skip
    town = kind == "township"
    # R3: round2(min(base/4/staff × m, 15000)) in fen: base × m / (400 × staff), capped
    bonus = np.minimum(round_div(base[town].astype(object) * m[town], 400 * staff[town]), 1_500_000)
    lines.append(pd.DataFrame({"inst_id": ids[town], "item": "DIRECTOR_BONUS", "amount": bonus,
                               "quantity": m[town] / 100}))  # fmt: skip
    # R4: raw points, q = s/100 (s ≥ 60), w = p × s10 in thousandths … as integers p × s10
    wp["p"] = wp["count"] * wp["item"].map(POINTS)
    raw = wp.groupby("inst_id")["p"].sum()
    ph = np.isin(kind, ["township", "village"])
    p = raw.reindex(ids[ph], fill_value=0).to_numpy().astype(object)
    q10 = np.where(s10[ph] >= 600, s10[ph], 0).astype(object)
    w = p * q10  # weighted points × 1000
    fund = int(round_div(np.array([budget], dtype=object) * 25 * 80, 10000)[0])  # round2(B × 0.25 × 0.80)
    share = largest_remainder(fund, w)
    lines.append(pd.DataFrame({"inst_id": ids[ph], "item": "PH_FUND", "amount": share, "quantity": w / 1000}))
    ph_of = dict(zip(ids[ph], share, strict=True))
    # R6: villages with guarantee
    g = (kind == "village") & (df["guarantee"].to_numpy() == "1")
    gi = ids[g]
    income = sum(fen(inc.loc[gi, c]).to_numpy() for c in ("drug_subsidy", "service_fee", "operating_subsidy",
                                                            "medical_income"))  # fmt: skip
    income = income + np.array([ph_of.get(i, 0) for i in gi], dtype=np.int64)
    short = np.maximum(0, 1_200_000 - income).astype(object)
    visits = inc.loc[gi, "visits"].astype("int64").to_numpy().astype(object)
    target = df.loc[gi, "workload_target"].replace("", "0").astype("int64").to_numpy().astype(object)
    num = np.where(target == 0, 1, np.minimum(visits, target))
    den = np.where(target == 0, 1, target)
    topup = round_div(short * k[g].astype(object) * num, 100 * den)
    lines.append(pd.DataFrame({"inst_id": gi, "item": "VILLAGE_TOPUP", "amount": topup,
                               "quantity": (num / den).astype(float)}))  # fmt: skip
    out = pd.concat(lines, ignore_index=True).sort_values(["inst_id", "item"], kind="stable")
    return out


def main() -> None:
    folder, out = Path(sys.argv[1]), Path(sys.argv[2])
    led = quarter(folder)
    amounts = led["amount"].astype(object)
    led["amount"] = [f"{'-' if a < 0 else ''}{abs(a) // 100}.{abs(a) % 100:02d}" for a in amounts]
    led[["inst_id", "item", "amount"]].to_csv(out, index=False)


if __name__ == "__main__":
    main()
