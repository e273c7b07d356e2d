"""Superseding an approved run A by B (SPEC §9): corrections.csv and the correction lists.

A is the base quarter's ledger (test_pay_lists has the working). B, by hand:
- T01 PH_FUND 40,425.53 → 40,000.00: −425.53 (health commission, a receivable 更正扣回)
- V01 VILLAGE_TOPUP 3,268.09 → 3,500.00: +231.91 (alliance, 更正补发)
- V02 VILLAGE_TOPUP missing in A (0.00) → 100.00: +100.00 (alliance)
- T02 DIRECTOR_BONUS 3,750.00 → missing in B (0.00): −3,750.00 (lead hospital, 李院长)
- C01 PERF_POOL 225,000.00 → 250,000.00: +25,000.00 (a ceiling: listed, in no payment list)
- V01 PH_FUND 2,553.19 → 2,553.19 with the line moved to the end of B: unchanged, not listed.
Transfer differences: −425.53 + 231.91 + 100.00 − 3,750.00 = −3,843.62
= payments 331.91 + receivables −4,175.53.
"""

from __future__ import annotations

import pytest

from p4p.model.problems import InputError
from p4p.pay.corrections import as_ledger, correction_lists, corrections
from p4p.pay.files import corrections_csv
from p4p.pay.reconcile import reconcile

from pay_support import ACCOUNTS, ALLIANCE, DIRECTORS, decls, ledger, line


def superseding() -> list[dict]:
    b = []
    for original in ledger("2026Q1"):
        row = dict(original)
        key = (row["inst_id"], row["item"])
        if key == ("T02", "DIRECTOR_BONUS"):
            continue
        row["amount"] = {
            ("T01", "PH_FUND"): "40000.00",
            ("V01", "VILLAGE_TOPUP"): "3500.00",
            ("C01", "PERF_POOL"): "250000.00",
        }.get(key, row["amount"])
        if key != ("V01", "PH_FUND"):
            b.append(row)
    v01_ph = next(r for r in ledger("2026Q1") if (r["inst_id"], r["item"]) == ("V01", "PH_FUND"))
    return [*b, line("V02", "VILLAGE_TOPUP", "100.00", period="2026Q1", name="乙镇一村卫生室"), v01_ph]


def test_corrections_list_every_changed_line_and_only_those():
    got = [
        (c.inst_id, c.item, f"{c.original}", f"{c.corrected}", f"{c.difference}")
        for c in corrections(ledger("2026Q1"), superseding())
    ]
    assert got == [
        ("C01", "PERF_POOL", "225000.00", "250000.00", "25000.00"),
        ("T01", "PH_FUND", "40425.53", "40000.00", "-425.53"),
        ("T02", "DIRECTOR_BONUS", "3750.00", "0.00", "-3750.00"),
        ("V01", "VILLAGE_TOPUP", "3268.09", "3500.00", "231.91"),
        ("V02", "VILLAGE_TOPUP", "0.00", "100.00", "100.00"),
    ]


def test_corrections_csv_bytes():
    data = corrections_csv(corrections(ledger("2026Q1"), superseding()))
    assert data.startswith(b"\xef\xbb\xbf")
    assert data.decode("utf-8-sig").split("\r\n") == [
        "period,inst_id,inst_name,item,item_name,original,corrected,difference",
        "2026Q1,C01,县中医院,PERF_POOL,绩效工资总量,225000.00,250000.00,25000.00",
        "2026Q1,T01,甲镇卫生院,PH_FUND,基本公卫经费,40425.53,40000.00,-425.53",
        "2026Q1,T02,乙镇卫生院,DIRECTOR_BONUS,院长绩效奖励,3750.00,0.00,-3750.00",
        "2026Q1,V01,甲镇一村卫生室,VILLAGE_TOPUP,村卫生室保底补助,3268.09,3500.00,231.91",
        "2026Q1,V02,乙镇一村卫生室,VILLAGE_TOPUP,VILLAGE_TOPUP,0.00,100.00,100.00",
        "",
    ]


def test_correction_lists_pay_and_recover_the_differences():
    corrs = corrections(ledger("2026Q1"), superseding())
    lists = correction_lists(corrs, decls(), period="2026Q1", alliance=ALLIANCE, directors=DIRECTORS, accounts=ACCOUNTS)
    assert lists.correction
    assert [(r.payer, r.payee_id, r.payee_name, f"{r.amount}", r.purpose) for r in lists.payments] == [
        ("alliance", "V01", "甲镇一村卫生室", "231.91", "2026年第一季度 村卫生室保底补助 更正补发"),
        ("alliance", "V02", "乙镇一村卫生室", "100.00", "2026年第一季度 村卫生室保底补助 更正补发"),
    ]
    assert [(r.payer, r.payee_id, r.payee_kind, r.payee_name, f"{r.amount}", r.purpose) for r in lists.receivables] == [
        ("health_commission", "T01", "institution", "甲镇卫生院", "-425.53", "2026年第一季度 基本公卫经费 更正扣回"),
        ("lead_hospital", "T02", "director", "李院长", "-3750.00", "2026年第一季度 院长绩效奖励 更正扣回"),
    ]
    assert lists.payments[0].account_no == "4111111111111111"
    text = reconcile(as_ledger(corrs), decls(), lists)
    assert text.splitlines()[:2] == [
        "更正发放核对（测试医共体 2026年第一季度）",
        "更正差额中的转付项目：非零 4 行，合计 -3,843.62 元 = 发放名单 2 笔 331.91 元 + 应收回 2 笔 -4,175.53 元 —— 相符",
    ]
    assert "核定额度（单位自行发放，不列入清单）：绩效工资总量 1 行，合计 25,000.00 元" in text


def test_an_identical_rerun_has_no_corrections_and_empty_lists():
    assert corrections(ledger("2026Q1"), list(reversed(ledger("2026Q1")))) == []
    lists = correction_lists([], decls(), period="2026Q1", alliance=ALLIANCE, directors=DIRECTORS)
    assert (lists.payments, lists.receivables, lists.alliance_items) == ((), (), ())


def test_runs_of_two_periods_or_a_doubled_line_are_refused():
    q2 = [dict(r, period="2026Q2") for r in ledger("2026Q1")]
    with pytest.raises(InputError, match="原审批与更正运行应为同一期间"):
        corrections(ledger("2026Q1"), q2)
    doubled = [*ledger("2026Q1"), ledger("2026Q1")[0]]
    with pytest.raises(InputError) as e:
        corrections(ledger("2026Q1"), doubled)
    assert (
        e.value.problems[0].text()
        == "更正 ledger.csv 第15行 列“item”（值：“C01 PERF_POOL”）：台账中同一机构、同一项目出现了两行"
    )


def test_a_director_renamed_by_the_superseding_run_is_a_warning_not_a_silent_nothing():
    """A supersede made to correct a township director's name (张院长 keyed for 王院长) found no
    ledger amount changed: it said 没有需要补发或扣回的款项 and the 15,000.00 paid to 张院长
    personally stayed with him without a word."""
    from p4p.pay.plan import RunPay, plan_approval

    def run(run_id: str, directors: dict[str, str]) -> RunPay:
        return RunPay(run_id, "2026Q1", ALLIANCE, ledger("2026Q1"), decls(), directors)

    plan = plan_approval(run("B", {**DIRECTORS, "T01": "王院长"}), original=run("A", DIRECTORS))
    assert plan.corrections == ()
    assert [w.text() for w in plan.warnings] == [
        "corrections.csv（值：“T01”）：院长在原审批运行 A 中为“张院长”，在更正运行中为“王院长”；"
        "原审批已付给“张院长”个人的 院长绩效奖励 15000.00 元 不会因这次更正从其收回，也不会付给“王院长”"
        "（更正只发放台账金额的差额）：若应付给另一人，须另行办理收回和补发"
    ]
    assert plan_approval(run("B", DIRECTORS), original=run("A", DIRECTORS)).warnings == ()
