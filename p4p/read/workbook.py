"""An alliance-quarter as one .xlsx workbook (SPEC §3): sheets institutions / assessment /
workpoints / village_income / period (or 机构 / 考核 / 公卫工分 / 村卫生室收入 / 期间).

Excel stores numbers as doubles. A double is turned into the text of the amount Excel
shows — the 2-decimal (or whole) number whose nearest double it is — and never used in
arithmetic; the ordinary text checks then apply. Problems name the cell as Excel does (考核!C17).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pandas as pd
from openpyxl import load_workbook
from openpyxl.utils import get_column_letter

from ..model.fields import PERIOD_KEY_ALIASES, TABLES
from ..model.problems import Problem
from .tables import RawTable, frame_from_cells

SHEET_ALIASES = {
    **{n: n for n in TABLES},
    **{t["label"]: n for n, t in TABLES.items()},
    "period": "period",
    "期间": "period",
}


def cell_text(v) -> str:
    """The text a cell shows, exactly: doubles become the shortest 2-decimal or whole number
    they stand for (within a few ulps), or their full repr so validation can reject them."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "1" if v else "0"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if not math.isfinite(v):
            return repr(v)
        if v == int(v) and abs(v) < 2**53:
            return str(int(v))
        q = Decimal(v).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        if abs(float(q) - v) <= 4 * math.ulp(v):
            return f"{q:f}"
        return repr(v)
    if isinstance(v, (dt.datetime, dt.date)):
        return v.isoformat()
    return str(v).strip()


def read_workbook(path: Path, problems: list[Problem]):
    book = path.name
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as e:
        problems.append(Problem(book, None, None, None, f"无法打开工作簿：{e}"))
        return {}, {"values": {}, "loc": lambda k: (book, None, None)}, {}
    sheets = {}
    for ws in wb.worksheets:
        name = SHEET_ALIASES.get(ws.title.strip())
        if name:
            sheets[name] = ws
    tables = {}
    for name in TABLES:
        ws = sheets.get(name)
        if ws is None:
            problems.append(Problem(book, None, None, None, f"缺少工作表 {name}（{TABLES[name]['label']}）"))
            continue
        rows = [[cell_text(v) for v in r] for r in ws.iter_rows(values_only=True)]
        if not rows:
            problems.append(Problem(f"{book} {ws.title}", None, None, None, "工作表是空的"))
            continue
        header, body = rows[0], rows[1:]
        col_of = {}
        for j, h in enumerate(header):
            col_of.setdefault(h.strip(), j)
        title = ws.title
        t = frame_from_cells(
            name,
            f"{book} {title}",
            header,
            pd.DataFrame(body, columns=range(len(header)), dtype=str)
            if body
            else pd.DataFrame(columns=range(len(header)), dtype=str),
            problems,
        )
        if t is not None:
            t.cell = _cell_locator(book, title, t, col_of)
            tables[name] = t
    period_vals, period_rows = {}, {}
    ws = sheets.get("period")
    if ws is None:
        problems.append(Problem(book, None, None, None, "缺少工作表 period（期间）"))
    else:
        for i, r in enumerate(ws.iter_rows(values_only=True), 1):
            if not r or r[0] is None:
                continue
            key = PERIOD_KEY_ALIASES.get(str(r[0]).strip())
            if key:
                period_vals[key] = cell_text(r[1]) if len(r) > 1 else ""
                period_rows[key] = i
    wb.close()
    title = ws.title if ws is not None else "period"
    loc = lambda k: (
        (f"{book} {title}!B{period_rows[k]}", None, None) if k in period_rows else (f"{book} {title}", None, k)
    )
    return tables, {"values": period_vals, "loc": loc}, {book: path.read_bytes()}


def _cell_locator(book: str, title: str, t: RawTable, col_of: dict[str, int]):
    def cell(i, col):
        row = t.rows[i] if i is not None else None
        if col and col in t.headers and row is not None:
            return f"{book} {title}!{get_column_letter(col_of[t.headers[col]] + 1)}{row}", None, None
        if row is not None:
            return f"{book} {title}", row, t.headers.get(col, col) if col else None
        return f"{book} {title}", None, t.headers.get(col, col) if col else None

    return cell
