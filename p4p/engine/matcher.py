"""durable-rules does the matching: which rules apply to which institutions, which row of each
decision table an assessment result falls in, which plausibility checks look at which units.

One fact is posted per distinct *class* — (kind, quarter, guarantee, veto, score) for rules and
checks, (score, veto) for tables — not per institution: a province of 100,000 institutions has a
few hundred classes. Facts go to a private, synchronous host (the stock Host runs actions on
timer threads after the call returns). Facts, not events: an event is consumed by the first
rule that fires, a fact is matched by every rule. Numbers in conditions are integers (scores in
tenths) because durable-rules compares decimals and text badly. Every fact also fires a
catch-all rule so we can prove every fact was seen, and action errors (which durable-rules
swallows into the state) are checked after each batch. Results are sorted, never taken in
firing order.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from collections.abc import Iterable, Mapping
from fractions import Fraction
from typing import Any

from durable import engine as _dr

from ..ruleset.model import Resolved

BATCH = 1000
_SEEN = "__seen__"
_counter = itertools.count()
_OPS = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt", "!=": "$neq"}

Class = tuple[str, int, int, int, int]  # kind, quarter, guarantee, veto, score10
Assessment = tuple[int, int]  # score10, veto


class MatchError(Exception):
    pass


class _SyncHost(_dr.Host):
    def _run(self) -> None:  # no timer threads: actions run on the calling thread, in order
        pass


def score10(value: Fraction | str) -> int:
    v = Fraction(value) * 10
    if v.denominator != 1:
        raise MatchError(f"得分 {value} 超过一位小数")
    return int(v)


def _terms(when: Mapping[str, Any]) -> list[dict]:
    """`{kind: [a, b], quarter: ["4"], score: {">=": "90"}}` → durable-rules JSON terms."""
    terms: list[dict] = []
    for field, want in when.items():
        if field == "score":
            terms += [{_OPS[op]: {"score10": score10(v)}} for op, v in want.items()]
            continue
        values = [v if field == "kind" else int(v) for v in want]
        alts = [{field: v} for v in values]
        terms.append(alts[0] if len(alts) == 1 else {"$or": alts})
    return terms


def _band_terms(lo: Fraction | None, hi: Fraction | None) -> list[dict]:
    out = []
    if lo is not None:
        out.append({"$gte": {"score10": score10(lo)}})
    if hi is not None:
        out.append({"$lt": {"score10": score10(hi)}})
    return out


class Matcher:
    """The compiled conditions of one resolved ruleset (rules, checks and table rows)."""

    def __init__(self, resolved: Resolved):
        rs = resolved.ruleset
        self.name = f"p4p_{rs.id}_{resolved.day:%Y%m%d}_{next(_counter)}".replace("-", "_")
        self.fired: list[tuple[str, str]] = []
        defs = {_SEEN: self._rule([{"$or": [{"t": "class"}, {"t": "assess"}]}], _SEEN)}
        for r in rs.rules:
            defs[f"rule:{r.id}"] = self._rule([{"t": "class"}, *_terms(r.when)], f"rule:{r.id}")
        for c in rs.checks:
            defs[f"check:{c.id}"] = self._rule([{"t": "class"}, *_terms(c.when)], f"check:{c.id}")
        for tid, version in resolved.tables.items():
            for i, row in enumerate(version.rows):
                band = _band_terms(*(resolved.edge(e) for e in row.band)) if row.band else []
                terms = [{"t": "assess"}, *_terms(row.when), *band]
                defs[f"table:{tid}:{i}"] = self._rule(terms, f"table:{tid}:{i}")
        self.host = _SyncHost()
        self.host.register_rulesets({self.name: defs})

    def _rule(self, terms: list[dict], tag: str) -> dict:
        fired = self.fired

        def action(c: Any) -> None:
            fired.append((tag, c.m.id))

        cond = terms[0] if len(terms) == 1 else {"$and": terms}
        return {"all": [{"m": cond}], "run": action}

    def match(self, classes: Iterable[Class], assessments: Iterable[Assessment]) -> Matches:
        self.fired.clear()
        facts = [{"t": "class", "id": _cid(c), "kind": c[0], "quarter": c[1], "guarantee": c[2], "veto": c[3],
                  "score10": c[4]} for c in classes]  # fmt: skip
        facts += [{"t": "assess", "id": _aid(a), "score10": a[0], "veto": a[1]} for a in assessments]
        try:
            for i in range(0, len(facts), BATCH):
                self.host.assert_facts(self.name, facts[i : i + BATCH])
                state = self.host.get_state(self.name)
                if "exception" in state:
                    raise MatchError(f"规则匹配出错：{state['exception']}")
        finally:
            self.host.delete_state(self.name)
        return self._collect({str(f["id"]) for f in facts})

    def _collect(self, ids: set[str]) -> Matches:
        out = Matches()
        seen = set()
        for tag, fid in self.fired:
            if tag == _SEEN:
                seen.add(fid)
            elif tag.startswith("table:"):
                _, tid, row = tag.split(":")
                out.rows[tid][fid].append(int(row))
            else:
                out.applies[tag].add(fid)
        if ids - seen:
            raise MatchError(f"规则引擎没有处理全部事实（缺 {len(ids - seen)} 个）")
        for rows in (r for t in out.rows.values() for r in t.values()):
            rows.sort()  # firing order is not trusted; table row order is
        return out


class Matches:
    def __init__(self) -> None:
        self.applies: dict[str, set[str]] = defaultdict(set)  # "rule:R2" / "check:C1" → class ids
        self.rows: dict[str, dict[str, list[int]]] = defaultdict(lambda: defaultdict(list))

    def rule_applies(self, rule_id: str, c: Class) -> bool:
        return _cid(c) in self.applies.get(f"rule:{rule_id}", ())

    def check_applies(self, check_id: str, c: Class) -> bool:
        return _cid(c) in self.applies.get(f"check:{check_id}", ())

    def table_rows(self, tid: str, a: Assessment) -> list[int]:
        return self.rows.get(tid, {}).get(_aid(a), [])


def _cid(c: Class) -> str:
    return f"{c[0]}|q{c[1]}|g{c[2]}|v{c[3]}|s{c[4]}"


def _aid(a: Assessment) -> str:
    return f"s{a[0]}v{a[1]}"
