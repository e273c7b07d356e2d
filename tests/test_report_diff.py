"""`p4p diff` for people: Chinese item names, thousands separators, the difference of each line,
only real differences, a warning across periods or alliances, and `--xlsx`.

Base alliance (test_rules.py) against the same with C01's score 85 → 90: k 0.9 → 1.0, so
C01 PERF_POOL 225,000.00 → 250,000.00 (+25,000.00); nothing else changes (C01 has no other line).
"""

from __future__ import annotations

import shutil

import pytest
from openpyxl import load_workbook

from p4p.report.diff import compare, load_run

from conftest import BASE_ASSESSMENT, cli, run_ok, write_quarter


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("diff")
    a = run_ok(write_quarter(tmp / "a"), tmp / "archive")
    assess = [r if r[0] != "C01" else ["C01", "90", "0", ""] for r in BASE_ASSESSMENT]
    b = run_ok(write_quarter(tmp / "b", assessment=assess), tmp / "archive")
    return a, b


def test_a_changed_line_in_chinese_with_separators_and_its_difference(runs):
    r = cli("diff", *runs)
    assert r.exit_code == 0, r.output
    line = next(x for x in r.stdout.splitlines() if x.startswith("C01"))
    assert line.split() == ["C01", "县中医院", "绩效工资总量", "225,000.00", "250,000.00", "+25,000.00"]
    assert "共 1 行金额不同" in r.stdout and "差额 +25,000.00 元" in r.stdout
    assert "PERF_POOL" not in r.stdout  # item codes are for machines
    assert "警告" not in r.stderr  # same period, same alliance


def test_identical_runs_have_no_differences(runs, tmp_path):
    """The same ledger, and the same ledger with quantities written differently (0.90 for 0.9):
    neither is a difference."""
    a, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    p = copy / "ledger.csv"
    p.write_bytes(p.read_bytes().replace(b",225000.00,0.9,", b",225000.00,0.90,"))
    assert b"0.90" in p.read_bytes()
    for other in (a, copy):
        r = cli("diff", a, other)
        assert r.exit_code == 0
        assert "两次运行的金额逐行相同" in r.stdout and "共 0 行金额不同" in r.stdout
        assert "数量/系数或行不同" not in r.stdout


def test_a_quantity_only_change_is_listed_apart_with_short_numbers(runs, tmp_path):
    a, _ = runs
    copy = tmp_path / "copy"
    shutil.copytree(a, copy)
    p = copy / "ledger.csv"
    p.write_bytes(p.read_bytes().replace(b",0.00,0,R4", b",0.00,0.1234567890123456789012,R4"))
    c = compare(load_run(a), load_run(copy))
    assert not c.money and [d.inst_id for d in c.other] == ["V02"]
    r = cli("diff", a, copy)
    assert "V02 乙镇一村卫生室 基本公卫经费：数量 A 0，B 0.123457（金额 0.00）" in r.stdout


def test_a_run_folder_that_no_longer_matches_its_manifest_is_said(runs, tmp_path):
    """A copy of A whose ledger was raised by 100,000.00 compares as a real difference — but the
    user is told the folder is not what p4p wrote, naming the file."""
    a, _ = runs
    copy = tmp_path / "edited"
    shutil.copytree(a, copy)
    p = copy / "ledger.csv"
    p.write_bytes(p.read_bytes().replace(b",225000.00,", b",325000.00,"))
    r = cli("diff", a, copy)
    assert r.exit_code == 0
    assert (f"警告：运行目录 B（{copy}）与其 manifest 不符（edited/ledger.csv：文件已被修改（SHA-256 与 manifest 不符））："
            "比较的是被改动过的文件，请用 p4p verify 检查归档") in r.stderr  # fmt: skip
    assert "运行目录 A" not in r.stderr


def test_a_warning_across_periods(runs, tmp_path):
    a, _ = runs
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), tmp_path / "arch")
    r = cli("diff", a, q2)
    assert r.exit_code == 0
    assert "警告：两次运行的期间不同（A 为 2026Q1，B 为 2026Q2）" in r.stderr
    assert "两次运行的金额逐行相同" in r.stdout  # the base quarter pays the same in Q2


def test_the_differences_as_a_workbook(runs, tmp_path):
    out = tmp_path / "d.xlsx"
    r = cli("diff", *runs, "--xlsx", out)
    assert r.exit_code == 0 and f"已写出 {out}" in r.stdout
    ws = load_workbook(out)["差异"]
    assert [c.value for c in ws[2]][:8] == ["C01", "县中医院", "县级医院", "PERF_POOL", "绩效工资总量", 225000, 250000,
                                            25000]  # fmt: skip
    assert ws.max_row == 2


def test_a_folder_without_a_ledger_is_refused(runs, tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("diff", runs[0], tmp_path / "empty")
    assert r.exit_code == 1 and "不是一个运行目录（缺少 ledger.csv）" in r.stderr
