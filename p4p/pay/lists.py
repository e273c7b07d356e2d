"""Payment lists from a run's ledger (SPEC §9) — a pure function, no files.

Every ledger line of a `transfer` item is netted with the payee's other lines of the same
payer and fund, and only there: a village's PH_FUND claw-back from the health commission is
never offset against its VILLAGE_TOPUP from the alliance. A positive payee total is a
payment, a negative one a receivable (应收回); `alliance` items are listed line by line;
`ceiling` items (PERF_POOL) are in no list. Zero lines never appear.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal

from ..engine.trace import TraceLine
from ..model.problems import InputError, Problem
from .items import ItemPayment, undeclared
from .rows import Account, PayeeKey, PaymentLists, PayRow

LedgerLine = Mapping[str, str]
_AMOUNT = re.compile(r"^-?\d+\.\d{2}$")
_PERIOD = re.compile(r"^(20\d{2})Q([1-4])$")
_QUARTERS = {"1": "第一季度", "2": "第二季度", "3": "第三季度", "4": "第四季度"}
NO_DIRECTOR = ("", "（未填写）")
UNNAMED = "院长（姓名未填写）"


def unnamed_director(inst_name: str) -> str:
    """How a list names a director the run's institutions table gives no name for."""
    return f"{inst_name}{UNNAMED}"


ZERO = Decimal("0.00")


def period_label(period: str) -> str:
    """2026Q1 → 2026年第一季度."""
    m = _PERIOD.match(period)
    if not m:
        raise ValueError(f"not a period: {period!r}")
    return f"{m.group(1)}年{_QUARTERS[m.group(2)]}"


def directors_from_trace(traces: Iterable[TraceLine]) -> dict[str, str]:
    """The director's name per township, as the run's trace carries it (from the
    institutions input)."""
    units: dict[str, str] = {}
    for t in traces:
        units.setdefault(t.inst_id, t.director)
    return named_directors(units)


def named_directors(units: Mapping[str, str]) -> dict[str, str]:
    """inst_id → director (engine.trace.read_directors), those that name somebody."""
    return {inst_id: name for inst_id, name in units.items() if name.strip() not in NO_DIRECTOR}


def parse_amount(line: LedgerLine, where: str, row: int, problems: list[Problem]) -> Decimal | None:
    text = str(line.get("amount", ""))
    if not _AMOUNT.match(text):
        problems.append(Problem(where, row, "amount", text, "金额应为两位小数（如 1234.50）"))
        return None
    return Decimal(text)


class _Builder:
    """Collects the netting groups of one list; `row` numbers are the ledger's (header = 1)."""

    def __init__(self, decls: Mapping[str, ItemPayment], directors: Mapping[str, str], where: str) -> None:
        self.decls = decls
        self.directors = directors
        self.where = where
        self.problems: list[Problem] = []
        self.warnings: list[Problem] = []
        self.groups: dict[tuple[str, str, str, str], list[tuple[LedgerLine, Decimal]]] = defaultdict(list)
        self.alliance: list[tuple[LedgerLine, Decimal]] = []
        self.names: dict[PayeeKey, str] = {}
        self.inst_names: dict[str, str] = {}

    def add(self, line: LedgerLine, amount: Decimal, row: int) -> None:
        decl = self.decls[line["item"]]
        if amount == 0 or decl.role == "ceiling":
            return
        if decl.role == "alliance":
            self.alliance.append((line, amount))
            return
        payee_kind = decl.payee or "institution"
        payee = (line["inst_id"], payee_kind)
        self.inst_names[line["inst_id"]] = line.get("inst_name", "")
        self.groups[(decl.payer or "", decl.fund or "", *payee)].append((line, amount))
        if payee_kind == "director":
            name = self.directors.get(line["inst_id"], "").strip()
            if name in NO_DIRECTOR:
                name = unnamed_director(line.get("inst_name", ""))
                msg = (
                    f"{decl.name}发放给院长个人，但机构表没有填写院长姓名（{line.get('inst_name', '')}）："
                    f"清单中记为“{name}”，发放前请核对收款账户的户名"
                )
                self.warnings.append(Problem(self.where, row, "inst_id", line["inst_id"], msg))
            self.names[payee] = name
        else:
            self.names[payee] = line.get("inst_name", "")


def build_lists(
    ledger: Sequence[LedgerLine],
    decls: Mapping[str, ItemPayment],
    *,
    alliance: str,
    directors: Mapping[str, str],
    accounts: Mapping[PayeeKey, Account] | None = None,
    period: str | None = None,
    correction: bool = False,
    where: str = "ledger.csv",
) -> PaymentLists:
    """The payment lists of `ledger` (dicts with at least period, inst_id, inst_name, item and
    amount as `-?\\d+\\.\\d{2}` text). `directors` maps a township's inst_id to its director's
    name; `accounts` (from the payees file) fills account_name/account_no/bank. With
    `correction`, amounts are differences and purposes say 更正补发 / 更正扣回.
    Raises InputError (all problems at once) for an undeclared item, a malformed amount or a
    second period. A director paid personally whose name the run lacks (the column is optional)
    is listed as 〈township〉院长（姓名未填写） with a warning in `warnings`: the payees file's
    account names who is paid."""
    problems = undeclared(decls, {str(line.get("item", "")) for line in ledger}, where)
    periods = sorted({str(line.get("period", "")) for line in ledger} | ({period} if period else set()))
    if len(periods) != 1 or not _PERIOD.match(periods[0]):
        problems.append(Problem(where, None, "period", "、".join(periods), "应为同一个期间（YYYYQn）"))
    if problems:
        raise InputError(problems)
    build = _Builder(decls, directors, where)
    for row, line in enumerate(ledger, 2):
        amount = parse_amount(line, where, row, build.problems)
        if amount is not None:
            build.add(line, amount, row)
    if build.problems:
        raise InputError(build.problems)
    label = period_label(periods[0])
    lists = _lists(build, label, periods[0], alliance, correction)
    return lists.with_accounts(dict(accounts)) if accounts else lists


def _lists(build: _Builder, label: str, period: str, alliance: str, correction: bool) -> PaymentLists:
    payments: list[PayRow] = []
    receivables: list[PayRow] = []
    netted: list[PayRow] = []
    for (payer, fund, payee_id, payee_kind), members in sorted(build.groups.items()):
        total = sum((a for _, a in members), ZERO)
        codes = tuple(sorted({str(line["item"]) for line, _ in members}))
        names = "、".join(dict.fromkeys(build.decls[c].name for c in codes))
        word = _purpose_word(total, correction)
        row = PayRow(
            period=period,
            payer=payer,
            payer_name=build.decls[codes[0]].payer_name or "",
            fund=fund,
            payee_id=payee_id,
            payee_kind=payee_kind,
            payee_name=build.names[(payee_id, payee_kind)],
            amount=total,
            purpose=f"{label} {names}{word}",
            items=codes,
            sources=tuple(sorted((str(line["inst_id"]), str(line["item"])) for line, _ in members)),
            inst_name=build.inst_names.get(payee_id, ""),
        )
        (payments if total > 0 else receivables if total < 0 else netted).append(row)
    return PaymentLists(
        period=period,
        alliance=alliance,
        payments=tuple(payments),
        receivables=tuple(receivables),
        alliance_items=tuple(_alliance_rows(build, label, period, correction)),
        netted_to_zero=tuple(netted),
        correction=correction,
        warnings=tuple(build.warnings),
    )


def _purpose_word(total: Decimal, correction: bool) -> str:
    if correction:
        return " 更正补发" if total > 0 else " 更正扣回"
    return " 应收回" if total < 0 else ""


def _alliance_rows(build: _Builder, label: str, period: str, correction: bool) -> list[PayRow]:
    rows = [
        PayRow(
            period=period,
            payer="",
            payer_name="",
            fund="",
            payee_id=str(line["inst_id"]),
            payee_kind="institution",
            payee_name=str(line.get("inst_name", "")),
            amount=amount,
            purpose=f"{label} {build.decls[line['item']].name}{' 更正' if correction else ''}",
            items=(str(line["item"]),),
            sources=((str(line["inst_id"]), str(line["item"])),),
            inst_name=str(line.get("inst_name", "")),
        )
        for line, amount in build.alliance
    ]
    return sorted(rows, key=lambda r: (r.payee_id, r.items))
