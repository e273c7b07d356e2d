"""Characters no statement font can draw. The stylesheets name "P4P Sans SC", then the full
Noto Sans CJK SC, then WenQuanYi Micro Hei; a rare character in a name that none of them has
(𪚥, many of CJK Extension B and later) prints as an empty box, and the village doctor reads a
statement with a name that is not theirs. The run says so instead, naming the character and
the institution, so the paper copy can be corrected by hand."""

from __future__ import annotations

import functools
import subprocess
from collections.abc import Iterable

FAMILIES = ("P4P Sans SC", "Noto Sans CJK SC", "WenQuanYi Micro Hei")  # as in templates/*.css


def _font_file(family: str) -> tuple[str, int] | None:
    """The file and face index fontconfig gives for `family`, or None when it is not installed
    (fc-match then offers some other family)."""
    try:
        out = subprocess.run(
            ["fc-match", "-f", "%{family}\t%{file}\t%{index}", family],
            capture_output=True, text=True, timeout=20, check=False,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    parts = out.stdout.split("\t")
    if len(parts) != 3 or family not in parts[0].split(","):
        return None
    return parts[1], int(parts[2] or 0)


@functools.cache
def drawable() -> frozenset[int] | None:
    """Every code point some statement font has; None when no font could be read (then nothing
    is judged: the environment warning already says the fonts are missing)."""
    from fontTools.ttLib import TTFont

    out: set[int] = set()
    for family in FAMILIES:
        found = _font_file(family)
        if found is None:
            continue
        try:
            with TTFont(found[0], fontNumber=found[1], lazy=True) as font:
                out.update(font.getBestCmap() or {})
        except Exception:  # an unreadable font file judges nothing (fontTools raises many kinds)
            continue
    return frozenset(out) or None


def undrawable(text: str) -> list[str]:
    """The characters of `text` (in order, once each) that no statement font has."""
    have = drawable()
    if have is None:
        return []
    return list(dict.fromkeys(c for c in text if not c.isspace() and c.isprintable() and ord(c) not in have))


def missing_glyph_warnings(names: Iterable[tuple[str, str]]) -> list[str]:
    """One warning per (institution, text) pair — its name, director, alliance — with characters
    no font has."""
    out = []
    for who, text in names:
        missing = undrawable(text)
        if missing:
            chars = "、".join(f"“{c}”（U+{ord(c):04X}）" for c in missing)
            out.append(f"{who}：“{text}”中的{chars}没有可用的字体，结算单上会印成空白方框，请在纸质结算单上手写补正")
    return out
