"""The names a formula sees, for a set of rows: period values (columns of length 1), unit
columns taken at the rule's rows on first use, and the rule's own lets."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

import numpy as np

from ..lang.exact import Vec
from ..lang.formula import Value


def take(v: Value, idx: np.ndarray | None) -> Value:
    if idx is None:
        return v
    if isinstance(v, dict):
        return {k: x.take(idx) for k, x in v.items()}
    return v.take(idx)


class Scope(Mapping[str, Value]):
    def __init__(self, columns: Mapping[str, Value], idx: np.ndarray | None, n: int):
        self.columns, self.idx, self.n = columns, idx, n
        self.own: dict[str, Value] = {}
        self._cache: dict[str, Value] = {}

    def __getitem__(self, name: str) -> Value:
        if name in self.own:
            return self.own[name]
        hit = self._cache.get(name)
        if hit is None:
            hit = self._cache[name] = take(self.columns[name], self.idx)
        return hit

    def __contains__(self, name: object) -> bool:
        return name in self.own or name in self.columns

    def __iter__(self) -> Iterator[str]:
        return iter({*self.columns, *self.own})

    def __len__(self) -> int:
        return len({*self.columns, *self.own})

    def child(self) -> Scope:
        """The same rows with the lets so far (a rule's unit scope over its period lets)."""
        out = Scope(self.columns, self.idx, self.n)
        out.own = dict(self.own)
        out._cache = self._cache
        return out


def full(v: Vec, n: int) -> Vec:
    """A period value spread over n rows (for values stored per line)."""
    if len(v) == n:
        return v
    return Vec(np.repeat(v.num, n), v.den if isinstance(v.den, int) else np.repeat(v.den, n))
