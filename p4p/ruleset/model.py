"""A loaded ruleset: what the engine runs. Formulas are compiled, texts are templates, numbers
are exact; `resolve(day)` gives the parameter values and tables in force on a period's first day."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..lang.formula import Formula
from ..lang.template import Template
from .errors import RuleProblem, RulesetError

LEVELS = ("county", "township", "village")
ParamValue = Fraction | dict[str, Fraction]
When = dict[str, Any]  # a condition: field → accepted values (or, for score, operator → number)


@dataclass(frozen=True)
class Cite:
    source: str
    clause: str
    title: str  # the policy document's title
    short: str  # its short name for statements
    quote: str  # the clause's words, quoted from the document

    def text(self) -> str:
        return f"《{self.short}》{self.clause}"

    def as_dict(self) -> dict[str, str]:
        return {"source": self.source, "clause": self.clause, "title": self.title, "short": self.short,
                "quote": self.quote, "text": self.text()}  # fmt: skip


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    role: str  # transfer | ceiling | alliance
    payer: str | None = None
    payer_name: str | None = None
    fund: str | None = None
    payee: str | None = None  # institution | director


Bounds = tuple[Fraction | None, Fraction | None]  # a declared (min, max); None: not declared


@dataclass(frozen=True)
class Parameter:
    name: str
    title: str
    cite: tuple[Cite, ...]
    values: tuple[tuple[dt.date, ParamValue], ...]  # sorted by date
    entry_names: tuple[tuple[dt.date, dict[str, str]], ...] = ()  # names of mapping entries, if given
    bounds: Bounds = (None, None)  # declared min/max, checked when loaded

    @property
    def is_mapping(self) -> bool:
        return isinstance(self.values[0][1], dict)


Edge = Fraction | str | None  # a number, a parameter name, or unbounded


@dataclass(frozen=True)
class TableRow:
    value: Formula
    when: When
    band: tuple[Edge, Edge] | None
    label: Template | None


@dataclass(frozen=True)
class TableVersion:
    start: dt.date
    hit_policy: str
    rows: tuple[TableRow, ...]


@dataclass(frozen=True)
class Table:
    id: str
    title: str
    cite: tuple[Cite, ...]
    versions: tuple[TableVersion, ...]  # sorted by date
    bounds: Bounds = (None, None)  # declared min/max of every value a row gives, checked when loaded


@dataclass(frozen=True)
class Statement:
    cases: tuple[tuple[Formula | None, Template], ...]
    rows: tuple[tuple[str, str, str], ...] = ()  # (label, name, format)
    breakdown: tuple[str, str, str] | None = None  # (counts name, weights name, title)

    def names(self) -> set[str]:
        out = {n for _, t in self.cases for n in t.names}
        out |= {n for f, _ in self.cases if f is not None for n in f.names}
        out |= {name for _, name, _ in self.rows}
        if self.breakdown:
            out |= {self.breakdown[0], self.breakdown[1]}
        return out


@dataclass(frozen=True)
class Undistributed:
    item: str
    release_parked: bool
    explain: Template
    statement: Statement


@dataclass(frozen=True)
class Rule:
    id: str
    item: str
    title: Template
    cite: tuple[Cite, ...]
    kind: str
    when: When
    explain: Template
    statement: Statement
    let: dict[str, Formula] = field(default_factory=dict)
    only_if: Formula | None = None
    period_let: dict[str, Formula] = field(default_factory=dict)
    amount: Formula | None = None
    quantity: Formula | None = None
    total: Formula | None = None
    weight: Formula | None = None
    weights: dict[str, Formula] = field(default_factory=dict)
    weight_labels: dict[str, str] = field(default_factory=dict)
    level_ratio: str | None = None
    history_item: str | None = None
    undistributed: Undistributed | None = None
    report: dict[str, tuple[str, Formula]] = field(default_factory=dict)
    item_names: dict[str, str] = field(default_factory=dict)  # format 1: ledger item names set per rule

    def unit_formulas(self) -> dict[str, Formula]:
        out = {f"let.{k}": f for k, f in self.let.items()}
        for key in ("amount", "quantity", "weight"):
            f = getattr(self, key)
            if f is not None:
                out[key] = f
        out.update({f"weights.{k}": f for k, f in self.weights.items()})
        return out

    def period_formulas(self) -> dict[str, Formula]:
        out = {f"period_let.{k}": f for k, f in self.period_let.items()}
        for key in ("only_if", "total"):
            f = getattr(self, key)
            if f is not None:
                out[key] = f
        return out

    def quarters(self) -> set[int] | None:
        q = self.when.get("quarter")
        if q is None:
            return None
        return {int(x) for x in (q if isinstance(q, list) else [q])}


@dataclass(frozen=True)
class Check:
    id: str
    title: str
    cite: tuple[Cite, ...]
    when: When
    let: dict[str, Formula]
    condition: Formula
    message: Template


@dataclass
class Ruleset:
    id: str
    title: str
    format: int
    path: Path
    sha256: str
    files: dict[str, bytes]  # file name → bytes as read (copied into every run folder)
    in_force_from: dt.date
    workpoint_items: str
    items: dict[str, Item]
    parameters: dict[str, Parameter]
    tables: dict[str, Table]
    rules: list[Rule]
    checks: list[Check]

    def resolve(self, day: dt.date) -> Resolved:
        """The parameter values and table versions in force on `day` (a period's first day).
        Raises LookupError naming what has no value yet (a period before the ruleset's start)."""
        params: dict[str, ParamValue] = {}
        entry_names: dict[str, dict[str, str]] = {}
        missing = []
        for name, p in self.parameters.items():
            vals = [v for start, v in p.values if start <= day]
            if not vals:
                missing.append(f"参数 {name}")
                continue
            params[name] = vals[-1]
            names = [n for start, n in p.entry_names if start <= day]
            if names:
                entry_names[name] = names[-1]
        tables = {}
        for tid, t in self.tables.items():
            versions = [v for v in t.versions if v.start <= day]
            if not versions:
                missing.append(f"决策表 {tid}")
                continue
            tables[tid] = versions[-1]
        if missing:
            raise NotInForce(self, day, missing)
        return Resolved(self, day, params, entry_names, tables)

    def service_items(self, day: dt.date) -> dict[str, str]:
        """The work-point service codes in force on `day`, with their Chinese names."""
        r = self.resolve(day)
        value = r.params.get(self.workpoint_items)
        names = r.entry_names.get(self.workpoint_items, {})
        return {k: names.get(k, k) for k in value} if isinstance(value, dict) else {}


class NotInForce(RulesetError, LookupError):
    """A period whose first day has no value of some parameter or table (a period before the
    ruleset's start): the ruleset cannot compute it. A RulesetError, so `run` refuses it with
    exit 2 and the reason; a LookupError for the callers that skip such a day."""

    def __init__(self, rs: Ruleset, day: dt.date, missing: list[str]):
        if day < rs.in_force_from:
            msg = (f"规则集 {rs.id} 自 {rs.in_force_from} 起生效，不适用于 {day} 开始的季度"
                   f"（没有生效取值的有：{'、'.join(missing)}）")  # fmt: skip
            problems = [RuleProblem("ruleset.yaml", None, "in_force_from", msg)]
        else:
            problems = [RuleProblem("parameters.yaml" if m.startswith("参数") else "tables.yaml", None, m.split(" ")[-1],
                                    f"在 {day}（该季度第一天）没有生效的取值") for m in missing]  # fmt: skip
        super().__init__(problems)


@dataclass(frozen=True)
class Resolved:
    ruleset: Ruleset
    day: dt.date
    params: dict[str, ParamValue]
    entry_names: dict[str, dict[str, str]]
    tables: dict[str, TableVersion]

    def edge(self, e: Edge) -> Fraction | None:
        if e is None or isinstance(e, Fraction):
            return e
        value = self.params[e]
        assert isinstance(value, Fraction)
        return value

    def texts(self) -> dict[str, str]:
        """Parameter values as exact text, for titles and labels that name them."""
        from ..lang.exact import fraction_text

        return {k: fraction_text(v) for k, v in self.params.items() if isinstance(v, Fraction)}
