"""Write a payees file (收款账户) for an alliance: one account per institution and one personal
account per township director, with plausible, made-up account numbers whose last digit is a
valid Luhn check digit (so `p4p approve --payees` shows no card-number warning).

The numbers are derived from the inst_id (SHA-256), so the same institutions give the same
file. Used for the shipped demo:

    python scripts/demo_payees.py inputs/demo/2026Q1/institutions.csv inputs/demo/payees.csv

They are not real accounts: never send a bank file made from them to a bank.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
from pathlib import Path

HEADER = ("机构编码", "收款人类型", "户名", "账号", "开户行")
# (issuer prefix, length, bank) by who holds the account
ACCOUNTS = {
    "institution": ("1306", 19, "中国工商银行歙县支行"),
    "village": ("6230", 19, "歙县农村商业银行"),
    "director": ("6217", 19, "中国建设银行歙县支行"),
}


def luhn_digit(body: str) -> str:
    """The check digit that makes body + digit pass the Luhn check."""
    total = 0
    for i, ch in enumerate(reversed(body)):
        d = int(ch)
        if i % 2 == 0:  # doubled: these are the odd positions counted from the check digit
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return str((10 - total % 10) % 10)


def account_number(seed: str, prefix: str, length: int) -> str:
    digits = "".join(str(b % 10) for b in hashlib.sha256(seed.encode("utf-8")).digest())
    body = (prefix + digits)[: length - 1]
    return body + luhn_digit(body)


def payees(institutions: Path) -> list[tuple[str, str, str, str, str]]:
    rows = []
    with open(institutions, encoding="utf-8-sig", newline="") as f:
        for inst in csv.DictReader(f):
            holder = "village" if inst["kind"] in ("village", "村卫生室") else "institution"
            prefix, length, bank = ACCOUNTS[holder]
            no = account_number(f"{inst['inst_id']}/institution", prefix, length)
            rows.append((inst["inst_id"], "机构", inst["name"], no, bank))
            if inst.get("director", "").strip():
                prefix, length, bank = ACCOUNTS["director"]
                no = account_number(f"{inst['inst_id']}/director", prefix, length)
                rows.append((inst["inst_id"], "院长", inst["director"].strip(), no, bank))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("institutions", type=Path, help="institutions.csv of the alliance (UTF-8)")
    ap.add_argument("out", type=Path, help="payees CSV to write (UTF-8 with BOM, Chinese headers)")
    args = ap.parse_args()
    with open(args.out, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.writer(f, lineterminator="\r\n")
        w.writerow(HEADER)
        w.writerows(payees(args.institutions))


if __name__ == "__main__":
    main()
