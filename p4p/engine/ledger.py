"""The ledger as a file: ledger.csv (UTF-8 with BOM, one line per institution × item, sorted,
no timestamps — byte-identical for identical inputs and rules), and reading a ledger back (the
approved earlier quarters a Q4 settles against)."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from fractions import Fraction

from .result import HistoryLine, Result

COLUMNS = ["period", "inst_id", "inst_name", "kind", "item", "item_name", "amount", "quantity", "rule_id"]
CHINESE = {"period": "期间", "inst_id": "机构编码", "inst_name": "机构名称", "kind": "机构类型", "item": "项目",
           "item_name": "项目名称", "amount": "金额（元）", "quantity": "数量/系数", "rule_id": "规则"}  # fmt: skip
FORMULA_START = ("=", "+", "-", "@")


def as_text(s: str) -> str:
    """Text a spreadsheet would take for a formula stays text: a leading ' (SPEC §3)."""
    return "'" + s if s.startswith(FORMULA_START) else s


def from_text(s: str) -> str:
    return s[1:] if s.startswith("'") and s[1:].startswith(FORMULA_START) else s


def ledger_rows(result: Result) -> list[list[str]]:
    """The ledger's lines in ledger.csv column order (text as given, amounts as fen text)."""
    units, period, blocks = result.units, result.period, result.blocks
    out = []
    for bi, i in result.order:
        b = blocks[bi]
        u = units[b.inst_ids[i]]
        out.append([period, u.inst_id, u.name, u.kind, b.item, b.item_name, b.amount_texts[i],
                    b.quantities[i], b.rule.id])  # fmt: skip
    return out


def ledger_csv(rows: list[list[str]]) -> bytes:
    """ledger.csv: UTF-8 with BOM, CRLF; text a spreadsheet would take for a formula keeps a
    leading ' (names only: codes and amounts cannot start so). Quoted as the csv module quotes
    (a field with a comma, quote or line break), each distinct name once."""
    quoted: dict[str, str] = {}

    def q(s: str) -> str:
        hit = quoted.get(s)
        if hit is None:
            hit = quoted[s] = _csv_field(as_text(s))
        return hit

    if len(rows) >= ARROW_LEDGER_MIN:
        return b"\xef\xbb\xbf" + (",".join(COLUMNS) + "\r\n").encode("utf-8") + _csv_body(rows)
    lines = [",".join(COLUMNS)]
    lines += [",".join((r[0], r[1], q(r[2]), r[3], r[4], q(r[5]), r[6], r[7], r[8])) for r in rows]
    return b"\xef\xbb\xbf" + ("\r\n".join(lines) + "\r\n").encode("utf-8")


ARROW_LEDGER_MIN = 2048  # lines from which ledger.csv is put together by Arrow's string kernels
_FORMULA_START_RE = "^[" + "".join("\\" + c for c in FORMULA_START) + "]"  # as_text's test, for Arrow (RE2)
NAME_COLUMNS = (2, 5)  # inst_name, item_name: the text a user typed (kept as text, quoted when needed)


def _csv_body(rows: list[list[str]]) -> bytes:
    """The lines of ledger.csv, each ending CRLF, as the line-by-line writer puts them, built
    column by column in Arrow: names as text (a leading ' before = + - @) and quoted as the csv
    module quotes them (a comma or a quote; line breaks never reach a name)."""
    import pyarrow.compute as pc

    from ..lang.arrowtext import as_bytes, column, joined, lit

    columns = []
    for k, values in enumerate(zip(*rows, strict=True)):
        col = column(values)
        if k in NAME_COLUMNS:
            col = pc.if_else(pc.match_substring_regex(col, _FORMULA_START_RE), joined([lit("'"), col]), col)
            quoted = joined([lit('"'), pc.replace_substring(col, '"', '""'), lit('"')])
            col = pc.if_else(pc.match_substring_regex(col, '[,"]'), quoted, col)
        columns.append(col)
    return as_bytes(joined([joined(columns, ","), lit("\r\n")]))


def _csv_field(s: str) -> str:
    if not s:
        return s
    buf = io.StringIO()
    csv.writer(buf, lineterminator="").writerow([s])
    return buf.getvalue()


def parse_ledger(data: bytes) -> list[dict[str, str]]:
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"), newline="")))
    for r in rows:
        r["inst_name"] = from_text(r.get("inst_name", ""))
        r["item_name"] = from_text(r.get("item_name", ""))
    return rows


def history_lines(data: bytes) -> list[HistoryLine]:
    return [HistoryLine(r["period"], r["inst_id"], r["inst_name"], r["kind"], r["item"], Decimal(r["amount"]),
                        Fraction(Decimal(r["quantity"])) if r["quantity"] else Fraction(0))
            for r in parse_ledger(data)]  # fmt: skip
