"""Texts with `{name}` placeholders: rule titles, `explain` derivations, statement sentences,
warning messages. The names are checked when the ruleset loads (ruleset/names.py); the values
come from the trace when a text is shown, so nothing is recomputed.

Formats people read: `{x:money}` 1,234.50 · `{x:percent}` 30.7% (`percent.3`: 3 decimals) ·
`{x:number}` at most 2 decimals (`number.1`) · `{x:count}` 12,345 · `{x:wan}` 4.8万 ·
`{x:absmoney}` the amount without its sign (−1,234.50 → 1,234.50, for "应退回 …元") ·
`{x:exact}` every digit · `{x}` the exact value, long fractions shown as ≈ 6 decimals.
Rounding for display is half up; the exact value stays in the trace.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation, localcontext
from fractions import Fraction

FORMATS = ("money", "absmoney", "percent", "number", "count", "wan", "exact", "text")
DIGITS_FORMATS = ("percent", "number", "wan")  # the ones whose `.N` sets the decimals shown
_PLACE = re.compile(r"\{([^{}]*)\}")
_SPEC = re.compile(r"^([A-Za-z_][A-Za-z0-9_]*)(?::([a-z]+)(?:\.(\d))?)?$")
_LONG = re.compile(r"^-?\d+\.\d{7,}$")


class TemplateError(Exception):
    """A malformed placeholder; the message is Chinese."""


@dataclass(frozen=True)
class Template:
    text: str
    parts: tuple[str | tuple[str, str | None, int | None], ...]

    @property
    def names(self) -> frozenset[str]:
        return frozenset(p[0] for p in self.parts if isinstance(p, tuple))

    def render(self, values: Mapping[str, str]) -> str:
        """Fill in the values (exact decimal text, or plain text); a missing one shows as {name}."""
        out = []
        for p in self.parts:
            if isinstance(p, str):
                out.append(p)
            elif p[0] in values:
                out.append(show(values[p[0]], p[1], p[2]))
            else:
                out.append("{" + p[0] + "}")
        return "".join(out)


def compile_template(text: str) -> Template:
    joined = join_lines(text)
    parts: list[str | tuple[str, str | None, int | None]] = []
    pos = 0
    for m in _PLACE.finditer(joined):
        spec = _SPEC.match(m.group(1).strip())
        if not spec:
            raise TemplateError(f"占位符 {m.group(0)} 写法不对（应为 {{名称}} 或 {{名称:money}} 等）")
        name, fmt, digits = spec.group(1), spec.group(2), spec.group(3)
        if fmt is not None and fmt not in FORMATS:
            raise TemplateError(f"占位符 {m.group(0)} 的格式 {fmt} 不认识（可用：{'、'.join(FORMATS)}）")
        if digits is not None and fmt not in DIGITS_FORMATS:
            raise TemplateError(
                f"占位符 {m.group(0)} 的格式 {fmt} 不能指定小数位数（只有 {'、'.join(DIGITS_FORMATS)} 可以，如 percent.3）"
            )
        parts.append(joined[pos : m.start()])
        parts.append((name, fmt, int(digits) if digits else None))
        pos = m.end()
    rest = joined[pos:]
    if "{" in rest or "}" in rest or any(isinstance(p, str) and ("{" in p or "}" in p) for p in parts):
        raise TemplateError("文字中有不成对的花括号 { }")
    parts.append(rest)
    return Template(text, tuple(parts))


def join_lines(text: str) -> str:
    """Lines of a Chinese text join without a space, unless Latin text or a {name} meets."""
    out = ""
    for line in (s.strip() for s in text.splitlines()):
        if out and line and _needs_space(out[-1], line[0]):
            out += " "
        out += line
    return out


def _needs_space(left: str, right: str) -> bool:
    return (left.isascii() and left.isalnum()) or left == "}" or right == "{" or (right.isascii() and right.isalnum())


# ---- showing a value ---------------------------------------------------------------------------


def show(value: str, fmt: str | None, digits: int | None = None) -> str:
    """One value for people. Text that is not a number is shown as it is. The decimal precision
    follows the value's length, so a huge one is neither cut to 28 digits nor refused by quantize."""
    with localcontext() as ctx:
        ctx.prec = max(ctx.prec, len(value) + 20)
        return _show(value, fmt, digits)


def _show(value: str, fmt: str | None, digits: int | None) -> str:
    if fmt == "text":
        return value
    exact = value
    if "/" in value:  # an exact ratio n/d from the trace
        try:
            f = Fraction(value)
        except ValueError:
            return value
        d = Decimal(f.numerator) / Decimal(f.denominator)
        value = f"{d:f}"
        if fmt == "exact":
            return exact
    try:
        d = Decimal(value)
    except (InvalidOperation, ValueError):
        return value
    if not d.is_finite():
        return value
    if fmt is None:
        return _plain(value, d)
    if fmt == "exact":
        return value
    return _FORMATTERS[fmt](d, digits)


def _plain(text: str, d: Decimal) -> str:
    if _LONG.match(text):
        return "≈" + group(f"{d:.6f}")
    if d == d.to_integral_value() and abs(d) >= 10000:
        return group(text)
    if "." in text and len(text.split(".")[1]) == 2 and abs(d) >= 1000:
        return group(text)
    return text


def _round(d: Decimal, places: int) -> Decimal:
    return d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def _trim(s: str) -> str:
    return s.rstrip("0").rstrip(".") if "." in s else s


def _money(d: Decimal, digits: int | None) -> str:
    return group(f"{_round(d, 2):.2f}")


def _absmoney(d: Decimal, digits: int | None) -> str:
    return _money(abs(d), digits)


def _percent(d: Decimal, digits: int | None) -> str:
    return _trim(group(f"{_round(d * 100, 1 if digits is None else digits)}")) + "%"


def _number(d: Decimal, digits: int | None) -> str:
    return _trim(group(f"{_round(d, 2 if digits is None else digits)}"))


def _count(d: Decimal, digits: int | None) -> str:
    return group(f"{_round(d, 0):.0f}")


def _wan(d: Decimal, digits: int | None) -> str:
    return _trim(f"{_round(d / 10000, 2 if digits is None else digits)}") + "万"


_FORMATTERS = {
    "money": _money,
    "absmoney": _absmoney,
    "percent": _percent,
    "number": _number,
    "count": _count,
    "wan": _wan,
}


def group(s: str) -> str:
    """'1234567.80' → '1,234,567.80' (display only)."""
    sign, body = ("-", s[1:]) if s.startswith("-") else ("", s)
    whole, dot, dec = body.partition(".")
    if not whole.isdigit():
        return s
    return f"{sign}{int(whole):,}{dot}{dec}"


def decimal_text(f: Fraction) -> str:
    """Helper for callers holding a Fraction: the exact text show() expects."""
    from .exact import fraction_text

    return fraction_text(f)
