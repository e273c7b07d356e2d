"""What a run takes from the archive: the year's approved quarters (copied into history/ for the
year to date and the Q4 settlement), the previous approved quarter (copied into previous/ for
the plausibility checks), and warnings when the budget or alliance changed during the year."""

import json

import pytest

from conftest import BASE_WORKPOINTS, cli, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out


def approve(rd):
    assert cli("approve", rd, "--by", "财务", "--no-pdf").exit_code == 0


def manifest(rd):
    return json.loads((rd / "manifest.json").read_text(encoding="utf-8"))


def warnings(rd, kind):
    return [w for w in json.loads((rd / "summary.json").read_text(encoding="utf-8"))["warnings"] if w["kind"] == kind]


def test_a_q3_keeps_the_years_approved_quarters_and_the_previous_one(tmp_path, archive):
    q1 = run_ok(write_quarter(tmp_path / "q1"), archive)
    approve(q1)
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), archive)
    approve(q2)
    q3 = run_ok(write_quarter(tmp_path / "q3", period="2026Q3"), archive)
    m = manifest(q3)
    assert [p["period"] for p in m["prior_runs"]] == ["2026Q1", "2026Q2"]
    assert (q3 / "history" / "2026Q1.ledger.csv").read_bytes() == (q1 / "ledger.csv").read_bytes()
    assert m["previous_run"]["period"] == "2026Q2" and m["previous_run"]["run_id"] == q2.name
    assert (q3 / "previous" / "2026Q2" / "inputs" / "workpoints.csv").is_file()
    assert cli("replay", q3).exit_code == 0


def test_a_jump_against_the_previous_quarter_is_a_warning(tmp_path, archive):
    """T01's points: Q1 EHR 1,000 × 1 = 1,000; Q2 EHR 3,500 = 3,500 > 3 × 1,000 → C2 warns with
    the factor 3.5. Without an approved Q1 the same Q2 gives no such warning."""
    wp = [["T01", "EHR", "3500"], *BASE_WORKPOINTS[1:]]
    alone = run_ok(write_quarter(tmp_path / "alone", period="2026Q2", workpoints=wp), tmp_path / "other")
    assert not [w for w in warnings(alone, "check") if w["check_id"] == "C2"]
    approve(run_ok(write_quarter(tmp_path / "q1"), archive))
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2", workpoints=wp), archive)
    c2 = [w for w in warnings(q2, "check") if w["check_id"] == "C2"]
    assert [(w["inst_id"], w["message"]) for w in c2] == [
        ("T01", "本季度公卫工分 3,500 分，是上一已审批季度 1,000 分的 3.5 倍（提示阈值 3 倍），请核实")
    ]
    assert cli("replay", q2).exit_code == 0  # the comparison is replayed from previous/


def test_a_budget_that_differs_from_the_years_approved_quarters_is_a_warning(tmp_path, archive):
    approve(run_ok(write_quarter(tmp_path / "q1"), archive))
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2", budget="410000.00"), archive)
    found = [w["message"] for w in warnings(q2, "input")]
    assert any("基本公共卫生服务经费年度预算" in w and "410,000.00" in w and "400,000.00" in w for w in found), found
