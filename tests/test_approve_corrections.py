"""`p4p approve B --supersede --reason …` of an approved run A (SPEC §9): the money to pay is
the first approval's lists plus every correction, so a supersede pays only the differences.

A is conftest's base quarter (test_approve_payments.py has its working). B corrects two input
slips, by hand:
- V01's drug subsidy was 500.00, not 1,000.00: income I = 500 + 3 × 1,000 + PH_FUND 2,553.19
  = 6,053.19; VILLAGE_TOPUP = (12,000 − 6,053.19) × k(60) 0.6 × a 1 = 3,568.086 → 3,568.09
  (A: 3,268.09): +300.00, paid by the alliance (更正补发).
- T02 has 50 staff, not 40: DIRECTOR_BONUS = 400,000 / 4 / 50 × m(80) 1.5 = 3,000.00
  (A: 3,750.00): −750.00, owed back by 李院长 to the lead hospital (更正扣回).
Nothing else uses those inputs (PH_FUND and PERF_POOL do not), so corrections.csv has these
two lines; the correction lists: one payment 300.00, one receivable −750.00; the only bank
file is the alliance's with V01's 300.00. B's full lists (reference/) pay V01 3,568.09 and
李院长 3,000.00: 102,018.09 + 300.00 − 750.00 = 101,568.09 in all.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from archive_kit import approved_quarters, q4_input, records

from conftest import BASE_INCOME, BASE_INSTITUTIONS, ROOT, cli, run_ok, write_quarter
from pay_support import folder_of, payees_csv, rows

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

REASON = "村卫生室收入与乙镇卫生院在岗人数录入有误"


def approve(run_dir: Path, *extra, pdf: bool = False):
    return cli("approve", run_dir, "--by", "李会计", *extra, *(() if pdf else ("--no-pdf",)))


def corrected_quarter(d: Path) -> Path:
    institutions = [list(r) for r in BASE_INSTITUTIONS]
    institutions[3][4] = "50"  # T02 staff_count
    income = [list(r) for r in BASE_INCOME]
    income[0][1] = "500.00"  # V01 drug_subsidy
    return write_quarter(d, institutions=institutions, income=income)


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def superseded(tmp_path, archive):
    """(A's approval folder, B's approval result) after A was approved and paid and B supersedes it."""
    payees = payees_csv(tmp_path / "payees.csv")
    first = folder_of(approve(run_ok(write_quarter(tmp_path / "a"), archive), "--payees", payees))
    before = snapshot(first)
    b = run_ok(corrected_quarter(tmp_path / "b"), archive)
    r = approve(b, "--payees", payees, "--supersede", "--reason", REASON)
    assert snapshot(first) == before  # append-only: the first approval's folder is never touched
    return first, r


def test_a_supersede_pays_the_differences_only(superseded):
    _, r = superseded
    folder = folder_of(r)
    assert "这一行未使用" not in r.stderr  # T01's director is in the run, if not in the correction
    assert (folder / "corrections.csv").read_bytes().decode("utf-8-sig").splitlines() == [
        "period,inst_id,inst_name,item,item_name,original,corrected,difference",
        "2026Q1,T02,乙镇卫生院,DIRECTOR_BONUS,院长绩效奖励,3750.00,3000.00,-750.00",
        "2026Q1,V01,甲镇一村卫生室,VILLAGE_TOPUP,村卫生室保底补助,3268.09,3568.09,300.00",
    ]
    pay = [
        (x["payer"], x["payee_id"], x["payee_kind"], x["amount"], x["purpose"]) for x in rows(folder / "payments.csv")
    ]
    assert pay == [("alliance", "V01", "institution", "300.00", "2026年第一季度 村卫生室保底补助 更正补发")]
    back = [(x["payer"], x["payee_name"], x["amount"], x["purpose"]) for x in rows(folder / "receivables.csv")]
    assert back == [("lead_hospital", "李院长", "-750.00", "2026年第一季度 院长绩效奖励 更正扣回")]
    # the only bank file of a supersede: the differences, never the full lists
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("代发_*")) == [
        "bank/代发_alliance_村卫生室保底补助.csv"
    ]
    bank = rows(folder / "bank" / "代发_alliance_村卫生室保底补助.csv")
    assert [(x["收款方编码"], x["收款账号"], x["金额（元）"]) for x in bank] == [("V01", "4111111111111111", "300.00")]
    assert "更正：2 个台账行的金额有变化（corrections.csv）" in r.stdout
    assert (
        "更正差额中的转付项目：非零 2 行，合计 -450.00 元 = 发放名单 1 笔 300.00 元 + 应收回 1 笔 -750.00 元 —— 相符"
        in r.stdout
    )


def test_the_superseding_runs_full_lists_are_kept_for_checking_only(superseded):
    _, r = superseded
    folder = folder_of(r)
    full = {
        (x["payer"], x["payee_id"], x["payee_kind"]): x["amount"] for x in rows(folder / "reference" / "payments.csv")
    }
    assert full[("alliance", "V01", "institution")] == "3568.09"
    assert full[("lead_hospital", "T02", "director")] == "3000.00"
    assert sum(int(a.replace(".", "")) for a in full.values()) == 10156809  # 101,568.09
    assert sorted(p.name for p in (folder / "reference").iterdir()) == [
        "alliance_items.csv",
        "payments.csv",
        "payments.xlsx",
        "receivables.csv",
    ]
    assert "仅供核对，不作发放依据" in r.stdout


def test_a_supersede_is_recorded_with_its_data_files_and_verifies_clean(superseded, archive):
    first, r = superseded
    folder = folder_of(r)
    rec = records(archive)[-1]
    assert rec["supersedes"] == first.name.split("-", 2)[2] and rec["reason"] == REASON
    assert {"corrections.csv", "payments.csv", "reference/payments.csv", "payees.csv"} <= set(rec["files"])
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert set(fm["documents"]) == {"payments.xlsx", "reference/payments.xlsx"}
    assert cli("verify", archive).exit_code == 0
    (folder / "corrections.csv").write_bytes((folder / "corrections.csv").read_bytes().replace(b"300.00", b"3000.00"))
    v = cli("verify", archive)
    assert v.exit_code == 3 and f"approvals/{folder.name}/corrections.csv：文件已被修改" in v.stdout


def test_a_supersede_whose_ruleset_pays_an_item_another_way_is_refused(tmp_path, archive):
    rules = tmp_path / "rules"
    subprocess.run(["cp", "-r", str(ROOT / "rules" / "huangshan-2026"), str(rules)], check=True)
    items = (rules / "items.yaml").read_text(encoding="utf-8")
    changed = items.replace("fund: 院长绩效奖励\n    payee: director", "fund: 院长绩效奖励\n    payee: institution")
    assert changed != items
    (rules / "items.yaml").write_text(changed, encoding="utf-8")
    approve(run_ok(write_quarter(tmp_path / "a"), archive))
    b = run_ok(corrected_quarter(tmp_path / "b"), archive, "--rules", rules)
    r = approve(b, "--supersede", "--reason", REASON)
    assert r.exit_code == 1 and "不能替换" in r.stderr
    assert (
        "DIRECTOR_BONUS（院长绩效奖励）：原审批为“牵头医院 · 院长绩效奖励 → 院长”，更正运行为“牵头医院 · 院长绩效奖励 → 机构”"
        in r.stderr
    )
    assert len(records(archive)) == 1 and len(list((archive / "approvals").iterdir())) == 1


def test_superseding_a_quarter_of_a_year_with_an_approved_q4_names_that_q4(tmp_path, archive):
    approved_quarters(tmp_path, archive)
    q4 = run_ok(q4_input(tmp_path), archive)
    approve(q4)
    fixed = run_ok(write_quarter(tmp_path / "q2b", period="2026Q2", workpoints=[["T01", "EHR", "1000"]]), archive)
    r = approve(fixed, "--supersede", "--reason", "工分更正")
    folder = folder_of(r)
    notice = f"注意：本年第四季度已审批（2026Q4 运行 {q4.name}（第4条记录））"
    assert notice in (folder / "reconciliation.txt").read_text(encoding="utf-8-sig")
    assert f"2026Q4 运行 {q4.name}" in r.stderr and "须重新运行" in r.stderr


def pdf_text(path: Path) -> str:
    out = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return re.sub(r"\s+", "", out)


@pytest.mark.slow
def test_correction_statements_and_lists_print_the_chain_head(tmp_path, archive):
    """Correction statements only for the institutions concerned (T02 and V01), with 原核定 /
    更正后 / 补发或扣回 in figures and capitals (300.00 = 人民币叁佰元整, 750.00 = 人民币柒佰伍拾元整)."""
    payees = payees_csv(tmp_path / "payees.csv")
    folder_of(approve(run_ok(write_quarter(tmp_path / "a"), archive), "--payees", payees, "--jobs", "1", pdf=True))
    b = run_ok(corrected_quarter(tmp_path / "b"), archive)
    r = approve(b, "--payees", payees, "--supersede", "--reason", REASON, "--jobs", "1", pdf=True)
    folder = folder_of(r)
    head = r.stdout.split("审批链头：")[1].split()[0]
    assert sorted(p.name for p in (folder / "corrections").iterdir()) == ["T02.pdf", "V01.pdf"]
    v01 = pdf_text(folder / "corrections" / "V01.pdf")
    for text in (
        "绩效兑现更正结算单",
        "甲镇一村卫生室（V01）",
        "3,268.09",
        "3,568.09",
        "补发300.00",
        "补发人民币叁佰元整",
    ):
        assert text in v01, text
    assert REASON in v01 and head in v01 and "已审批：李会计" in v01
    t02 = pdf_text(folder / "corrections" / "T02.pdf")
    assert "扣回750.00" in t02 and "扣回人民币柒佰伍拾元整" in t02 and "李院长（乙镇卫生院）" in t02
    payments = pdf_text(folder / "payments.pdf")
    assert "更正发放名单" in payments and "更正应收回清单" in payments and head in payments
    assert "仅供核对，不作发放依据" in pdf_text(folder / "reference" / "payments.pdf")
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert {"corrections/V01.pdf", "payments.pdf", "reference/payments.pdf", "statements/V01.pdf"} <= set(
        fm["documents"]
    )
    assert cli("verify", archive).exit_code == 0
