"""summary.pdf's content (its HTML): totals by kind of money, every institution's row, charts one
row per township, plausibility warnings grouped by check.

Base alliance with V01 reporting ELD 10,000 (100,000 points for 1,000 residents) and T01 EHR
401,000 (for 10,000 residents): check C1 (more than 30 points per resident) fires for both.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from test_report_statement import flat, text_of

from p4p.engine.trace import read_trace
from p4p.report.charts import _ticks, grouped_counts, stacked_bars, strip_rows
from p4p.report.pdf import _env, _head
from p4p.report.summary_pdf import _band, band_labels, score_bands, summary_context, warning_groups

from conftest import BASE_WORKPOINTS, run_ok, write_quarter


@pytest.fixture(scope="module")
def ctx(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sum")
    wp = [r if r[0] != "V01" else ["V01", "ELD", "10000"] for r in BASE_WORKPOINTS] + [["T01", "EHR", "400000"]]
    rd = run_ok(write_quarter(tmp / "in", workpoints=wp), tmp / "archive")
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    s = json.loads((rd / "summary.json").read_text(encoding="utf-8"))
    return summary_context(rd, read_trace((rd / "trace.jsonl").read_bytes()), s, _head(m["run_id"], m, None, None))


@pytest.fixture(scope="module")
def page(ctx):
    return flat(text_of(_env().get_template("summary.html").render(**ctx, qr="data:,")))


def test_warnings_grouped_by_check_with_institution_and_message(ctx, page):
    (c1,) = ctx["check_groups"]
    assert c1["check_id"] == "C1" and c1["cite"] == "《徽州区实施方案》二（二）（4）"
    assert [r["who"] for r in c1["rows"]] == ["甲镇卫生院（T01）", "甲镇一村卫生室（V01）"]
    assert "六、需要核实的数据（2条，不影响金额）" in page
    assert "C1公卫工分与服务人口明显不符（2条）" in page
    assert "甲镇一村卫生室（V01）本季度公卫工分100,000分，服务人口1,000人，人均超过30分，请核实工分数据" in page
    assert "一票否决乙镇二村卫生室（V03）一票否决：违规" in page  # the other warnings, by kind


def test_every_institution_has_a_row_township_then_its_villages(ctx):
    rows = ctx["table"]["rows"]
    assert [r["inst_id"] for r in rows] == ["L01", "C01", "T01", "V01", "T02", "V02", "V03"]
    assert [r["inst_id"] for r in rows if r["town"]] == ["T01", "T02"]
    assert ctx["table"]["heads"][-1] == "绩效工资总量" and ctx["table"]["received_head"] == "本单位实收"


def test_totals_per_kind_of_money_never_one_sum_of_ceilings_and_payments(ctx, page):
    titles = [g["title"] for g in ctx["item_groups"]]
    assert titles == ["拨付给各单位的款项", "发给院长个人的款项", "核定的绩效工资总量"]
    assert "院长个人合计18,750.000.0018,750.000.00" in page
    assert "核定总量合计1,515,000.001,225,000.00290,000.000.00" in page


def test_charts_have_one_row_per_township(ctx):
    assert ctx["towns_svg"].count("<rect") == 2 * 2  # two townships × (centre, villages)
    assert len(re.findall(r"<circle", ctx["villages_svg"])) == 3  # V01, V02, V03
    assert "甲镇卫生院" in ctx["villages_svg"] and "乙镇卫生院" in ctx["villages_svg"]


def test_chart_helpers_on_their_own():
    from decimal import Decimal as D

    assert _ticks(D("681137.26")) == [0, 200000, 400000, 600000, 800000]
    assert _ticks(D(0)) == [0]
    svg = stacked_bars([("甲", [D(1), D(2)]), ("<乙>", [D(0), D(5)])], ["#000", "#111"])
    assert "&lt;乙&gt;" in svg and "<乙>" not in svg  # names are escaped
    assert "（无数据）" in stacked_bars([], [])
    assert strip_rows([]).startswith("<p")
    assert grouped_counts(["a", "b"], [("县级", "#000", [0, 3])]).count("<rect") == 2


def test_warning_groups_order_and_others():
    ws = [{"kind": "check", "check_id": "C2", "title": "t2", "inst_id": "A", "inst_name": "甲", "message": "m"},
          {"kind": "check", "check_id": "C1", "title": "t1", "message": "m1"},
          {"kind": "input", "message": "输入提示"}]  # fmt: skip
    groups, others = warning_groups(ws)
    assert [g["check_id"] for g in groups] == ["C1", "C2"]
    assert others == [{"kind": "输入", "who": "", "message": "输入提示"}]


def test_a_province_sized_alliance_is_cut_with_a_note(monkeypatch, tmp_path):
    """With room for 3 rows and 1 township, the 7 institutions and 2 townships say where the rest is."""
    import p4p.report.summary_pdf as sp

    monkeypatch.setattr(sp, "MAX_TABLE_ROWS", 3)
    monkeypatch.setattr(sp, "MAX_CHART_ROWS", 1)
    run = run_ok(write_quarter(tmp_path / "in"), tmp_path / "a")
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    s = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    c = summary_context(run, read_trace((run / "trace.jsonl").read_bytes()), s, _head(m["run_id"], m, None, None))
    assert [r["inst_id"] for r in c["table"]["rows"]] == ["L01", "C01", "T01"]
    assert c["table"]["note"] == "共 7 个机构，这里列出前 3 个；全部机构见 ledger.xlsx 的“按机构”工作表。"
    assert c["towns_note"] == "共 2 个乡镇，图中是编码排在前面的 1 个。"
    assert c["towns_svg"].count("<rect") == 2


def test_score_bands_follow_the_rulesets_pass_score():
    """The score chart's bands start at the pass score the trace carries (60 in huangshan-2026),
    ten points each; a county with a pass score of 65 gets 65-based bands, not 60's."""
    e = score_bands(Decimal(60))
    assert band_labels(e, Decimal(60)) == ["60分以下", "60–70分", "70–80分", "80–90分", "90分及以上"]
    assert [_band(Decimal(s), e) for s in ("59.9", "60", "89.9", "100")] == [0, 1, 3, 4]
    assert band_labels(score_bands(Decimal(65)), Decimal(65)) == [
        "65分以下",
        "65–75分",
        "75–85分",
        "85–95分",
        "95分及以上",
    ]
    assert band_labels(score_bands(None), None)[0] == "0–10分"
