"""Year-end (SPEC R4 Q4, R5, R6) and the audit trail: approvals, replay, tamper detection.

Q1–Q3 are the base quarter of conftest.py three times: each pays PH_FUND
T01 40,425.53 (w 950), T02 34,042.55 (w 800), V01 2,553.19 (w 60), V02 0.00 (w 0), V03 2,978.73 (w 70).
Q4 (hand-computed):
  T01 reports EHR 10,000 → w = 9,500; nobody else has points; V01 has left the alliance.
  annual W: T01 2,850 + 9,500 = 12,350; T02 2,400; V01 180; V02 0; V03 210; ΣW = 15,140
  E = LR(400,000.00): exact fen T01 32,628,797.886…, T02 6,340,819.022…, V01 475,561.426…, V03 554,821.664…
      floors leave 2 fen → T01 (.886) and V03 (.664): E = 326,287.98 / 63,408.19 / 4,755.61 / 5,548.22
  PH_FUND = E − 3 × advance: T01 205,011.39; T02 −38,719.46; V01 −2,903.96; V02 0.00; V03 −3,387.97
  MI: U = 10,000,000 − 9,000,000 = 1,000,000; k(85) = 0.9 → R = 900,000.00 → 540,000 / 270,000 / 90,000
    county: L01 4,000,000 × 1, C01 1,000,000 × 0.9 → 440,816.33 / 99,183.67 (fen to L01's .653)
    township: T01 800,000 × 1, T02 400,000 × 0.9 → 186,206.90 / 83,793.10
    village: V02 k(59.9) = 0, V03 vetoed → Σ = 0 → MI_UNDISTRIBUTED 90,000.00 on L01
    returned to the fund: 1,000,000 − 900,000 = 100,000.00
"""

import json
from decimal import Decimal
from pathlib import Path

import pytest
from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, cli, ledger_of, run_ok, write_quarter

MI = "mi_budget: 10000000.00\nmi_spent: {spent}\nalliance_score: 85\n"


def approved_year(
    tmp_path,
    archive,
    q4_workpoints=None,
    spent="9000000.00",
    q13_workpoints=None,
    institutions=None,
    assessment=None,
    income=None,
) -> Path:
    for n in (1, 2, 3):
        rd = run_ok(write_quarter(tmp_path / f"q{n}", period=f"2026Q{n}", workpoints=q13_workpoints), archive)
        assert cli("approve", rd, "--by", "财务", "--no-pdf").exit_code == 0
    q4 = write_quarter(
        tmp_path / "q4",
        period="2026Q4",
        extra_period=MI.format(spent=spent),
        institutions=institutions if institutions is not None else BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
        assessment=assessment if assessment is not None else BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
        workpoints=q4_workpoints if q4_workpoints is not None else [["T01", "EHR", "10000"]],
        income=income if income is not None else BASE_INCOME[1:],
    )
    return q4


@pytest.fixture
def year(tmp_path, archive):
    q4 = approved_year(tmp_path, archive)
    return run_ok(q4, archive)


def amounts(run_dir, item):
    return {i: r["amount"] for (i, it), r in ledger_of(run_dir).items() if it == item}


def test_ph_settlement_claws_back_and_settles_absent_units(year):
    assert amounts(year, "PH_FUND") == {
        "T01": "205011.39",
        "T02": "-38719.46",
        "V01": "-2903.96",
        "V02": "0.00",
        "V03": "-3387.97",
    }
    led = ledger_of(year)
    assert led[("T01", "PH_FUND")]["quantity"] == "9500"  # this quarter's weighted points
    assert led[("V01", "PH_FUND")]["inst_name"] == "甲镇一村卫生室"  # named from the approved history


def test_mi_surplus_split_with_an_all_zero_village_level(year):
    assert amounts(year, "MI_SURPLUS") == {
        "L01": "440816.33",
        "C01": "99183.67",
        "T01": "186206.90",
        "T02": "83793.10",
        "V02": "0.00",
        "V03": "0.00",
    }
    assert amounts(year, "MI_UNDISTRIBUTED") == {"L01": "90000.00"}
    s = json.loads((year / "summary.json").read_text(encoding="utf-8"))
    assert {r["name"]: r["amount"] for r in s["reports"]} == {"returned_to_fund": "100000.00"}
    assert s["all_checks_ok"]


def test_q4_village_topup_uses_q4_income_and_vetoed_k(year):
    assert amounts(year, "VILLAGE_TOPUP") == {"V03": "0.00"}


def test_manifest_lists_the_prior_runs_and_history_is_copied(year):
    m = json.loads((year / "manifest.json").read_text(encoding="utf-8"))
    assert [p["period"] for p in m["prior_runs"]] == ["2026Q1", "2026Q2", "2026Q3"]
    for p in m["prior_runs"]:
        assert (year / "history" / f"{p['period']}.ledger.csv").is_file()


@pytest.mark.parametrize(
    "spent,deficit",
    [
        ("10200000.00", "-100000.00"),  # D 200,000 ≤ L 500,000: half
        ("11000000.00", "-750000.00"),
    ],
)  # 500,000 × 0.5 + 500,000
def test_mi_deficit_within_and_beyond_the_reasonable_limit(tmp_path, archive, spent, deficit):
    rd = run_ok(approved_year(tmp_path, archive, spent=spent), archive)
    assert amounts(rd, "MI_DEFICIT") == {"L01": deficit}
    assert amounts(rd, "MI_SURPLUS") == {}


def test_surplus_with_no_villages_at_all(tmp_path, archive):
    q4 = approved_year(tmp_path, archive, institutions=BASE_INSTITUTIONS[:4], assessment=BASE_ASSESSMENT[:4], income=[])
    rd = run_ok(q4, archive)
    assert amounts(rd, "MI_UNDISTRIBUTED") == {"L01": "90000.00"}
    assert Decimal(sum(Decimal(a) for a in amounts(rd, "MI_SURPLUS").values())) == Decimal("810000.00")


def test_no_points_all_year_leaves_the_budget_undistributed(tmp_path, archive):
    zero = [["T01", "EHR", "0"]]
    rd = run_ok(approved_year(tmp_path, archive, q4_workpoints=zero, q13_workpoints=zero), archive)
    # Q1–Q3 each parked 80,000.00 as PH_UNDISTRIBUTED and paid no PH_FUND. SPEC v2 R4: with ΣW = 0
    # Q4 writes budget − Σ prior PH_FUND − P = 400,000 − 0 − 240,000 = 160,000.00, so the year's
    # PH lines add up to the budget: 3 × 80,000 + 160,000 = 400,000.
    assert amounts(rd, "PH_UNDISTRIBUTED") == {"L01": "160000.00"}
    assert set(amounts(rd, "PH_FUND").values()) == {"0.00"}


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
    recs = [json.loads(l) for l in (archive / "approvals.jsonl").read_text(encoding="utf-8").splitlines()]
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
    # C01 k 0.9 → 1.0: 225,000.00 → 250,000.00
    assert "C01 县中医院 PERF_POOL：A 225000.00（数量 0.9），B 250000.00（数量 1）" in r.stdout
    assert "差 25000.00" in r.stdout


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
