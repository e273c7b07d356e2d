"""The data files of an approval folder (SPEC §9) as bytes — the approval code writes them
and hashes them into the approval record: payments.csv, receivables.csv, alliance_items.csv
(same columns) and, for a supersede, corrections.csv.

Like ledger.csv: UTF-8 with BOM (opens in Excel), CRLF, amounts `-?\\d+\\.\\d{2}` without
separators, no timestamps — byte-identical for identical lists. A text cell that a
spreadsheet would take for a formula (first character `=`, `+`, `-`, `@`, or a tab or carriage
return, which Excel also strips and evaluates after) gets a leading `'`, so Excel shows it as
the text it is (SPEC §3); amounts are numbers and never prefixed.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from ..model.money import fmt_amount
from .corrections import Correction
from .rows import COLUMNS, PaymentLists, PayRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CORRECTION_COLUMNS = ("period", "inst_id", "inst_name", "item", "item_name", "original", "corrected", "difference")
PAYMENTS, RECEIVABLES, ALLIANCE_ITEMS, CORRECTIONS = (
    "payments.csv",
    "receivables.csv",
    "alliance_items.csv",
    "corrections.csv",
)


def looks_like_formula(text: str) -> bool:
    return text.startswith(FORMULA_START)


def guard(text: str) -> str:
    """A text cell as Excel must show it: `'` before a formula-like start."""
    return "'" + text if looks_like_formula(text) else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[str]]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    w.writerows(rows)
    return b"\xef\xbb\xbf" + buf.getvalue().encode("utf-8")


def row_cells(r: PayRow) -> list[str]:
    values = {
        "period": r.period,
        "payer": r.payer,
        "payer_name": r.payer_name,
        "fund": r.fund,
        "payee_id": r.payee_id,
        "payee_kind": r.payee_kind,
        "payee_name": r.payee_name,
        "account_name": r.account_name,
        "account_no": r.account_no,
        "bank": r.bank,
        "purpose": r.purpose,
        "items": " ".join(r.items),
    }
    return [fmt_amount(r.amount) if c == "amount" else guard(values[c]) for c in COLUMNS]


def rows_csv(rows: Sequence[PayRow]) -> bytes:
    return _csv(COLUMNS, (row_cells(r) for r in rows))


def list_files(lists: PaymentLists) -> dict[str, bytes]:
    """payments.csv, receivables.csv and alliance_items.csv (each written even when empty, so
    an approval folder always says what it holds)."""
    return {
        PAYMENTS: rows_csv(lists.payments),
        RECEIVABLES: rows_csv(lists.receivables),
        ALLIANCE_ITEMS: rows_csv(lists.alliance_items),
    }


def corrections_csv(corrs: Sequence[Correction]) -> bytes:
    return _csv(
        CORRECTION_COLUMNS,
        (
            [
                c.period,
                guard(c.inst_id),
                guard(c.inst_name),
                guard(c.item),
                guard(c.item_name),
                fmt_amount(c.original),
                fmt_amount(c.corrected),
                fmt_amount(c.difference),
            ]
            for c in corrs
        ),
    )
