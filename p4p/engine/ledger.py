"""The ledger and its trace as files: ledger.csv (UTF-8 with BOM, sorted, no timestamps) and
trace.jsonl (one JSON object per ledger line, keys sorted) — byte-identical for identical
inputs and rules."""

from __future__ import annotations

import csv
import io
import json
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from ..model.money import fmt_amount
from .compute import HistoryLine, Line

COLUMNS = ["period", "inst_id", "inst_name", "kind", "item", "item_name", "amount", "quantity", "rule_id"]
CHINESE = {
    "period": "期间",
    "inst_id": "机构编码",
    "inst_name": "机构名称",
    "kind": "机构类型",
    "item": "项目",
    "item_name": "项目名称",
    "amount": "金额（元）",
    "quantity": "数量/系数",
    "rule_id": "规则",
}


def ledger_csv(lines: list[Line]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(COLUMNS)
    for l in lines:
        w.writerow(
            [l.period, l.inst_id, l.inst_name, l.kind, l.item, l.item_name, fmt_amount(l.amount), l.quantity, l.rule_id]
        )
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def trace_jsonl(lines: list[Line]) -> bytes:
    return "".join(json.dumps(l.trace, ensure_ascii=False, sort_keys=True) + "\n" for l in lines).encode("utf-8")


def read_ledger(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def read_trace(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def history_lines(rows: list[dict]) -> list[HistoryLine]:
    return [
        HistoryLine(
            r["period"],
            r["inst_id"],
            r["inst_name"],
            r["kind"],
            r["item"],
            Decimal(r["amount"]),
            Fraction(Decimal(r["quantity"])) if r["quantity"] else Fraction(0),
        )
        for r in rows
    ]
