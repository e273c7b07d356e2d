"""ledger.xlsx for people: Chinese headers, amounts and quantities as numbers, totals a reader
sees without recalculating, print setup (landscape, one page wide, the header row on every page).

Sheets: 明细 (every ledger line), 按机构 (one row per institution: its items and what it
receives), 合计 (per item and level), 核对与提示.

Amounts are written as numbers so Excel can sum them; the exact figures are those in ledger.csv
(2-decimal amounts display and sum to the same fen as doubles at these magnitudes). Quantities
are numbers too (shown as Excel's General format); their exact text is in ledger.csv and trace.jsonl.
Formulas carry their correct cached value, so a viewer that does not recalculate (LibreOffice's
default for xlsx) shows the right total. Text is always written as text (strings_to_formulas
off: a name starting with "=" stays a name), and the document properties are fixed, so the same
ledger gives the same bytes. XlsxWriter rather than openpyxl here: a province ledger has ~40,000
lines and openpyxl took ~5 s to write them, XlsxWriter ~1 s (measured, see README).
"""

from __future__ import annotations

import datetime as dt
import io
from collections import defaultdict
from decimal import Decimal
from typing import Any

import xlsxwriter
from xlsxwriter.utility import xl_col_to_name

from ..engine.ledger import CHINESE, COLUMNS
from ..engine.summary import warning_text
from ..model.fields import KINDS, LEVEL_NAMES
from ..ruleset.model import Item
from .roles import CEILING, DIRECTOR, GROUP_ORDER, RECEIVED, group_of

# the document creation date written into every ledger.xlsx (not the time it was made)
FIXED_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)
# The workbook's layout: a replay compares ledger.xlsx byte for byte only with the same layout
# (a new layout is a presentation change, not a change of the money).
LAYOUT = 3
AMOUNT, QUANTITY = 6, 7  # columns of 明细 (ledger.csv order)


class Book:
    """The workbook and its formats."""

    def __init__(self, title: str) -> None:
        self.buf = io.BytesIO()
        self.wb = xlsxwriter.Workbook(self.buf, {"in_memory": True, "strings_to_formulas": False})
        self.wb.set_properties({"title": title, "author": "p4p", "created": FIXED_CREATED})
        add = self.wb.add_format
        self.head = add({"bold": True, "bg_color": "#DDEBF7", "align": "center", "valign": "vcenter", "border": 1,
                         "text_wrap": True})  # fmt: skip
        self.money = add({"num_format": "#,##0.00"})
        self.money_b = add({"num_format": "#,##0.00", "bold": True, "top": 1})
        self.qty = add({"num_format": "General"})  # 0.6, 950, 0.258102 (a fixed format would show "950.")
        self.bold = add({"bold": True, "top": 1})
        self.wrap = add({"text_wrap": True, "valign": "top"})

    def sheet(self, name: str, heads: list[str], widths: list[int], title: str) -> Any:
        ws = self.wb.add_worksheet(name)
        for j, (h, w) in enumerate(zip(heads, widths, strict=True)):
            ws.set_column(j, j, w)
            ws.write_string(0, j, h, self.head)
        ws.freeze_panes(1, 0)
        ws.set_landscape()
        ws.set_paper(9)  # A4
        ws.fit_to_pages(1, 0)  # one page wide, as many pages tall as it takes
        ws.repeat_rows(0)
        ws.set_margins(left=0.4, right=0.4, top=0.6, bottom=0.6)
        ws.set_header(f'&C&"-,Bold"{_header_text(title)}')
        ws.set_footer("&C第 &P 页，共 &N 页")
        return ws

    def close(self) -> bytes:
        self.wb.close()
        return self.buf.getvalue()


def _header_text(s: str) -> str:
    return s.replace("&", "&&")


def ledger_xlsx(rows: list[list[str]], summary: dict, items: dict[str, Item] | None = None) -> bytes:
    """`rows`: the ledger's rows in ledger.csv column order; `items`: the ruleset's item
    declarations (what each item is to the institution), when known."""
    title = f"{summary['alliance']} {summary['period']} 绩效兑现台账"
    book = Book(title)
    _detail(book, rows, title)
    _per_institution(book, rows, items, title)
    _totals(book, summary, len(rows), title)
    _checks(book, summary, title)
    return book.close()


def _detail(book: Book, rows: list[list[str]], title: str) -> None:
    ws = book.sheet("明细", [CHINESE[c] for c in COLUMNS], [9, 12, 28, 11, 18, 18, 15, 16, 8], title)
    for i, r in enumerate(rows, 1):
        for j, text in enumerate([r[0], r[1], r[2], KINDS.get(r[3], r[3]), r[4], r[5]]):
            ws.write_string(i, j, text)
        ws.write_number(i, AMOUNT, float(Decimal(r[6])), book.money)
        if r[7]:
            ws.write_number(i, QUANTITY, float(Decimal(r[7])), book.qty)
        ws.write_string(i, 8, r[8])
    ws.autofilter(0, 0, len(rows), len(COLUMNS) - 1)


def _per_institution(book: Book, rows: list[list[str]], items: dict[str, Item] | None, title: str) -> None:
    names: dict[str, str] = {}
    insts: dict[str, tuple[str, str]] = {}
    amounts: dict[str, dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        names.setdefault(r[4], r[5])
        insts.setdefault(r[1], (r[2], r[3]))
        amounts[r[1]][r[4]] = amounts[r[1]].get(r[4], Decimal(0)) + Decimal(r[6])
    codes = sorted(names, key=lambda c: (GROUP_ORDER.index(group_of(items.get(c))) if items else 0, c))
    extra = _role_columns(items)
    heads = ["机构编码", "机构名称", "机构类型"] + [names[c] for c in codes] + [h for h, _ in extra]
    ws = book.sheet("按机构", heads, [12, 28, 11] + [15] * (len(codes) + len(extra)), title)
    columns: list[list[Decimal | None]] = []
    for iid in sorted(insts):
        per = amounts[iid]
        columns.append([per.get(c) for c in codes] + [_group_total(per, items, g) for _, g in extra])
    for i, (iid, values) in enumerate(zip(sorted(insts), columns, strict=True), 1):
        name, kind = insts[iid]
        ws.write_string(i, 0, iid)
        ws.write_string(i, 1, name)
        ws.write_string(i, 2, KINDS.get(kind, kind))
        for j, v in enumerate(values, 3):
            if v is not None:
                ws.write_number(i, j, float(v), book.money)
    totals = [sum((row[j] or Decimal(0) for row in columns), Decimal(0)) for j in range(len(heads) - 3)]
    _total_row(book, ws, len(insts) + 1, 3, len(heads), totals)
    ws.autofilter(0, 0, len(insts), len(heads) - 1)


def _role_columns(items: dict[str, Item] | None) -> list[tuple[str, str | None]]:
    """Subtotal columns of 按机构: what the institution receives, what goes to its director, the
    approved ceilings — or, for a ruleset without item declarations, one total."""
    if items is None:
        return [("合计", None)]
    return [("本单位实收合计", RECEIVED), ("院长个人合计", DIRECTOR), ("核定绩效工资总量", CEILING)]


def _group_total(per: dict[str, Decimal], items: dict[str, Item] | None, group: str | None) -> Decimal:
    if group is None or items is None:
        return sum(per.values(), Decimal(0))
    return sum((a for c, a in per.items() if group_of(items.get(c)) == group), Decimal(0))


def _total_row(book: Book, ws: Any, row: int, first: int, last: int, totals: list[Decimal]) -> None:
    """A 合计 row of SUM formulas over the columns first..last-1, each with its correct cached value."""
    ws.write_string(row, 0, "合计", book.bold)
    for j in range(1, first):
        ws.write_blank(row, j, None, book.bold)
    for j, total in zip(range(first, last), totals, strict=True):
        col = xl_col_to_name(j)
        ws.write_formula(row, j, f"=SUM({col}2:{col}{row})", book.money_b, float(total))


def _totals(book: Book, summary: dict, n_rows: int, title: str) -> None:
    heads = ["项目", "项目名称", "行数", "合计（元）"] + [f"{v}级" for v in LEVEL_NAMES.values()]
    tot = book.sheet("合计", heads, [18, 26, 8, 18, 16, 16, 16], title)
    items = summary["items"]
    for i, r in enumerate(items, 1):
        tot.write_string(i, 0, r["item"])
        tot.write_string(i, 1, r["item_name"])
        tot.write_number(i, 2, r["lines"])
        # a live SUMIF over the detail sheet, so the total always equals the lines (cached: the total)
        tot.write_formula(i, 3, f"=SUMIF(明细!E:E,A{i + 1},明细!G:G)", book.money, float(Decimal(r["total"])))
        for j, k in enumerate(LEVEL_NAMES, 4):
            tot.write_number(i, j, float(Decimal(r["by_level"].get(k, "0"))), book.money)
    n = len(items) + 1
    tot.write_string(n, 0, "合计", book.bold)
    tot.write_blank(n, 1, None, book.bold)
    tot.write_formula(n, 2, f"=SUM(C2:C{n})", book.bold, sum(r["lines"] for r in items))
    tot.write_formula(n, 3, f"=SUM(D2:D{n})", book.money_b, float(Decimal(summary["grand_total"])))
    for j, k in enumerate(LEVEL_NAMES, 4):
        col = xl_col_to_name(j)
        level_total = sum((Decimal(r["by_level"].get(k, "0")) for r in items), Decimal(0))
        tot.write_formula(n, j, f"=SUM({col}2:{col}{n})", book.money_b, float(level_total))


def _checks(book: Book, summary: dict, title: str) -> None:
    chk = book.sheet(
        "核对与提示", ["核对项目", "总额", "已分配", "未分配", "结果", "说明"], [30, 16, 16, 16, 8, 70], title
    )
    row = 1
    for c in summary["checks"]:
        chk.write_string(row, 0, c["title"])
        for j, k in enumerate(("total", "distributed", "undistributed"), 1):
            chk.write_number(row, j, float(Decimal(c[k])), book.money)
        chk.write_string(row, 4, "通过" if c["ok"] else "不平")
        chk.write_string(row, 5, c["note"] or "", book.wrap)
        row += 1
    for r in summary["reports"]:
        chk.write_string(row, 0, r["title"])
        chk.write_number(row, 1, float(Decimal(r["amount"])), book.money)
        row += 1
    for w in summary["warnings"]:
        chk.write_string(row, 0, "需要核实" if w.get("kind") == "check" else "提示")
        chk.write_string(row, 5, warning_text(w), book.wrap)
        row += 1
