"""Input tables as columns of text cells, whatever they were read from.

A CSV file (csvfile.py) and a workbook sheet (workbook.py) both become a `RawTable`: its
header mapped to column codes, its non-blank data rows as trimmed text (pyarrow string
arrays), and the spreadsheet row of each data row, so the checks in validate.py are written
once and name places as the user sees them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model.fields import TABLES, header_map
from ..model.problems import Problem, clip

MAX_COLUMNS = 200  # a header wider than this is a paste error, refused before parsing the rows
MAX_CELL = 10_000  # characters in one cell

Where = tuple[str, int | None, str | None]  # file or cell, row, column as Problem takes them
Locator = Callable[[int | None, str | None], Where]


def some(names: Sequence[str], n: int = 20, unit: str = "个") -> str:
    """The first `n` names joined, and how many there are when more: a warning stays one line."""
    return "、".join(names[:n]) + (f" 等 {len(names):,} {unit}" if len(names) > n else "")


def ascii_lower(s: str) -> str:
    """Lower-case ASCII letters only: codes are matched in any case, but no Unicode case
    mapping may turn another character into a code letter (the Kelvin sign into k)."""
    return s.lower() if s.isascii() else s


@dataclass
class RawTable:
    """A table of text cells. `loc(i, col)` names data row i / column col as the user sees it."""

    name: str
    label: str  # file or "book sheet" for messages
    columns: dict[str, pa.ChunkedArray]  # code → trimmed text of the non-blank data rows
    headers: dict[str, str]  # code → header text as written
    rows: np.ndarray  # spreadsheet row (header = 1) of each data row
    positions: dict[str, int] = field(default_factory=dict)  # code → 0-based column position
    cell: Locator | None = None
    reported: set[tuple[int, int]] = field(default_factory=set)  # (row, position) already reported
    _lists: dict[str, list[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.rows)

    def text(self, col: str) -> list[str]:
        """The cells of a column as Python strings (cached; small tables only)."""
        if col not in self._lists:
            self._lists[col] = self.columns[col].to_pylist()
        return self._lists[col]

    def value(self, i: int, col: str) -> str:
        return str(self.columns[col][i].as_py())

    def loc(self, i: int | None, col: str | None) -> tuple[str, int | None, str | None]:
        if self.cell:
            return self.cell(i, col)
        row = int(self.rows[i]) if i is not None else None
        return self.label, row, self.headers.get(col, col) if col else None


def map_header(
    name: str,
    label: str,
    header: Sequence[str],
    problems: list[Problem],
    warnings: list[str],
    where: Callable[[int], Where],
    below: Callable[[], Iterable[tuple[int, Sequence[str]]]] | None = None,
) -> dict[str, int] | None:
    """Header cells (English codes in any case, or Chinese labels) → {code: position}.
    Duplicate or missing columns are problems; columns p4p does not use are named in a warning.
    `where(j)` names header cell j. None when a required column is missing — said as one
    problem when a row of `below()` (the first rows under row 1) is the header, under a title."""
    hm = {ascii_lower(k): v for k, v in header_map(name).items()}
    spec = TABLES[name]
    if below is not None and not any(hm.get(ascii_lower(h.strip())) for h in header):
        r = header_row(name, below())
        if r is not None:
            problems.append(Problem(label, 1, None, None, title_above(r)))
            return None
    positions: dict[str, int] = {}
    ignored = []
    for j, raw in enumerate(header):
        h = raw.strip()
        code = hm.get(ascii_lower(h))
        if code is None:
            if h:
                ignored.append(f"“{clip(h, 100)}”")
            continue
        if code in positions:
            w, row, col = where(j)
            problems.append(Problem(w, row, col, h, f"列名重复（与第 {positions[code] + 1} 列是同一列）"))
            continue
        positions[code] = j
    missing = [c for c in spec["columns"] if c not in positions and c not in spec["optional"]]
    for c in missing:
        problems.append(Problem(label, 1, None, None, f"缺少列 {c}（{spec['columns'][c]}）"))
    if ignored:
        warnings.append(f"{label}：列 {'、'.join(ignored)} 不是 p4p 使用的列，已忽略")
    return None if missing else positions


HEADER_SEARCH_ROWS = 10  # rows under row 1 looked at for a header below a title


def header_row(name: str, rows: Iterable[tuple[int, Sequence[str]]]) -> int | None:
    """The first of `rows` (spreadsheet row, cells) that holds every required column of table
    `name`: the header, with a title or blank rows above it."""
    hm = {ascii_lower(k): v for k, v in header_map(name).items()}
    spec = TABLES[name]
    need = {c for c in spec["columns"] if c not in spec["optional"]}
    for r, cells in rows:
        if need <= {hm.get(ascii_lower(c.strip())) for c in cells}:
            return r
    return None


def title_above(r: int) -> str:
    return f"第1行应为表头，但表头在第{r}行；请删除表头上方的 {r - 1} 行（标题、说明或空行）"


def build_table(
    name: str,
    label: str,
    headers: dict[str, str],
    positions: dict[str, int],
    cells: Sequence[pa.ChunkedArray | pa.Array],
    rows: np.ndarray,
) -> RawTable:
    """Trim every cell, drop rows that are blank in every column (they keep their place in the
    numbering), and give each code of the table its column (blank when the optional column is
    absent). `cells[j]` is column position j of the data rows, `rows` their spreadsheet rows."""
    trimmed = [pc.utf8_trim_whitespace(c) for c in cells]
    nonblank = np.zeros(len(rows), dtype=bool)
    for c in trimmed:
        nonblank |= pc.not_equal(c, "").to_numpy(zero_copy_only=False)
    keep = None if nonblank.all() else pa.array(nonblank)
    n = int(nonblank.sum())
    columns = {}
    for code in TABLES[name]["columns"]:
        if code in positions and positions[code] < len(trimmed):
            col = trimmed[positions[code]]
            col = col.filter(keep) if keep is not None else col
            columns[code] = col if isinstance(col, pa.ChunkedArray) else pa.chunked_array([col], pa.string())
        else:
            columns[code] = pa.chunked_array([pa.array([""] * n, pa.string())], pa.string())
    return RawTable(name, label, columns, {c: headers[c] for c in positions}, rows[nonblank], dict(positions))


REPEATED_HEADERS_NAMED = 20


def repeated_headers(t: RawTable, problems: list[Problem]) -> None:
    """Data rows that repeat the header (two files, or one file twice, pasted together: the rows
    after it are likely counted twice): one problem each, and their cells not reported again."""
    if not len(t) or not t.headers:
        return
    same = np.ones(len(t), dtype=bool)
    for code, head in t.headers.items():
        same &= np.asarray(pc.equal(t.columns[code], head).to_numpy(zero_copy_only=False), dtype=bool)
    found = np.flatnonzero(same)
    for i in found[:REPEATED_HEADERS_NAMED].tolist():
        where, row, _ = t.loc(i, None)
        problems.append(Problem(where, row, None, None,
                                "这一行和第1行一样是表头：可能是两个文件（或同一个文件两次）拼接而成，"
                                "其后的数据可能重复；请删除多余的表头，并核对有没有重复的行"))  # fmt: skip
    if found.size > REPEATED_HEADERS_NAMED:
        more = int(found.size) - REPEATED_HEADERS_NAMED
        problems.append(Problem(t.label, None, None, None, f"另有 {more:,} 行重复表头，未逐一列出", stands_for=more))
    t.reported |= {(int(t.rows[i]), j) for i in found.tolist() for j in t.positions.values()}


def overlong_cells(cells: Sequence[pa.ChunkedArray | pa.Array], limit: int = 20) -> list[tuple[int, int]]:
    """(data row, column position) of cells longer than MAX_CELL characters, at most `limit`
    (one vectorised pass per column)."""
    out: list[tuple[int, int]] = []
    for j, c in enumerate(cells):
        if len(c) == 0 or pc.max(pc.binary_length(c)).as_py() <= MAX_CELL:
            continue  # no cell has more bytes than the limit allows characters
        too_long = pc.greater(pc.utf8_length(c), MAX_CELL).to_numpy(zero_copy_only=False)
        out += [(int(i), j) for i in np.flatnonzero(too_long)[:limit]]
    return sorted(out)[:limit]
