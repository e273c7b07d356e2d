"""Input tables as text cells: CSV files decoded and split, headers mapped to column codes.
A folder of CSV files and a workbook (workbook.py) both become `RawTable`s, so the checks in
validate.py are written once."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from ..model.fields import TABLES, header_map
from ..model.problems import Problem
from .yamlio import load_yaml


@dataclass
class RawTable:
    """A table of text cells. `where(i, col)` names data row i / column col as the user sees it."""

    name: str
    label: str  # file or sheet name for messages
    df: pd.DataFrame  # columns renamed to codes, all str
    headers: dict[str, str]  # code → header text as written
    rows: list[int]  # spreadsheet row number of each df row
    cell: Callable[[int, str], tuple[str, int | None, str | None]] | None = None

    def loc(self, i: int, col: str | None) -> tuple[str, int | None, str | None]:
        if self.cell:
            return self.cell(i, col)
        return self.label, self.rows[i] if i is not None else None, self.headers.get(col, col) if col else None


# ---- reading ------------------------------------------------------------------------------


def decode(data: bytes) -> str | None:
    """UTF-8 (with or without BOM), else GB18030 (Excel on Chinese Windows); None if neither."""
    for enc in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    return None


def frame_from_cells(
    name: str, label: str, header: list[str], body: pd.DataFrame, problems: list[Problem], cell=None
) -> RawTable | None:
    """Map headers (English codes or Chinese labels) to codes; report missing columns.
    `body` holds the data rows as text, positional columns, header = spreadsheet row 1;
    blank rows are dropped here but keep their place in the row numbering."""
    hm = header_map(name)
    spec = TABLES[name]
    codes, headers = [], {}
    for h in header:
        h = ("" if h is None else str(h)).strip().lstrip("\ufeff")
        code = hm.get(h) or hm.get(h.lower())  # English codes in any case (Inst_ID)
        if code and code in headers:
            problems.append(Problem(label, 1, h, None, "列名重复"))
            code = None
        codes.append(code)
        if code:
            headers[code] = h
    missing = [c for c in spec["columns"] if c not in headers and c not in spec["optional"]]
    for c in missing:
        problems.append(Problem(label, 1, None, None, f"缺少列 {c}（{spec['columns'][c]}）"))
    if missing:
        return None
    body = body.fillna("").astype(str)
    rows = pd.Series(range(2, len(body) + 2), index=body.index)
    stripped = {j: body.iloc[:, j].str.strip() for j in range(min(len(codes), body.shape[1]))}
    nonblank = pd.Series(False, index=body.index)
    for col in stripped.values():
        nonblank |= col != ""
    data = {
        c: (
            stripped[codes.index(c)] if c in headers and codes.index(c) in stripped else pd.Series("", index=body.index)
        )
        for c in spec["columns"]
    }
    df = pd.DataFrame(data)[nonblank].reset_index(drop=True)
    return RawTable(name, label, df, headers, rows[nonblank].tolist(), cell)


def read_csv_table(path: Path, name: str, problems: list[Problem]) -> RawTable | None:
    raw = path.read_bytes()
    text = decode(raw)
    if text is None:
        problems.append(Problem(path.name, None, None, None, "文件编码既不是 UTF-8 也不是 GB18030，请另存为 UTF-8 CSV"))
        return None
    try:  # the fast C parser; rows with more cells than the header make it fail
        df = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False, header=None, skip_blank_lines=False)
        return frame_from_cells(name, path.name, df.iloc[0].tolist(), df.iloc[1:].reset_index(drop=True), problems)
    except pd.errors.EmptyDataError:
        problems.append(Problem(path.name, None, None, None, "文件是空的（第1行应为表头）"))
        return None
    except pd.errors.ParserError:
        pass  # read it row by row below, to say which rows are too long
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        problems.append(Problem(path.name, None, None, None, f"无法解析 CSV：{e}"))
        return None
    if not rows or not any(c.strip() for c in rows[0]):
        problems.append(Problem(path.name, None, None, None, "文件是空的（第1行应为表头）"))
        return None
    header, body = rows[0], rows[1:]
    width = len(header)
    ragged = [n for n, r in enumerate(body) if len(r) != width]
    for n in ragged:
        r = body[n]
        if len(r) > width and any(c.strip() for c in r[width:]):
            problems.append(
                Problem(path.name, n + 2, None, ",".join(r[width:]), f"这一行有 {len(r)} 列，多于表头的 {width} 列")
            )
        body[n] = (r + [""] * width)[:width]
    frame = (
        pd.DataFrame(body, columns=range(width), dtype=str) if body else pd.DataFrame(columns=range(width), dtype=str)
    )
    return frame_from_cells(name, path.name, header, frame, problems)


def read_folder(folder: Path, problems: list[Problem]) -> tuple[dict, dict, dict[str, bytes]]:
    tables, files = {}, {}
    for name in TABLES:
        p = folder / f"{name}.csv"
        if not p.is_file():
            problems.append(Problem(f"{name}.csv", None, None, None, f"缺少文件 {name}.csv（{TABLES[name]['label']}）"))
            continue
        files[p.name] = p.read_bytes()
        t = read_csv_table(p, name, problems)
        if t is not None:
            tables[name] = t
    period_raw = {}
    p = folder / "period.yaml"
    if not p.is_file():
        problems.append(Problem("period.yaml", None, None, None, "缺少文件 period.yaml"))
    else:
        files[p.name] = p.read_bytes()
        text = decode(files[p.name])
        try:
            period_raw = load_yaml(text or "") if text is not None else None
            if not isinstance(period_raw, dict):
                problems.append(Problem("period.yaml", None, None, None, "应为 键: 值 的形式"))
                period_raw = {}
        except Exception as e:
            problems.append(Problem("period.yaml", None, None, None, f"YAML 格式错误：{e}"))
            period_raw = {}
    return tables, {"values": period_raw, "loc": lambda k: ("period.yaml", None, k)}, files
