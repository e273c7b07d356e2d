"""Year-end runs through the archive: approvals, the Q4 that reads them, replay, tamper detection.
The amounts of a year are tested as data (rules/huangshan-2026/tests/year-*.yaml, mi-*.yaml, with
the working by hand); here the same year goes through `p4p run` and `p4p approve` for real.

Q1–Q3 are the base quarter of conftest.py three times; in Q4 only T01 reports work points
(EHR 10,000) and V01 has left the alliance: the year of tests/year-settlement.yaml, whose
comments work out the figures `explain` shows below (T02: W 2,400, E 63,408.19, paid 102,127.65,
Q4 −38,719.46; T01 MI_SURPLUS: retained 900,000.00, township level 270,000.00 → 186,206.90).
"""

import json
from dataclasses import replace
from pathlib import Path

import pytest
from rules_support import case, run_outcome

from p4p.ruleset.testcases import compare

from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, cli, ledger_of, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

MI = "mi_budget: 10000000.00\nmi_spent: {spent}\nalliance_score: 85\n"


def approved_year(tmp_path, archive) -> Path:
    """Q1–Q3 of the base alliance run and approved in `archive`; returns the Q4 input folder."""
    for n in (1, 2, 3):
        rd = run_ok(write_quarter(tmp_path / f"q{n}", period=f"2026Q{n}"), archive)
        assert cli("approve", rd, "--by", "财务", "--no-pdf").exit_code == 0
    return write_quarter(
        tmp_path / "q4",
        period="2026Q4",
        extra_period=MI.format(spent="9000000.00"),
        institutions=BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
        assessment=BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
        workpoints=[["T01", "EHR", "10000"]],
        income=BASE_INCOME[1:],
    )


@pytest.fixture
def year(tmp_path, archive):
    q4 = approved_year(tmp_path, archive)
    return run_ok(q4, archive)


def test_an_archived_year_gives_the_ledger_the_year_case_expects(year):
    """The Q4 history comes from the archive's approved runs here, from memory in `rules test`.
    Warnings are left out: `p4p run` passes no previous quarter to the engine, so the plausibility
    checks that compare with it (C2–C4) are not evaluated in a run."""
    expected = case("year-settlement.yaml").quarters[3].expect
    assert expected is not None
    assert compare(replace(expected, warnings=None), run_outcome(year)) == []
    led = ledger_of(year)
    assert led[("V01", "PH_FUND")]["inst_name"] == "甲镇一村卫生室"  # named from the approved history
    s = json.loads((year / "summary.json").read_text(encoding="utf-8"))
    assert s["all_checks_ok"]


def test_manifest_lists_the_prior_runs_and_history_is_copied(year):
    m = json.loads((year / "manifest.json").read_text(encoding="utf-8"))
    assert [p["period"] for p in m["prior_runs"]] == ["2026Q1", "2026Q2", "2026Q3"]
    for p in m["prior_runs"]:
        assert (year / "history" / f"{p['period']}.ledger.csv").is_file()


def test_q4_without_approved_quarters_is_rejected(tmp_path, archive):
    rd = run_ok(write_quarter(tmp_path / "q1", period="2026Q1"), archive)
    cli("approve", rd, "--by", "财务", "--no-pdf")
    q4 = write_quarter(tmp_path / "q4", period="2026Q4", extra_period=MI.format(spent="1.00"))
    r = cli("run", q4, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and "2026Q2" in r.stderr and "2026Q3" in r.stderr and "2026Q1、" not in r.stderr
    assert not (archive / "2026Q4").exists()


def test_approval_is_append_only_and_supersede_needs_a_reason(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(write_quarter(tmp_path / "b", budget="400000.01"), archive)
    assert cli("approve", a, "--by", "张", "--no-pdf").exit_code == 0
    r = cli("approve", b, "--by", "李", "--no-pdf")
    assert r.exit_code == 1 and "--supersede" in r.stderr
    assert cli("approve", b, "--by", "李", "--supersede", "--no-pdf").exit_code == 1  # no reason
    r = cli("approve", b, "--by", "李", "--supersede", "--reason", "预算更正", "--no-pdf")
    assert r.exit_code == 0 and "替换" in r.stdout
    recs = [json.loads(x) for x in (archive / "approvals.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(x["by"], x["supersedes"], x["reason"]) for x in recs] == [("张", None, None), ("李", a.name, "预算更正")]
    h = cli("history", "--archive", archive)
    assert a.name in h.stdout and b.name in h.stdout and "预算更正" in h.stdout


def test_q4_uses_the_superseding_approval(tmp_path, archive):
    q4 = approved_year(tmp_path, archive)
    fixed = run_ok(
        write_quarter(tmp_path / "q3b", period="2026Q3", budget="400000.00", workpoints=[["T01", "EHR", "1000"]]),
        archive,
    )
    assert cli("approve", fixed, "--by", "李", "--supersede", "--reason", "工分更正", "--no-pdf").exit_code == 0
    rd = run_ok(q4, archive)
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    assert m["prior_runs"][2]["run_id"] == fixed.name


def test_replay_is_identical(year):
    r = cli("replay", year)
    assert r.exit_code == 0 and "完全一致" in r.stdout


def test_replay_detects_an_edited_input(year):
    p = year / "inputs" / "assessment.csv"
    p.write_text(p.read_text(encoding="utf-8").replace("T01,95", "T01,96"), encoding="utf-8")
    r = cli("replay", year)
    assert r.exit_code == 3
    assert "inputs/assessment.csv" in r.stdout  # hash mismatch
    assert "差异：T01" in r.stdout  # and the recomputed ledger differs for T01


def test_replay_detects_an_edited_ledger(year):
    p = year / "ledger.csv"
    p.write_bytes(p.read_bytes().replace(b"205011.39", b"205011.40"))
    r = cli("replay", year)
    assert r.exit_code == 3 and "ledger.csv" in r.stdout and "205011.40" in r.stdout


def test_explain_q4_lines(year):
    r = cli("explain", year, "T02", "PH_FUND")
    assert r.exit_code == 0
    for s in ("全年加权工分 2400", "全年应得 63,408.19", "已预拨 102,127.65", "本季度 -38,719.46 元", "R4-Q4"):
        assert s in r.stdout, s
    r = cli("explain", year, "T01", "MI_SURPLUS")
    for s in ("结余 1,000,000.00", "k 0.9", "留用 900,000.00", "乡级分得 270,000.00", "186,206.90"):
        assert s in r.stdout, s


def test_diff_of_two_runs(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(
        write_quarter(
            tmp_path / "b", assessment=[r if r[0] != "C01" else ["C01", "90", "0", ""] for r in BASE_ASSESSMENT]
        ),
        archive,
    )
    r = cli("diff", a, b)
    assert r.exit_code == 0
    # C01 k 0.9 → 1.0: 225,000.00 → 250,000.00 (the layout of diff: tests/test_report_diff.py)
    assert "225,000.00" in r.stdout and "250,000.00" in r.stdout
    assert "差额 +25,000.00 元" in r.stdout


def test_an_edited_approval_record_is_detected(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(write_quarter(tmp_path / "b", period="2026Q2"), archive)
    assert cli("approve", a, "--by", "张", "--no-pdf").exit_code == 0
    assert cli("approve", b, "--by", "张", "--no-pdf").exit_code == 0
    p = archive / "approvals.jsonl"
    p.write_text(p.read_text(encoding="utf-8").replace('"by": "张"', '"by": "李"', 1), encoding="utf-8")
    h = cli("history", "--archive", archive)
    # record 1 edited: record 2's link to it no longer holds (and record 1's approval folder
    # still names the record's original hash)
    assert h.exit_code == 3 and "第2条审批记录" in h.stdout and "哈希链不符" in h.stdout
    assert "approvals/0001-2026Q1-" in h.stdout
    c = run_ok(write_quarter(tmp_path / "c", period="2026Q3"), archive)
    r = cli("approve", c, "--by", "王", "--no-pdf")
    assert r.exit_code == 1 and "第2条审批记录" in r.stderr and "不能追加" in r.stderr


def test_validate_checks_q4_history_too(tmp_path, archive):
    q4 = write_quarter(tmp_path / "q4", period="2026Q4", extra_period=MI.format(spent="1.00"))
    r = cli("validate", q4, "--archive", archive)
    assert r.exit_code == 2 and "2026Q1、2026Q2、2026Q3" in r.stderr
    assert not archive.exists()
