"""Plausibility checks declared by the ruleset (checks.yaml): conditions over the same names as
formulas, evaluated like them, never changing an amount. A check that reads the previous
approved quarter (`prior_*` names) looks only at institutions that were in it, and is skipped,
with a note, when there is no such quarter."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np

from ..lang.exact import Vec, texts
from ..lang.formula import FormulaError, Value
from ..model.facts import Quarter
from ..ruleset.model import Check
from .compute import Run
from .result import HistoryLine
from .scope import Scope
from .units import units_of

PRIOR = "prior_"


@dataclass
class PriorQuarter:
    """The previous approved quarter: its facts and its ledger."""

    period: str
    quarter: Quarter
    ledger: list[HistoryLine]


def run_checks(run: Run, prior: PriorQuarter | None) -> None:
    cols, present = _prior_columns(run, prior) if prior is not None else ({}, None)
    for check in run.rs.checks:
        names = _names(check)
        uses_prior = any(n.startswith(PRIOR) for n in names)
        idx = run.check_rows(check.id)
        if uses_prior:
            if prior is None:
                run.warnings.append({"kind": "note", "check_id": check.id, "title": check.title,
                                     "message": f"提示“{check.title}”未检查：没有上一个已审批的季度"})  # fmt: skip
                continue
            assert present is not None
            idx = idx[present[idx]]
        if len(idx):
            _run_one(run, check, idx, cols)


def _names(check: Check) -> set[str]:
    out = set(check.condition.names) | check.message.names
    for f in check.let.values():
        out |= f.names
    return out


def _run_one(run: Run, check: Check, idx: np.ndarray, prior: dict[str, Value]) -> None:
    scope = Scope({**run.columns, **prior}, idx, len(idx))
    try:
        for name, f in check.let.items():
            scope.own[name] = f.number(scope)
        m = check.condition.truth(scope)
    except FormulaError as e:
        run.warnings.append({"kind": "note", "check_id": check.id, "title": check.title,
                             "message": f"提示“{check.title}”无法计算：{e}"})  # fmt: skip
        return
    hold = np.broadcast_to(m.v, (len(idx),)).copy()
    if m.bad is not None:
        hold &= ~np.broadcast_to(m.bad, (len(idx),))
    for row in np.flatnonzero(hold).tolist():
        i = int(idx[row])
        values = {n: _text(scope, n, row) for n in check.message.names if n in scope}
        values.update({k: run.units.text[k][i] for k in check.message.names if k in run.units.text})
        run.warnings.append({
            "kind": "check", "check_id": check.id, "title": check.title, "inst_id": run.units.ids[i],
            "inst_name": run.units.text["name"][i], "message": check.message.render(values),
            "cite": [c.as_dict() for c in check.cite],
        })  # fmt: skip


def _text(scope: Scope, name: str, row: int) -> str:
    v = scope[name]
    if isinstance(v, Vec):
        t = texts(v.take(np.array([row])) if len(v) > 1 else v)
        return t[0]
    return ""


def _prior_columns(run: Run, prior: PriorQuarter) -> tuple[dict[str, Value], np.ndarray]:
    """prior_<field>, prior_workpoints and prior_<ITEM> aligned with this quarter's rows, and
    which rows were in the prior quarter at all."""
    then = units_of(prior.quarter, sorted(run.units.workpoints))
    at = np.array([then.index.get(i, -1) for i in run.units.ids], dtype=np.int64)
    present = at >= 0
    safe = np.where(present, at, 0)
    cols: dict[str, Value] = {}
    for name, v in then.num.items():
        cols[PRIOR + name] = v.take(safe) if len(then) else Vec.of([0] * len(at))
    cols[PRIOR + "workpoints"] = {k: v.take(safe) for k, v in then.workpoints.items()}
    amounts: dict[str, dict[str, Fraction]] = {}
    for h in prior.ledger:
        amounts.setdefault(h.item, {})[h.inst_id] = Fraction(h.amount)
    for item in run.rs.items:
        by_id = amounts.get(item, {})
        cols[PRIOR + item] = Vec.of_fractions([by_id.get(i, Fraction(0)) for i in run.units.ids])
    return cols, present
