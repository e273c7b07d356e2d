"""A careless or dishonest editor of a copy of the shipped ruleset (third review): edits that
were accepted and then ignored, half-applied, or ended in an internal error. Each is refused
with exit 2 and a Chinese message naming the file, line and key."""

import shutil

import pytest
from strict_helpers import check_refused

from p4p.lang.template import show

from conftest import RULES, cli, edit

SHADOW = """{name}:
  title: 影子参数
  cite: {{source: "004", clause: 二（二）（3）}}
  values:
    - {{from: 2026-01-01, value: "20"}}
score_move_limit:"""


@pytest.mark.parametrize(
    "name,other",
    [("k", "决策表"), ("score", "输入字段"), ("perf_base_annual", "输入字段"), ("mi_budget", "期间的取值"),
     ("alliance_k", "期间的取值"), ("PH_FUND", "台账项目"), ("share", "规则计算提供的名称")],
)  # fmt: skip
def test_a_parameter_named_like_a_table_input_or_item_is_refused(rules_copy, name, other):
    """A parameter `k: 20` or `score: 100` was accepted and never read (the formulas' `k` is the
    table, `score` the assessment): a declared value that silently took no effect."""
    edit(rules_copy / "parameters.yaml", "score_move_limit:", SHADOW.format(name=name))
    check_refused(rules_copy, f"parameters.yaml 第85行 {name}：参数 {name} 与{other} {name} 重名")


def test_a_table_named_like_an_input_field_is_refused(rules_copy):
    edit(rules_copy / "tables.yaml", "q:\n  title", "population:\n  title")
    check_refused(rules_copy, "tables.yaml 第31行 population：决策表 population 与输入字段重名")


def test_an_amount_beyond_fifteen_digits_is_refused_not_an_internal_error(rules_copy, base_quarter, archive):
    """`× 1000000000000` slipped into R2 paid 10^18 yuan into the ledger (run exit 0) and made
    `rules check` end in 内部错误 InvalidOperation; amounts are bounded like the inputs' (15 digits)."""
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)",
         "amount: round2(perf_base_annual / 4 * k * 1000000000000)")  # fmt: skip
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2, r.output
    assert "规则 R2 的金额整数部分超过 15 位（C01、L01、T01、T02：225,000,000,000,000,000.00 元）" in r.stderr
    assert not archive.exists()
    edit(rules_copy / "rules.yaml", "* 1000000000000)", "* 1000)")  # 10^12 yuan: still within 15 digits
    assert cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf").exit_code == 0


def test_rules_check_with_a_huge_amount_names_the_rule(tmp_path):
    rules = tmp_path / "r"
    shutil.copytree(RULES, rules)
    edit(rules / "rules.yaml", "total: round2(ph_annual_budget * ph_quarter_share * ph_advance_ratio)",
         "total: round2(ph_annual_budget * ph_quarter_share * ph_advance_ratio * 100000000000)")  # fmt: skip
    r = cli("rules", "check", rules)
    assert r.exit_code == 2 and "内部错误" not in r.output, r.output
    assert "计算被拒绝：规则 R4 的总额整数部分超过 15 位（本期：8,000,000,000,000,000.00 元）" in r.output


def test_a_huge_intermediate_value_is_shown_whole_not_an_internal_error(rules_copy, base_quarter, archive):
    """R3's `uncapped` × 10^29 still pays the capped bonus, but showing {uncapped:money} ended the
    run's statements (and explain) in 内部错误 InvalidOperation; {x} cut it to 28 digits + zeros."""
    edit(rules_copy / "rules.yaml", "uncapped: per_capita_quarter * m",
         "uncapped: per_capita_quarter * m * 100000000000000000000000000000")  # fmt: skip
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 0, r.output
    run = next((archive / "2026Q1").iterdir())
    r = cli("explain", run, "T01", "DIRECTOR_BONUS")
    assert r.exit_code == 0, r.output
    assert "= 4,000,000,000,000,000,000,000,000,000,000,000.00 元" in r.output  # 20,000 × 2.0 × 10^29
    assert show("10000000000000000000000000000000000000000/3", None).endswith("333,333,333.333333")


@pytest.mark.parametrize("spec", ["amount:money.0", "amount:count.2", "amount:absmoney.1", "amount:exact.3"])
def test_decimals_on_a_format_that_ignores_them_are_refused(rules_copy, spec):
    """`{amount:money.0}` passed the check and still showed 1,234.50: the `.0` took no effect."""
    edit(rules_copy / "rules.yaml", "= {amount:money} 元\n    statement:", f"= {{{spec}}} 元\n    statement:")
    fmt = spec.split(":")[1].split(".")[0]
    check_refused(rules_copy, f"rules.yaml 第23行 规则 R2 explain：占位符 {{{spec}}} 的格式 {fmt} 不能指定小数位数")


def test_decimals_on_percent_number_and_wan_take_effect():
    assert show("0.123456", "percent", 3) == "12.346%" and show("2.345", "number", 1) == "2.3"
    assert show("48000", "wan", 1) == "4.8万"


@pytest.mark.parametrize(
    "file,old,new,expect",
    [
        ("rules.yaml", "value: drug_subsidy, format: money}", "value: drug_subsidy, format: moneyy}",
         "rules.yaml 第275行 规则 R6 statement.rows.0.format：取值应为 money、percent、number、count、exact、text 之一（是不是 money？）"),
        ("tables.yaml", "  hit_policy: unique", "  hit_policy: [unique]", "tables.yaml 第36行 q.hit_policy：取值应为 first、unique 之一"),
        ("ruleset.yaml", "format: 2", "format: 3", "ruleset.yaml 第5行 format：取值应为 2\n"),
    ],
)  # fmt: skip
def test_a_choice_outside_the_list_is_explained_in_chinese(rules_copy, file, old, new, expect):
    """The choices came in pydantic's English: "'money', 'percent', … or 'text' 之一"."""
    edit(rules_copy / file, old, new)
    assert " or " not in check_refused(rules_copy, expect)


@pytest.mark.parametrize("counts,weights", [("ph_points", "workpoints"), ("workpoints", "workpoints")])
def test_a_breakdown_the_rule_does_not_compute_is_refused(rules_copy, counts, weights):
    """`weights: workpoints` printed "63×63=3,969" item by item (a total of 42,592) under a text
    saying 2,558 points; the table must be the rule's own dot(counts, weights)."""
    edit(rules_copy / "rules.yaml", "breakdown: {counts: workpoints, weights: ph_points,",
         f"breakdown: {{counts: {counts}, weights: {weights},")  # fmt: skip
    check_refused(
        rules_copy,
        f"rules.yaml 第105行 规则 R4 statement.breakdown：明细表列出 {counts} × {weights}，"
        f"但规则的公式中没有 dot({counts}, {weights})",
    )


def test_a_table_value_dividing_by_zero_at_one_score_is_refused_at_load(rules_copy, base_quarter, archive):
    """`0.9 + 0 / (score - 87.3)` passed `rules check`: the range check evaluated it at 87.3 but
    overlooked the division (and a table without min/max was not evaluated at all); the first
    quarter with someone at 87.3 was refused at run time."""
    edit(rules_copy / "tables.yaml", 'value: "0.90", label: 80（含）–90分}',
         'value: "0.9 + 0 / (score - 87.3)", label: 80（含）–90分}')  # fmt: skip
    expect = "tables.yaml 第15行 k.rows.2.value：第3行的取值公式 0.9 + 0 / (score - 87.3) 在考核得分 87.3 分时除以零"
    check_refused(rules_copy, expect)
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and expect in r.stderr and not archive.exists(), r.output


def test_a_yaml_file_the_loader_does_not_read_is_refused(rules_copy, base_quarter, archive):
    """`parameters-2027.yaml` (new values put in a file of their own) or `checks.yml` were never
    read — nor hashed — and `rules check` said 检查通过; a README or notes.txt stays allowed."""
    shutil.copyfile(rules_copy / "parameters.yaml", rules_copy / "parameters-2027.yaml")
    shutil.copyfile(rules_copy / "checks.yaml", rules_copy / "checks.yml")
    (rules_copy / "README.md").write_text("说明\n", encoding="utf-8")
    err = check_refused(rules_copy, "  - checks.yml：p4p 不读这个文件，其中写的内容不会生效：规则集只读 ruleset.yaml、")
    assert "  - parameters-2027.yaml：p4p 不读这个文件" in err and "README" not in err
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and "parameters-2027.yaml：p4p 不读这个文件" in r.stderr and not archive.exists()


def test_a_test_case_the_runner_would_skip_is_refused(tmp_path):
    """tests/broken.yml, tests/BROKEN.YAML and tests/more/x.yaml were skipped without a word:
    "14 个通过，全部通过" while a failing case sat beside them."""
    rules = tmp_path / "r"
    shutil.copytree(RULES, rules)
    case = (rules / "tests" / "director-bonus-rounding.yaml").read_text(encoding="utf-8")
    failing = case.replace("[T09, PH_FUND, 40000.00, 7]", "[T09, PH_FUND, 99.00, 7]")
    (rules / "tests" / "more").mkdir()
    for name in ("broken.yml", "BROKEN.YAML", "more/broken.yaml"):
        (rules / "tests" / name).write_text(failing, encoding="utf-8")
    r = cli("rules", "test", rules)
    assert r.exit_code == 2 and "全部通过" not in r.output, r.output
    for expect in ("tests/BROKEN.YAML：p4p 不读这个文件，其中写的内容不会生效：测试用例文件名须以 .yaml（小写）结尾",
                   "tests/broken.yml：p4p 不读这个文件", "tests/more/：测试用例不能放在子目录里"):  # fmt: skip
        assert expect in r.stderr, r.stderr


@pytest.mark.parametrize("tail", ["#*0.9", " # x 0.9"])
def test_a_hash_in_a_formula_is_refused_not_read_as_a_python_comment(rules_copy, tail):
    """`round2(perf_base_annual / 4 * k)#*0.9` (no space: YAML keeps the #) passed: Python read
    `#*0.9` as a comment, so the edit `rules diff` showed took no effect on any amount."""
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)",
         f'amount: "round2(perf_base_annual / 4 * k){tail}"')  # fmt: skip
    check_refused(rules_copy, "rules.yaml 第21行 规则 R2 amount：公式中不能有 #（其后的内容会被当作注释忽略）")


@pytest.mark.parametrize(
    "old,new,line,spec",
    [("{k_label}）\n      = {amount:money} 元", "{k_label:money}）\n      = {amount:money} 元", 23, "k_label:money"),
     ("{level_name}级分得", "{level_name:count}级分得", 204, "level_name:count")],
)  # fmt: skip
def test_a_number_format_on_a_text_is_refused(rules_copy, old, new, line, spec):
    """`{k_label:money}` passed and printed the label unchanged: the declared format took no effect."""
    edit(rules_copy / "rules.yaml", old, new)
    name, fmt = spec.split(":")
    check_refused(rules_copy, f"第{line}行 规则 R", f"文字中的 {{{spec}}}：{name} 是文字，不能按 {fmt} 格式显示")


def test_a_check_reading_village_income_must_be_limited_to_the_villages_that_fill_it(rules_copy):
    """Rules were held to it, checks not: C3 with `when: {kind: village}` read 0 income for every
    village without a guarantee (they fill no village_income row), so a condition such as
    `income < 1000` would flag each of them."""
    edit(rules_copy / "checks.yaml", "    when: {kind: village, guarantee: 1}", "    when: {kind: village}")
    err = check_refused(
        rules_copy,
        "checks.yaml 第32行 提示 C3 when：提示用到了 drug_subsidy（只有部分机构填写），when 应限定 kind: village、guarantee: 1",
    )
    assert "提示用到了 prior_service_fee（只有部分机构填写）" in err


@pytest.mark.parametrize("when", ["raw_points >= 0", "q > 0 or amount < 0"])
def test_absmoney_outside_a_negative_case_is_refused(rules_copy, when):
    """R4-Q4's "多拨了 {amount:absmoney} 元，本季度应退回 {amount:absmoney} 元" under any other
    `when` passed the check: a village owed a top-up read that it must pay the sum back."""
    edit(rules_copy / "rules.yaml", "        - when: amount < 0\n          text: |-\n            年终清算",
         f"        - when: {when}\n          text: |-\n            年终清算")  # fmt: skip
    check_refused(rules_copy, "rules.yaml 第160行 规则 R4-Q4 statement.cases.0.text：{amount:absmoney} 去掉了负号，"
                              "只能用在 when 写明 amount < 0 的情况里")  # fmt: skip


def test_absmoney_under_a_negative_condition_is_accepted(rules_copy):
    edit(rules_copy / "rules.yaml", "        - when: amount < 0\n          text: |-\n            年终清算",
         "        - when: q > 0 and 0 > amount\n          text: |-\n            年终清算")  # fmt: skip
    assert cli("rules", "check", rules_copy).exit_code == 0


def test_two_items_of_one_name_are_refused(rules_copy):
    """MI_SURPLUS renamed 基本公卫经费 passed: the statement listed 基本公卫经费 twice, two payers."""
    edit(rules_copy / "items.yaml", "    name: 医保结余留用", "    name: 基本公卫经费")
    check_refused(rules_copy, "items.yaml 第29行 items.MI_SURPLUS.name：项目 MI_SURPLUS 与 PH_FUND 同名“基本公卫经费”")


def test_two_statement_rows_of_one_label_are_refused(rules_copy):
    """R6's income table could print 基本药物补助 twice (the second one the service fee)."""
    edit(
        rules_copy / "rules.yaml", "{label: 一般诊疗费, value: service_fee", "{label: 基本药物补助, value: service_fee"
    )
    check_refused(
        rules_copy, "rules.yaml 第276行 规则 R6 statement.rows.1.label：结算单数值表第1行和第2行都叫“基本药物补助”"
    )
