"""The values a ledger line keeps for its derivation (its trace), and the statement case that
applies to it — collected once per block of lines, as columns."""

from __future__ import annotations

from collections.abc import Mapping

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


def collect(
    rule: Rule,
    part: str,
    ids: list[str],
    scope: Scope,
    kind: Kind,
    text: Mapping[str, list[str] | str],
) -> tuple[dict, dict]:
    """Values per line (lists) and values shared by every line (constants), for the trace."""
    n = len(ids)
    per_line: dict[str, list] = {}
    shared: dict[str, str | dict[str, str]] = {}
    for name in trace_names(rule, part):
        if name in kind:
            v = kind[name]
        elif name in text:
            v = text[name]
        elif name in scope:
            v = scope[name]
        else:
            continue
        _store(name, v, n, per_line, shared)
    return per_line, shared


def _store(name: str, v: object, n: int, per_line: dict, shared: dict) -> None:
    if isinstance(v, str):
        shared[name] = v
    elif isinstance(v, list):
        per_line[name] = v
    elif isinstance(v, Vec):
        t = texts(v, ratios=True)
        if len(t) == 1 and n != 1:
            shared[name] = t[0]
        else:
            per_line[name] = t
    elif isinstance(v, dict):
        cols = {k: texts(x, ratios=True) for k, x in sorted(v.items())}
        if all(len(c) == 1 for c in cols.values()) and n != 1:
            shared[name] = {k: c[0] for k, c in cols.items()}
        else:
            per_line[name] = [{k: c[i if len(c) > 1 else 0] for k, c in cols.items() if c[i if len(c) > 1 else 0] != "0"}
                              for i in range(n)]  # fmt: skip


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
          quantities: list[str], case_of: list[int], values: tuple[dict, dict]) -> Block:  # fmt: skip
    statement = rule.statement if part == "main" else _und(rule).statement
    item = rule.item if part == "main" else _und(rule).item
    per_line, shared = values
    numeric = frozenset(n for n, col in per_line.items() if col and isinstance(col[0], str) and _numeric(col))
    return Block(rule, part, item, item_name, ids, amounts, quantities, case_of, sorted(per_line), per_line,
                 shared, statement, numeric)  # fmt: skip


_NUMBER_CHARS = frozenset("0123456789.-/")


def _numeric(col: list) -> bool:
    """Exact number texts (digits, point, sign, fraction bar) need no escaping in JSON."""
    return all(_NUMBER_CHARS.issuperset(v) for v in col)


def _und(rule: Rule) -> Undistributed:
    assert rule.undistributed is not None
    return rule.undistributed
