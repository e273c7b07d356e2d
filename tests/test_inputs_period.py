"""period.yaml (SPEC §3, v2): one mapping of known keys, each value read from its text; YAML's
own readings (octal, hex, sexagesimal, last duplicate wins, aliases) never reach the money.
Plus the year check: a budget or alliance that differs from the approved quarters is a warning."""

from decimal import Decimal

import pytest
from strict_helpers import read, refused

from p4p.model.facts import Period
from p4p.read.yearcheck import year_warnings

from conftest import write_quarter

HEAD = "period: 2026Q1\nalliance: 测试医共体\n"


def _with_period(tmp_path, text):
    inp = write_quarter(tmp_path / "in")
    (inp / "period.yaml").write_text(text, encoding="utf-8")
    return inp


REFUSED = {
    # PyYAML would read these as 851,968 / 16 / 90
    "octal": (
        HEAD + "ph_annual_budget: 03200000\n",
        "period.yaml 第3行 键“ph_annual_budget”（值：“03200000”）：金额不能以 0 开头",
    ),
    "hex": (HEAD + "ph_annual_budget: 0x10\n", "（值：“0x10”）：金额不能用十六进制"),
    "sexagesimal": (HEAD + "ph_annual_budget: 1:30\n", "（值：“1:30”）：不是有效的金额"),
    "exponent": (HEAD + "ph_annual_budget: 3.2e6\n", "金额不能用科学计数法"),
    "yaml inf": (HEAD + "ph_annual_budget: .inf\n", "金额不能是 inf 或 nan"),
    "30 digits": (HEAD + "ph_annual_budget: " + "9" * 30 + "\n", "金额过大"),
    "duplicate period files Q1 as Q2": (
        HEAD + "ph_annual_budget: 1.00\nperiod: 2026Q2\n",
        "period.yaml 第4行：键 period 重复（第1行已有）",
    ),
    "duplicate budget through its Chinese label": (
        HEAD + "ph_annual_budget: 1.00\n基本公共卫生服务经费年度预算: 2.00\n",
        "period.yaml 第4行 键“基本公共卫生服务经费年度预算”：键重复：ph_annual_budget（基本公共卫生服务经费年度预算）已在 period.yaml 第3行给出",
    ),
    "full-width period": ("period: ２０２６Q1\nalliance: x\nph_annual_budget: 1\n", "期间应使用半角数字"),
    "year 0000": (
        "period: 0000Q1\nalliance: x\nph_annual_budget: 1\n",
        "（值：“0000Q1”）：期间的年份应在 2000–2099 之间",
    ),
    "year 2100": ("period: 2100Q1\nalliance: x\nph_annual_budget: 1\n", "期间的年份应在 2000–2099 之间"),
    "lower-case q": ("period: 2026q1\nalliance: x\nph_annual_budget: 1\n", "期间应写成 YYYYQn"),
    "quarter 5": ("period: 2026Q5\nalliance: x\nph_annual_budget: 1\n", "期间应写成 YYYYQn"),
    "unknown key": (HEAD + "ph_annual_budget: 1\nbudget: 2\n", "period.yaml 第4行 键“budget”：未知的键"),
    "tag": (HEAD + "ph_annual_budget: !!float 1\n", "period.yaml 第3行：不允许使用 YAML 标签"),
    "anchor and alias": (
        HEAD + "ph_annual_budget: &b 1\nmi_budget: *b\n",
        "period.yaml 第3行：不允许使用 YAML 锚点（&）和别名（*）",
    ),
    "list value": (HEAD + "ph_annual_budget: [1, 2]\n", "period.yaml 第3行 键“ph_annual_budget”：值应为单个数字或文字"),
    "not a mapping": ("- 2026Q1\n", "period.yaml 第1行：应为“键: 值”的形式"),
    "two documents": (HEAD + "ph_annual_budget: 1\n---\nperiod: 2026Q2\n", "period.yaml 第4行：YAML 格式错误"),
    "syntax": (HEAD + "ph_annual_budget: 1\n  x: 2\n", "YAML 格式错误"),
    "empty": ("# nothing\n", "period.yaml：文件是空的"),
    "null budget": (HEAD + "ph_annual_budget: ~\n", "缺少 ph_annual_budget"),
    "negative": (HEAD + "ph_annual_budget: -1.00\n", "金额不能为负数"),
    "alliance id with a slash": (HEAD + "ph_annual_budget: 1\nalliance_id: a/b\n", "医共体编码应为 1–32 位"),
    "alliance id starting with -": (HEAD + "ph_annual_budget: 1\nalliance_id: -x\n", "以字母或数字开头"),
    "alliance on two lines": ("period: 2026Q1\nalliance: |\n  甲\n  乙\nph_annual_budget: 1\n", "不能有换行"),
    "Q4 score 2 decimals": (
        "period: 2026Q4\nalliance: x\nph_annual_budget: 1\nmi_budget: 1\nmi_spent: 1\nalliance_score: 92.55\n",
        "考核得分最多一位小数",
    ),
    "huge file": (HEAD + "ph_annual_budget: 1\n" + "#" * 70_000 + "\n", "文件过大"),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_period_yaml_slips_are_refused(tmp_path, case):
    text, expect = REFUSED[case]
    refused(_with_period(tmp_path, text), tmp_path / "a", expect)


def test_billion_laughs_is_refused_before_anything_is_expanded(tmp_path):
    lol = "a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 9)}]\n" for p, c in zip("abcdefgh", "bcdefghi", strict=True)
    )
    refused(_with_period(tmp_path, lol), tmp_path / "a", "period.yaml 第1行：不允许使用 YAML 锚点（&）和别名（*）")


def test_numbers_are_their_text_quoted_or_not(tmp_path):
    """3952042.10 would be a double 3952042.0999…; quoted or not it is the exact amount."""
    for text in ('"3952042.10"', "3952042.10", "'3,952,042.10'"):
        q = read(_with_period(tmp_path / text.strip("'\""), HEAD + f"ph_annual_budget: {text}\n"))
        assert q.period.ph_annual_budget == Decimal("3952042.10")


def test_chinese_keys_alliance_id_and_its_default(tmp_path):
    q = read(_with_period(tmp_path / "a", "期间: 2026Q1\n医共体: 甲医共体\n基本公共卫生服务经费年度预算: 1.00\n"))
    assert (q.period.period, q.period.alliance, q.period.alliance_id) == ("2026Q1", "甲医共体", "甲医共体")
    q = read(
        _with_period(tmp_path / "b", "period: 2026Q1\nalliance: 甲医共体\nph_annual_budget: 1\n医共体编码: hz-01\n")
    )
    assert q.period.alliance_id == "hz-01"


def test_q4_fields_in_q1_are_a_warning_not_a_silent_reading(tmp_path):
    q = read(_with_period(tmp_path, HEAD + "ph_annual_budget: 1\nmi_budget: 5.00\n"))
    assert q.period.mi_budget is None
    assert q.warnings == ["period.yaml：mi_budget 只在第四季度使用，本季度不读取"]


def _period(period="2026Q1", budget="3200000.00", alliance="甲医共体", alliance_id=""):
    y, qn = int(period[:4]), int(period[-1])
    return Period(period, y, qn, alliance, Decimal(budget), alliance_id=alliance_id)


def test_year_warnings_name_both_values():
    cur = _period("2026Q4", "3300000.00")
    approved = [_period("2026Q2"), _period("2026Q1"), _period("2026Q3", "3300000.00")]
    assert year_warnings(cur, approved) == [
        "基本公共卫生服务经费年度预算与已审批的 2026Q1、2026Q2 不同："
        "本季度 2026Q4 为 3,300,000.00 元，2026Q1、2026Q2 为 3,200,000.00 元"
    ]


def test_year_warnings_for_a_renamed_alliance_and_its_id():
    cur = _period("2026Q2", alliance="乙医共体", alliance_id="hz")
    assert year_warnings(cur, [_period("2026Q1", alliance="甲医共体", alliance_id="hz")]) == [
        "医共体名称与已审批的 2026Q1 不同：本季度 2026Q2 为 “乙医共体”，2026Q1 为 “甲医共体”"
    ]
    assert year_warnings(_period("2026Q2", alliance_id="hz"), [_period("2026Q1")]) == [
        "医共体编码与已审批的 2026Q1 不同：本季度 2026Q2 为 “hz”，2026Q1 为 “甲医共体”"
    ]


def test_year_warnings_none_when_all_agree():
    assert year_warnings(_period("2026Q3"), [_period("2026Q1"), _period("2026Q2")]) == []
    assert year_warnings(_period("2026Q1"), []) == []


def test_an_input_named_for_another_quarter_is_named_in_a_warning(tmp_path):
    """The finding: Q1's folder copied as 2026Q2/ with period.yaml unchanged was computed as
    2026Q1 again without a word (the clerk meant Q2)."""
    q = read(write_quarter(tmp_path / "2026Q2"))
    assert q.period.period == "2026Q1"
    assert q.warnings == [
        "输入“2026Q2”的名称是 2026Q2，但period.yaml 中的期间（period）是 2026Q1；请核对是否复制了上一季度的输入而没有改期间"
    ]
    assert read(write_quarter(tmp_path / "医共体2026Q1")).warnings == []
