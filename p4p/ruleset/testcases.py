"""Tests as data: `rules/<id>/tests/*.yaml`, each a small alliance and the ledger lines it must
give, worked out by hand (the working in a comment of the file), as OpenFisca's country
template keeps its tests.

A test file (read strictly with model/yamldoc.py; every scalar is text, lines are kept):

    name: 一票否决不影响公卫质量系数          # what the case shows
    period: {period: 2026Q1, alliance: 测试医共体, ph_annual_budget: 400000.00}
    institutions:                           # a table as in the input: a header row, then rows
      - [inst_id, name, kind, parent_id, staff_count, perf_base_annual, population, guarantee,
         workload_target, director]
      - [L01, 县人民医院, lead_hospital, ~, 500, 4000000.00, 0, 0, 0, ~]
    assessment: [...]                       # workpoints and village_income may be left out
    expect:
      ledger:                               # inst_id, item, amount[, quantity]
        - [L01, PERF_POOL, 1000000.00, 1]
      only: [PERF_POOL]                     # optional: compare these items only
      reports: {returned_to_fund: 100000.00}  # optional: figures rules report
      warnings: [[C2, T01]]                 # optional: the plausibility warnings, all of them

A year is `quarters:`, a list of {period: {...}, <tables>, expect}: each quarter's period
mapping is laid over the file's `period`, its tables replace the file's, and the quarters run
in order, in memory: the ledgers of the year's earlier quarters are the history a Q4 settles
against (as approved runs would be), the quarter before is the one plausibility checks compare
with.

Each quarter's tables are written to a temporary folder as CSV + period.yaml and read with
`read.load.load_quarter`, so a test's input passes the same validation as a real one (an input
problem names the test file's line). The engine is not imported here (the ruleset package sits
below it): the caller passes `compute`, which runs one quarter and gives its `Outcome`.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import re
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any, cast

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError, model_validator

from ..lang.exact import fraction_text
from ..model.facts import Quarter
from ..model.fields import TABLES
from ..model.money import fmt_amount, group_thousands
from ..model.problems import InputError, Problem
from ..model.yamldoc import Document, YamlError
from ..model.yamldoc import load as load_yaml
from ..read.load import load_quarter
from .errors import RuleProblem, RulesetError, nearest
from .load import _MESSAGES, _allowed_keys, stray_yaml
from .model import Resolved, Ruleset, TableRow
from .schema import Name, Text, number_form

TESTS_DIR = "tests"
MAX_FILE_BYTES = 1_000_000
AMOUNT_RE = re.compile(r"^-?[0-9]{1,15}(\.[0-9]{1,2})?$")
QUANTITY_RE = re.compile(r"^-?[0-9]{1,30}(\.[0-9]{1,30})?$|^-?[0-9]{1,30}/[0-9]{1,30}$")

YamlPath = tuple[str | int, ...]


class TestFileError(RulesetError):
    """A test file that cannot be read or does not follow the format; every problem listed."""


# ---- the schema of a test file ----------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


Cells = list[str | None]
TableRows = list[Cells]


class ExpectSpec(_Strict):
    ledger: list[Cells] | None = None
    only: list[Name] | None = Field(default=None, min_length=1)
    reports: dict[Name, str] | None = None
    warnings: list[Cells] | None = None

    @model_validator(mode="after")
    def _something(self) -> ExpectSpec:
        if self.ledger is None and self.reports is None and self.warnings is None:
            raise ValueError("expect 至少要写 ledger、reports、warnings 之一")
        if self.only is not None and self.ledger is None:
            raise ValueError("only 限定的是 ledger 的项目：写了 only 就要写 ledger")
        return self


class QuarterSpec(_Strict):
    """One quarter of a case: its period.yaml, its tables (replacing the case's) and expectations."""

    period: dict[str, str | None]
    institutions: TableRows | None = None
    assessment: TableRows | None = None
    workpoints: TableRows | None = None
    village_income: TableRows | None = None
    expect: ExpectSpec | None = None


class CaseSpec(QuarterSpec):
    """A test file: one quarter, or a year of `quarters:` sharing the tables given at the top."""

    name: Text
    quarters: list[QuarterSpec] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _one_form(self) -> CaseSpec:
        if self.quarters is None and self.expect is None:
            raise ValueError("缺少 expect（期望的台账行）")
        if self.quarters is not None and self.expect is not None:
            raise ValueError("写了 quarters 时，expect 写在各季度里")
        if self.quarters is not None and all(q.expect is None for q in self.quarters):
            raise ValueError("quarters 中至少要有一个季度写 expect")
        return self


_ADAPTER = TypeAdapter(CaseSpec)


# ---- what a test case is, once read ----------------------------------------------------------

Quantity = Fraction | str | None  # a number; "" = the line has no quantity; None = not checked


@dataclass(frozen=True)
class Expected:
    lines: dict[tuple[str, str], tuple[Decimal, Quantity]]
    ledger: bool  # whether ledger lines are compared at all
    only: frozenset[str] | None
    reports: dict[str, Decimal] | None
    warnings: frozenset[tuple[str, str]] | None


@dataclass(frozen=True)
class QuarterInput:
    period: dict[str, str | None]
    tables: dict[str, TableRows]
    where: dict[str, YamlPath]  # table → where it is written in the file
    period_where: dict[str, YamlPath]  # period key → where it is written
    expect: Expected | None


@dataclass(frozen=True)
class TestCase:
    file: str  # tests/<name>.yaml
    name: str
    quarters: list[QuarterInput]
    doc: Document

    def line(self, path: YamlPath) -> int | None:
        return self.doc.line(path)


# ---- what computing a quarter gives (filled in by the caller's `compute`) -----------------------


@dataclass(frozen=True)
class LedgerLine:
    inst_id: str
    inst_name: str
    kind: str
    item: str
    item_name: str
    amount: Decimal
    quantity: str  # exact text, "" when the rule writes none
    rule_id: str


@dataclass
class Outcome:
    ledger: list[LedgerLine]
    reports: dict[str, Decimal] = field(default_factory=dict)
    warnings: list[tuple[str, str, str]] = field(default_factory=list)  # check id, inst id, message
    cases: set[tuple[str, int]] = field(default_factory=set)  # (rule id or rule id/undistributed, case)
    history: Any = None  # the ledger as the engine reads it back, for the quarters after


Compute = Callable[[Quarter, Sequence[tuple[Quarter, Outcome]]], Outcome]


# ---- reading test files ----------------------------------------------------------------------


def case_files(rules_dir: Path) -> list[Path]:
    d = Path(rules_dir) / TESTS_DIR
    return sorted(p for p in d.glob("*.yaml") if p.is_file()) if d.is_dir() else []


def load_cases(ruleset: Ruleset, rules_dir: Path | None = None) -> list[TestCase]:
    """Every test case of a ruleset, checked against the format and the ruleset's names;
    raises TestFileError listing every problem of every file."""
    files = case_files(rules_dir or ruleset.path)
    tests = Path(rules_dir or ruleset.path) / TESTS_DIR
    problems = stray_yaml(
        tests, [p.name for p in files], "测试用例文件名须以 .yaml（小写）结尾，请改名", f"{TESTS_DIR}/"
    )
    problems += [RuleProblem(f"{TESTS_DIR}/{d.name}/", None, None, "测试用例不能放在子目录里：p4p 只运行 tests/*.yaml")
                 for d in sorted(tests.iterdir() if tests.is_dir() else []) if d.is_dir() and any(d.rglob("*.y*ml"))]  # fmt: skip
    cases = []
    for path in files:
        case = _read_case(path, ruleset, problems)
        if case is not None:
            cases.append(case)
    if problems:
        raise TestFileError(problems)
    return cases


def _read_case(path: Path, ruleset: Ruleset, problems: list[RuleProblem]) -> TestCase | None:
    file = f"{TESTS_DIR}/{path.name}"
    data = path.read_bytes()
    if len(data) > MAX_FILE_BYTES:
        problems.append(RuleProblem(file, None, None, f"文件过大（超过 {MAX_FILE_BYTES} 字节）"))
        return None
    try:
        doc = load_yaml(data.decode("utf-8-sig"))
    except UnicodeDecodeError as e:
        problems.append(RuleProblem(file, None, None, f"文件不是 UTF-8 编码（第 {e.start} 字节）"))
        return None
    except YamlError as e:
        problems += [RuleProblem(file, line, None, msg) for line, msg in e.problems]
        return None
    try:
        spec = _ADAPTER.validate_python(doc.data if doc.data is not None else {})
    except ValidationError as e:
        problems += [_schema_problem(file, doc, err) for err in e.errors()]
        return None
    start = len(problems)
    reader = _CaseReader(file, doc, ruleset, problems)
    quarters = reader.quarters(spec)
    if len(problems) > start:
        return None
    return TestCase(file, spec.name, quarters, doc)


def _schema_problem(file: str, doc: Document, err: Any) -> RuleProblem:
    loc = tuple(x for x in err["loc"] if not (isinstance(x, str) and x.startswith("function-")))
    key = ".".join(str(x) for x in loc) or None
    if err["type"] == "extra_forbidden" and loc:
        hint = nearest(str(loc[-1]), _allowed_keys(CaseSpec, loc[:-1]))
        return RuleProblem(file, doc.line(loc), key, "未知的键（测试用例中没有这个键）", hint)
    message = _MESSAGES.get(err["type"], "{msg}").format(msg=err.get("msg", ""), **(err.get("ctx") or {}))
    return RuleProblem(file, doc.line(loc), key, message)


class _CaseReader:
    """Checks what the schema cannot: table shapes, and that items, reports and checks named in
    an expectation exist in the ruleset."""

    def __init__(self, file: str, doc: Document, ruleset: Ruleset, problems: list[RuleProblem]):
        self.file, self.doc, self.rs, self.problems = file, doc, ruleset, problems
        self.reports = {name for r in ruleset.rules for name in r.report}
        self.checks = {c.id for c in ruleset.checks}

    def problem(self, path: YamlPath, message: str, hint: str | None = None) -> None:
        key = ".".join(str(p) for p in path) or None
        self.problems.append(RuleProblem(self.file, self.doc.line(path), key, message, hint))

    def quarters(self, spec: CaseSpec) -> list[QuarterInput]:
        base_tables = {t: getattr(spec, t) for t in TABLES if getattr(spec, t) is not None}
        base_where: dict[str, YamlPath] = {t: (t,) for t in base_tables}
        base_period_where: dict[str, YamlPath] = {k: ("period", k) for k in spec.period}
        for t, rows in base_tables.items():
            self.table(rows, (t,))
        if spec.quarters is None:
            only = self.expect(spec.expect, ("expect",))  # type: ignore[arg-type]
            return [self.quarter(spec.period, base_period_where, base_tables, base_where, only, ())]
        out = []
        for i, qs in enumerate(spec.quarters):
            at: YamlPath = ("quarters", i)
            tables, where = dict(base_tables), dict(base_where)
            for t in TABLES:
                rows = getattr(qs, t)
                if rows is not None:
                    self.table(rows, (*at, t))
                    tables[t], where[t] = rows, (*at, t)
            period = {**spec.period, **qs.period}
            pwhere = {**base_period_where, **{k: (*at, "period", k) for k in qs.period}}
            expect = self.expect(qs.expect, (*at, "expect")) if qs.expect else None
            out.append(self.quarter(period, pwhere, tables, where, expect, at))
        self.in_order(out)
        return out

    def in_order(self, quarters: list[QuarterInput]) -> None:
        """Quarters run as a year runs: each after the one before (a Q4 settles the ones above it)."""
        periods = [str(q.period.get("period") or "") for q in quarters]
        for i in range(1, len(periods)):
            if periods[i] <= periods[i - 1]:
                self.problem(
                    ("quarters", i, "period"), f"季度应按时间先后排列：{periods[i]} 写在 {periods[i - 1]} 之后"
                )

    def quarter(self, period: dict, pwhere: dict, tables: dict, where: dict, expect: Expected | None,
                at: YamlPath) -> QuarterInput:  # fmt: skip
        for t in ("institutions", "assessment"):
            if t not in tables:
                self.problem(at, f"缺少表 {t}（{TABLES[t]['label']}）")
        return QuarterInput(period, tables, where, pwhere, expect)

    def table(self, rows: TableRows, at: YamlPath) -> None:
        width = len(rows[0]) if rows else 0
        if not rows or not width:
            self.problem(at, "表的第一行应为表头（列名），如 [inst_id, name, kind, …]")
            return
        for i, row in enumerate(rows[1:], 1):
            if len(row) != width:
                self.problem((*at, i), f"这一行有 {len(row)} 个值，表头有 {width} 列")

    def expect(self, spec: ExpectSpec, at: YamlPath) -> Expected:
        lines: dict[tuple[str, str], tuple[Decimal, Quantity]] = {}
        for i, row in enumerate(spec.ledger or []):
            parsed = self.ledger_row(row, (*at, "ledger", i))
            if parsed is None:
                continue
            key, value = parsed
            if key in lines:
                self.problem((*at, "ledger", i), f"{key[0]} {key[1]} 写了两次")
            lines[key] = value
        for i, item in enumerate(spec.only or []):
            self.item(item, (*at, "only", i))
        if spec.only:
            for (iid, item), _ in lines.items():
                if item not in spec.only:
                    self.problem((*at, "ledger"), f"{iid} {item}：only 中没有 {item}，这一行不会被比较")
        reports = None
        if spec.reports is not None:
            reports = {}
            for name, text in spec.reports.items():
                amount = self.amount(text, (*at, "reports", name))
                if name not in self.reports:
                    self.problem((*at, "reports", name), f"规则集中没有规则报告 {name}",
                                 nearest(name, self.reports))  # fmt: skip
                if amount is not None:
                    reports[name] = amount
        return Expected(lines, spec.ledger is not None, frozenset(spec.only) if spec.only else None, reports,
                        self.warnings(spec.warnings, (*at, "warnings")))  # fmt: skip

    def ledger_row(self, row: Cells, at: YamlPath) -> tuple[tuple[str, str], tuple[Decimal, Quantity]] | None:
        if len(row) not in (3, 4) or not row[0] or not row[1]:
            self.problem(at, "期望的台账行应写成 [机构编码, 项目, 金额] 或 [机构编码, 项目, 金额, 数量]")
            return None
        iid, item = row[0], row[1]
        self.item(item, (*at, 1))
        amount = self.amount(row[2], (*at, 2))
        quantity: Quantity = None
        start = len(self.problems)
        if len(row) == 4:
            quantity = self.quantity(row[3], (*at, 3))
        if amount is None or len(self.problems) > start:
            return None
        return (iid, item), (amount, quantity)

    def item(self, item: str, at: YamlPath) -> None:
        if item not in self.rs.items:
            self.problem(at, f"项目 {item} 没有在规则集的 items.yaml 中声明", nearest(item, self.rs.items))

    def amount(self, text: str | None, at: YamlPath) -> Decimal | None:
        if text is None or not AMOUNT_RE.match(text):
            slip = number_form(text) if text is not None else None
            self.problem(at, f"金额格式错误：{slip}" if slip else
                         f"金额应写成 1234.56 这样的数字（最多两位小数，不写千分位），不是“{text}”")  # fmt: skip
            return None
        return Decimal(text)

    def quantity(self, text: str | None, at: YamlPath) -> Quantity:
        """A number or fraction; "" (or ~) for a line that has no quantity."""
        if text is None or text.strip() == "":
            return ""
        t = text
        if not QUANTITY_RE.match(t):
            slip = number_form(t)
            self.problem(at, f"数量格式错误：{slip}" if slip else
                         f"数量应为数字（如 0.25）或分数（如 1/3），不是“{t}”")  # fmt: skip
            return None
        if "/" in t:
            num, den = t.split("/")
            if int(den) == 0:
                self.problem(at, "数量的分母不能为 0")
                return None
            return Fraction(int(num), int(den))
        return Fraction(Decimal(t))

    def warnings(self, rows: list[Cells] | None, at: YamlPath) -> frozenset[tuple[str, str]] | None:
        if rows is None:
            return None
        out = set()
        for i, row in enumerate(rows):
            if len(row) != 2 or not row[0] or not row[1]:
                self.problem((*at, i), "期望的提示应写成 [提示编号, 机构编码]，如 [C2, T01]")
                continue
            if row[0] not in self.checks:
                self.problem((*at, i, 0), f"规则集中没有提示 {row[0]}", nearest(row[0], self.checks))
            out.add((row[0], row[1]))
        return frozenset(out)


# ---- running ---------------------------------------------------------------------------------


@dataclass
class CaseResult:
    case: TestCase
    differences: list[str]

    @property
    def ok(self) -> bool:
        return not self.differences


@dataclass
class Coverage:
    """What the cases exercised, against what the ruleset declares."""

    service_codes: set[str] = field(default_factory=set)
    items: set[str] = field(default_factory=set)
    table_rows: set[tuple[str, dt.date, int]] = field(default_factory=set)
    cases: set[tuple[str, int]] = field(default_factory=set)
    checks: set[str] = field(default_factory=set)

    def missing(self, rs: Ruleset) -> dict[str, list[str]]:
        """Chinese heading → what no test case exercised (empty lists left out)."""
        codes = sorted({k for p in [rs.parameters.get(rs.workpoint_items)] if p for _, v in p.values
                        if isinstance(v, dict) for k in v})  # fmt: skip
        rows = [(tid, v.start, i, r) for tid, t in rs.tables.items() for v in t.versions for i, r in enumerate(v.rows)]
        out = {
            "服务项目": [c for c in codes if c not in self.service_codes],
            "台账项目": [i for i in rs.items if i not in self.items],
            "决策表行": [_row_name(rs, tid, start, i, r) for tid, start, i, r in rows
                         if (tid, start, i) not in self.table_rows],
            "结算单说明": [_case_name(rs, key, i) for key, i in statement_cases(rs) if (key, i) not in self.cases],
            "提示": [c.id for c in rs.checks if c.id not in self.checks],
        }  # fmt: skip
        return {k: v for k, v in out.items() if v}

    def counts(self, rs: Ruleset) -> dict[str, tuple[int, int]]:
        codes = {k for p in [rs.parameters.get(rs.workpoint_items)] if p for _, v in p.values if isinstance(v, dict)
                 for k in v}  # fmt: skip
        rows = {(tid, v.start, i) for tid, t in rs.tables.items() for v in t.versions for i in range(len(v.rows))}
        cases = set(statement_cases(rs))
        return {
            "服务项目": (len(codes & self.service_codes), len(codes)),
            "台账项目": (len(set(rs.items) & self.items), len(rs.items)),
            "决策表行": (len(rows & self.table_rows), len(rows)),
            "结算单说明": (len(cases & self.cases), len(cases)),
            "提示": (len({c.id for c in rs.checks} & self.checks), len(rs.checks)),
        }


def statement_cases(rs: Ruleset) -> list[tuple[str, int]]:
    out = []
    for r in rs.rules:
        out += [(r.id, i) for i in range(len(r.statement.cases))]
        if r.undistributed:
            out += [(f"{r.id}/undistributed", i) for i in range(len(r.undistributed.statement.cases))]
    return out


def _row_name(rs: Ruleset, tid: str, start: dt.date, i: int, row: TableRow) -> str:
    dated = f"（{start} 起的版本）" if len(rs.tables[tid].versions) > 1 else ""
    return f"{tid} 第{i + 1}行{dated}"


def _case_name(rs: Ruleset, key: str, i: int) -> str:
    rid, _, part = key.partition("/")
    rule = next(r for r in rs.rules if r.id == rid)
    st = rule.undistributed.statement if part and rule.undistributed else rule.statement
    cond = st.cases[i][0]
    return f"规则 {rid}{'（未分配部分）' if part else ''} 第{i + 1}种情况（{cond.text if cond else '其余情况'}）"


@dataclass
class TestReport:
    results: list[CaseResult]
    coverage: Coverage

    @property
    def ok(self) -> bool:
        return all(r.ok for r in self.results)


def run_cases(ruleset: Ruleset, cases: list[TestCase], compute: Compute, *, fail_fast: bool = False) -> TestReport:
    coverage = Coverage()
    results = []
    for case in cases:
        result = _Runner(ruleset, case, compute, coverage).run()
        results.append(result)
        if fail_fast and not result.ok:
            break
    return TestReport(results, coverage)


class QuarterRefused(Exception):
    """Raised by `compute` when the engine refuses a quarter (its Chinese message says why)."""


class _Runner:
    def __init__(self, rs: Ruleset, case: TestCase, compute: Compute, coverage: Coverage):
        self.rs, self.case, self.compute, self.coverage = rs, case, compute, coverage
        self.many = len(case.quarters) > 1

    def run(self) -> CaseResult:
        earlier: list[tuple[Quarter, Outcome]] = []
        out: list[str] = []
        for qi in self.case.quarters:
            try:
                q = self.load(qi)
            except InputError as e:
                out += [self.input_problem(qi, p) for p in e.problems]
                break
            head = f"{q.period.period} " if self.many else ""
            try:
                outcome = self.compute(q, earlier)
            except QuarterRefused as e:
                out.append(f"{head}计算被拒绝：{e}")
                break
            self.cover(q, outcome)
            if qi.expect is not None:
                out += [head + d for d in compare(qi.expect, outcome)]
            earlier.append((q, outcome))
        return CaseResult(self.case, out)

    def load(self, qi: QuarterInput) -> Quarter:
        with tempfile.TemporaryDirectory(prefix="p4p-test-") as tmp:
            folder = Path(tmp)
            write_input(folder, qi.period, qi.tables)
            return load_quarter(folder, lambda p: self.rs.service_items(p.first_day))

    def input_problem(self, qi: QuarterInput, p: Problem) -> str:
        """An input problem, placed on the test file's line that holds the offending value."""
        table = next((t for t in TABLES if f"{t}.csv" in p.where), None)
        path: YamlPath | None = None
        if table in qi.where:
            path = qi.where[table]
            if p.row is not None and p.row >= 1:
                path = (*path, p.row - 1)
        elif p.where.startswith("period") and (p.key or p.column) in qi.period_where:
            path = qi.period_where[str(p.key or p.column)]
        line = self.case.line(path) if path is not None else None
        where = f"第{line}行 " if line else ""
        return f"{where}输入有问题：{p.text()}"

    def cover(self, q: Quarter, outcome: Outcome) -> None:
        c = self.coverage
        c.service_codes |= {code for counts in q.workpoints.values() for code, n in counts.items() if n > 0}
        c.items |= {line.item for line in outcome.ledger}
        c.cases |= outcome.cases
        c.checks |= {check_id for check_id, _, _ in outcome.warnings}
        resolved = self.rs.resolve(q.period.first_day)
        results = {(Fraction(a.score), a.veto) for a in q.assessment.values()}
        if q.period.alliance_score is not None:
            results.add((Fraction(q.period.alliance_score), 0))
        for tid, version in resolved.tables.items():
            for score, veto in results:
                row = table_row(version.rows, resolved, score, veto)
                if row is not None:
                    c.table_rows.add((tid, version.start, row))


def write_input(folder: Path, period: dict[str, str | None], tables: dict[str, TableRows]) -> None:
    """A quarter's input folder as a finance centre would write it: period.yaml and one CSV per
    table (a table not given is written with its header only)."""
    text = "".join(f"{k}: {json.dumps(v, ensure_ascii=False)}\n" for k, v in period.items())
    (folder / "period.yaml").write_text(text, encoding="utf-8")
    for name, spec in TABLES.items():
        rows = tables.get(name) or [list(cast(dict, spec["columns"]))]
        with open(folder / f"{name}.csv", "w", encoding="utf-8", newline="") as f:
            csv.writer(f).writerows([["" if c is None else c for c in row] for row in rows])


def table_row(rows: Sequence[TableRow], resolved: Resolved, score: Fraction, veto: int) -> int | None:
    """The first row of a decision table an assessment result falls in (for coverage only: the
    engine decides with durable-rules, matcher.py)."""
    for i, row in enumerate(rows):
        vetoes = row.when.get("veto")
        if vetoes is not None and str(veto) not in vetoes:
            continue
        tests = row.when.get("score") or {}
        if not all(_OPS[op](score, Fraction(Decimal(v))) for op, v in tests.items()):
            continue
        if row.band is not None:
            lo, hi = (resolved.edge(e) for e in row.band)
            if (lo is not None and score < lo) or (hi is not None and score >= hi):
                continue
        return i
    return None


_OPS: dict[str, Callable[[Fraction, Fraction], bool]] = {
    ">=": lambda a, b: a >= b, ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, "<": lambda a, b: a < b,
    "!=": lambda a, b: a != b,
}  # fmt: skip


# ---- comparing -------------------------------------------------------------------------------


def money(d: Decimal) -> str:
    return group_thousands(fmt_amount(d))


def _quantity_text(q: Quantity) -> str:
    if q == "" or q is None:
        return "（无）"
    return fraction_text(q)  # type: ignore[arg-type]


def _same_quantity(want: Quantity, got: str) -> bool:
    if want is None:
        return True
    if want == "" or got == "":
        return want == got
    return fraction_text(want) == fraction_text(Fraction(Decimal(got)))  # type: ignore[arg-type]


def compare(expected: Expected, outcome: Outcome) -> list[str]:
    """Every difference between what a quarter should give and what it gave, in Chinese."""
    out: list[str] = []
    if expected.ledger:
        out += _compare_ledger(expected, outcome.ledger)
    if expected.reports is not None:
        for name in sorted(set(expected.reports) | set(outcome.reports)):
            want, got = expected.reports.get(name), outcome.reports.get(name)
            if want != got:
                w = money(want) if want is not None else "无此项"
                g = money(got) if got is not None else "无此项"
                out.append(f"报告 {name}：期望 {w}，实得 {g}")
    if expected.warnings is not None:
        got_w = {(c, i): m for c, i, m in outcome.warnings}
        for key in sorted(expected.warnings - set(got_w)):
            out.append(f"提示 {key[0]} {key[1]}：期望出现，实际没有")
        for key in sorted(set(got_w) - expected.warnings):
            out.append(f"提示 {key[0]} {key[1]}：未列入期望，实际出现（{got_w[key]}）")
    return out


def _compare_ledger(expected: Expected, ledger: list[LedgerLine]) -> list[str]:
    out = []
    got = {(x.inst_id, x.item): x for x in ledger if expected.only is None or x.item in expected.only}
    for key in sorted(set(expected.lines) | set(got)):
        label = f"{key[0]} {key[1]}"
        line, want = got.get(key), expected.lines.get(key)
        if want is None:
            assert line is not None
            out.append(f"{label}：未列入期望，实得 {money(line.amount)}（{line.inst_name} {line.item_name}）")
        elif line is None:
            out.append(f"{label}：期望 {money(want[0])}，实得 无此行")
        else:
            if want[0] != line.amount:
                out.append(f"{label}：期望 {money(want[0])}，实得 {money(line.amount)}")
            if not _same_quantity(want[1], line.quantity):
                out.append(f"{label} 数量：期望 {_quantity_text(want[1])}，实得 {line.quantity or '（无）'}")
    return out


# ---- the report people read ------------------------------------------------------------------


def report_lines(rs: Ruleset, report: TestReport) -> list[str]:
    """Per case ✓/✗ with each difference, the totals, and what no case exercised."""
    out = []
    for r in report.results:
        out.append(f"{'✓' if r.ok else '✗'} {r.case.file}  {r.case.name}")
        out += [f"    {d}" for d in r.differences]
    failed = sum(1 for r in report.results if not r.ok)
    summary = f"规则集 {rs.id} 的测试用例：{len(report.results) - failed} 个通过"
    out.append(summary + (f"，{failed} 个未通过" if failed else "，全部通过"))
    counts = report.coverage.counts(rs)
    out.append("覆盖：" + "，".join(f"{k} {a}/{b}" for k, (a, b) in counts.items()))
    for heading, names in report.coverage.missing(rs).items():
        out.append(f"  没有测试用例覆盖的{heading}：{'、'.join(names)}")
    return out
