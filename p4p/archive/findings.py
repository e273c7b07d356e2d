"""A finding of verification: where (a path inside the archive) and what is wrong, in Chinese."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Finding:
    path: str  # relative to the archive, "/"-separated; "." for the archive itself
    text: str

    def __str__(self) -> str:
        return f"{self.path}：{self.text}"
