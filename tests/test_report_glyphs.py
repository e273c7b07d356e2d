"""A rare character in a name that no statement font has printed as an empty box on the
village doctor's statement without a word; the run now warns, naming the character and the
institution. (𠮷 and 䶮 are in Noto Sans CJK SC and print; 𪚥 is in none of the fonts.)"""

import pytest

from p4p.report.glyphs import drawable, missing_glyph_warnings, undrawable

from conftest import cli, edit

needs_fonts = pytest.mark.skipif(
    drawable() is None or 0x2A6A5 in (drawable() or ()) or 0x20BB7 not in (drawable() or ()),
    reason="the statement fonts are not installed as on the reference machine",
)


@needs_fonts
def test_a_character_no_font_has_is_named():
    assert undrawable("𠮷䶮𪚥村卫生室 ×−≈") == ["𪚥"]
    assert missing_glyph_warnings([("V01 机构名称", "甲镇𪚥村")]) == [
        "V01 机构名称：“甲镇𪚥村”中的“𪚥”（U+2A6A5）没有可用的字体，结算单上会印成空白方框，请在纸质结算单上手写补正"
    ]


@needs_fonts
def test_the_run_warns_about_a_name_its_statements_cannot_print(base_quarter, archive):
    edit(base_quarter / "institutions.csv", "甲镇一村卫生室", "甲镇𪚥村卫生室")
    edit(base_quarter / "institutions.csv", "张院长", "𠮷院长")
    r = cli("run", base_quarter, "--archive", archive, "--jobs", "1")
    assert r.exit_code == 0, r.output
    assert "警告：V01 机构名称：“甲镇𪚥村卫生室”中的“𪚥”（U+2A6A5）没有可用的字体" in r.stderr
    assert "T01 院长" not in r.stderr  # 𠮷 is in Noto Sans CJK SC: it prints
