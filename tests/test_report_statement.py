"""What a statement says (its HTML, before any PDF is rendered), for the base alliance of
conftest.py whose amounts test_rules.py works out by hand:

  PH_FUND Q1: F = 400,000 × 25% × 80% = 80,000.00; weighted points T01 950, T02 800, V01 60,
    V02 0 (score 59.9 < 60), V03 70 (vetoed, q unchanged); Σ = 1,880
    → T01 40,425.53, T02 34,042.55, V01 2,553.19, V02 0.00, V03 2,978.73
  V01 top-up: income 4 × 1,000 + 2,553.19 = 6,553.19; shortfall 5,446.81; k 60%; visits 500 of a
    target 400 → 100% → 3,268.09
  V03 top-up: vetoed (reason 违规) → 0.00
  T01: PERF_POOL 200,000.00 (ceiling), DIRECTOR_BONUS 15,000.00 (to the director), PH_FUND 40,425.53
"""

from __future__ import annotations

import html
import json
import re
import shutil
from pathlib import Path

import pytest

from p4p.engine.trace import read_trace
from p4p.report.pdf import Statements, _head
from p4p.report.qr import qr_data_url, verify_text
from p4p.report.roles import run_items
from p4p.report.statement import columns
from p4p.report.ytd import year_to_date

from conftest import cli, run_ok, write_quarter


def text_of(page: str) -> str:
    """The words of an HTML page, as a reader sees them (tags dropped, spaces collapsed)."""
    page = re.sub(r"<(style|script)[^>]*>.*?</\1>", " ", page, flags=re.S)
    page = re.sub(r"<[^>]+>", " ", page)
    return re.sub(r"\s+", " ", html.unescape(page))


def flat(s: str) -> str:
    return re.sub(r"\s+", "", s)


def statements_of(run_dir: Path, approval: str | None = None) -> Statements:
    m = json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))
    lines = read_trace((run_dir / "trace.jsonl").read_bytes())
    summary = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    return Statements(run_dir, lines, summary, _head(m["run_id"], m, approval, None))


@pytest.fixture(scope="module")
def q1(tmp_path_factory) -> Statements:
    tmp = tmp_path_factory.mktemp("st")
    return statements_of(run_ok(write_quarter(tmp / "in"), tmp / "archive"))


def page(st: Statements, inst_id: str) -> str:
    return flat(text_of(st.html(inst_id)))


def test_a_village_line_says_what_was_counted_weighted_and_why(q1):
    t = page(q1, "V01")
    # 60 of 1,880 weighted points = 3.191 %
    for s in (
        "本季度您完成的基本公卫服务折合100个工分（明细见上表）",
        "考核得分60分，工分按60%计入，得加权工分60（考核得分低于60分的，工分不计入）",
        "预拨公卫经费80,000.00元（年度预算400,000.00元的25%，再按80%预拨）",
        "您的加权工分占全医共体1,880的3.191%，分得2,553.19元",
        "65岁及以上老年人健康体检10×10=100",  # the work-point table: count × points = points
    ):
        assert s in t, s


def test_the_topup_states_the_guarantee_the_score_band_and_the_workload_ratio(q1):
    t = page(q1, "V01")
    for s in (
        "享受4.8万元年保底的村卫生室，每季度保底12,000.00元",
        "本季度收入合计6,553.19元（明细见上表），比保底少5,446.81元",
        "考核得分60分，属“60（含）–70分”档，按60%兑现",
        "本季度门诊500人次，完成季度目标400人次的100%",
        "补助=5,446.81×60%×100%≈3,268.09元",
        "考核得分低于60分不兑现",
        "基本公卫经费（本季度）2,553.19",  # the income table the text refers to
    ):
        assert s in t, s


def test_a_score_below_the_threshold_says_so(q1):
    t = page(q1, "V02")
    assert "考核得分59.9分，低于60分，本季度的工分不计入分配（年终清算时也不计入），公卫经费为0" in t


def test_a_veto_is_on_the_vetoed_institutions_own_statement(q1):
    t = page(q1, "V03")
    assert "一票否决：本季度考核因“违规”被一票否决" in t
    assert "但本季度因“违规”被一票否决，补助为0" in t
    assert "一票否决" not in page(q1, "V01")


def test_the_clause_text_is_printed_under_each_line(q1):
    t = page(q1, "V01")
    assert "依据：《歙县工作方案》一（五）3“牵头医院每季度会县级公共卫生机构监测评估并提出资金预拨方案" in t
    assert "《歙县工作方案》一（三）2“对享受4.8万元保底收入的村卫生室一村一策核定工作数量和质量" in t


def test_no_formula_language_and_no_long_decimals_on_any_statement(q1):
    for iid in q1.groups:
        t = text_of(q1.html(iid))
        assert "最大余额法" not in t and "round2" not in t and "weight_sum" not in t, iid
        assert not re.search(r"\d\.\d{7,}", t), iid  # the exact values stay in the trace
        assert "{" not in t, iid  # every placeholder filled


def test_money_received_director_pay_and_ceiling_are_separate_subtotals(q1):
    t = page(q1, "T01")
    # received: PH_FUND only; the director's 15,000.00 and the 200,000.00 ceiling are not in it
    assert "拨付给本单位的款项基本公卫经费县卫生健康委员会（财政一体化系统）40,425.5" in t
    assert "本单位实收合计40,425.53人民币肆万零肆佰贰拾伍元伍角叁分" in t
    assert "发给院长个人的款项直接发给院长本人，不计入本单位实收院长绩效奖励牵头医院15,000.00" in t
    assert "核定的绩效工资总量单位在总量内自主发放绩效工资的上限，不是拨给本单位的款项绩效工资总量200,000.00" in t
    assert "由牵头医院直接发给院长张院长本人" in t


def test_the_head_has_no_hashes_the_footer_block_has_them_and_a_qr_code(q1):
    st_html = q1.html("V01")
    running = re.search(r'<div class="pagefoot">(.*?)</div>', st_html).group(1)  # each page's margin
    assert q1.head["run_id"] in running and q1.head["ledger_sha256"] not in running
    head, foot = text_of(st_html.replace(running, "")).split("一、本期金额", 1)
    assert q1.head["ledger_sha256"] not in head and q1.head["run_id"] not in head
    assert f"台账 SHA-256 {q1.head['ledger_sha256']}" in foot
    (url,) = re.findall(r'<img class="qr" src="(data:image/png;base64,[A-Za-z0-9+/=]+)" alt="核验二维码">', st_html)
    # the QR code holds the run, the ledger hash and the institution
    want = f"p4p 2026Q1/{q1.head['run_id']}\nledger sha256 {q1.head['ledger_sha256']}\ninst V01"
    assert verify_text("2026Q1", q1.head["run_id"], q1.head["ledger_sha256"], "V01", "") == want
    assert url == qr_data_url(want)


def test_old_runs_without_item_declarations_show_one_total(tmp_path):
    """A run archived before ruleset format 2 has no rules/items.yaml: one group, one 合计."""
    rd = run_ok(write_quarter(tmp_path / "in"), tmp_path / "a")
    (rd / "rules" / "items.yaml").unlink()
    assert run_items(rd) is None
    t = page(statements_of(rd), "T01")
    # 15,000.00 + 200,000.00 + 40,425.53 = 255,425.53
    assert "合计255,425.53" in t and "本单位实收合计" not in t


def test_year_to_date_from_the_runs_history(tmp_path):
    """Q2 with Q1's approved ledger in history/: V01 PH_FUND 2,553.19 in each → 5,106.38 so far."""
    a = tmp_path / "a"
    q1_run = run_ok(write_quarter(tmp_path / "q1"), a)
    q2_run = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), a)
    copy = tmp_path / "copy"
    shutil.copytree(q2_run, copy)
    (copy / "history").mkdir(exist_ok=True)
    shutil.copy(q1_run / "ledger.csv", copy / "history" / "2026Q1.ledger.csv")
    ytd = year_to_date(copy, "2026Q2")
    assert ytd.periods == ["2026Q1"]
    t = page(statements_of(copy), "V01")
    assert "二、本年累计" in t
    assert "基本公卫经费2,553.192,553.195,106.38" in t
    # received: Q1 2,553.19 + 3,268.09 = 5,821.28 each quarter → 11,642.56
    assert "本单位实收合计5,821.285,821.2811,642.56" in t


def test_a_later_quarter_is_never_year_to_date(tmp_path):
    a = tmp_path / "a"
    q2_run = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), a)
    copy = tmp_path / "copy"
    shutil.copytree(q2_run, copy)
    (copy / "history").mkdir(exist_ok=True)
    shutil.copy(q2_run / "ledger.csv", copy / "history" / "2026Q2.ledger.csv")
    shutil.copy(q2_run / "ledger.csv", copy / "history" / "2025Q1.ledger.csv")
    assert year_to_date(copy, "2026Q2").periods == []
    assert "本年累计" not in page(statements_of(copy), "V01")


def test_old_summaries_with_warnings_as_sentences_still_render(tmp_path):
    """p4p 0.1 wrote summary.json warnings as plain sentences."""
    from p4p.report.summary_pdf import warning_groups, warnings_of

    groups, others = warning_groups(warnings_of({"warnings": ["乙镇二村卫生室一票否决：违规"]}))
    assert groups == [] and others == [{"kind": "提示", "who": "", "message": "乙镇二村卫生室一票否决：违规"}]


def test_columns_read_top_to_bottom():
    assert columns([1, 2, 3, 4, 5], 3) == [[1, 3, 5], [2, 4, None]]
    assert columns([], 3) == []


def test_the_approval_stamp_is_printed(tmp_path):
    rd = run_ok(write_quarter(tmp_path / "in"), tmp_path / "a")
    st = statements_of(rd, approval="已审批：王会计，2026-04-02（北京时间）")
    t = text_of(st.html("V01"))
    assert t.count("已审批：王会计，2026-04-02（北京时间）") == 2  # the stamp and the status line


# ---- the year end -----------------------------------------------------------------------------

MI = "mi_budget: 10000000.00\nmi_spent: 9000000.00\nalliance_score: 85\n"


@pytest.fixture(scope="module")
def q4(tmp_path_factory) -> Statements:
    """test_q4.py's year: Q1–Q3 the base quarter, approved; in Q4 only T01 reports points.
    T02: annual weighted points 3 × 800 = 2,400 of 15,140 (15.852 %) → entitlement 63,408.19;
    advanced 3 × 34,042.55 = 102,127.65 → −38,719.46, paid back.
    MI: R = 900,000.00; township level 270,000.00 over T01 800,000 × 100% and T02 400,000 × 90%
    (Σ 1,160,000): T01 800,000 / 1,160,000 = 68.966 % → 186,206.90; villages all weight 0 →
    90,000.00 booked on L01 (MI_UNDISTRIBUTED)."""
    from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS

    tmp = tmp_path_factory.mktemp("q4")
    archive = tmp / "archive"
    for n in (1, 2, 3):
        rd = run_ok(write_quarter(tmp / f"q{n}", period=f"2026Q{n}"), archive)
        assert cli("approve", rd, "--by", "财务", "--no-pdf").exit_code == 0
    q4_in = write_quarter(tmp / "q4", period="2026Q4", extra_period=MI,
                          institutions=BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
                          assessment=BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
                          workpoints=[["T01", "EHR", "10000"]], income=BASE_INCOME[1:])  # fmt: skip
    return statements_of(run_ok(q4_in, archive))


def test_the_q4_statement_is_the_annual_statement(q4):
    t = page(q4, "T02")
    assert "年度绩效兑现结算单" in t and "二、全年累计（年度结算）" in t
    assert "基本公卫经费34,042.5534,042.5534,042.55-38,719.4663,408.19" in t  # = the entitlement


def test_a_pay_back_is_said_as_such(q4):
    t = page(q4, "T02")
    for s in (
        "加上前三季度的加权工分2,400，全年加权工分2,400，占全医共体全年合计15,140的15.852%",
        "您全年应得63,408.19元；前三季度已预拨102,127.65元，多拨了38,719.46元，本季度应退回38,719.46元",
    ):
        assert s in t, s


def test_the_surplus_weight_is_explained_by_its_factors(q4):
    t = page(q4, "T01")
    assert "本级各单位按“核定年度绩效工资基数×绩效工资系数”分配：您的核定年度绩效工资基数800,000.00元" in t
    assert "考核得分95分按100%计，权重为800,000.00，占本级合计1,160,000.00的68.966%，分得186,206.90元" in t


def test_the_alliance_items_are_apart_on_the_lead_hospitals_statement(q4):
    t = page(q4, "L01")
    assert "记在医共体名下的款项由医共体统一处理，不拨付给本单位医保结余未分配90,000.00" in t
