"""The problems of one table, gathered as masks and listed in row order with a cap.

A table of ten million rows may have ten million bad cells; the user needs the first ones and
how many of each kind there are, not a million-line message. `emit` lists the first `cap`
problems in spreadsheet order (row, then column) and adds one line per kind for the rest.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..model.problems import Problem
from .tables import RawTable

CAP = 200  # problems listed per table


@dataclass
class _Check:
    col: str | None
    rows: np.ndarray  # data row indices
    why: Callable[[int], str]
    kind: str  # for the count of the unlisted ones
    value: bool  # show the cell's value


class Findings:
    def __init__(self, t: RawTable):
        self.t = t
        self.checks: list[_Check] = []
        self.table_level: list[Problem] = []

    def cells(self, col: str | None, bad: np.ndarray, why: Callable[[int], str] | str, kind: str = "") -> None:
        """Every data row where `bad` (a mask or row indices) has this problem in column `col`.
        `why` is the message, or gives the message of row i; `kind` names the problem in the
        count of unlisted ones (default: the message, or 格式有误)."""
        rows = np.flatnonzero(bad) if bad.dtype == bool else bad
        if rows.size and self.t.reported and col in self.t.positions:
            j = self.t.positions[col]
            rows = np.array([i for i in rows if (int(self.t.rows[i]), j) not in self.t.reported], dtype=np.int64)
        if rows.size:
            fn = why if callable(why) else (lambda i, m=why: m)
            label = kind or (why if isinstance(why, str) else "格式有误")
            self.checks.append(_Check(col, rows.astype(np.int64), fn, label, True))

    def cell(self, i: int, col: str | None, why: str) -> None:
        self.cells(col, np.array([i], dtype=np.int64), why)

    def table(self, col: str | None, value: str | None, why: str) -> None:
        """A problem of the table as a whole (a missing row), listed after the row problems."""
        where, row, column = self.t.loc(None, col)
        self.table_level.append(Problem(where, row, column, value, why))

    def count(self) -> int:
        return sum(c.rows.size for c in self.checks) + len(self.table_level)

    def emit(self, problems: list[Problem], cap: int = CAP) -> int:
        """Append the first `cap` problems (row order) and a count of the rest; return how many
        problems were not listed one by one."""
        if not self.checks and not self.table_level:
            return 0
        pos = self.t.positions
        order = np.concatenate([c.rows for c in self.checks]) if self.checks else np.zeros(0, np.int64)
        which = np.concatenate([np.full(c.rows.size, k) for k, c in enumerate(self.checks)]) if self.checks else order
        colpos = np.array([pos.get(c.col or "", -1) for c in self.checks])[which] if self.checks else order
        ranked = np.lexsort((colpos, order))
        listed = ranked[:cap]
        for r in listed:
            check = self.checks[int(which[r])]
            i = int(order[r])
            where, row, column = self.t.loc(i, check.col)
            value = self.t.value(i, check.col) if check.col and check.value else None
            problems.append(Problem(where, row, column, value, check.why(i)))
        room = max(0, cap - len(listed))
        problems.extend(self.table_level[:room])
        rest: Counter[tuple[str | None, str]] = Counter()
        shown = np.bincount(which[listed], minlength=len(self.checks)) if self.checks else np.zeros(0, np.int64)
        for check, k in zip(self.checks, shown, strict=True):
            if check.rows.size > k:
                rest[(check.col, check.kind)] += int(check.rows.size - k)
        for p in self.table_level[room:]:
            rest[(p.column, p.message)] += 1
        omitted = sum(rest.values())
        if omitted:
            kinds = "；".join(
                f"{self.t.headers.get(col, col) + '：' if col else ''}{kind} {n:,} 处"
                for (col, kind), n in rest.items()
            )
            msg = f"另有 {omitted:,} 处问题未逐一列出（{kinds}）"
            problems.append(Problem(self.t.label, None, None, None, msg, stands_for=omitted))
        return omitted
