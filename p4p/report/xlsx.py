"""ledger.xlsx for people: Chinese headers, #,##0.00, totals per item, a summary sheet,
frozen header row and autofilter.

Amounts are written as numbers so Excel can sum them; the exact figures are those in
ledger.csv (2-decimal amounts display and sum to the same fen as doubles at these
magnitudes). XlsxWriter rather than openpyxl here: a province ledger has ~40,000 lines
and openpyxl took ~5 s to write them, XlsxWriter ~1 s (measured, see README).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import xlsxwriter

from ..engine.ledger import CHINESE, COLUMNS
from ..engine.summary import warning_text
from ..model.fields import KINDS, LEVEL_NAMES

# the document creation date written into every ledger.xlsx (not the time it was made)
FIXED_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


def ledger_xlsx(rows: list[list[str]], summary: dict) -> bytes:
    """`rows`: the ledger's rows in ledger.csv column order."""
    buf = io.BytesIO()
    # Text stays text (a name starting with "=" is not a formula), and the document properties
    # are fixed (XlsxWriter would stamp the wall-clock time): the same ledger gives the same bytes.
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "constant_memory": False, "strings_to_formulas": False})
    wb.set_properties(
        {
            "title": f"{summary['alliance']} {summary['period']} 绩效兑现台账",
            "author": "p4p",
            "created": FIXED_CREATED,
        }
    )
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "align": "center", "border": 1})
    money = wb.add_format({"num_format": "#,##0.00"})
    money_b = wb.add_format({"num_format": "#,##0.00", "bold": True})
    bold = wb.add_format({"bold": True})

    ws = wb.add_worksheet("明细")
    for j, (c, w) in enumerate(zip(COLUMNS, (9, 12, 28, 12, 18, 24, 16, 20, 9))):
        ws.set_column(j, j, w)
        ws.write_string(0, j, CHINESE[c], head)
    for i, r in enumerate(rows, 1):
        for j, text in enumerate([r[0], r[1], r[2], KINDS.get(r[3], r[3]), r[4], r[5]]):
            ws.write_string(i, j, text)
        ws.write_number(i, 6, float(r[6]), money)
        ws.write_string(i, 7, r[7])
        ws.write_string(i, 8, r[8])
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, len(rows), len(COLUMNS) - 1)

    tot = wb.add_worksheet("合计")
    titles = ["项目", "项目名称", "行数", "合计（元）"] + [f"{v}级" for v in LEVEL_NAMES.values()]
    for j, (t, w) in enumerate(zip(titles, (18, 26, 8, 18, 16, 16, 16))):
        tot.set_column(j, j, w)
        tot.write_string(0, j, t, head)
    for i, r in enumerate(summary["items"], 1):
        tot.write_row(i, 0, [r["item"], r["item_name"], r["lines"]])
        # a live SUMIF over the detail sheet, so the total always equals the lines
        tot.write_formula(i, 3, f"=SUMIF(明细!E:E,A{i + 1},明细!G:G)", money, float(Decimal(r["total"])))
        for j, k in enumerate(LEVEL_NAMES, 4):
            tot.write_number(i, j, float(Decimal(r["by_level"].get(k, "0"))), money)
    n = len(summary["items"]) + 1
    tot.write_string(n, 0, "合计", bold)
    tot.write_formula(n, 2, f"=SUM(C2:C{n})", bold, sum(r["lines"] for r in summary["items"]))
    tot.write_formula(n, 3, f"=SUM(D2:D{n})", money_b, float(Decimal(summary["grand_total"])))
    for j, c in enumerate("EFG", 4):
        tot.write_formula(n, j, f"=SUM({c}2:{c}{n})", money_b)
    tot.freeze_panes(1, 0)

    chk = wb.add_worksheet("核对与提示")
    for j, (t, w) in enumerate(zip(["核对项目", "总额", "已分配", "未分配", "结果", "说明"], (28, 16, 16, 16, 8, 60))):
        chk.set_column(j, j, w)
        chk.write_string(0, j, t, head)
    row = 1
    for c in summary["checks"]:
        chk.write_string(row, 0, c["title"])
        for j, k in enumerate(("total", "distributed", "undistributed"), 1):
            chk.write_number(row, j, float(Decimal(c[k])), money)
        chk.write_row(row, 4, ["通过" if c["ok"] else "不平", c["note"]])
        row += 1
    for r in summary["reports"]:
        chk.write_string(row, 0, r["title"])
        chk.write_number(row, 1, float(Decimal(r["amount"])), money)
        row += 1
    for w in summary["warnings"]:
        chk.write_string(row, 0, "提示")
        chk.write_string(row, 5, warning_text(w))
        row += 1
    wb.close()
    return buf.getvalue()
