"""trace.jsonl: the derivation of every ledger line, so `p4p explain` and statements need
nothing else and never recompute.

Format 2 (this version) writes the parts shared by many lines once (line records come block by
block, each block in inst_id order; the ledger is the file in ledger order):
  {"type": "run", ...}     period, alliance, the parameter values in force, item names
  {"type": "rule", ...}    per rule (and undistributed part): title, citations with the clause
                           text, formulas, the explain template and the statement declaration
  {"type": "block", ...}   per block of lines: which values each line keeps, and the values
                           every line of the block shares (period totals, level shares)
  {"type": "unit", ...}    per institution: name, kind, parent, director, veto reason
  {"type": "line", ...}    per ledger line: amount, quantity, statement case
                           and its own values
Format 1 (p4p 0.1) wrote one self-contained object per line; `read_trace` reads both.
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cached_property
from json.encoder import encode_basestring
from typing import Any

from ..lang.template import Template, TemplateError, compile_template
from ..ruleset.model import Rule, Statement
from .result import Block, Result

FORMAT = 2


_ENCODER = json.JSONEncoder(ensure_ascii=False, sort_keys=True, separators=(",", ":"))
_dumps = _ENCODER.encode
_text = encode_basestring  # one JSON string, as _dumps writes it (the C encoder)


def _formulas(rule: Rule, part: str) -> dict[str, Any]:
    if part != "main":
        return {}
    out: dict[str, Any] = {}
    for key in ("only_if", "amount", "quantity", "total", "weight"):
        f = getattr(rule, key)
        if f is not None:
            out[key] = f.text
    for group in ("let", "period_let", "weights"):
        fs = getattr(rule, group)
        if fs:
            out[group] = {k: f.text for k, f in fs.items()}
    if rule.report:
        out["report"] = {k: f.text for k, (_, f) in rule.report.items()}
    return out


def _statement(st: Statement) -> dict[str, Any]:
    out: dict[str, Any] = {"cases": [{"when": c.text if c else None, "text": t.text} for c, t in st.cases]}
    if st.rows:
        out["rows"] = [list(r) for r in st.rows]
    if st.breakdown:
        out["breakdown"] = list(st.breakdown)
    return out


def _rule_record(b: Block, title: str) -> dict[str, Any]:
    r = b.rule
    explain = r.explain if b.part == "main" else r.undistributed.explain  # type: ignore[union-attr]
    return {"type": "rule", "key": b.key, "id": r.id, "part": b.part, "item": b.item, "item_name": b.item_name,
            "title": title, "kind": r.kind, "cite": [c.as_dict() for c in r.cite], "formula": _formulas(r, b.part),
            "explain": explain.text, "statement": _statement(b.statement)}  # fmt: skip


def trace_jsonl(result: Result, head: dict[str, Any]) -> bytes:
    out = [_dumps({"type": "run", "format": FORMAT, "period": result.period, "alliance": result.alliance,
                   "params": result.params, "entry_names": result.entry_names, "items": result.item_names,
                   **head})]  # fmt: skip
    seen = set()
    for b in result.blocks:
        if b.key not in seen:
            seen.add(b.key)
            out.append(_dumps(_rule_record(b, result.titles.get(b.key, ""))))
    for n, b in enumerate(result.blocks):
        out.append(_dumps({"type": "block", "block": n, "key": b.key, "names": b.names, "constants": b.constants,
                           "mappings": b.mappings}))  # fmt: skip
    used = sorted({result.blocks[bi].inst_ids[i] for bi, i in result.order})
    q = _text
    for iid in used:  # keys in sorted order, as _dumps writes them; ids and kinds are codes
        u = result.units[iid]
        out.append(f'{{"director":{q(u.director)},"inst_id":"{u.inst_id}","kind":"{u.kind}","name":{q(u.name)},'
                   f'"parent_id":"{u.parent_id}","type":"unit","veto_reason":{q(u.veto_reason)}}}')  # fmt: skip
    buf = io.BytesIO()
    buf.write(("\n".join(out) + "\n").encode("utf-8"))
    for bi, b in enumerate(result.blocks):
        buf.write(_block_bytes(bi, b) if len(b.inst_ids) >= ARROW_BLOCK_MIN else "".join(_lines(bi, b)).encode("utf-8"))
    return buf.getvalue()


ARROW_BLOCK_MIN = 2048  # lines from which a block's records are put together by Arrow's string kernels


def _block_bytes(bi: int, b: Block) -> bytes:
    """The bytes `_lines` writes for a block, put together column by column in Arrow (no Python
    string per line): the same records, a few times faster for a province's blocks."""
    import pyarrow as pa
    import pyarrow.compute as pc

    from ..lang.arrowtext import TEXT, as_bytes, column, joined, lit

    quoted = [
        joined([lit('"'), column(b.values[name]), lit('"')])  # type: ignore[arg-type]
        if name in b.numeric and name not in b.mappings
        else column(_quote_column(b, name))
        for name in b.names
    ]
    values = joined(quoted, ",") if quoted else lit("")
    cases = pc.cast(pa.array(b.cases, pa.int64()), TEXT)
    return as_bytes(joined([
        lit('{"amount":"'), column(b.amount_texts), lit(f'","block":{bi},"case":'), cases,
        lit(',"inst_id":"'), column(b.inst_ids), lit(f'","item":"{b.item}","quantity":"'), column(b.quantities),
        lit('","type":"line","values":['), values, lit("]}\n"),
    ]))  # fmt: skip


def _lines(bi: int, b: Block) -> Iterator[str]:
    """A block's line records, in inst_id order (a block is one rule's lines). Values are
    quoted column by column (numbers need no JSON escaping; text and mappings go through
    json.dumps), then joined per line; one block at a time keeps a province's trace small."""
    rows = [",".join(r) for r in zip(*_quote_block(b), strict=True)] if b.names else [""] * len(b.inst_ids)
    amounts = b.amount_texts
    for i, vals in enumerate(rows):
        # inst_id and item are codes ([A-Za-z0-9_-], checked on input and in the ruleset)
        yield (f'{{"amount":"{amounts[i]}","block":{bi},"case":{b.cases[i]},'
               f'"inst_id":"{b.inst_ids[i]}","item":"{b.item}",'
               f'"quantity":"{b.quantities[i]}","type":"line","values":[{vals}]}}\n')  # fmt: skip


def _quote_block(b: Block) -> list[list[str]]:
    return [_quote_column(b, name) for name in b.names]


def _quote_column(b: Block, name: str) -> list[str]:
    """One value column as JSON, line by line."""
    col = b.values[name]
    if name in b.mappings:  # per line a list of numbers, in key order
        return ["[" + ",".join(row) + "]" for row in ([f'"{x}"' for x in v] for v in col)]
    if name in b.numeric:
        return [f'"{v}"' for v in col]
    if col and isinstance(col[0], str):
        seen: dict[str, str] = {}
        return [seen[v] if v in seen else seen.setdefault(v, _text(v)) for v in col]
    return [_dumps(v) for v in col]


# ---- reading ----------------------------------------------------------------------------------


@dataclass
class TraceLine:
    """One ledger line's derivation, the same for both trace formats."""

    period: str
    alliance: str
    inst_id: str
    inst_name: str
    kind: str
    parent_id: str
    director: str
    item: str
    item_name: str
    amount: str
    quantity: str
    rule: dict[str, Any]  # id, title, kind, cite (list of dicts), formula
    values: dict[str, Any]  # every name the derivation used → exact text (or a mapping)
    explain_source: str | Template  # format 1: the text; format 2: the rule's template, filled in on use
    statement: dict[str, Any] | None = None  # the rule's statement declaration (format 2)
    case: int = 0
    veto_reason: str = ""
    entry_names: dict[str, dict[str, str]] = field(default_factory=dict)

    @cached_property
    def explain(self) -> str:
        """The derivation in Chinese, numbers filled in — rendered when first asked for (a
        province's trace has hundreds of thousands of lines; `explain` wants one institution's)."""
        src = self.explain_source
        return src if isinstance(src, str) else src.render(self.values)

    def statement_text(self) -> str:
        """The plain-language sentence of the applicable statement case (format 2), else explain."""
        if not self.statement:
            return self.explain
        case = self.statement["cases"][min(self.case, len(self.statement["cases"]) - 1)]
        return compile_template(case["text"]).render(self.values)


_SOMETHING = re.compile(rb"\S")
_DAMAGE = (KeyError, TypeError, ValueError, IndexError, AttributeError)  # what a damaged record raises


class TraceError(ValueError):
    """A run folder's trace.jsonl (or another file `name` of it) is not what p4p wrote: line
    `line` (1-based, as an editor numbers it; None: the file as a whole) is damaged or was edited.
    `folder` is filled in by callers that know the run folder. The CLI exits 3, as verify does on
    an edited archive."""

    def __init__(self, line: int | None, folder: Any = None, name: str = "trace.jsonl") -> None:
        super().__init__(line)
        self.line = line
        self.folder = folder
        self.name = name

    def __str__(self) -> str:
        where = f"{self.folder}/{self.name}" if self.folder is not None else self.name
        what = f" 第 {self.line} 行已损坏或被改动" if self.line else " 缺失、已损坏或被改动"
        return f"{where}{what}，不能读取；请用 p4p verify 检查归档"


@contextmanager
def in_folder(folder: Any) -> Iterator[None]:
    """A TraceError raised inside names the run folder whose file was being read."""
    try:
        yield
    except TraceError as e:
        e.folder = folder
        raise


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise TraceError(data.count(b"\n", 0, e.start) + 1) from None


def _numbered(data: bytes) -> list[tuple[int, str]]:
    """The lines with something on them and their line numbers (1-based; only "\n" ends a line,
    as p4p writes them: JSON text may hold U+2028 and the like)."""
    return [(n, x) for n, x in enumerate(_decoded(data).split("\n"), 1) if x.strip()]


def _parsed(lines: list[tuple[int, str]]) -> list[dict[str, Any]]:
    """Each line as a JSON object; a line that is not one is a TraceError naming it."""
    try:
        out = [json.loads(x) for _, x in lines]
    except ValueError:
        out = []
        for n, x in lines:
            try:
                out.append(json.loads(x))
            except ValueError:
                raise TraceError(n) from None
    for (n, _), r in zip(lines, out, strict=True):
        if not isinstance(r, dict):
            raise TraceError(n)
    return out


def trace_format(data: bytes) -> int:
    """2 when the trace opens with its run record (p4p 0.3 on), else 1."""
    found = _SOMETHING.search(data)  # the first line with something on it
    start = found.start() if found else len(data)
    end = data.find(b"\n", start)
    first = data[start : end if end >= 0 else len(data)]
    if not first.strip():
        return 1
    try:
        head = json.loads(first)
    except ValueError:
        raise TraceError(data.count(b"\n", 0, start) + 1) from None
    return 2 if isinstance(head, dict) and head.get("type") == "run" else 1


def read_trace(data: bytes, inst_id: str | None = None) -> list[TraceLine]:
    """Every line of a trace, or with `inst_id` that institution's lines only (`explain` on a
    province's run: the other lines are not even parsed). A damaged or edited trace raises
    TraceError naming the line."""
    v2 = trace_format(data) == 2
    text = _numbered(data)
    if inst_id is not None:  # its code appears quoted in each of its lines (codes need no escaping)
        quoted = f'"{inst_id}"'
        text = [(n, x) for n, x in text if quoted in x or (v2 and '"type":"line"' not in x)]
    lines = _parsed(text)
    nos = [n for n, _ in text]
    if v2:
        return _read_v2(lines, nos, inst_id)
    out = []
    for n, t in zip(nos, lines, strict=True):
        try:
            if inst_id is None or t.get("inst_id") == inst_id:
                out.append(_read_v1(t))
        except _DAMAGE:
            raise TraceError(n) from None
    return out


def read_directors(data: bytes) -> dict[str, str]:
    """inst_id → the director's name as the trace carries it, for every institution with a
    line — without building every line's explanation (`read_trace`), which paying does not need
    and which at a province's size costs more than the rest of an approval."""
    out: dict[str, str] = {}
    v2 = trace_format(data) == 2
    text = _numbered(data)
    if v2:  # the unit records
        text = [(n, x) for n, x in text if '"type":"unit"' in x]
    for (n, _), t in zip(text, _parsed(text), strict=True):
        try:
            if not v2:  # format 1: every line carries its institution
                out.setdefault(t["inst_id"], t.get("director", ""))
            elif t.get("type") == "unit":
                out[t["inst_id"]] = t.get("director", "")
        except _DAMAGE:
            raise TraceError(n) from None
    return out


def _read_v1(t: dict[str, Any]) -> TraceLine:
    values = dict(t.get("values", {}))
    values.update({k: v for k, v in (t.get("detail") or {}).items()})
    return TraceLine(t["period"], t.get("alliance", ""), t["inst_id"], t["inst_name"], t["kind"],
                     t.get("parent_id", ""), t.get("director", ""), t["item"], t["item_name"], t["amount"],
                     t.get("quantity", ""), t["rule"], values, t.get("explain", ""))  # fmt: skip


def _read_v2(records: list[dict[str, Any]], nos: list[int], inst_id: str | None = None) -> list[TraceLine]:
    """Format 2; `nos` are the records' line numbers, to name a damaged one (TraceError)."""
    head = records[0]
    rules: dict[str, tuple[int, dict[str, Any]]] = {}
    blocks: dict[Any, tuple[int, dict[str, Any]]] = {}
    units: dict[str, tuple[int, dict[str, Any]]] = {}
    at = nos[0]
    try:
        params = dict(head.get("params", {}))
        period, alliance, entry_names = head["period"], head["alliance"], head.get("entry_names", {})
        for at, r in zip(nos, records, strict=True):
            kind = r["type"]
            if kind == "rule":
                rules[r["key"]] = (at, r)
            elif kind == "block":
                blocks[r["block"]] = (at, r)
            elif kind == "unit":
                units[r["inst_id"]] = (at, r)
    except _DAMAGE:
        raise TraceError(at) from None
    templates: dict[str, Any] = {}
    out = []
    for line_at, line in zip(nos, records, strict=True):
        at = line_at
        if line["type"] != "line" or inst_id not in (None, line.get("inst_id")):
            continue
        try:  # a damaged record is named: the line, or the block, rule or unit record it refers to
            b_at, b = blocks[line["block"]]
            u_at, u = units[line["inst_id"]]
            at = b_at
            r_at, r = rules[b["key"]]
            values: dict[str, Any] = dict(params)
            values.update(b["constants"])
            names, mappings = b["names"], b.get("mappings", {})
            at = r_at
            tpl = templates.get(r["key"]) or templates.setdefault(r["key"], compile_template(r["explain"]))
            rule = {"id": r["id"], "title": r["title"], "kind": r["kind"], "cite": r["cite"],
                    "formula": r["formula"], "part": r["part"]}  # fmt: skip
            item_name, statement = r["item_name"], r["statement"]
            at = u_at
            unit = (u["inst_id"], u["name"], u["kind"], u["parent_id"], u["director"], u["veto_reason"])
            at = line_at
            values.update(zip(names, line["values"], strict=True))
            for name, keys in mappings.items():
                values[name] = {k: v for k, v in zip(keys, values[name], strict=True) if v != "0"}
            values.update(amount=line["amount"], quantity=line["quantity"])
            for k in ("name", "director", "veto_reason", "parent_id", "inst_id"):
                values.setdefault(k, u.get(k, ""))
            out.append(TraceLine(period, alliance, unit[0], unit[1], unit[2], unit[3], unit[4], line["item"],
                                 item_name, line["amount"], line["quantity"], rule, values, tpl, statement,
                                 line["case"], unit[5], entry_names))  # fmt: skip
        except (*_DAMAGE, TemplateError):
            raise TraceError(at) from None
    return out
