"""Rulesets of format 1 (p4p 0.1–0.2), read only to replay runs archived with them.

Format 1 had four files (ruleset.yaml, parameters.yaml, tables.yaml, rules.yaml), item names
on each rule, no items.yaml, no statement declarations, no clause excerpts, and wrote an
undistributed line only when it was positive (no year-end release of parked advances). Those
runs must replay to the fen with today's engine (SPEC §8 "Compatibility"), so this reader maps
format 1 onto the same runtime model, keeping its semantics; new rulesets are always format 2.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from ..lang.formula import FormulaError, compile_formula
from ..lang.template import Template, TemplateError, compile_template
from ..model.yamldoc import YamlError, load
from .errors import RuleProblem, RulesetError
from .load import ruleset_hash
from .model import (
    Cite,
    Item,
    Parameter,
    ParamValue,
    Rule,
    Ruleset,
    Statement,
    Table,
    TableRow,
    TableVersion,
    Undistributed,
)

FILES_V1 = ("ruleset.yaml", "parameters.yaml", "tables.yaml", "rules.yaml")


def load_v1(path: Path) -> Ruleset:
    files, docs = {}, {}
    for name in FILES_V1:
        data = (path / name).read_bytes() if (path / name).is_file() else None
        if data is None:
            raise RulesetError([RuleProblem(name, None, None, f"归档的规则集 {path} 缺少文件 {name}")])
        files[name] = data
        try:
            docs[name] = load(data.decode("utf-8-sig")).data or {}
        except (YamlError, UnicodeDecodeError) as e:
            raise RulesetError([RuleProblem(name, None, None, f"归档的规则文件无法读取：{e}")]) from None
    try:
        return _build(path, files, docs)
    except (KeyError, TypeError, ValueError, FormulaError, TemplateError) as e:
        raise RulesetError([RuleProblem("rules.yaml", None, None, f"归档的规则集（格式 1）无法读取：{e}")]) from None


def _build(path: Path, files: dict[str, bytes], docs: dict[str, Any]) -> Ruleset:
    meta = docs["ruleset.yaml"]
    sources = meta.get("sources") or {}
    start = dt.date.fromisoformat(str(meta["in_force_from"]))

    def cites(raw: Any) -> tuple[Cite, ...]:
        raw = raw if isinstance(raw, list) else [raw]
        out = []
        for c in raw:
            title = (sources.get(str(c["source"])) or {}).get("title", "")
            out.append(Cite(str(c["source"]), str(c["clause"]), title, title, ""))
        return tuple(out)

    params = {name: _parameter(name, p, cites) for name, p in (docs["parameters.yaml"] or {}).items()}
    tables = {tid: _table(tid, t, start, cites) for tid, t in (docs["tables.yaml"] or {}).items()}
    rules = [_rule(r, cites) for r in docs["rules.yaml"]["rules"]]
    items: dict[str, Item] = {}
    for r in rules:
        for code, name in r.item_names.items():
            items.setdefault(code, Item(code, name, "transfer"))
    points = next((n for n, p in params.items() if p.entry_names), "ph_points")
    return Ruleset(str(meta.get("id") or path.name), str(meta.get("title", "")), 1, path, ruleset_hash(files),
                   files, start, points, items, params, tables, rules, [])  # fmt: skip


def _num(v: Any) -> Fraction:
    return Fraction(Decimal(str(v).strip()))


def _parameter(name: str, p: dict, cites: Any) -> Parameter:
    values: list[tuple[dt.date, ParamValue]] = []
    names: list[tuple[dt.date, dict[str, str]]] = []
    for v in p["values"]:
        day = dt.date.fromisoformat(str(v["from"]))
        value = v["value"]
        if isinstance(value, dict):
            mapping = {k: _num(x["points"] if isinstance(x, dict) else x) for k, x in value.items()}
            values.append((day, mapping))
            labels = {k: str(x.get("name", k)) for k, x in value.items() if isinstance(x, dict)}
            if labels:
                names.append((day, labels))
        else:
            values.append((day, _num(value)))
    return Parameter(name, str(p.get("title", name)), cites(p.get("cite") or []), tuple(sorted(values)),
                     tuple(sorted(names)))  # fmt: skip


def _when(raw: Any) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in (raw or {}).items():
        if k == "score" and isinstance(v, dict):
            out[k] = {op: str(x) for op, x in v.items()}
        else:
            out[k] = [str(x) for x in (v if isinstance(v, list) else [v])]
    return out


def _table(tid: str, t: dict, start: dt.date, cites: Any) -> Table:
    versions = []
    for ver in t.get("versions") or [{"from": str(start), **t}]:
        rows = []
        for r in ver["rows"]:
            band = r.get("band")
            edges = tuple(None if e is None else _num(e) for e in band) if band else None
            label = _text(r.get("label")) if r.get("label") else None
            rows.append(TableRow(compile_formula(str(r["value"])), _when(r.get("when")), edges, label))  # type: ignore[arg-type]
        policy = ver.get("hit_policy", t.get("hit_policy"))
        versions.append(TableVersion(dt.date.fromisoformat(str(ver.get("from") or start)), policy, tuple(rows)))
    return Table(
        tid, str(t.get("title", tid)), cites(t.get("cite") or []), tuple(sorted(versions, key=lambda v: v.start))
    )


def _text(s: str) -> Template:
    """Format-1 texts may hold braces that are not placeholders of today's language."""
    try:
        return compile_template(str(s))
    except TemplateError:
        return compile_template(str(s).replace("{", "（").replace("}", "）"))


def _rule(r: dict, cites: Any) -> Rule:
    f = {k: compile_formula(str(r[k])) for k in ("amount", "quantity", "total", "weight", "only_if") if r.get(k)}
    explain = _text(r.get("explain", ""))
    statement = Statement(((None, explain),))
    und = r.get("undistributed")
    names = {r["item"]: str(r["item_name"])}
    undistributed = None
    if und:
        names[und["item"]] = str(und["item_name"])
        undistributed = Undistributed(und["item"], False, _text(f"{und['item_name']} {{amount:money}} 元"), statement)
    return Rule(
        id=str(r["id"]), item=r["item"], title=_text(r["title"]), cite=cites(r["cite"]), kind=r["kind"],
        when=_when(r["when"]), explain=explain, statement=statement,
        let={k: compile_formula(str(v)) for k, v in (r.get("let") or {}).items()},
        only_if=f.get("only_if"),
        period_let={k: compile_formula(str(v)) for k, v in (r.get("period_let") or {}).items()},
        amount=f.get("amount"), quantity=f.get("quantity"), total=f.get("total"), weight=f.get("weight"),
        weights={k: compile_formula(str(v)) for k, v in (r.get("weights") or {}).items()},
        level_ratio=r.get("level_ratio"), history_item=r.get("history_item"), undistributed=undistributed,
        report={k: (str(v.get("title", k)), compile_formula(str(v["formula"]))) for k, v in (r.get("report") or {}).items()},
        item_names=names,
    )  # fmt: skip
