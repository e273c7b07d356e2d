"""Exact money: parsing, round-half-up (the one rounding rule), largest remainder, Chinese
capitals. The engine's columns (lang/exact.py, engine/kinds.py) round and share through here.

Nothing else in p4p rounds. Amounts are Decimal with 2 places; intermediate arithmetic is
Fraction (exact rationals), so no step ever loses a fen to binary floating point.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction
from typing import Any

import numpy as np

FEN = Decimal("0.01")

# What p4p accepts as a number in an input cell (SPEC §3, v2): ASCII digits only, no sign
# (a "-" is parsed so that callers can say "negative"), no leading zeros, thousands separators
# only in groups of three, no exponent, hex, octal, underscore, inf or nan. The same patterns
# drive the vectorised column checks of p4p/read (RE2 and Python's re read them alike).
INT_DIGITS = r"(?:0|[1-9][0-9]*|[1-9][0-9]{0,2}(?:,[0-9]{3})+)"
MONEY_PATTERN = INT_DIGITS + r"(?:\.[0-9]+)?"
INT_PATTERN = INT_DIGITS + r"(?:\.0+)?"  # 12.0 is the integer 12 (exports write it so)
MAX_MONEY_DIGITS = 15  # money < 10^15 yuan
# exactly the non-negative amounts parse_money accepts (≤ 15 digits before the point, ≤ 2 after)
MONEY_OK_PATTERN = r"(?:0|[1-9][0-9]{0,14}|[1-9][0-9]{0,2}(?:,[0-9]{3}){1,4})(?:\.[0-9]{1,2})?"
MAX_COUNT = 1_000_000_000  # counts, staff, population, targets, visits
_MONEY_RE = re.compile(r"-?" + MONEY_PATTERN)
_INT_RE = re.compile(r"-?" + INT_PATTERN)


class MoneyError(ValueError):
    """A cell that is not a valid amount; the message is Chinese and user-facing."""


def to_fraction(x: object) -> Fraction:
    if isinstance(x, Fraction):
        return x
    if isinstance(x, (int, Decimal)):
        return Fraction(x)
    if isinstance(x, str):
        return Fraction(Decimal(x))
    raise TypeError(f"not an exact number: {x!r}")


def half_up(num: Any, den: Any) -> Any:
    """num/den rounded half up (ties away from zero) to an integer, exactly: the one rounding
    rule of p4p. Works on Python ints and on numpy object arrays of them (den > 0)."""
    cents = (abs(num) * 2 + den) // (den * 2)
    if isinstance(num, int):
        return -cents if num < 0 else cents
    return np.where(num < 0, -cents, cents)


def round2(x: object) -> Decimal:
    """Round half up (ties away from zero) to 0.01, exactly."""
    f = to_fraction(x)
    return from_fen(half_up(f.numerator * 100, f.denominator))


def fen(amount: Decimal) -> int:
    return int((amount * 100).to_integral_exact())


def from_fen(n: int) -> Decimal:
    return (Decimal(n) / 100).quantize(FEN)


def fen_text(n: int) -> str:
    """An amount in fen as `-?\\d+\\.\\d{2}` (never `-0.00`), by integer arithmetic."""
    q, r = divmod(-n if n < 0 else n, 100)
    return f"{'-' if n < 0 else ''}{q}.{r:02d}"


def fmt_amount(d: Decimal) -> str:
    """`-?\\d+\\.\\d{2}`, never `-0.00`."""
    d = d.quantize(FEN)
    if d == 0:
        d = Decimal("0.00")
    return f"{d:.2f}"


def group_thousands(s: str) -> str:
    """'1234567.80' → '1,234,567.80' (display only)."""
    sign, s = ("-", s[1:]) if s.startswith("-") else ("", s)
    whole, dot, dec = s.partition(".")
    return f"{sign}{int(whole):,}{dot}{dec}"


def _foreign_digits(s: str) -> bool:
    return any(ch.isdigit() and not "0" <= ch <= "9" for ch in s)


def _exponent(s: str) -> bool:
    low = s.lower()
    return any(c.isdigit() for c in s) and "e" in low and not low.strip("0123456789.,-e")


_NUMBER_SLIPS = (  # (test, message with {what}): the ways a number is commonly mistyped or misread
    (_foreign_digits, "{what}应使用半角数字 0–9（不能用全角或其他文字的数字）"),
    (lambda s: s.startswith("+"), "{what}前不能带 + 号"),
    (lambda s: s.lower().lstrip("-") in ("inf", "infinity", "nan", ".inf", ".nan"), "{what}不能是 inf 或 nan"),
    (lambda s: s.lower().lstrip("-")[:2] in ("0x", "0o", "0b"), "{what}不能用十六进制、八进制或二进制写法"),
    (lambda s: "_" in s, "{what}中不能有下划线"),
    (_exponent, "{what}不能用科学计数法（如 1e3）"),
    (lambda s: s.lstrip("-")[:1] == "0" and s.lstrip("-")[1:2].isdigit(), "{what}不能以 0 开头（例如 0005 应写成 5）"),
    (lambda s: "," in s and not s.strip("0123456789.,-"), "千分位逗号的位置不对（应每三位一个，如 48,000.00）"),
    (lambda s: s.startswith((".", "-.")) or s.endswith("."), "小数点前后都应有数字（如 0.5、5）"),
    (lambda s: " " in s or "\u3000" in s, "{what}中不能有空格"),
)


def number_problem(text: str, what: str = "数字") -> str | None:
    """Why `text` is not a plain decimal number as p4p accepts it, in Chinese (for messages);
    None when no particular reason is recognised."""
    s = text.strip()
    return next((msg.format(what=what) for test, msg in _NUMBER_SLIPS if test(s)), None)


def parse_money(text: str) -> Decimal:
    """A money cell: at most 2 decimals, fewer than 16 digits before the point, optional
    thousands separators (`48,000.00`; a full-width comma counts as one). A leading `-` gives a
    negative amount (the caller decides whether that is allowed); everything else
    (`+5`, `1e3`, `0x10`, `03200000`, full-width digits, inf/nan) is a MoneyError."""
    s = str(text).strip().replace("，", ",")
    if not _MONEY_RE.fullmatch(s):
        raise MoneyError(number_problem(s, "金额") or "不是有效的金额")
    whole, _, decimals = s.lstrip("-").replace(",", "").partition(".")
    if len(decimals) > 2:
        raise MoneyError("金额最多两位小数")
    if len(whole) > MAX_MONEY_DIGITS:
        raise MoneyError(f"金额过大（整数部分最多 {MAX_MONEY_DIGITS} 位）")
    return Decimal(s.replace(",", "")).quantize(FEN)


def parse_int(text: str, maximum: int | None = MAX_COUNT) -> int:
    """An integer cell: ASCII digits, optional thousands separators, an optional fraction of
    zeros only (`12.0`); at most `maximum` (SPEC: 1,000,000,000). A leading `-` gives a
    negative number (the caller decides whether that is allowed)."""
    s = str(text).strip()
    if not _INT_RE.fullmatch(s):
        if _MONEY_RE.fullmatch(s):
            raise MoneyError("应为整数（不能有小数）")
        raise MoneyError(number_problem(s) or "应为整数" if s else "不能为空")
    digits = s.lstrip("-").split(".")[0].replace(",", "")
    if maximum is not None and (len(digits) > len(str(maximum)) or int(digits) > maximum):
        raise MoneyError(f"数值过大（不能超过 {maximum:,}）")
    return -int(digits) if s.startswith("-") else int(digits)


def split_fen(total: int, weights: Sequence[int]) -> list[int]:
    """Largest remainder: `total` fen over non-negative integer weights (in the order ties are
    broken: the earlier one wins). Each share is total × w / Σw floored; the fens left over go
    one each to the largest remainders. The parts add up to `total` exactly; all 0 when Σw = 0
    (the caller decides where the money goes)."""
    n = len(weights)
    wsum = sum(weights)
    if wsum == 0:
        return [0] * n
    floors, rests = [], []
    for w in weights:
        q, r = divmod(total * w, wsum)
        floors.append(q)
        rests.append(r)
    for i in sorted(range(n), key=rests.__getitem__, reverse=True)[: total - sum(floors)]:
        floors[i] += 1
    return floors


# ---- 金额大写 (banking convention) ---------------------------------------------------------
_DIGITS = "零壹贰叁肆伍陆柒捌玖"
_SMALL = ["", "拾", "佰", "仟"]
_BIG = ["", "万", "亿", "万亿"]


def _four(n: int) -> str:
    """0 < n < 10000 → capitals with inner zeros as 零 (no leading 零)."""
    out, zero = "", False
    for pos in range(3, -1, -1):
        d = n // 10**pos % 10
        if d == 0:
            zero = bool(out)
        else:
            if zero:
                out += "零"
                zero = False
            out += _DIGITS[d] + _SMALL[pos]
    return out


def capitals(amount: Decimal) -> str:
    """人民币 capitals, e.g. 12000.00 → 人民币壹万贰仟元整, 0.05 → 人民币伍分,
    negatives as 人民币负….  Rules: 整 after 元 when there are no fen; 零 for a gap of
    zeros between non-zero digits (and before the jiao/fen after a zero yuan digit)."""
    cents = fen(Decimal(amount).quantize(FEN))
    neg = cents < 0
    cents = abs(cents)
    yuan, jiao, fen_ = cents // 100, cents // 10 % 10, cents % 10
    s = ""
    if yuan:
        groups = []
        y = yuan
        while y:
            groups.append(y % 10000)
            y //= 10000
        need_zero = False
        for i in range(len(groups) - 1, -1, -1):
            g = groups[i]
            if g == 0:
                need_zero = bool(s)
                continue
            if s and (need_zero or g < 1000):
                s += "零"
            s += _four(g) + _BIG[i]
            need_zero = False
        s += "元"
    if jiao == 0 and fen_ == 0:
        s = (s or "零元") + "整"
    else:
        if jiao:
            if yuan and yuan % 10 == 0:
                s += "零"
            s += _DIGITS[jiao] + "角"
        elif yuan:
            s += "零"
        if fen_:
            s += _DIGITS[fen_] + "分"
        else:
            s += "整"
    return "人民币" + ("负" if neg else "") + s
