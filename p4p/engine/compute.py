"""Computing one alliance-quarter: a pure function of (quarter facts, ruleset, history).

durable-rules decides which rules and checks apply to which classes of institution and which
decision-table row each assessment result falls in (matcher.py); each rule then runs over the
column of its institutions at once (kinds.py), exactly, and every ledger line is born with the
values of its derivation (its trace).
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

import numpy as np

from ..lang.exact import Vec, texts
from ..lang.formula import FormulaError, Value
from ..model.facts import Quarter
from ..model.fields import LEVEL_OF_KIND, PERIOD_FIELD_TYPES, PERIOD_SCORE_PREFIX, SCALE
from ..ruleset.model import Formula, Resolved, Rule, Ruleset, Template
from .matcher import Class, Matcher, Matches, score10
from .result import Block, ComputeError, HistoryLine, Result, UnitInfo
from .scope import Scope
from .units import Units, units_of

if TYPE_CHECKING:
    from .checks import PriorQuarter


class Engine:
    def __init__(self, ruleset: Ruleset):
        self.ruleset = ruleset

    def compute(self, q: Quarter, history: list[HistoryLine] | None = None,
                prior: PriorQuarter | None = None) -> Result:  # fmt: skip
        """`history`: the approved earlier quarters' ledger lines (a Q4 settles against them);
        `prior`: the previous approved quarter, for plausibility checks (prior_* names)."""
        try:
            resolved = self.ruleset.resolve(q.period.first_day)
        except LookupError as e:
            raise ComputeError(str(e)) from None
        run = Run(q, resolved, history or [])
        from .checks import run_checks
        from .kinds import KINDS

        for rule in self.ruleset.rules:
            if not run.in_period(rule):
                continue
            if rule.only_if is not None and not run.period_truth(rule, rule.only_if):
                continue
            KINDS[rule.kind](run, rule, run.rows_of(rule))
        run.note_vetoes()
        run_checks(run, prior)
        return run.result()


class Run:
    """The state of one computation: columns every formula may read, and the blocks so far."""

    def __init__(self, q: Quarter, resolved: Resolved, history: list[HistoryLine]):
        self.q, self.resolved, self.rs, self.history = q, resolved, resolved.ruleset, history
        self.units: Units = units_of(q, sorted(self.rs.service_items(q.period.first_day)))
        self.n = len(self.units)
        self.blocks: list[Block] = []
        self.checks: list[dict] = []
        self.reports: list[dict] = []
        self.warnings: list[dict] = []
        self.extra_units: dict[str, UnitInfo] = {}
        self.columns: dict[str, Value] = {}
        self.param_texts = resolved.texts()
        self._texts: dict[str, list[str] | dict[str, list[str]]] = {}
        self._period_columns()
        self._classes()
        self._unit_columns()

    # -- the columns ----------------------------------------------------------------------------
    def _period_columns(self) -> None:
        c = self.columns
        for name, v in self.resolved.params.items():
            c[name] = {k: Vec.scalar(x) for k, x in v.items()} if isinstance(v, dict) else Vec.scalar(v)
        p = self.q.period
        c["quarter"] = Vec.scalar(p.quarter)
        for name in PERIOD_FIELD_TYPES:
            value = getattr(p, name, None)
            if value is not None:
                c[name] = Vec.scalar(Fraction(value))
        self.period_texts: dict[str, str] = {}

    def _classes(self) -> None:
        u = self.units
        quarter = self.q.period.quarter
        # the score is part of a class only if some rule or check tests it in `when`
        scored = any("score" in r.when for r in self.rs.rules) or any("score" in c.when for c in self.rs.checks)
        scores = u.score10.tolist() if scored else [0] * self.n
        keys = list(zip(u.kind.tolist(), u.guarantee.tolist(), u.veto.tolist(), scores, strict=True))
        self.classes: list[Class] = sorted({(k, quarter, g, v, s) for k, g, v, s in keys})
        where = {c: i for i, c in enumerate(self.classes)}
        self.class_of = np.array([where[(k, quarter, g, v, s)] for k, g, v, s in keys], dtype=np.int64)
        results = set(zip(u.score10.tolist(), u.veto.tolist(), strict=True))
        self.assessments = sorted(results | set(self._period_scores().values()))
        index = {a: i for i, a in enumerate(self.assessments)}
        pairs = zip(u.score10.tolist(), u.veto.tolist(), strict=True)
        self.assess_of = np.array([index[a] for a in pairs], dtype=np.int64)
        self.matches: Matches = Matcher(self.resolved).match(self.classes, self.assessments)

    def _period_scores(self) -> dict[str, tuple[int, int]]:
        out = {}
        for field in PERIOD_SCORE_PREFIX:
            value = getattr(self.q.period, field, None)
            if value is not None:
                out[field] = (score10(Fraction(value)), 0)
        return out

    def _unit_columns(self) -> None:
        c, u = self.columns, self.units
        c.update(u.num)
        c["workpoints"] = dict(u.workpoints)
        self.unit_names = {*u.num, "workpoints", *self.resolved.tables, *self.rs.items}
        self.labels: dict[str, list[str]] = {}
        for tid in self.resolved.tables:
            values, labels = self._table(tid, self.assessments)
            pos = {a: i for i, a in enumerate(self.assessments)}
            at = self.assess_of
            c[tid] = _gather(values, at) if self.n else Vec.of([])
            self.labels[f"{tid}_label"] = [labels[i] for i in at.tolist()]
            for field, prefix in PERIOD_SCORE_PREFIX.items():
                score = self._period_scores().get(field)
                if score is not None:
                    i = pos[score]
                    c[f"{prefix}_{tid}"] = values.take(np.array([i]))
                    self.period_texts[f"{prefix}_{tid}_label"] = labels[i]
        for item in self.rs.items:
            c[item] = Vec.of(np.zeros(self.n, dtype=np.int64), 100)

    def _table(self, tid: str, assessments: list[tuple[int, int]]) -> tuple[Vec, list[str]]:
        """Each assessment result's value and label in one decision table."""
        version = self.resolved.tables[tid]
        chosen = []
        for a in assessments:
            rows = self.matches.table_rows(tid, a)
            if not rows:
                raise ComputeError(f"决策表 {tid} 对考核得分 {Fraction(a[0], 10)}、一票否决 {a[1]} 没有匹配的行")
            if version.hit_policy == "unique" and len(rows) > 1:
                raise ComputeError(f"决策表 {tid} 对考核得分 {Fraction(a[0], 10)} 匹配了多行（hit_policy: unique）")
            chosen.append(rows[0])
        nums: list[int] = [0] * len(assessments)
        dens: list[int] = [1] * len(assessments)
        for row_i in set(chosen):
            at = [i for i, r in enumerate(chosen) if r == row_i]
            env = dict(self.columns)
            env["score"] = Vec.of([assessments[i][0] for i in at], SCALE["score"])
            env["veto"] = Vec.of([assessments[i][1] for i in at])
            try:
                v = version.rows[row_i].value.number(env)
            except FormulaError as e:
                raise ComputeError(f"决策表 {tid} 第{row_i + 1}行：{e}") from None
            for j, i in enumerate(at):
                f = v.fraction(j if len(v) > 1 else 0)
                nums[i], dens[i] = f.numerator, f.denominator
        labels = [self._label(version.rows[r].label) for r in chosen]
        return Vec.of_fractions([Fraction(n, d) for n, d in zip(nums, dens, strict=True)]), labels

    def _label(self, t: Template | None) -> str:
        return t.render(self.param_texts) if t is not None else ""

    # -- which rows -----------------------------------------------------------------------------
    def in_period(self, rule: Rule) -> bool:
        quarters = rule.quarters()
        return quarters is None or self.q.period.quarter in quarters

    def rows_of(self, rule: Rule) -> np.ndarray:
        applies = np.array([self.matches.rule_applies(rule.id, c) for c in self.classes], dtype=bool)
        return np.flatnonzero(applies[self.class_of]) if self.n else np.zeros(0, dtype=np.int64)

    def check_rows(self, check_id: str) -> np.ndarray:
        applies = np.array([self.matches.check_applies(check_id, c) for c in self.classes], dtype=bool)
        return np.flatnonzero(applies[self.class_of]) if self.n else np.zeros(0, dtype=np.int64)

    def period_scope(self) -> Scope:
        return Scope(self.columns, None, 1)

    def unit_scope(self, idx: np.ndarray, period: Scope | None = None) -> Scope:
        s = Scope(self.columns, idx, len(idx))
        if period is not None:
            s.own.update(period.own)
        return s

    def column_texts(self, name: str) -> list[str] | dict[str, list[str]] | None:
        """The exact text of every row of an input column (made once per run; rule blocks take
        their rows of it). None for anything else (lets, period values)."""
        hit = self._texts.get(name)
        if hit is not None:
            return hit
        v = self.columns.get(name)
        if name not in self.unit_names or name in self.rs.items:
            return None  # item columns change as rules run
        if isinstance(v, Vec) and len(v) == self.n:
            hit = texts(v, ratios=True)
        elif isinstance(v, dict) and all(len(x) == self.n for x in v.values()):
            hit = {k: texts(x, ratios=True) for k, x in v.items()}
        else:
            return None
        self._texts[name] = hit
        return hit

    def zero_scope(self, n: int, period: Scope) -> Scope:
        """n institutions with nothing this quarter (settled from their earlier quarters only)."""
        cols: dict[str, Value] = {}
        for name, v in self.columns.items():
            if name == "workpoints" and isinstance(v, dict):
                cols[name] = {k: Vec.of([0] * n) for k in v}
            elif name in self.unit_names:
                cols[name] = Vec.of([0] * n)
            else:
                cols[name] = v
        s = Scope(cols, None, n)
        s.own.update(period.own)
        return s

    def period_truth(self, rule: Rule, f: Formula) -> bool:
        try:
            m = f.truth(self.period_scope())
        except FormulaError as e:
            raise ComputeError(f"规则 {rule.id} only_if：{e}") from None
        if m.bad is not None and m.bad.any():
            raise ComputeError(f"规则 {rule.id} only_if：除以零（{self.period_values_text()}）")
        return bool(m.v[0])

    def period_values_text(self) -> str:
        p = self.q.period
        vals = [f"{k} {getattr(p, k)}" for k in PERIOD_FIELD_TYPES if getattr(p, k, None) is not None]
        return f"{p.period}：" + "，".join(vals)

    @property
    def lead(self) -> int:
        return int(np.flatnonzero(self.units.kind == "lead_hospital")[0])

    def level_of(self, idx: np.ndarray) -> list[str]:
        return [LEVEL_OF_KIND[k] for k in self.units.kind[idx].tolist()]

    # -- output -----------------------------------------------------------------------------------
    def add_block(self, block: Block) -> None:
        if block.part == "main" and block.inst_ids:
            col = self.columns[block.item]
            assert isinstance(col, Vec)
            num = col.num.copy()
            for iid, fen in zip(block.inst_ids, block.amounts, strict=True):
                i = self.units.index.get(iid)
                if i is not None:
                    num[i] = fen
            self.columns[block.item] = Vec(num, 100)
        self.blocks.append(block)

    def note_vetoes(self) -> None:
        u = self.units
        for i in np.flatnonzero(u.veto == 1).tolist():
            reason = u.text["veto_reason"][i] or "未填写事由"
            self.warnings.append({"kind": "veto", "inst_id": u.ids[i], "inst_name": u.text["name"][i],
                                  "message": f"一票否决：{reason}"})  # fmt: skip

    def result(self) -> Result:
        units = self._unit_infos()
        order = sorted(
            ((b.inst_ids[i], b.item, bi, i) for bi, b in enumerate(self.blocks) for i in range(len(b.inst_ids)))
        )
        rs = self.rs
        titles = {b.key: b.rule.title.render(self.param_texts) for b in self.blocks}
        return Result(self.q.period.period, self.q.period.alliance, self.blocks, units, self.param_texts,
                      dict(self.resolved.entry_names), {k: v.name for k, v in rs.items.items()}, self.checks,
                      self.reports, self.warnings, titles, [(bi, i) for _, _, bi, i in order])  # fmt: skip

    def _unit_infos(self) -> dict[str, UnitInfo]:
        t = self.units.text
        out = {iid: UnitInfo(iid, t["name"][i], t["kind"][i], t["parent_id"][i], t["director"][i], t["veto_reason"][i])
               for i, iid in enumerate(self.units.ids)}  # fmt: skip
        out.update(self.extra_units)
        return out


def history_totals(history: list[HistoryLine], item: str) -> tuple[dict, dict, dict]:
    """Per institution: the quantities and amounts of `item` in the approved earlier quarters,
    and its name and kind as they were then."""
    weight: dict[str, Fraction] = defaultdict(Fraction)
    paid: dict[str, Decimal] = defaultdict(Decimal)
    who: dict[str, tuple[str, str]] = {}
    for h in history:
        if h.item == item:
            weight[h.inst_id] += h.quantity
            paid[h.inst_id] += h.amount
            who[h.inst_id] = (h.inst_name, h.kind)
    return weight, paid, who


def _gather(v: Vec, at: np.ndarray) -> Vec:
    """Rows `at` of a column, always at full length (unlike `take`, which lets a column of one
    row stand for every row)."""
    den = v.den if isinstance(v.den, int) else v.den[at]
    return Vec(v.num[at], den)
