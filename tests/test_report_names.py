"""Names as the village doctor reads them on the statement: a rare character that no statement
font has printed as an empty box without a word (the run now warns, naming the character and the
institution; 𠮷 and 䶮 are in Noto Sans CJK SC and print, 𪚥 is in none of the fonts); a long
name of Latin letters ran off the right edge of the page (it now wraps)."""

import re
import subprocess

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


def test_a_long_latin_name_wraps_inside_the_page(base_quarter, archive):
    """The name line had no wrapping rule: 'Village_Clinic_…_ABCDEFGHIJKLMNOPQRSTUVWXYZ' ended at
    x = 600 pt on a 595 pt page, its last letters cut off."""
    name = (
        "Village_Clinic_of_Number_One_With_An_Extremely_Long_Latin_Name_Without_Any_Spaces_ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    )
    edit(base_quarter / "institutions.csv", "甲镇一村卫生室", name)
    r = cli("run", base_quarter, "--archive", archive, "--jobs", "1")
    assert r.exit_code == 0, r.output
    pdf = next((archive / "2026Q1").iterdir()) / "statements" / "V01.pdf"
    boxes = subprocess.run(["pdftotext", "-bbox", str(pdf), "-"], capture_output=True, text=True, check=True).stdout
    width = float(re.search(r'<page width="([0-9.]+)"', boxes).group(1))
    words = re.findall(r'xMax="([0-9.]+)"[^>]*>([^<]*)</word>', boxes)
    assert all(float(x) <= width for x, _ in words), [w for x, w in words if float(x) > width]
    assert name in re.sub(r"\s+", "", "".join(w for _, w in words))
