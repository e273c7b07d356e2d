"""summary.pdf for the finance centre: totals per item and level, the reconciliation, charts
that read at county scale (per township with its villages, per level), every institution's
amounts, and the plausibility warnings grouped by check — from trace.jsonl and summary.json."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..engine.trace import TraceLine
from ..model.fields import KINDS, LEVEL_NAMES, LEVEL_OF_KIND
from ..model.money import capitals
from ..ruleset.model import Item
from .charts import BLUE, GREEN, ORANGE, RED, grouped_counts, stacked_bars, strip_rows
from .display import money, to_decimal
from .roles import ALLIANCE, GROUP_ORDER, GROUPS, RECEIVED, group_of, run_items

# a county has some 10–40 townships and a few hundred institutions; an alliance of a whole province
# (the benchmark: 2,000 townships, 20,000 institutions) would make a chart taller than a page and a
# table of 400 pages: both stop at these, say so, and point to ledger.xlsx (按机构) for the rest
MAX_CHART_ROWS = 60
MAX_TABLE_ROWS = 2000
WARNING_KINDS = {"veto": "一票否决", "clawback": "应退回", "undistributed": "未分配", "note": "说明", "input": "输入"}
ZERO = Decimal("0.00")


@dataclass
class Inst:
    inst_id: str
    name: str
    kind: str
    parent_id: str
    score: Decimal | None = None
    amounts: dict[str, Decimal] = field(default_factory=dict)

    def received(self, items: dict[str, Item] | None) -> Decimal:
        if items is None:
            return sum(self.amounts.values(), ZERO)
        return sum((a for c, a in self.amounts.items() if group_of(items.get(c)) == RECEIVED), ZERO)


def institutions(lines: list[TraceLine]) -> dict[str, Inst]:
    out: dict[str, Inst] = {}
    for t in lines:
        u = out.setdefault(t.inst_id, Inst(t.inst_id, t.inst_name, t.kind, t.parent_id))
        u.amounts[t.item] = u.amounts.get(t.item, ZERO) + Decimal(t.amount)
        score = t.values.get("score")
        if u.score is None and isinstance(score, str) and score:
            u.score = to_decimal(score)
    return out


def in_county_order(insts: dict[str, Inst]) -> list[tuple[Inst, bool]]:
    """County institutions first, then each township followed by its villages; (inst, is township)."""
    county = sorted((u for u in insts.values() if LEVEL_OF_KIND.get(u.kind) == "county"),
                    key=lambda u: (u.kind != "lead_hospital", u.inst_id))  # fmt: skip
    out = [(u, False) for u in county]
    placed = {u.inst_id for u in county}
    for town in sorted((u for u in insts.values() if u.kind == "township"), key=lambda u: u.inst_id):
        out.append((town, True))
        placed.add(town.inst_id)
        for v in sorted((u for u in insts.values() if u.kind == "village" and u.parent_id == town.inst_id),
                        key=lambda u: u.inst_id):  # fmt: skip
            out.append((v, False))
            placed.add(v.inst_id)
    out += [(u, False) for u in sorted(insts.values(), key=lambda u: u.inst_id) if u.inst_id not in placed]
    return out


# ---- the per-institution table -------------------------------------------------------------------


def _columns(lines: list[TraceLine], items: dict[str, Item] | None) -> tuple[list[tuple[str, str]], bool]:
    """(item code, heading) per column, and whether alliance items share one column."""
    names = {t.item: t.item_name for t in lines}
    codes = sorted(names, key=lambda c: (GROUP_ORDER.index(group_of(items.get(c))) if items else 0, c))
    alliance = items is not None and any(group_of(items.get(c)) == ALLIANCE for c in codes)
    cols = [(c, names[c]) for c in codes if not (items is not None and group_of(items.get(c)) == ALLIANCE)]
    return cols, alliance


def inst_table(lines: list[TraceLine], insts: dict[str, Inst], items: dict[str, Item] | None) -> dict[str, Any]:
    cols, alliance = _columns(lines, items)
    rows = []
    for u, is_town in in_county_order(insts)[:MAX_TABLE_ROWS]:
        cells = [money(u.amounts[c]) if c in u.amounts else "" for c, _ in cols]
        if alliance:
            assert items is not None
            al = [a for c, a in u.amounts.items() if group_of(items.get(c)) == ALLIANCE]
            cells.append(money(sum(al, ZERO)) if al else "")
        rows.append({"inst_id": u.inst_id, "name": u.name, "kind": KINDS.get(u.kind, u.kind), "town": is_town,
                     "score": f"{u.score}" if u.score is not None else "", "cells": cells,
                     "received": money(u.received(items))})  # fmt: skip
    heads = [h for _, h in cols] + (["医共体名下"] if alliance else [])
    more = len(insts) - len(rows)
    note = (
        f"共 {len(insts):,} 个机构，这里列出前 {len(rows):,} 个；全部机构见 ledger.xlsx 的“按机构”工作表。"
        if more
        else ""
    )
    return {"heads": heads, "rows": rows, "received_head": "本单位实收" if items is not None else "合计", "note": note}


# ---- charts --------------------------------------------------------------------------------------


def score_bands(pass_score: Decimal | None) -> list[Decimal]:
    """Lower edges of the score chart's bands: below the ruleset's pass score, then ten points
    each up to 100 (the last one open: "90分及以上" with a pass score of 60). Without a pass
    score in the trace, plain tens from 0."""
    start = pass_score if pass_score is not None else Decimal(0)
    edges = [Decimal(0)] if start > 0 else []
    edge = start
    while edge < 100:
        edges.append(edge)
        edge += 10
    return edges


def band_labels(edges: list[Decimal], pass_score: Decimal | None) -> list[str]:
    labels = []
    for i, low in enumerate(edges):
        high = edges[i + 1] if i + 1 < len(edges) else None
        if pass_score is not None and high == pass_score:
            labels.append(f"{pass_score}分以下")
        elif high is None:
            labels.append(f"{low}分及以上")
        else:
            labels.append(f"{low}–{high}分")
    return labels


def _band(score: Decimal, edges: list[Decimal]) -> int:
    return max(i for i, low in enumerate(edges) if score >= low)


def charts(insts: dict[str, Inst], items: dict[str, Item] | None, pass_score: Decimal | None) -> dict[str, str]:
    edges = score_bands(pass_score)
    all_towns = sorted((u for u in insts.values() if u.kind == "township"), key=lambda u: u.inst_id)
    towns = all_towns[:MAX_CHART_ROWS]
    villages: dict[str, list[Inst]] = defaultdict(list)
    for u in insts.values():
        if u.kind == "village":
            villages[u.parent_id].append(u)
    bars = [(t.name, [t.received(items), sum((v.received(items) for v in villages[t.inst_id]), ZERO)]) for t in towns]
    strips = [(t.name, [(v.received(items), RED if v.score is not None and pass_score is not None and v.score < pass_score else GREEN)
                        for v in sorted(villages[t.inst_id], key=lambda v: v.inst_id)])
              for t in towns if villages[t.inst_id]]  # fmt: skip
    series = []
    for level, color in (("county", BLUE), ("township", ORANGE), ("village", GREEN)):
        counts = [0] * len(edges)
        for u in insts.values():
            if LEVEL_OF_KIND.get(u.kind) == level and u.score is not None:
                counts[_band(u.score, edges)] += 1
        series.append((f"{LEVEL_NAMES[level]}级", color, counts))
    cut = len(all_towns) - len(towns)
    note = f"共 {len(all_towns):,} 个乡镇，图中是编码排在前面的 {len(towns)} 个。" if cut else ""
    return {"towns_svg": stacked_bars(bars, [ORANGE, GREEN]), "villages_svg": strip_rows(strips),
            "scores_svg": grouped_counts(band_labels(edges, pass_score), series), "towns_note": note}  # fmt: skip


# ---- warnings ------------------------------------------------------------------------------------


def warnings_of(summary: dict) -> list[dict[str, Any]]:
    """summary.json's warnings as dicts (runs of p4p 0.1 kept them as plain sentences)."""
    return [w if isinstance(w, dict) else {"kind": "", "message": str(w)} for w in summary.get("warnings", [])]


def warning_groups(warnings: list[dict]) -> tuple[list[dict[str, Any]], list[dict[str, str]]]:
    """Plausibility warnings grouped by check (with institution and message); the others listed."""
    groups: dict[str, dict[str, Any]] = {}
    others = []
    for w in warnings:
        who = f"{w['inst_name']}（{w['inst_id']}）" if w.get("inst_id") else ""
        if w.get("kind") == "check":
            cid = w.get("check_id", "")
            g = groups.setdefault(
                cid, {"check_id": cid, "title": w.get("title", ""), "cite": w.get("cite", ""), "rows": []}
            )
            g["rows"].append({"who": who, "message": w.get("message", "")})
        else:
            others.append({"kind": WARNING_KINDS.get(w.get("kind", ""), "提示"), "who": who,
                           "message": w.get("message", "")})  # fmt: skip
    return [groups[k] for k in sorted(groups)], others


def _cite_text(cite: Any) -> str:
    if isinstance(cite, list):
        return "；".join(c.get("text", "") if isinstance(c, dict) else str(c) for c in cite)
    return str(cite or "")


def item_groups(s: dict, items: dict[str, Item] | None) -> list[dict[str, Any]]:
    """The totals per item and level, with a subtotal per kind of money (received by institutions,
    paid to directors, approved ceilings, the alliance's) — never one sum of them all."""
    out = []
    for key in GROUP_ORDER if items is not None else (RECEIVED,):
        mine = [r for r in s["items"] if items is None or group_of(items.get(r["item"])) == key]
        if not mine:
            continue
        rows = [{"item_name": r["item_name"], "lines": r["lines"], "total": money(r["total"]),
                 **{lvl: money(r["by_level"].get(lvl, "0.00")) for lvl in LEVEL_NAMES}} for r in mine]  # fmt: skip
        sub = {"total": money(sum((Decimal(r["total"]) for r in mine), ZERO))}
        for lvl in LEVEL_NAMES:
            sub[lvl] = money(sum((Decimal(r["by_level"].get(lvl, "0")) for r in mine), ZERO))
        g = GROUPS[key]
        title = g.title.replace("本单位", "各单位") if items is not None else ""
        label = g.total_label.replace("本单位实收", "各单位实收") if items is not None else "合计"
        out.append({"title": title, "note": g.note.replace("本单位", "单位"), "rows": rows, "total_label": label,
                    "sub": sub})  # fmt: skip
    return out


# ---- the whole report ----------------------------------------------------------------------------


def summary_context(run_dir: Path, lines: list[TraceLine], s: dict, head: dict[str, Any]) -> dict[str, Any]:
    items = run_items(run_dir)
    insts = institutions(lines)
    pass_score = next((to_decimal(str(t.values["pass_score"])) for t in lines if "pass_score" in t.values), None)
    checks = [{**c, "note": c.get("note", ""), "total": money(c["total"]), "distributed": money(c["distributed"]),
               "undistributed": money(c["undistributed"])} for c in s["checks"]]  # fmt: skip
    check_groups, others = warning_groups(warnings_of(s))
    for g in check_groups:
        g["cite"] = _cite_text(g["cite"])
    received = sum((u.received(items) for u in insts.values()), ZERO)
    return {
        **head,
        "s": s,
        "item_groups": item_groups(s, items),
        "grand": money(s["grand_total"]),
        "grand_capitals": capitals(Decimal(s["grand_total"])),
        "by_role": items is not None,
        "received_total": money(received),
        "received_capitals": capitals(received),
        "checks": checks,
        "reports": [{**r, "amount": money(r["amount"])} for r in s["reports"]],
        "check_groups": check_groups,
        "check_count": sum(len(g["rows"]) for g in check_groups),
        "other_warnings": others,
        "table": inst_table(lines, insts, items),
        "pass_score": f"{pass_score}" if pass_score is not None else "",
        **charts(insts, items, pass_score),
    }
