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

    def text(self) -> str:
        parts = [self.where]
        if self.row is not None:
            parts.append(f"第{self.row}行")
        if self.column:
            parts.append(f"列“{self.column}”")
        head = " ".join(parts)
        val = "" if self.value is None else f"（值：“{clip(self.value)}”）"
        return f"{head}{val}：{self.message}"


class InputError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(p.text() for p in problems))


def clip(s: str, n: int = 60) -> str:
    s = str(s).replace("\n", " ")
    return s if len(s) <= n else s[:n] + "…"
