"""The schema of every ruleset file (format 2), as pydantic models.

Every key is declared here; an unknown key, a missing one, or a value of the wrong type is
reported by `load.py` with file, line and the nearest valid key. YAML scalars arrive as text
(model/yamldoc.py), so numbers and dates are checked from the text they were written as.
Formulas and `{name}` texts are compiled and resolved later (load.py, names.py): here they
are only non-empty text.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

NUMBER_RE = re.compile(r"^-?[0-9]{1,20}(\.[0-9]{1,20})?$")
DATE_RE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
MAX_TEXT = 4000


def number_form(v: str) -> str | None:
    """The slip that makes `v` a number to Python but not to a ruleset — spaces around it, or
    full-width or Arabic-Indic digits (Decimal and int take both) — or None (no such slip; `v`
    may still be no number at all). Rulesets are held to the inputs' strictness."""
    if NUMBER_RE.match(v):
        return None
    if v != v.strip():
        return f"数字前后不能有空格：“{v[:40]}”"
    if any(c.isdigit() and not c.isascii() for c in v):
        return f"数字应使用半角数字 0–9，不能用全角或其他文字的数字：“{v[:40]}”"
    return None


def number_problem(v: str, example: str = "0.80 或 48000.00") -> str | None:
    """Why `v` is not a number as a ruleset writes it (ASCII digits, an optional minus sign and
    point, nothing around it), or None."""
    if NUMBER_RE.match(v):
        return None
    return number_form(v) or f"应为数字（如 {example}），不是“{v[:40]}”"


def _number(v: str) -> str:
    why = number_problem(v)
    if why:
        raise ValueError(why)
    return v


def _date(v: str) -> str:
    try:
        if not DATE_RE.match(v):
            raise ValueError
        dt.date.fromisoformat(v)
    except ValueError:
        raise ValueError(f"应为日期 YYYY-MM-DD（半角数字，前后无空格），不是“{v[:40]}”") from None
    return v


def _text(v: str) -> str:
    if not v.strip():
        raise ValueError("不能为空")
    if len(v) > MAX_TEXT:
        raise ValueError(f"文字过长（超过 {MAX_TEXT} 个字符）")
    return v


def _name(v: str) -> str:
    if not NAME_RE.match(v):
        raise ValueError(f"名称只能由字母、数字和下划线组成，且不以数字开头：“{v[:40]}”")
    return v


def _ident(v: str) -> str:
    if not ID_RE.match(v):
        raise ValueError(f"编号只能由字母、数字、_ 和 - 组成：“{v[:40]}”")
    return v


Number = Annotated[str, AfterValidator(_number)]
Date = Annotated[str, AfterValidator(_date)]
Text = Annotated[str, AfterValidator(_text)]
Name = Annotated[str, AfterValidator(_name)]
Ident = Annotated[str, AfterValidator(_ident)]


def _formula(v: str) -> str:
    if not v.strip():
        raise ValueError("不能为空")
    return v  # its length, form and names are checked when it is compiled (lang/formula.py)


Formula = Annotated[str, AfterValidator(_formula)]
Flag = Literal["true", "false"]
Level = Literal["county", "township", "village"]


def _listed(v: object) -> object:
    """`kind: village` and `kind: [village, township]` mean the same; one form is checked."""
    return v if isinstance(v, list) or v is None else [v]


Listed = Annotated[list[str], BeforeValidator(_listed)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, populate_by_name=False, frozen=True)


# ---- ruleset.yaml ---------------------------------------------------------------------------


class Source(Strict):
    file: Text
    title: Text
    short: Text | None = None
    clauses: dict[str, Text] = Field(min_length=1)


class Meta(Strict):
    format: Literal["2"]
    id: Ident
    title: Text
    in_force_from: Date
    sources: dict[str, Source] = Field(min_length=1)
    workpoint_items: Name


class Cite(Strict):
    source: Text
    clause: Text


Cites = Annotated[list[Cite], BeforeValidator(_listed), Field(min_length=1)]


# ---- items.yaml -----------------------------------------------------------------------------


class Item(Strict):
    name: Text
    role: Literal["transfer", "ceiling", "alliance"]
    payer: Name | None = None
    fund: Text | None = None
    payee: Literal["institution", "director"] | None = None

    @model_validator(mode="after")
    def _payment(self) -> Item:
        given = [k for k in ("payer", "fund", "payee") if getattr(self, k) is not None]
        if self.role == "transfer" and len(given) < 3:
            missing = [k for k in ("payer", "fund", "payee") if getattr(self, k) is None]
            raise ValueError(f"role: transfer 需要 {', '.join(missing)}")
        if self.role != "transfer" and given:
            raise ValueError(f"role: {self.role} 的项目不转账，不应写 {', '.join(given)}")
        return self


class Items(Strict):
    payers: dict[Name, Text]
    items: dict[Name, Item] = Field(min_length=1)


# ---- parameters.yaml ------------------------------------------------------------------------


class Entry(Strict):
    value: Number
    name: Text


class ParamValue(Strict):
    """`value` is a number, or a mapping of keys to numbers or to {value, name} (checked in load.py)."""

    from_: Date = Field(alias="from")
    value: object


class Parameter(Strict):
    """`min`/`max` (optional): every value (every entry of a mapping) must lie within them, e.g.
    `min: 0` for a ratio or a weight; checked when the ruleset is loaded."""

    title: Text
    cite: Cites
    min: Number | None = None
    max: Number | None = None
    values: list[ParamValue] = Field(min_length=1)


# ---- tables.yaml ----------------------------------------------------------------------------


class Condition(Strict):
    kind: Listed | None = None
    quarter: Listed | None = None
    guarantee: Listed | None = None
    veto: Listed | None = None
    score: dict[Literal[">=", ">", "<=", "<", "!="], Number] | None = None

    def fields(self) -> dict[str, object]:
        return {k: v for k, v in self.model_dump().items() if v is not None}


class Row(Strict):
    when: Condition | None = None
    band: list[str | None] | None = Field(default=None, min_length=2, max_length=2)
    value: Formula
    label: Text | None = None


class TableVersion(Strict):
    from_: Date = Field(alias="from")
    hit_policy: Literal["first", "unique"]
    rows: list[Row] = Field(min_length=1)


class Table(Strict):
    """`min`/`max` (optional): the value of every row, for every score 0–100 and veto it can
    apply to, must lie within them (e.g. `min: 0` for a pay coefficient); checked at load."""

    title: Text
    cite: Cites
    min: Number | None = None
    max: Number | None = None
    hit_policy: Literal["first", "unique"] | None = None
    rows: list[Row] | None = None
    versions: list[TableVersion] | None = None

    @model_validator(mode="after")
    def _one_form(self) -> Table:
        if (self.rows is None) == (self.versions is None):
            raise ValueError("决策表要么写 hit_policy + rows，要么写 versions（按日期的多个版本），二者取一")
        if self.rows is not None and self.hit_policy is None:
            raise ValueError("缺少 hit_policy（first 或 unique）")
        if self.versions is not None and self.hit_policy is not None:
            raise ValueError("写了 versions 时，hit_policy 写在每个版本里")
        return self


# ---- rules.yaml -----------------------------------------------------------------------------


class Case(Strict):
    when: Formula | None = None
    text: Text


class StatementRow(Strict):
    label: Text
    value: Name
    format: Literal["money", "percent", "number", "count", "exact", "text"] = "money"


class Breakdown(Strict):
    counts: Name
    weights: Name
    title: Text


class Statement(Strict):
    cases: list[Case] = Field(min_length=1)
    rows: list[StatementRow] | None = None
    breakdown: Breakdown | None = None

    @model_validator(mode="after")
    def _last_case(self) -> Statement:
        if self.cases[-1].when is not None:
            raise ValueError("cases 的最后一条不写 when（其余情况都用它）")
        if any(c.when is None for c in self.cases[:-1]):
            raise ValueError("cases 中只有最后一条可以不写 when")
        return self


class Undistributed(Strict):
    item: Name
    release_parked: Flag | None = None
    explain: Text
    statement: Statement


class Report(Strict):
    title: Text
    formula: Formula


# which keys each rule kind needs and may use (besides the common ones)
KIND_KEYS: dict[str, tuple[set[str], set[str]]] = {
    "formula": ({"amount"}, {"quantity"}),
    "allocation": ({"total", "weight"}, {"quantity", "period_let", "undistributed", "report"}),
    "settlement": ({"total", "weight", "history_item"}, {"quantity", "period_let", "undistributed", "report"}),
    "level_allocation": (
        {"total", "weights", "level_ratio"},
        {"period_let", "undistributed", "report", "weight_labels"},
    ),
}


class Rule(Strict):
    id: Ident
    item: Name
    title: Text
    cite: Cites
    kind: Literal["formula", "allocation", "settlement", "level_allocation"]
    when: Condition
    explain: Text
    statement: Statement
    let: dict[Name, Formula] | None = None
    only_if: Formula | None = None
    period_let: dict[Name, Formula] | None = None
    amount: Formula | None = None
    quantity: Formula | None = None
    total: Formula | None = None
    weight: Formula | None = None
    weights: dict[Level, Formula] | None = None
    weight_labels: dict[Level, Text] | None = None
    level_ratio: Name | None = None
    history_item: Name | None = None
    undistributed: Undistributed | None = None
    report: dict[Name, Report] | None = None

    @model_validator(mode="after")
    def _kind_keys(self) -> Rule:
        need, may = KIND_KEYS[self.kind]
        optional = {k for spec in KIND_KEYS.values() for k in spec[0] | spec[1]}
        missing = sorted(k for k in need if getattr(self, k) is None)
        if missing:
            raise ValueError(f"kind: {self.kind} 的规则需要 {', '.join(missing)}")
        unused = sorted(k for k in optional - need - may if getattr(self, k) is not None)
        if unused:
            raise ValueError(f"kind: {self.kind} 的规则不使用 {', '.join(unused)}（写了也不会生效，请删除）")
        return self


class Rules(Strict):
    rules: list[Rule] = Field(min_length=1)


# ---- checks.yaml ----------------------------------------------------------------------------


class Check(Strict):
    id: Ident
    title: Text
    cite: Cites
    when: Condition
    let: dict[Name, Formula] | None = None
    condition: Formula
    message: Text


class Checks(Strict):
    checks: list[Check] = Field(default_factory=list)


FILE_MODELS: dict[str, Any] = {
    "ruleset.yaml": Meta,
    "items.yaml": Items,
    "parameters.yaml": dict[Name, Parameter],
    "tables.yaml": dict[Name, Table],
    "rules.yaml": Rules,
    "checks.yaml": Checks,
}
