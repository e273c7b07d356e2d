"""`p4p rules diff OLD NEW [--input INPUT]`: what differs between two rulesets, in Chinese, and —
given an input — what each institution would be paid under each (a what-if in one step,
computed in memory, nothing written). The example what-if ruleset differs from the reference
in its id, title and two numbers only: the engine holds no policy number."""

import shutil

import pytest
from rules_support import RULES, WHATIF
from test_q4 import approved_year

from p4p.ruleset.diff import ruleset_differences
from p4p.ruleset.load import load_ruleset

from conftest import cli, edit, write_quarter


def test_the_whatif_ruleset_differs_in_two_numbers_only():
    assert ruleset_differences(load_ruleset(RULES), load_ruleset(WHATIF)) == [
        "规则集",
        "  编号：huangshan-2026 → huangshan-2026-whatif",
        "  标题：",
        "    旧：徽州区紧密型县域医共体季度绩效兑现规则（2026）",
        "    新：徽州区紧密型县域医共体季度绩效兑现规则（2026，示例：保底 5 万元、医保结余 5:3:2）",
        "参数 guarantee_annual（村卫生室年保底收入（元））",
        "  2026-01-01 起：48000 → 50000",
        "参数 mi_level_ratio（医保结余留用区、乡、村分配比例）",
        "  2026-01-01 起 county：6 → 5",
        "  2026-01-01 起 village：1 → 2",
    ]


def test_identical_rulesets(tmp_path):
    r = cli("rules", "diff", RULES, RULES)
    assert r.exit_code == 0 and "两个规则集的内容没有差别" in r.stdout


def test_declared_ranges_are_listed_when_they_change(tmp_path):
    """A ruleset's declared min/max takes effect (values outside are refused), so a change of
    it is a change of the ruleset: narrowed, removed."""
    new = tmp_path / "rules"
    shutil.copytree(RULES, new)
    edit(new / "parameters.yaml", "  title: 公卫经费按季预拨比例\n  min: 0\n  max: 1\n",
         "  title: 公卫经费按季预拨比例\n  min: 0\n  max: 0.9\n")  # fmt: skip
    edit(new / "tables.yaml", "  title: 院长绩效奖励倍数 m\n  min: 0\n", "  title: 院长绩效奖励倍数 m\n")
    assert ruleset_differences(load_ruleset(RULES), load_ruleset(new)) == [
        "参数 ph_advance_ratio（公卫经费按季预拨比例）",
        "  上限 max：1 → 0.9",
        "决策表 m（院长绩效奖励倍数 m）",
        "  下限 min：0 → （无）",
    ]


def test_what_if_on_a_quarter(tmp_path):
    """Base quarter (tests/base-quarter.yaml): only V01's top-up changes. Quarterly guarantee
    12,500 instead of 12,000: (12,500 − 6,553.19) × k 0.6 × 1 = 3,568.086 → 3,568.09, 300.00 more.
    Paid out (transfers): bonuses 18,750.00 + PH 80,000.00 + top-ups 3,268.09 = 102,018.09."""
    inp = write_quarter(tmp_path / "in")
    before = sorted(tmp_path.rglob("*"))
    r = cli("rules", "diff", RULES, WHATIF, "--input", inp, "--archive", tmp_path / "archive")
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert "V01 甲镇一村卫生室 VILLAGE_TOPUP 村卫生室保底补助：3,268.09 → 3,568.09（+300.00）" in out
    assert "共 1 行不同" in out
    assert "  VILLAGE_TOPUP 村卫生室保底补助：3,268.09 → 3,568.09（+300.00）" in out
    assert "  PERF_POOL 绩效工资总量：1,515,000.00 → 1,515,000.00（0.00）" in out
    assert "转账合计（要付款的项目）：102,018.09 → 102,318.09（+300.00）" in out
    assert sorted(tmp_path.rglob("*")) == before  # nothing written


@pytest.mark.year
def test_what_if_on_a_q4_reads_the_approved_quarters(tmp_path):
    """Q4 of tests/year-settlement.yaml: retained 900,000.00; 6:3:1 → 540,000 / 270,000 / 90,000,
    5:3:2 → 450,000 / 270,000 / 180,000. County L01 4,000,000 : C01 900,000 → 367,346.938… /
    82,653.061… → 367,346.94 / 82,653.06 (was 440,816.33 / 99,183.67); townships unchanged; the
    village level still has no weight (V02 k 0, V03 vetoed) → MI_UNDISTRIBUTED 180,000.00."""
    archive = tmp_path / "archive"
    q4 = approved_year(tmp_path, archive)
    r = cli("rules", "diff", RULES, WHATIF, "--input", q4, "--archive", archive)
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    assert "C01 县中医院 MI_SURPLUS 医保结余留用：99,183.67 → 82,653.06（-16,530.61）" in out
    assert "L01 县人民医院 MI_SURPLUS 医保结余留用：440,816.33 → 367,346.94（-73,469.39）" in out
    assert "L01 县人民医院 MI_UNDISTRIBUTED 医保结余未分配：90,000.00 → 180,000.00（+90,000.00）" in out
    assert "共 3 行不同" in out
    assert "  MI_SURPLUS 医保结余留用：810,000.00 → 720,000.00（-90,000.00）" in out


def test_a_q4_input_without_approved_quarters_is_refused(tmp_path):
    q4 = write_quarter(
        tmp_path / "q4", period="2026Q4", extra_period="mi_budget: 1.00\nmi_spent: 1.00\nalliance_score: 85\n"
    )
    r = cli("rules", "diff", RULES, WHATIF, "--input", q4, "--archive", tmp_path / "archive")
    assert r.exit_code == 2 and r.stdout == ""
    assert "2026Q1、2026Q2、2026Q3" in r.stderr


def test_rule_texts_table_rows_items_checks_and_dated_values(tmp_path):
    new = tmp_path / "new"
    shutil.copytree(RULES, new, ignore=shutil.ignore_patterns("tests"))
    edit(new / "parameters.yaml", '    - {from: 2026-01-01, value: "48000.00"}',
         '    - {from: 2026-01-01, value: "48000.00"}\n    - {from: 2026-07-01, value: "52000.00"}')  # fmt: skip
    edit(
        new / "rules.yaml",
        "amount: round2(shortfall * k * workload_ratio)",
        "amount: round2(shortfall * workload_ratio)",
    )
    edit(new / "tables.yaml", '{band: [90, null], value: "1.00", label: 90分及以上}',
         '{band: [90, null], value: "1.05", label: 90分及以上}')  # fmt: skip
    edit(new / "items.yaml", "name: 村卫生室保底补助\n", "name: 村卫生室保底补助资金\n")
    edit(new / "checks.yaml", "condition: abs(score - prior_score) > score_move_limit",
         "condition: abs(score - prior_score) >= score_move_limit")  # fmt: skip
    r = cli("rules", "diff", RULES, new)
    assert r.exit_code == 0, r.output
    out = r.stdout.splitlines()
    i = out.index("参数 guarantee_annual（村卫生室年保底收入（元））")
    assert out[i + 1] == "  2026-07-01 起：（无） → 52000"
    i = out.index("项目 VILLAGE_TOPUP（村卫生室保底补助资金）")
    assert out[i + 1] == "  名称：村卫生室保底补助 → 村卫生室保底补助资金"
    i = out.index("决策表 k（绩效工资系数 k）")
    assert (
        out[i + 1]
        == "  第2行：分档 [90, 无上限)；取值 1.00；标签 90分及以上 → 分档 [90, 无上限)；取值 1.05；标签 90分及以上"
    )
    i = out.index("规则 R6（VILLAGE_TOPUP）")
    assert out[i + 1] == "  金额 amount：round2(shortfall * k * workload_ratio) → round2(shortfall * workload_ratio)"
    i = out.index("提示 C4（考核得分与上一季度相比变动很大）")
    assert out[i + 1 : i + 4] == [
        "  条件：",
        "    旧：abs(score - prior_score) > score_move_limit",
        "    新：abs(score - prior_score) >= score_move_limit",
    ]
