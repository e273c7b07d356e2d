"""One CSV file → a RawTable, in time proportional to its size.

The header is read first with the csv module (one record), so a header of a million columns
is refused before anything builds a frame of it. The rows are then parsed by pyarrow's
multi-threaded reader as text (nothing is inferred: `1.0` stays the text `1.0`). A file whose
rows do not all have the header's width — short rows are padded as Excel pads them, long ones
are reported unless the extra cells are blank — is parsed again by the csv module, in chunks,
so the row numbers stay exact (each record is one spreadsheet row, header = 1; blank lines
keep their place).
"""

from __future__ import annotations

import csv
import io

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from ..model.problems import Problem
from .encoding import to_utf8
from .tables import (
    HEADER_SEARCH_ROWS,
    MAX_CELL,
    MAX_COLUMNS,
    RawTable,
    build_table,
    header_row,
    map_header,
    overlong_cells,
    repeated_headers,
    title_above,
)

_CHUNK = 200_000  # rows per arrow chunk in the row-by-row reader
_RAGGED_NAMED = 20


def read_csv_table(label: str, data: bytes, name: str, problems: list[Problem], warnings: list[str]) -> RawTable | None:
    utf8 = to_utf8(data, label, problems)
    if utf8 is None:
        return None
    header = _header(utf8, label, name, problems)
    if header is None:
        return None
    sep = _other_separator(header)
    if sep:
        problems.append(Problem(label, 1, None, header[0][:200], f"表头只有一列：各列似乎用{sep} 隔开；CSV 文件的各列应以半角逗号 , 隔开"
                                "（在 Excel 中另存为“CSV UTF-8（逗号分隔）”）"))  # fmt: skip
        return None
    positions = map_header(name, label, header, problems, warnings, lambda j: (label, 1, f"第 {j + 1} 列"),
                           lambda: _first_records(utf8))  # fmt: skip
    if positions is None:
        return None
    body = _body_arrow(utf8, len(header))
    if body is None:
        body = _body_rows(utf8, len(header), label, problems)
        if body is None:
            return None
    cells, rows = body
    long = overlong_cells(cells)
    for i, j in long:
        col = header[j].strip() or f"第 {j + 1} 列"
        problems.append(Problem(label, int(rows[i]), col, None, f"单元格过长（超过 {MAX_CELL:,} 个字）"))
    if long:
        return None
    _warn_headerless_data(label, header, cells, warnings)
    headers = {code: header[j].strip() for code, j in positions.items()}
    t = build_table(name, label, headers, positions, cells, rows)
    repeated_headers(t, problems)
    return t


_SEPARATORS = {";": "分号 ;", "\t": "制表符（Tab）", "，": "全角逗号 ，", "|": "竖线 |", "；": "全角分号 ；"}


def _other_separator(header: list[str]) -> str | None:
    """What separates the columns of a one-cell header that holds several (inst_id;score;veto)."""
    if len(header) != 1:
        return None
    found = [(header[0].count(c), what) for c, what in _SEPARATORS.items() if c in header[0]]
    return max(found)[1] if found else None


def _first_records(utf8: bytes) -> list[tuple[int, list[str]]]:
    """Rows 2… of the file, a few, as (spreadsheet row, cells): where a header under a title is."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(utf8[: 1 << 20]), encoding="utf-8", errors="replace", newline=""))
    out: list[tuple[int, list[str]]] = []
    try:
        for r, cells in enumerate(reader, start=1):
            if r > HEADER_SEARCH_ROWS + 1:
                break
            if r > 1:
                out.append((r, cells[:MAX_COLUMNS]))
    except csv.Error:
        pass
    return out


def _header(utf8: bytes, label: str, name: str, problems: list[Problem]) -> list[str] | None:
    """The first record, or None after adding the problem."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(utf8), encoding="utf-8", newline=""))
    try:
        header = next(reader, None)
    except csv.Error:  # a field beyond the csv module's own limit (128 KiB)
        problems.append(Problem(label, 1, None, None, f"表头的单元格过长（超过 {MAX_CELL:,} 个字）"))
        return None
    if header is None:
        problems.append(Problem(label, None, None, None, "文件是空的（第1行应为表头）"))
        return None
    if len(header) > MAX_COLUMNS:
        problems.append(Problem(label, 1, None, None, f"表头有 {len(header):,} 列，超过 {MAX_COLUMNS} 列的上限"))
        return None
    if not any(h.strip() for h in header):
        r = header_row(name, _first_records(utf8))
        problems.append(Problem(label, 1, None, None, "第1行应为表头，但它是空的" if r is None else title_above(r)))
        return None
    if any(len(h) > MAX_CELL for h in header):
        problems.append(Problem(label, 1, None, None, f"表头的单元格过长（超过 {MAX_CELL:,} 个字）"))
        return None
    return header


def _body_arrow(utf8: bytes, width: int) -> tuple[list[pa.ChunkedArray], np.ndarray] | None:
    """All records as text columns, or None when some record does not have `width` cells
    (or pyarrow cannot parse the file): the caller then reads it row by row."""
    names = [f"c{j}" for j in range(width)]

    def on_invalid(row: pacsv.InvalidRow) -> str:
        return "error"  # stop at once: the row-by-row reader takes over

    try:
        table = pacsv.read_csv(
            pa.py_buffer(utf8),
            read_options=pacsv.ReadOptions(column_names=names, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(
                newlines_in_values=b'"' in utf8, ignore_empty_lines=False, invalid_row_handler=on_invalid
            ),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
                check_utf8=False,  # checked by to_utf8
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowException):
        return None
    table = table.slice(1)  # the header record
    return [table.column(j) for j in range(width)], np.arange(2, table.num_rows + 2)


def _body_rows(
    utf8: bytes, width: int, label: str, problems: list[Problem]
) -> tuple[list[pa.ChunkedArray], np.ndarray] | None:
    """The records read one by one (csv module): short rows padded, long rows reported unless
    their extra cells are blank. Memory stays bounded by converting to arrow every _CHUNK rows."""
    reader = csv.reader(io.TextIOWrapper(io.BytesIO(utf8), encoding="utf-8", newline=""))
    chunks: list[list[pa.Array]] = [[] for _ in range(width)]
    pending: list[list[str]] = [[] for _ in range(width)]
    long_rows, start = 0, len(problems)
    try:
        next(reader)
        for r in reader:
            cells = r
            if len(r) != width:
                if len(r) > width and any(c.strip() for c in r[width:]):
                    long_rows += 1
                    if long_rows <= _RAGGED_NAMED:
                        extra = ",".join(r[width:])[:200]
                        msg = f"这一行有 {len(r):,} 列，多于表头的 {width} 列"
                        problems.append(Problem(label, _record_no(chunks, pending), None, extra, msg))
                cells = (r + [""] * width)[:width]
            for j in range(width):
                pending[j].append(cells[j])
            if len(pending[0]) >= _CHUNK:
                _flush(chunks, pending)
    except csv.Error:
        problems.append(
            Problem(label, _record_no(chunks, pending), None, None, f"单元格过长（超过 {MAX_CELL:,} 个字）或无法解析")
        )
        return None
    if long_rows > _RAGGED_NAMED:
        more = long_rows - _RAGGED_NAMED
        problems.append(Problem(label, None, None, None, f"另有 {more:,} 行列数多于表头，未逐一列出", stands_for=more))
    if len(problems) > start:
        return None
    _flush(chunks, pending)
    cells = [pa.chunked_array(c, pa.string()) for c in chunks]
    n = len(cells[0]) if cells else 0
    return cells, np.arange(2, n + 2)


def _record_no(chunks: list[list[pa.Array]], pending: list[list[str]]) -> int:
    """Spreadsheet row of the record being read (header = 1)."""
    return sum(len(a) for a in chunks[0]) + len(pending[0]) + 2


def _flush(chunks: list[list[pa.Array]], pending: list[list[str]]) -> None:
    for j, p in enumerate(pending):
        chunks[j].append(pa.array(p, pa.string()))
        p.clear()


def _warn_headerless_data(label: str, header: list[str], cells: list[pa.ChunkedArray], warnings: list[str]) -> None:
    empty = [
        j + 1
        for j, h in enumerate(header)
        if not h.strip() and pc.any(pc.not_equal(pc.utf8_trim_whitespace(cells[j]), "")).as_py()
    ]
    if empty:
        warnings.append(f"{label}：第 {'、'.join(map(str, empty))} 列有数据但没有表头，已忽略")
