"""The rules of huangshan-2026 are tested as data: rules/huangshan-2026/tests/*.yaml hold small
alliances with every expected ledger line worked out by hand (the working in each file's
comments: the base quarter, every band edge of k, m and q, veto, rounding, largest-remainder
ties, villages, a year with its Q4 settlement, MI surplus and deficits, parked PH funds, the
plausibility checks). Here they run for both shipped rulesets, must together exercise every
service code, item, decision-table row, statement case and check of the reference, and a real
`p4p run` of a case's input must write the very ledger the case expects."""

import tempfile
from pathlib import Path

from rules_support import RULES, WHATIF, case, run_outcome

from p4p.cli.rules_cmds import run_ruleset_tests
from p4p.ruleset.load import load_ruleset
from p4p.ruleset.testcases import compare, report_lines, write_input

from conftest import cli, run_ok


def test_the_reference_cases_pass_and_exercise_every_part_of_the_ruleset():
    rs = load_ruleset(RULES)
    report = run_ruleset_tests(rs)
    assert report is not None and report.ok, "\n".join(report_lines(rs, report))
    assert report.coverage.missing(rs) == {}
    assert len(report.results) == 14


def test_rules_test_on_both_shipped_rulesets():
    r = cli("rules", "test")
    assert r.exit_code == 0 and "规则集 huangshan-2026 的测试用例：14 个通过，全部通过" in r.stdout, r.output
    r = cli("rules", "check", WHATIF)
    assert r.exit_code == 0 and "检查通过" in r.stdout, r.output
    assert "规则集 huangshan-2026-whatif 的测试用例：2 个通过，全部通过" in r.stdout


def test_a_run_writes_the_ledger_the_base_case_expects(tmp_path):
    """`rules test` computes in memory; `p4p run` reads the same input from disk and archives it."""
    c = case("base-quarter.yaml")
    q = c.quarters[0]
    folder = tmp_path / "in"
    folder.mkdir()
    write_input(folder, q.period, q.tables)
    run_dir = run_ok(folder, tmp_path / "archive")
    assert q.expect is not None
    assert compare(q.expect, run_outcome(run_dir)) == []


def test_write_input_gives_a_folder_p4p_validate_accepts():
    c = case("villages.yaml")
    with tempfile.TemporaryDirectory() as tmp:
        write_input(Path(tmp), c.quarters[0].period, c.quarters[0].tables)
        r = cli("validate", tmp)
    assert r.exit_code == 0 and "6 个机构" in r.stdout and "4 个保底村卫生室收入" in r.stdout
