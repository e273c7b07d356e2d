"""The reconciliation printed at approval (SPEC §9): every non-zero transfer line of the
ledger is in exactly one of payments / receivables (or in a payee total that nets to zero),
every alliance line in the alliance list, and the sums agree to the fen per payer and fund.

It is computed again from the ledger and the declarations, not from the lists' own totals,
so a fault in building the lists is caught here rather than paid."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from decimal import Decimal

from ..model.money import fmt_amount, group_thousands
from .items import ItemPayment
from .lists import ZERO, LedgerLine, period_label
from .rows import PaymentLists, PayRow


class ReconcileError(Exception):
    """The lists do not account for the ledger; the message (Chinese) says where."""


def yuan(amount: Decimal) -> str:
    return group_thousands(fmt_amount(amount))


class _Ledger:
    """What the ledger says, by role: transfer sums per (payer, fund), the non-zero lines."""

    def __init__(self, ledger: Sequence[LedgerLine], decls: Mapping[str, ItemPayment]) -> None:
        self.transfer: dict[tuple[str, str], Decimal] = defaultdict(lambda: ZERO)
        self.transfer_lines: Counter[tuple[str, str]] = Counter()
        self.alliance: dict[tuple[str, str], Decimal] = {}
        self.ceiling: dict[str, list[Decimal]] = defaultdict(list)
        self.zero = 0
        for line in ledger:
            decl, amount = decls[line["item"]], Decimal(line["amount"])
            key = (line["inst_id"], line["item"])
            if decl.role == "ceiling":
                self.ceiling[decl.name].append(amount)
            elif amount == 0:
                self.zero += 1
            elif decl.role == "alliance":
                self.alliance[key] = amount
            else:
                group = (decl.payer or "", decl.fund or "")
                self.transfer[group] += amount
                self.transfer_lines[key] += 1


def _coverage(expected: Counter[tuple[str, str]], rows: Sequence[PayRow], what: str) -> list[str]:
    listed: Counter[tuple[str, str]] = Counter(k for r in rows for k in r.sources)
    out = [f"台账行 {i} {it} 在{what}中出现 {n} 次" for (i, it), n in sorted(listed.items()) if n > 1]
    out += [f"台账行 {i} {it} 不在{what}中" for (i, it) in sorted(set(expected) - set(listed))]
    out += [f"{what}中的 {i} {it} 不是台账中的非零行" for (i, it) in sorted(set(listed) - set(expected))]
    return out


def _sum(rows: Sequence[PayRow]) -> Decimal:
    return sum((r.amount for r in rows), ZERO)


def reconcile(ledger: Sequence[LedgerLine], decls: Mapping[str, ItemPayment], lists: PaymentLists) -> str:
    """The Chinese reconciliation text to print; raises ReconcileError when anything fails."""
    led = _Ledger(ledger, decls)
    transfer_rows = (*lists.payments, *lists.receivables, *lists.netted_to_zero)
    findings = _coverage(led.transfer_lines, transfer_rows, "发放名单/应收回清单")
    findings += _coverage(Counter(led.alliance), lists.alliance_items, "医共体项目清单")
    if any(r.amount <= 0 for r in lists.payments) or any(r.amount >= 0 for r in lists.receivables):
        findings.append("发放名单只能有正数、应收回清单只能有负数")
    names = {(d.payer or "", d.fund or ""): d.payer_name or "" for d in decls.values() if d.is_transfer}
    source = "差额" if lists.correction else "台账"  # a correction reconciles the differences
    detail = []
    for group in sorted(set(led.transfer) | {r.group for r in transfer_rows}):
        paid = _sum([r for r in lists.payments if r.group == group])
        back = _sum([r for r in lists.receivables if r.group == group])
        mark = "相符" if paid + back == led.transfer[group] else "不符"
        if mark == "不符":
            findings.append(f"{names.get(group, group[0])} · {group[1]}：台账 {yuan(led.transfer[group])} ≠ 清单")
        detail.append(
            f"  {names.get(group, group[0])} · {group[1]}：{source} {yuan(led.transfer[group])} 元"
            f" = 发放 {yuan(paid)} 元 + 应收回 {yuan(back)} 元 —— {mark}"
        )
    alliance_total, alliance_listed = sum(led.alliance.values(), ZERO), _sum(lists.alliance_items)
    if alliance_total != alliance_listed:
        findings.append(f"医共体项目：台账 {yuan(alliance_total)} ≠ 清单 {yuan(alliance_listed)}")
    if findings:
        raise ReconcileError("发放清单与台账核对不符：\n" + "\n".join(f"  - {f}" for f in findings))
    return "\n".join(_text(led, lists, detail, alliance_total))


def _text(led: _Ledger, lists: PaymentLists, detail: list[str], alliance_total: Decimal) -> list[str]:
    title = "更正发放核对" if lists.correction else "发放核对"
    source = "更正差额中的转付项目" if lists.correction else "台账转付项目"
    paid, back = _sum(lists.payments), _sum(lists.receivables)
    out = [
        f"{title}（{lists.alliance} {period_label(lists.period)}）",
        f"{source}：非零 {sum(led.transfer_lines.values())} 行，合计 {yuan(sum(led.transfer.values(), ZERO))} 元"
        f" = 发放名单 {len(lists.payments)} 笔 {yuan(paid)} 元 + 应收回 {len(lists.receivables)} 笔 {yuan(back)} 元"
        " —— 相符",
        *detail,
    ]
    if lists.netted_to_zero:
        who = "、".join(f"{r.payee_name}（{r.payee_id}）" for r in lists.netted_to_zero)
        out.append(f"  同一付款方与资金内相抵为 0.00、不列入清单：{who}")
    out.append(
        f"医共体项目：{len(led.alliance)} 行，合计 {yuan(alliance_total)} 元 = 医共体项目清单 "
        f"{len(lists.alliance_items)} 行 —— 相符"
    )
    for name, amounts in sorted(led.ceiling.items()):
        out.append(
            f"核定额度（单位自行发放，不列入清单）：{name} {len(amounts)} 行，合计 {yuan(sum(amounts, ZERO))} 元"
        )
    if led.zero:
        out.append(f"金额为 0.00 的 {led.zero} 行不列入任何清单")
    return out
