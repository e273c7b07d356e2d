"""The summary of a run: totals per item and level, reconciliation checks, figures reported by
rules, warnings (plausibility checks, vetoes, claw-backs, parked amounts)."""

from __future__ import annotations

import unicodedata
from collections import defaultdict
from typing import Any

from ..model.fields import LEVEL_NAMES, LEVEL_OF_KIND
from ..model.money import fen_text, group_thousands
from .result import Result


def build_summary(result: Result, extra_warnings: list[dict] | None = None) -> dict[str, Any]:
    by_item: dict[str, int] = defaultdict(int)
    by_level: dict[tuple[str, str], int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    names: dict[str, str] = {}
    level_of = {iid: LEVEL_OF_KIND.get(u.kind, "") for iid, u in result.units.items()}
    institutions: set[str] = set()
    for b in result.blocks:
        names.setdefault(b.item, b.item_name)
        counts[b.item] += len(b.amounts)
        by_item[b.item] += sum(b.amounts)
        institutions.update(b.inst_ids)
        for iid, fen in zip(b.inst_ids, b.amounts, strict=True):
            by_level[(b.item, level_of[iid])] += fen
    items = [{"item": it, "item_name": names[it], "lines": counts[it], "total": _yuan(by_item[it]),
              "by_level": {lvl: _yuan(by_level[(it, lvl)]) for lvl in LEVEL_NAMES if (it, lvl) in by_level}}
             for it in sorted(by_item)]  # fmt: skip
    warnings = list(extra_warnings or []) + result.warnings
    return {"period": result.period, "alliance": result.alliance, "institutions": len(institutions), "items": items,
            "grand_total": _yuan(sum(by_item.values())), "checks": result.checks, "reports": result.reports,
            "warnings": warnings, "all_checks_ok": all(c["ok"] for c in result.checks),
            "plausibility_warnings": sum(1 for w in warnings if w.get("kind") == "check")}  # fmt: skip


def _yuan(fen: int) -> str:
    return fen_text(fen)


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _cell(s: str, w: int, left: bool = False) -> str:
    pad = " " * max(0, w - _width(s))
    return s + pad if left else pad + s


def warning_text(w: dict) -> str:
    who = f"{w['inst_name']}（{w['inst_id']}）" if w.get("inst_id") else ""
    head = f"[{w['check_id']} {w['title']}] " if w.get("kind") == "check" else ""
    return f"{head}{who}{'：' if who else ''}{w['message']}"


def summary_text(s: dict, shown: int | None = None) -> str:
    """The Chinese table kept as summary.txt, and printed on the terminal with at most `shown`
    lines of each list of warnings (a province's run can have thousands; the file has them all)."""
    out = [f"{s['alliance']} {s['period']} 绩效兑现汇总（{s['institutions']} 个机构）", ""]
    w = max([_width(r["item_name"]) for r in s["items"]] + [4])
    head = [_cell("项目", w, True), _cell("行数", 6), _cell("合计（元）", 16)]
    head += [_cell(f"{v}级", 16) for v in LEVEL_NAMES.values()]
    out.append(" ".join(head))
    for r in s["items"]:
        lv = r["by_level"]
        out.append(" ".join([_cell(r["item_name"], w, True), _cell(str(r["lines"]), 6),
                             _cell(group_thousands(r["total"]), 16)]
                            + [_cell(group_thousands(lv.get(k, "0.00")), 16) for k in LEVEL_NAMES]))  # fmt: skip
    out.append(" ".join([_cell("合计", w, True), _cell("", 6), _cell(group_thousands(s["grand_total"]), 16)]))
    if s["checks"]:
        out += ["", "核对："]
        for c in s["checks"]:
            mark = "通过" if c["ok"] else "不平"
            out.append(f"  [{mark}] {c['title']}：总额 {group_thousands(c['total'])} = 已分配 "
                       f"{group_thousands(c['distributed'])} + 未分配 {group_thousands(c['undistributed'])}"
                       + (f"（{c['note']}）" if c["note"] else ""))  # fmt: skip
    for r in s["reports"]:
        out.append(f"  {r['title']}：{group_thousands(r['amount'])} 元")
    checks = [x for x in s["warnings"] if x.get("kind") == "check"]
    others = [x for x in s["warnings"] if x.get("kind") != "check"]
    if checks:
        out += ["", f"需要核实的数据（{len(checks)} 条，不影响金额；p4p run --strict 会把它们当作错误）："]
        out += _listed(checks, shown)
    if others:
        out += ["", "提示：", *_listed(others, shown)]
    return "\n".join(out) + "\n"


def _listed(warnings: list[dict], shown: int | None) -> list[str]:
    lines = [f"  - {warning_text(x)}" for x in warnings[:shown]]
    if shown is not None and len(warnings) > shown:
        lines.append(f"  ……另有 {len(warnings) - shown:,} 条未在此列出，全部见运行目录中的 summary.txt")
    return lines
