"""The values a ledger line keeps for its derivation (its trace), and the statement case that
applies to it — collected once per block of lines, as columns."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..lang.exact import Mask, Vec, texts
from ..lang.formula import Formula, FormulaError, Value
from ..ruleset.model import Rule, Statement, Undistributed
from .result import Block, ComputeError
from .scope import Scope

Kind = Mapping[str, Value | list[str] | str]


def trace_names(rule: Rule, part: str) -> list[str]:
    """Every name the rule's formulas, explain text and statement read, in a fixed order."""
    if part == "main":
        fs: list[Formula | None] = [rule.amount, rule.quantity, rule.weight, *rule.weights.values()]
        fs += [*rule.let.values(), *rule.period_let.values(), rule.total]
        names = {n for f in fs if f is not None for n in f.names}
        names |= set(rule.let) | set(rule.period_let)
        names |= rule.explain.names | rule.statement.names()
    else:
        u = rule.undistributed
        assert u is not None
        names = set(u.explain.names) | u.statement.names()
    return sorted(names - {"amount", "quantity"})


ColumnTexts = Callable[[str], list[str] | dict[str, list[str]] | None]


@dataclass
class Collected:
    """A block's trace values: per line (lists), shared by every line, which per-line names are
    numbers (no JSON escaping needed), and the keys of per-line mappings (their values are
    lists in key order)."""

    per_line: dict[str, list] = field(default_factory=dict)
    shared: dict[str, Any] = field(default_factory=dict)
    numeric: set[str] = field(default_factory=set)
    mappings: dict[str, list[str]] = field(default_factory=dict)


def collect(
    rule: Rule,
    part: str,
    ids: list[str],
    scope: Scope,
    kind: Kind,
    text: Mapping[str, list[str] | str],
    column_texts: ColumnTexts | None = None,
) -> Collected:
    """The values each line keeps for its trace. An input column's text is made once per run
    (`column_texts`) and taken at the block's rows."""
    out = Collected()
    n = len(ids)
    for name in trace_names(rule, part):
        if name in kind:
            _store(out, name, kind[name], n)
        elif name in text:
            _store(out, name, text[name], n)
        elif name in scope:
            cached = column_texts(name) if column_texts and name not in scope.own and scope.idx is not None else None
            if cached is not None:
                _store_cached(out, name, cached, scope.idx)
            else:
                _store(out, name, scope[name], n)
    return out


def _store_cached(out: Collected, name: str, cached: list[str] | dict[str, list[str]], idx: np.ndarray | None) -> None:
    rows = idx.tolist() if idx is not None else []
    if isinstance(cached, dict):
        keys = sorted(cached)
        cols = [cached[k] for k in keys]
        out.per_line[name] = [[c[i] for c in cols] for i in rows]
        out.mappings[name] = keys
        out.numeric.add(name)
    else:
        out.per_line[name] = [cached[i] for i in rows]
        out.numeric.add(name)


def _store(out: Collected, name: str, v: object, n: int) -> None:
    if isinstance(v, str):
        out.shared[name] = v
    elif isinstance(v, list):
        out.per_line[name] = v
    elif isinstance(v, Vec):
        t = texts(v, ratios=True)
        if len(t) == 1 and n != 1:
            out.shared[name] = t[0]
        else:
            out.per_line[name] = t
            out.numeric.add(name)
    elif isinstance(v, dict):
        keys = sorted(v)
        cols = [texts(v[k], ratios=True) for k in keys]
        if all(len(c) == 1 for c in cols) and n != 1:
            out.shared[name] = {k: c[0] for k, c in zip(keys, cols, strict=True)}
        else:
            wide = [c if len(c) == n else c * n for c in cols]
            out.per_line[name] = [list(row) for row in zip(*wide, strict=True)] if wide else [[] for _ in range(n)]
            out.mappings[name] = keys
            out.numeric.add(name)


def cases(statement: Statement, scope: Mapping[str, Value], n: int, where: str) -> list[int]:
    """Which statement case applies to each line: the first whose `when` holds."""
    chosen = np.full(n, len(statement.cases) - 1, dtype=np.int64)
    open_ = np.ones(n, dtype=bool)
    for i, (cond, _) in enumerate(statement.cases[:-1]):
        assert cond is not None
        try:
            m: Mask = cond.truth(scope)
        except FormulaError as e:
            raise ComputeError(f"{where} 结算单说明的条件：{e}") from None
        hold = np.broadcast_to(m.v, (n,)) & open_
        if m.bad is not None:
            bad = np.broadcast_to(m.bad, (n,)) & open_
            if bad.any():
                raise ComputeError(f"{where} 结算单说明的条件 {cond.text} 除以零")
        chosen[hold] = i
        open_ &= ~hold
    return chosen.tolist()


def block(rule: Rule, part: str, item_name: str, ids: list[str], amounts: list[int],
          quantities: list[str], case_of: list[int], values: Collected) -> Block:  # fmt: skip
    statement = rule.statement if part == "main" else _und(rule).statement
    item = rule.item if part == "main" else _und(rule).item
    return Block(rule, part, item, item_name, ids, amounts, quantities, case_of, sorted(values.per_line),
                 values.per_line, values.shared, statement, frozenset(values.numeric), dict(values.mappings))  # fmt: skip


def _und(rule: Rule) -> Undistributed:
    assert rule.undistributed is not None
    return rule.undistributed
