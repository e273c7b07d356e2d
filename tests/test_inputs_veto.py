"""A blank veto cell reads as 否 (spreadsheets leave 否 blank) — visibly: one warning per file in
the run's warnings, with how many rows and which."""

import json

from openpyxl import load_workbook
from strict_helpers import read
from test_workbook import to_workbook

from conftest import BASE_ASSESSMENT, BASE_INSTITUTIONS, cli, run_ok, write_quarter


def _blank(rows, *at):
    return [[r[0], r[1], "" if i in at else r[2], r[3]] for i, r in enumerate(rows)]


def test_blank_veto_in_a_csv_is_no_with_a_warning(tmp_path, archive):
    inp = write_quarter(tmp_path / "in", assessment=_blank(BASE_ASSESSMENT, 1, 3))
    want = "assessment.csv：2 行的一票否决（veto）为空，按“否”计算（第 3、5 行）"
    assert read(inp).warnings == [want]
    rd = run_ok(inp, archive)
    s = json.loads((rd / "summary.json").read_text(encoding="utf-8"))
    assert any(want in json.dumps(w, ensure_ascii=False) for w in s["warnings"])
    assert want in (rd / "summary.txt").read_text(encoding="utf-8")
    same = run_ok(write_quarter(tmp_path / "zero"), archive)
    assert (rd / "ledger.csv").read_bytes() == (same / "ledger.csv").read_bytes()  # read as 0


def test_blank_veto_in_a_workbook_is_named_with_its_sheet(tmp_path):
    book = to_workbook(write_quarter(tmp_path / "in"), tmp_path / "q.xlsx")
    wb = load_workbook(book)
    wb["考核"]["C4"] = None
    wb.save(book)
    assert read(book).warnings == ["q.xlsx 考核：1 行的一票否决（veto）为空，按“否”计算（第 4 行）"]


def test_no_warning_when_every_veto_is_written(base_quarter):
    assert read(base_quarter).warnings == []
    assert cli("validate", base_quarter).exit_code == 0


def test_blank_guarantee_of_a_village_is_no_with_a_warning(tmp_path):
    """The finding: a village's blank 享受保底 was silently 否 — no 48,000-yuan guarantee. Still
    否 (a blank is no, as for the veto), but named; a blank for other kinds is no money."""
    inst = [[*r[:7], "" if r[0] in ("V02", "L01", "T01") else r[7], *r[8:]] for r in BASE_INSTITUTIONS]
    q = read(write_quarter(tmp_path / "in", institutions=inst))
    assert q.warnings == ["institutions.csv：1 行村卫生室的享受保底（guarantee）为空，按“否”计算（第 7 行）"]


def test_a_veto_reason_without_the_veto_is_named(tmp_path):
    """The finding: V03 with 否决事由 “违规” but 一票否决 0 — a veto decided and not marked — was
    paid in full without a word."""
    assessment = [[*r[:2], "0", r[3]] for r in BASE_ASSESSMENT]
    q = read(write_quarter(tmp_path / "in", assessment=assessment))
    assert q.warnings == [
        "assessment.csv：1 行填写了否决事由，但一票否决为“否”，按未否决计算（第 8 行）；若应否决，请把一票否决改为 1（是）"
    ]
    assert q.assessment["V03"].veto == 0
