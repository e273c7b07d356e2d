"""Superseding an approved run A by a run B of the same alliance and period (SPEC §9).

The money to pay for a period is the first approval's lists plus every later correction, so a
supersede pays only the differences: `corrections.csv` lists every ledger line whose amount
changed (a line missing in one run counts as 0.00), and the correction payment lists are the
ordinary lists (same netting within payer and fund) built from those differences — a positive
net is paid (更正补发), a negative one is a receivable (更正扣回).

Unchanged lines are not listed: the file is what the correction payments and the correction
statements are made from, B's full ledger is in B's run folder and B's full lists are in the
approval folder (stamped 仅供核对), and thousands of 0.00 rows would hide the few that matter.
Ceiling items (PERF_POOL) are listed when they change — the ceiling a unit pays its staff
within has moved — but, as always, are in no payment list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from ..model.money import fmt_amount
from ..model.problems import InputError, Problem
from .items import ItemPayment
from .lists import ZERO, LedgerLine, build_lists, parse_amount
from .rows import Account, PayeeKey, PaymentLists


@dataclass(frozen=True)
class Correction:
    period: str
    inst_id: str
    inst_name: str
    kind: str
    item: str
    item_name: str
    original: Decimal
    corrected: Decimal

    @property
    def difference(self) -> Decimal:
        return self.corrected - self.original


Keyed = dict[tuple[str, str], tuple[LedgerLine, Decimal]]


def _by_key(ledger: Sequence[LedgerLine], where: str, problems: list[Problem]) -> Keyed:
    """(inst_id, item) → (line, amount); a repeated line or a malformed amount is a problem."""
    out: Keyed = {}
    for row, line in enumerate(ledger, 2):
        key = (str(line["inst_id"]), str(line["item"]))
        amount = parse_amount(line, where, row, problems)
        if key in out:
            problems.append(Problem(where, row, "item", f"{key[0]} {key[1]}", "台账中同一机构、同一项目出现了两行"))
        elif amount is not None:
            out[key] = (line, amount)
    return out


def _period(ledgers: Sequence[Sequence[LedgerLine]], problems: list[Problem]) -> str:
    periods = sorted({str(line["period"]) for ledger in ledgers for line in ledger})
    if len(periods) > 1:
        problems.append(Problem("ledger.csv", None, "period", "、".join(periods), "原审批与更正运行应为同一期间"))
    return periods[0] if periods else ""


def corrections(original: Sequence[LedgerLine], corrected: Sequence[LedgerLine]) -> list[Correction]:
    """Every (inst_id, item) whose amount differs between the approved run (`original`) and
    the superseding one (`corrected`), sorted by inst_id then item. Names and kind come from
    the corrected run, or from the original for a line the corrected run no longer has."""
    problems: list[Problem] = []
    period = _period([original, corrected], problems)
    a = _by_key(original, "原审批 ledger.csv", problems)
    b = _by_key(corrected, "更正 ledger.csv", problems)
    if problems:
        raise InputError(problems)
    out = []
    for key in sorted(set(a) | set(b)):
        before = a[key][1] if key in a else ZERO
        after = b[key][1] if key in b else ZERO
        if before == after:
            continue
        line = (b.get(key) or a[key])[0]
        out.append(
            Correction(
                period=period,
                inst_id=key[0],
                inst_name=str(line.get("inst_name", "")),
                kind=str(line.get("kind", "")),
                item=key[1],
                item_name=str(line.get("item_name", "")),
                original=before,
                corrected=after,
            )
        )
    return out


def as_ledger(corrs: Sequence[Correction]) -> list[dict[str, str]]:
    """The differences as ledger lines (amount = difference), for the lists and their check."""
    return [
        {
            "period": c.period,
            "inst_id": c.inst_id,
            "inst_name": c.inst_name,
            "kind": c.kind,
            "item": c.item,
            "item_name": c.item_name,
            "amount": fmt_amount(c.difference),
        }
        for c in corrs
    ]


def correction_lists(
    corrs: Sequence[Correction],
    decls: Mapping[str, ItemPayment],
    *,
    period: str,
    alliance: str,
    directors: Mapping[str, str],
    accounts: Mapping[PayeeKey, Account] | None = None,
) -> PaymentLists:
    """The correction payment lists (same layout and netting as the ordinary lists). Pass the
    corrected run's declarations, and its directors merged over the original's (a township
    the corrected run no longer has keeps its director's name)."""
    return build_lists(
        as_ledger(corrs),
        decls,
        alliance=alliance,
        directors=directors,
        accounts=accounts,
        period=period,
        correction=True,
        where="corrections.csv",
    )
