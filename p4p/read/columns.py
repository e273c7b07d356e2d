"""Whole columns of text cells parsed at once (pyarrow compute), for tables of millions of rows.

Each parser returns the values and a mask of the cells with a problem; the message of a bad
cell comes from the cell-by-cell parser (p4p/model/money.py, cells.py) when it is shown, so
the two agree by construction: a cell the vectorised pattern does not accept is given to the
scalar parser, which says why.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model.money import INT_PATTERN, MAX_COUNT, MONEY_OK_PATTERN, MoneyError, parse_int, parse_money

_SIMPLE_INT = r"^(?:0|[1-9][0-9]{0,8})$"  # below 10^9, no separators: the usual cell


@dataclass
class Column:
    """Parsed cells: `values[i]` is meaningful where `bad[i]` is False; `why(i)` says what is
    wrong with cell i."""

    values: Any  # np.ndarray (integers) or list
    bad: np.ndarray
    why: Callable[[int], str]


def _mask(a: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(a.to_numpy(zero_copy_only=False), dtype=bool)


def _rows(flag: np.ndarray | bool, n: int) -> np.ndarray:
    return np.broadcast_to(np.asarray(flag, dtype=bool), (n,))


def integers(
    col: pa.ChunkedArray, blank_ok: np.ndarray | bool = False, minimum: np.ndarray | int = 0, maximum: int = MAX_COUNT
) -> Column:
    """Integers from 0 (or `minimum`, per row) to `maximum`, as int64 (exact: the bound keeps
    every value far inside int64). A blank cell is 0 where `blank_ok`."""
    n = len(col)
    texts = col

    def why(i: int) -> str:
        text = str(texts[i].as_py())
        if not text:
            return "不能为空"
        try:
            v = parse_int(text, maximum)
        except MoneyError as e:
            return str(e)
        return f"应为不小于 {int(np.broadcast_to(minimum, (n,))[i])} 的整数" if v >= 0 else "应为不小于 0 的整数"

    if n and pc.all(pc.match_substring_regex(col, _SIMPLE_INT)).as_py():
        values = pc.cast(col, pa.int64()).to_numpy()
        return Column(values, values < minimum, why)
    blank = _mask(pc.equal(col, ""))
    shape_ok = _mask(pc.match_substring_regex(col, f"^-?{INT_PATTERN}$"))
    digits = pc.replace_substring_regex(pc.replace_substring(col, ",", ""), r"\.0+$", "")
    negative = _mask(pc.starts_with(digits, "-"))
    digits = pc.utf8_ltrim(digits, "-")
    ok = shape_ok & _mask(pc.less_equal(pc.utf8_length(digits), len(str(maximum))))
    magnitude = pc.cast(pc.if_else(pa.array(ok), digits, "0"), pa.int64()).to_numpy()
    values = np.where(negative, -magnitude, magnitude)
    values[blank] = 0
    bad = (~ok & ~blank) | (blank & ~_rows(blank_ok, n)) | (ok & ((values > maximum) | (values < minimum)))
    return Column(values, bad, why)


def money(col: pa.ChunkedArray, blank_ok: np.ndarray | bool = False) -> Column:
    """Amounts ≥ 0 as Decimal with 2 places; a blank cell is 0.00 where `blank_ok`."""
    n = len(col)
    texts = pc.replace_substring(col, "，", ",")
    cells = col.to_pylist()
    ok = _mask(pc.match_substring_regex(texts, f"^{MONEY_OK_PATTERN}$"))
    blank = _mask(pc.equal(col, ""))
    zero = Decimal("0.00")
    values = [
        Decimal(t.replace(",", "").replace("，", "")).quantize(Decimal("0.01")) if good else zero
        for t, good in zip(cells, ok, strict=True)
    ]

    def why(i: int) -> str:
        text = cells[i]
        if not text:
            return "不能为空"
        try:
            d = parse_money(text)
        except MoneyError as e:
            return str(e)
        return "金额不能为负数" if d < 0 else "不是有效的金额"

    bad = (~ok & ~blank) | (blank & ~_rows(blank_ok, n))
    return Column(values, bad, why)


def each(cells: list[str], parse: Callable[[str], Any], errors: tuple[type[Exception], ...]) -> Column:
    """A small column parsed cell by cell (scores, flags): the parser's message is the why."""
    values: list[Any] = []
    messages: dict[int, str] = {}
    for i, text in enumerate(cells):
        try:
            values.append(parse(text))
        except errors as e:
            values.append(None)
            messages[i] = str(e)
    bad = np.zeros(len(cells), dtype=bool)
    bad[list(messages)] = True
    return Column(values, bad, messages.__getitem__)


def checked(cells: list[str], problem: Callable[[str], str | None]) -> Column:
    """Text cells with a check that returns the problem or None (ids, names)."""
    messages = {i: m for i, m in ((i, problem(t)) for i, t in enumerate(cells)) if m}
    bad = np.zeros(len(cells), dtype=bool)
    bad[list(messages)] = True
    return Column(cells, bad, messages.__getitem__)
