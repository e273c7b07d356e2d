"""Every name in a ruleset resolves when it loads.

Formulas, `{name}` texts, `when` fields, statement rows, items, payers, sources and clauses are
checked against what is defined: parameters, decision tables, the input fields (model/fields.py),
the period's values, the items of *earlier* rules, the rule's own `let`s, and the names each
rule kind provides (total, weight_sum, share, …). A mapping used as a number, a field of a table
that not every unit has, a Q4-only period value in a rule that runs every quarter, and anything
declared but never used are reported too: a ruleset says nothing that does not take effect.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from ..lang.formula import Formula, FormulaError, value_type
from ..lang.template import Template
from ..model.fields import (
    CONDITION_FIELDS,
    KINDS,
    NUMERIC,
    PERIOD_FIELD_TYPES,
    PERIOD_Q4_ONLY,
    PERIOD_SCORE_PREFIX,
    PRESENT_WHEN,
    TABLE_CONDITION_FIELDS,
    WORKPOINTS,
    table_of,
    unit_fields,
)
from . import schema as S
from .errors import nearest
from .model import LEVELS, Rule, Ruleset, Statement

Report = Callable[..., None]

NUMBER, MAPPING, TEXT = "number", "mapping", "text"
# names each rule kind provides to its texts (and formulas that run after the allocation)
KIND_NAMES: dict[str, dict[str, str]] = {
    "formula": {},
    "allocation": {"total": NUMBER, "weight": NUMBER, "weight_sum": NUMBER, "share": NUMBER},
    "settlement": {
        "total": NUMBER, "weight": NUMBER, "weight_sum": NUMBER, "share": NUMBER, "prior_weight": NUMBER,
        "annual_weight": NUMBER, "entitlement": NUMBER, "prior_paid": NUMBER,
    },
    "level_allocation": {
        "total": NUMBER, "weight": NUMBER, "weight_sum": NUMBER, "share": NUMBER, "level_total": NUMBER,
        "level_name": TEXT, "level_ratio": TEXT, "weight_label": TEXT,
    },
}  # fmt: skip
LINE_NAMES = {"amount": NUMBER, "quantity": NUMBER}
UNDISTRIBUTED_NAMES = {
    "amount": NUMBER, "total": NUMBER, "weight_sum": NUMBER, "parked": NUMBER, "prior_paid": NUMBER,
}  # fmt: skip
PRIOR = "prior_"


@dataclass
class _Scope:
    """Names visible at one place, with their types; `period` marks period-level ones."""

    types: dict[str, str] = field(default_factory=dict)
    period: set[str] = field(default_factory=set)

    def add(self, names: dict[str, str], period: bool = False) -> _Scope:
        out = _Scope(dict(self.types), set(self.period))
        out.types.update(names)
        if period:
            out.period |= set(names)
        return out


class _Checker:
    def __init__(self, rs: Ruleset, meta: S.Meta, report: Report, docs: dict | None = None,
                 missing_cites: set[tuple[str, str]] | None = None, broken: set[str] | None = None):  # fmt: skip
        self.rs, self.meta, self.report = rs, meta, report
        self.broken = broken or set()  # parameters whose values were refused: no second report where used
        self.docs = docs or {}
        self.missing_cites = missing_cites or set()  # cited but not excerpted in ruleset.yaml
        self.undefined: set[str] = set()  # names used somewhere that nothing defines (for suggestions)
        self.used: set[str] = set()  # parameters, tables and other names read anywhere
        self.cited: set[tuple[str, str]] = set()
        self.produced: set[str] = set()
        self.base = self._base()

    # -- the names everything may see -------------------------------------------------------------
    def _base(self) -> _Scope:
        s = _Scope()
        params = {n: (MAPPING if p.is_mapping else NUMBER) for n, p in self.rs.parameters.items()}
        s = s.add(params, period=True)
        period = dict.fromkeys(PERIOD_FIELD_TYPES, NUMBER) | {"quarter": NUMBER}
        for score_field, prefix in PERIOD_SCORE_PREFIX.items():
            del score_field
            period |= {f"{prefix}_{t}": NUMBER for t in self.rs.tables}
            period |= {f"{prefix}_{t}_label": TEXT for t in self.rs.tables}
        s = s.add(period, period=True)
        unit = {n: (NUMBER if t in NUMERIC else TEXT) for n, t in unit_fields().items()}
        unit |= {WORKPOINTS: MAPPING, "kind_name": TEXT}
        unit |= {t: NUMBER for t in self.rs.tables} | {f"{t}_label": TEXT for t in self.rs.tables}
        return s.add(unit)

    # -- formulas and texts -----------------------------------------------------------------------
    def formula(self, f: Formula | None, scope: _Scope, at: tuple, *, period: bool = False, want: str = NUMBER) -> None:
        if f is None:
            return
        file, path = at
        for name in sorted(f.names):
            if name not in scope.types:
                self._unknown(name, scope, file, path, f.text)
            elif period and name not in scope.period:
                self.report(file, path, f"公式 {f.text} 是整期的计算，不能用按机构的取值 {name}")
            elif scope.types[name] == TEXT:
                self.report(file, path, f"公式 {f.text} 中的 {name} 是文字，不能参与计算")
            self.used.add(name)
        if not f.names <= set(scope.types):
            return
        try:
            got = value_type(f, scope.types)
        except FormulaError as e:
            self.report(file, path, str(e))
            return
        if got != want:
            self.report(file, path, f"公式 {f.text} 的结果应为{'条件（比较）' if want == 'truth' else '数值'}")

    def _unknown(self, name: str, scope: _Scope, file: str, path: tuple, where: str) -> None:
        if name in self.broken:
            return
        self.undefined.add(name)
        later = {r.item for r in self.rs.rules} | {r.undistributed.item for r in self.rs.rules if r.undistributed}
        if name in later and name not in scope.types:
            self.report(file, path, f"{where} 使用了后面规则才计算的项目 {name}")
        else:
            self.report(file, path, f"{where[:60]} 中的名称 {name} 没有定义", hint=nearest(name, scope.types))

    def template(self, t: Template | None, scope: _Scope, at: tuple) -> None:
        if t is None:
            return
        file, path = at
        for name in sorted(t.names):
            if name not in scope.types:
                if name in self.broken:
                    continue
                self.undefined.add(name)
                self.report(file, path, f"文字中的 {{{name}}} 没有定义", hint=nearest(name, scope.types))
            elif scope.types[name] == MAPPING:
                self.report(file, path, f"文字中的 {{{name}}} 是按项目列出的取值，不能直接显示")
            self.used.add(name)
        for part in t.parts:  # a number format on a text (a label, a name) would be ignored
            if isinstance(part, tuple) and scope.types.get(part[0]) == TEXT and part[1] not in (None, "text"):
                self.report(file, path, f"文字中的 {{{part[0]}:{part[1]}}}：{part[0]} 是文字，不能按 {part[1]} 格式显示，"
                                        f"请写 {{{part[0]}}}")  # fmt: skip

    def lets(self, lets: dict[str, Formula], scope: _Scope, at: tuple, period: bool = False) -> _Scope:
        """Lets in order: each may use the ones above it."""
        file, path = at
        for name, f in lets.items():
            if name in scope.types:
                self.report(file, (*path, name), f"中间量 {name} 与已有名称重名")
            self.formula(f, scope, (file, (*path, name)), period=period)
            scope = scope.add({name: NUMBER}, period=period)
        return scope

    def cites(self, cites: Iterable) -> None:
        self.cited |= {(c.source, c.clause) for c in cites}

    # -- conditions ----------------------------------------------------------------------------
    def when(self, when: dict, at: tuple, allowed: Iterable[str] = CONDITION_FIELDS) -> None:
        file, path = at
        allowed = set(allowed)
        valid = {"kind": set(KINDS), "quarter": {"1", "2", "3", "4"}, "guarantee": {"0", "1"}, "veto": {"0", "1"}}
        for key, want in when.items():
            if key not in allowed:
                self.report(file, (*path, key), f"这里的条件只能用 {', '.join(sorted(allowed))}")
                continue
            if key == "score":
                for op, v in want.items():
                    if not 0 <= float(v) <= 100 or ("." in v and len(v.split(".")[1]) > 1):
                        self.report(file, (*path, key, op), f"得分条件 {op} {v} 应在 0–100 之间、最多一位小数")
                continue
            for v in want:
                if v not in valid[key]:
                    self.report(file, (*path, key), f"{key} 的取值 {v} 不认识", hint=nearest(v, valid[key]))

    # -- rules --------------------------------------------------------------------------------------
    def rules(self) -> None:
        before: dict[str, str] = {}
        for i, rule in enumerate(self.rs.rules):
            at = ("rules.yaml", ("rules", i))
            self.rule(rule, before, at)
            self.produced.add(rule.item)
            before[rule.item] = NUMBER
            if rule.undistributed:
                self.produced.add(rule.undistributed.item)
                before[rule.undistributed.item] = NUMBER

    def rule(self, rule: Rule, before: dict[str, str], at: tuple) -> None:
        file, path = at
        self.cites(rule.cite)
        self.when(rule.when, (file, (*path, "when")))
        self._item(rule.item, (file, (*path, "item")))
        scope = self.base.add(before)
        self.template(rule.title, _Scope({k: v for k, v in self.base.types.items() if k in self.base.period},
                                         set(self.base.period)), (file, (*path, "title")))  # fmt: skip
        self.formula(rule.only_if, scope, (file, (*path, "only_if")), period=True, want="truth")
        pscope = self.lets(rule.period_let, scope, (file, (*path, "period_let")), period=True)
        self.formula(rule.total, pscope, (file, (*path, "total")), period=True)
        uscope = self.lets(rule.let, pscope, (file, (*path, "let")))
        for key in ("amount", "quantity", "weight"):
            self.formula(getattr(rule, key), uscope, (file, (*path, key)))
        for lvl, f in rule.weights.items():
            self.formula(f, uscope, (file, (*path, "weights", lvl)))
        kind_names = KIND_NAMES[rule.kind] | LINE_NAMES
        tscope = uscope.add(kind_names)
        self.template(rule.explain, tscope, (file, (*path, "explain")))
        self.statement(rule.statement, tscope, (file, (*path, "statement")))
        self._breakdown_computed(rule, (file, (*path, "statement", "breakdown")))
        rscope = pscope.add({"total": NUMBER}, period=True)
        for name, (_, f) in rule.report.items():
            self.formula(f, rscope, (file, (*path, "report", name, "formula")), period=True)
        self._kind_parts(rule, at)
        self._availability(_all_names(rule), rule.when, at)
        self._unused_lets(rule, at)

    def statement(self, st: Statement, scope: _Scope, at: tuple) -> None:
        file, path = at
        for i, (cond, text) in enumerate(st.cases):
            self.formula(cond, scope, (file, (*path, "cases", i, "when")), want="truth")
            self.template(text, scope, (file, (*path, "cases", i, "text")))
            for name in sorted(_absmoney(text) - _negative(cond)):
                self.report(file, (*path, "cases", i, "text"),
                            f"{{{name}:absmoney}} 去掉了负号，只能用在 when 写明 {name} < 0 的情况里"
                            f"（否则补发的金额也会印成“应退回”）")  # fmt: skip
        labels: dict[str, int] = {}
        for i, (label, name, _) in enumerate(st.rows):
            if label in labels:
                self.report(file, (*path, "rows", i, "label"),
                            f"结算单数值表第{labels[label] + 1}行和第{i + 1}行都叫“{label}”：村医分不清哪个数是哪一项")  # fmt: skip
            labels.setdefault(label, i)
            if name not in scope.types and name not in self.broken:
                self.undefined.add(name)
                self.report(file, (*path, "rows", i, "value"), f"结算单要显示的 {name} 没有定义",
                            hint=nearest(name, scope.types))  # fmt: skip
            self.used.add(name)
        if st.breakdown:
            for name in st.breakdown[:2]:
                if scope.types.get(name) != MAPPING:
                    self.report(
                        file, (*path, "breakdown"), f"明细表的 {name} 应为按项目列出的取值（如 workpoints、ph_points）"
                    )
                self.used.add(name)

    def _breakdown_computed(self, rule: Rule, at: tuple) -> None:
        """The breakdown table prints Σ count × weight item by item; unless the rule computes that
        very dot(counts, weights), its total is not the rule's number (swapped or repeated names
        printed "63×63=3,969" beside a text saying 2,558 points)."""
        bd = rule.statement.breakdown
        if bd is None or bd[:2] in _dots(rule):
            return
        self.report(*at, f"明细表列出 {bd[0]} × {bd[1]}，但规则的公式中没有 dot({bd[0]}, {bd[1]})："
                         "明细表的合计会与规则算出的数对不上")  # fmt: skip

    def _item(self, item: str, at: tuple) -> None:
        if item not in self.rs.items:
            self.undefined.add(item)
            self.report(*at, f"项目 {item} 没有在 items.yaml 中声明", hint=nearest(item, self.rs.items))

    def _kind_parts(self, rule: Rule, at: tuple) -> None:
        file, path = at
        if rule.history_item is not None:
            self._item(rule.history_item, (file, (*path, "history_item")))
        if rule.level_ratio is not None:
            p = self.rs.parameters.get(rule.level_ratio)
            self.used.add(rule.level_ratio)
            if p is None and rule.level_ratio in self.broken:
                pass  # its values were refused: reported once, where they are
            elif p is None or not p.is_mapping:
                self.undefined.add(rule.level_ratio)
                self.report(file, (*path, "level_ratio"), f"level_ratio 应为按层级列出的参数，{rule.level_ratio} 不是",
                            hint=nearest(rule.level_ratio, self.rs.parameters))  # fmt: skip
            else:
                levels = {k for _, v in p.values if isinstance(v, dict) for k in v}
                for bad in sorted(levels - set(LEVELS)):
                    where = self._mapping_key(rule.level_ratio, bad)
                    self.report("parameters.yaml", where, f"层级 {bad} 不认识：只能是 {', '.join(LEVELS)}",
                                hint=nearest(bad, LEVELS))  # fmt: skip
                if set(rule.weights) != levels:
                    self.report(
                        file,
                        (*path, "weights"),
                        f"weights 的层级应与 {rule.level_ratio} 一致：{', '.join(sorted(levels))}",
                    )
        if rule.weight_labels and set(rule.weight_labels) != set(rule.weights):
            self.report(file, (*path, "weight_labels"), "weight_labels 的层级应与 weights 一致")
        if rule.undistributed:
            u = rule.undistributed
            self._item(u.item, (file, (*path, "undistributed", "item")))
            if u.release_parked and rule.kind != "settlement":
                self.report(
                    file, (*path, "undistributed", "release_parked"), "只有 settlement（年终清算）规则能释放暂记金额"
                )
            uscope = self.base.add(UNDISTRIBUTED_NAMES).add(dict.fromkeys(rule.period_let, NUMBER))
            self.template(u.explain, uscope, (file, (*path, "undistributed", "explain")))
            self.statement(u.statement, uscope, (file, (*path, "undistributed", "statement")))

    def _availability(self, names: set[str], when: dict, at: tuple, who: str = "规则") -> None:
        """Q4-only period values in a rule or check that runs in other quarters; fields of a table
        that not every unit it applies to has (a check's prior_<field> counts as the field)."""
        file, path = at
        q = when.get("quarter")
        quarters = None if q is None else {int(x) for x in (q if isinstance(q, list) else [q])}
        for name in sorted(names & PERIOD_Q4_ONLY):
            if quarters != {4}:
                self.report(file, (*path, "when"), f"{who}用到了只在第四季度填写的 {name}，when 应限定 quarter: 4")
        fields = unit_fields()
        for name in sorted(n for n in names if n.removeprefix(PRIOR) in fields):
            table = table_of(name.removeprefix(PRIOR))
            need = PRESENT_WHEN.get(table)
            if need and any(set(when.get(k) or []) - set(v) or k not in when for k, v in need.items()):
                cond = "、".join(f"{k}: {v[0]}" for k, v in need.items())
                self.report(file, (*path, "when"), f"{who}用到了 {name}（只有部分机构填写），when 应限定 {cond}")

    def _unused_lets(self, rule: Rule, at: tuple) -> None:
        file, path = at
        readers = _all_names(rule, lets=False) | {n for f in rule.let.values() for n in f.names}
        readers |= {n for f in rule.period_let.values() for n in f.names}
        for group, lets in (("let", rule.let), ("period_let", rule.period_let)):
            for name in lets:
                if name not in readers:
                    self.report(file, (*path, group, name), f"中间量 {name} 没有被任何公式或文字使用",
                                hint=nearest(name, readers - set(lets)))  # fmt: skip

    # -- checks ---------------------------------------------------------------------------------
    def checks(self) -> None:
        items = dict.fromkeys(self.rs.items, NUMBER)
        prior = {f"{PRIOR}{n}": t for n, t in self.base.types.items() if n in unit_fields() and t == NUMBER}
        prior |= {f"{PRIOR}{WORKPOINTS}": MAPPING} | {f"{PRIOR}{i}": NUMBER for i in self.rs.items}
        scope = self.base.add(items).add(prior)
        ids = set()
        for i, c in enumerate(self.rs.checks):
            file, path = "checks.yaml", ("checks", i)
            if c.id in ids:
                self.report(file, (*path, "id"), f"提示编号 {c.id} 重复")
            ids.add(c.id)
            self.cites(c.cite)
            self.when(c.when, (file, (*path, "when")))
            cscope = self.lets(c.let, scope, (file, (*path, "let")))
            self.formula(c.condition, cscope, (file, (*path, "condition")), want="truth")
            self.template(c.message, cscope, (file, (*path, "message")))
            readers = set(c.condition.names) | set(c.message.names) | {n for f in c.let.values() for n in f.names}
            self._availability(readers, c.when, at=(file, path), who="提示")
            for name in c.let:
                if name not in readers:
                    self.report(file, (*path, "let", name), f"中间量 {name} 没有被条件或提示文字使用",
                                hint=nearest(name, readers - set(c.let)))  # fmt: skip

    # -- what is declared but never takes effect -----------------------------------------------------
    def clashes(self) -> None:
        """A parameter or table named like an input field, a period value, a table, an item or a
        name a rule kind provides is never read: a formula's name means the other thing."""
        period = set(PERIOD_FIELD_TYPES) | {"quarter"}
        period |= {f"{prefix}_{t}{end}" for prefix in PERIOD_SCORE_PREFIX.values() for t in self.rs.tables
                   for end in ("", "_label")}  # fmt: skip
        unit = set(unit_fields()) | {WORKPOINTS, "kind_name"}
        provided = set(LINE_NAMES) | set(UNDISTRIBUTED_NAMES) | {n for k in KIND_NAMES.values() for n in k}
        tables = set(self.rs.tables) | {f"{t}_label" for t in self.rs.tables}
        what = [
            (period, "期间的取值"),
            (unit, "输入字段"),
            (set(self.rs.items), "台账项目"),
            (provided, "规则计算提供的名称"),
        ]
        for name in self.rs.parameters:
            other = next((w for names, w in [(tables, "决策表"), *what] if name in names), None)
            if other is not None:
                self.report("parameters.yaml", (name,),
                            f"参数 {name} 与{other} {name} 重名：公式和文字中的 {name} 读的是{other}，这个参数不会生效")  # fmt: skip
        for tid in self.rs.tables:
            other = next((w for names, w in what if tid in names or f"{tid}_label" in names), None)
            if other is not None:
                self.report("tables.yaml", (tid,),
                            f"决策表 {tid} 与{other}重名：请换一个名称，以免公式中的 {tid} 指代不明")  # fmt: skip

    def unused(self, meta: S.Meta) -> None:
        self._duplicate_rule_ids()
        self._duplicate_item_names()
        used = self.used | _table_names(self.rs) | {self.rs.workpoint_items}
        missing = self.undefined - set(self.rs.parameters) - set(self.rs.tables) - set(self.rs.items)
        for name in self.rs.parameters:
            if name not in used:
                self.report("parameters.yaml", (name,), f"参数 {name} 没有被任何规则、决策表或提示使用",
                            hint=nearest(name, missing))  # fmt: skip
        prefixed = {n.split("_", 1)[1].removesuffix("_label") for n in used if "_" in n}
        for tid in self.rs.tables:
            if tid not in used and f"{tid}_label" not in used and tid not in prefixed:
                self.report("tables.yaml", (tid,), f"决策表 {tid} 没有被任何规则使用", hint=nearest(tid, missing))
        for code in self.rs.items:
            if code not in self.produced:
                self.report("items.yaml", ("items", code), f"项目 {code} 已声明，但没有规则产生它",
                            hint=nearest(code, missing))  # fmt: skip
        self._uncited(meta)
        wp = self.rs.parameters.get(self.rs.workpoint_items)
        if wp is None or not wp.is_mapping:
            self.report("ruleset.yaml", ("workpoint_items",), "workpoint_items 应为按服务项目列出的参数",
                        hint=nearest(self.rs.workpoint_items, self.rs.parameters))  # fmt: skip

    def _duplicate_item_names(self) -> None:
        """Statements, the ledger and the payment lists show an item by its name: two items of one
        name read as one item paid twice (or one amount under two headings)."""
        first: dict[str, str] = {}
        for code, item in self.rs.items.items():
            if item.name in first:
                self.report("items.yaml", ("items", code, "name"),
                            f"项目 {code} 与 {first[item.name]} 同名“{item.name}”：结算单和台账上分不清是哪一项")  # fmt: skip
            first.setdefault(item.name, code)

    def _duplicate_rule_ids(self) -> None:
        ids = set()
        for i, r in enumerate(self.rs.rules):
            if r.id in ids:
                self.report("rules.yaml", ("rules", i, "id"), f"规则编号 {r.id} 重复")
            ids.add(r.id)

    def _uncited(self, meta: S.Meta) -> None:
        """Excerpts no rule, parameter, table or check cites; a source none of whose clauses is
        cited is reported once, at its key (a misspelt source id looks like this)."""
        for src_id, src in meta.sources.items():
            if not any((src_id, clause) in self.cited for clause in src.clauses):
                self.report("ruleset.yaml", ("sources", src_id),
                            f"登记了政策文件 {src_id}，但没有规则、参数或决策表引用它",
                            hint=nearest(src_id, {s for s, _ in self.missing_cites}))  # fmt: skip
                continue
            for clause in src.clauses:
                if (src_id, clause) not in self.cited:
                    self.report("ruleset.yaml", ("sources", src_id, "clauses", clause),
                                f"摘录了条款 {clause}，但没有规则、参数或决策表引用它",
                                hint=nearest(clause, {c for s, c in self.missing_cites if s == src_id}))  # fmt: skip

    def _mapping_key(self, param: str, key: str) -> tuple:
        """Where a key of a mapping-valued parameter is written (for a problem's line)."""
        doc = self.docs.get("parameters.yaml")
        values = (doc.data.get(param) or {}).get("values") if doc is not None and isinstance(doc.data, dict) else None
        for i, v in enumerate(values if isinstance(values, list) else []):
            if isinstance(v, dict) and isinstance(v.get("value"), dict) and key in v["value"]:
                return (param, "values", i, "value", key)
        return (param,)

    def tables(self) -> None:
        base = self.base.add({"score": NUMBER, "veto": NUMBER})
        for tid, t in self.rs.tables.items():
            self.cites(t.cite)
            for v in t.versions:
                for i, row in enumerate(v.rows):
                    at = ("tables.yaml", (tid, "rows", i))
                    self.when(row.when, ("tables.yaml", (*at[1], "when")), allowed=TABLE_CONDITION_FIELDS)
                    # a row's value may use the score, veto and parameters only
                    scope = _Scope({n: base.types[n] for n in base.period | {"score", "veto"}}, base.period)
                    self.formula(row.value, scope, ("tables.yaml", (*at[1], "value")))
                    pscope = _Scope({n: base.types[n] for n in base.period}, base.period)
                    self.template(row.label, pscope, ("tables.yaml", (*at[1], "label")))
                    for e in row.band or ():
                        if isinstance(e, str) and e in self.broken:
                            continue
                        if isinstance(e, str) and self.rs.parameters.get(e) is None:
                            self.undefined.add(e)
                            self.report("tables.yaml", (*at[1], "band"), f"分档边界 {e} 不是参数",
                                        hint=nearest(e, self.rs.parameters))  # fmt: skip
                        elif isinstance(e, str) and self.rs.parameters[e].is_mapping:
                            self.report("tables.yaml", (*at[1], "band"), f"分档边界 {e} 是按项目列出的参数，不是一个数")
        for p in self.rs.parameters.values():
            self.cites(p.cite)


def _table_names(rs: Ruleset) -> set[str]:
    """Names the decision tables read: row values, labels and band edges (parameters)."""
    out: set[str] = set()
    for t in rs.tables.values():
        for v in t.versions:
            for r in v.rows:
                out |= r.value.names | (r.label.names if r.label else set())
                out |= {e for e in r.band or () if isinstance(e, str)}
    return out


def _absmoney(t: Template | None) -> set[str]:
    return {p[0] for p in (t.parts if t else ()) if isinstance(p, tuple) and p[1] == "absmoney"}


def _negative(cond: Formula | None) -> set[str]:
    """The names a case's condition requires to be negative: `x < 0` or `x <= 0` (or `0 > x`),
    alone or as one term of an `and`."""
    if cond is None:
        return set()
    terms = cond.tree.values if isinstance(cond.tree, ast.BoolOp) and isinstance(cond.tree.op, ast.And) else [cond.tree]
    out = set()
    for c in terms:
        if not (isinstance(c, ast.Compare) and len(c.ops) == 1):
            continue
        left, op, right = c.left, c.ops[0], c.comparators[0]
        if isinstance(op, (ast.Gt, ast.GtE)):
            left, right = right, left
        elif not isinstance(op, (ast.Lt, ast.LtE)):
            continue
        if isinstance(left, ast.Name) and isinstance(right, ast.Constant) and right.value == 0:
            out.add(left.id)
    return out


def _dots(rule: Rule) -> set[tuple[str, str]]:
    """The (counts, weights) names of every dot(counts, weights) in the rule's formulas."""
    fs: list[Formula | None] = [rule.amount, rule.quantity, rule.weight, *rule.weights.values()]
    fs += [*rule.let.values(), *rule.period_let.values()]
    out = set()
    for f in fs:
        for node in ast.walk(f.tree) if f is not None else ():
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dot":
                args = node.args
                if len(args) == 2 and isinstance(args[0], ast.Name) and isinstance(args[1], ast.Name):
                    out.add((args[0].id, args[1].id))
    return out


def _all_names(rule: Rule, lets: bool = True) -> set[str]:
    fs: list[Formula | None] = [rule.only_if, rule.total, rule.amount, rule.quantity, rule.weight]
    fs += list(rule.weights.values()) + [f for _, f in rule.report.values()]
    if lets:
        fs += list(rule.let.values()) + list(rule.period_let.values())
    out = {n for f in fs if f is not None for n in f.names}
    out |= rule.explain.names | rule.statement.names()
    if rule.undistributed:
        out |= rule.undistributed.explain.names | rule.undistributed.statement.names()
    return out


def check_names(rs: Ruleset, meta: S.Meta, report: Report, docs: dict,
                missing_cites: set[tuple[str, str]] | None = None, broken: set[str] | None = None) -> None:  # fmt: skip
    c = _Checker(rs, meta, report, docs, missing_cites, broken)
    c.tables()
    c.rules()
    c.checks()
    c.clashes()
    c.unused(meta)
