"""A ruleset is data a finance officer can change safely: every key is known, every name
resolves, every table is complete, and nothing declared is ignored. Each case here is one
edit a careless or hurried person could make; `rules check` and `run` must refuse it with the
file, line and (where one exists) the nearest valid key."""

import time
from pathlib import Path

import pytest

from p4p.ruleset.errors import RulesetError
from p4p.ruleset.load import load_ruleset

from conftest import RULES, cli, edit, ledger_of, run_ok, write_quarter


def problems(path: Path) -> str:
    with pytest.raises(RulesetError) as e:
        load_ruleset(path)
    return str(e.value)


def test_reference_ruleset_checks_clean():
    r = cli("rules", "check")
    assert r.exit_code == 0 and "检查通过" in r.stdout, r.output
    rs = load_ruleset(RULES)
    assert [x.id for x in rs.rules] == ["R2", "R3", "R4", "R4-Q4", "R5", "R5-D", "R6"]
    assert all(x.cite and all(c.quote for c in x.cite) for x in rs.rules)


def test_a_misspelt_key_is_named_with_its_line_and_the_key_meant(rules_copy, base_quarter, archive):
    """R5's only_if guards the surplus; misspelt, it would book surplus lines in a deficit year."""
    edit(rules_copy / "rules.yaml", "    only_if: mi_budget - mi_spent >= 0", "    onlyif: mi_budget - mi_spent >= 0")
    text = problems(rules_copy)
    line = next(i for i, x in enumerate((rules_copy / "rules.yaml").read_text().splitlines(), 1) if "onlyif" in x)
    assert f"rules.yaml 第{line}行 规则 R5 onlyif：未知的键" in text and "是不是 only_if？" in text
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and "onlyif" in r.stderr and not archive.exists()


def test_a_table_row_whose_condition_key_is_misspelt_is_refused(rules_copy):
    edit(rules_copy / "tables.yaml", '{when: {veto: 1}, value: "0", label: 一票否决}', '{whenq: {veto: 1}, value: "0"}')
    assert "k.rows.0.whenq：未知的键" in problems(rules_copy)


def test_a_row_without_any_condition_would_match_every_score(rules_copy):
    edit(rules_copy / "tables.yaml", '{when: {veto: 1}, value: "0", label: 一票否决}', '{value: "0", label: 一票否决}')
    assert "否则它会匹配所有得分" in problems(rules_copy)


def test_a_duplicate_key_does_not_silently_win(rules_copy):
    with open(rules_copy / "parameters.yaml", "a", encoding="utf-8") as f:
        f.write('guarantee_annual:\n  title: x\n  cite: {source: "000", clause: 一（三）2}\n'
                '  values:\n    - {from: 2026-01-01, value: "96000.00"}\n')  # fmt: skip
    assert "键 guarantee_annual 重复（第" in problems(rules_copy)


def test_empty_citation_text_and_unknown_clause(rules_copy):
    edit(rules_copy / "rules.yaml", 'cite: [{source: "000", clause: 一（三）2}]', 'cite: [{source: "000", clause: ""}]')
    text = problems(rules_copy)
    assert "规则 R6 cite.0.clause：不能为空" in text


def test_a_clause_cited_but_not_quoted_is_refused(rules_copy):
    edit(
        rules_copy / "rules.yaml",
        'cite: [{source: "000", clause: 一（三）2}]',
        'cite: [{source: "000", clause: 一（三）3}]',
    )
    assert "没有摘录条款 一（三）3" in problems(rules_copy)


@pytest.mark.parametrize(
    "old,new,expect",
    [
        ('value: "0.90", label: 80（含）–90分', 'value: "ninety", label: 80（含）–90分', "名称 ninety 没有定义"),
        ('value: "15000.00"', "value: abc", "参数值应为数字"),
        ('value: "0.25"', "value: 1e99999999", "参数值应为数字"),
        ('value: "0.80"', "value: 0x10", "参数值应为数字"),
    ],
)
def test_values_that_are_not_numbers(rules_copy, old, new, expect):
    path = rules_copy / ("tables.yaml" if "label" in old else "parameters.yaml")
    edit(path, old, new)
    assert expect in problems(rules_copy)


def test_huge_or_hostile_formulas_are_refused_quickly_naming_the_rule(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)",
         "amount: round2(perf_base_annual / 4 * k * 1e99999999)")  # fmt: skip
    t = time.perf_counter()
    assert "规则 R2 amount" in problems(rules_copy)
    edit(rules_copy / "rules.yaml", "k * 1e99999999)", "k" + " + 1" * 100_000 + ")")
    assert "规则 R2 amount：公式过长" in problems(rules_copy)
    assert time.perf_counter() - t < 30  # a bound against hanging, not a speed measure


def test_yaml_aliases_are_refused(rules_copy):
    edit(rules_copy / "ruleset.yaml", "title: 徽州区紧密型县域医共体季度绩效兑现规则（2026）",
         "title: &h 徽州区紧密型县域医共体季度绩效兑现规则（2026）\nhuge: [*h, *h]")  # fmt: skip
    assert "不允许使用 YAML 锚点" in problems(rules_copy)


def test_an_option_the_engine_would_ignore_is_an_error(rules_copy):
    edit(
        rules_copy / "rules.yaml",
        "      item: PH_UNDISTRIBUTED\n",
        "      item: PH_UNDISTRIBUTED\n      to: lead_hospital\n",
    )
    assert "undistributed.to：未知的键" in problems(rules_copy)


def test_a_misspelt_placeholder_in_an_explain_text(rules_copy):
    edit(rules_copy / "rules.yaml", "取 {amount:money} 元", "取 {amount:money} 元{director_bonus_cp:money}")
    assert "{director_bonus_cp} 没有定义（是不是 director_bonus_cap？）" in problems(rules_copy)


def test_a_statement_reads_only_declared_names(rules_copy):
    edit(rules_copy / "rules.yaml", "- {label: 本季度收入合计, value: income, format: money}",
         "- {label: 本季度收入合计, value: incom, format: money}")  # fmt: skip
    assert "结算单要显示的 incom 没有定义（是不是 income？）" in problems(rules_copy)


def test_gap_between_bands_is_reported(rules_copy):
    edit(rules_copy / "tables.yaml", '{band: [70, 80], value: "0.80"', '{band: [71, 80], value: "0.80"')
    assert "70 到 71 分之间有缺口" in problems(rules_copy)
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 2 and "缺口" in r.stderr


def test_overlap_is_reported_for_unique_tables(rules_copy):
    path = rules_copy / "tables.yaml"
    head, q = path.read_text(encoding="utf-8").split("\nq:\n")
    q = q.replace('{band: [null, pass_score], value: "0"', '{band: [null, 61], value: "0"')
    path.write_text(head + "\nq:\n" + q, encoding="utf-8")
    assert "q.rows.1：第1行和第2行在 60 分处重叠" in problems(rules_copy)


def test_bands_must_reach_100(rules_copy):
    edit(rules_copy / "tables.yaml", '{band: [95, null], value: "2.0"', '{band: [95, 100], value: "2.0"')
    assert "没有覆盖 100 到 100 分" in problems(rules_copy)


def test_rule_without_citation_and_unknown_names_are_errors(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)", "amount: round2(perf_base / 4 * k)")
    edit(rules_copy / "rules.yaml", 'cite: [{source: "000", clause: 一（三）2}]\n', "cite: []\n")
    text = problems(rules_copy)
    assert "规则 R6 cite：至少需要 1 项" in text


def test_unknown_name_suggests_the_name_meant(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)", "amount: round2(perf_base / 4 * k)")
    assert "名称 perf_base 没有定义（是不是 perf_base_annual？）" in problems(rules_copy)


def test_rule_may_not_use_a_later_item(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)",
         "amount: round2(perf_base_annual / 4 * k + VILLAGE_TOPUP)")  # fmt: skip
    assert "后面规则才计算的项目 VILLAGE_TOPUP" in problems(rules_copy)


def test_declared_but_unused_parameters_and_items_are_errors(rules_copy):
    with open(rules_copy / "parameters.yaml", "a", encoding="utf-8") as f:
        f.write('spare_rate:\n  title: x\n  cite: {source: "000", clause: 一（三）2}\n'
                '  values:\n    - {from: 2026-01-01, value: "0.5"}\n')  # fmt: skip
    assert "参数 spare_rate 没有被任何规则" in problems(rules_copy)


def test_a_q4_only_value_in_a_rule_for_every_quarter(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)",
         "amount: round2(perf_base_annual / 4 * k + mi_budget * 0)")  # fmt: skip
    assert "只在第四季度填写的 mi_budget" in problems(rules_copy)


def test_a_formula_that_forgets_to_round_is_an_error(rules_copy, base_quarter, archive):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)", "amount: perf_base_annual / 3 * k")
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and "round2" in r.stderr and "R2" in r.stderr and not archive.exists()


def test_a_negative_total_at_run_time_names_the_rule_and_period(rules_copy, base_quarter, archive):
    edit(rules_copy / "rules.yaml", "total: round2(ph_annual_budget * ph_quarter_share * ph_advance_ratio)",
         "total: round2(ph_annual_budget * ph_quarter_share * ph_advance_ratio) - 1000000")  # fmt: skip
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and "规则 R4 的可分配总额为负数" in r.stderr and "ph_annual_budget 400000.00" in r.stderr


def test_parameter_change_takes_effect_from_its_date(rules_copy, tmp_path, archive):
    """The guarantee rises to 50,000 from 2027-01-01: 2026 periods keep 48,000.
    V01: income 6,553.19; 2026: (12,000 − 6,553.19) × 0.6 = 3,268.09; 2027: (12,500 − 6,553.19) × 0.6 = 3,568.09.
    R6's title names the parameter, so it follows: 4.8万 in 2026, 5万 in 2027."""
    edit(rules_copy / "parameters.yaml", '    - {from: 2026-01-01, value: "48000.00"}\n',
         '    - {from: 2026-01-01, value: "48000.00"}\n    - {from: 2027-01-01, value: "50000.00"}\n')  # fmt: skip
    q26 = run_ok(write_quarter(tmp_path / "q26", period="2026Q3"), archive, "--rules", rules_copy)
    q27 = run_ok(write_quarter(tmp_path / "q27", period="2027Q1"), archive, "--rules", rules_copy)
    assert ledger_of(q26)[("V01", "VILLAGE_TOPUP")]["amount"] == "3268.09"
    assert ledger_of(q27)[("V01", "VILLAGE_TOPUP")]["amount"] == "3568.09"
    assert "享受4.8万元保底" in (q26 / "trace.jsonl").read_text(encoding="utf-8")
    assert "享受5万元保底" in (q27 / "trace.jsonl").read_text(encoding="utf-8")
