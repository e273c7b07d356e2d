"""Totals per item and level, reconciliation checks, figures reported by rules, warnings."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from decimal import Decimal

from ..model.fields import LEVEL_NAMES
from ..model.money import fmt_amount, group_thousands
from .compute import Result


def build_summary(result: Result, alliance: str) -> dict:
    by_item, by_level = defaultdict(lambda: Decimal("0.00")), defaultdict(lambda: Decimal("0.00"))
    counts, items = defaultdict(int), {}
    for l in result.lines:
        items.setdefault(l.item, l.item_name)
        by_item[l.item] += l.amount
        by_level[(l.item, l.level)] += l.amount
        counts[l.item] += 1
    item_rows = [
        {
            "item": it,
            "item_name": items.get(it, it),
            "lines": counts[it],
            "total": fmt_amount(by_item[it]),
            "by_level": {lvl: fmt_amount(by_level[(it, lvl)]) for lvl in LEVEL_NAMES if (it, lvl) in by_level},
        }
        for it in sorted(by_item)
    ]
    grand = sum(by_item.values(), Decimal("0.00"))
    return {
        "period": result.period,
        "alliance": alliance,
        "institutions": len({l.inst_id for l in result.lines}),
        "items": item_rows,
        "grand_total": fmt_amount(grand),
        "checks": result.checks,
        "reports": result.reports,
        "warnings": result.warnings,
        "all_checks_ok": all(c["ok"] for c in result.checks),
    }


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cell(s: str, w: int, left=False) -> str:
    pad = " " * max(0, w - _width(s))
    return s + pad if left else pad + s


def summary_text(s: dict) -> str:
    """The Chinese table printed on the terminal and kept as summary.txt."""
    out = [f"{s['alliance']} {s['period']} 绩效兑现汇总（{s['institutions']} 个机构）", ""]
    w = max([_width(r["item_name"]) for r in s["items"]] + [4])
    head = [_cell("项目", w, True), _cell("行数", 6), _cell("合计（元）", 16)] + [
        _cell(f"{v}级", 16) for v in LEVEL_NAMES.values()
    ]
    out.append(" ".join(head))
    for r in s["items"]:
        lv = r["by_level"]
        out.append(
            " ".join(
                [_cell(r["item_name"], w, True), _cell(str(r["lines"]), 6), _cell(group_thousands(r["total"]), 16)]
                + [_cell(group_thousands(lv.get(k, "0.00")), 16) for k in LEVEL_NAMES]
            )
        )
    out.append(" ".join([_cell("合计", w, True), _cell("", 6), _cell(group_thousands(s["grand_total"]), 16)]))
    if s["checks"]:
        out += ["", "核对："]
        for c in s["checks"]:
            mark = "通过" if c["ok"] else "不平"
            out.append(
                f"  [{mark}] {c['title']}：总额 {group_thousands(c['total'])} = 已分配 {group_thousands(c['distributed'])}"
                f" + 未分配 {group_thousands(c['undistributed'])}" + (f"（{c['note']}）" if c["note"] else "")
            )
    for r in s["reports"]:
        out.append(f"  {r['title']}：{group_thousands(r['amount'])} 元")
    if s["warnings"]:
        out += ["", "提示："] + [f"  - {x}" for x in s["warnings"]]
    return "\n".join(out) + "\n"
