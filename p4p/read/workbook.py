"""An alliance-quarter as one .xlsx workbook (SPEC §3): sheets institutions / assessment /
workpoints / village_income / period (or 机构 / 考核 / 公卫工分 / 村卫生室收入 / 期间).

Each table comes from exactly one visible sheet (names compared after trimming, English in
any case); a second sheet for a table or a hidden one is an error, sheets p4p does not know
are named in a warning. Every row of the sheet's XML is read — the declared dimension
(`<dimension ref="A1:C60">`) is not trusted — and each cell's spreadsheet row is the one Excel
shows. A formula without a cached value, or an error value (#DIV/0!), is an error naming the
cell.

Excel stores numbers as doubles. A double is turned into the text of the amount Excel
shows — the 2-decimal (or whole) number whose nearest double it is — and never used in
arithmetic; the ordinary text checks then apply. Problems name the cell as Excel does (考核!C17).
"""

from __future__ import annotations

import datetime as dt
import io
import math
import re
import warnings as py_warnings
import zipfile
from dataclasses import dataclass, field
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

import numpy as np
import pyarrow as pa
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.numbers import BUILTIN_FORMATS, BUILTIN_FORMATS_MAX_SIZE
from openpyxl.utils import get_column_letter
from openpyxl.utils.cell import coordinate_to_tuple, range_boundaries
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, VALUE_TAG, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

from ..model.fields import NOTES_SHEETS, PERIOD_SHEET, TABLES
from ..model.problems import Problem, clip
from .period import Entry
from .tables import (
    HEADER_SEARCH_ROWS,
    MAX_CELL,
    MAX_COLUMNS,
    RawTable,
    ascii_lower,
    build_table,
    header_row,
    map_header,
    repeated_headers,
    some,
    title_above,
)

SHEET_ROLES: dict[str, str] = {
    **{n: n for n in TABLES},
    **{t["label"]: n for n, t in TABLES.items()},
    **PERIOD_SHEET,
}
_HEADER_WORDS = ("项目", "键", "key", "名称", "参数")  # a first row of the period sheet that is a header
_CELL_PROBLEMS_NAMED = 200


def sheet_role(title: str) -> str | None:
    """The table (or "period") a sheet holds, by its name."""
    return SHEET_ROLES.get(ascii_lower(title.strip()))


def cell_text(v: Any) -> str:
    """The text a cell shows, exactly: doubles become the shortest 2-decimal or whole number
    they stand for (within a few ulps), or their full repr so validation can reject them."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        return _double_text(v)
    if isinstance(v, (dt.datetime, dt.date, dt.time)):
        return v.isoformat()
    return str(v)


def _double_text(v: float) -> str:
    if not math.isfinite(v):
        return repr(v)
    if v.is_integer():  # beyond 2^53 the digits typed, as the shortest repr keeps them
        return str(int(v)) if abs(v) < 2**53 else format(Decimal(repr(v)), "f")
    q = Decimal(v).quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)  # |v| < 2^53 here
    if abs(float(q) - v) <= 4 * math.ulp(v):
        return f"{q:f}"
    return repr(v)


_T, _R = f"{{{SHEET_MAIN_NS}}}t", f"{{{SHEET_MAIN_NS}}}r"


@dataclass
class _SheetPart:
    title: str
    state: str  # visible / hidden / veryHidden
    path: str | None  # the sheet's XML in the package; None when it is missing
    chart: bool


# what a number format shows literally: quoted text, escaped characters, [colours]/[conditions],
# padding (_x) and fill (*x)
_FORMAT_LITERAL = re.compile(r'"[^"]*"|\\.|\[[^\]]*\]|_.|\*.')


def percent_format(code: str | None) -> bool:
    """A number format that shows the cell's value × 100 with a % sign (0%, 0.0%, #,##0.00%)."""
    return code is not None and "%" in _FORMAT_LITERAL.sub("", code)


class _Book(ExcelReader):
    """openpyxl's package reader (shared strings, styles for date formats, the sheet list), without
    opening the worksheets: openpyxl's read-only sheets would scan a whole sheet for its
    dimension at load, and trust it when reading."""

    sheets: list[_SheetPart]
    percent_styles: frozenset[int]  # cell styles whose number format is a percentage
    recalculated: bool  # the workbook asks to be calculated when opened: cached results are stale

    def read_worksheets(self) -> None:
        self.recalculated = bool(_FULL_CALC.search(self.archive.read(self.parser.workbook_part_name)))
        custom = list(self.wb._number_formats)

        def code(fmt_id: int) -> str | None:
            if fmt_id < BUILTIN_FORMATS_MAX_SIZE:
                return BUILTIN_FORMATS.get(fmt_id)
            k = fmt_id - BUILTIN_FORMATS_MAX_SIZE
            return custom[k] if k < len(custom) else None

        self.percent_styles = frozenset(
            k for k, style in enumerate(self.wb._cell_styles) if percent_format(code(style.numFmtId))
        )
        self.sheets = [
            _SheetPart(
                sheet.name,
                sheet.state or "visible",
                rel.target if rel.target in self.valid_files else None,
                "chartsheet" in rel.Type,
            )
            for sheet, rel in self.parser.find_sheets()
        ]


# <calcPr fullCalcOnLoad="1"/>: written by programs that write formulas without calculating them
# (XlsxWriter stores 0 as every formula's result); Excel and WPS calculate on opening and show
# the true result, which the file does not hold until it is saved by them
_FULL_CALC = re.compile(rb"<(?:\w+:)?calcPr\b[^>]*\bfullCalcOnLoad\s*=\s*[\"'](?:1|true)[\"']")


class _Cells(WorkSheetParser):
    """openpyxl's streaming sheet parser, also telling a formula without a cached value from an
    empty cell, keeping a number it cannot convert as its text, and reading plain inline
    strings without building rich-text objects. A number shown as a percentage is told apart:
    Excel shows 0.9 as 90%, and a clerk who sees 90% means 90."""

    percent_styles: frozenset[int] = frozenset()
    recalculated = False  # every formula's cached result is stale (see _FULL_CALC)

    def parse_cell(self, element: Any) -> dict[str, Any]:
        if element.get("t") == "inlineStr":
            return self._inline(element)
        try:
            cell = super().parse_cell(element)
        except (ValueError, OverflowError, TypeError, KeyError, IndexError):
            # a number openpyxl cannot convert stays its text (validation says why); any other
            # type (a shared string that does not exist, t="s" with <v>99</v>) is damaged — its
            # <v> is not what Excel would show
            number = element.get("t", "n") == "n"
            cell = {"row": self.row_counter, "column": self.col_counter, "data_type": "n" if number else "damaged"}
            cell["value"] = element.findtext(VALUE_TAG, "")
        if element.find(FORMULA_TAG) is not None and (cell["value"] is None or self.recalculated):
            cell["data_type"] = "formula" if cell["value"] is None else "stale"
        elif (
            cell["data_type"] == "n"
            and isinstance(cell["value"], (int, float))
            and cell.get("style_id") in self.percent_styles
        ):
            cell["data_type"] = "percent"
        return cell

    def _inline(self, element: Any) -> dict[str, Any]:
        """The text of an inline string: its `t`, or its runs' `t` (phonetic runs left out), as
        openpyxl's Text.content gives it."""
        ref = element.get("r")
        if ref:
            self.row_counter, self.col_counter = coordinate_to_tuple(ref)
        else:
            self.col_counter += 1
        box = element.find(INLINE_STRING)
        text = None
        if box is not None:
            text = box.findtext(_T)
            if len(box) != 1 or text is None:  # rich text: the runs' t after the plain t
                text = (text or "") + "".join(r.findtext(_T, "") for r in box.iterfind(_R))
        return {"row": self.row_counter, "column": self.col_counter, "value": text, "data_type": "s"}


@dataclass
class _Sheet:
    book: str
    title: str
    rows: dict[int, dict[int, str]]  # row → column (1-based) → text
    problems: list[Problem]
    flagged: set[tuple[int, int]]  # (row, column) of cells already reported (formula, error, too long)
    # cells whose display p4p cannot take at its word (a percentage, a date), with why: a
    # problem only in a column p4p reads (a 完成率 column shown as % beside the table is no concern)
    doubtful: dict[tuple[int, int], str] = field(default_factory=dict)
    hidden_rows: set[int] = field(default_factory=set)
    merged: list[tuple[str, tuple[int, int, int, int]]] = field(default_factory=list)  # A1:B3, (1, 1, 2, 3)
    hidden_cols: list[tuple[int, int]] = field(default_factory=list)  # (first, last) column, 1-based

    def ref(self, row: int, col: int) -> str:
        return f"{self.book} {self.title}!{get_column_letter(col)}{row}"


def _read_sheet(part: _SheetPart, reader: _Book, book: str) -> _Sheet:
    """Every cell of every row element of the sheet's XML, as text; formula cells without a
    cached value and error cells are problems."""
    sheet = _Sheet(book, part.title, {}, [], set())
    wb = reader.wb
    src = reader.archive.open(str(part.path))
    try:
        parser = _Cells(src, reader.shared_strings, data_only=True, epoch=wb.epoch,
                        date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)  # fmt: skip
        parser.percent_styles = reader.percent_styles
        parser.recalculated = reader.recalculated
        for row, cells in parser.parse():
            for c in cells:
                text = _cell(sheet, row, c)
                if text:
                    sheet.rows.setdefault(row, {})[c["column"]] = text
        merged = parser.merged_cells
        sheet.merged = [(m.ref, _bounds(m.ref)) for m in merged.mergeCell] if merged is not None else []
        sheet.hidden_rows = {int(r) for r, a in parser.row_dimensions.items() if _hides(a, "ht")}
        sheet.hidden_cols = [(int(a["min"]), int(a.get("max", a["min"])))
                             for a in parser.column_dimensions.values() if _hides(a, "width")]  # fmt: skip
    finally:
        src.close()
    return sheet


def _hides(attrs: dict[str, str], size: str) -> bool:
    """A row or column element that hides it: hidden="1" (or filtered out), or a size of 0."""
    if attrs.get("hidden", "0").lower() in ("1", "true"):
        return True
    try:
        return float(attrs.get(size, "1")) == 0
    except ValueError:
        return False


def _hidden_data(sheet: _Sheet, columns: set[int], problems: list[Problem]) -> None:
    """Hidden rows holding data, and hidden columns among `columns` (those p4p reads), are
    errors: people hide a row to leave it out (or filter it away), p4p would read it — and a
    row no one sees is where a second payment hides."""
    label = f"{sheet.book} {sheet.title}"
    rows = sorted(r for r in sheet.hidden_rows if r in sheet.rows)
    if rows:
        named = "、".join(map(str, rows[:20])) + (f" 等 {len(rows):,} 行" if len(rows) > 20 else " 行")
        problems.append(Problem(label, None, None, None,
                                f"第 {named}是隐藏的（或被筛选隐藏），其中有数据：p4p 会读取隐藏的行，无法判断它们该不该算。"
                                "请取消隐藏（清除筛选）后核对，不要的行请删除，而不是隐藏"))  # fmt: skip
    cols = sorted(c for c in columns if any(lo <= c <= hi for lo, hi in sheet.hidden_cols))
    if cols:
        letters = "、".join(get_column_letter(c) for c in cols)
        problems.append(Problem(label, None, None, None,
                                f"第 {letters} 列是隐藏的，p4p 要读取这些列；请取消隐藏后核对"))  # fmt: skip


def _doubtful(sheet: _Sheet, columns: set[int], problems: list[Problem]) -> None:
    """The doubtful cells of the columns p4p reads are problems (and not reported again)."""
    found = sorted((r, c) for r, c in sheet.doubtful if c in columns)
    for r, c in found[:_CELL_PROBLEMS_NAMED]:
        problems.append(Problem(sheet.ref(r, c), None, None, None, sheet.doubtful[(r, c)]))
    if len(found) > _CELL_PROBLEMS_NAMED:
        more = len(found) - _CELL_PROBLEMS_NAMED
        problems.append(Problem(f"{sheet.book} {sheet.title}", None, None, None,
                                f"另有 {more:,} 个百分比或日期格式的单元格，未逐一列出", stands_for=more))  # fmt: skip
    sheet.flagged.update(found)


_MERGED_NAMED = 20
_MERGED_FLAGGED = 10_000  # cells of merged ranges not reported once more, one by one


def _bounds(ref: str) -> tuple[int, int, int, int]:
    """(first column, first row, last column, last row) of a range, whole rows or columns too
    (raises ValueError for a malformed one: the sheet is then damaged)."""
    c1, r1, c2, r2 = range_boundaries(ref)
    return c1 or 1, r1 or 1, c2 or 16_384, r2 or 1_048_576


def _merged(sheet: _Sheet, columns: set[int], problems: list[Problem]) -> None:
    """A merged range over a column p4p reads is an error: Excel shows its value across all its
    rows, the file holds it in the top-left cell only — the other rows would be read as blank (a
    guarantee or a veto merged over a township's villages, then 否 for all but the first). Its
    cells are not reported once more (不能为空). A merged note beside the table is no concern."""
    ranges = [(ref, b) for ref, b in sheet.merged if any(b[0] <= c <= b[2] for c in columns)]
    for ref, _ in ranges[:_MERGED_NAMED]:
        top_left = ref.split(":")[0]
        problems.append(Problem(f"{sheet.book} {sheet.title}!{ref}", None, None, None,
                                f"合并单元格：文件中只有左上角的 {top_left} 有值，其余单元格是空的；"
                                "请取消合并，在每个单元格中填写"))  # fmt: skip
    if len(ranges) > _MERGED_NAMED:
        more = len(ranges) - _MERGED_NAMED
        problems.append(Problem(f"{sheet.book} {sheet.title}", None, None, None,
                                f"另有 {more:,} 处合并单元格，未逐一列出", stands_for=more))  # fmt: skip
    flagged = 0
    for _, (c1, r1, c2, r2) in ranges:
        flagged += (c2 - c1 + 1) * (r2 - r1 + 1)
        if flagged > _MERGED_FLAGGED:
            break
        sheet.flagged.update((r, c) for r in range(r1, r2 + 1) for c in range(c1, c2 + 1))


def _when(v: Any) -> str:
    if isinstance(v, dt.datetime) and v.time() == dt.time(0):
        return f"{v:%Y-%m-%d}"
    return str(v)


def _cell(sheet: _Sheet, row: int, c: dict[str, Any]) -> str:
    kind, value = c["data_type"], c["value"]
    if kind == "formula":
        why = "公式没有计算结果（请在 Excel 中打开并保存，或把公式改成数值）"
    elif kind == "e":
        why = f"单元格是错误值 {value}"
    elif kind == "damaged":
        why = "单元格的内容已损坏，无法读取（请在 Excel 中打开这个工作簿，核对这个单元格后另存为 .xlsx）"
    else:
        if kind == "stale":
            sheet.doubtful[(row, c["column"])] = (
                f"单元格是公式，文件中存的结果（{cell_text(value)}）不一定是 Excel 显示的数：这个工作簿要求打开时"
                "重新计算（通常是由程序生成、没有在 Excel 中保存过）；请在 Excel 或 WPS 中打开并保存，或把公式改成数值")  # fmt: skip
        elif kind == "percent":
            stored, shown = (f"{(Decimal(repr(value)) * k).normalize():f}" for k in (1, 100))
            sheet.doubtful[(row, c["column"])] = (
                f"单元格是百分比格式：Excel 显示为 {shown}%，单元格中存的数是 {stored}，无法判断该用哪一个；"
                "请把单元格格式改为“常规”或“数值”，再填写要用的数")  # fmt: skip
        elif isinstance(value, (dt.datetime, dt.date, dt.time, dt.timedelta)):
            sheet.doubtful[(row, c["column"])] = (
                f"单元格是日期或时间（{_when(value)}）：p4p 的输入中没有日期，可能是 Excel 把输入的编码或数字"
                "（如 1-2、3/4）当作了日期；请把单元格格式设为“文本”后重新输入")  # fmt: skip
        text = cell_text(value)
        if len(text) <= MAX_CELL:
            return text
        why = f"单元格过长（超过 {MAX_CELL:,} 个字）"
    sheet.flagged.add((row, c["column"]))
    if len(sheet.problems) < _CELL_PROBLEMS_NAMED:
        sheet.problems.append(Problem(sheet.ref(row, c["column"]), None, None, None, why))
    return ""


def _pick_sheets(parts: list[_SheetPart], book: str, problems: list[Problem], warnings: list[str]) -> dict:
    """role → the one visible worksheet holding it, or None when the sheets for it are refused."""
    by_role: dict[str, list[_SheetPart]] = {}
    unknown = []
    for part in parts:
        role = sheet_role(part.title)
        if role is not None:
            by_role.setdefault(role, []).append(part)
        elif part.title.strip() not in NOTES_SHEETS:
            unknown.append(f"“{clip(part.title, 100)}”" + ("（隐藏）" if part.state != "visible" else ""))
    if unknown:
        warnings.append(f"{book}：工作表 {some(unknown)} 不是 p4p 使用的表，已忽略")
    out: dict[str, _SheetPart | None] = {}
    for role, sheets in by_role.items():
        names = "、".join(f"“{p.title}”" for p in sheets)
        why = None
        if len(sheets) > 1:
            why = f"工作表 {names} 都是 {role} 表；每张表只能有一个工作表"
        elif sheets[0].state != "visible":
            why = f"工作表 {names}（{role}）是隐藏的；请取消隐藏，或删除这个工作表"
        elif sheets[0].chart or sheets[0].path is None:
            why = f"工作表 {names}（{role}）不是数据工作表，或其内容缺失"
        if why:
            problems.append(Problem(book, None, None, None, why))
        out[role] = None if why else sheets[0]
    return out


def read_workbook(
    data: bytes, book: str, problems: list[Problem], warnings: list[str]
) -> tuple[dict[str, RawTable], list[Entry] | None]:
    """The tables and the period entries of a workbook (None when the period sheet is missing)."""
    with py_warnings.catch_warnings():  # openpyxl's are English, on stderr, and nothing to act on
        py_warnings.simplefilter("ignore")  # ("Defined names for sheet index 0 cannot be located")
        return _read_workbook(data, book, problems, warnings)


# bytes a workbook may hold unpacked. Excel's largest sheet of the widest table p4p reads is
# far below; a zip bomb (a few MB that unpack to many GB: openpyxl holds every shared string
# in memory) is refused before anything is unpacked. zipfile never unpacks a member beyond
# the size its directory declares, so the declared sizes bound the reading.
MAX_UNZIPPED = 2 << 30


def _too_large(data: bytes) -> str | None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            total = sum(i.file_size for i in z.infolist())
    except Exception:
        return None  # not a zip: not_a_workbook says what it is
    if total <= MAX_UNZIPPED:
        return None
    return (f"工作簿解压后有 {total >> 20:,} MB，超过 {MAX_UNZIPPED >> 20:,} MB 的上限"
            "（文件可能已损坏或被恶意构造）；请在 Excel 中打开后另存，或改用 CSV 文件夹")  # fmt: skip


_STRICT = b"purl.oclc.org/ooxml"  # the namespaces of Strict Open XML (openpyxl reads Transitional only)


def _workbook_xml(data: bytes) -> bytes:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as z:
            return z.read("xl/workbook.xml")[:4096]
    except Exception:
        return b""


def _read_workbook(
    data: bytes, book: str, problems: list[Problem], warnings: list[str]
) -> tuple[dict[str, RawTable], list[Entry] | None]:
    why = _too_large(data)
    if why:
        problems.append(Problem(book, None, None, None, why))
        return {}, None
    try:
        reader = _Book(io.BytesIO(data), read_only=True, data_only=True)
        reader.read()
    except Exception:  # whatever a damaged file makes openpyxl raise is a bad input
        problems.append(
            Problem(book, None, None, None, f"无法打开工作簿（不是有效的 .xlsx 文件）：{not_a_workbook(data)}")
        )
        return {}, None
    if not reader.sheets:
        reader.archive.close()
        why = "工作簿中没有找到任何工作表"
        if _STRICT in _workbook_xml(data):
            why = (
                "这是“Strict Open XML 电子表格”格式，p4p 读不出其中的工作表；请在 Excel 中另存为“Excel 工作簿 (*.xlsx)”"
            )
        problems.append(Problem(book, None, None, None, why))
        return {}, None
    try:
        sheets = _pick_sheets(reader.sheets, book, problems, warnings)
        tables = {}
        for name in TABLES:
            sheet = _sheet(reader, sheets, name, book, problems)
            t = _table(sheet, name, problems, warnings) if sheet else None
            if t is not None:
                tables[name] = t
        sheet = _sheet(reader, sheets, "period", book, problems)
        entries = _period_entries(sheet, problems, warnings) if sheet else None
    finally:
        reader.archive.close()
    return tables, entries


def not_a_workbook(data: bytes) -> str:
    """What a file that openpyxl cannot open is, in Chinese (its exceptions are English)."""
    if not data:
        return "文件是空的"
    if data.startswith(b"\xd0\xcf\x11\xe0"):
        return "这是旧版 .xls 工作簿或设置了打开密码的工作簿；请在 Excel 中另存为 .xlsx（不设密码）"
    if data.startswith(b"PK"):
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as z:
                names = z.namelist()
                kind = z.read("mimetype")[:100] if "mimetype" in names else b""
        except Exception:
            return "文件已损坏或不完整（压缩包无法解开）；请重新导出或另存为 .xlsx"
        if b"opendocument" in kind:
            return "这是 OpenDocument 表格（.ods），只是扩展名改成了 .xlsx；请另存为 .xlsx 工作簿"
        if any(n.startswith("word/") for n in names):
            return "这是 Word 文档，不是 Excel 工作簿"
        return "压缩包中没有 Excel 工作簿的内容（文件已损坏，或是改了扩展名的其他文件）"
    head = data[:4096]
    if b"\x00" not in head and head.count(b",") + head.count(b"\t") >= 2:
        return "这是文本文件（可能是改了扩展名的 CSV），不是 Excel 工作簿；CSV 文件请放进输入文件夹"
    return "文件内容不是 Excel 工作簿（可能已损坏，或是改了扩展名的其他文件）"


def _sheet(reader: _Book, sheets: dict, role: str, book: str, problems: list[Problem]) -> _Sheet | None:
    if role not in sheets:
        label = TABLES[role]["label"] if role in TABLES else "期间"
        problems.append(Problem(book, None, None, None, f"缺少工作表 {role}（{label}）"))
    part = sheets.get(role)
    if part is None:
        return None
    try:
        sheet = _read_sheet(part, reader, book)
    except Exception:  # any failure to parse the user's file is a bad input, not an internal error
        why = "工作表的内容已损坏，无法读取；请在 Excel 中打开这个工作簿并另存为 .xlsx"
        problems.append(Problem(f"{book} {part.title}", None, None, None, why))
        return None
    problems.extend(sheet.problems)
    return sheet


def _table(sheet: _Sheet, name: str, problems: list[Problem], warnings: list[str]) -> RawTable | None:
    label = f"{sheet.book} {sheet.title}"
    head = sheet.rows.get(1, {})

    def below() -> list[tuple[int, list[str]]]:
        rows = [r for r in sorted(sheet.rows)[: HEADER_SEARCH_ROWS + 1] if 1 < r <= HEADER_SEARCH_ROWS + 1]
        return [
            (r, [sheet.rows[r].get(c, "") for c in range(1, min(max(sheet.rows[r]), MAX_COLUMNS) + 1)]) for r in rows
        ]

    if not head:
        r = header_row(name, below())
        why = title_above(r) if r is not None else "第1行应为表头，但它是空的" if sheet.rows else "工作表是空的"
        problems.append(Problem(label, 1, None, None, why))
        return None
    width = max(head)
    if width > MAX_COLUMNS:
        problems.append(Problem(label, 1, None, None, f"表头有 {width:,} 列，超过 {MAX_COLUMNS} 列的上限"))
        return None
    header = [head.get(j + 1, "") for j in range(width)]
    positions = map_header(name, label, header, problems, warnings, lambda j: (sheet.ref(1, j + 1), None, None), below)
    if positions is None:
        return None
    _hidden_data(sheet, {j + 1 for j in positions.values()}, problems)
    _doubtful(sheet, {j + 1 for j in positions.values()}, problems)
    _merged(sheet, {j + 1 for j in positions.values()}, problems)
    body_rows = sorted(r for r in sheet.rows if r > 1)
    outside = sorted({c for r in body_rows for c in sheet.rows[r] if c > width or not header[c - 1].strip()})
    if outside:
        cols = "、".join(get_column_letter(c) for c in outside[:20])
        warnings.append(f"{label}：第 {cols} 列有数据但没有表头，已忽略")
    cells = [pa.array([sheet.rows[r].get(j + 1, "") for r in body_rows], pa.string()) for j in range(width)]
    headers = {code: header[j].strip() for code, j in positions.items()}
    t = build_table(name, label, headers, positions, cells, np.array(body_rows, dtype=np.int64))
    t.cell = _locator(sheet, t)
    t.reported = {(r, c - 1) for r, c in sheet.flagged}
    repeated_headers(t, problems)
    return t


def _locator(sheet: _Sheet, t: RawTable) -> Any:
    def cell(i: int | None, col: str | None) -> tuple[str, int | None, str | None]:
        label = f"{sheet.book} {sheet.title}"
        row = int(t.rows[i]) if i is not None else None
        if col and col in t.positions and row is not None:
            return sheet.ref(row, t.positions[col] + 1), None, None
        return label, row, t.headers.get(col, col) if col else None

    return cell


_NOTES_WORDS = ("说明", "备注", "注释", "注", "note", "notes", "remark", "remarks", "comment", "comments")
# a cell beyond column B that reads as a number or a period: a second value for the row's key
_VALUE_LIKE = re.compile(r"^[+\-]?(\d[\d,，]*(\.\d*)?|\.\d+)%?$|^\d{4}\s*[Qq]\s*\d$")


def _period_entries(sheet: _Sheet, problems: list[Problem], warnings: list[str]) -> list[Entry]:
    """Key in column A, value in column B; a first row of column titles (项目/取值/说明) may
    head further columns of notes. A cell beyond column B that reads as a number or a period is
    an error (a corrected budget typed beside the old one: which one is meant would change the
    money); other text there is a note — read by nobody, and named in a warning unless its column
    is headed as notes (说明/备注)."""
    entries = []
    _hidden_data(sheet, {1, 2}, problems)
    _doubtful(sheet, {1, 2}, problems)
    _merged(sheet, {1, 2}, problems)
    head = {c: ascii_lower(v.strip()) for c, v in sheet.rows.get(1, {}).items()}
    titled = ascii_lower(head.get(1, "")) in _HEADER_WORDS
    notes = {c for c, v in head.items() if c > 2 and titled and v in _NOTES_WORDS}
    ignored = []
    for r in sorted(sheet.rows):
        key, value = sheet.rows[r].get(1, "").strip(), sheet.rows[r].get(2, "").strip()
        if r == 1 and titled:
            continue
        for c, extra in sorted(sheet.rows[r].items()):
            if c <= 2 or not extra.strip():
                continue
            if _VALUE_LIKE.match(extra.strip()):
                what = f"键 {key} 的取值" if key else "取值"
                b = f"（B{r} 为“{value}”）" if value else "（B 列是空的）"
                problems.append(Problem(sheet.ref(r, c), None, None, extra,
                                        f"{what}只读 B 列{b}；这个单元格在 B 列之外也有值，无法判断该用哪一个"
                                        "（例如改正后的金额），请只在 B 列保留一个值，说明写在表头为“说明”的列中"))  # fmt: skip
            elif c not in notes:
                ignored.append(f"{get_column_letter(c)}{r}")
        if not key:
            if value:
                problems.append(Problem(sheet.ref(r, 2), None, None, value, "有值但没有键（A 列应写键名，如 period）"))
            continue
        reported = (r, 2) in sheet.flagged
        entries.append(Entry(key, value or None, sheet.ref(r, 2), None, sheet.ref(r, 1), None, reported))
    if ignored:
        cells = "、".join(ignored[:20]) + (f" 等 {len(ignored)} 个单元格" if len(ignored) > 20 else "")
        warnings.append(f"{sheet.book} {sheet.title}：{cells} 在 B 列之外，不是取值，已忽略")
    return entries
