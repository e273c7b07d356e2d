"""Payment lists as a PDF for people (SPEC §9): one section (starting a page) per payer and
fund, then receivables, alliance items and the reconciliation; figures and capitals, totals,
a signature block, and the approval chain head and stamp on every page.

Rendered from templates/payments.html with style.css + payments.css (landscape A4,
WenQuanYi Micro Hei), no external resources; the PDF's dates are fixed in the template, so
the same lists give the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

import jinja2

from ..model.money import capitals, fmt_amount, group_thousands
from ..pay.items import PAYEE_KIND_NAMES
from ..pay.lists import ZERO, period_label
from ..pay.rows import PaymentLists, PayRow, grouped
from ..resources import TEMPLATES

OFFICIAL_MARK = "已审批"


def _money(d: Decimal) -> str:
    return group_thousands(fmt_amount(d))


def _rows(rows: Sequence[PayRow], sign: int) -> dict[str, Any]:
    total = sum((r.amount * sign for r in rows), ZERO)
    return {
        "rows": [
            {
                "payee_id": r.payee_id,
                "payee_name": r.payee_label,
                "kind_name": PAYEE_KIND_NAMES.get(r.payee_kind, r.payee_kind),
                "account_name": r.account_name,
                "account_no": r.account_no,
                "bank": r.bank,
                "amount": _money(r.amount * sign),
                "capitals": capitals(r.amount * sign),
                "purpose": r.purpose,
            }
            for r in rows
        ],
        "total": {"amount": _money(total), "capitals": capitals(total)},
        "purposes": "；".join(dict.fromkeys(r.purpose for r in rows)),
    }


def _sections(lists: PaymentLists) -> list[dict[str, Any]]:
    """One section per payer and fund: the payments, then the receivables (shown as the
    positive amount to recover, under their own heading)."""
    pay_title = "更正发放名单" if lists.correction else "绩效兑现发放名单"
    back_title = "更正应收回清单" if lists.correction else "应收回清单"
    out = []
    for title, sign, amount_head, rows in (
        (pay_title, 1, "金额（元）", lists.payments),
        (back_title, -1, "应收回金额（元）", lists.receivables),
    ):
        for _payer, payer_name, fund, members in grouped(rows):
            out.append(
                {
                    "title": title,
                    "payer_name": payer_name,
                    "fund": fund,
                    "amount_head": amount_head,
                    "receivable": sign < 0,
                    **_rows(members, sign),
                }
            )
    return out


def payment_context(lists: PaymentLists, *, chain_head: str, stamp: str, reconciliation: str = "") -> dict[str, Any]:
    return {
        "title": "更正发放名单" if lists.correction else "绩效兑现发放名单",
        "alliance": lists.alliance,
        "period": lists.period,
        "period_label": period_label(lists.period),
        "chain_head": chain_head,
        "stamp": stamp,
        "official": stamp.startswith(OFFICIAL_MARK),
        "sections": _sections(lists),
        "alliance_items": _rows(lists.alliance_items, 1) if lists.alliance_items else None,
        "reconciliation": reconciliation,
        "css": "\n".join((TEMPLATES / n).read_text(encoding="utf-8") for n in ("style.css", "payments.css")),
    }


def payment_html(lists: PaymentLists, *, chain_head: str, stamp: str, reconciliation: str = "") -> str:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )
    context = payment_context(lists, chain_head=chain_head, stamp=stamp, reconciliation=reconciliation)
    return env.get_template("payments.html").render(**context)


def _refuse_urls(url: str, *args: object, **kwargs: object) -> dict[str, object]:
    raise ValueError(f"external resource refused: {url}")


def payment_lists_pdf(lists: PaymentLists, *, chain_head: str, stamp: str, reconciliation: str = "") -> bytes:
    """The PDF of `lists` (bytes). `chain_head` and `stamp` as for the workbook."""
    from weasyprint import HTML

    html = payment_html(lists, chain_head=chain_head, stamp=stamp, reconciliation=reconciliation)
    pdf = HTML(string=html, url_fetcher=_refuse_urls, base_url=str(TEMPLATES)).write_pdf()
    if pdf is None:  # only when a target is given
        raise RuntimeError("weasyprint returned no PDF")
    return pdf
