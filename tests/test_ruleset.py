"""The ruleset is data and is checked before any run: decision tables for gaps and
overlaps, citations, names; parameters take effect from their date."""

import shutil
from pathlib import Path

import pytest
from conftest import ROOT, cli, ledger_of, run_ok, write_quarter

from p4p.ruleset.load import RulesetError, load_ruleset

RULES = ROOT / "rules" / "huangshan-2026"


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    return d


def edit(path: Path, old: str, new: str):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new), encoding="utf-8")


def test_reference_ruleset_checks_clean():
    r = cli("rules", "check")
    assert r.exit_code == 0 and "检查通过" in r.stdout
    rs = load_ruleset(RULES)
    assert [x.id for x in rs.rules] == ["R2", "R3", "R4", "R4-Q4", "R5", "R5-D", "R6"]
    assert all(x.cite and x.title for x in rs.rules)


def test_gap_between_bands_is_reported(rules_copy):
    edit(rules_copy / "tables.yaml", '{band: [70, 80], value: "0.80"', '{band: [71, 80], value: "0.80"')
    with pytest.raises(RulesetError, match="70 到 71 分之间有缺口"):
        load_ruleset(rules_copy)
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 1 and "缺口" in r.stderr


def test_overlap_is_reported_for_unique_tables(rules_copy):
    edit(
        rules_copy / "tables.yaml",
        '{band: [null, 60], value: "0", label: 60分以下}\n',
        '{band: [null, 61], value: "0", label: 60分以下}\n',
    )
    # the q table is the last one and declares hit_policy: unique
    with pytest.raises(RulesetError, match="重叠"):
        load_ruleset(rules_copy)


def test_bands_must_reach_100(rules_copy):
    edit(rules_copy / "tables.yaml", '{band: [95, null], value: "2.0"', '{band: [95, 100], value: "2.0"')
    with pytest.raises(RulesetError, match="没有覆盖 100 到 100 分"):
        load_ruleset(rules_copy)


def test_rule_without_citation_and_unknown_names_are_errors(rules_copy):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)", "amount: round2(perf_base / 4 * k)")
    edit(rules_copy / "rules.yaml", 'cite: [{source: "000", clause: 一（三）2}]\n', "cite: []\n")
    with pytest.raises(RulesetError) as e:
        load_ruleset(rules_copy)
    text = str(e.value)
    assert "perf_base 未定义" in text and "规则 R6: 缺少" in text


def test_rule_may_not_use_a_later_item(rules_copy):
    edit(
        rules_copy / "rules.yaml",
        "amount: round2(perf_base_annual / 4 * k)",
        "amount: round2(perf_base_annual / 4 * k + VILLAGE_TOPUP)",
    )
    with pytest.raises(RulesetError, match="后面规则才计算的项目 VILLAGE_TOPUP"):
        load_ruleset(rules_copy)


def test_a_formula_that_forgets_to_round_is_an_error(rules_copy, base_quarter, archive):
    edit(rules_copy / "rules.yaml", "amount: round2(perf_base_annual / 4 * k)", "amount: perf_base_annual / 3 * k")
    r = cli("run", base_quarter, "--rules", rules_copy, "--archive", archive, "--no-pdf")
    assert r.exit_code == 1 and "round2" in r.stderr and not archive.exists()


def test_parameter_change_takes_effect_from_its_date(rules_copy, tmp_path, archive):
    """The guarantee rises to 50,000 from 2027-01-01: 2026 periods keep 48,000.
    V01: income 6,553.19; 2026: (12,000 − 6,553.19) × 0.6 = 3,268.09; 2027: (12,500 − 6,553.19) × 0.6 = 3,568.09."""
    edit(
        rules_copy / "parameters.yaml",
        '    - {from: 2026-01-01, value: "48000.00"}\n',
        '    - {from: 2026-01-01, value: "48000.00"}\n    - {from: 2027-01-01, value: "50000.00"}\n',
    )
    q26 = run_ok(write_quarter(tmp_path / "q26", period="2026Q3"), archive, "--rules", rules_copy)
    q27 = run_ok(write_quarter(tmp_path / "q27", period="2027Q1"), archive, "--rules", rules_copy)
    assert ledger_of(q26)[("V01", "VILLAGE_TOPUP")]["amount"] == "3268.09"
    assert ledger_of(q27)[("V01", "VILLAGE_TOPUP")]["amount"] == "3568.09"
