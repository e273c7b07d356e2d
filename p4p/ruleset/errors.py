"""Problems of a ruleset: file, line, key, what is wrong in Chinese, and the nearest valid key."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class RuleProblem:
    file: str
    line: int | None
    key: str | None
    message: str
    suggestion: str | None = None

    def text(self) -> str:
        where = self.file + (f" 第{self.line}行" if self.line else "")
        key = f" {self.key}" if self.key else ""
        hint = f"（是不是 {self.suggestion}？）" if self.suggestion else ""
        return f"{where}{key}：{self.message}{hint}"


class RulesetError(Exception):
    """The ruleset is not valid; `problems` lists every problem found."""

    def __init__(self, problems: list[RuleProblem]):
        self.problems = sorted(problems, key=lambda p: (p.file, p.line or 0, p.key or "", p.message))
        super().__init__("\n".join(p.text() for p in self.problems))


def nearest(word: str, candidates: Iterable[str]) -> str | None:
    """The closest valid name to a misspelt one, if any is close enough."""
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=1, cutoff=0.6)
    return found[0] if found else None
