"""What one institution's statement shows, from its trace lines alone (nothing is recomputed):
the amounts grouped by what they are to the institution, each line's plain-language reason as its
rule's statement declares it (with the table it declares and the clause it cites), the year to
date, a veto and its reason."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..engine.trace import TraceLine
from ..lang.template import show
from ..model.fields import KINDS
from ..model.money import capitals
from ..ruleset.model import Item
from .display import money, quarter_label, to_decimal
from .roles import GROUP_ORDER, GROUPS, RECEIVED, group_of
from .ytd import YearToDate

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class Institution:
    inst_id: str
    name: str
    kind: str
    parent_name: str
    director: str
    veto_reason: str | None  # None: not vetoed


def amount_cell(amount: Decimal) -> dict[str, Any]:
    return {"figure": money(amount), "capitals": capitals(amount), "negative": amount < 0}


# ---- the amounts, grouped ------------------------------------------------------------------------


def _group_key(t: TraceLine, items: dict[str, Item] | None) -> str:
    return group_of(items.get(t.item)) if items is not None else RECEIVED


def ordered(lines: list[TraceLine], items: dict[str, Item] | None) -> list[TraceLine]:
    """Received money first, then the director's, the ceilings, the alliance's; ledger order within."""
    return sorted(lines, key=lambda t: GROUP_ORDER.index(_group_key(t, items)))


def _payer(t: TraceLine, items: dict[str, Item] | None) -> str:
    item = items.get(t.item) if items else None
    return (item.payer_name or "") if item is not None and item.role == "transfer" else ""


def amount_groups(lines: list[TraceLine], items: dict[str, Item] | None) -> list[dict[str, Any]]:
    """The amounts table: one group per kind of money with its own subtotal; a run archived
    without item declarations gets one group and one total, as statements always had."""
    if items is None:
        total = sum((Decimal(t.amount) for t in lines), ZERO)
        rows = [{"item_name": t.item_name, "payer": "", **amount_cell(Decimal(t.amount))} for t in lines]
        return [{"title": "", "note": "", "lines": rows, "total_label": "合计", "total": amount_cell(total)}]
    out = []
    for key in GROUP_ORDER:
        mine = [t for t in lines if _group_key(t, items) == key]
        if not mine:
            continue
        g = GROUPS[key]
        total = sum((Decimal(t.amount) for t in mine), ZERO)
        rows = [{"item_name": t.item_name, "payer": _payer(t, items), **amount_cell(Decimal(t.amount))} for t in mine]
        # a subtotal of one line repeats it: shown for the money received (always) and for several lines
        show_total = key == RECEIVED or len(rows) > 1
        out.append({"title": g.title, "note": g.note, "lines": rows, "total_label": g.total_label if show_total else "",
                    "total": amount_cell(total)})  # fmt: skip
    return out


# ---- one line's explanation ----------------------------------------------------------------------


def _rows(t: TraceLine) -> list[tuple[str, str]]:
    decl = (t.statement or {}).get("rows") or []
    return [(label, show(str(t.values[name]), fmt)) for label, name, fmt in decl if name in t.values]


def _breakdown(t: TraceLine) -> dict[str, Any] | None:
    decl = (t.statement or {}).get("breakdown")
    if not decl:
        return None
    counts_name, weights_name, title = decl
    counts, weights = t.values.get(counts_name), t.values.get(weights_name)
    if not isinstance(counts, dict) or not isinstance(weights, dict) or not counts:
        return None
    names = t.entry_names.get(weights_name, {})
    entries, total = [], Decimal(0)
    for code, count in counts.items():
        points = to_decimal(weights.get(code, "0"))
        product = to_decimal(count) * points
        total += product
        entries.append({"name": names.get(code, code), "code": code, "count": show(count, "count"),
                        "points": show(str(points), "number"), "product": show(str(product), "number")})  # fmt: skip
    return {"title": title, "entries": entries, "rows": columns(entries, 3), "total": show(str(total), "number")}


def columns(entries: list[Any], n: int) -> list[list[Any]]:
    """Entries in `n` columns read top to bottom (a ten-item table takes four rows of the page);
    the last row is padded with None."""
    height = -(-len(entries) // n)
    cols = [entries[i * height : (i + 1) * height] for i in range(n)]
    return [[c[r] if r < len(c) else None for c in cols] for r in range(height)]


def _cites(t: TraceLine) -> list[dict[str, str]]:
    return [{"text": c.get("text", ""), "quote": c.get("quote", "")} for c in t.rule.get("cite", [])]


def section(t: TraceLine, items: dict[str, Item] | None) -> dict[str, Any]:
    rows = _rows(t)
    return {"item": t.item, "item_name": t.item_name, **amount_cell(Decimal(t.amount)), "payer": _payer(t, items),
            "text": t.statement_text(), "rows": rows, "row_pairs": _row_pairs(rows), "breakdown": _breakdown(t),
            "cites": _cites(t), "rule_id": t.rule.get("id", ""), "rule_title": t.rule.get("title", "")}  # fmt: skip


def _row_pairs(rows: list[tuple[str, str]]) -> list[list[tuple[str, str] | None]]:
    return columns(rows, 2)


# ---- year to date --------------------------------------------------------------------------------


def ytd_table(lines: list[TraceLine], ytd: YearToDate, items: dict[str, Item] | None) -> dict[str, Any] | None:
    """Per item: each earlier approved quarter, this quarter, the total so far."""
    if not ytd.periods or not lines:
        return None
    period, earlier = lines[0].period, ytd.of(lines[0].inst_id)
    now = {t.item: Decimal(t.amount) for t in lines}
    names = {t.item: t.item_name for t in lines}
    codes = sorted(set(now) | set(earlier), key=lambda c: (_order(c, items), c))
    rows = []
    for code in codes:
        per = [earlier.get(code, {}).get(p) for p in ytd.periods] + [now.get(code)]
        total = sum((a for a in per if a is not None), ZERO)
        rows.append({"item_name": names.get(code, code), "group": _code_group(code, items),
                     "cells": [money(a) if a is not None else "—" for a in per], "total": money(total),
                     "negative": total < 0})  # fmt: skip
    heads = [quarter_label(p) for p in ytd.periods] + [f"{quarter_label(period)}（本期）"]
    received = [r for r in rows if r["group"] == RECEIVED]
    out: dict[str, Any] = {"heads": heads, "rows": rows, "annual": period.endswith("4"), "received_total": None}
    if items is not None and received:
        sums = [_column_sum(codes, earlier, now, ytd.periods, items, i) for i in range(len(heads) + 1)]
        out["received_total"] = [money(s) for s in sums]
    return out


def _code_group(code: str, items: dict[str, Item] | None) -> str:
    return group_of(items.get(code)) if items is not None else RECEIVED


def _order(code: str, items: dict[str, Item] | None) -> int:
    return GROUP_ORDER.index(_code_group(code, items))


def _column_sum(codes: Iterable[str], earlier: dict[str, dict[str, Decimal]], now: dict[str, Decimal],
                periods: list[str], items: dict[str, Item], col: int) -> Decimal:  # fmt: skip
    """Column `col` of the received-money subtotal: an earlier quarter, this quarter, or (last) the total."""
    total = ZERO
    for code in codes:
        if _code_group(code, items) != RECEIVED:
            continue
        per = [earlier.get(code, {}).get(p, ZERO) for p in periods] + [now.get(code, ZERO)]
        total += sum(per, ZERO) if col == len(per) else per[col]
    return total


# ---- the whole statement -------------------------------------------------------------------------


def institution(lines: list[TraceLine], names: dict[str, str], vetoes: dict[str, str]) -> Institution:
    """Who the statement is for; vetoed when a line says so or the run's summary lists a veto."""
    t0 = lines[0]
    vetoed = t0.inst_id in vetoes or any(str(t.values.get("veto", "")) == "1" for t in lines)
    reason = next((t.veto_reason for t in lines if t.veto_reason), "") or vetoes.get(t0.inst_id, "") or "未填写事由"
    parent = names.get(t0.parent_id, "") if t0.kind == "village" else ""
    director = t0.director if t0.kind == "township" else ""
    return Institution(t0.inst_id, t0.inst_name, t0.kind, parent, director, reason if vetoed else None)


def statement_context(lines: list[TraceLine], inst: Institution, items: dict[str, Item] | None,
                      ytd: YearToDate) -> dict[str, Any]:  # fmt: skip
    """The statement template's data for one institution (its head comes from the run)."""
    lines = ordered(lines, items)
    annual = lines[0].period.endswith("4")
    return {
        "inst": {
            "inst_id": inst.inst_id,
            "name": inst.name,
            "kind_name": KINDS.get(inst.kind, inst.kind),
            "parent_name": inst.parent_name,
            "director": inst.director,
        },
        "title": "年度绩效兑现结算单" if annual else "绩效兑现结算单",
        "veto": inst.veto_reason,
        "groups": amount_groups(lines, items),
        "show_payer": items is not None,
        "sections": [section(t, items) for t in lines],
        "ytd": ytd_table(lines, ytd, items),
    }
