"""Payment lists from a ledger (SPEC §9): who pays what, netting only within payer and fund,
receivables, alliance items, the reconciliation.

The base quarter of conftest.py (2026Q1, ph_annual_budget 400,000.00), worked by hand:
- PH_FUND (paid by the health commission): F = round2(400,000 × 0.25 × 0.80) = 80,000.00;
  weighted points w = p × s/100: T01 1000 EHR × 1 × 0.95 = 950; T02 250 HTN × 4 × 0.80 = 800;
  V01 10 ELD × 10 × 0.60 = 60; V02 q(59.9) = 0 → 0; V03 20 TB × 5 × 0.70 = 70 (veto keeps q);
  Σw = 1,880. In fen: T01 8,000,000 × 950/1880 = 4,042,553.191…, T02 3,404,255.319…,
  V01 255,319.148…, V03 297,872.340…; floors leave 1 fen → V03 (.340):
  T01 40,425.53, T02 34,042.55, V01 2,553.19, V03 2,978.73 (sum 80,000.00); V02 0.00.
- DIRECTOR_BONUS (lead hospital → director): T01 800,000/4/10 × m(95)=2.0 = 40,000 → cap
  15,000.00 to 张院长; T02 400,000/4/40 × m(80)=1.5 = 3,750.00 to 李院长.
- VILLAGE_TOPUP (alliance): V01 G 12,000 − I (4 × 1,000 + 2,553.19) = 5,446.81 × k(60) 0.6 ×
  a = min(1, 500/400) = 1 → 3,268.086 → 3,268.09; V03 vetoed → 0.00.
- PERF_POOL (ceiling, in no list): L01 1,000,000 + C01 225,000 + T01 200,000 + T02 90,000
  = 1,515,000.00.
Transfers: 80,000.00 + 18,750.00 + 3,268.09 = 102,018.09 in 7 payments; zero lines V02 PH_FUND
and V03 VILLAGE_TOPUP.
"""

from __future__ import annotations

from decimal import Decimal

import pytest

from p4p.engine.ledger import parse_ledger
from p4p.engine.trace import read_directors, read_trace
from p4p.model.problems import InputError
from p4p.pay.items import ItemPayment
from p4p.pay.lists import build_lists, directors_from_trace, named_directors, period_label
from p4p.pay.reconcile import ReconcileError, reconcile
from p4p.pay.rows import PaymentLists

from conftest import DATA, run_ok
from pay_support import ACCOUNTS, ALLIANCE, DIRECTORS, decls, ledger, line


def summary(rows) -> list[tuple[str, str, str, str, str]]:
    return [(r.payer, r.payee_id, r.payee_kind, r.payee_name, f"{r.amount}") for r in rows]


def q1_lists(**kw) -> PaymentLists:
    return build_lists(ledger("2026Q1"), decls(), alliance=ALLIANCE, directors=DIRECTORS, **kw)


def test_reference_declarations_say_who_pays_what():
    d = decls()
    assert set(d) == {
        "DIRECTOR_BONUS",
        "VILLAGE_TOPUP",
        "MI_SURPLUS",
        "PH_FUND",
        "PERF_POOL",
        "PH_UNDISTRIBUTED",
        "MI_UNDISTRIBUTED",
        "MI_DEFICIT",
    }
    assert d["DIRECTOR_BONUS"] == ItemPayment(
        "DIRECTOR_BONUS",
        "院长绩效奖励",
        "transfer",
        "lead_hospital",
        "牵头医院",
        "院长绩效奖励",
        "director",
    )
    assert (d["PH_FUND"].payer, d["PH_FUND"].payer_name) == ("health_commission", "县卫生健康委员会（财政一体化系统）")
    assert d["PERF_POOL"].role == "ceiling" and d["PERF_POOL"].payer is None
    assert {k for k, v in d.items() if v.role == "alliance"} == {"PH_UNDISTRIBUTED", "MI_UNDISTRIBUTED", "MI_DEFICIT"}


def test_the_fixture_ledger_is_what_p4p_run_writes(base_quarter, archive):
    """The Q1 fixture is the real engine's ledger of conftest's base quarter, and the lists
    built from a real run (directors from its trace) are those of the fixture."""
    run = run_ok(base_quarter, archive)
    real = parse_ledger((run / "ledger.csv").read_bytes())
    assert real == ledger("2026Q1")
    directors = directors_from_trace(read_trace((run / "trace.jsonl").read_bytes()))
    assert directors == DIRECTORS
    assert named_directors(read_directors((run / "trace.jsonl").read_bytes())) == DIRECTORS  # what approval reads
    assert build_lists(real, decls(), alliance=ALLIANCE, directors=directors) == q1_lists()


def test_a_quarters_payment_lists():
    lists = q1_lists()
    assert summary(lists.payments) == [
        ("alliance", "V01", "institution", "甲镇一村卫生室", "3268.09"),
        ("health_commission", "T01", "institution", "甲镇卫生院", "40425.53"),
        ("health_commission", "T02", "institution", "乙镇卫生院", "34042.55"),
        ("health_commission", "V01", "institution", "甲镇一村卫生室", "2553.19"),
        ("health_commission", "V03", "institution", "乙镇二村卫生室", "2978.73"),
        ("lead_hospital", "T01", "director", "张院长", "15000.00"),
        ("lead_hospital", "T02", "director", "李院长", "3750.00"),
    ]
    assert lists.receivables == () and lists.alliance_items == () and lists.netted_to_zero == ()
    ph = lists.payments[1]
    assert (ph.fund, ph.purpose, ph.items, ph.sources) == (
        "基本公共卫生服务补助资金",
        "2026年第一季度 基本公卫经费",
        ("PH_FUND",),
        (("T01", "PH_FUND"),),
    )
    assert lists.groups() == [
        ("alliance", "医共体", "村卫生室保底补助"),
        ("health_commission", "县卫生健康委员会（财政一体化系统）", "基本公共卫生服务补助资金"),
        ("lead_hospital", "牵头医院", "院长绩效奖励"),
    ]


def test_the_director_is_paid_personally_by_the_lead_hospital_besides_the_institution():
    """T01 gets two rows: the township (PH_FUND from the health commission) and its director
    张院长 (DIRECTOR_BONUS from the lead hospital) — two payees, never netted together."""
    t01 = [r for r in q1_lists().payments if r.payee_id == "T01"]
    assert [(r.payer_name, r.payee_kind, r.payee_name, r.amount) for r in t01] == [
        ("县卫生健康委员会（财政一体化系统）", "institution", "甲镇卫生院", Decimal("40425.53")),
        ("牵头医院", "director", "张院长", Decimal("15000.00")),
    ]


def test_the_reconciliation_accounts_for_every_transfer_line():
    text = reconcile(ledger("2026Q1"), decls(), q1_lists())
    assert text.splitlines() == [
        "发放核对（测试医共体 2026年第一季度）",
        "台账转付项目：非零 7 行，合计 102,018.09 元 = 发放名单 7 笔 102,018.09 元 + 应收回 0 笔 0.00 元 —— 相符",
        "  医共体 · 村卫生室保底补助：台账 3,268.09 元 = 发放 3,268.09 元 + 应收回 0.00 元 —— 相符",
        "  县卫生健康委员会（财政一体化系统） · 基本公共卫生服务补助资金：台账 80,000.00 元"
        " = 发放 80,000.00 元 + 应收回 0.00 元 —— 相符",
        "  牵头医院 · 院长绩效奖励：台账 18,750.00 元 = 发放 18,750.00 元 + 应收回 0.00 元 —— 相符",
        "医共体项目：0 行，合计 0.00 元 = 医共体项目清单 0 行 —— 相符",
        "核定额度（单位自行发放，不列入清单）：绩效工资总量 4 行，合计 1,515,000.00 元",
        "金额为 0.00 的 2 行不列入任何清单",
    ]


def test_year_end_claw_backs_are_receivables_and_alliance_items_are_listed():
    """Q4 (test_q4.py's year): PH_FUND T02 −38,719.46, V01 −2,903.96, V03 −3,387.97 are
    receivables of the health commission (45,011.39 to recover), T01 +205,011.39 a payment;
    the health commission's net is 205,011.39 − 45,011.39 = 160,000.00 = the ledger's PH_FUND
    total. MI_UNDISTRIBUTED 90,000.00 on L01 is an alliance item. Payments: 4 MI_SURPLUS
    (810,000.00), T01 PH_FUND, 2 director bonuses (18,750.00): 1,033,761.39."""
    led = ledger("2026Q4")
    lists = build_lists(led, decls(), alliance=ALLIANCE, directors=DIRECTORS)
    assert summary(lists.receivables) == [
        ("health_commission", "T02", "institution", "乙镇卫生院", "-38719.46"),
        ("health_commission", "V01", "institution", "甲镇一村卫生室", "-2903.96"),
        ("health_commission", "V03", "institution", "乙镇二村卫生室", "-3387.97"),
    ]
    assert lists.receivables[0].purpose == "2026年第四季度 基本公卫经费 应收回"
    assert summary(lists.alliance_items) == [("", "L01", "institution", "县人民医院", "90000.00")]
    assert lists.alliance_items[0].purpose == "2026年第四季度 医保结余未分配"
    assert sum(r.amount for r in lists.payments) == Decimal("1033761.39")
    text = reconcile(led, decls(), lists)
    assert (
        "台账转付项目：非零 10 行，合计 988,750.00 元 = 发放名单 7 笔 1,033,761.39 元 + 应收回 3 笔 -45,011.39 元"
        in text
    )
    assert "台账 160,000.00 元 = 发放 205,011.39 元 + 应收回 -45,011.39 元 —— 相符" in text
    assert "医共体项目：1 行，合计 90,000.00 元 = 医共体项目清单 1 行 —— 相符" in text


def test_netting_happens_only_within_one_payer_and_fund():
    """A village's PH_FUND claw-back of −300.00 (health commission) is not offset against its
    VILLAGE_TOPUP of 1,200.00 (alliance): one payment of 1,200.00 and one receivable of
    −300.00, not a payment of 900.00."""
    led = [line("V09", "PH_FUND", "-300.00"), line("V09", "VILLAGE_TOPUP", "1200.00")]
    lists = build_lists(led, decls(), alliance=ALLIANCE, directors={})
    assert summary(lists.payments) == [("alliance", "V09", "institution", "V09名称", "1200.00")]
    assert summary(lists.receivables) == [("health_commission", "V09", "institution", "V09名称", "-300.00")]


SHARED_FUND = {
    code: ItemPayment(code, name, "transfer", "alliance", "医共体", "共同资金", "institution")
    for code, name in (("TOPUP_A", "甲补助"), ("TOPUP_B", "乙补助"))
}


def test_lines_of_one_payer_and_fund_are_netted_per_payee():
    """Two items from the same payer and fund: V01 +500.00 − 200.00 = one payment of 300.00
    naming both items; V02 +200.00 − 200.00 nets to 0.00 — in no list, named by the
    reconciliation; V03 −50.00 + 20.00 = a receivable of −30.00."""
    d = SHARED_FUND
    led = [
        line("V01", "TOPUP_A", "500.00"),
        line("V01", "TOPUP_B", "-200.00"),
        line("V02", "TOPUP_A", "200.00"),
        line("V02", "TOPUP_B", "-200.00"),
        line("V03", "TOPUP_A", "-50.00"),
        line("V03", "TOPUP_B", "20.00"),
    ]
    lists = build_lists(led, d, alliance=ALLIANCE, directors={})
    assert summary(lists.payments) == [("alliance", "V01", "institution", "V01名称", "300.00")]
    assert lists.payments[0].items == ("TOPUP_A", "TOPUP_B")
    assert lists.payments[0].purpose == "2026年第四季度 甲补助、乙补助"
    assert summary(lists.receivables) == [("alliance", "V03", "institution", "V03名称", "-30.00")]
    assert [r.payee_id for r in lists.netted_to_zero] == ["V02"]
    text = reconcile(led, d, lists)
    assert "台账 270.00 元 = 发放 300.00 元 + 应收回 -30.00 元 —— 相符" in text
    assert "同一付款方与资金内相抵为 0.00、不列入清单：V02名称（V02）" in text


def test_accounts_fill_the_rows_and_lists_are_deterministic():
    a = q1_lists(accounts=ACCOUNTS)
    b = q1_lists(accounts=dict(reversed(list(ACCOUNTS.items()))))
    assert a == b
    row = next(r for r in a.payments if r.payee_key == ("T02", "director"))
    assert (row.account_name, row.account_no, row.bank) == ("李院长", "12345678905", "建行歙县支行")
    shuffled = list(reversed(ledger("2026Q1")))
    assert build_lists(shuffled, decls(), alliance=ALLIANCE, directors=DIRECTORS, accounts=ACCOUNTS) == a


def test_an_undeclared_item_is_refused_and_a_nameless_director_is_listed_with_a_warning():
    """The director column is optional in the run's input: a bonus paid to a director without a
    name is listed under the township's name, marked, and warned about — the payees file's
    account then says who is paid."""
    led = [line("T09", "NEW_BONUS", "10.00"), line("T09", "DIRECTOR_BONUS", "100.00")]
    with pytest.raises(InputError) as e:
        build_lists(led, decls(), alliance=ALLIANCE, directors={})
    assert [p.text() for p in e.value.problems] == [
        "ledger.csv 列“item”（值：“NEW_BONUS”）：规则集没有声明该项目的发放方式（转付/核定额度/医共体项目）"
    ]
    lists = build_lists(led[1:], decls(), alliance=ALLIANCE, directors={"T09": "（未填写）"})
    assert summary(lists.payments) == [("lead_hospital", "T09", "director", "T09名称院长（姓名未填写）", "100.00")]
    assert [p.text() for p in lists.warnings] == [
        "ledger.csv 第2行 列“inst_id”（值：“T09”）：院长绩效奖励发放给院长个人，但机构表没有填写院长姓名（T09名称）："
        "清单中记为“T09名称院长（姓名未填写）”，发放前请核对收款账户的户名"
    ]


def test_a_zero_director_bonus_needs_no_name_and_a_malformed_amount_is_named():
    assert build_lists([line("T09", "DIRECTOR_BONUS", "0.00")], decls(), alliance=ALLIANCE, directors={}).payments == ()
    with pytest.raises(InputError) as e:
        build_lists([line("T09", "PH_FUND", "1.5")], decls(), alliance=ALLIANCE, directors={})
    assert e.value.problems[0].text() == "ledger.csv 第2行 列“amount”（值：“1.5”）：金额应为两位小数（如 1234.50）"


def test_two_periods_in_one_ledger_are_refused():
    led = [line("V01", "PH_FUND", "1.00", period="2026Q1"), line("V02", "PH_FUND", "1.00", period="2026Q2")]
    with pytest.raises(InputError, match="应为同一个期间"):
        build_lists(led, decls(), alliance=ALLIANCE, directors={})


def test_reconciliation_catches_a_line_dropped_or_doubled():
    led = ledger("2026Q1")
    lists = q1_lists()
    dropped = PaymentLists(lists.period, lists.alliance, lists.payments[1:], (), ())
    with pytest.raises(ReconcileError) as e:
        reconcile(led, decls(), dropped)
    assert "台账行 V01 VILLAGE_TOPUP 不在发放名单/应收回清单中" in str(e.value)
    assert "医共体 · 村卫生室保底补助：台账 3,268.09 ≠ 清单" in str(e.value)
    doubled = PaymentLists(lists.period, lists.alliance, (*lists.payments, lists.payments[0]), (), ())
    with pytest.raises(ReconcileError, match="台账行 V01 VILLAGE_TOPUP 在发放名单/应收回清单中出现 2 次"):
        reconcile(led, decls(), doubled)


def test_period_labels():
    assert [period_label(f"2026Q{n}") for n in (1, 4)] == ["2026年第一季度", "2026年第四季度"]


def test_directors_read_without_the_explanations_are_those_of_the_whole_trace():
    """Approval reads only the directors from a trace (a province's explanations would cost
    more than the approval): the same names as reading every line, in both trace formats."""
    traces = sorted((DATA / "archive-v1" / "archive").glob("*/*/trace.jsonl"))
    assert traces  # format 1, archived by p4p 0.2
    for path in traces:
        data = path.read_bytes()
        assert named_directors(read_directors(data)) == directors_from_trace(read_trace(data))
