"""Payment lists as a workbook for people (SPEC §9): one sheet per payer and fund, then the
receivables (应收回), the alliance items and the reconciliation; figures, amounts in capitals,
totals, a signature block, the approval chain head and stamp on every sheet.

Printing: landscape A4, fitted to the page width, the header row repeated on every page, the
chain head and page numbers in the footer. Every text is written as a string (never a formula
or a link, whatever it starts with) and the document properties are fixed, so the same lists
give the same bytes. Amounts are numbers (Excel sums them); totals are the exact sums, written
as numbers rather than formulas so the signed paper shows what was approved.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from collections.abc import Sequence
from typing import Any

import xlsxwriter

from ..model.money import capitals
from ..pay.items import PAYEE_KIND_NAMES
from ..pay.lists import ZERO, period_label
from ..pay.rows import PaymentLists, PayRow, grouped

FIXED_TIME = dt.datetime(2000, 1, 1)
HEAD = ("序号", "收款方编码", "收款方", "收款人类型", "户名", "账号", "开户行", "金额（元）", "金额大写")
ALLIANCE_HEAD = ("序号", "机构编码", "机构", "项目", "", "", "", "金额（元）", "金额大写")
WIDTHS = (6, 11, 20, 8, 18, 23, 20, 14, 32)
HEAD_ROW = 4  # title, payer/fund/purpose, chain head, stamp, then the header


def _title(lists: PaymentLists, what: str = "发放名单") -> str:
    word = {"发放名单": "绩效兑现发放名单", "应收回清单": "应收回清单", "医共体项目清单": "医共体项目清单"}[what]
    if lists.correction and what != "医共体项目清单":
        word = "更正" + what
    return f"{lists.alliance} {period_label(lists.period)} {word}"


def _sheet_name(i: int, text: str, used: set[str]) -> str:
    name = re.sub(r"[\[\]:*?/\\']", "_", f"{i}.{text}")[:31]
    while name in used:
        name = name[:28] + f"~{len(used)}"
    used.add(name)
    return name


def _footer(chain_head: str) -> str:
    text = chain_head.replace("&", "&&")
    return f"&L&8{text}&R&8第 &P 页 / 共 &N 页"


class _Book:
    def __init__(self, lists: PaymentLists, chain_head: str, stamp: str) -> None:
        self.buf = io.BytesIO()
        opts = {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False, "strings_to_numbers": False}
        self.wb = xlsxwriter.Workbook(self.buf, opts)
        self.wb.set_properties({"title": _title(lists), "author": "p4p", "created": FIXED_TIME})
        self.lists, self.chain_head, self.stamp = lists, chain_head, stamp
        self.used: set[str] = set()
        add = self.wb.add_format
        self.f: dict[str, Any] = {
            "title": add({"bold": True, "font_size": 14, "align": "center"}),
            "meta": add({"font_size": 10}),
            "stamp": add({"bold": True, "font_color": "#A00000", "font_size": 11}),
            "head": add({"bold": True, "bg_color": "#DDEBF7", "align": "center", "border": 1, "text_wrap": True}),
            "text": add({"border": 1, "text_wrap": True, "valign": "top"}),
            "money": add({"border": 1, "num_format": "#,##0.00", "valign": "top"}),
            "total": add({"bold": True, "border": 1, "bg_color": "#F2F2F2"}),
            "total_money": add({"bold": True, "border": 1, "bg_color": "#F2F2F2", "num_format": "#,##0.00"}),
            "sign": add({"font_size": 11}),
        }

    def sheet(self, label: str, subtitle: str, title: str | None = None) -> Any:
        """A print-ready sheet with the title block (title, subtitle, chain head, stamp)."""
        ws = self.wb.add_worksheet(_sheet_name(len(self.used) + 1, label, self.used))
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)
        ws.repeat_rows(HEAD_ROW)
        ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
        ws.set_footer(_footer(self.chain_head))
        for j, w in enumerate(WIDTHS):
            ws.set_column(j, j, w)
        last = len(HEAD) - 1
        ws.merge_range(0, 0, 0, last, title or _title(self.lists), self.f["title"])
        ws.merge_range(1, 0, 1, last, subtitle, self.f["meta"])
        ws.merge_range(2, 0, 2, last, self.chain_head, self.f["meta"])
        ws.merge_range(3, 0, 3, last, self.stamp, self.f["stamp"])
        return ws

    def table(self, ws: Any, head: Sequence[str], rows: Sequence[PayRow], sign: int, alliance: bool = False) -> int:
        for j, h in enumerate(head):
            if not alliance or j not in (4, 5, 6):
                ws.write_string(HEAD_ROW, j, h, self.f["head"])
        if alliance:
            ws.merge_range(HEAD_ROW, 3, HEAD_ROW, 6, head[3], self.f["head"])
        r = HEAD_ROW
        for r, row in enumerate(rows, HEAD_ROW + 1):
            amount = row.amount * sign
            if alliance:
                texts: tuple[str, ...] = (row.payee_id, row.payee_name)
                ws.merge_range(r, 3, r, 6, row.purpose, self.f["text"])
            else:
                kind = PAYEE_KIND_NAMES.get(row.payee_kind, row.payee_kind)
                texts = (
                    row.payee_id,
                    row.payee_label,
                    kind,
                    row.account_name,
                    row.account_no,
                    row.bank,
                )
            ws.write_number(r, 0, r - HEAD_ROW, self.f["text"])
            for j, t in enumerate(texts, 1):
                ws.write_string(r, j, t, self.f["text"])
            ws.write_number(r, 7, float(amount), self.f["money"])
            ws.write_string(r, 8, capitals(amount), self.f["text"])
        total = sum((row.amount * sign for row in rows), ZERO)
        r += 1
        word = "行" if alliance else "笔"
        ws.merge_range(r, 0, r, 6, f"合计（{len(rows)} {word}）", self.f["total"])
        ws.write_number(r, 7, float(total), self.f["total_money"])
        ws.write_string(r, 8, capitals(total), self.f["total"])
        return r

    def signatures(self, ws: Any, row: int, party: str) -> None:
        ws.write_string(row + 2, 0, f"{party}（盖章）", self.f["sign"])
        for j, who in ((1, "经办人："), (4, "审核人："), (7, "负责人：")):
            ws.write_string(row + 4, j, f"{who}＿＿＿＿＿＿＿＿", self.f["sign"])
        ws.write_string(row + 6, 1, "日期：＿＿＿＿年＿＿月＿＿日", self.f["sign"])

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def payment_lists_xlsx(lists: PaymentLists, *, chain_head: str, stamp: str, reconciliation: str = "") -> bytes:
    """The workbook of `lists`. `chain_head` (e.g. "审批记录 #3 · 3f2a…") and `stamp` (e.g.
    "已审批 张会计 2026-11-23" or "仅供核对，不作发放依据") are printed on every sheet;
    `reconciliation` is the text of `p4p.pay.reconcile.reconcile`. Receivables are shown as the
    positive amount to recover, on sheets of their own (应收回), one per payer and fund."""
    book = _Book(lists, chain_head, stamp)
    for what, prefix, sign, amount_head, rows in (
        ("发放名单", "", 1, "金额（元）", lists.payments),
        ("应收回清单", "应收回 ", -1, "应收回金额（元）", lists.receivables),
    ):
        for _payer, payer_name, fund, members in grouped(rows):
            purposes = "；".join(dict.fromkeys(r.purpose for r in members))
            subtitle = f"付款方：{payer_name}    资金：{fund}    用途：{purposes}"
            ws = book.sheet(prefix + fund, subtitle, _title(lists, what))
            end = book.table(ws, (*HEAD[:7], amount_head, HEAD[8]), members, sign)
            book.signatures(ws, end, payer_name)
    if not lists.payments and not lists.receivables:
        ws = book.sheet("发放名单", "本次没有需要发放或收回的款项")
        book.table(ws, HEAD, [], 1)
    if lists.alliance_items:
        ws = book.sheet(
            "医共体项目", "为医共体记账的项目（台账中记在所列机构名下），不发放", _title(lists, "医共体项目清单")
        )
        book.table(ws, ALLIANCE_HEAD, lists.alliance_items, 1, alliance=True)
    if reconciliation:
        _reconciliation_sheet(book, reconciliation)
    return book.close()


def _reconciliation_sheet(book: _Book, text: str) -> None:
    ws = book.wb.add_worksheet(_sheet_name(len(book.used) + 1, "核对", book.used))
    ws.set_landscape()
    ws.set_paper(9)
    ws.fit_to_pages(1, 0)
    ws.set_footer(_footer(book.chain_head))
    ws.set_column(0, 0, 150)
    for i, line in enumerate(text.splitlines()):
        ws.write_string(i, 0, line, book.f["meta"])
