"""Totals per item and level, reconciliation checks, figures reported by rules, warnings."""
from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

from .compute import Result
from .money import fmt_amount, group_thousands
from .schema import LEVEL_NAMES


def build_summary(result: Result, alliance: str, items: dict[str, str]) -> dict:
    by_item, by_level = defaultdict(lambda: Decimal("0.00")), defaultdict(lambda: Decimal("0.00"))
    counts = defaultdict(int)
    for l in result.lines:
        by_item[l.item] += l.amount
        by_level[(l.item, l.level)] += l.amount
        counts[l.item] += 1
    item_rows = [{"item": it, "item_name": items.get(it, it), "lines": counts[it], "total": fmt_amount(by_item[it]),
                  "by_level": {lvl: fmt_amount(by_level[(it, lvl)]) for lvl in LEVEL_NAMES if (it, lvl) in by_level}}
                 for it in sorted(by_item)]
    grand = sum(by_item.values(), Decimal("0.00"))
    return {"period": result.period, "alliance": alliance, "institutions": len({l.inst_id for l in result.lines}),
            "items": item_rows, "grand_total": fmt_amount(grand), "checks": result.checks,
            "reports": result.reports, "warnings": result.warnings,
            "all_checks_ok": all(c["ok"] for c in result.checks)}


def summary_text(s: dict) -> str:
    """The Chinese table printed on the terminal and kept as summary.txt."""
    out = [f"{s['alliance']} {s['period']} 绩效兑现汇总（{s['institutions']} 个机构）", ""]
    w = max([len(r["item_name"]) for r in s["items"]] + [4])
    out.append(f"{'项目':<{w}}\t{'行数':>4}\t{'合计（元）':>16}\t县级\t乡级\t村级")
    for r in s["items"]:
        lv = r["by_level"]
        out.append(f"{r['item_name']:<{w}}\t{r['lines']:>4}\t{group_thousands(r['total']):>16}\t"
                   + "\t".join(group_thousands(lv.get(k, "0.00")) for k in LEVEL_NAMES))
    out.append(f"{'合计':<{w}}\t\t{group_thousands(s['grand_total']):>16}")
    if s["checks"]:
        out += ["", "核对："]
        for c in s["checks"]:
            mark = "通过" if c["ok"] else "不平"
            out.append(f"  [{mark}] {c['title']}：总额 {group_thousands(c['total'])} = 已分配 {group_thousands(c['distributed'])}"
                       f" + 未分配 {group_thousands(c['undistributed'])}" + (f"（{c['note']}）" if c["note"] else ""))
    for r in s["reports"]:
        out.append(f"  {r['title']}：{group_thousands(r['amount'])} 元")
    if s["warnings"]:
        out += ["", "提示："] + [f"  - {x}" for x in s["warnings"]]
    return "\n".join(out) + "\n"
