"""Load a ruleset folder: read each file strictly, check it against the schema, compile its
formulas and texts, and check that every name resolves (names.py) and every decision table
covers every score (bands.py). Every problem is collected, with file, line and key, and raised
together as RulesetError; nothing half-checked is ever run."""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Callable, Iterable
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from ..lang.exact import fraction_text
from ..lang.formula import Formula, FormulaError, compile_formula
from ..lang.template import Template, TemplateError, compile_template
from ..model.yamldoc import Document, YamlError
from ..model.yamldoc import load as load_yaml
from . import schema as S
from .errors import RuleProblem, RulesetError, nearest
from .model import (
    Check,
    Cite,
    Item,
    Parameter,
    Rule,
    Ruleset,
    Statement,
    Table,
    TableRow,
    TableVersion,
    Undistributed,
)

FILES = ("ruleset.yaml", "items.yaml", "parameters.yaml", "tables.yaml", "rules.yaml", "checks.yaml")
MAX_FILE_BYTES = 1_000_000
_ADAPTERS: dict[str, TypeAdapter[Any]] = {name: TypeAdapter(model) for name, model in S.FILE_MODELS.items()}

YamlPath = tuple[str | int, ...]


def ruleset_hash(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name in sorted(files):
        h.update(name.encode() + b"\0" + files[name] + b"\0")
    return h.hexdigest()


class _Loader:
    """Collects problems while reading; `at(file, path)` names a place by its line."""

    def __init__(self, path: Path):
        self.path = path
        self.problems: list[RuleProblem] = []
        self.docs: dict[str, Document] = {}
        self.files: dict[str, bytes] = {}

    def problem(self, file: str, path: YamlPath, message: str, key: str | None = None, hint: str | None = None) -> None:
        doc = self.docs.get(file)
        line = doc.line(path) if doc else None
        self.problems.append(RuleProblem(file, line, _label(doc, tuple(path)), message, hint))

    # -- reading --------------------------------------------------------------------------------
    def read(self, name: str) -> Any:
        f = self.path / name
        if not f.is_file():
            self.problems.append(RuleProblem(name, None, None, f"规则集 {self.path} 缺少文件 {name}"))
            return None
        data = f.read_bytes()
        self.files[name] = data
        if len(data) > MAX_FILE_BYTES:
            self.problems.append(RuleProblem(name, None, None, f"文件过大（超过 {MAX_FILE_BYTES} 字节）"))
            return None
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as e:
            self.problems.append(RuleProblem(name, None, None, f"文件不是 UTF-8 编码（第 {e.start} 字节）"))
            return None
        try:
            doc = load_yaml(text)
        except YamlError as e:
            self.problems += [RuleProblem(name, line, None, msg) for line, msg in e.problems]
            return None
        self.docs[name] = doc
        return self.validate(name, doc)

    def validate(self, name: str, doc: Document) -> Any:
        try:
            return _ADAPTERS[name].validate_python(doc.data if doc.data is not None else {})
        except ValidationError as e:
            for err in e.errors():
                self._schema_problem(name, doc, err)
            return None

    def _schema_problem(self, name: str, doc: Document, err: Any) -> None:
        loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
        kind = err["type"]
        key = str(loc[-1]) if loc else None
        hint = None
        if kind == "extra_forbidden" and key is not None:
            hint = nearest(key, _allowed_keys(S.FILE_MODELS[name], loc[:-1]))
            message = "未知的键（p4p 不认识，写了也不会生效）"
        elif kind == "literal_error":  # pydantic's "'a', 'b' or 'c'": the choices, joined in Chinese
            choices = re.findall(r"'([^']*)'", str((err.get("ctx") or {}).get("expected", "")))
            hint = nearest(err["input"], choices) if isinstance(err.get("input"), str) else None
            message = (
                f"取值应为 {choices[0]}" if len(choices) == 1 else _MESSAGES[kind].format(expected="、".join(choices))
            )
        else:
            message = _MESSAGES.get(kind, "{msg}").format(msg=err.get("msg", ""), **(err.get("ctx") or {}))
        self.problem(name, loc, message, hint=hint)


_GROUPS = {"rules": "规则", "checks": "提示"}


def _label(doc: Document | None, path: YamlPath) -> str | None:
    """A place as people say it: `规则 R5 only_if`, `k.rows.2.band`."""
    if not path:
        return None
    if path[0] in _GROUPS and len(path) > 1 and isinstance(path[1], int) and doc is not None:
        try:
            rid = doc.data[path[0]][path[1]].get("id")
        except (KeyError, IndexError, TypeError, AttributeError):
            rid = None
        rest = ".".join(str(p) for p in path[2:])
        head = f"{_GROUPS[path[0]]} {rid}" if rid else f"{_GROUPS[path[0]]}（第{path[1] + 1}条）"
        return f"{head} {rest}".strip()
    return ".".join(str(p) for p in path)


_MESSAGES = {
    "missing": "缺少必需的键",
    "string_type": "应为文字",
    "dict_type": "应为“键: 值”的映射",
    "model_type": "应为“键: 值”的映射",
    "model_attributes_type": "应为“键: 值”的映射",
    "list_type": "应为列表",
    "literal_error": "取值应为 {expected} 之一",
    "too_short": "至少需要 {min_length} 项",
    "too_long": "最多 {max_length} 项",
    "value_error": "{error}",
}


def _allowed_keys(model: Any, loc: tuple) -> set[str]:
    """The keys a mapping at `loc` may have (for the suggestion on a misspelt key)."""
    import typing

    from pydantic import BaseModel

    current: Any = model
    for step in loc:
        current = _strip(current)
        origin = typing.get_origin(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            field = current.model_fields.get(str(step)) or next(
                (f for f in current.model_fields.values() if f.alias == step), None
            )
            if field is None:
                return set()
            current = field.annotation
        elif origin is list:
            current = typing.get_args(current)[0]
        elif origin is dict:
            current = typing.get_args(current)[1]
        else:
            return set()
    current = _strip(current)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return {f.alias or n for n, f in current.model_fields.items()}
    return set()


def _strip(t: Any) -> Any:
    """Annotated[X, …] → X; X | None → X."""
    import types
    import typing

    while True:
        origin = typing.get_origin(t)
        if origin is typing.Annotated:
            t = typing.get_args(t)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(t) if a is not type(None)]
            if len(args) != 1:
                return t
            t = args[0]
        else:
            return t


# ---- building the runtime ruleset ------------------------------------------------------------


class _Builder:
    def __init__(self, loader: _Loader, meta: S.Meta):
        self.l = loader
        self.meta = meta
        self.missing_cites: set[tuple[str, str]] = set()  # cited, but not excerpted in ruleset.yaml
        self.value_at: dict[tuple[str, dt.date], int] = {}  # (parameter, from) → index in its values
        self.table_bounds: dict[str, tuple[Fraction | None, Fraction | None]] = {}  # declared min/max
        self.broken: set[str] = set()  # parameters whose every value was refused (already reported)

    def formula(self, file: str, path: YamlPath, text: str) -> Formula | None:
        try:
            return compile_formula(text)
        except FormulaError as e:
            self.l.problem(file, path, str(e))
            return None

    def template(self, file: str, path: YamlPath, text: str) -> Template | None:
        try:
            return compile_template(text)
        except TemplateError as e:
            self.l.problem(file, path, str(e))
            return None

    def cites(self, file: str, path: YamlPath, raw: list[S.Cite]) -> tuple[Cite, ...]:
        out = []
        for i, c in enumerate(raw):
            src = self.meta.sources.get(c.source)
            if src is None or c.clause not in src.clauses:
                self.missing_cites.add((c.source, c.clause))
            if src is None:
                self.l.problem(file, (*path, i, "source"), f"引用了 ruleset.yaml 中没有登记的政策文件 {c.source}",
                               hint=nearest(c.source, self.meta.sources))  # fmt: skip
                continue
            quote = src.clauses.get(c.clause)
            if quote is None:
                self.l.problem(file, (*path, i, "clause"),
                               f"政策文件 {c.source} 在 ruleset.yaml 中没有摘录条款 {c.clause}（请在 clauses 中摘录原文）",
                               hint=nearest(c.clause, src.clauses))  # fmt: skip
                continue
            out.append(Cite(c.source, c.clause, src.title, src.short or src.title, quote))
        return tuple(out)

    # -- parameters ------------------------------------------------------------------------------
    def parameters(self, raw: dict[str, S.Parameter]) -> dict[str, Parameter]:
        out = {}
        file = "parameters.yaml"
        for name, p in raw.items():
            values, names = [], []
            lo, hi = self._bounds(file, (name,), p.min, p.max)
            for i, v in enumerate(p.values):
                parsed = self._param_value(file, (name, "values", i, "value"), v.value)
                if parsed is None:
                    continue
                day = dt.date.fromisoformat(v.from_)
                self.value_at[(name, day)] = i
                self._in_range(file, (name, "values", i, "value"), parsed[0], lo, hi)
                values.append((day, parsed[0]))
                if parsed[1]:
                    names.append((day, parsed[1]))
            if len({d for d, _ in values}) != len(values):
                self.l.problem(file, (name, "values"), "同一生效日期有两个取值")
            if values and len({isinstance(v, dict) for _, v in values}) > 1:
                self.l.problem(file, (name, "values"), "各日期的取值应同为数字或同为按项目列出的映射")
            if not values:
                self.broken.add(name)
                continue
            self._starts_in_time(
                file, (name, "values"), f"参数 {name}", [(d, self.value_at[(name, d)]) for d, _ in values]
            )
            out[name] = Parameter(name, p.title, self.cites(file, (name, "cite"), p.cite),
                                  tuple(sorted(values, key=lambda x: x[0])),
                                  tuple(sorted(names, key=lambda x: x[0])), (lo, hi))  # fmt: skip
        return out

    def _bounds(
        self, file: str, path: YamlPath, lo: str | None, hi: str | None
    ) -> tuple[Fraction | None, Fraction | None]:
        """A declared `min`/`max` (already checked to be numbers by the schema)."""
        low = Fraction(Decimal(lo)) if lo is not None else None
        high = Fraction(Decimal(hi)) if hi is not None else None
        if low is not None and high is not None and low > high:
            self.l.problem(file, (*path, "max"), f"上限 max {hi} 小于下限 min {lo}")
        return low, high

    def _in_range(self, file: str, path: YamlPath, value: object, lo: Fraction | None, hi: Fraction | None) -> None:
        if isinstance(value, dict):
            for key, v in value.items():
                self._in_range(file, (*path, key), v, lo, hi)
            return
        assert isinstance(value, Fraction)
        if lo is not None and value < lo:
            self.l.problem(file, path, f"取值 {fraction_text(value)} 小于声明的下限 min: {fraction_text(lo)}")
        if hi is not None and value > hi:
            self.l.problem(file, path, f"取值 {fraction_text(value)} 大于声明的上限 max: {fraction_text(hi)}")

    def _starts_in_time(self, file: str, path: YamlPath, what: str, starts: list[tuple[dt.date, int]]) -> None:
        """The earliest value must be in force on the ruleset's own first day: a period that
        starts in between would find no value (SPEC §4: a period uses the values in force on
        its first day), so the ruleset could not run its own first quarter."""
        begin = dt.date.fromisoformat(self.meta.in_force_from)
        first, i = min(starts)
        if first > begin:
            doc = self.l.docs.get("ruleset.yaml")
            line = doc.line(("in_force_from",)) if doc else None
            at = f"ruleset.yaml{f' 第{line}行' if line else ''} in_force_from"
            last = first - dt.timedelta(days=1)
            self.l.problem(file, (*path, i, "from"),
                           f"{what} 最早的取值从 {first} 起生效，晚于规则集的生效日期 {begin}（{at}）："
                           f"{begin} 至 {last} 之间开始的季度没有取值。请补上从 {begin} 起的取值，"
                           f"或把 in_force_from 改为 {first}")  # fmt: skip

    def weights(self, rs: Ruleset) -> None:
        """Parameters used as weights must be >= 0 (and a level ratio not all 0) whatever the
        ruleset declares: a level ratio (level_allocation) and the work points per service
        (workpoint_items) are shared out by largest remainder, which has no meaning otherwise."""
        file = "parameters.yaml"
        uses = {r.level_ratio: "层级比例" for r in rs.rules if r.level_ratio}
        uses.setdefault(rs.workpoint_items, "工分值")
        for name, what in uses.items():
            p = rs.parameters.get(name)
            if p is None:
                continue  # names.py reports it
            for day, value in p.values:
                at = (name, "values", self.value_at.get((name, day), 0), "value")
                entries = value.items() if isinstance(value, dict) else [(None, value)]
                for key, v in entries:
                    if v < 0:
                        where = (*at, key) if key is not None else at
                        self.l.problem(file, where, f"{what}不能为负数：{key + ' = ' if key else ''}{fraction_text(v)}"
                                       f"（参数 {name} 用作分配权重，{day} 起的取值）")  # fmt: skip
                if name in {r.level_ratio for r in rs.rules} and all(v == 0 for _, v in entries):
                    self.l.problem(file, at, f"层级比例不能全为 0（参数 {name}，{day} 起的取值）：总额将无法分配")

    def _param_value(
        self, file: str, path: YamlPath, value: object
    ) -> tuple[Fraction | dict[str, Fraction], dict[str, str]] | None:
        if isinstance(value, str):
            num = _number(value)
            if num is None:
                self.l.problem(file, path, "参数值" + _why_not_number(value))
                return None
            return num, {}
        if not isinstance(value, dict) or not value:
            self.l.problem(
                file, path, "参数值应为数字，或按项目列出的映射（项目: 数字，或 项目: {value: 数字, name: 名称}）"
            )
            return None
        mapping, names, ok = {}, {}, True
        for key, entry in value.items():
            num, nm = self._entry(file, (*path, key), entry)
            if num is None:
                ok = False
                continue
            mapping[key] = num
            if nm is not None:
                names[key] = nm
        if names and len(names) != len(mapping):
            self.l.problem(file, path, "映射中的各项要么都写 name，要么都不写")
        return (mapping, names) if ok else None

    def _entry(self, file: str, path: YamlPath, entry: object) -> tuple[Fraction | None, str | None]:
        if isinstance(entry, str):
            num = _number(entry)
            if num is None:
                self.l.problem(file, path, _why_not_number(entry))
            return num, None
        if isinstance(entry, dict):
            try:
                e = S.Entry.model_validate(entry)
            except ValidationError as err:
                for x in err.errors():
                    key = str(x["loc"][0]) if x["loc"] else None
                    if x["type"] == "extra_forbidden" and key:
                        self.l.problem(file, (*path, key), "未知的键", key=key, hint=nearest(key, ("value", "name")))
                    else:
                        self.l.problem(file, path, _MESSAGES.get(x["type"], "{msg}").format(
                            msg=x.get("msg", ""), **(x.get("ctx") or {})), key=key)  # fmt: skip
                return None, None
            return _number(e.value), e.name
        self.l.problem(file, path, "应为数字或 {value: 数字, name: 名称}")
        return None, None

    # -- tables ------------------------------------------------------------------------------
    def tables(self, raw: dict[str, S.Table]) -> dict[str, Table]:
        out = {}
        file = "tables.yaml"
        start = self.meta.in_force_from
        for tid, t in raw.items():
            if t.rows is not None:
                assert t.hit_policy is not None
                forms: list[tuple[str, str, list[S.Row], YamlPath]] = [(start, t.hit_policy, t.rows, (tid, "rows"))]
            else:
                assert t.versions is not None
                forms = [
                    (v.from_, v.hit_policy, v.rows, (tid, "versions", i, "rows")) for i, v in enumerate(t.versions)
                ]
            versions = []
            for day, policy, rows, path in forms:
                built = [self.row(file, (*path, i), r) for i, r in enumerate(rows)]
                if all(b is not None for b in built):
                    versions.append(TableVersion(dt.date.fromisoformat(day), policy, tuple(b for b in built if b)))
            if len({v.start for v in versions}) != len(versions):
                self.l.problem(file, (tid,), "同一生效日期有两个版本")
            if versions and t.versions is not None:
                starts = [(dt.date.fromisoformat(v.from_), i) for i, v in enumerate(t.versions)]
                self._starts_in_time(file, (tid, "versions"), f"决策表 {tid}", starts)
            self.table_bounds[tid] = self._bounds(file, (tid,), t.min, t.max)
            out[tid] = Table(tid, t.title, self.cites(file, (tid, "cite"), t.cite),
                             tuple(sorted(versions, key=lambda v: v.start)), self.table_bounds[tid])  # fmt: skip
        return out

    def row(self, file: str, path: YamlPath, r: S.Row) -> TableRow | None:
        when = r.when.fields() if r.when else {}
        if r.band is None and not when:
            self.l.problem(file, path, "决策表的每一行都需要条件（band 分档或 when），否则它会匹配所有得分")
            return None
        band = None
        if r.band is not None:
            edges = [self._edge(file, (*path, "band", i), e) for i, e in enumerate(r.band)]
            if any(e is False for e in edges):
                return None
            band = (edges[0], edges[1])
        value = self.formula(file, (*path, "value"), r.value)
        label = self.template(file, (*path, "label"), r.label) if r.label else None
        if value is None:
            return None
        return TableRow(value, when, band, label)  # type: ignore[arg-type]

    def _edge(self, file: str, path: YamlPath, e: str | None) -> Fraction | str | bool | None:
        if e is None:
            return None
        num = _number(e)
        if num is not None:
            return num
        if S.NAME_RE.match(e):
            return e  # a parameter name, resolved per period (names.py checks it exists)
        slip = S.number_form(e)
        if slip:
            self.l.problem(file, path, f"分档边界{slip}")
        else:
            self.l.problem(file, path, f"分档边界应为数字、参数名或 null，不是“{e[:40]}”")
        return False

    # -- items, rules, checks ------------------------------------------------------------------
    def items(self, raw: S.Items) -> dict[str, Item]:
        out = {}
        for code, it in raw.items.items():
            payer_name = None
            if it.payer is not None:
                payer_name = raw.payers.get(it.payer)
                if payer_name is None:
                    self.l.problem("items.yaml", ("items", code, "payer"), f"付款方 {it.payer} 没有在 payers 中登记",
                                   hint=nearest(it.payer, raw.payers))  # fmt: skip
            out[code] = Item(code, it.name, it.role, it.payer, payer_name, it.fund, it.payee)
        used = {it.payer for it in raw.items.values()}
        for payer in raw.payers:
            if payer not in used:
                self.l.problem("items.yaml", ("payers", payer), "登记了付款方但没有任何项目使用它",
                               hint=nearest(payer, {p for p in used if p and p not in raw.payers}))  # fmt: skip
        return out

    def statement(self, file: str, path: YamlPath, s: S.Statement) -> Statement | None:
        cases = []
        for i, c in enumerate(s.cases):
            cond = self.formula(file, (*path, "cases", i, "when"), c.when) if c.when else None
            text = self.template(file, (*path, "cases", i, "text"), c.text)
            if text is None or (c.when and cond is None):
                return None
            cases.append((cond, text))
        rows = tuple((r.label, r.value, r.format) for r in s.rows or [])
        b = s.breakdown
        return Statement(tuple(cases), rows, (b.counts, b.weights, b.title) if b else None)

    def rule(self, i: int, r: S.Rule) -> Rule | None:
        file, path = "rules.yaml", ("rules", i)
        fs: dict[str, Formula | None] = {}
        for key in ("only_if", "amount", "quantity", "total", "weight"):
            text = getattr(r, key)
            fs[key] = self.formula(file, (*path, key), text) if text is not None else None
        lets = {k: self.formula(file, (*path, "let", k), v) for k, v in (r.let or {}).items()}
        plets = {k: self.formula(file, (*path, "period_let", k), v) for k, v in (r.period_let or {}).items()}
        weights = {k: self.formula(file, (*path, "weights", k), v) for k, v in (r.weights or {}).items()}
        reports = {k: (v.title, self.formula(file, (*path, "report", k, "formula"), v.formula))
                   for k, v in (r.report or {}).items()}  # fmt: skip
        title = self.template(file, (*path, "title"), r.title)
        explain = self.template(file, (*path, "explain"), r.explain)
        statement = self.statement(file, (*path, "statement"), r.statement)
        und = self.undistributed(file, (*path, "undistributed"), r.undistributed) if r.undistributed else None
        parts: list[object] = [title, explain, statement, *lets.values(), *plets.values(), *weights.values()]
        parts += [f for _, f in reports.values()]
        if any(p is None for p in parts) or (r.undistributed and und is None):
            return None
        if any(getattr(r, k) is not None and fs[k] is None for k in fs):
            return None
        return Rule(r.id, r.item, title, self.cites(file, (*path, "cite"), r.cite), r.kind,  # type: ignore[arg-type]
                    r.when.fields(), explain, statement, lets, fs["only_if"], plets, fs["amount"],  # type: ignore[arg-type]
                    fs["quantity"], fs["total"], fs["weight"], weights, dict(r.weight_labels or {}),  # type: ignore[arg-type]
                    r.level_ratio, r.history_item, und, reports)  # type: ignore[arg-type]  # fmt: skip

    def undistributed(self, file: str, path: YamlPath, u: S.Undistributed) -> Undistributed | None:
        explain = self.template(file, (*path, "explain"), u.explain)
        statement = self.statement(file, (*path, "statement"), u.statement)
        if explain is None or statement is None:
            return None
        return Undistributed(u.item, u.release_parked == "true", explain, statement)

    def check(self, i: int, c: S.Check) -> Check | None:
        file, path = "checks.yaml", ("checks", i)
        lets = {k: self.formula(file, (*path, "let", k), v) for k, v in (c.let or {}).items()}
        cond = self.formula(file, (*path, "condition"), c.condition)
        message = self.template(file, (*path, "message"), c.message)
        if cond is None or message is None or any(v is None for v in lets.values()):
            return None
        return Check(c.id, c.title, self.cites(file, (*path, "cite"), c.cite), c.when.fields(),
                     lets, cond, message)  # type: ignore[arg-type]  # fmt: skip


def _number(text: str) -> Fraction | None:
    """The exact value of a number as the ruleset writes it (S.number_problem), else None."""
    if S.number_problem(text) is not None:
        return None
    return Fraction(Decimal(text))


def _why_not_number(text: str) -> str:
    slip = S.number_form(text)
    return f"格式错误：{slip}" if slip else str(S.number_problem(text))


def stray_yaml(folder: Path, read: Iterable[str], what: str, prefix: str = "") -> list[RuleProblem]:
    """YAML files in `folder` that p4p does not read (`parameters-2027.yaml`, `checks.yml`): an
    editor who put rules or test cases there expects them to take effect, and nothing would."""
    if not folder.is_dir():
        return []
    out = []
    for p in sorted(folder.iterdir()):
        if p.is_file() and p.suffix.lower() in (".yaml", ".yml") and p.name not in read:
            out.append(RuleProblem(f"{prefix}{p.name}", None, None,
                                   f"p4p 不读这个文件，其中写的内容不会生效：{what}",
                                   nearest(p.name, read)))  # fmt: skip
    return out


def load_ruleset(path: str | Path, *, v1: bool = False) -> Ruleset:
    """Load and check the ruleset in `path`; raise RulesetError listing every problem.
    `v1=True` (replaying runs archived before format 2) reads the older format instead."""
    path = Path(path)
    not_one = not_a_ruleset(path)
    if not_one:
        raise RulesetError([not_one])
    if v1:
        from .v1 import load_v1

        return load_v1(path)
    loader = _Loader(path)
    raw = {name: loader.read(name) for name in FILES}
    loader.problems += stray_yaml(path, FILES, f"规则集只读 {'、'.join(FILES)}，请并入对应的文件，或移出规则集目录")
    meta = raw["ruleset.yaml"]
    if meta is None:
        raise RulesetError(loader.problems or [RuleProblem("ruleset.yaml", None, None, "无法读取")])
    b = _Builder(loader, meta)
    items = b.items(raw["items.yaml"]) if raw["items.yaml"] else {}
    params = b.parameters(raw["parameters.yaml"]) if raw["parameters.yaml"] is not None else {}
    tables = b.tables(raw["tables.yaml"]) if raw["tables.yaml"] is not None else {}
    rules = [b.rule(i, r) for i, r in enumerate(raw["rules.yaml"].rules)] if raw["rules.yaml"] else []
    checks = [b.check(i, c) for i, c in enumerate(raw["checks.yaml"].checks)] if raw["checks.yaml"] else []
    rs = Ruleset(meta.id, meta.title, 2, path, ruleset_hash(loader.files), dict(loader.files),
                 dt.date.fromisoformat(meta.in_force_from), meta.workpoint_items, items, params, tables,
                 [r for r in rules if r], [c for c in checks if c])  # fmt: skip
    complete = all(v is not None for v in raw.values()) and all(rules) and all(checks)
    if complete:
        b.weights(rs)
        _check_all(rs, meta, loader, b)
    if loader.problems:
        raise RulesetError(loader.problems)
    return rs


def _check_all(rs: Ruleset, meta: S.Meta, loader: _Loader, b: _Builder) -> None:
    from .bands import check_bands, check_table_ranges
    from .names import check_names

    report: Callable[[str, YamlPath, str], None] = loader.problem
    before = len(loader.problems)
    check_names(rs, meta, report, loader.docs, b.missing_cites, b.broken)
    check_bands(rs, report)
    if len(loader.problems) == before:  # row values are evaluated only once every name resolves
        check_table_ranges(rs, b.table_bounds, report)


def not_a_ruleset(path: Path) -> RuleProblem | None:
    """A path that holds no ruleset at all (a mistyped --rules, the folder of rulesets instead of
    one of them) is one problem, not a missing file for each of the six."""
    if not path.exists():
        return RuleProblem(str(path), None, None, "规则集文件夹不存在")
    if not path.is_dir():
        return RuleProblem(str(path), None, None, "不是文件夹（规则集是含 ruleset.yaml 等文件的文件夹）")
    if any((path / name).exists() for name in FILES):
        return None
    inside = sorted(d.name for d in path.iterdir() if (d / "ruleset.yaml").is_file())
    where = f"；其中的 {'、'.join(f'{d}/' for d in inside[:10])} 是规则集，请指定其中一个" if inside else ""
    return RuleProblem(str(path), None, None, f"不是规则集文件夹：其中没有 {'、'.join(FILES)}{where}")


def ruleset_format(path: Path) -> int:
    """2 for rulesets that declare `format: 2`, else 1 (written by p4p 0.1–0.2)."""
    try:
        data = load_yaml((Path(path) / "ruleset.yaml").read_bytes().decode("utf-8-sig")).data
    except (OSError, UnicodeDecodeError, YamlError):
        return 2  # let the strict loader report what is wrong
    return 2 if isinstance(data, dict) and "format" in data else 1


def load_archived_ruleset(path: Path) -> Ruleset:
    """The ruleset copied into a run folder, in whichever format the run was made with."""
    return load_ruleset(path, v1=ruleset_format(path) == 1)
