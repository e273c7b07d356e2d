"""The rows of the payment lists (payments, receivables, alliance items) and the payee
accounts they carry — the shapes shared by lists, payees, files and bank files."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal

from ..model.problems import Problem

# the columns of payments.csv, receivables.csv and alliance_items.csv (SPEC §9 names the
# first ten; period and items make a file readable on its own and traceable to the ledger)
COLUMNS = (
    "period",
    "payer",
    "payer_name",
    "fund",
    "payee_id",
    "payee_kind",
    "payee_name",
    "account_name",
    "account_no",
    "bank",
    "amount",
    "purpose",
    "items",
)
CHINESE = {
    "period": "期间",
    "payer": "付款方代码",
    "payer_name": "付款方",
    "fund": "资金",
    "payee_id": "收款方编码",
    "payee_kind": "收款人类型",
    "payee_name": "收款方",
    "account_name": "户名",
    "account_no": "账号",
    "bank": "开户行",
    "amount": "金额（元）",
    "purpose": "用途",
    "items": "台账项目",
}
# Unicode categories no payee text may hold (control and format characters, line and paragraph
# separators): they split a bank file's line or make a printed name differ from the one paid
HIDDEN = ("Cc", "Cf", "Zl", "Zp")


@dataclass(frozen=True)
class Account:
    """A payee's bank account as given in the payees file (`row` = its spreadsheet row)."""

    account_name: str
    account_no: str
    bank: str
    row: int | None = None


PayeeKey = tuple[str, str]  # (inst_id, payee kind)


@dataclass(frozen=True)
class PayRow:
    """One payee's net total within one payer and fund (or one alliance item line).
    `sources` are the (inst_id, item) ledger lines netted into it."""

    period: str
    payer: str
    payer_name: str
    fund: str
    payee_id: str
    payee_kind: str
    payee_name: str
    amount: Decimal
    purpose: str
    items: tuple[str, ...]
    sources: tuple[tuple[str, str], ...]
    account_name: str = ""
    account_no: str = ""
    bank: str = ""
    inst_name: str = ""  # the institution's name (for a director: the township's), for documents

    @property
    def payee_label(self) -> str:
        """The payee as people read it: a director with the township, 张院长（甲镇卫生院）."""
        if self.payee_kind == "director" and self.inst_name:
            return f"{self.payee_name}（{self.inst_name}）"
        return self.payee_name

    @property
    def payee_key(self) -> PayeeKey:
        return (self.payee_id, self.payee_kind)

    @property
    def group(self) -> tuple[str, str]:
        """(payer, fund): the only scope within which amounts are netted."""
        return (self.payer, self.fund)

    def with_account(self, account: Account | None) -> PayRow:
        if account is None:
            return self
        return replace(self, account_name=account.account_name, account_no=account.account_no, bank=account.bank)


@dataclass(frozen=True)
class PaymentLists:
    """The three lists of one approval (or of one correction). `netted_to_zero` holds payee
    totals whose lines cancel exactly within their payer and fund: they are in no list, and
    the reconciliation names them."""

    period: str
    alliance: str
    payments: tuple[PayRow, ...]
    receivables: tuple[PayRow, ...]
    alliance_items: tuple[PayRow, ...]
    netted_to_zero: tuple[PayRow, ...] = ()
    correction: bool = False
    warnings: tuple[Problem, ...] = ()  # e.g. a director paid personally whose name the run lacks

    def groups(self) -> list[tuple[str, str, str]]:
        """(payer, payer_name, fund) of every payment group, in list order."""
        return [(p, name, f) for p, name, f, _ in grouped(self.payments)]

    def with_accounts(self, accounts: dict[PayeeKey, Account]) -> PaymentLists:
        def fill(rows: tuple[PayRow, ...]) -> tuple[PayRow, ...]:
            return tuple(r.with_account(accounts.get(r.payee_key)) for r in rows)

        return replace(self, payments=fill(self.payments), receivables=fill(self.receivables))


def grouped(rows: tuple[PayRow, ...]) -> list[tuple[str, str, str, tuple[PayRow, ...]]]:
    """Rows (sorted by payer and fund) as (payer, payer_name, fund, rows) groups, in order."""
    out: dict[tuple[str, str], list[PayRow]] = {}
    for r in rows:
        out.setdefault(r.group, []).append(r)
    return [(p, members[0].payer_name, f, tuple(members)) for (p, f), members in out.items()]
