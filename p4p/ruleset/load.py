"""A ruleset as data: load the YAML files of `rules/<id>/`, check them, and resolve the
values in force for a period. Holds no policy number itself."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..lang.formula import Formula, FormulaError, compile_formula
from ..read.yamlio import load_yaml

RULESET_FILES = ("ruleset.yaml", "parameters.yaml", "tables.yaml", "rules.yaml")
RULE_KINDS = ("formula", "allocation", "settlement", "level_allocation")
CONDITION_FIELDS = {"kind", "quarter", "guarantee", "veto", "score"}
LEVELS = ("county", "township", "village")
SCORE_MIN, SCORE_MAX = 0, 100


class RulesetError(Exception):
    """The ruleset is not valid; `problems` lists every problem in Chinese."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


@dataclass(frozen=True)
class Cite:
    source: str
    clause: str
    title: str = ""

    def text(self) -> str:
        return f"《{self.title}》{self.clause}" if self.title else f"{self.source} {self.clause}"


@dataclass
class TableRow:
    label: str
    value: Formula
    when: dict
    band: tuple[Fraction | None, Fraction | None] | None


@dataclass
class Table:
    id: str
    title: str
    cite: list[Cite]
    hit_policy: str
    rows: list[TableRow]


@dataclass
class Rule:
    id: str
    item: str
    item_name: str
    title: str
    cite: list[Cite]
    kind: str
    when: dict
    explain: str
    let: dict[str, Formula] = field(default_factory=dict)
    period_let: dict[str, Formula] = field(default_factory=dict)
    amount: Formula | None = None
    quantity: Formula | None = None
    total: Formula | None = None
    weight: Formula | None = None
    weights: dict[str, Formula] = field(default_factory=dict)
    only_if: Formula | None = None
    level_ratio: str | None = None
    history_item: str | None = None
    undistributed: dict | None = None
    report: dict[str, tuple[str, Formula]] = field(default_factory=dict)  # name → (Chinese title, period formula)


@dataclass
class Ruleset:
    id: str
    title: str
    path: Path
    sha256: str
    sources: dict[str, dict]
    parameters: dict[str, dict]  # name -> {title, cite, values: [(from, value)]}
    tables: dict[str, list]  # id -> [(from, Table)]
    rules: list[Rule]

    def items(self) -> dict[str, str]:
        out = {}
        for r in self.rules:
            out.setdefault(r.item, r.item_name)
            if r.undistributed:
                out.setdefault(r.undistributed["item"], r.undistributed["item_name"])
        return out

    def resolve(self, on: dt.date) -> "Resolved":
        """The parameter values and tables in force on `on` (a period's first day)."""
        params, problems = {}, []
        for name, p in self.parameters.items():
            vals = [v for f, v in p["values"] if f <= on]
            if not vals:
                problems.append(f"参数 {name} 在 {on} 没有生效的取值")
                continue
            params[name] = vals[-1]
        tables = {}
        for tid, versions in self.tables.items():
            vals = [t for f, t in versions if f <= on]
            if not vals:
                problems.append(f"决策表 {tid} 在 {on} 没有生效的版本")
                continue
            tables[tid] = vals[-1]
        if problems:
            raise RulesetError(problems)
        return Resolved(self, on, params, tables)

    def service_items(self, on: dt.date) -> dict[str, dict]:
        return self.resolve(on).params.get("ph_points", {})


@dataclass
class Resolved:
    ruleset: Ruleset
    on: dt.date
    params: dict[str, Any]
    tables: dict[str, Table]

    def param_env(self) -> dict[str, Any]:
        """Parameters as formula values: numbers as Fractions, mappings as {key: number}."""
        env = {}
        for name, v in self.params.items():
            if isinstance(v, dict):
                env[name] = {k: _num(x["points"] if isinstance(x, dict) and "points" in x else x) for k, x in v.items()}
            else:
                env[name] = _num(v)
        return env


def _num(v) -> Fraction:
    if isinstance(v, bool):
        raise RulesetError([f"参数值应为数字: {v!r}"])
    if isinstance(v, (int, Decimal)):
        return Fraction(v)
    return Fraction(Decimal(str(v)))


def ruleset_hash(path: Path) -> str:
    h = hashlib.sha256()
    for name in RULESET_FILES:
        h.update(name.encode() + b"\0" + (path / name).read_bytes() + b"\0")
    return h.hexdigest()


def load_ruleset(path: str | Path) -> Ruleset:
    path = Path(path)
    problems: list[str] = []
    docs = {}
    for name in RULESET_FILES:
        f = path / name
        if not f.is_file():
            problems.append(f"规则集 {path} 缺少文件 {name}")
            continue
        try:
            docs[name] = load_yaml(f.read_text(encoding="utf-8")) or {}
        except Exception as e:  # yaml errors carry line numbers
            problems.append(f"规则文件 {f} 无法读取: {e}")
    if problems:
        raise RulesetError(problems)
    meta = docs["ruleset.yaml"]
    sources = meta.get("sources") or {}
    start = meta.get("in_force_from")

    def cites(raw, where) -> list[Cite]:
        raw = raw if isinstance(raw, list) else [raw]
        out = []
        for c in raw:
            if not isinstance(c, dict) or "source" not in c or "clause" not in c:
                problems.append(f"{where}: 政策依据应写成 {{source, clause}}")
                continue
            src = str(c["source"])
            if src not in sources:
                problems.append(f"{where}: 政策依据引用了未登记的文件 {src}")
            out.append(Cite(src, str(c["clause"]), (sources.get(src) or {}).get("title", "")))
        if not out:
            problems.append(f"{where}: 缺少政策依据")
        return out

    def formula(text, where) -> Formula | None:
        try:
            return compile_formula(str(text))
        except FormulaError as e:
            problems.append(f"{where}: {e}")
            return None

    parameters = {}
    for name, p in (docs["parameters.yaml"] or {}).items():
        where = f"参数 {name}"
        if not isinstance(p, dict) or not p.get("title") or not p.get("values"):
            problems.append(f"{where}: 需要 title 和 values")
            continue
        values = []
        for v in p["values"]:
            if not isinstance(v.get("from"), dt.date) or "value" not in v:
                problems.append(f"{where}: 每个取值需要 from（日期）和 value")
                continue
            values.append((v["from"], v["value"]))
        values.sort(key=lambda x: x[0])
        if len({f for f, _ in values}) != len(values):
            problems.append(f"{where}: 同一生效日期有两个取值")
        parameters[name] = {"title": p["title"], "cite": cites(p.get("cite"), where), "values": values}

    tables = {}
    for tid, t in (docs["tables.yaml"] or {}).items():
        versions = t.get("versions") or [{"from": start, **t}]
        out = []
        for ver in versions:
            where = f"决策表 {tid}（{ver.get('from')} 起）"
            table = _load_table(tid, t, ver, where, cites, formula, problems)
            if table:
                out.append((ver.get("from") or start, table))
        tables[tid] = sorted(out, key=lambda x: x[0])

    rules, ids = [], set()
    for raw in (docs["rules.yaml"] or {}).get("rules", []):
        r = _load_rule(raw, cites, formula, problems)
        if r is None:
            continue
        if r.id in ids:
            problems.append(f"规则 {r.id} 重复")
        ids.add(r.id)
        rules.append(r)
    _check_rule_names(rules, parameters, tables, problems)
    if problems:
        raise RulesetError(problems)
    return Ruleset(
        id=str(meta.get("id") or path.name),
        title=str(meta.get("title", "")),
        path=path,
        sha256=ruleset_hash(path),
        sources=sources,
        parameters=parameters,
        tables=tables,
        rules=rules,
    )


def _load_table(tid, t, ver, where, cites, formula, problems) -> Table | None:
    policy = ver.get("hit_policy", t.get("hit_policy"))
    if policy not in ("first", "unique"):
        problems.append(f"{where}: hit_policy 应为 first 或 unique")
        return None
    rows = []
    for i, row in enumerate(ver.get("rows") or [], 1):
        band = row.get("band")
        if band is not None:
            if not (isinstance(band, list) and len(band) == 2):
                problems.append(f"{where} 第{i}行: band 应为 [下限, 上限)")
                continue
            band = tuple(None if b is None else Fraction(Decimal(str(b))) for b in band)
        when = row.get("when") or {}
        _check_condition(when, f"{where} 第{i}行", problems)
        if set(when) - {"veto", "score"}:
            problems.append(f"{where} 第{i}行: 决策表的条件只能用 veto 和 score")
        f = formula(row.get("value"), f"{where} 第{i}行")
        if f:
            rows.append(TableRow(str(row.get("label", "")), f, when, band))
    _check_bands(rows, policy, where, problems)
    return Table(tid, str(t.get("title", tid)), cites(t.get("cite"), where), policy, rows)


def _check_bands(rows, policy, where, problems):
    """Bands of the unguarded rows must cover [0, 100] with no gap (and, for 'unique', no overlap)."""
    bands = sorted((r.band for r in rows if r.band and not r.when), key=lambda b: -(10**9) if b[0] is None else b[0])
    lo = lambda b: Fraction(-(10**9)) if b[0] is None else b[0]
    hi = lambda b: Fraction(10**9) if b[1] is None else b[1]
    if not bands:
        problems.append(f"{where}: 没有分档")
        return
    if lo(bands[0]) > SCORE_MIN:
        problems.append(f"{where}: 分档没有覆盖 {SCORE_MIN} 到 {lo(bands[0])} 分")
    if hi(bands[-1]) <= SCORE_MAX:
        problems.append(f"{where}: 分档没有覆盖 {hi(bands[-1])} 到 {SCORE_MAX} 分")
    for a, b in zip(bands, bands[1:]):
        if hi(a) < lo(b):
            problems.append(f"{where}: 分档在 {hi(a)} 到 {lo(b)} 分之间有缺口")
        elif hi(a) > lo(b) and policy == "unique":
            problems.append(f"{where}: 分档在 {lo(b)} 到 {min(hi(a), hi(b))} 分之间重叠（hit_policy: unique）")
    for b in bands:
        if lo(b) >= hi(b):
            problems.append(f"{where}: 分档 [{b[0]}, {b[1]}) 为空")


def _check_condition(when, where, problems):
    if not isinstance(when, dict):
        problems.append(f"{where}: when 应为 字段: 取值 的形式")
        return
    for k in when:
        if k not in CONDITION_FIELDS:
            problems.append(f"{where}: when 中的字段 {k} 不可用（可用: {', '.join(sorted(CONDITION_FIELDS))}）")


def _load_rule(raw, cites, formula, problems) -> Rule | None:
    rid = str(raw.get("id", "?"))
    where = f"规则 {rid}"
    missing = [k for k in ("id", "item", "item_name", "title", "cite", "kind", "when", "explain") if not raw.get(k)]
    if missing:
        problems.append(f"{where}: 缺少 {', '.join(missing)}")
        return None
    kind = raw["kind"]
    if kind not in RULE_KINDS:
        problems.append(f"{where}: 未知的计算方式 {kind}")
        return None
    _check_condition(raw["when"], where, problems)
    need = {
        "formula": ("amount",),
        "allocation": ("total", "weight"),
        "settlement": ("total", "weight", "history_item"),
        "level_allocation": ("total", "weights", "level_ratio"),
    }[kind]
    for k in need:
        if not raw.get(k):
            problems.append(f"{where}: {kind} 规则需要 {k}")
    f = lambda k: formula(raw[k], f"{where} {k}") if raw.get(k) is not None else None
    weights = {lvl: formula(v, f"{where} weights.{lvl}") for lvl, v in (raw.get("weights") or {}).items()}
    if kind == "level_allocation" and set(weights) != set(LEVELS):
        problems.append(f"{where}: weights 需要 {', '.join(LEVELS)} 三个层级")
    und = raw.get("undistributed")
    if und is not None and not (isinstance(und, dict) and und.get("item") and und.get("item_name")):
        problems.append(f"{where}: undistributed 需要 item 和 item_name")
    return Rule(
        id=rid,
        item=str(raw["item"]),
        item_name=str(raw["item_name"]),
        title=str(raw["title"]),
        cite=cites(raw["cite"], where),
        kind=kind,
        when=raw["when"],
        explain=str(raw["explain"]),
        let={k: formula(v, f"{where} let.{k}") for k, v in (raw.get("let") or {}).items()},
        period_let={k: formula(v, f"{where} period_let.{k}") for k, v in (raw.get("period_let") or {}).items()},
        amount=f("amount"),
        quantity=f("quantity"),
        total=f("total"),
        weight=f("weight"),
        weights=weights,
        only_if=f("only_if"),
        level_ratio=raw.get("level_ratio"),
        history_item=raw.get("history_item"),
        undistributed=und,
        report={
            k: (str(v.get("title", k)), formula(v.get("formula"), f"{where} report.{k}"))
            for k, v in (raw.get("report") or {}).items()
        },
    )


# names a formula may use besides parameters, tables, lets and items of earlier rules
UNIT_NAMES = {
    "perf_base_annual",
    "staff_count",
    "population",
    "guarantee",
    "workload_target",
    "score",
    "veto",
    "drug_subsidy",
    "service_fee",
    "operating_subsidy",
    "medical_income",
    "visits",
    "workpoints",
    "quarter",
}
PERIOD_NAMES = {"ph_annual_budget", "mi_budget", "mi_spent", "alliance_score", "quarter"}


def _check_rule_names(rules, parameters, tables, problems):
    base = set(parameters) | set(tables) | UNIT_NAMES | PERIOD_NAMES | {f"alliance_{t}" for t in tables}
    items_before: set[str] = set()
    all_items = {r.item for r in rules}
    for r in rules:
        known = base | items_before | set(r.let) | set(r.period_let) | ({"total"} if r.report else set())
        formulas = [
            *r.let.values(),
            *r.period_let.values(),
            r.amount,
            r.quantity,
            r.total,
            r.weight,
            r.only_if,
            *r.weights.values(),
            *(f for _, f in r.report.values()),
        ]
        for fm in formulas:
            if fm is None:
                continue
            for n in fm.names - known:
                if n in all_items:
                    problems.append(f"规则 {r.id}: 公式 {fm.text} 使用了后面规则才计算的项目 {n}")
                else:
                    problems.append(f"规则 {r.id}: 公式 {fm.text} 中的名称 {n} 未定义")
        if r.level_ratio and r.level_ratio not in parameters:
            problems.append(f"规则 {r.id}: level_ratio 引用了不存在的参数 {r.level_ratio}")
        items_before.add(r.item)
        if r.undistributed:
            items_before.add(r.undistributed["item"])
