"""Computing one alliance-quarter: a pure function of (quarter inputs, ruleset, history).

Rules run in the order the ruleset lists them; each rule kind is a small function here.
durable-rules decides which institutions a rule applies to and which decision-table row
each institution falls in; every amount is then computed exactly (Fraction → round2) and
every ledger line is born with its trace.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import lru_cache

from ..lang.formula import Formula, FormulaError
from ..model.facts import Quarter
from ..model.fields import LEVEL_NAMES, LEVEL_OF_KIND
from ..model.money import fen, fmt_amount, fmt_exact, from_fen, group_thousands, largest_remainder, to_fraction
from ..ruleset.load import LEVELS, Resolved, Rule, Ruleset
from .matcher import Matcher, score10


def assessment_key(score_10: int, veto: int) -> str:
    return f"s{score_10}v{veto}"


class ComputeError(Exception):
    pass


@dataclass
class Line:
    period: str
    inst_id: str
    inst_name: str
    kind: str
    item: str
    item_name: str
    amount: Decimal
    quantity: str
    rule_id: str
    trace: dict

    @property
    def level(self) -> str:
        return LEVEL_OF_KIND.get(self.kind, "")


@dataclass
class HistoryLine:
    period: str
    inst_id: str
    inst_name: str
    kind: str
    item: str
    amount: Decimal
    quantity: Fraction


@dataclass
class Result:
    period: str
    lines: list[Line]
    checks: list[dict] = field(default_factory=list)  # reconciliation, one per allocation rule
    reports: list[dict] = field(default_factory=list)  # period figures a rule reports (e.g. returned funds)
    warnings: list[str] = field(default_factory=list)


def _show(v) -> str:
    if isinstance(v, Decimal):
        return fmt_amount(v) if v == v.quantize(Decimal("0.01")) else str(v)
    if isinstance(v, Fraction):
        return fmt_exact(v)
    if isinstance(v, dict):
        return "；".join(f"{k} {_show(x)}" for k, x in sorted(v.items())) or "无"
    return str(v)


_PLACE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)(:money)?\}")
_MONEYISH = re.compile(r"^-?\d{4,}\.\d{2}$")


def _group(s: str) -> str:
    return group_thousands(s) if _MONEYISH.match(s) else s


_LONG = re.compile(r"^-?\d+\.\d{7,}$")


def _readable(s: str) -> str:
    """For people: thousands separators on amounts, long fractions shown to 6 places with ≈
    (the exact value stays in the trace)."""
    if _LONG.match(s):
        return "≈" + f"{Decimal(s):.6f}"
    return _group(s)


@lru_cache(maxsize=256)
def _parts(template: str) -> tuple:
    """The template split once into literal text and (name, spec) placeholders."""
    text, out, pos = _join_lines(template), [], 0
    for m in _PLACE.finditer(text):
        out.append(text[pos : m.start()])
        out.append((m.group(1), m.group(2), m.group(0)))
        pos = m.end()
    out.append(text[pos:])
    return tuple(out)


def _join_lines(template: str) -> str:
    """Lines of a Chinese text join without a space, unless Latin text or a {name} meets."""
    out = ""
    for line in (l.strip() for l in template.splitlines()):
        if (
            out
            and line
            and (
                (out[-1].isascii()
                and out[-1].isalnum())
                or out[-1] == "}"
                or line[0] in "{"
                or (line[0].isascii()
                and line[0].isalnum())
            )
        ):
            out += " "
        out += line
    return out


def render_explain(template: str, values: dict[str, str]) -> str:
    return "".join(
        p if isinstance(p, str) else (_fill(values[p[0]], p[1]) if p[0] in values else p[2]) for p in _parts(template)
    )


def _fill(value: str, spec: str | None) -> str:
    """`{x:money}` shows a value that is a whole number of fen as an amount (1,000,000.00)."""
    if spec and re.match(r"^-?\d+(\.\d{1,2})?$", value):
        return group_thousands(f"{Decimal(value):.2f}")
    return _readable(value)


class _Context:
    """Names a formula can see: parameters, period values, institution facts, table values,
    items of earlier rules, and the rule's own lets."""

    def __init__(self, q: Quarter, resolved: Resolved, tables: dict):
        self.q, self.resolved = q, resolved
        p = q.period
        self.period_env = {
            **resolved.param_env(),
            "quarter": Fraction(p.quarter),
            "ph_annual_budget": p.ph_annual_budget,
        }
        for k in ("mi_budget", "mi_spent", "alliance_score"):
            if getattr(p, k) is not None:
                self.period_env[k] = getattr(p, k)
        self.table_rows = tables
        self._base: dict[str, dict] = {}
        self._shown: dict = {}
        self._base_shown: dict[str, dict] = {}
        self.items: dict[str, dict[str, Decimal]] = defaultdict(dict)  # inst → item → amount
        if p.alliance_score is not None:
            base = {**self.period_env, "score": to_fraction(p.alliance_score), "veto": Fraction(0)}
            key = assessment_key(score10(to_fraction(p.alliance_score)), 0)
            for tid in resolved.tables:
                self.period_env[f"alliance_{tid}"] = self.table_value(tid, key, base)

    def show(self, inst_id: str, name: str, v) -> str:
        """Display text of a value; period-wide values (parameters) are formatted once, an
        institution's input facts keep the text they were given in."""
        hit = self._base_shown.get(inst_id, {}).get(name)
        if hit is not None and hit[0] is v:
            return _show(hit[1])
        hit = self._shown.get(name)
        if hit is not None and hit[0] is v:
            return hit[1]
        text = _show(v)
        if self.period_env.get(name) is v:
            self._shown[name] = (v, text)
        return text

    def detail(self, name: str, v: dict) -> dict:
        """A mapping (work points by item, points per item) item by item, for statements;
        a period-wide one (a parameter) is formatted once."""
        hit = self._shown.get(("detail", name))
        if hit is not None and hit[0] is v:
            return hit[1]
        out = {k: _show(x) for k, x in sorted(v.items())}
        if self.period_env.get(name) is v:
            self._shown[("detail", name)] = (v, out)
        return out

    def table_value(self, tid: str, fid: str, env: dict) -> Fraction:
        table = self.resolved.tables[tid]
        rows = self.table_rows.get(tid, {}).get(fid, [])
        if not rows:
            raise ComputeError(f"决策表 {tid} 对 {fid} 没有匹配的行")
        if table.hit_policy == "unique" and len(rows) > 1:
            raise ComputeError(f"决策表 {tid} 对 {fid} 匹配了多行（hit_policy: unique）")
        return table.rows[rows[0]].value(env)

    def unit_env(self, inst_id: str, rule: Rule) -> dict:
        """A fresh copy per rule (lets write into it); the facts and table values are built
        once per institution."""
        base = self._base.get(inst_id)
        if base is None:
            base = self._base[inst_id] = self._unit_base(inst_id)
        env = dict(base)
        env.update(self.items.get(inst_id, {}))
        return env

    def _unit_base(self, inst_id: str) -> dict:
        """Facts of one institution as exact numbers, plus its decision-table values. The text
        each input shows in the trace (amounts keep their 2 decimals) is kept beside it."""
        q = self.q
        inst = q.institutions[inst_id]
        a = q.assessment[inst_id]
        raw = dict(
            perf_base_annual=inst.perf_base_annual,
            staff_count=inst.staff_count,
            population=inst.population,
            guarantee=inst.guarantee,
            workload_target=inst.workload_target,
            score=a.score,
            veto=a.veto,
        )
        inc = q.income.get(inst_id)
        if inc is not None:
            raw.update(
                drug_subsidy=inc.drug_subsidy,
                service_fee=inc.service_fee,
                operating_subsidy=inc.operating_subsidy,
                medical_income=inc.medical_income,
                visits=inc.visits,
            )
        env = dict(self.period_env)
        facts = {k: Fraction(v) for k, v in raw.items()}
        env.update(facts, workpoints=q.workpoints.get(inst_id, {}))
        key = assessment_key(score10(facts["score"]), a.veto)
        for tid in self.resolved.tables:
            env[tid] = self.table_value(tid, key, env)
        for r in self.resolved.ruleset.rules:
            env.setdefault(r.item, Fraction(0))
        self._base_shown[inst_id] = {k: (facts[k], v) for k, v in raw.items()}
        return env


def _eval_lets(lets: dict[str, Formula], env: dict, where: str) -> dict:
    out = {}
    for name, f in lets.items():
        try:
            env[name] = out[name] = f(env)
        except FormulaError as e:
            raise ComputeError(f"{where} {name}: {e}") from e
    return out


def _ev(f: Formula, env: dict, where: str):
    try:
        return f(env)
    except FormulaError as e:
        raise ComputeError(f"{where}: {e}") from e


def _fen_exact(v, where: str) -> Decimal:
    f = to_fraction(v)
    if (f * 100).denominator != 1:
        raise ComputeError(f"{where} 的金额 {fmt_exact(f)} 不是整分：规则应在公式中用 round2 取整")
    return from_fen(int(f * 100))


def _in_period(rule: Rule, quarter: int) -> bool:
    """A rule whose `when` names quarters is out of play in other quarters, even for
    period-level parts (totals, only_if) that do not depend on any institution."""
    want = rule.when.get("quarter")
    if want is None:
        return True
    return quarter in (want if isinstance(want, list) else [want])


class Engine:
    def __init__(self, ruleset: Ruleset):
        self.ruleset = ruleset

    def compute(self, q: Quarter, history: list[HistoryLine] | None = None) -> Result:
        resolved = self.ruleset.resolve(q.period.first_day)
        insts = [
            {
                "id": iid,
                "kind": inst.kind,
                "quarter": q.period.quarter,
                "guarantee": inst.guarantee,
                "veto": q.assessment[iid].veto,
                "score10": score10(to_fraction(q.assessment[iid].score)),
            }
            for iid, inst in sorted(q.institutions.items())
        ]
        results = {(f["score10"], f["veto"]) for f in insts}
        if q.period.alliance_score is not None:
            results.add((score10(to_fraction(q.period.alliance_score)), 0))
        matched, tables = Matcher(resolved).match(
            insts, [{"id": assessment_key(s, v), "score10": s, "veto": v} for s, v in sorted(results)]
        )
        ctx = _Context(q, resolved, tables)
        run = _Run(q, resolved, ctx, history or [])
        for rule in self.ruleset.rules:
            units = sorted(matched.get(rule.id, ()))
            if not _in_period(rule, q.period.quarter):
                continue
            if rule.only_if is not None and not _ev(rule.only_if, dict(ctx.period_env), f"规则 {rule.id} only_if"):
                continue
            getattr(run, rule.kind)(rule, units)
        run.lines.sort(key=lambda l: (l.inst_id, l.item))
        run.warn_common()
        return Result(q.period.period, run.lines, run.checks, run.reports, run.warnings)


class _Run:
    def __init__(self, q: Quarter, resolved: Resolved, ctx: _Context, history: list[HistoryLine]):
        self.q, self.resolved, self.ctx, self.history = q, resolved, ctx, history
        self.lines: list[Line] = []
        self.checks: list[dict] = []
        self.reports: list[dict] = []
        self.warnings: list[str] = []
        self._names: dict[str, list[str]] = {}
        self._texts: dict[str, dict] = {}

    # -- helpers --------------------------------------------------------------------------
    def _line(
        self,
        rule: Rule,
        inst_id: str,
        amount: Decimal,
        quantity,
        values: dict,
        formulas: dict,
        item: str | None = None,
        item_name: str | None = None,
        name=None,
        kind=None,
    ) -> Line:
        inst = self.q.institutions.get(inst_id)
        item = item or rule.item
        shown = {k: self.ctx.show(inst_id, k, v) for k, v in values.items()}
        detail = {k: self.ctx.detail(k, v) for k, v in values.items() if isinstance(v, dict)}
        shown["amount"] = fmt_amount(amount)
        if "veto" in values:
            shown["veto"] = "是" if values["veto"] else "否"
        if "score" in values:  # the score as the assessment gave it (85, 85.5), not 85.0
            shown["score"] = fmt_exact(values["score"])
        if inst is not None:
            shown.setdefault("director", inst.director or "（未填写）")
        trace = {
            "period": self.q.period.period,
            "alliance": self.q.period.alliance,
            "inst_id": inst_id,
            "inst_name": name or inst.name,
            "kind": kind or inst.kind,
            "item": item,
            "parent_id": inst.parent_id if inst else "",
            "director": inst.director if inst else "",
            "item_name": item_name or rule.item_name,
            "amount": fmt_amount(amount),
            "quantity": "" if quantity is None else fmt_exact(quantity),
            "rule": {
                "id": rule.id,
                "title": rule.title,
                "kind": rule.kind,
                "cite": [
                    {"source": c.source, "clause": c.clause, "title": c.title, "text": c.text()} for c in rule.cite
                ],
            },
            "formula": {k: v for k, v in formulas.items() if v},
            "values": shown,
            "detail": detail,
            "explain": render_explain(rule.explain, shown)
            if item == rule.item
            else f"{item_name}：本期可分配总额中无法按规则分配的部分 {fmt_amount(amount)} 元，记在牵头医院名下，待医共体研究处理",
        }
        line = Line(
            self.q.period.period,
            inst_id,
            trace["inst_name"],
            trace["kind"],
            item,
            trace["item_name"],
            amount,
            trace["quantity"],
            rule.id,
            trace,
        )
        self.lines.append(line)
        if item == rule.item:
            self.ctx.items[inst_id][item] = amount
        return line

    def _formula_texts(self, rule: Rule) -> dict:
        """The rule's formulas as text, for the trace (built once per rule, shared by its lines)."""
        cached = self._texts.get(rule.id)
        if cached is not None:
            return cached
        out = self._texts[rule.id] = {
            "let": {k: f.text for k, f in rule.let.items()},
            "period_let": {k: f.text for k, f in rule.period_let.items()},
        }
        for k in ("amount", "quantity", "total", "weight", "only_if"):
            f = getattr(rule, k)
            if f is not None:
                out[k] = f.text
        if rule.weights:
            out["weights"] = {k: f.text for k, f in rule.weights.items()}
        return out

    def _inputs(self, rule: Rule, env: dict) -> dict:
        """Every named value the rule's formulas and explanation use (names worked out once per rule)."""
        names = self._names.get(rule.id)
        if names is None:
            found = set()
            for f in self._all_formulas(rule):
                if f is not None:
                    found |= f.names
            found |= {m[0] for m in _PLACE.findall(rule.explain)}
            names = self._names[rule.id] = sorted(found)
        return {n: env[n] for n in names if n in env}

    def _period_total(self, rule: Rule):
        penv = dict(self.ctx.period_env)
        plets = _eval_lets(rule.period_let, penv, f"规则 {rule.id}")
        total = _fen_exact(_ev(rule.total, penv, f"规则 {rule.id} total"), f"规则 {rule.id} total")
        return penv, plets, total

    def _all_formulas(self, rule: Rule):
        return [
            *rule.let.values(),
            *rule.period_let.values(),
            rule.amount,
            rule.quantity,
            rule.total,
            rule.weight,
            *rule.weights.values(),
        ]

    def _undistributed(self, rule: Rule, amount: Decimal, values: dict):
        if amount > 0 and rule.undistributed:
            lead = self.q.lead
            u = rule.undistributed
            self._line(
                rule,
                lead.inst_id,
                amount,
                None,
                values,
                self._formula_texts(rule),
                item=u["item"],
                item_name=u["item_name"],
            )
            self.warnings.append(f"{u['item_name']} {fmt_amount(amount)} 元（规则 {rule.id}）记在牵头医院名下")

    # -- rule kinds ----------------------------------------------------------------------
    def formula(self, rule: Rule, units: list[str]):
        for iid in units:
            env = self.ctx.unit_env(iid, rule)
            lets = _eval_lets(rule.let, env, f"规则 {rule.id}（{iid}）")
            amount = _fen_exact(_ev(rule.amount, env, f"规则 {rule.id}（{iid}）amount"), f"规则 {rule.id}（{iid}）")
            qty = _ev(rule.quantity, env, f"规则 {rule.id}") if rule.quantity else None
            values = {**self._inputs(rule, env), **lets}
            self._line(rule, iid, amount, qty, values, self._formula_texts(rule))

    def allocation(self, rule: Rule, units: list[str]):
        penv, plets, total = self._period_total(rule)
        envs, weights = {}, {}
        for iid in units:
            env = self.ctx.unit_env(iid, rule)
            env.update(plets)
            envs[iid] = (env, _eval_lets(rule.let, env, f"规则 {rule.id}（{iid}）"))
            weights[iid] = _ev(rule.weight, env, f"规则 {rule.id}（{iid}）weight")
        wsum = sum(weights.values(), Fraction(0))
        shares = largest_remainder(fen(total), weights)
        for iid in units:
            env, lets = envs[iid]
            amount = from_fen(shares.get(iid, 0))
            qty = _ev(rule.quantity, env, f"规则 {rule.id}") if rule.quantity else None
            values = {
                **self._inputs(rule, env),
                **plets,
                **lets,
                "total": total,
                "weight": weights[iid],
                "weight_sum": wsum,
                "exact_share": (Fraction(fen(total)) * weights[iid] / wsum / 100) if wsum else Fraction(0),
            }
            self._line(rule, iid, amount, qty, values, self._formula_texts(rule))
        undistributed = total if wsum == 0 else Decimal("0.00")
        self._undistributed(rule, undistributed, {"total": total, "weight_sum": wsum})
        self._report(rule, {**penv, "total": total})
        self._check(rule, total, sum((from_fen(v) for v in shares.values()), Decimal("0.00")), undistributed)

    def settlement(self, rule: Rule, units: list[str]):
        """Year-end: annual weight = earlier approved quantities + this quarter's weight;
        entitlement by largest remainder; pay the entitlement less what was advanced."""
        penv, plets, total = self._period_total(rule)
        prior_w, prior_paid, who = defaultdict(Fraction), defaultdict(lambda: Decimal("0.00")), {}
        for h in self.history:
            if h.item == rule.history_item:
                prior_w[h.inst_id] += h.quantity
                prior_paid[h.inst_id] += h.amount
                who[h.inst_id] = (h.inst_name, h.kind)
        ids = sorted(set(units) | set(who))
        envs, q4w, annual = {}, {}, {}
        for iid in ids:
            if iid in units:
                env = self.ctx.unit_env(iid, rule)
                env.update(plets)
                lets = _eval_lets(rule.let, env, f"规则 {rule.id}（{iid}）")
                w = _ev(rule.weight, env, f"规则 {rule.id}（{iid}）weight")
            else:  # settled although absent this quarter: no points now, only its earlier quarters
                env, lets, w = dict(penv), {}, Fraction(0)
            envs[iid], q4w[iid] = (env, lets), w
            annual[iid] = prior_w[iid] + w
        wsum = sum(annual.values(), Fraction(0))
        ent = largest_remainder(fen(total), annual)
        paid_before = sum(prior_paid.values(), Decimal("0.00"))
        for iid in ids:
            env, lets = envs[iid]
            entitlement = from_fen(ent.get(iid, 0))
            amount = entitlement - prior_paid[iid]
            qty = _ev(rule.quantity, env, f"规则 {rule.id}") if rule.quantity and iid in units else q4w[iid]
            values = {
                **(self._inputs(rule, env) if iid in units else {}),
                **plets,
                **lets,
                "total": total,
                "weight": q4w[iid],
                "weighted_points": q4w[iid],
                "prior_weight": prior_w[iid],
                "annual_weight": annual[iid],
                "weight_sum": wsum,
                "entitlement": entitlement,
                "prior_paid": prior_paid[iid],
                "settle_word": "应补" if amount >= 0 else "应退",
                "abs_amount": abs(amount),
            }
            values.setdefault("raw_points", Fraction(0))
            values.setdefault("q", Fraction(0))
            name, kind = (
                (self.q.institutions[iid].name, self.q.institutions[iid].kind)
                if iid in self.q.institutions
                else who[iid]
            )
            self._line(rule, iid, amount, qty, values, self._formula_texts(rule), name=name, kind=kind)
            if amount < 0:
                self.warnings.append(f"{name}（{iid}）{rule.item_name}年终清算应退 {fmt_amount(-amount)} 元")
        undistributed = total - paid_before if wsum == 0 else Decimal("0.00")
        self._undistributed(rule, undistributed, {"total": total, "prior_paid": paid_before})
        distributed = sum((from_fen(v) for v in ent.values()), Decimal("0.00"))
        self._check(
            rule,
            total,
            distributed,
            undistributed if wsum == 0 else Decimal("0.00"),
            note=f"全年应得合计 {group_thousands(fmt_amount(distributed))}，"
            f"前三季度已拨 {group_thousands(fmt_amount(paid_before))}",
        )

    def level_allocation(self, rule: Rule, units: list[str]):
        penv, plets, total = self._period_total(rule)
        ratio = self.resolved.params[rule.level_ratio]
        order = [lvl for lvl in LEVELS if lvl in ratio]
        # ties go to the levels in their listed order: keys "0", "1", "2" sort that way
        level_fen = largest_remainder(
            fen(total), {str(i): Fraction(Decimal(str(ratio[l]))) for i, l in enumerate(order)}
        )
        ratio_text = ":".join(str(ratio[l]) for l in order)
        undistributed = Decimal("0.00")
        parts = {}
        for i, lvl in enumerate(order):
            level_total = from_fen(level_fen.get(str(i), 0))
            parts[lvl] = level_total
            members = [iid for iid in units if LEVEL_OF_KIND[self.q.institutions[iid].kind] == lvl]
            envs, weights = {}, {}
            for iid in members:
                env = self.ctx.unit_env(iid, rule)
                env.update(plets)
                envs[iid] = (env, _eval_lets(rule.let, env, f"规则 {rule.id}（{iid}）"))
                weights[iid] = _ev(rule.weights[lvl], env, f"规则 {rule.id}（{iid}）weights.{lvl}")
            wsum = sum(weights.values(), Fraction(0))
            shares = largest_remainder(fen(level_total), weights)
            if not shares:
                undistributed += level_total
            for iid in members:
                env, lets = envs[iid]
                amount = from_fen(shares.get(iid, 0))
                values = {
                    **self._inputs(rule, env),
                    **plets,
                    **lets,
                    "total": total,
                    "level": lvl,
                    "level_name": LEVEL_NAMES[lvl],
                    "level_total": level_total,
                    "level_ratio_text": ratio_text,
                    "weight": weights[iid],
                    "weight_sum": wsum,
                }
                self._line(rule, iid, amount, weights[iid], values, self._formula_texts(rule))
        self._undistributed(rule, undistributed, {"total": total, "level_ratio_text": ratio_text})
        self._check(
            rule,
            total,
            sum(parts.values(), Decimal("0.00")) - undistributed,
            undistributed,
            note="；".join(f"{LEVEL_NAMES[l]}级 {group_thousands(fmt_amount(v))}" for l, v in parts.items()),
        )
        self._report(rule, {**penv, "total": total})

    def _report(self, rule: Rule, penv: dict):
        """Period figures a rule declares for the summary (e.g. what goes back to the insurer)."""
        for name, (title, f) in rule.report.items():
            value = _fen_exact(_ev(f, penv, f"规则 {rule.id} report.{name}"), f"规则 {rule.id} report.{name}")
            self.reports.append({"rule_id": rule.id, "name": name, "title": title, "amount": fmt_amount(value)})

    def _check(self, rule: Rule, total: Decimal, distributed: Decimal, undistributed: Decimal, note: str = ""):
        ok = distributed + undistributed == total
        self.checks.append(
            {
                "rule_id": rule.id,
                "item": rule.item,
                "title": f"{rule.item_name}分配核对",
                "total": fmt_amount(total),
                "distributed": fmt_amount(distributed),
                "undistributed": fmt_amount(undistributed),
                "ok": ok,
                "note": note,
            }
        )
        if not ok:
            raise ComputeError(f"规则 {rule.id} 分配不平：总额 {total}，已分配 {distributed}，未分配 {undistributed}")

    def warn_common(self):
        for iid, a in sorted(self.q.assessment.items()):
            if a.veto:
                inst = self.q.institutions[iid]
                self.warnings.append(f"{inst.name}（{iid}）一票否决：{a.veto_reason or '未填写事由'}")
