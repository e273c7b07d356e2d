"""How numbers and names look in the documents people read (display only: the exact values stay
in the ledger and the trace)."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from ..model.money import group_thousands

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}
_UNSAFE = re.compile(r"[^0-9A-Za-z\u4e00-\u9fff\u3400-\u4dbf]+")


def period_label(period: str) -> str:
    """'2026Q1' → '2026年第一季度'."""
    return f"{period[:4]}年{QUARTER_NAMES[int(period[-1])]}"


def quarter_label(period: str) -> str:
    """'2026Q1' → '第一季度'."""
    return QUARTER_NAMES[int(period[-1])]


def to_decimal(text: str) -> Decimal:
    """A value of the trace as a Decimal: decimal text, or an exact ratio n/d (divided out to 28
    digits, for display and comparison only)."""
    if "/" in text:
        f = Fraction(text)
        return Decimal(f.numerator) / Decimal(f.denominator)
    return Decimal(text)


def money(text: str | Decimal) -> str:
    """An amount with 2 decimals and thousands separators: '1234.5' → '1,234.50'."""
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return str(text)
    return group_thousands(f"{d.quantize(Decimal('0.01')):.2f}")


def number(text: str, places: int = 6) -> str:
    """A quantity for people: at most `places` decimals (half even is fine for display: the
    exact value is in the ledger), no trailing zeros, thousands separators."""
    try:
        d = Decimal(text)
    except (InvalidOperation, ValueError):
        return text
    q = f"{d.quantize(Decimal(1).scaleb(-places)):.{places}f}" if d != d.to_integral_value() else f"{d:.0f}"
    if "." in q:
        q = q.rstrip("0").rstrip(".")
    return group_thousands(q)


def safe_file_name(text: str, limit: int = 30) -> str:
    """Letters, digits and CJK characters only (anything else becomes '_'), at most `limit`
    characters: a name that can neither leave its folder nor trouble a file system."""
    return _UNSAFE.sub("_", text).strip("_")[:limit].rstrip("_")
