"""The four kinds of rule, each over the column of its institutions at once.

formula          an amount per institution
allocation       a total shared by largest remainder over weights (parked on the lead hospital
                 when nobody has weight)
settlement       year end: annual weights = the approved earlier quarters' quantities + this
                 quarter's; entitlement by largest remainder; pay the entitlement less what was
                 advanced (may be negative); parked advances released when the ruleset says so
level_allocation a total split over county/township/village by a ratio, then by weights within
                 each level
"""

from __future__ import annotations

import math
from collections.abc import Callable
from fractions import Fraction

import numpy as np

from ..lang.exact import Vec, texts
from ..lang.formula import Formula, FormulaError
from ..model.fields import LEVEL_NAMES
from ..model.money import MAX_MONEY_DIGITS, fen_text, group_thousands, split_fen
from ..ruleset.model import LEVELS, Rule
from .compute import Run, history_totals
from .result import ComputeError, UnitInfo
from .scope import Scope
from .values import Collected, block, cases, collect

MAX_FEN = 100 * 10**MAX_MONEY_DIGITS  # an amount must fit where the inputs' amounts fit (< 10^15 yuan)


# ---- evaluating with the rule and institution named on failure --------------------------------
def _number(f: Formula, scope: Scope, rule: Rule, ids: list[str], what: str) -> Vec:
    try:
        v = f.number(scope)
    except FormulaError as e:
        raise ComputeError(f"规则 {rule.id} {what}：{e}") from None
    bad = v.bad_rows()
    if len(bad):
        who = "、".join(ids[i] for i in bad[:5].tolist()) if len(v) > 1 else "本期"
        raise ComputeError(f"规则 {rule.id} {what}：公式 {f.text} 除以零（{who}）")
    return v


def _lets(lets: dict[str, Formula], scope: Scope, rule: Rule, ids: list[str]) -> None:
    for name, f in lets.items():
        scope.own[name] = _number(f, scope, rule, ids, f"中间量 {name}")


def _fen(v: Vec, rule: Rule, ids: list[str], what: str) -> list[int]:
    fen = v.fen()
    if fen is None:
        wrong = [i for i, x in enumerate(v.fractions()) if (x * 100).denominator != 1][:5]
        who = "、".join(ids[i] for i in wrong) if len(v) > 1 else "本期"
        raise ComputeError(f"规则 {rule.id} 的{what}不是整分（{who}）：规则应在公式中用 round2 取整")
    out = fen.tolist()
    huge = [i for i, x in enumerate(out) if abs(x) >= MAX_FEN][:5]
    if huge:
        who = "、".join(ids[i] for i in huge) if len(out) > 1 else "本期"
        raise ComputeError(
            f"规则 {rule.id} 的{what}整数部分超过 {MAX_MONEY_DIGITS} 位（{who}：{group_thousands(fen_text(out[huge[0]]))} 元）："
            f"金额与输入一样最多 {MAX_MONEY_DIGITS} 位整数，请检查公式"
        )
    return out * len(ids) if len(out) == 1 and len(ids) != 1 else out


def _total(run: Run, rule: Rule, pscope: Scope) -> int:
    assert rule.total is not None
    _lets(rule.period_let, pscope, rule, ["本期"])
    total = _number(rule.total, pscope, rule, ["本期"], "总额 total")
    fen = _fen(total, rule, ["本期"], "总额")[0]
    if fen < 0:
        raise ComputeError(
            f"规则 {rule.id} 的可分配总额为负数 {Fraction(fen, 100)} 元，无法分配（{run.period_values_text()}）"
        )
    return fen


def largest_remainder(total: int, w: Vec) -> tuple[list[int], Fraction]:
    """Share `total` fen over the weights (rows in inst_id order): floors, then one fen each to
    the largest remainders, ties to the earlier row. Σ = total exactly; all 0 when Σw = 0."""
    if isinstance(w.den, int):
        nums, den = w.num, w.den
    else:
        den = math.lcm(*{int(d) for d in w.den.tolist()})
        nums = w.num * (den // w.den)
    if (nums < 0).any():
        raise ValueError("negative weight")
    ints = nums.tolist()
    return split_fen(total, ints), Fraction(sum(ints), den)


def _weights(f: Formula, scope: Scope, rule: Rule, ids: list[str], what: str) -> Vec:
    w = _number(f, scope, rule, ids, what)
    if len(w) == 1 and len(ids) != 1:
        w = Vec(np.repeat(w.num, len(ids)), w.den if isinstance(w.den, int) else np.repeat(w.den, len(ids)))
    neg = np.flatnonzero(np.asarray(w.num < 0, dtype=bool))
    if len(neg):
        raise ComputeError(
            f"规则 {rule.id} 的权重为负数（{'、'.join(ids[i] for i in neg[:5].tolist())}），无法按比例分配"
        )
    return w


def _texts(run: Run, idx: np.ndarray) -> dict[str, list[str] | str]:
    t = run.units.text
    rows = idx.tolist()
    out: dict[str, list[str] | str] = {k: [col[i] for i in rows] for k, col in t.items()}
    out.update({k: [col[i] for i in rows] for k, col in run.labels.items()})
    out.update(run.period_texts)
    return out


def _emit(run: Run, rule: Rule, idx: np.ndarray, scope: Scope, kind: dict, part: str = "main") -> None:
    ids = [run.units.ids[i] for i in idx.tolist()]
    amounts = kind["amount"]
    qty = kind.get("quantity")
    statement = rule.statement if part == "main" else rule.undistributed.statement  # type: ignore[union-attr]
    case_scope = scope.child()
    case_scope.own.update({k: v for k, v in kind.items() if isinstance(v, Vec)})
    case_of = cases(statement, case_scope, len(ids), f"规则 {rule.id}")
    values = collect(rule, part, ids, scope, kind, _texts(run, idx), run.column_texts)
    item = rule.item if part == "main" else rule.undistributed.item  # type: ignore[union-attr]
    quantities = texts(qty) if qty is not None else [""]
    if len(quantities) == 1 and len(ids) != 1:
        quantities = quantities * len(ids)
    run.add_block(block(rule, part, _item_name(run, rule, item), ids, _fen(amounts, rule, ids, "金额"),
                        quantities, case_of, values))  # fmt: skip


# ---- the kinds ----------------------------------------------------------------------------------
def formula(run: Run, rule: Rule, idx: np.ndarray) -> None:
    if not len(idx):
        return
    ids = [run.units.ids[i] for i in idx.tolist()]
    scope = run.unit_scope(idx)
    _lets(rule.let, scope, rule, ids)
    assert rule.amount is not None
    kind: dict = {"amount": _number(rule.amount, scope, rule, ids, "金额 amount")}
    if rule.quantity is not None:
        kind["quantity"] = _number(rule.quantity, scope, rule, ids, "数量 quantity")
    _emit(run, rule, idx, scope, kind)


def allocation(run: Run, rule: Rule, idx: np.ndarray) -> None:
    pscope = run.period_scope()
    total = _total(run, rule, pscope)
    ids = [run.units.ids[i] for i in idx.tolist()]
    scope = run.unit_scope(idx, pscope)
    _lets(rule.let, scope, rule, ids)
    assert rule.weight is not None
    w = _weights(rule.weight, scope, rule, ids, "权重 weight")
    shares, wsum = largest_remainder(total, w)
    if ids:
        kind = _shares(total, w, wsum, shares)
        if rule.quantity is not None:
            kind["quantity"] = _number(rule.quantity, scope, rule, ids, "数量 quantity")
        _emit(run, rule, idx, scope, kind)
    parked = total if wsum == 0 else 0
    _undistributed(run, rule, parked, pscope, total=total, weight_sum=wsum)
    _report(run, rule, pscope, total)
    _check(run, rule, total, sum(shares), parked)


def _shares(total: int, w: Vec, wsum: Fraction, shares: list[int]) -> dict:
    share = w / Vec.scalar(wsum) if wsum else Vec.of([0] * len(w))
    return {"amount": Vec.of(shares, 100), "total": Vec.scalar(Fraction(total, 100)), "weight": w,
            "weight_sum": Vec.scalar(wsum), "share": share}  # fmt: skip


def settlement(run: Run, rule: Rule, idx: np.ndarray) -> None:
    assert rule.history_item is not None and rule.weight is not None
    pscope = run.period_scope()
    total = _total(run, rule, pscope)
    prior_w, prior_paid, who = history_totals(run.history, rule.history_item)
    present = [run.units.ids[i] for i in idx.tolist()]
    absent = sorted(set(who) - set(present))
    scope = run.unit_scope(idx, pscope)
    _lets(rule.let, scope, rule, present)
    w = _weights(rule.weight, scope, rule, present, "权重 weight")
    zero = run.zero_scope(len(absent), pscope)
    if absent:  # settled from history only: nothing counted this quarter
        _lets(rule.let, zero, rule, absent)
    all_ids = sorted(present + absent)
    pos = {iid: i for i, iid in enumerate(all_ids)}
    this_w = _concat([w, Vec.of([0] * len(absent))], [present, absent], pos)
    prior = Vec.of_fractions([prior_w.get(i, Fraction(0)) for i in all_ids])
    annual = this_w + prior
    ent, wsum = largest_remainder(total, annual)
    paid = [int(prior_paid.get(i, 0) * 100) for i in all_ids]
    amount = [e - p for e, p in zip(ent, paid, strict=True)]
    kind = _shares(total, annual, wsum, amount)
    here = set(present)
    kind.update(weight=this_w, prior_weight=prior, annual_weight=annual, entitlement=Vec.of(ent, 100),
                prior_paid=Vec.of(paid, 100), present=Vec.of([int(i in here) for i in all_ids]))  # fmt: skip
    for iid in absent:
        if iid not in run.units.index:
            name, k = who[iid]
            run.extra_units[iid] = UnitInfo(iid, name, k, "", "", "")
    _emit_settlement(run, rule, present, absent, all_ids, (scope, zero), kind, idx)
    for iid, a in zip(all_ids, amount, strict=True):
        if a < 0:
            name = run.units.text["name"][run.units.index[iid]] if iid in run.units.index else who[iid][0]
            run.warnings.append({"kind": "clawback", "inst_id": iid, "inst_name": name,
                                 "message": f"{_item_name(run, rule, rule.item)}年终清算应退 {_yuan(-a)} 元"})  # fmt: skip
    _release(run, rule, total, wsum, sum(paid), pscope)
    _report(run, rule, pscope, total)
    note = f"全年应得合计 {_yuan(sum(ent))}，前三季度已拨 {_yuan(sum(paid))}"
    _check(run, rule, total, sum(ent), 0 if wsum else total, note=note)


def _item_name(run: Run, rule: Rule, item: str) -> str:
    return rule.item_names.get(item) or run.rs.items[item].name


def _yuan(fen: int) -> str:
    return group_thousands(fen_text(fen))


def _concat(parts: list[Vec], ids: list[list[str]], pos: dict[str, int]) -> Vec:
    """Rows of several columns put in the order `pos` gives their ids."""
    n = len(pos)
    num = np.empty(n, dtype=object)
    den = np.empty(n, dtype=object)
    for v, names in zip(parts, ids, strict=True):
        at = np.array([pos[i] for i in names], dtype=np.int64)
        if len(at):
            num[at] = v.num if len(v) == len(at) else np.repeat(v.num, len(at))
            den[at] = v.den
    return Vec(num, den)


def _emit_settlement(run: Run, rule: Rule, present: list[str], absent: list[str], all_ids: list[str],
                     scopes: tuple[Scope, Scope], kind: dict, idx: np.ndarray) -> None:  # fmt: skip
    """Lines of institutions present this quarter and of those settled from history only."""
    pos = {iid: i for i, iid in enumerate(all_ids)}
    order = np.array([pos[i] for i in present + absent], dtype=np.int64)
    back = np.argsort(order, kind="stable")
    kind_rows = {k: (v.take(order) if isinstance(v, Vec) and len(v) == len(all_ids) else v) for k, v in kind.items()}
    parts = []
    for names, scope, sl in ((present, scopes[0], slice(0, len(present))),
                             (absent, scopes[1], slice(len(present), len(order)))):  # fmt: skip
        if not names:
            continue
        rows = np.arange(sl.start, sl.stop)
        k = {
            key: (v.take(rows) if isinstance(v, Vec) and len(v) == len(all_ids) else v) for key, v in kind_rows.items()
        }
        k["quantity"] = k["weight"]
        case_scope = scope.child()
        case_scope.own.update({key: v for key, v in k.items() if isinstance(v, Vec)})
        case_of = cases(rule.statement, case_scope, len(names), f"规则 {rule.id}")
        present_part = scope is scopes[0]
        text = _texts(run, idx) if present_part else _absent_texts(run, names)
        found = collect(rule, "main", names, scope, k, text, run.column_texts if present_part else None)
        parts.append((names, case_of, found))
    case_of_all, merged = _merge(parts, back)
    amounts = _fen(kind["amount"], rule, all_ids, "金额")
    quantity = texts(kind["weight"])
    run.add_block(block(rule, "main", _item_name(run, rule, rule.item), all_ids, amounts, quantity,
                        case_of_all, merged))  # fmt: skip


def _absent_texts(run: Run, names: list[str]) -> dict[str, list[str] | str]:
    out: dict[str, list[str] | str] = {}
    infos = [run.extra_units.get(i) for i in names]
    out["name"] = [x.name if x else "" for x in infos]
    out["inst_id"] = list(names)
    out["kind"] = [x.kind if x else "" for x in infos]
    for key in ("parent_id", "director", "veto_reason", "kind_name"):
        out[key] = [""] * len(names)
    for key in run.labels:
        out[key] = [""] * len(names)
    out.update(run.period_texts)
    return out


def _merge(parts: list[tuple[list[str], list[int], Collected]], back: np.ndarray) -> tuple[list[int], Collected]:
    """Values of the present and the absent part, in inst_id order."""
    out = Collected()
    names = sorted({k for _, _, c in parts for k in (*c.per_line, *c.shared)})
    order = back.tolist()
    for name in names:
        shared = [c.shared.get(name) for _, _, c in parts]
        if all(name in c.shared for _, _, c in parts) and len({str(s) for s in shared}) == 1:
            out.shared[name] = shared[0]
            continue
        keys = next((c.mappings[name] for _, _, c in parts if name in c.mappings), None)
        col: list = []
        for ids, _, c in parts:
            if name in c.per_line:
                col += c.per_line[name]
            else:
                value = c.shared.get(name, "")
                col += [[value.get(k, "0") for k in keys] if keys and isinstance(value, dict) else value] * len(ids)
        out.per_line[name] = [col[i] for i in order]
        if keys is not None:
            out.mappings[name] = keys
        if all(name in c.numeric or name not in c.per_line for _, _, c in parts):
            out.numeric.add(name)
    case_of = [x for _, cs, _ in parts for x in cs]
    return [case_of[i] for i in order], out


def _release(run: Run, rule: Rule, total: int, wsum: Fraction, paid: int, pscope: Scope) -> None:
    u = rule.undistributed
    if u is None:
        return
    parked = sum(int(h.amount * 100) for h in run.history if h.item == u.item)
    if u.release_parked:
        amount = -parked if wsum else total - paid - parked
    else:  # runs archived before the release was declared: what was left, and only if positive
        amount = total - paid if not wsum else 0
        amount = max(amount, 0)
    _undistributed(run, rule, amount, pscope, total=total, weight_sum=wsum, parked=parked, prior_paid=paid)


def level_allocation(run: Run, rule: Rule, idx: np.ndarray) -> None:
    assert rule.level_ratio is not None
    pscope = run.period_scope()
    total = _total(run, rule, pscope)
    ratio = run.resolved.params[rule.level_ratio]
    assert isinstance(ratio, dict)
    order = [lvl for lvl in LEVELS if lvl in ratio]
    if any(ratio[lvl] < 0 for lvl in order) or not any(ratio[lvl] for lvl in order):
        shown = "、".join(f"{lvl} = {ratio[lvl]}" for lvl in order)  # the loader refuses this (format 1 too)
        raise ComputeError(f"规则 {rule.id} 的层级比例 {rule.level_ratio}（{shown}）不能为负数或全为 0")
    level_fen, _ = largest_remainder(total, Vec.of_fractions([ratio[lvl] for lvl in order]))
    ratio_text = ":".join(texts(Vec.of_fractions([ratio[lvl] for lvl in order])))
    levels = np.array(run.level_of(idx), dtype=object)
    left, given = 0, 0
    for lvl, level_total in zip(order, level_fen, strict=True):
        members = idx[levels == lvl] if len(idx) else idx
        ids = [run.units.ids[i] for i in members.tolist()]
        scope = run.unit_scope(members, pscope)
        _lets(rule.let, scope, rule, ids)
        w = _weights(rule.weights[lvl], scope, rule, ids, f"{lvl} 层级权重")
        shares, wsum = largest_remainder(level_total, w)
        if wsum == 0:
            left += level_total
        given += sum(shares)
        if not ids:
            continue
        kind = _shares(total, w, wsum, shares)
        kind.update(quantity=w, level_total=Vec.scalar(Fraction(level_total, 100)), level_name=LEVEL_NAMES[lvl],
                    level_ratio=ratio_text, weight_label=rule.weight_labels.get(lvl, ""))  # fmt: skip
        _emit(run, rule, members, scope, kind)
    _undistributed(run, rule, left, pscope, total=total)
    parts = "；".join(f"{LEVEL_NAMES[lv]}级 {_yuan(f)}" for lv, f in zip(order, level_fen, strict=True))
    _check(run, rule, total, given, left, note=parts)
    _report(run, rule, pscope, total)


# ---- lines on the lead hospital, reports, reconciliation ---------------------------------------
def _undistributed(run: Run, rule: Rule, amount: int, pscope: Scope, *, total: int,
                   weight_sum: Fraction = Fraction(0), parked: int = 0, prior_paid: int = 0) -> None:  # fmt: skip
    """The part of a total that no institution can take, booked on the lead hospital (or, at
    year end, the release of the advances parked there)."""
    u = rule.undistributed
    if u is None or amount == 0:
        return
    lead = np.array([run.lead], dtype=np.int64)
    k = {key: Vec.scalar(Fraction(v, 100)) for key, v in
         (("amount", amount), ("total", total), ("parked", parked), ("prior_paid", prior_paid))}  # fmt: skip
    k["weight_sum"] = Vec.scalar(weight_sum)
    scope = run.unit_scope(lead, pscope)
    _emit(run, rule, lead, scope, k, part="undistributed")
    lead_id = run.units.ids[run.lead]
    run.warnings.append({"kind": "undistributed", "inst_id": lead_id, "inst_name": run.units.text["name"][run.lead],
                         "message": f"{_item_name(run, rule, u.item)} {_yuan(amount)} 元（规则 {rule.id}）记在牵头医院名下"})  # fmt: skip


def _report(run: Run, rule: Rule, pscope: Scope, total: int) -> None:
    """Period figures a rule declares for the summary (e.g. what goes back to the insurer)."""
    scope = pscope.child()
    scope.own["total"] = Vec.scalar(Fraction(total, 100))
    for name, (title, f) in rule.report.items():
        v = _number(f, scope, rule, ["本期"], f"report.{name}")
        fen = _fen(v, rule, ["本期"], f"报告数 {name}")[0]
        run.reports.append({"rule_id": rule.id, "name": name, "title": title, "amount": _plain(fen)})


def _plain(fen: int) -> str:
    from ..model.money import fen_text

    return fen_text(fen)


def _check(run: Run, rule: Rule, total: int, distributed: int, undistributed: int, note: str = "") -> None:
    ok = distributed + undistributed == total
    name = _item_name(run, rule, rule.item)
    run.checks.append({"rule_id": rule.id, "item": rule.item, "title": f"{name}分配核对", "total": _plain(total),
                       "distributed": _plain(distributed), "undistributed": _plain(undistributed), "ok": ok,
                       "note": note})  # fmt: skip
    if not ok:
        raise ComputeError(
            f"规则 {rule.id} 分配不平：总额 {_plain(total)}，已分配 {_plain(distributed)}，未分配 {_plain(undistributed)}"
        )


KINDS: dict[str, Callable[[Run, Rule, np.ndarray], None]] = {
    "formula": formula,
    "allocation": allocation,
    "settlement": settlement,
    "level_allocation": level_allocation,
}
