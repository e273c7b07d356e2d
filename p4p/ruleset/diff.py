"""`p4p rules diff OLD NEW`: what differs between two rulesets, in Chinese — the ruleset's
identity and sources, items, every parameter value by date, every decision-table row, every
rule (each formula, condition, citation and text) and every plausibility check — and, given the
ledgers both rulesets compute from one input, the payout differences per institution and item
with totals (the computing is the caller's: this package sits below the engine).

Each object is laid out as facts (a Chinese label → its value as text); two rulesets differ
where their facts differ. Numbers are compared as numbers (48000 and 48000.00 are the same).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal
from typing import TypeVar

from ..lang.exact import fraction_text
from ..lang.template import join_lines
from ..model.fields import LEVEL_NAMES
from .model import Bounds, Check, Cite, Item, Parameter, Rule, Ruleset, Statement, Table, TableRow
from .testcases import LedgerLine, money

Facts = dict[str, str]
T = TypeVar("T")
SHORT = 40  # texts up to this length are shown on one line as "old → new"


# ---- facts of each kind of object --------------------------------------------------------------


def _cites(cites: Iterable[Cite]) -> str:
    return "；".join(c.text() for c in cites)


def _when(when: dict[str, object]) -> str:
    parts = []
    for key, want in when.items():
        if isinstance(want, dict):
            parts.append("、".join(f"{key} {op} {v}" for op, v in want.items()))
        else:
            parts.append(f"{key}: {'、'.join(str(v) for v in want)}")  # type: ignore[attr-defined]
    return "；".join(parts) or "（全部）"


def _number(x: object) -> str:
    return fraction_text(x) if not isinstance(x, str) else x  # type: ignore[arg-type]


def meta_facts(rs: Ruleset) -> Facts:
    out = {"编号": rs.id, "标题": rs.title, "生效日期": str(rs.in_force_from), "公卫工分项目参数": rs.workpoint_items}
    seen: dict[str, Cite] = {}
    for c in _all_cites(rs):
        seen.setdefault(f"{c.source}/{c.clause}", c)
    for key in sorted(seen):
        c = seen[key]
        out[f"政策文件 {c.source}《{c.short}》条款 {c.clause}"] = c.quote
    return out


def _all_cites(rs: Ruleset) -> list[Cite]:
    out = [c for p in rs.parameters.values() for c in p.cite]
    out += [c for t in rs.tables.values() for c in t.cite]
    out += [c for r in rs.rules for c in r.cite] + [c for k in rs.checks for c in k.cite]
    return out


def item_facts(it: Item) -> Facts:
    out = {"名称": it.name, "类型": it.role}
    if it.payer:
        out |= {"付款方": it.payer_name or it.payer, "资金": it.fund or "", "收款人": it.payee or ""}
    return out


def _bounds(bounds: Bounds) -> Facts:
    lo, hi = bounds
    return {k: _number(v) for k, v in (("下限 min", lo), ("上限 max", hi)) if v is not None}


def parameter_facts(p: Parameter) -> Facts:
    out = {"名称": p.title, "依据": _cites(p.cite)} | _bounds(p.bounds)
    for day, value in p.values:
        if isinstance(value, dict):
            out |= {f"{day} 起 {k}": _number(v) for k, v in value.items()}
        else:
            out[f"{day} 起"] = _number(value)
    for day, names in p.entry_names:
        out |= {f"{day} 起 {k} 的名称": n for k, n in names.items()}
    return out


def _row_text(row: TableRow) -> str:
    parts = []
    if row.when:
        parts.append(f"条件 {_when(row.when)}")
    if row.band is not None:
        lo, hi = ("无下限" if row.band[0] is None else _number(row.band[0]),
                  "无上限" if row.band[1] is None else _number(row.band[1]))  # fmt: skip
        parts.append(f"分档 [{lo}, {hi})")
    parts.append(f"取值 {row.value.text}")
    if row.label is not None:
        parts.append(f"标签 {row.label.text}")
    return "；".join(parts)


def table_facts(t: Table) -> Facts:
    out = {"名称": t.title, "依据": _cites(t.cite)} | _bounds(t.bounds)
    for v in t.versions:
        head = f"{v.start} 起的版本 " if len(t.versions) > 1 else ""
        out[f"{head}命中方式"] = v.hit_policy
        out |= {f"{head}第{i + 1}行": _row_text(r) for i, r in enumerate(v.rows)}
    return out


def _statement_facts(st: Statement, head: str) -> Facts:
    out = {}
    for i, (cond, text) in enumerate(st.cases):
        out[f"{head}第{i + 1}种情况的条件"] = cond.text if cond is not None else "（其余情况）"
        out[f"{head}第{i + 1}种情况的文字"] = text.text
    out |= {f"{head}数值表第{i + 1}行": f"{label}：{name}（{fmt}）" for i, (label, name, fmt) in enumerate(st.rows)}
    if st.breakdown:
        out[f"{head}明细表"] = "、".join(st.breakdown)
    return out


def rule_facts(r: Rule) -> Facts:
    out = {"项目": r.item, "标题": r.title.text, "依据": _cites(r.cite), "计算方式": r.kind, "适用对象": _when(r.when)}
    out |= {f"中间量 {k}": f.text for k, f in r.period_let.items()}
    out |= {f"中间量 {k}": f.text for k, f in r.let.items()}
    for key, label in (("only_if", "前提条件 only_if"), ("total", "总额 total"), ("weight", "权重 weight"),
                       ("amount", "金额 amount"), ("quantity", "数量 quantity")):  # fmt: skip
        f = getattr(r, key)
        if f is not None:
            out[label] = f.text
    out |= {f"{LEVEL_NAMES.get(k, k)}级权重": f.text for k, f in r.weights.items()}
    out |= {f"{LEVEL_NAMES.get(k, k)}级权重说明": t for k, t in r.weight_labels.items()}
    if r.level_ratio:
        out["层级比例参数"] = r.level_ratio
    if r.history_item:
        out["清算依据的项目"] = r.history_item
    out |= {f"报告 {k}": f"{title}：{f.text}" for k, (title, f) in r.report.items()}
    out["计算过程 explain"] = r.explain.text
    out |= _statement_facts(r.statement, "结算单")
    if r.undistributed:
        u = r.undistributed
        out |= {"未分配部分的项目": u.item, "未分配部分释放暂记金额": "是" if u.release_parked else "否",
                "未分配部分的计算过程": u.explain.text}  # fmt: skip
        out |= _statement_facts(u.statement, "未分配部分结算单")
    return out


def check_facts(c: Check) -> Facts:
    out = {"标题": c.title, "依据": _cites(c.cite), "适用对象": _when(c.when)}
    out |= {f"中间量 {k}": f.text for k, f in c.let.items()}
    return out | {"条件": c.condition.text, "提示文字": c.message.text}


# ---- comparing ------------------------------------------------------------------------------------


def _show(text: str) -> str:
    return join_lines(text) if "\n" in text else text


def fact_changes(old: Facts, new: Facts) -> list[str]:
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if a == b:
            continue
        a_, b_ = _show(a) if a is not None else "（无）", _show(b) if b is not None else "（无）"
        if len(a_) <= SHORT and len(b_) <= SHORT:
            out.append(f"{key}：{a_} → {b_}")
        else:
            out += [f"{key}：", f"  旧：{a_}", f"  新：{b_}"]
    return out


def _group(kind: str, old: dict[str, Facts], new: dict[str, Facts], names: dict[str, str]) -> list[str]:
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        label = f"{kind} {key}" + (f"（{names[key]}）" if names.get(key) else "")
        if key not in new:
            out.append(f"删除{label}")
        elif key not in old:
            out.append(f"新增{label}")
            out += [f"  {x}" for x in fact_changes({}, new[key])]
        else:
            changes = fact_changes(old[key], new[key])
            if changes:
                out.append(label)
                out += [f"  {x}" for x in changes]
    return out


def ruleset_differences(old: Ruleset, new: Ruleset) -> list[str]:
    """Every difference between two rulesets, in Chinese, grouped by kind of object."""
    out = []
    changes = fact_changes(meta_facts(old), meta_facts(new))
    if changes:
        out.append("规则集")
        out += [f"  {x}" for x in changes]
    out += _group("项目", _facts(old.items, item_facts), _facts(new.items, item_facts),
                  _names(old.items, new.items, lambda x: x.name))  # fmt: skip
    out += _group("参数", _facts(old.parameters, parameter_facts), _facts(new.parameters, parameter_facts),
                  _names(old.parameters, new.parameters, lambda x: x.title))  # fmt: skip
    out += _group("决策表", _facts(old.tables, table_facts), _facts(new.tables, table_facts),
                  _names(old.tables, new.tables, lambda x: x.title))  # fmt: skip
    out += _group("规则", {r.id: rule_facts(r) for r in old.rules}, {r.id: rule_facts(r) for r in new.rules},
                  {r.id: r.item for r in [*old.rules, *new.rules]})  # fmt: skip
    order_old = [r.id for r in old.rules if r.id in {x.id for x in new.rules}]
    order_new = [r.id for r in new.rules if r.id in {x.id for x in old.rules}]
    if order_old != order_new:
        out.append(f"规则的计算顺序：{'、'.join(order_old)} → {'、'.join(order_new)}")
    out += _group("提示", {c.id: check_facts(c) for c in old.checks}, {c.id: check_facts(c) for c in new.checks},
                  {c.id: c.title for c in [*old.checks, *new.checks]})  # fmt: skip
    return out


def _facts(objs: dict[str, T], fn: Callable[[T], Facts]) -> dict[str, Facts]:
    return {k: fn(v) for k, v in objs.items()}


def _names(old: dict[str, T], new: dict[str, T], fn: Callable[[T], str]) -> dict[str, str]:
    return {k: fn(v) for k, v in {**old, **new}.items()}


# ---- payouts ----------------------------------------------------------------------------------


def _signed(d: Decimal) -> str:
    return ("+" if d > 0 else "") + money(d)


def payout_differences(old: list[LedgerLine], new: list[LedgerLine], transfer_items: set[str]) -> list[str]:
    """Per institution and item: the amounts both rulesets give one input, where they differ;
    then the totals per item, and of the items paid out (`transfer_items`)."""
    a = {(x.inst_id, x.item): x for x in old}
    b = {(x.inst_id, x.item): x for x in new}
    out = []
    for key in sorted(set(a) | set(b)):
        x, y = a.get(key), b.get(key)
        line = x or y
        assert line is not None
        va, vb = (x.amount if x else None), (y.amount if y else None)
        if va == vb:
            continue
        old_text = money(va) if va is not None else "无此行"
        new_text = money(vb) if vb is not None else "无此行"
        delta = (vb or Decimal(0)) - (va or Decimal(0))
        out.append(f"{key[0]} {line.inst_name} {key[1]} {line.item_name}：{old_text} → {new_text}（{_signed(delta)}）")
    changed = len(out)
    out.append(f"共 {changed} 行不同" if changed else "两个规则集对这份输入的每一行金额都相同")
    out += _totals(old, new, transfer_items)
    return out


def _totals(old: list[LedgerLine], new: list[LedgerLine], transfer_items: set[str]) -> list[str]:
    ta: dict[str, Decimal] = defaultdict(Decimal)
    tb: dict[str, Decimal] = defaultdict(Decimal)
    names = {}
    for lines, t in ((old, ta), (new, tb)):
        for x in lines:
            t[x.item] += x.amount
            names[x.item] = x.item_name
    out = ["各项目合计（旧 → 新，差）："]
    for item in sorted(set(ta) | set(tb)):
        out.append(f"  {item} {names[item]}：{money(ta[item])} → {money(tb[item])}（{_signed(tb[item] - ta[item])}）")
    pa = sum((v for k, v in ta.items() if k in transfer_items), Decimal(0))
    pb = sum((v for k, v in tb.items() if k in transfer_items), Decimal(0))
    out.append(f"转账合计（要付款的项目）：{money(pa)} → {money(pb)}（{_signed(pb - pa)}）")
    return out
