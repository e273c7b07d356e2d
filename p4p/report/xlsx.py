"""ledger.xlsx for people: Chinese headers, #,##0.00, totals per item, a summary sheet,
frozen header row and autofilter. Amounts are written as numbers so Excel can sum them;
the exact figures are the ones in ledger.csv (every amount has at most 2 decimals, which a
double represents closely enough to display and sum to the same fen)."""
from __future__ import annotations

import io
from collections import defaultdict
from decimal import Decimal

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill

from ..engine.ledger import CHINESE, COLUMNS
from ..engine.schema import KINDS, LEVEL_NAMES

MONEY = "#,##0.00"
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="DDEBF7")


def ledger_xlsx(lines, summary: dict) -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "明细"
    ws.append([CHINESE[c] for c in COLUMNS])
    for l in lines:
        ws.append([l.period, l.inst_id, l.inst_name, KINDS.get(l.kind, l.kind), l.item, l.item_name,
                   float(l.amount), l.quantity, l.rule_id])
    last = ws.max_row
    for row in ws.iter_rows(min_row=2, min_col=7, max_col=7):
        row[0].number_format = MONEY
    _header(ws)
    ws.auto_filter.ref = f"A1:I{last}"
    ws.freeze_panes = "A2"
    for col, width in zip("ABCDEFGHI", (9, 12, 28, 12, 18, 24, 16, 20, 9)):
        ws.column_dimensions[col].width = width

    tot = wb.create_sheet("合计")
    tot.append(["项目", "项目名称", "行数", "合计（元）"] + [f"{v}级" for v in LEVEL_NAMES.values()])
    for r in summary["items"]:
        # the total is a live SUMIF over the detail sheet, so it stays equal to the lines
        n = tot.max_row + 1
        tot.append([r["item"], r["item_name"], r["lines"], f'=SUMIF(明细!E:E,A{n},明细!G:G)']
                   + [float(Decimal(r["by_level"].get(k, "0"))) for k in LEVEL_NAMES])
    n = tot.max_row
    tot.append(["合计", "", f"=SUM(C2:C{n})", f"=SUM(D2:D{n})"] + [f"=SUM({c}2:{c}{n})" for c in "EFG"])
    for row in tot.iter_rows(min_row=2, min_col=4, max_col=7):
        for cell in row:
            cell.number_format = MONEY
    for cell in tot[tot.max_row]:
        cell.font = BOLD
    _header(tot)
    tot.freeze_panes = "A2"
    for col, width in zip("ABCDEFG", (18, 26, 8, 18, 16, 16, 16)):
        tot.column_dimensions[col].width = width

    chk = wb.create_sheet("核对与提示")
    chk.append(["核对项目", "总额", "已分配", "未分配", "结果", "说明"])
    for c in summary["checks"]:
        chk.append([c["title"], float(Decimal(c["total"])), float(Decimal(c["distributed"])),
                    float(Decimal(c["undistributed"])), "通过" if c["ok"] else "不平", c["note"]])
    for r in summary["reports"]:
        chk.append([r["title"], float(Decimal(r["amount"]))])
    for w in summary["warnings"]:
        chk.append(["提示", None, None, None, None, w])
    for row in chk.iter_rows(min_row=2, min_col=2, max_col=4):
        for cell in row:
            cell.number_format = MONEY
    _header(chk)
    for col, width in zip("ABCDEF", (28, 16, 16, 16, 8, 60)):
        chk.column_dimensions[col].width = width
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _header(ws):
    for cell in ws[1]:
        cell.font = BOLD
        cell.fill = HEAD_FILL
        cell.alignment = Alignment(horizontal="center")
