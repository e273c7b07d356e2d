"""Charts of summary.pdf as inline SVG (vector, no image files), drawn to read at county scale:
one row per township rather than one dot per institution on a shared axis."""

from __future__ import annotations

import html
from decimal import Decimal

FONT = 'font-family="P4P Sans SC, Noto Sans CJK SC, WenQuanYi Micro Hei"'
BLUE, ORANGE, GREEN, RED, GREY = "#2f6ea8", "#e08a2e", "#3c9a5f", "#c0392b", "#999999"


def _svg(width: int, height: int, body: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}pt" height="{height}pt" '
            f'viewBox="0 0 {width} {height}">' + "".join(body) + "</svg>")  # fmt: skip


def _text(x: float, y: float, s: str, size: float = 7.5, anchor: str = "start", fill: str = "#222") -> str:
    return (f'<text x="{x:.1f}" y="{y:.1f}" font-size="{size}" text-anchor="{anchor}" fill="{fill}" {FONT}>'
            f"{html.escape(s)}</text>")  # fmt: skip


def _short(s: str, n: int = 12) -> str:
    return s if len(s) <= n else s[: n - 1] + "…"


def _wan(v: Decimal) -> str:
    """Axis labels in 万元 (ten thousands of yuan), as finance centres speak."""
    w = v / 10000
    return f"{w:.0f}万" if abs(w) >= 10 or w == w.to_integral_value() else f"{w:.1f}万"


def _ticks(top: Decimal) -> list[Decimal]:
    """Round ticks (1, 2 or 5 × a power of ten apart) from 0 to at least `top`, at most six."""
    if top <= 0:
        return [Decimal(0)]
    raw = top / 5
    power = Decimal(10) ** (len(str(int(raw))) - 1) if raw >= 1 else Decimal(1)
    step = next(power * m for m in (1, 2, 5, 10) if top / (power * m) <= 5)
    n = int(top / step) + (0 if top % step == 0 else 1)
    return [step * i for i in range(n + 1)]


def stacked_bars(rows: list[tuple[str, list[Decimal]]], colors: list[str], width: int = 520) -> str:
    """One horizontal bar per row, its parts stacked left to right; the row's total at its end."""
    if not rows:
        return "<p class='note'>（无数据）</p>"
    label_w, right, row_h, top_pad = 118, 62, 13, 16
    totals = [sum((max(v, Decimal(0)) for v in parts), Decimal(0)) for _, parts in rows]
    ticks = _ticks(max([*totals, Decimal(1)]))
    scale = (width - label_w - right) / float(ticks[-1] or 1)
    h = top_pad + row_h * len(rows) + 4
    body = _axis(ticks, label_w, scale, top_pad, h)
    for i, ((label, parts), total) in enumerate(zip(rows, totals, strict=True)):
        y, x = top_pad + i * row_h, float(label_w)
        body.append(_text(label_w - 4, y + 9.5, _short(label), anchor="end"))
        for v, color in zip(parts, colors, strict=False):  # a row may have fewer parts
            w = float(max(v, Decimal(0))) * scale
            body.append(f'<rect x="{x:.1f}" y="{y + 2}" width="{w:.1f}" height="{row_h - 4}" fill="{color}"/>')
            x += w
        body.append(_text(x + 3, y + 9.5, f"{total:,.2f}", size=6.5, fill="#444"))
    return _svg(width, h, body)


def _axis(ticks: list[Decimal], left: float, scale: float, top: float, bottom: float) -> list[str]:
    out = []
    big = ticks[-1] >= 10000
    for t in ticks:
        x = left + float(t) * scale
        out.append(f'<line x1="{x:.1f}" y1="{top - 2}" x2="{x:.1f}" y2="{bottom}" stroke="#ddd" stroke-width="0.5"/>')
        out.append(_text(x, top - 5, _wan(t) if big else f"{t:,.0f}", size=6.5, anchor="middle", fill="#555"))
    return out


def strip_rows(rows: list[tuple[str, list[tuple[Decimal, str]]]], width: int = 520) -> str:
    """One row per group (a township), one dot per member (a village) at its amount."""
    if not rows:
        return "<p class='note'>（无村卫生室）</p>"
    label_w, right, row_h, top_pad = 118, 12, 11, 16
    ticks = _ticks(max([v for _, dots in rows for v, _ in dots] + [Decimal(1)]))
    scale = (width - label_w - right) / float(ticks[-1] or 1)
    h = top_pad + row_h * len(rows) + 4
    body = _axis(ticks, label_w, scale, top_pad, h)
    for i, (label, dots) in enumerate(rows):
        y = top_pad + i * row_h + row_h / 2
        body.append(_text(label_w - 4, y + 3, _short(label), anchor="end"))
        body.append(
            f'<line x1="{label_w}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="#eee" stroke-width="0.5"/>'
        )
        for v, color in dots:
            x = label_w + float(max(v, Decimal(0))) * scale
            body.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.3" fill="{color}" fill-opacity="0.75"/>')
    return _svg(width, h, body)


def grouped_counts(categories: list[str], series: list[tuple[str, str, list[int]]], width: int = 520) -> str:
    """Vertical bars: for each category (a score band) one bar per series (a level), with its count."""
    if not series or not categories:
        return "<p class='note'>（无数据）</p>"
    left, bottom, height = 30, 22, 150
    top_v = max([c for _, _, counts in series for c in counts] + [1])
    group_w = (width - left - 10) / len(categories)
    bar_w = min(22.0, (group_w - 10) / len(series))
    base = height - bottom
    body = [f'<line x1="{left}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#666" stroke-width="0.6"/>']
    for gi, cat in enumerate(categories):
        gx = left + gi * group_w
        body.append(_text(gx + group_w / 2, height - bottom + 11, cat, anchor="middle"))
        x0 = gx + (group_w - bar_w * len(series)) / 2
        for si, (_, color, counts) in enumerate(series):
            c = counts[gi]
            bh = (height - bottom - 14) * c / top_v
            x = x0 + si * bar_w
            body.append(
                f'<rect x="{x:.1f}" y="{base - bh:.1f}" width="{bar_w - 2:.1f}" height="{bh:.1f}" fill="{color}"/>'
            )
            if c:
                body.append(_text(x + (bar_w - 2) / 2, height - bottom - bh - 2, str(c), size=6.5, anchor="middle"))
    return _svg(width, height, body)
