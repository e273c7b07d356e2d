"""What an approval pays (SPEC §9): the data files of an approval folder, worked out from the
approved run and — for a supersede — the approved run it replaces.

Pure: the runs come in as `RunPay` (read and checked against their manifests by the caller),
the payees file as its path (read and validated here, like every input), the bank template
loaded. Everything that can be wrong with the payees or the lists is found here, before the
archive is touched: InputError (exit 2: bad payees, a director without a name),
ReconcileError or Refused (the lists do not account for the ledger; a supersede whose two
rulesets declare a payment differently).

A first approval pays its lists: payments.csv, receivables.csv, alliance_items.csv, a bank
file per payer and fund under bank/ (only with payees). A supersede pays the differences:
corrections.csv and the correction lists take those names (they are what this approval folder
pays, and the only bank files), B's full lists go under reference/ for checking, never with a
bank file. The payees file and the bank template used are copied as given; the reconciliation
is kept as text.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from ..model.problems import InputError, Problem
from .bankfile import BankTemplate, bank_files
from .corrections import Correction, as_ledger, correction_lists, corrections
from .files import CORRECTIONS, corrections_csv, list_files
from .items import PAYEE_KIND_NAMES, ItemPayment
from .lists import LedgerLine, build_lists
from .payees import PayeeBook, validate_payees
from .reconcile import reconcile
from .rows import PaymentLists

RECONCILIATION = "reconciliation.txt"
REFERENCE = "reference"
BANK = "bank"
BANK_TEMPLATE_COPY = f"{BANK}/template.yaml"
NO_DECLARATIONS = "该运行的规则集（p4p 0.2 的格式 1）没有声明各项目由谁发放：本次审批只盖章确认结算单，不生成发放清单"
NO_PAYEES = "未提供收款账户文件（--payees）：发放清单只列收款方名称，没有账号，未生成代发文件"


class Refused(Exception):
    """An approval that cannot pay correctly as asked; the message (Chinese) says why."""


@dataclass(frozen=True)
class RunPay:
    """What a run says about paying: its ledger lines, the ruleset's declarations (None for a
    format-1 ruleset, which declares none) and the directors' names from its trace."""

    run_id: str
    period: str
    alliance: str
    ledger: Sequence[LedgerLine]
    decls: Mapping[str, ItemPayment] | None
    directors: Mapping[str, str]
    ruleset_id: str = ""


@dataclass(frozen=True)
class Checked:
    """A set of payment lists with the reconciliation text that proved them against a ledger."""

    lists: PaymentLists
    reconciliation: str


@dataclass(frozen=True)
class Plan:
    """The data files of an approval folder (relative path → bytes) and what the documents
    are made from. `payable` is what this approval pays: the ordinary lists, or for a
    supersede the correction lists; `reference` is the superseding run's full lists."""

    data: dict[str, bytes]
    payable: Checked | None = None
    reference: Checked | None = None
    corrections: tuple[Correction, ...] | None = None  # None: not a supersede
    decls: Mapping[str, ItemPayment] | None = None
    payees: PayeeBook | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[Problem, ...] = field(default=())
    attention: tuple[str, ...] = ()  # printed first on the payable documents (e.g. a Q4 to re-run)

    def document_text(self, checked: Checked) -> str:
        """The reconciliation as the documents print it (the payable lists lead with `attention`)."""
        lead = self.attention if checked is self.payable else ()
        return "\n".join([*lead, checked.reconciliation])

    @property
    def bank_files(self) -> list[str]:
        return sorted(r for r in self.data if r.startswith(f"{BANK}/") and r != BANK_TEMPLATE_COPY)


def plan_approval(
    run: RunPay,
    *,
    payees: Path | None = None,
    template: tuple[BankTemplate, bytes] | None = None,
    original: RunPay | None = None,
    attention: Sequence[str] = (),
) -> Plan:
    """The plan of approving `run` (superseding `original` when given). `template` is the bank
    template with its file's bytes (used only with payees); `attention` are notices the
    payable documents and the reconciliation file lead with."""
    plan = _first(run, payees, template) if original is None else _supersede(original, run, payees, template)
    if not attention:
        return plan
    data = dict(plan.data)
    if RECONCILIATION in data:
        data[RECONCILIATION] = _text([*attention, data[RECONCILIATION].decode("utf-8-sig")])
    return replace(plan, data=data, attention=tuple(attention))


def _unusable_payees(payees: Path | None, why: str) -> None:
    if payees is not None:
        raise InputError([Problem(payees.name, None, None, None, f"{why}，用不上收款账户文件；请去掉 --payees")])


def _first(run: RunPay, payees: Path | None, template: tuple[BankTemplate, bytes] | None) -> Plan:
    if run.decls is None:
        _unusable_payees(payees, "该运行的规则集没有声明发放方式，不生成发放清单")
        return Plan({}, notes=(NO_DECLARATIONS,))
    lists = build_lists(run.ledger, run.decls, alliance=run.alliance, directors=run.directors)
    book = validate_payees(payees, run.ledger, lists) if payees else None
    lists = lists.with_accounts(book.accounts) if book else lists
    checked = Checked(lists, reconcile(run.ledger, run.decls, lists))
    data = {**list_files(lists), **_bank(lists, book, template), **_payees_copy(payees, book)}
    data[RECONCILIATION] = _text([checked.reconciliation])
    notes = () if book else (NO_PAYEES,)
    warnings = _warnings(lists, book)
    return Plan(data, checked, decls=run.decls, payees=book, notes=notes, warnings=warnings)


def _supersede(a: RunPay, b: RunPay, payees: Path | None, template: tuple[BankTemplate, bytes] | None) -> Plan:
    corrs = tuple(corrections(a.ledger, b.ledger))
    data = {CORRECTIONS: corrections_csv(corrs)}
    decls, notes = merged_declarations(a, b)
    if decls is None or b.decls is None:
        _unusable_payees(payees, "两次运行的规则集都没有声明发放方式，不生成更正发放清单")
        return Plan(data, corrections=corrs, notes=(*notes, NO_DECLARATIONS))
    directors = {**a.directors, **b.directors}
    lists = correction_lists(corrs, decls, period=b.period, alliance=b.alliance, directors=directors)
    full = build_lists(b.ledger, b.decls, alliance=b.alliance, directors=b.directors)
    book = validate_payees(payees, [*a.ledger, *b.ledger], lists, full) if payees else None
    if book:
        lists, full = lists.with_accounts(book.accounts), full.with_accounts(book.accounts)
    payable = Checked(lists, reconcile(as_ledger(corrs), decls, lists))
    reference = Checked(full, reconcile(b.ledger, b.decls, full))
    data |= {**list_files(lists), **_bank(lists, book, template), **_payees_copy(payees, book)}
    data |= {f"{REFERENCE}/{name}": content for name, content in list_files(full).items()}
    data[RECONCILIATION] = _text(
        [payable.reconciliation, "更正后全额清单（仅供核对，不作发放依据）：", reference.reconciliation]
    )
    if not corrs:
        notes = (*notes, "两次运行的台账金额完全相同：没有需要补发或扣回的款项")
    if not book:
        notes = (*notes, NO_PAYEES)
    warnings = _warnings(full, book, lists) + _directors_changed(a, b, decls)
    return Plan(data, payable, reference, corrs, decls, book, notes, warnings)


def _directors_changed(a: RunPay, b: RunPay, decls: Mapping[str, ItemPayment]) -> tuple[Problem, ...]:
    """A director paid personally by the approved run A whom the superseding run B names
    differently: a correction pays only the difference of each ledger line, so what A paid to
    its director is neither recovered from that person nor paid to B's — said, not dropped."""
    paid: dict[str, list[str]] = {}
    for line in a.ledger:
        d = decls.get(str(line["item"]))
        if d is not None and d.is_transfer and d.payee == "director" and str(line.get("amount", "0.00")) != "0.00":
            paid.setdefault(str(line["inst_id"]), []).append(f"{d.name} {line['amount']} 元")
    return tuple(
        Problem(
            "corrections.csv",
            None,
            None,
            inst,
            f"院长在原审批运行 {a.run_id} 中为“{a.directors[inst]}”，在更正运行中为“{b.directors[inst]}”；"
            f"原审批已付给“{a.directors[inst]}”个人的 {'、'.join(items)} 不会因这次更正从其收回，也不会付给"
            f"“{b.directors[inst]}”（更正只发放台账金额的差额）：若应付给另一人，须另行办理收回和补发",
        )
        for inst, items in sorted(paid.items())
        if inst in b.directors and a.directors.get(inst, "") != b.directors[inst]
    )


def merged_declarations(a: RunPay, b: RunPay) -> tuple[dict[str, ItemPayment] | None, tuple[str, ...]]:
    """The declarations the differences between A and B are paid by: both rulesets' (B's
    name wins for display); Refused when they declare an item's payment differently — the
    difference of a line paid by one payer in A and another in B is no payment at all.
    A format-1 A (no declarations) is paid by B's, with a note."""
    if a.decls is None and b.decls is None:
        return None, ()
    if b.decls is None:
        raise Refused(
            f"更正运行 {b.run_id} 的规则集（p4p 0.2 的格式 1）没有声明发放方式，而原审批运行 {a.run_id} 的有："
            "无法按原来的发放方式计算更正发放清单；请用现行规则集重新运行该季度，再审批新的运行"
        )
    if a.decls is None:
        note = f"原审批运行 {a.run_id} 的规则集（p4p 0.2 的格式 1）没有声明发放方式：更正发放清单按更正运行的规则集的声明编制"
        return dict(b.decls), (note,)
    conflicts = [
        f"{code}（{b.decls[code].name}）：原审批为{_route(a.decls[code])}，更正运行为{_route(b.decls[code])}"
        for code in sorted(set(a.decls) & set(b.decls))
        if _payment(a.decls[code]) != _payment(b.decls[code])
    ]
    if conflicts:
        raise Refused(
            f"不能替换：原审批运行 {a.run_id}（规则集 {a.ruleset_id}）与更正运行 {b.run_id}（规则集 {b.ruleset_id}）"
            "对下列项目的发放方式（付款方、资金、收款人）声明不同。更正只发放同一付款方、同一资金内的差额，"
            "付款方式改变后差额无从计算；请用与原审批相同的发放声明（items.yaml）重新运行：\n"
            + "\n".join(f"  - {c}" for c in conflicts)
        )
    return {**a.decls, **b.decls}, ()


def _warnings(*sources: PaymentLists | PayeeBook | None) -> tuple[Problem, ...]:
    """The warnings of the lists and the payees file, each once."""
    return tuple(dict.fromkeys(w for src in sources if src is not None for w in src.warnings))


def _payment(d: ItemPayment) -> tuple[str, str | None, str | None, str | None]:
    return (d.role, d.payer, d.fund, d.payee)


def _route(d: ItemPayment) -> str:
    if not d.is_transfer:
        return {"ceiling": "核定额度（不发放）", "alliance": "医共体项目（不发放）"}.get(d.role, d.role)
    who = PAYEE_KIND_NAMES.get(d.payee or "", d.payee or "")
    return f"“{d.payer_name or d.payer} · {d.fund} → {who}”"


def _bank(lists: PaymentLists, book: PayeeBook | None, template: tuple[BankTemplate, bytes] | None) -> dict[str, bytes]:
    """Bank files (and the template they were made with) — only when accounts were given."""
    if book is None or template is None:
        return {}
    files = {f"{BANK}/{name}": data for name, data in bank_files(lists, template[0]).items()}
    return {**files, BANK_TEMPLATE_COPY: template[1]} if files else {}


def _payees_copy(payees: Path | None, book: PayeeBook | None) -> dict[str, bytes]:
    if payees is None or book is None:
        return {}
    suffix = payees.suffix.lower() if payees.suffix.lower() in (".xlsx", ".xlsm") else ".csv"
    return {f"payees{suffix}": book.data}


def _text(parts: Sequence[str]) -> bytes:
    """The reconciliation as a text file (UTF-8 with BOM, CRLF: opens in Notepad as it prints)."""
    return ("\ufeff" + "\r\n".join("\n".join(parts).splitlines()) + "\r\n").encode("utf-8")
