"""Plausibility warnings declared in the ruleset (checks.yaml): shown, never changing money;
`run --strict` turns them into a refusal (exit 2, nothing written)."""

import json

from conftest import BASE_WORKPOINTS, cli, ledger_of, run_ok, write_quarter


def test_implausible_work_points_are_a_warning_with_the_numbers(tmp_path, archive):
    """V02 (population 3,000) reports 650,000 health-record updates: 650,000 points, over the
    30-per-resident limit (90,000). The money is computed as always: V02 scores 59.9, so q = 0
    and it still gets 0.00 — the warning says what to check, it does not change amounts."""
    wp = [*BASE_WORKPOINTS, ["V02", "EHR", "650000"]]
    plain = ledger_of(run_ok(write_quarter(tmp_path / "plain"), archive))
    rd = run_ok(write_quarter(tmp_path / "in", workpoints=wp), archive)
    s = json.loads((rd / "summary.json").read_text(encoding="utf-8"))
    found = [w for w in s["warnings"] if w["kind"] == "check"]
    assert [(w["check_id"], w["inst_id"]) for w in found] == [("C1", "V02")]
    assert found[0]["message"] == "本季度公卫工分 650,100 分，服务人口 3,000 人，人均超过 30 分，请核实工分数据"
    assert s["plausibility_warnings"] == 1
    assert "需要核实的数据（1 条" in (rd / "summary.txt").read_text(encoding="utf-8")
    assert ledger_of(rd) == plain  # q(59.9) = 0: the same amounts either way


def test_strict_refuses_and_writes_nothing(tmp_path, archive):
    wp = [*BASE_WORKPOINTS, ["V02", "EHR", "650000"]]
    r = cli("run", write_quarter(tmp_path / "in", workpoints=wp), "--archive", archive, "--no-pdf", "--strict")
    assert r.exit_code == 2 and "--strict" in r.stderr and "乙镇一村卫生室（V02）" in r.stderr
    assert not archive.exists()


def test_checks_that_need_a_previous_quarter_are_skipped_with_a_note(base_quarter, archive):
    s = json.loads((run_ok(base_quarter, archive) / "summary.json").read_text(encoding="utf-8"))
    notes = [w["message"] for w in s["warnings"] if w["kind"] == "note"]
    assert "提示“公卫工分比上一季度突增”未检查：没有上一个已审批的季度" in notes
