"""Ruleset and period.yaml edits that used to slip through or end in an internal error: a
parameter that starts after the ruleset, negative weights and coefficients, numbers in
full-width or Arabic-Indic digits or with spaces, YAML syntax errors explained in English
only, and the `!!str` tag. Each is refused with exit 2 and a Chinese message naming the place."""

import shutil
from pathlib import Path

import pytest
from strict_helpers import check_refused, refused

from p4p.model.yamldoc import YamlError, load
from p4p.ruleset.errors import RulesetError
from p4p.ruleset.load import load_ruleset

from conftest import RULES, cli, edit, write_quarter


def line_of(path: Path, text: str) -> int:
    return next(i for i, x in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if text in x)


def problems(path: Path) -> str:
    with pytest.raises(RulesetError) as e:
        load_ruleset(path)
    return str(e.value)


# ---- 1. a parameter whose first value starts after the ruleset ----------------------------------


def test_a_parameter_starting_after_the_ruleset_is_refused_by_check_and_run(rules_copy, base_quarter, archive):
    params = rules_copy / "parameters.yaml"
    edit(params, '- {from: 2026-01-01, value: "0.80"}', '- {from: 2026-02-01, value: "0.80"}')
    line = line_of(params, "from: 2026-02-01")
    expect = (
        f"parameters.yaml 第{line}行 ph_advance_ratio.values.0.from：参数 ph_advance_ratio 最早的取值从 2026-02-01 起生效，"
        "晚于规则集的生效日期 2026-01-01（ruleset.yaml 第8行 in_force_from）：2026-01-01 至 2026-01-31 之间开始的季度没有取值"
    )
    check_refused(rules_copy, expect)
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and expect in r.stderr and "内部错误" not in r.output and not archive.exists()


def test_a_table_version_starting_after_the_ruleset_is_refused(rules_copy):
    edit(rules_copy / "tables.yaml", "  hit_policy: first\n  rows:\n    - {when: {veto: 1}, value: \"0\", label: 一票否决}",
         "  versions:\n  - from: 2026-04-01\n    hit_policy: first\n    rows:\n    - {when: {veto: 1}, value: \"0\", label: 一票否决}")  # fmt: skip
    assert "k.versions.0.from：决策表 k 最早的取值从 2026-04-01 起生效，晚于规则集的生效日期 2026-01-01" in problems(
        rules_copy
    )


def test_a_period_before_the_ruleset_is_refused_not_an_internal_error(tmp_path, archive):
    inp = write_quarter(tmp_path / "in", period="2025Q3")
    refused(
        inp,
        archive,
        "ruleset.yaml in_force_from：规则集 huangshan-2026 自 2026-01-01 起生效，不适用于 2025-07-01 开始的季度",
    )


# ---- 2. weights and coefficients --------------------------------------------------------------


def test_a_negative_level_ratio_is_refused_naming_parameter_and_value(rules_copy):
    params = rules_copy / "parameters.yaml"
    edit(params, "village: 1}", "village: -1}")
    check_refused(
        rules_copy,
        f"parameters.yaml 第{line_of(params, 'village: -1')}行 mi_level_ratio.values.0.value.village："
        "层级比例不能为负数：village = -1（参数 mi_level_ratio 用作分配权重，2026-01-01 起的取值）",
    )


def test_a_level_ratio_of_all_zeros_is_refused(rules_copy):
    edit(rules_copy / "parameters.yaml", "{county: 6, township: 3, village: 1}", "{county: 0, township: 0, village: 0}")
    assert "mi_level_ratio.values.0.value：层级比例不能全为 0（参数 mi_level_ratio，2026-01-01 起的取值）" in problems(
        rules_copy
    )


def test_negative_work_points_are_refused(rules_copy):
    edit(rules_copy / "parameters.yaml", "HTN: {value: 4,", "HTN: {value: -4,")
    assert "ph_points.values.0.value.HTN：工分值不能为负数：HTN = -4" in problems(rules_copy)


def test_a_declared_minimum_refuses_a_negative_pay_coefficient(rules_copy):
    """The shipped ruleset declares `min: 0` on k (tables.yaml)."""
    tables = rules_copy / "tables.yaml"
    assert "  title: 绩效工资系数 k\n  min: 0\n" in tables.read_text(encoding="utf-8")
    edit(tables, 'value: "0.90", label: 80', 'value: "-0.90", label: 80')
    assert (
        f"tables.yaml 第{line_of(tables, '-0.90')}行 k.rows.2.value：第3行的取值 -0.9（考核得分 80 分时）超出声明的下限 min: 0"
        in problems(rules_copy)
    )


def test_a_declared_range_is_checked_for_every_score_of_a_formula_row(rules_copy):
    edit(rules_copy / "tables.yaml", "  title: 公卫工分质量系数 q（一票否决不影响 q）\n  min: 0\n  max: 1\n",
         "  title: 公卫工分质量系数 q（一票否决不影响 q）\n  min: 0\n  max: 0.95\n")  # fmt: skip
    assert "q.rows.0.value：第1行的取值 0.951（考核得分 95.1 分时）超出声明的上限 max: 0.95" in problems(rules_copy)


def test_a_declared_parameter_range(rules_copy):
    """The shipped ruleset declares ph_advance_ratio within [0, 1] (parameters.yaml)."""
    params = rules_copy / "parameters.yaml"
    assert "  title: 公卫经费按季预拨比例\n  min: 0\n  max: 1\n" in params.read_text(encoding="utf-8")
    edit(params, 'value: "0.80"}', 'value: "1.80"}')
    assert "ph_advance_ratio.values.0.value：取值 1.8 大于声明的上限 max: 1" in problems(rules_copy)


# ---- 3. numbers as the inputs write them -------------------------------------------------------


@pytest.mark.parametrize(
    "file,old,new,expect",
    [
        (
            "parameters.yaml",
            '"0.80"}',
            '"０.８０"}',
            "ph_advance_ratio.values.0.value：参数值格式错误：数字应使用半角数字 0–9",
        ),
        (
            "parameters.yaml",
            '"0.80"}',
            '"٠.٨٠"}',
            "ph_advance_ratio.values.0.value：参数值格式错误：数字应使用半角数字 0–9",
        ),
        (
            "parameters.yaml",
            '"0.80"}',
            '" 0.80"}',
            "ph_advance_ratio.values.0.value：参数值格式错误：数字前后不能有空格",
        ),
        (
            "parameters.yaml",
            '"0.80"}',
            '"0.80 "}',
            "ph_advance_ratio.values.0.value：参数值格式错误：数字前后不能有空格",
        ),
        (
            "parameters.yaml",
            "township: 3,",
            'township: "３",',
            "mi_level_ratio.values.0.value.township：格式错误：数字应使用半角数字",
        ),
        (
            "parameters.yaml",
            "HTN: {value: 4,",
            'HTN: {value: "4 ",',
            "ph_points.values.0.value.HTN：数字前后不能有空格",
        ),
        ("tables.yaml", "band: [95, null]", 'band: ["９５", null]', "m.rows.1.band.0：分档边界数字应使用半角数字"),
        (
            "tables.yaml",
            'value: "0.90", label: 80',
            'value: "０.９０", label: 80',
            "k.rows.2.value：公式只能使用半角字符",
        ),
        (
            "rules.yaml",
            "amount: round2(perf_base_annual / 4 * k)",
            "amount: round2(perf_base_annual / 4 * ｋ)",
            "规则 R2 amount：公式只能使用半角字符",
        ),
        (
            "parameters.yaml",
            '{from: 2026-01-01, value: "0.80"}',
            '{from: "2026-01-0１", value: "0.80"}',
            "ph_advance_ratio.values.0.from：应为日期 YYYY-MM-DD",
        ),
    ],
)
def test_numbers_must_be_ascii_without_spaces(rules_copy, file, old, new, expect):
    edit(rules_copy / file, old, new)
    check_refused(rules_copy, expect)


def test_a_score_condition_in_full_width_digits_is_refused(rules_copy):
    edit(rules_copy / "tables.yaml", "- {when: {veto: 1}, value: \"0\", label: 一票否决}\n    - {band: [95",
         "- {when: {veto: 1, score: {\">=\": \"０\"}}, value: \"0\", label: 一票否决}\n    - {band: [95")  # fmt: skip
    assert "数字应使用半角数字 0–9" in problems(rules_copy)


def test_expected_amounts_in_test_cases_must_be_ascii(tmp_path):
    rules = tmp_path / "rules"
    shutil.copytree(RULES, rules)
    edit(rules / "tests" / "veto.yaml", "[L01, PERF_POOL, 1000000.00, 1]", '[L01, PERF_POOL, " 1000000.00", "１"]')
    r = cli("rules", "test", rules)
    assert r.exit_code == 2, r.output
    assert "金额格式错误：数字前后不能有空格" in r.stderr and "数量格式错误：数字应使用半角数字" in r.stderr


# ---- 4. YAML syntax errors in Chinese -----------------------------------------------------------

HEAD = "period: 2026Q1\nalliance: 测试医共体\n"


@pytest.mark.parametrize(
    "text,expect",
    [
        (
            'period: "2026Q1\nalliance: x\n',
            "YAML 格式错误（第3行第1列）：文件在此意外结束：可能有引号或括号没有闭合（引号从这里开始：第1行第9列）",
        ),
        (HEAD + "ph_annual_budget: 1: 2\n", "YAML 格式错误（第3行第20列）：此处不能出现“键: 值”"),
        (HEAD + "ph_annual_budget: 1\n\tmi_budget: 2\n", "YAML 格式错误（第4行第1列）：缩进中使用了制表符（Tab）"),
        (HEAD + "ph_annual_budget: 1\n---\nperiod: 2026Q2\n", "YAML 格式错误（第4行第1列）：文件只能有一个文档"),
        (HEAD + "ph_annual_budget: [1, 2\n", "方括号列表 [ ] 没有正确结束：缺少逗号“,”或右方括号“]”"),
        (HEAD + "ph_annual_budget: {a: 1\n", "花括号映射 { } 没有正确结束"),
        (HEAD + "ph_annual_budget: 1\n  x: 2\n", "YAML 格式错误（第4行第4列）"),
        (HEAD + "ph_annual_budget: @1\n", "不能作为值的开头：这样的文字请加引号"),
        (HEAD + "ph_annual_budget: 1\nx\n", "缺少冒号"),
    ],
)
def test_yaml_syntax_errors_are_explained_in_chinese(tmp_path, archive, text, expect):
    inp = write_quarter(tmp_path / "in")
    (inp / "period.yaml").write_text(text, encoding="utf-8")
    err = refused(inp, archive, "period.yaml 第", expect)
    for english in ("found", "expected", "allowed", "stream", "while "):
        assert english not in err


def test_an_unknown_yaml_problem_still_names_line_and_column_in_chinese():
    with pytest.raises(YamlError) as e:
        load("a: 1\n%FOO\n")
    ((line, msg),) = e.value.problems
    assert line is not None and msg.startswith(f"YAML 格式错误（第{line}行第")


def test_a_yaml_syntax_error_in_a_ruleset_is_explained_in_chinese(rules_copy):
    edit(rules_copy / "ruleset.yaml", "id: huangshan-2026", 'id: "huangshan-2026')
    err = check_refused(rules_copy, "ruleset.yaml 第", "YAML 格式错误（第")
    assert "found" not in err


# ---- 5. YAML tags ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "extra,expect",
    [
        ("ph_annual_budget: !!str 1261290.00\n", "period.yaml 第3行：不允许使用 YAML 标签（!!str）"),
        ("ph_annual_budget: 1\nalliance_id: !!str 0001\n", "period.yaml 第4行：不允许使用 YAML 标签（!!str）"),
        ("ph_annual_budget: ! 1\n", "period.yaml 第3行：不允许使用 YAML 标签（!）"),
        ("ph_annual_budget: !<tag:x> 1\n", "period.yaml 第3行：不允许使用 YAML 标签（!<tag:x>）"),
    ],
)
def test_every_yaml_tag_is_refused_in_period_yaml(tmp_path, archive, extra, expect):
    inp = write_quarter(tmp_path / "in")
    (inp / "period.yaml").write_text(HEAD + extra, encoding="utf-8")
    refused(inp, archive, expect)


def test_a_str_tag_is_refused_in_a_ruleset(rules_copy):
    params = rules_copy / "parameters.yaml"
    edit(params, 'value: "0.80"}', "value: !!str 0.80}")
    check_refused(rules_copy, f"parameters.yaml 第{line_of(params, '!!str')}行：不允许使用 YAML 标签（!!str）")


@pytest.mark.parametrize(
    "old,new,where",
    [
        ('value: "60"}', 'value: "６0"}', "pass_score.values.0.value"),  # a band edge of k, m and q
        ("{county: 6,", '{county: "６",', "mi_level_ratio.values.0.value.county"),  # a rule's level_ratio
        ('value: "0.80"}', 'value: "０.８０"}', "ph_advance_ratio.values.0.value"),  # formulas and texts
    ],
)
def test_a_refused_parameter_value_is_reported_once_not_again_where_it_is_used(rules_copy, old, new, where):
    """The parameter is then missing from the ruleset; every formula, text, band edge or
    level_ratio naming it would add "没有定义" — noise that hides the one real problem."""
    edit(rules_copy / "parameters.yaml", old, new)
    said = problems(rules_copy).splitlines()
    assert len(said) == 1 and where in said[0] and "半角数字" in said[0], said


def test_yaml_nested_too_deep_is_refused_before_python_recurses():
    """A thousand nested brackets would exhaust Python's recursion limit while the document is
    composed (内部错误 RecursionError): refused from the event stream, naming the line."""
    with pytest.raises(YamlError) as e:
        load("period: 2026Q1\nx: " + "[" * 1000 + "]" * 1000 + "\n")
    assert e.value.problems == [(2, "嵌套超过 50 层（列表或映射套列表或映射），不是 p4p 能读的文件")]
    assert load("x: " + "[" * 49 + "]" * 49 + "\n").data is not None  # the mapping and 49 lists: 50 levels, read


@pytest.mark.parametrize("where", ["missing", "a file", "empty", "the folder of rulesets"])
def test_a_path_that_holds_no_ruleset_is_one_problem_not_six_missing_files(tmp_path, where):
    """A mistyped --rules, or the folder holding rulesets instead of one of them, was listed as
    six missing files."""
    path = {
        "missing": tmp_path / "没有",
        "a file": tmp_path / "规则.yaml",
        "empty": tmp_path / "空",
        "the folder of rulesets": tmp_path / "rules",
    }[where]
    if where == "a file":
        path.write_text("id: x\n", encoding="utf-8")
    elif where == "empty":
        path.mkdir()
    elif where == "the folder of rulesets":
        shutil.copytree(RULES, path / "huangshan-2026")
    expect = {
        "missing": "规则集文件夹不存在",
        "a file": "不是文件夹（规则集是含 ruleset.yaml 等文件的文件夹）",
        "empty": "不是规则集文件夹：其中没有 ruleset.yaml、items.yaml",
        "the folder of rulesets": "其中的 huangshan-2026/ 是规则集，请指定其中一个",
    }[where]
    out = check_refused(path, f"{path}：", expect)
    assert "规则集有 1 处问题" in out and "缺少文件" not in out
