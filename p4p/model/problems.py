"""A problem found in an input or a ruleset: where (file, sheet!cell), row, column, value, and
what is wrong, in Chinese. Everything that reads user files reports through these."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    where: str  # file (and sheet/cell) as the user sees it
    row: int | None  # spreadsheet row, header = 1
    column: str | None
    value: str | None
    message: str
    key: str | None = None  # a key of period.yaml or of a workbook's period sheet
    stands_for: int = 1  # a line summing up problems not listed one by one stands for that many

    def text(self) -> str:
        parts = [self.where]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列“{self.column}”")
        if self.key:
            parts.append(f"键“{self.key}”")
        head = " ".join(parts)
        val = "" if self.value is None else f"（值：“{clip(self.value)}”）"
        return f"{head}{val}：{self.message}"


class InputError(Exception):
    """Every problem found in an input. Long lists are capped by the reader (the first ones
    listed, then one line per kind with how many more); `count` is the true number."""

    def __init__(self, problems: list[Problem], warnings: list[str] | None = None):
        self.problems = problems
        # what the reading noticed besides (a column, a sheet or a file ignored): often the
        # reason for a problem — 缺少列 inst_id next to the ignored column “机构编号”
        self.warnings = warnings or []
        self.count = sum(p.stands_for for p in problems)
        super().__init__("\n".join(p.text() for p in problems))


def clip(s: str, n: int = 60) -> str:
    """A value as a message shows it: at most n characters, invisible characters made visible
    (a line break, a zero-width or full-width space, a control character as \\uXXXX)."""
    s = str(s)
    s = s if len(s) <= n else s[:n] + "…"
    return "".join(c if c.isprintable() or c == " " else f"\\u{ord(c):04x}" for c in s)
