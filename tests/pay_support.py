"""Shared fixtures of the test_pay_* and test_approve_* modules: the reference payment
declarations, two ledgers of the small alliance of conftest.py, and reading what an approval
printed and wrote.

tests/data/pay/ledger-2026Q1.csv is the ledger `p4p run` writes for conftest's base quarter
(test_pay_lists checks that it still does); every amount is worked out in test_pay_lists'
docstring. tests/data/pay/ledger-2026Q4.csv is the year-end ledger of test_q4.py (its
docstring has the working): PH_FUND claw-backs T02 −38,719.46, V01 −2,903.96, V03 −3,387.97
and T01 +205,011.39; MI_SURPLUS L01 440,816.33, C01 99,183.67, T01 186,206.90, T02 83,793.10;
MI_UNDISTRIBUTED 90,000.00 on L01.
"""

from __future__ import annotations

import csv
from pathlib import Path

from p4p.engine.ledger import parse_ledger
from p4p.pay.items import ItemPayment, from_ruleset
from p4p.pay.rows import Account
from p4p.resources import REFERENCE_RULES
from p4p.ruleset.load import load_ruleset

PAY_DATA = Path(__file__).resolve().parent / "data" / "pay"
DIRECTORS = {"T01": "张院长", "T02": "李院长"}
ALLIANCE = "测试医共体"


def decls() -> dict[str, ItemPayment]:
    return from_ruleset(load_ruleset(REFERENCE_RULES).items)


def ledger(period: str) -> list[dict]:
    return parse_ledger((PAY_DATA / f"ledger-{period}.csv").read_bytes())


def line(inst_id: str, item: str, amount: str, period: str = "2026Q4", name: str | None = None) -> dict[str, str]:
    """A hand-written ledger line."""
    return {
        "period": period,
        "inst_id": inst_id,
        "inst_name": name or f"{inst_id}名称",
        "kind": "village",
        "item": item,
        "item_name": item,
        "amount": amount,
    }


# accounts of every payee of the base quarter; 4111111111111111 passes the Luhn check
# (doubled digits 4→8 and seven 1→2 make 22, the eight undoubled 1s 8: 30)
ACCOUNTS = {
    ("T01", "institution"): Account("甲镇卫生院", "12345678901", "工行歙县支行"),
    ("T02", "institution"): Account("乙镇卫生院", "12345678902", "工行歙县支行"),
    ("V01", "institution"): Account("王医生", "4111111111111111", "农商行歙县支行"),
    ("V03", "institution"): Account("赵医生", "12345678903", "农商行歙县支行"),
    ("T01", "director"): Account("张院长", "12345678904", "建行歙县支行"),
    ("T02", "director"): Account("李院长", "12345678905", "建行歙县支行"),
}

# every payee of the base quarters and the Q4 of archive_kit (L01 and C01 receive MI_SURPLUS in Q4)
ALL_ACCOUNTS = {
    **ACCOUNTS,
    ("L01", "institution"): Account("县人民医院", "12345678906", "工行歙县支行"),
    ("C01", "institution"): Account("县中医院", "12345678907", "工行歙县支行"),
}


def payees_csv(path: Path, accounts: dict = ALL_ACCOUNTS) -> Path:
    """A payees file (English headers, UTF-8) with one row per account."""
    rows = ["inst_id,payee,account_name,account_no,bank"]
    rows += [f"{i},{kind},{a.account_name},{a.account_no},{a.bank}" for (i, kind), a in accounts.items()]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def folder_of(result) -> Path:
    """The approval folder `p4p approve` printed last (the command must have succeeded)."""
    assert result.exit_code == 0, result.output
    return Path(result.stdout.strip().splitlines()[-1])


def rows(path: Path) -> list[dict[str, str]]:
    """A list file of an approval folder (UTF-8 with BOM) as dicts."""
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))
