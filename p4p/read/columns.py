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

    def why(i: int) -> str:
        text = str(col[i].as_py())
        if not text:
            return "不能为空"
        try:
            parse_int(text, maximum)
        except MoneyError as e:
            return str(e)
        return f"应为不小于 {int(np.broadcast_to(minimum, (n,))[i])} 的整数"

    if n and pc.all(pc.match_substring_regex(col, _SIMPLE_INT)).as_py():
        values = pc.cast(col, pa.int64()).to_numpy()
        return Column(values, (values < minimum) | (values > maximum), why)
    blank = _mask(pc.equal(col, ""))
    shape_ok = _mask(pc.match_substring_regex(col, f"^-?{INT_PATTERN}$"))
    digits = pc.replace_substring_regex(pc.replace_substring(col, ",", ""), r"\.0+$", "")
    negative = _mask(pc.starts_with(digits, "-"))
    digits = pc.utf8_ltrim(digits, "-")
    ok = shape_ok & _mask(pc.less_equal(pc.utf8_length(digits), len(str(maximum))))
    magnitude = pc.cast(pc.if_else(pa.array(ok), digits, "0"), pa.int64()).to_numpy()
    values = np.where(negative, -magnitude, magnitude)
    values[blank] = 0
    # a minus sign is a negative number whatever follows it: `-0` and `-0.0` are refused like `-5`
    # (money and scores refuse `-0` too), not read as 0
    signed = negative & (np.broadcast_to(minimum, (n,)) >= 0)
    bad = (~ok & ~blank) | (blank & ~_rows(blank_ok, n)) | (ok & ((values > maximum) | (values < minimum) | signed))
    return Column(values, bad, why)


def money(col: pa.ChunkedArray, blank_ok: np.ndarray | bool = False) -> Column:
    """Amounts ≥ 0 in fen, int64 (the pattern allows at most 15 integer digits and 2 decimals:
    exact); a blank cell is 0 where `blank_ok`. Cells written like 1234.50 — nearly all — are
    read by Arrow; the others (1,234.5, 12) by Decimal, one by one."""
    n = len(col)
    col = col.combine_chunks() if isinstance(col, pa.ChunkedArray) else col
    ok = _mask(pc.match_substring_regex(pc.replace_substring(col, "，", ","), f"^{MONEY_OK_PATTERN}$"))
    plain = ok & _mask(pc.match_substring_regex(col, r"^[0-9]+\.[0-9]{2}$"))
    blank = _mask(pc.equal(col, ""))
    digits = pc.if_else(pa.array(plain), pc.replace_substring(col, ".", ""), pa.scalar("0", col.type))
    values = np.asarray(pc.cast(digits, pa.int64()).to_numpy(zero_copy_only=False), dtype=np.int64).copy()
    for i in np.flatnonzero(ok & ~plain).tolist():
        text = str(col[i].as_py()).replace(",", "").replace("，", "")
        values[i] = int(Decimal(text).scaleb(2))  # at most 2 decimals (the pattern): exact

    def why(i: int) -> str:
        text = str(col[i].as_py())
        if not text:
            return "不能为空"
        try:
            d = parse_money(text)
        except MoneyError as e:
            return str(e)
        return "金额不能为负数" if d < 0 else "不是有效的金额"

    bad = (~ok & ~blank) | (blank & ~_rows(blank_ok, n))
    return Column(values, bad, why)


def by_value(col: pa.ChunkedArray, parse: Callable[[str], Any], errors: tuple[type[Exception], ...]) -> Column:
    """A column parsed cell by cell, each distinct text once (scores, flags, kinds: few distinct
    values in many rows): `values` is an object array, the parser's message is the why."""
    distinct = pc.unique(col)
    parsed: list[Any] = []
    messages: dict[int, str] = {}
    for k, text in enumerate(distinct.to_pylist()):
        try:
            parsed.append(parse(text))
        except errors as e:
            parsed.append(None)
            messages[k] = str(e)
    which = np.asarray(pc.index_in(col, value_set=distinct).to_numpy(zero_copy_only=False), dtype=np.int64)
    table = np.empty(len(parsed), dtype=object)
    table[:] = parsed
    bad_value = np.zeros(len(parsed), dtype=bool)
    bad_value[list(messages)] = True
    return Column(table[which], bad_value[which], lambda i: messages[int(which[i])])


def checked(
    col: pa.ChunkedArray, ok_pattern: str, problem: Callable[[str], str | None], max_len: int | None = None
) -> Column:
    """Text cells: those matching `ok_pattern` (RE2, whole cell; "" matches all) and no longer
    than `max_len` characters are fine; the others are asked `problem(text)` (None: fine after
    all). `values` are the texts."""
    cells = col.to_pylist()
    ok = _mask(pc.match_substring_regex(col, ok_pattern)) if ok_pattern else np.ones(len(cells), dtype=bool)
    if max_len is not None:
        ok &= _mask(pc.less_equal(pc.utf8_length(col), max_len))
    suspect = np.flatnonzero(~ok)
    messages = {int(i): m for i in suspect if (m := problem(cells[i]))}
    bad = np.zeros(len(cells), dtype=bool)
    bad[list(messages)] = True
    return Column(cells, bad, messages.__getitem__)


def first_rows(col: pa.ChunkedArray) -> tuple[dict[str, int], np.ndarray]:
    """The first row of each distinct text, and for every row the first row of its text (a row
    repeats an earlier one where the two differ)."""
    distinct = pc.unique(col)
    which = np.asarray(pc.index_in(col, value_set=distinct).to_numpy(zero_copy_only=False), dtype=np.int64)
    rows = np.arange(len(which))
    first = np.full(len(distinct), len(which), dtype=np.int64)
    np.minimum.at(first, which, rows)
    return dict(zip(distinct.to_pylist(), first.tolist(), strict=True)), first[which]
