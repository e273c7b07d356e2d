"""A careless or dishonest editor of a copy of the shipped ruleset (third review): edits that
were accepted and then ignored, half-applied, or ended in an internal error. Each is refused
with exit 2 and a Chinese message naming the file, line and key."""

from pathlib import Path

import pytest

from conftest import cli, edit

SHADOW = """{name}:
  title: 影子参数
  cite: {{source: "004", clause: 二（二）（3）}}
  values:
    - {{from: 2026-01-01, value: "20"}}
score_move_limit:"""


def check_refused(rules: Path, *expect: str) -> str:
    r = cli("rules", "check", rules)
    assert r.exit_code == 2, r.output
    assert "内部错误" not in r.output and "检查通过" not in r.output
    for e in expect:
        assert e in r.stderr, f"{e!r} not in:\n{r.stderr}"
    return r.stderr


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
