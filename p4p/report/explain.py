"""`p4p explain`: the derivation of ledger lines in Chinese, from trace.jsonl alone."""

from __future__ import annotations

from decimal import Decimal

from ..engine.trace import TraceLine
from ..lang.template import group
from ..model.fields import KINDS
from ..model.money import capitals

_FORMULA_LABELS = (("total", "总额"), ("weight", "权重"), ("amount", "金额"), ("quantity", "数量"), ("only_if", "前提"))


def explain_lines(traces: list[TraceLine], inst_id: str, item: str | None = None) -> list[str]:
    sel = [t for t in traces if t.inst_id == inst_id and (item is None or t.item == item)]
    if not sel:
        return []
    t0 = sel[0]
    out = [f"{t0.alliance} {t0.period}  {t0.inst_name}（{inst_id}，{KINDS.get(t0.kind, t0.kind)}）", ""]
    for t in sel:
        out += _one(t)
    return out


def _one(t: TraceLine) -> list[str]:
    amount = Decimal(t.amount)
    r = t.rule
    out = [f"■ {t.item_name}（{t.item}）：{group(t.amount)} 元  {capitals(amount)}",
           f"  规则：{r['id']} {r['title']}"]  # fmt: skip
    for c in r["cite"]:
        quote = f"“{c['quote']}”" if c.get("quote") else ""
        out.append(f"  依据：{c['text']}{quote}")
    f = r.get("formula") or {}
    for key, label in _FORMULA_LABELS:
        if f.get(key):
            out.append(f"  公式（{label}）：{f[key]}")
    for group_ in ("period_let", "let"):
        for k, v in (f.get(group_) or {}).items():
            out.append(f"  中间量 {k} = {v}")
    if f.get("weights"):
        out.append("  各层级权重：" + "；".join(f"{k}: {v}" for k, v in f["weights"].items()))
    out.append(f"  计算：{t.explain}")
    shown = {k: v for k, v in sorted(t.values.items()) if not isinstance(v, dict)}
    out.append("  取值：" + "，".join(f"{k}={v}" for k, v in shown.items()))
    if t.quantity:
        out.append(f"  台账数量：{t.quantity}")
    out.append("")
    return out


def item_codes(traces: list[TraceLine], inst_id: str) -> list[str]:
    """The items an institution has lines for (to say which codes `explain` accepts)."""
    return sorted({f"{t.item}（{t.item_name}）" for t in traces if t.inst_id == inst_id})
