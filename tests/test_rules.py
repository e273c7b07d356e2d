"""Every rule of huangshan-2026 against amounts computed by hand from SPEC.md §4.

The base alliance (conftest.py), worked out:
  R1/R2 PERF_POOL = round2(base/4 × k):
    L01 s=90 → k=1.00: 4,000,000/4 = 1,000,000.00      C01 s=85 → 0.90: 225,000.00
    T01 s=95 → 1.00: 200,000.00                          T02 s=80 → 0.90: 90,000.00
  R3 DIRECTOR_BONUS = round2(min(base/4/staff × m, 15000)):
    T01: 800,000/4/10 = 20,000 × m 2.0 = 40,000 → cap 15,000.00
    T02: 400,000/4/40 = 2,500 × m 1.5 = 3,750.00
  R4 PH_FUND, Q1: F = round2(400,000 × 0.25 × 0.80) = 80,000.00 = 8,000,000 fen
    raw points: T01 EHR 1000×1 = 1000; T02 HTN 250×4 = 1000; V01 ELD 10×10 = 100;
                V02 EDU 5×20 = 100; V03 TB 20×5 = 100
    q: T01 .95, T02 .80, V01 .60, V02 0 (59.9 < 60), V03 .70 (veto leaves q alone)
    w: 950, 800, 60, 0, 70; Σw = 1880
    exact fen: T01 4,042,553.19…, T02 3,404,255.31…, V01 255,319.14…, V03 297,872.34…
    floors sum to 7,999,999; the last fen goes to the largest remainder (.34…, V03)
    → T01 40,425.53; T02 34,042.55; V01 2,553.19; V02 0.00; V03 2,978.73
  R6 VILLAGE_TOPUP = round2(max(0, 12,000 − income) × k × a):
    V01: income 4×1,000 + 2,553.19 = 6,553.19; shortfall 5,446.81; k 0.60; a = min(1, 500/400) = 1
         → 3,268.086 → 3,268.09
    V03: vetoed → k 0 → 0.00 (target 0 → a = 1)
    V02 has no guarantee → no line
"""

from decimal import Decimal

import pytest
from conftest import BASE_INSTITUTIONS, BASE_WORKPOINTS, ledger_of, run_ok, write_quarter

EXPECTED_Q1 = {
    ("L01", "PERF_POOL"): ("1000000.00", "1"),
    ("C01", "PERF_POOL"): ("225000.00", "0.9"),
    ("T01", "PERF_POOL"): ("200000.00", "1"),
    ("T02", "PERF_POOL"): ("90000.00", "0.9"),
    ("T01", "DIRECTOR_BONUS"): ("15000.00", "2"),
    ("T02", "DIRECTOR_BONUS"): ("3750.00", "1.5"),
    ("T01", "PH_FUND"): ("40425.53", "950"),
    ("T02", "PH_FUND"): ("34042.55", "800"),
    ("V01", "PH_FUND"): ("2553.19", "60"),
    ("V02", "PH_FUND"): ("0.00", "0"),
    ("V03", "PH_FUND"): ("2978.73", "70"),
    ("V01", "VILLAGE_TOPUP"): ("3268.09", "1"),
    ("V03", "VILLAGE_TOPUP"): ("0.00", "1"),
}


def test_base_quarter_every_line(base_quarter, archive):
    led = ledger_of(run_ok(base_quarter, archive))
    assert {k: (r["amount"], r["quantity"]) for k, r in led.items()} == EXPECTED_Q1


def test_ph_fund_adds_up_to_the_quarter_fund(base_quarter, archive):
    led = ledger_of(run_ok(base_quarter, archive))
    assert sum(Decimal(r["amount"]) for (i, it), r in led.items() if it == "PH_FUND") == Decimal("80000.00")


def _one_township(tmp_path, score, veto="0", staff="4", base="400000.00"):
    inst = [BASE_INSTITUTIONS[0], ["T09", "测试镇卫生院", "township", "L01", staff, base, "100", "0", "0", "王"]]
    assess = [["L01", "90", "0", ""], ["T09", score, veto, ""]]
    return write_quarter(
        tmp_path / f"in{score}{veto}",
        institutions=inst,
        assessment=assess,
        workpoints=[["T09", "EHR", "10"]],
        income=[],
    )


@pytest.mark.parametrize(
    "score,k,m",
    [
        ("0", "0", "0"),
        ("59.9", "0", "0"),
        ("60", "0.6", "1"),
        ("69.9", "0.6", "1"),
        ("70", "0.8", "1"),
        ("79.9", "0.8", "1"),
        ("80", "0.9", "1.5"),
        ("89.9", "0.9", "1.5"),
        ("90", "1", "1.8"),
        ("94.9", "1", "1.8"),
        ("95", "1", "2"),
        ("100", "1", "2"),
    ],
)
def test_band_edges_of_k_and_m(tmp_path, archive, score, k, m):
    # base 400,000 / 4 = 100,000 per quarter; per head 100,000 / 4 staff = 25,000 (× m, capped at 15,000)
    led = ledger_of(run_ok(_one_township(tmp_path, score), archive))
    assert led[("T09", "PERF_POOL")]["quantity"] == k
    assert Decimal(led[("T09", "PERF_POOL")]["amount"]) == (Decimal("100000") * Decimal(k)).quantize(Decimal("0.01"))
    assert led[("T09", "DIRECTOR_BONUS")]["quantity"] == m
    assert Decimal(led[("T09", "DIRECTOR_BONUS")]["amount"]) == min(Decimal("25000") * Decimal(m), Decimal("15000.00"))


def test_veto_voids_k_and_m_but_not_q(tmp_path, archive):
    led = ledger_of(run_ok(_one_township(tmp_path, "96", veto="1"), archive))
    assert led[("T09", "PERF_POOL")]["amount"] == "0.00"
    assert led[("T09", "DIRECTOR_BONUS")]["amount"] == "0.00"
    # the only unit with points: q = 0.96, w = 10 × 1 × 0.96, and it gets the whole fund
    assert led[("T09", "PH_FUND")]["quantity"] == "9.6"
    assert led[("T09", "PH_FUND")]["amount"] == "80000.00"


def test_director_bonus_below_cap_rounds_half_up(tmp_path, archive):
    # 333,333.33 / 4 / 7 = 11,904.7617… × m 1.0 (s = 70) → 11,904.76
    led = ledger_of(run_ok(_one_township(tmp_path, "70", staff="7", base="333333.33"), archive))
    assert led[("T09", "DIRECTOR_BONUS")]["amount"] == "11904.76"


def test_no_weighted_points_puts_the_fund_on_the_lead_hospital(tmp_path, archive):
    wp = [[i, item, "0"] for i, item, _ in BASE_WORKPOINTS]
    led = ledger_of(run_ok(write_quarter(tmp_path / "in", workpoints=wp), archive))
    assert led[("L01", "PH_UNDISTRIBUTED")]["amount"] == "80000.00"
    assert all(led[(i, "PH_FUND")]["amount"] == "0.00" for i in ("T01", "T02", "V01", "V02", "V03"))


def test_largest_remainder_ties_go_to_the_smaller_inst_id(tmp_path, archive):
    # F = round2(0.05 × 0.25 × 0.80) = 0.01: one fen, two units with equal points → the smaller id
    inst = [
        BASE_INSTITUTIONS[0],
        ["TB", "乙", "township", "L01", "1", "0.00", "1", "0", "0", ""],
        ["TA", "甲", "township", "L01", "1", "0.00", "1", "0", "0", ""],
    ]
    assess = [["L01", "90", "0", ""], ["TB", "80", "0", ""], ["TA", "80", "0", ""]]
    wp = [["TB", "EHR", "5"], ["TA", "EHR", "5"]]
    led = ledger_of(
        run_ok(
            write_quarter(
                tmp_path / "in", budget="0.05", institutions=inst, assessment=assess, workpoints=wp, income=[]
            ),
            archive,
        )
    )
    assert led[("TA", "PH_FUND")]["amount"] == "0.01"
    assert led[("TB", "PH_FUND")]["amount"] == "0.00"


def test_workload_ratio_below_target_is_exact(tmp_path, archive):
    income = [
        ["V01", "1000.00", "1000.00", "1000.00", "1000.00", "100"],
        ["V03", "2000.00", "2000.00", "2000.00", "2000.00", "10"],
    ]
    led = ledger_of(run_ok(write_quarter(tmp_path / "in", income=income), archive))
    # a = 100 / 400 = 0.25; 5,446.81 × 0.6 × 0.25 = 817.0215 → 817.02
    assert led[("V01", "VILLAGE_TOPUP")]["quantity"] == "0.25"
    assert led[("V01", "VILLAGE_TOPUP")]["amount"] == "817.02"


def test_income_above_guarantee_gives_no_topup(tmp_path, archive):
    income = [
        ["V01", "5000.00", "5000.00", "1000.00", "1000.00", "500"],
        ["V03", "2000.00", "2000.00", "2000.00", "2000.00", "10"],
    ]
    led = ledger_of(run_ok(write_quarter(tmp_path / "in", income=income), archive))
    assert led[("V01", "VILLAGE_TOPUP")]["amount"] == "0.00"


def test_several_rows_of_one_item_add_up(tmp_path, archive):
    wp = BASE_WORKPOINTS[:2] + [["V01", "ELD", "4"], ["V01", "ELD", "6"]] + BASE_WORKPOINTS[3:]
    led = ledger_of(run_ok(write_quarter(tmp_path / "in", workpoints=wp), archive))
    assert led[("V01", "PH_FUND")]["quantity"] == "60"
    assert led[("V01", "PH_FUND")]["amount"] == "2553.19"
