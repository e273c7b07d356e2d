"""Validation of an alliance-quarter (SPEC §3, §7): raw text tables → typed facts.

Every problem is collected — file, spreadsheet row (header = row 1), column, value, what is
wrong — and nothing is computed from bad input.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation

import pandas as pd

from ..model.facts import Assessment, Institution, Period, Quarter, VillageIncome
from ..model.fields import KIND_ALIASES, KINDS, PERIOD_KEY_ALIASES, PERIOD_KEYS, YES_NO
from ..model.money import MoneyError, parse_int, parse_money
from ..model.problems import Problem
from .tables import RawTable

INST_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
PERIOD_RE = re.compile(r"^(\d{4})Q([1-4])$")
# Names may be long (statements wrap them); only absurd cells, almost surely a paste error, are refused.
MAX_TEXT = 2000


class _Checker:
    def __init__(self, problems: list[Problem]):
        self.problems = problems

    def add(self, t: RawTable, i: int | None, col: str | None, value, message: str):
        where, row, column = t.loc(i, col)
        self.problems.append(Problem(where, row, column, None if value is None else str(value), message))

    def money(self, t, i, col, v, allow_empty=False):
        if v == "" and allow_empty:
            return Decimal("0.00")
        if v == "":
            self.add(t, i, col, v, "不能为空")
            return None
        try:
            d = parse_money(v)
        except MoneyError as e:
            self.add(t, i, col, v, str(e))
            return None
        if d < 0:
            self.add(t, i, col, v, "金额不能为负数")
            return None
        return d

    def integer(self, t, i, col, v, allow_empty=False, minimum=0):
        if v == "" and allow_empty:
            return 0
        try:
            n = parse_int(v)
        except MoneyError:
            self.add(t, i, col, v, "应为整数" if v != "" else "不能为空")
            return None
        if n < minimum:
            self.add(t, i, col, v, f"应为不小于 {minimum} 的整数")
            return None
        return n

    def flag(self, t, i, col, v):
        key = v.lower()
        if key not in YES_NO:
            self.add(t, i, col, v, "应为 0/1 或 是/否")
            return None
        return YES_NO[key]

    def score(self, t, i, col, v):
        s = _score(v)
        if isinstance(s, str):
            self.add(t, i, col, v, s)
            return None
        return s


def _score(v) -> Decimal | str:
    text = str(v).strip()
    try:
        d = Decimal(text)
    except InvalidOperation:
        return "考核得分应为 0–100 的数字" if text else "不能为空"
    if not d.is_finite():
        return "考核得分应为 0–100 的数字"
    if d < 0 or d > 100:
        return "考核得分应在 0–100 之间"
    if d != d.quantize(Decimal("0.1")):
        return "考核得分最多一位小数"
    return d


def _text(c: _Checker, t, i, col, v, required=True) -> str:
    if required and not v:
        c.add(t, i, col, v, "不能为空")
    elif len(v) > MAX_TEXT:
        c.add(t, i, col, v, f"文字过长（超过 {MAX_TEXT} 个字）")
    return v


def validate(
    tables: dict[str, RawTable], period_src: dict, files: dict[str, bytes], service_items, problems: list[Problem]
) -> Quarter | None:
    """Turn raw tables into a Quarter, or add every problem found to `problems`.
    `service_items(period)` gives the work-point item codes of the ruleset in force."""
    c = _Checker(problems)
    period = _period(period_src, problems)
    seen: dict[str, str | None] = {}
    insts = _institutions(c, tables.get("institutions"), seen)
    assess = _assessment(c, tables.get("assessment"), insts, seen)
    items = service_items(period) if period else None
    wp = _workpoints(c, tables.get("workpoints"), insts, items, seen)
    income = _income(c, tables.get("village_income"), insts, seen)
    if problems:
        return None
    return Quarter(period, insts, assess, wp, income, files)


def _period(src: dict, problems: list[Problem]) -> Period | None:
    vals, loc = src["values"], src["loc"]
    start = len(problems)

    def bad(key, value, msg):
        where, row, col = loc(key)
        problems.append(Problem(where, row, col, None if value is None else str(value), msg))

    vals = {PERIOD_KEY_ALIASES.get(str(k).strip(), k): v for k, v in vals.items()}
    raw_period = str(vals.get("period", "")).strip()
    m = PERIOD_RE.match(raw_period)
    if not m:
        bad("period", raw_period or None, "期间应写成 YYYYQn，例如 2026Q1" if raw_period else "缺少 period（期间）")
    alliance = str(vals.get("alliance") or "").strip()
    if not alliance:
        bad("alliance", None, "缺少 alliance（医共体名称）")
    elif len(alliance) > MAX_TEXT:
        bad("alliance", alliance, "文字过长")

    def money(key, required=True):
        if key not in vals or vals[key] is None or str(vals[key]).strip() == "":
            if required:
                bad(key, None, f"缺少 {key}（{PERIOD_KEYS[key]}）")
            return None
        try:
            d = parse_money(str(vals[key]))
        except MoneyError as e:
            bad(key, vals[key], str(e))
            return None
        if d < 0:
            bad(key, vals[key], "金额不能为负数")
            return None
        return d

    budget = money("ph_annual_budget")
    quarter = int(m.group(2)) if m else None
    mi_budget = mi_spent = ascore = None
    if quarter == 4:
        mi_budget, mi_spent = money("mi_budget"), money("mi_spent")
        if vals.get("alliance_score") in (None, ""):
            bad("alliance_score", None, "第四季度缺少 alliance_score（医共体年度医保考核得分）")
        else:
            s = _score(vals["alliance_score"])
            if isinstance(s, str):
                bad("alliance_score", vals["alliance_score"], s)
            else:
                ascore = s
    if len(problems) > start:
        return None
    return Period(raw_period, int(m.group(1)), quarter, alliance, budget, mi_budget, mi_spent, ascore)


def _institutions(c: _Checker, t: RawTable | None, seen: dict[str, str | None]) -> dict[str, Institution]:
    """Valid institutions. `seen` gets every well-formed id with its kind (None if unreadable),
    so rows elsewhere that point at an institution whose own row is bad are not reported twice."""
    if t is None:
        return {}
    out: dict[str, Institution] = {}
    rows = {}
    for i, r in enumerate(t.df.itertuples(index=False)):
        r = r._asdict()
        iid = r["inst_id"]
        if not INST_ID_RE.match(iid):
            c.add(t, i, "inst_id", iid, "机构编码应为1–32位字母、数字、_ 或 -" if iid else "机构编码不能为空")
            continue
        if iid in rows:
            c.add(t, i, "inst_id", iid, f"机构编码重复（与第{t.loc(rows[iid], None)[1]}行相同）")
            continue
        rows[iid] = i
        kind = KIND_ALIASES.get(r["kind"]) or KIND_ALIASES.get(r["kind"].lower())
        seen[iid] = kind
        if kind is None:
            c.add(t, i, "kind", r["kind"], "未知的机构类型（应为 " + "/".join(KINDS.values()) + "）")
        name = _text(c, t, i, "name", r["name"])
        village = kind == "village"
        staff = c.integer(
            t, i, "staff_count", r["staff_count"], allow_empty=village, minimum=1 if kind == "township" else 0
        )
        base = c.money(t, i, "perf_base_annual", r["perf_base_annual"], allow_empty=village)
        if village and base:
            c.add(t, i, "perf_base_annual", r["perf_base_annual"], "村卫生室的核定绩效工资基数应为 0")
        # a blank cell is 0 where no rule of SPEC §4 reads it for this kind (population only
        # weighs villages' insurance share; the target only matters with the guarantee)
        pop = c.integer(t, i, "population", r["population"], allow_empty=not village)
        guarantee = c.flag(t, i, "guarantee", r["guarantee"])
        if guarantee and not village:
            c.add(t, i, "guarantee", r["guarantee"], "只有村卫生室可以享受保底")
        target = c.integer(t, i, "workload_target", r["workload_target"], allow_empty=not (village and guarantee))
        director = _text(c, t, i, "director", r.get("director", ""), required=False)
        if None in (kind, staff, base, pop, guarantee, target):
            continue
        out[iid] = Institution(
            iid, name, kind, r.get("parent_id", "") or "", staff, base, pop, guarantee, target, director
        )
    if not rows:
        c.add(t, None, None, None, "机构表中没有任何机构")
    leads = [x for x in out.values() if x.kind == "lead_hospital"]
    if len(leads) == 0 and out:
        c.add(t, None, "kind", None, "没有牵头医院（必须恰好有一个）")
    for extra in leads[1:]:
        c.add(t, rows[extra.inst_id], "kind", KINDS["lead_hospital"], f"第二个牵头医院（已有 {leads[0].inst_id}）")
    for x in out.values():
        i = rows[x.inst_id]
        if x.parent_id in seen and x.parent_id not in out:
            continue  # the parent's own row is wrong and already reported
        parent = out.get(x.parent_id)
        if x.kind == "village":
            if not x.parent_id or parent is None or parent.kind != "township":
                c.add(t, i, "parent_id", x.parent_id, "村卫生室的上级机构必须是本表中的乡镇卫生院")
        elif x.kind == "township":
            if parent is None or parent.kind != "lead_hospital":
                c.add(t, i, "parent_id", x.parent_id, "乡镇卫生院的上级机构必须是牵头医院")
        elif x.parent_id:
            c.add(t, i, "parent_id", x.parent_id, "县级医院不应填写上级机构")
    return out


def _assessment(c: _Checker, t: RawTable | None, insts, seen) -> dict[str, Assessment]:
    if t is None:
        return {}
    out, rows = {}, {}
    for i, r in enumerate(t.df.itertuples(index=False)):
        r = r._asdict()
        iid = r["inst_id"]
        if iid in rows:
            c.add(t, i, "inst_id", iid, f"同一机构有两行考核结果（另见第{t.loc(rows[iid], None)[1]}行）")
            continue
        rows[iid] = i
        if iid not in seen:
            c.add(t, i, "inst_id", iid, "机构表中没有这个机构编码")
        score = c.score(t, i, "score", r["score"])
        veto = c.flag(t, i, "veto", r["veto"])
        reason = _text(c, t, i, "veto_reason", r.get("veto_reason", ""), required=False)
        if iid in insts and score is not None and veto is not None:
            out[iid] = Assessment(score, veto, reason)
    for iid in insts:
        if iid not in rows:
            c.add(t, None, "inst_id", iid, f"机构 {iid}（{insts[iid].name}）没有考核结果行")
    return out


def _workpoints(c: _Checker, t: RawTable | None, insts, items, seen) -> dict[str, dict[str, int]]:
    """Vectorised: this is the large table (hundreds of thousands of rows)."""
    if t is None:
        return {}
    df = t.df
    kinds = df["inst_id"].map(seen)
    counts = pd.to_numeric(df["count"].str.replace(",", "", regex=False), errors="coerce")
    bad_id = ~df["inst_id"].isin(list(seen))
    bad_kind = ~bad_id & kinds.notna() & ~kinds.isin(["township", "village"])
    df["item"] = df["item"].str.upper()  # item codes in any case (ehr → EHR)
    bad_item = ~df["item"].isin(list(items)) if items is not None else pd.Series(False, index=df.index)
    bad_count = counts.isna() | (counts < 0) | (counts != counts.round())
    for i in df.index[bad_id | bad_kind | bad_item | bad_count]:
        iid, item, cnt = df.at[i, "inst_id"], df.at[i, "item"], df.at[i, "count"]
        if bad_id[i]:
            c.add(t, i, "inst_id", iid, "机构表中没有这个机构编码")
        elif bad_kind[i]:
            c.add(t, i, "inst_id", iid, "只有乡镇卫生院和村卫生室有公卫工分")
        if bad_item[i]:
            c.add(t, i, "item", item, "未知的服务项目（应为 " + "/".join(items) + "）")
        if bad_count[i]:
            c.add(t, i, "count", cnt, "服务数量应为不小于 0 的整数")
    ok = ~(bad_id | bad_kind | bad_item | bad_count) & df["inst_id"].isin(list(insts))
    good = pd.DataFrame({"inst_id": df["inst_id"][ok], "item": df["item"][ok], "count": counts[ok].astype("int64")})
    out: dict[str, dict[str, int]] = {}
    for (iid, item), n in good.groupby(["inst_id", "item"], sort=True)["count"].sum().items():
        out.setdefault(iid, {})[item] = int(n)
    return out


def _income(c: _Checker, t: RawTable | None, insts, seen) -> dict[str, VillageIncome]:
    if t is None:
        return {}
    out, rows = {}, {}
    for i, r in enumerate(t.df.itertuples(index=False)):
        r = r._asdict()
        iid = r["inst_id"]
        if iid in rows:
            c.add(t, i, "inst_id", iid, f"同一村卫生室有两行收入（另见第{t.loc(rows[iid], None)[1]}行）")
            continue
        rows[iid] = i
        inst = insts.get(iid)
        if iid not in seen:
            c.add(t, i, "inst_id", iid, "机构表中没有这个机构编码")
        elif inst is None:
            pass  # its institution row is wrong and already reported
        elif not (inst.kind == "village" and inst.guarantee == 1):
            c.add(t, i, "inst_id", iid, "只有享受保底的村卫生室填写收入")
        vals = [c.money(t, i, k, r[k]) for k in ("drug_subsidy", "service_fee", "operating_subsidy", "medical_income")]
        visits = c.integer(t, i, "visits", r["visits"])
        if inst is not None and None not in vals and visits is not None:
            out[iid] = VillageIncome(*vals, visits)
    for iid, inst in insts.items():
        if inst.kind == "village" and inst.guarantee == 1 and iid not in rows:
            c.add(t, None, "inst_id", iid, f"享受保底的村卫生室 {iid}（{inst.name}）没有收入行")
    return out
