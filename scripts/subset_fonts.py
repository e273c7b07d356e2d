#!/usr/bin/env python3
"""Make the statements' font "P4P Sans SC": Noto Sans CJK SC (Regular and Bold, from the Debian
package fonts-noto-cjk) cut down to the characters of GB 2312 plus Latin text, punctuation and
the symbols the statements print.

Why: weasyprint subsets every font it embeds, once per PDF, and the time that takes grows with
the font. The full Noto Sans CJK face (65,535 glyphs) made a statement about 2.5 times slower
than WenQuanYi Micro Hei (which has no bold); the cut-down face (about 7,900 glyphs) renders as
fast as WenQuanYi and has a real bold. A character outside the set (a rare character in a name)
falls back to the full Noto Sans CJK SC, listed after it in the stylesheet: that statement is
slower, never wrong.

Run by scripts/setup-system.sh with the system Python and python3-fonttools:
    /usr/bin/python3 scripts/subset_fonts.py OUT_DIR
Writes OUT_DIR/P4PSansSC-Regular.otf and OUT_DIR/P4PSansSC-Bold.otf (SIL Open Font License
1.1, as the Noto fonts; renamed as the licence asks of modified versions).
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

NOTO = Path("/usr/share/fonts/opentype/noto")
FACE_SC = 2  # in NotoSansCJK-*.ttc: 0 JP, 1 KR, 2 SC, 3 TC, 4 HK, 5–9 the Mono faces
FAMILY = "P4P Sans SC"

# ranges beyond GB 2312 that statements print: Latin-1, general punctuation (– — “ ” … ‰),
# letter-like symbols and arrows, mathematical operators (× ÷ − ≈ ≤ ≥), enclosed numbers,
# box drawing, CJK symbols and punctuation (、。《》「」【】〔〕), full-width forms
EXTRA_RANGES = [
    (0x0020, 0x007E),
    (0x00A0, 0x00FF),
    (0x2000, 0x206F),
    (0x2100, 0x21FF),
    (0x2200, 0x22FF),
    (0x2460, 0x24FF),
    (0x2500, 0x257F),
    (0x25A0, 0x25FF),
    (0x3000, 0x303F),
    (0xFF00, 0xFFEF),
]


def gb2312() -> set[int]:
    out = set()
    for hi in range(0xA1, 0xF8):
        for lo in range(0xA1, 0xFF):
            with contextlib.suppress(UnicodeDecodeError):
                out.add(ord(bytes([hi, lo]).decode("gb2312")))
    return out


def codepoints() -> set[int]:
    cps = gb2312()
    for lo, hi in EXTRA_RANGES:
        cps.update(range(lo, hi + 1))
    return cps


def rename(font, style: str) -> None:
    """Family "P4P Sans SC", style Regular/Bold (names 1, 2, 4, 6; typographic names dropped)."""
    name = font["name"]
    ps = f"P4PSansSC-{style}"
    keep = {1: FAMILY, 2: style, 3: f"p4p:{ps}", 4: f"{FAMILY} {style}", 6: ps}
    name.names = [n for n in name.names if n.nameID not in (1, 2, 3, 4, 6, 16, 17, 18, 21, 22)]
    for nid, text in keep.items():
        name.setName(text, nid, 3, 1, 0x409)
        name.setName(text, nid, 1, 0, 0)
    if "CFF " in font:
        cff = font["CFF "].cff
        cff.fontNames = [ps]
        top = cff.topDictIndex[0]
        top.FullName, top.FamilyName = f"{FAMILY} {style}", FAMILY


def make(out_dir: Path, style: str) -> Path:
    from fontTools import subset
    from fontTools.ttLib import TTFont

    font = TTFont(NOTO / f"NotoSansCJK-{style}.ttc", fontNumber=FACE_SC)
    options = subset.Options()
    options.notdef_outline = True
    options.name_IDs = ["*"]
    options.name_languages = ["*"]
    sub = subset.Subsetter(options)
    sub.populate(unicodes=codepoints())
    sub.subset(font)
    rename(font, style)
    font.recalcTimestamp = False  # keep Noto's date: the same font (and statements) on every machine
    out = out_dir / f"P4PSansSC-{style}.otf"
    tmp = out.with_suffix(".tmp")
    font.save(tmp)
    tmp.replace(out)
    return out


def main() -> None:
    out_dir = Path(sys.argv[1])
    out_dir.mkdir(parents=True, exist_ok=True)
    for style in ("Regular", "Bold"):
        print(make(out_dir, style))


if __name__ == "__main__":
    main()
