"""Correction statements (SPEC §9): when an approved run is superseded, one PDF per institution
concerned — every ledger line of it whose amount changed, 原核定 / 更正后 / 补发或扣回 in figures
and capitals, the money that moves because of it (per payer and fund, as the correction lists
net it), the reason, the approval stamp and the chain head, and a signature block.

Rendered from templates/correction.html (portrait A4, its own CSS, WenQuanYi Micro Hei, no
external resources, fixed PDF dates); a process pool when there are many, as for statements.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import jinja2

from ..model.money import capitals, fmt_amount, group_thousands
from ..pay.corrections import Correction
from ..pay.items import PAYEE_KIND_NAMES, ItemPayment
from ..pay.lists import period_label
from ..pay.rows import PaymentLists, PayRow
from ..resources import TEMPLATES
from .pool import quiet_pool

TEMPLATE = "correction.html"
ROLE_NOTES = {
    "ceiling": "核定额度：单位在额度内自行发放，不列入发放名单",
    "alliance": "医共体项目：记在医共体名下，不发放",
}


@dataclass(frozen=True)
class CorrectionHead:
    """What every correction statement of one supersede says about it."""

    alliance: str
    period: str
    original_run: str
    corrected_run: str
    reason: str
    stamp: str
    chain_head: str
    notes: tuple[str, ...] = ()


def _money(d: Decimal) -> str:
    return group_thousands(fmt_amount(d))


def _figure(d: Decimal) -> dict[str, str]:
    return {"amount": _money(d), "capitals": capitals(d)}


def _change_word(diff: Decimal, transfer: bool) -> str:
    if diff > 0:
        return "补发" if transfer else "调增"
    return "扣回" if transfer else "调减"


def _line(c: Correction, decl: ItemPayment | None) -> dict[str, Any]:
    transfer = decl is None or decl.is_transfer
    if decl is not None and decl.is_transfer:
        who = PAYEE_KIND_NAMES.get(decl.payee or "", "")
        route = f"{decl.payer_name} · {decl.fund}（收款人：{who}）"
    else:
        route = ROLE_NOTES.get(decl.role, "") if decl else ""
    return {
        "item": c.item,
        "name": decl.name if decl else (c.item_name or c.item),
        "route": route,
        "original": _figure(c.original),
        "corrected": _figure(c.corrected),
        "word": _change_word(c.difference, transfer),
        "difference": _figure(abs(c.difference)),
        "down": c.difference < 0,
    }


def _movement(r: PayRow, word: str) -> dict[str, Any]:
    return {
        "payer": f"{r.payer_name} · {r.fund}",
        "payee": r.payee_label,
        "kind": PAYEE_KIND_NAMES.get(r.payee_kind, r.payee_kind),
        "account": f"{r.account_name} {r.account_no} {r.bank}".strip(),
        "word": word,
        "figure": _figure(abs(r.amount)),
        "purpose": r.purpose,
    }


def _movements(lists: PaymentLists | None) -> dict[str, list[dict[str, Any]]]:
    """Per institution: the correction payments (补发), receivables (扣回) and payee totals
    that cancel within a payer and fund."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if lists is None:
        return out
    for rows, word in ((lists.payments, "补发"), (lists.receivables, "扣回"), (lists.netted_to_zero, "相抵为零")):
        for r in rows:
            out[r.payee_id].append(_movement(r, word))
    return out


def correction_contexts(
    corrs: Sequence[Correction],
    lists: PaymentLists | None,
    decls: Mapping[str, ItemPayment] | None,
    head: CorrectionHead,
) -> dict[str, dict[str, Any]]:
    """inst_id → the template context of its correction statement (institutions with at
    least one changed line), in inst_id order."""
    by_inst: dict[str, list[Correction]] = defaultdict(list)
    for c in corrs:
        by_inst[c.inst_id].append(c)
    moves = _movements(lists)
    out = {}
    for inst_id in sorted(by_inst):
        mine = by_inst[inst_id]
        out[inst_id] = {
            "head": head,
            "period_label": period_label(head.period),
            "inst_id": inst_id,
            "inst_name": mine[0].inst_name,
            "lines": [_line(c, (decls or {}).get(c.item)) for c in mine],
            "movements": moves.get(inst_id, []),
            "has_lists": lists is not None,
        }
    return out


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def correction_html(context: dict[str, Any]) -> str:
    return _env().get_template(TEMPLATE).render(**context)


def _refuse_urls(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"external resource refused: {url}")


_worker: dict[str, Any] = {}


def _render(task: tuple[str, str]) -> str:
    from weasyprint import HTML

    if "fc" not in _worker:
        from weasyprint.text.fonts import FontConfiguration

        _worker["fc"], _worker["cache"] = FontConfiguration(), {}
    html_text, out = task
    HTML(string=html_text, url_fetcher=_refuse_urls, base_url=str(TEMPLATES)).write_pdf(
        out, font_config=_worker["fc"], cache=_worker["cache"]
    )
    return out


def correction_pdf(context: dict[str, Any]) -> bytes:
    """One correction statement as PDF bytes."""
    from weasyprint import HTML

    pdf = HTML(string=correction_html(context), url_fetcher=_refuse_urls, base_url=str(TEMPLATES)).write_pdf()
    if pdf is None:
        raise RuntimeError("weasyprint returned no PDF")
    return pdf


def render_corrections(contexts: Mapping[str, dict[str, Any]], out_dir: Path, jobs: int | None = None) -> list[str]:
    """Write <out_dir>/<inst_id>.pdf for every context; returns the inst_ids written."""
    if not contexts:
        return []
    out_dir.mkdir(parents=True, exist_ok=True)
    tasks = [(correction_html(ctx), str(out_dir / f"{inst_id}.pdf")) for inst_id, ctx in contexts.items()]
    jobs = max(1, jobs or os.cpu_count() or 1)
    if jobs == 1 or len(tasks) < 4:
        for t in tasks:
            _render(t)
    else:
        with quiet_pool(jobs) as pool:
            for _ in pool.imap_unordered(_render, tasks, chunksize=4):
                pass
    return list(contexts)
