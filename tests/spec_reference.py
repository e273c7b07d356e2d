"""An independent transcription of SPEC.md §4 — plain Python, no rules engine, no YAML — used
only by tests to cross-check the engine on generated alliances. Deliberately written from the
spec text, not from p4p's code (it shares nothing with p4p but the standard library)."""

from __future__ import annotations

import csv
import math
from decimal import Decimal
from fractions import Fraction as F
from pathlib import Path

POINTS = {"EHR": 1, "HTN": 4, "DM": 4, "ELD": 10, "CHILD": 3, "MAT": 5, "SMI": 5, "TB": 5, "TCM": 2, "EDU": 20}
LEVEL = {"lead_hospital": "county", "county_hospital": "county", "township": "township", "village": "village"}


def _r2(x: F) -> Decimal:
    sign = -1 if x < 0 else 1
    return Decimal(sign * math.floor(abs(x) * 100 + F(1, 2))) / 100


def LR(total: F, weights: dict, order=None) -> dict:
    fen = int(total * 100)
    s = sum(weights.values(), F(0))
    if s == 0:
        return {}
    ex = {k: F(fen) * w / s for k, w in weights.items()}
    fl = {k: math.floor(v) for k, v in ex.items()}
    left = fen - sum(fl.values())
    keys = sorted(weights, key=lambda k: (-(ex[k] - fl[k]), order.index(k) if order else k))
    for k in keys[:left]:
        fl[k] += 1
    return {k: F(v, 100) for k, v in fl.items()}


def k_of(s, veto):
    if veto:
        return F(0)
    return F(1) if s >= 90 else F(9, 10) if s >= 80 else F(8, 10) if s >= 70 else F(6, 10) if s >= 60 else F(0)


def m_of(s, veto):
    if veto:
        return F(0)
    return F(2) if s >= 95 else F(18, 10) if s >= 90 else F(15, 10) if s >= 80 else F(1) if s >= 60 else F(0)


def money(t: str) -> F:
    return F(Decimal(t.replace(",", "")))


def read(folder: Path):
    def rows(name):
        return list(csv.DictReader(open(folder / f"{name}.csv", encoding="utf-8-sig")))

    period = {}
    for line in (folder / "period.yaml").read_text(encoding="utf-8").splitlines():
        if ":" in line:
            k, v = line.split(":", 1)
            period[k.strip()] = v.strip()
    insts = {r["inst_id"]: r for r in rows("institutions")}
    assess = {r["inst_id"]: (F(Decimal(r["score"])), r["veto"] in ("1", "是")) for r in rows("assessment")}
    wp = {}
    for r in rows("workpoints"):
        wp[r["inst_id"]] = wp.get(r["inst_id"], 0) + int(r["count"]) * POINTS[r["item"]]
    inc = {r["inst_id"]: r for r in rows("village_income")}
    return period, insts, assess, wp, inc


def quarter(folder: Path, prior: list[dict]) -> dict:
    """→ {(inst_id, item): (amount F, quantity F|None)} for one quarter; `prior` = earlier
    quarters' results of the same year (Q4 only)."""
    period, insts, assess, wp, inc = read(folder)
    qn = int(period["period"][-1])
    budget = money(period["ph_annual_budget"])
    out = {}
    lead = next(i for i, r in insts.items() if r["kind"] == "lead_hospital")
    for i, r in insts.items():
        s, veto = assess[i]
        if r["kind"] != "village":
            base = money(r["perf_base_annual"])
            k = k_of(s, veto)
            out[(i, "PERF_POOL")] = (F(_r2(base / 4 * k)), k)
        if r["kind"] == "township":
            m = m_of(s, veto)
            out[(i, "DIRECTOR_BONUS")] = (
                F(_r2(min(money(r["perf_base_annual"]) / 4 / int(r["staff_count"]) * m, F(15000)))),
                m,
            )
    units = [i for i, r in insts.items() if r["kind"] in ("township", "village")]
    w = {i: wp.get(i, 0) * (assess[i][0] / 100 if assess[i][0] >= 60 else F(0)) for i in units}
    if qn < 4:
        fund = F(_r2(budget * F(1, 4) * F(8, 10)))
        alloc = LR(fund, w)
        for i in units:
            out[(i, "PH_FUND")] = (alloc.get(i, F(0)), w[i])
        if not alloc:
            out[(lead, "PH_UNDISTRIBUTED")] = (fund, None)
    else:
        prior_w, prior_paid = {}, {}
        for p in prior:
            for (i, item), (a, q) in p.items():
                if item == "PH_FUND":
                    prior_w[i] = prior_w.get(i, 0) + q
                    prior_paid[i] = prior_paid.get(i, 0) + a
        settled = sorted(set(units) | set(prior_w))
        W = {i: prior_w.get(i, F(0)) + w.get(i, F(0)) for i in settled}
        E = LR(budget, W)
        for i in settled:
            out[(i, "PH_FUND")] = (E.get(i, F(0)) - prior_paid.get(i, F(0)), w.get(i, F(0)))
        if not E:
            out[(lead, "PH_UNDISTRIBUTED")] = (budget - sum(prior_paid.values(), F(0)), None)
        U = money(period["mi_budget"]) - money(period["mi_spent"])
        if U >= 0:
            R = F(_r2(U * k_of(F(Decimal(period["alliance_score"])), False)))
            levels = LR(R, {"county": F(6), "township": F(3), "village": F(1)}, order=["county", "township", "village"])
            und = F(0)
            for lvl in ("county", "township", "village"):
                members = [i for i, r in insts.items() if LEVEL[r["kind"]] == lvl]
                wt = {
                    i: (int(insts[i]["population"]) if lvl == "village" else money(insts[i]["perf_base_annual"]))
                    * k_of(*assess[i])
                    for i in members
                }
                a = LR(levels.get(lvl, F(0)), wt)
                if not a:
                    und += levels.get(lvl, F(0))
                for i in members:
                    out[(i, "MI_SURPLUS")] = (a.get(i, F(0)), None)
            if und > 0:
                out[(lead, "MI_UNDISTRIBUTED")] = (und, None)
        else:
            D, L = -U, F(_r2(money(period["mi_budget"]) * F(5, 100)))
            out[(lead, "MI_DEFICIT")] = (-F(_r2(min(D, L) * F(1, 2) + max(F(0), D - L))), None)
    for i, r in insts.items():
        if r["kind"] == "village" and r["guarantee"] in ("1", "是"):
            x = inc[i]
            income = sum(
                (money(x[c]) for c in ("drug_subsidy", "service_fee", "operating_subsidy", "medical_income")), F(0)
            )
            income += out[(i, "PH_FUND")][0] + out.get((i, "MI_SURPLUS"), (F(0), None))[0]
            target = int(r["workload_target"])
            a = F(1) if target == 0 else min(F(1), F(int(x["visits"]), target))
            out[(i, "VILLAGE_TOPUP")] = (F(_r2(max(F(0), F(12000) - income) * k_of(*assess[i]) * a)), a)
    return out
