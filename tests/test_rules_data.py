"""Tests as data (rules/<id>/tests/*.yaml) and `p4p rules test`: a case that does not hold is
reported in Chinese, line by line; a malformed test file names its file, line and the key
meant; an input problem in a case names the line of the case; and the test files are never
part of the ruleset a run uses (its hash, the files copied into a run folder)."""

import shutil
from pathlib import Path

import pytest

from p4p.ruleset.load import FILES, load_ruleset

from conftest import ROOT, cli

RULES = ROOT / "rules" / "huangshan-2026"


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    return d


def edit(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, text: str) -> int:
    return next(i for i, x in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in x)


def keep_only(rules: Path, *names: str):
    for p in (rules / "tests").glob("*.yaml"):
        if p.name not in names:
            p.unlink()


def test_a_wrong_expected_amount_is_shown_with_both_values(rules_copy):
    keep_only(rules_copy, "base-quarter.yaml")
    edit(rules_copy / "tests" / "base-quarter.yaml", "[T01, PH_FUND, 40425.53, 950]", "[T01, PH_FUND, 40425.52, 950]")
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 2
    assert "✗ tests/base-quarter.yaml  基本季度：每一行台账都与手算一致" in r.stdout
    assert "    T01 PH_FUND：期望 40,425.52，实得 40,425.53" in r.stdout
    assert "0 个通过，1 个未通过" in r.stdout and "有测试用例未通过" in r.stderr


def test_missing_extra_and_quantity_differences(rules_copy):
    keep_only(rules_copy, "base-quarter.yaml")
    case = rules_copy / "tests" / "base-quarter.yaml"
    edit(case, "    - [V03, VILLAGE_TOPUP, 0.00, 1]\n", "")  # a line the ledger has is not expected
    edit(case, "[T02, DIRECTOR_BONUS, 3750.00, 1.5]", "[T02, DIRECTOR_BONUS, 3750.00, 1.8]")
    edit(case, "[V01, PH_FUND, 2553.19, 60]", "[V01, PH_FUND, 2553.19, 60]\n    - [V02, VILLAGE_TOPUP, 0.00]")
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 2
    out = r.stdout
    assert "V03 VILLAGE_TOPUP：未列入期望，实得 0.00（乙镇二村卫生室 村卫生室保底补助）" in out
    assert "T02 DIRECTOR_BONUS 数量：期望 1.8，实得 1.5" in out
    assert "V02 VILLAGE_TOPUP：期望 0.00，实得 无此行" in out  # V02 has no guarantee


def test_quantities_compare_exactly_whatever_their_form(rules_copy):
    """0.9 = 0.90 = 9/10; the ledger's k of T02 is 0.9."""
    keep_only(rules_copy, "base-quarter.yaml")
    edit(
        rules_copy / "tests" / "base-quarter.yaml",
        "[T02, PERF_POOL, 90000.00, 0.9]",
        "[T02, PERF_POOL, 90000.00, 9/10]",
    )
    edit(
        rules_copy / "tests" / "base-quarter.yaml",
        "[C01, PERF_POOL, 225000.00, 0.9]",
        "[C01, PERF_POOL, 225000.00, 0.90]",
    )
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 0, r.output


def test_only_reports_and_warnings_are_compared(rules_copy):
    keep_only(rules_copy, "year-settlement.yaml")
    case = rules_copy / "tests" / "year-settlement.yaml"
    edit(case, "reports: {returned_to_fund: 100000.00}", "reports: {returned_to_fund: 100000.01}")
    edit(case, "        - [C2, T01]", "        - [C4, T02]")
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 2
    assert "2026Q4 报告 returned_to_fund：期望 100,000.01，实得 100,000.00" in r.stdout
    assert "2026Q4 提示 C4 T02：期望出现，实际没有" in r.stdout
    assert "2026Q4 提示 C2 T01：未列入期望，实际出现（本季度公卫工分 10,000 分，是上一已审批季度 1,000 分的" in r.stdout


def test_a_malformed_test_file_names_file_line_and_the_key_meant(rules_copy):
    keep_only(rules_copy, "veto.yaml")
    case = rules_copy / "tests" / "veto.yaml"
    edit(case, "expect:", "expekt:")
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 2
    n = line_of(case, "expekt:")
    assert f"tests/veto.yaml 第{n}行 expekt：未知的键（测试用例中没有这个键）（是不是 expect？）" in r.stderr


def test_unknown_items_checks_and_bad_amounts_in_an_expectation(rules_copy):
    keep_only(rules_copy, "veto.yaml")
    case = rules_copy / "tests" / "veto.yaml"
    edit(case, "[T09, PH_FUND, 80000.00, 9.6]", "[T09, PH_FUNDS, 八万, 9.6]\n  warnings: [[C22, T09]]")
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 2 and "检查通过" in r.stdout  # the ruleset is fine; its tests are not
    n = line_of(case, "PH_FUNDS")
    assert (
        f"tests/veto.yaml 第{n}行 expect.ledger.3.1：项目 PH_FUNDS 没有在规则集的 items.yaml 中声明（是不是 PH_FUND？）"
        in r.stderr
    )
    assert f"tests/veto.yaml 第{n}行 expect.ledger.3.2：金额应写成 1234.56 这样的数字" in r.stderr
    assert f"tests/veto.yaml 第{n + 1}行 expect.warnings.0.0：规则集中没有提示 C22（是不是 C2？）" in r.stderr


@pytest.mark.parametrize(
    "old,new,marker,said",
    [
        ("[T09, 测试镇卫生院, township,", "[T09, 测试镇卫生院, townhsip,", "townhsip", "institutions.csv 第3行"),
        # a period value is named by its key (`Problem.key`), not a column: placed on its line too
        ("period: {period: 2026Q1,", "period: {period: 2026Q9,", "2026Q9",
         "period.yaml 第1行 键“period”（值：“2026Q9”）：期间应写成 YYYYQn"),
    ],
)  # fmt: skip
def test_an_input_problem_in_a_case_names_the_line_of_the_case(rules_copy, old, new, marker, said):
    keep_only(rules_copy, "veto.yaml")
    case = rules_copy / "tests" / "veto.yaml"
    edit(case, old, new)
    r = cli("rules", "test", rules_copy)
    assert r.exit_code == 2
    n = line_of(case, marker)
    assert f"    第{n}行 输入有问题：{said}" in r.stdout and marker in r.stdout


def test_rules_check_runs_the_tests_and_fails_with_them(rules_copy):
    keep_only(rules_copy, "veto.yaml")
    edit(rules_copy / "tests" / "veto.yaml", "[T09, PH_FUND, 80000.00, 9.6]", "[T09, PH_FUND, 80000.00, 9.7]")
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 2 and "检查通过" in r.stdout and "✗ tests/veto.yaml" in r.stdout


def test_a_ruleset_without_tests(tmp_path):
    d = tmp_path / "rules"
    shutil.copytree(RULES, d, ignore=shutil.ignore_patterns("tests"))
    r = cli("rules", "check", d)
    assert r.exit_code == 0 and "没有测试用例" in r.stdout
    r = cli("rules", "test", d)
    assert r.exit_code == 2 and "没有测试用例" in r.stderr


def test_test_files_are_not_part_of_the_ruleset_a_run_uses(rules_copy, tmp_path):
    bare = tmp_path / "bare"
    shutil.copytree(RULES, bare, ignore=shutil.ignore_patterns("tests"))
    with_tests, without = load_ruleset(rules_copy), load_ruleset(bare)
    assert sorted(with_tests.files) == sorted(FILES)
    assert with_tests.sha256 == without.sha256


def test_the_quarters_of_a_year_run_in_order(rules_copy):
    keep_only(rules_copy, "year-without-points.yaml")
    case = rules_copy / "tests" / "year-without-points.yaml"
    edit(case, "  - period: {period: 2026Q3}", "  - period: {period: 2026Q1}")
    r = cli("rules", "test", rules_copy)
    lines = case.read_text(encoding="utf-8").splitlines()
    n = [i for i, x in enumerate(lines, 1) if x == "  - period: {period: 2026Q1}"][-1]
    assert r.exit_code == 2
    assert (
        f"tests/year-without-points.yaml 第{n}行 quarters.2.period：季度应按时间先后排列：2026Q1 写在 2026Q2 之后"
        in r.stderr
    )
