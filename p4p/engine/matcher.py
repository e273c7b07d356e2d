"""durable-rules does the matching: which rules apply to which institution, which row of each
decision table an institution falls in.

Facts are posted to a private, synchronous host (the stock Host runs actions on timer
threads after the call returns). Facts, not events: an event is consumed by the first rule
that fires, a fact is matched by every rule. Numbers in conditions are integers (scores in
tenths of a point) because durable-rules compares Decimals and text badly. Every fact also
fires a catch-all rule so we can prove that every fact was seen, and action errors (which
durable-rules swallows into the state) are checked after each batch.
"""

from __future__ import annotations

import itertools
from collections import defaultdict
from fractions import Fraction

from durable import engine as _dr

from ..ruleset.load import Resolved

BATCH = 1000
_SEEN = "__seen__"
_counter = itertools.count()


class MatchError(Exception):
    pass


class _SyncHost(_dr.Host):
    def _run(self):  # no timer threads: actions run on the calling thread, in order
        pass


def score10(score: Fraction) -> int:
    v = score * 10
    if v.denominator != 1:
        raise MatchError(f"考核得分 {score} 超过一位小数")
    return int(v)


def _cond(when: dict) -> list:
    """`{kind: [a, b], quarter: 4, score: {">=": 90}}` → durable-rules JSON terms."""
    terms = []
    for field, want in when.items():
        name = "score10" if field == "score" else field
        conv = (lambda v: score10(Fraction(str(v)))) if field == "score" else (lambda v: v)
        if isinstance(want, dict):
            ops = {">=": "$gte", ">": "$gt", "<=": "$lte", "<": "$lt", "!=": "$neq"}
            for op, v in want.items():
                terms.append({ops[op]: {name: conv(v)}})
        elif isinstance(want, list):
            terms.append({"$or": [{name: conv(v)} for v in want]} if len(want) > 1 else {name: conv(want[0])})
        else:
            terms.append({name: conv(want)})
    return terms


def _band_terms(band) -> list:
    lo, hi = band
    out = []
    if lo is not None:
        out.append({"$gte": {"score10": score10(lo)}})
    if hi is not None:
        out.append({"$lt": {"score10": score10(hi)}})
    return out


class Matcher:
    """Compiled conditions of one resolved ruleset. `match(facts)` → (rule firings, table rows)."""

    def __init__(self, resolved: Resolved):
        self.name = f"p4p_{resolved.ruleset.id}_{resolved.on:%Y%m%d}_{next(_counter)}".replace("-", "_")
        self.fired: list[tuple[str, str]] = []
        # two kinds of fact: an institution ("inst": which rules apply) and an assessment
        # result ("assess": which table rows it falls in) — one per distinct (score, veto),
        # so 20,000 institutions need only a few hundred table matches
        defs = {_SEEN: self._rule([{"$or": [{"t": "inst"}, {"t": "assess"}]}], _SEEN)}
        for r in resolved.ruleset.rules:
            defs[f"rule:{r.id}"] = self._rule([{"t": "inst"}, *_cond(r.when)], f"rule:{r.id}")
        for tid, table in resolved.tables.items():
            for i, row in enumerate(table.rows):
                terms = [{"t": "assess"}, *_cond(row.when)] + (_band_terms(row.band) if row.band else [])
                defs[f"table:{tid}:{i}"] = self._rule(terms, f"table:{tid}:{i}")
        self.host = _SyncHost()
        self.host.register_rulesets({self.name: defs})

    def _rule(self, terms, tag):
        fired = self.fired

        def action(c):
            fired.append((tag, c.m.id))

        cond = terms[0] if len(terms) == 1 else {"$and": terms}
        return {"all": [{"m": cond}], "run": action}

    def match(self, insts: list[dict], assessments: list[dict]):
        """insts: {id, kind, quarter, guarantee, veto, score10}; assessments: {id, veto, score10}.
        Returns ({rule_id: set(inst ids)}, {table_id: {assessment id: [row indexes]}})."""
        self.fired.clear()
        facts = [{"t": "inst", **f} for f in insts] + [{"t": "assess", **f} for f in assessments]
        try:
            for i in range(0, len(facts), BATCH):
                self.host.assert_facts(self.name, facts[i : i + BATCH])
                state = self.host.get_state(self.name)
                if "exception" in state:
                    raise MatchError(f"规则匹配出错: {state['exception']}")
        finally:
            self.host.delete_state(self.name)
        rules, tables = defaultdict(set), defaultdict(lambda: defaultdict(list))
        seen = set()
        for tag, fid in self.fired:
            if tag == _SEEN:
                seen.add(fid)
            elif tag.startswith("rule:"):
                rules[tag[5:]].add(fid)
            else:
                _, tid, row = tag.split(":")
                tables[tid][fid].append(int(row))
        missing = {f["id"] for f in facts} - seen
        if missing:
            raise MatchError(f"规则引擎没有处理全部事实（缺 {len(missing)} 个）")
        for rows in (r for t in tables.values() for r in t.values()):
            rows.sort()  # firing order is not trusted; table row order is
        return rules, tables
