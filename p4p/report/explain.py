"""`p4p explain`: the derivation of ledger lines in Chinese, from trace.jsonl alone."""

from __future__ import annotations

from decimal import Decimal

from ..model.fields import KINDS
from ..model.money import capitals, group_thousands


def explain_lines(traces: list[dict], inst_id: str, item: str | None = None) -> list[str]:
    sel = [t for t in traces if t["inst_id"] == inst_id and (item is None or t["item"] == item)]
    if not sel:
        return []
    t0 = sel[0]
    out = [f"{t0['alliance']} {t0['period']}  {t0['inst_name']}（{inst_id}，{KINDS.get(t0['kind'], t0['kind'])}）", ""]
    for t in sel:
        amount = Decimal(t["amount"])
        out.append(f"■ {t['item_name']}（{t['item']}）：{group_thousands(t['amount'])} 元  {capitals(amount)}")
        r = t["rule"]
        out.append(f"  规则：{r['id']} {r['title']}")
        out.append("  依据：" + "；".join(c["text"] for c in r["cite"]))
        f = t["formula"]
        for key, label in (("total", "总额"), ("weight", "权重"), ("amount", "金额"), ("quantity", "数量")):
            if f.get(key):
                out.append(f"  公式（{label}）：{f[key]}")
        for group in ("period_let", "let"):
            for k, v in (f.get(group) or {}).items():
                out.append(f"  中间量 {k} = {v}")
        if f.get("weights"):
            out.append("  各层级权重：" + "；".join(f"{k}: {v}" for k, v in f["weights"].items()))
        out.append(f"  计算：{t['explain']}")
        vals = t["values"]
        out.append("  取值：" + "，".join(f"{k}={v}" for k, v in sorted(vals.items())))
        if t["quantity"]:
            out.append(f"  台账数量：{t['quantity']}")
        out.append("")
    return out
