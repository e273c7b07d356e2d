"""Validation of an alliance-quarter (SPEC §3, §7): raw text tables → typed facts.

Every problem is collected — file, spreadsheet row (header = row 1), column, value, what is
wrong — and nothing is computed from bad input. Columns are checked whole (columns.py), so a
province of 100,000 institutions validates in about a second.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow.compute as pc

from ..model.facts import Columns, Period, Quarter
from ..model.fields import KIND_ALIASES, KINDS
from .cells import (
    ID_PATTERN,
    INVISIBLE_RE2,
    MAX_TEXT,
    PERIOD_RE,  # noqa: F401 (the CLI's template command imports it from here)
    CellError,
    id_problem,
    parse_flag,
    parse_score,
    text_problem,
)
from .columns import Column, by_value, checked, first_rows, integers, money
from .findings import Findings
from .tables import RawTable, ascii_lower
from .workpoints import Sums, workpoints

# RE2: the usual text cell, passed without a look: no line break of any kind, nothing
# invisible (\p{C} holds \r, \n and tab: cells with them are judged by text_problem)
_ONE_LINE = rf"^[^\x{{2028}}\x{{2029}}{INVISIBLE_RE2}]"
_INCOME = ("drug_subsidy", "service_fee", "operating_subsidy", "medical_income")
Seen = dict[str, str | None]  # every well-formed, first-seen inst_id → its kind (None if unreadable)


def validate(
    tables: dict[str, RawTable],
    period: Period | None,
    files: dict[str, bytes],
    service_items: Callable[[Period], Iterable[str]],
    problems: list,
    warnings: list[str],
) -> Quarter | None:
    """Turn raw tables into a Quarter, or add every problem found to `problems` (None then).
    `service_items(period)` gives the work-point item codes of the ruleset in force."""
    insts = _Insts()
    seen: Seen | None = None  # None: the institutions table could not be read, ids are not checked
    if "institutions" in tables:
        seen = {}
        f = Findings(tables["institutions"])
        insts = _institutions(f, tables["institutions"], seen, warnings)
        f.emit(problems)
    assess = _Insts()
    if "assessment" in tables:
        f = Findings(tables["assessment"])
        assess = _assessment(f, tables["assessment"], insts, seen, warnings)
        f.emit(problems)
    items = sorted(service_items(period)) if period else None
    wp = Sums([], [], None)
    if "workpoints" in tables:
        f = Findings(tables["workpoints"])
        wp = workpoints(f, tables["workpoints"], insts.row, items, seen)
        f.emit(problems)
    income = _Insts()
    if "village_income" in tables:
        f = Findings(tables["village_income"])
        income = _income(f, tables["village_income"], insts, seen)
        f.emit(problems)
    if problems or period is None:
        return None
    return Quarter(period, _columns(insts, assess, income, wp, items or []), files, warnings)


@dataclass
class _Insts:
    """A table's valid rows: each inst_id's row, and the parsed columns by row (the
    institutions are what the other tables check against; all are gathered at the end)."""

    row: dict[str, int] = field(default_factory=dict)
    values: dict[str, Any] = field(default_factory=dict)  # field → column (list or array) by row

    def __contains__(self, iid: object) -> bool:
        return iid in self.row

    def get(self, iid: str, name: str) -> Any:
        return self.values[name][self.row[iid]]

    def rows_of(self, ids: list[str]) -> np.ndarray:
        """Each id's row in this table, -1 where it has no valid row."""
        get = self.row.get
        return np.array([get(i, -1) for i in ids], dtype=np.int64)

    def guaranteed_villages(self) -> np.ndarray:
        """By row: a village with the guarantee (the institutions table)."""
        kinds = np.asarray(self.values["kind"], dtype=object)
        return (kinds == "village") & (np.asarray(self.values["guarantee"]) == 1)


def _columns(insts: _Insts, assess: _Insts, income: _Insts, wp: Sums, items: list[str]) -> Columns:
    """The valid rows of every table gathered into columns in inst_id order."""
    ids = sorted(insts.row)
    text: dict[str, list[str]] = {}
    num: dict[str, np.ndarray] = {}
    for table, fields in ((insts, _INST_FIELDS), (assess, ("score", "veto", "veto_reason"))):
        at = np.array([table.row[i] for i in ids], dtype=np.int64)
        for k in fields:
            col = table.values[k]
            if isinstance(col, list):
                text[k] = [col[i] for i in at.tolist()]
            else:
                num[k] = np.asarray(col, dtype=np.int64)[at]
    rows = np.array([income.row.get(i, -1) for i in ids], dtype=np.int64)
    has = rows >= 0
    for k in (*_INCOME, "visits"):
        col = np.asarray(income.values[k], dtype=np.int64) if income.row else np.zeros(1, dtype=np.int64)
        num[k] = np.where(has, col[np.where(has, rows, 0)], 0)
    return Columns(ids, text, num, {"village_income": has}, wp.columns(ids, items))


_INST_FIELDS = ("name", "kind", "parent_id", "director", "staff_count", "perf_base_annual", "population",
                "guarantee", "workload_target")  # fmt: skip


def _unique_ids(f: Findings, t: RawTable, duplicate: str) -> tuple[list[str], np.ndarray, dict[str, int]]:
    """The inst_id column: ids, a mask of rows whose id is malformed or repeated, and the first
    row of each well-formed id. `duplicate` is the message, with {row} for the first row."""
    idc = checked(t.columns["inst_id"], f"^{ID_PATTERN}$", id_problem)
    f.cells("inst_id", idc.bad, idc.why, "机构编码格式有误")
    first, first_of_row = first_rows(t.columns["inst_id"])
    dup = (first_of_row != np.arange(len(t))) & ~idc.bad
    f.cells("inst_id", dup, lambda i: duplicate.format(row=t.loc(int(first_of_row[i]), None)[1]), "编码重复")
    # T01 and t01 are one institution to every person reading a list (and to a bank): a second
    # row under another case is a copy, not a new institution
    _, first_any_case = first_rows(pc.ascii_upper(t.columns["inst_id"]))
    ids: list[str] = idc.values
    case = (first_any_case != first_of_row) & ~idc.bad & ~dup
    f.cells("inst_id", case, lambda i: f"与第{t.loc(int(first_any_case[i]), None)[1]}行的 "
            f"{ids[int(first_any_case[i])]} 只有字母大小写不同，是同一个编码（编码重复）", "编码重复")  # fmt: skip
    return ids, idc.bad | dup | case, {k: v for k, v in first.items() if not (idc.bad[v] or case[v])}


def _texts(t: RawTable, col: str, required: bool, one_line: bool = True) -> Column:
    pattern = (_ONE_LINE if one_line else f"^[^{INVISIBLE_RE2}]") + ("+$" if required else "*$")
    return checked(t.columns[col], pattern, lambda s: text_problem(s, required, one_line), MAX_TEXT)


def _kind(text: str) -> str:
    kind = KIND_ALIASES.get(text) or KIND_ALIASES.get(ascii_lower(text))
    if kind is None:
        raise CellError("未知的机构类型（应为 " + "/".join(KINDS.values()) + "）")
    return kind


def _report(f: Findings, col: str, c: Column, kind: str) -> np.ndarray:
    f.cells(col, c.bad, c.why, kind)
    return c.bad


def _institutions(f: Findings, t: RawTable, seen: Seen, warnings: list[str]) -> _Insts:
    if len(t) == 0:
        f.table(None, None, "机构表中没有任何机构")
        return _Insts()
    ids, bad, first = _unique_ids(f, t, "机构编码重复（与第{row}行相同）")
    kind = by_value(t.columns["kind"], _kind, (CellError,))
    bad_kind = kind.bad
    f.cells("kind", bad_kind, kind.why, "未知的机构类型")
    kinds = kind.values.tolist()
    for iid, i in first.items():
        seen[iid] = kinds[i]
    village = kind.values == "village"
    township = kind.values == "township"
    names = _texts(t, "name", required=True)
    directors = _texts(t, "director", required=False)
    staff = integers(t.columns["staff_count"], blank_ok=village, minimum=np.where(township, 1, 0))
    base = money(t.columns["perf_base_annual"], blank_ok=village)
    # a blank cell is 0 where no rule of SPEC §4 reads it for this kind (population only
    # weighs villages' insurance share; the target only matters with the guarantee)
    pop = integers(t.columns["population"], blank_ok=~village)
    guarantee = by_value(t.columns["guarantee"], parse_flag, (CellError,))
    has_guarantee = guarantee.values == 1
    # a blank is 否 (as a blank veto), visibly where it decides money: a village's 48,000 guarantee
    _blank_flags(t, "guarantee", "享受保底", village, "村卫生室的", warnings)
    target = integers(t.columns["workload_target"], blank_ok=~(village & has_guarantee))
    bad |= bad_kind | _report(f, "name", names, "名称有误") | _report(f, "director", directors, "院长姓名有误")
    bad |= _report(f, "staff_count", staff, "在岗人数有误") | _report(f, "perf_base_annual", base, "金额有误")
    bad |= _report(f, "population", pop, "服务人口有误") | _report(f, "guarantee", guarantee, "应为 0/1 或 是/否")
    bad |= _report(f, "workload_target", target, "门诊目标人次有误")
    village_base = village & ~base.bad & (np.array(base.values, dtype=object) != 0)
    f.cells("perf_base_annual", village_base, "村卫生室的核定绩效工资基数应为 0")
    not_village = ~village & ~bad_kind & has_guarantee
    f.cells("guarantee", not_village, "只有村卫生室可以享受保底")
    bad |= village_base | not_village
    ok = np.flatnonzero(~bad).tolist()
    found = _Insts({ids[i]: i for i in ok}, {
        "name": names.values, "kind": kinds, "parent_id": t.text("parent_id"), "director": directors.values,
        "staff_count": staff.values, "perf_base_annual": base.values, "population": pop.values,
        "guarantee": guarantee.values.astype(np.int64), "workload_target": target.values,
    })  # fmt: skip
    _structure(f, t, found, first, seen)
    _namesakes(t, found, warnings)
    return found


NAMESAKES_NAMED = 20


def _namesakes(t: RawTable, insts: _Insts, warnings: list[str]) -> None:
    """Two valid rows of one kind under one parent with the same name (spaces aside) are one
    institution listed twice under two ids — paid twice — or a slip: a warning naming both
    rows. (Villages of different townships often share a name: only one parent is compared.)"""
    names, kinds, parents = (insts.values[k] for k in ("name", "kind", "parent_id"))
    first: dict[tuple[str, str, str], str] = {}
    pairs = []
    for iid, i in sorted(insts.row.items(), key=lambda x: x[1]):
        key = ("".join(names[i].split()), kinds[i], parents[i])
        if key in first:
            pairs.append((first[key], iid))
        else:
            first[key] = iid
    if not pairs:
        return
    row = {iid: int(t.rows[i]) for iid, i in insts.row.items()}
    named = "；".join(f"第{row[a]}行 {a} 与第{row[b]}行 {b}" for a, b in pairs[:NAMESAKES_NAMED])
    more = f" 等 {len(pairs):,} 对" if len(pairs) > NAMESAKES_NAMED else ""
    warnings.append(f"{t.label}：同一上级下有同名同类型的机构（{named}{more}），"
                    "请核对是否把同一个机构列了两次（会重复兑现）")  # fmt: skip


def _structure(f: Findings, t: RawTable, out: _Insts, first: dict[str, int], seen: Seen) -> None:
    """Exactly one lead hospital; parent links resolve to the right kind."""
    leads = [iid for iid, k in seen.items() if k == "lead_hospital"]
    if not leads and out.row:
        f.table("kind", None, "没有牵头医院（必须恰好有一个）")
    for extra in leads[1:]:
        f.cell(first[extra], "kind", f"第二个牵头医院（已有 {leads[0]}）")
    kinds, parents = out.values["kind"], out.values["parent_id"]
    for iid, i in out.row.items():
        parent_id = parents[i]
        if parent_id in seen and parent_id not in out:
            continue  # the parent's own row is wrong and already reported
        parent_kind = kinds[out.row[parent_id]] if parent_id in out else None
        kind = kinds[i]
        if kind == "village":
            if parent_kind != "township":
                f.cell(first[iid], "parent_id", "村卫生室的上级机构必须是本表中的乡镇卫生院")
        elif kind == "township":
            if parent_kind != "lead_hospital":
                f.cell(first[iid], "parent_id", "乡镇卫生院的上级机构必须是牵头医院")
        elif parent_id:
            f.cell(first[iid], "parent_id", "县级医院不应填写上级机构")


def _unknown_ids(f: Findings, ids: list[str], bad: np.ndarray, seen: Seen | None) -> None:
    if seen is None:
        return
    unknown = np.array([not b and iid not in seen for iid, b in zip(ids, bad, strict=True)], dtype=bool)
    f.cells("inst_id", unknown, "机构表中没有这个机构编码")


def _assessment(f: Findings, t: RawTable, insts: _Insts, seen: Seen | None, warnings: list[str]) -> _Insts:
    ids, bad, first = _unique_ids(f, t, "同一机构有两行考核结果（另见第{row}行）")
    _unknown_ids(f, ids, bad, seen)
    score = by_value(t.columns["score"], parse_score, (CellError,))
    veto = by_value(t.columns["veto"], parse_flag, (CellError,))
    _blank_vetoes(t, warnings)
    reasons = _texts(t, "veto_reason", required=False, one_line=False)
    bad = bad | _report(f, "score", score, "考核得分有误") | _report(f, "veto", veto, "应为 0/1 或 是/否")
    bad |= _report(f, "veto_reason", reasons, "文字过长")
    tenths = np.array([0 if s is None else int(s * 10) for s in score.values.tolist()], dtype=np.int64)
    vetoes = np.array([0 if v is None else int(v) for v in veto.values.tolist()], dtype=np.int64)
    _reason_without_veto(t, ~veto.bad & (vetoes == 0), reasons, warnings)
    listed = insts.rows_of(ids) >= 0
    rows = {ids[i]: i for i in np.flatnonzero(~bad & listed).tolist()}
    out = _Insts(rows, {"score": tenths, "veto": vetoes, "veto_reason": reasons.values})
    for iid in insts.row:
        if iid not in first:
            f.table("inst_id", iid, f"机构 {iid}（{insts.get(iid, 'name')}）没有考核结果行")
    return out


BLANK_ROWS_NAMED = 20


def _blank_vetoes(t: RawTable, warnings: list[str]) -> None:
    """A blank veto cell reads as 否 (spreadsheets leave 否 blank), but visibly: one warning per
    file with how many rows and which."""
    _blank_flags(t, "veto", "一票否决", None, "的", warnings)


def _blank_flags(t: RawTable, col: str, label: str, among: np.ndarray | None, whose: str, warnings: list[str]) -> None:
    """One warning naming the rows (of `among`, a mask by row, or all) whose flag `col` is blank
    and read as 否. `whose` names the rows (村卫生室的)."""
    empty = pc.fill_null(pc.equal(pc.utf8_length(t.columns[col]), 0), True)
    blank = np.asarray(empty.to_numpy(zero_copy_only=False), dtype=bool)
    if among is not None:
        blank &= among
    if not blank.any():
        return
    rows = t.rows[blank].tolist()
    named = "、".join(str(r) for r in rows[:BLANK_ROWS_NAMED]) + ("…" if len(rows) > BLANK_ROWS_NAMED else "")
    head = t.headers.get(col, col)
    name = f"{label}（{col}）" if head in (col, label) else f"{label}（{head}）"
    warnings.append(f"{t.label}：{len(rows):,} 行{whose}{name}为空，按“否”计算（第 {named} 行）")


def _reason_without_veto(t: RawTable, no_veto: np.ndarray, reasons: Column, warnings: list[str]) -> None:
    """A veto reason written on a row whose veto is 否 (or blank): a veto decided but not
    marked — the institution would be paid in full. Kept as written, named in a warning."""
    texts = np.array([bool(r) for r in reasons.values], dtype=bool) if len(reasons.values) else np.zeros(0, bool)
    rows = t.rows[no_veto & texts & ~reasons.bad].tolist()
    if not rows:
        return
    named = "、".join(str(r) for r in rows[:BLANK_ROWS_NAMED]) + ("…" if len(rows) > BLANK_ROWS_NAMED else "")
    warnings.append(f"{t.label}：{len(rows):,} 行填写了否决事由，但一票否决为“否”，按未否决计算（第 {named} 行）；"
                    "若应否决，请把一票否决改为 1（是）")  # fmt: skip


def _income(f: Findings, t: RawTable, insts: _Insts, seen: Seen | None) -> _Insts:
    ids, bad, first = _unique_ids(f, t, "同一村卫生室有两行收入（另见第{row}行）")
    _unknown_ids(f, ids, bad, seen)
    at = insts.rows_of(ids)
    listed = at >= 0
    eligible = insts.guaranteed_villages() if insts.row else np.zeros(1, dtype=bool)
    not_guaranteed = ~bad & listed & ~eligible[np.where(listed, at, 0)]
    f.cells("inst_id", not_guaranteed, "只有享受保底的村卫生室填写收入")
    amounts = [money(t.columns[k]) for k in _INCOME]
    visits = integers(t.columns["visits"])
    for k, c in zip(_INCOME, amounts, strict=True):
        bad = bad | _report(f, k, c, "金额有误")
    bad |= _report(f, "visits", visits, "门诊人次有误") | not_guaranteed
    rows = {ids[i]: i for i in np.flatnonzero(~bad & listed).tolist()}
    values = {k: c.values for k, c in zip(_INCOME, amounts, strict=True)}
    out = _Insts(rows, {**values, "visits": np.asarray(visits.values, dtype=np.int64)})
    if insts.row:
        eligible_rows = np.flatnonzero(eligible).tolist()
        names = insts.values["name"]
        inst_ids = {r: iid for iid, r in insts.row.items()}
        for r in eligible_rows:
            iid = inst_ids.get(r)
            if iid is not None and iid not in first:
                f.table("inst_id", iid, f"享受保底的村卫生室 {iid}（{names[r]}）没有收入行")
    return out
