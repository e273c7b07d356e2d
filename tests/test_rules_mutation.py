"""Every single misspelling a hurried editor could make in the reference ruleset — one key, or
one `{placeholder}`, with a character appended — is refused by `p4p rules check`. The ruleset
checks name the file, the line and (here, always) the name that was meant; the few names that
only the ruleset itself defines — the work-point service codes, the names of figures a rule
reports — cannot be told from a misspelling by any check, and are caught by the ruleset's tests
as data instead (which is why those tests use every service code and every report)."""

from __future__ import annotations

import functools
import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml
from rules_support import RULES

import p4p.ruleset.load as ruleset_load
from p4p.cli.rules_cmds import run_ruleset_tests
from p4p.ruleset.errors import RulesetError
from p4p.ruleset.load import FILES, load_ruleset

from conftest import cli, write_quarter

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)")


@dataclass(frozen=True)
class Mutation:
    file: str
    kind: str  # "key" or "placeholder"
    word: str
    lines: frozenset[int]  # where a problem may name it: its own line (a placeholder: or its key's)
    text: str  # the file with the mutation

    @property
    def line(self) -> int:
        return min(self.lines)


def mutations(file: str, text: str) -> list[Mutation]:
    """Each key, and each placeholder in each text, with an `x` appended, one at a time."""
    out: list[Mutation] = []

    def at(pos: int) -> str:
        return text[:pos] + "x" + text[pos:]

    def walk(node: yaml.Node, key_line: int) -> None:
        if isinstance(node, yaml.MappingNode):
            for k, v in node.value:
                end = k.end_mark.index - (1 if k.style in ('"', "'") else 0)
                out.append(Mutation(file, "key", k.value, frozenset({k.start_mark.line + 1}), at(end)))
                walk(v, k.start_mark.line + 1)
        elif isinstance(node, yaml.SequenceNode):
            for v in node.value:
                walk(v, key_line)
        else:
            for m in PLACEHOLDER.finditer(text, node.start_mark.index, node.end_mark.index):
                line = text.count("\n", 0, m.end(1)) + 1
                out.append(Mutation(file, "placeholder", m.group(1), frozenset({line, key_line}), at(m.end(1))))

    walk(yaml.compose(text, Loader=yaml.BaseLoader), 1)
    return out


def only_the_ruleset_defines() -> set[tuple[str, str]]:
    """(file, name) of the names nothing but the ruleset itself defines."""
    rs = load_ruleset(RULES)
    codes = {
        code for p in [rs.parameters[rs.workpoint_items]] for _, v in p.values if isinstance(v, dict) for code in v
    }
    reports = {name for r in rs.rules for name in r.report}
    return {("parameters.yaml", c) for c in codes} | {("rules.yaml", r) for r in reports}


def valid_names(texts: dict[str, str]) -> set[str]:
    """Every key and placeholder name of the reference: a mutation that makes one is skipped."""
    out = set()
    for file, text in texts.items():
        out |= {m.word for m in mutations(file, text)}
    return out


@pytest.mark.slow
def test_every_misspelt_key_and_placeholder_is_refused(tmp_path, monkeypatch):
    # the five files not being mutated are parsed once (each mutation re-reads only its own file)
    monkeypatch.setattr(ruleset_load, "load_yaml", functools.lru_cache(maxsize=64)(ruleset_load.load_yaml))
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    texts = {f: (RULES / f).read_text(encoding="utf-8") for f in FILES}
    valid = valid_names(texts)
    tried, not_placed, not_refused, caught_by_tests = 0, [], [], set()
    for file in FILES:
        for m in mutations(file, texts[file]):
            if m.word + "x" in valid:
                continue
            tried += 1
            (d / file).write_text(m.text, encoding="utf-8")
            try:
                rs = load_ruleset(d)
            except RulesetError as e:
                if not any(p.file == file and p.line in m.lines and p.suggestion == m.word for p in e.problems):
                    not_placed.append(f"{file} 第{m.line}行 {m.kind} {m.word}: {e}")
                continue
            try:
                report = run_ruleset_tests(rs, fail_fast=True)
                if report is None or report.ok:
                    not_refused.append(f"{file} 第{m.line}行 {m.kind} {m.word}")
                    continue
            except RulesetError:  # a test file names what the ruleset no longer has
                pass
            caught_by_tests.add((file, m.word))
        (d / file).write_text(texts[file], encoding="utf-8")
    assert tried > 700  # every key and placeholder of the six files, counted when this was written: 797
    assert not_refused == []
    assert not_placed == []
    assert caught_by_tests == only_the_ruleset_defines()


# ---- one of each kind through the command line (fast) ---------------------------------------------


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    d = tmp_path / "rules"
    shutil.copytree(RULES, d)
    return d


def edit(path: Path, old: str, new: str) -> int:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return text[: text.index(old)].count("\n") + 1


def test_a_misspelt_placeholder_is_refused_by_check_and_run(rules_copy, tmp_path):
    n = edit(rules_copy / "rules.yaml", "院长 {director}：", "院长 {directr}：") - 1  # the line of `explain: |-`
    r = cli("rules", "check", rules_copy)
    assert (
        r.exit_code == 2
        and f"rules.yaml 第{n}行 规则 R3 explain：文字中的 {{directr}} 没有定义（是不是 director？）" in r.stderr
    )
    r = cli("run", write_quarter(tmp_path / "in"), "--rules", rules_copy, "--archive", tmp_path / "a", "--no-pdf")
    assert r.exit_code == 2 and "directr" in r.stderr and not (tmp_path / "a").exists()


def test_a_misspelt_service_code_is_caught_by_the_tests_and_refused_by_run(rules_copy, tmp_path):
    edit(rules_copy / "parameters.yaml", "        ELD: {value: 10,", "        ELDx: {value: 10,")
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 2 and "✗ tests/band-edges.yaml" in r.stdout
    assert "列“item”（值：“ELD”）" in r.stdout  # the case's input uses ELD; the ruleset no longer has it
    r = cli("run", write_quarter(tmp_path / "in"), "--rules", rules_copy, "--archive", tmp_path / "a", "--no-pdf")
    assert r.exit_code == 2 and "ELD" in r.stderr and not (tmp_path / "a").exists()


def test_a_misspelt_report_name_is_caught_by_the_tests(rules_copy):
    edit(rules_copy / "rules.yaml", "returned_to_fund: {title:", "returned_to_fnd: {title:")
    r = cli("rules", "check", rules_copy)
    assert r.exit_code == 2 and "规则集中没有规则报告 returned_to_fund（是不是 returned_to_fnd？）" in r.stderr


# ---- what the mutation test found (fixed in p4p/ruleset): each once, fast -----------------------


def problems(path: Path) -> list:
    with pytest.raises(RulesetError) as e:
        load_ruleset(path)
    return e.value.problems


def test_a_renamed_parameter_used_as_a_band_edge_is_reported_not_crashed_on(rules_copy):
    n = edit(rules_copy / "parameters.yaml", "pass_score:\n", "pass_scor:\n")
    found = [p for p in problems(rules_copy) if p.file == "parameters.yaml"]
    assert [(p.line, p.suggestion) for p in found] == [(n, "pass_score")]


def test_a_renamed_let_of_a_check_is_named_on_its_line(rules_copy):
    n = edit(
        rules_copy / "checks.yaml", "      jump: raw_points / prior_points", "      jmp: raw_points / prior_points"
    )
    found = {(p.line, p.message, p.suggestion) for p in problems(rules_copy)}
    assert (n, "中间量 jmp 没有被条件或提示文字使用", "jump") in found


def test_a_renamed_source_is_named_once_at_its_key(rules_copy):
    n = edit(rules_copy / "ruleset.yaml", '  "004":', '  "044":')
    found = [p for p in problems(rules_copy) if p.file == "ruleset.yaml"]
    assert [(p.line, p.suggestion) for p in found] == [(n, "004")]


def test_a_misspelt_level_of_the_ratio_is_named_on_its_line(rules_copy):
    n = edit(rules_copy / "parameters.yaml", "{county: 6,", "{countey: 6,")
    found = [p for p in problems(rules_copy) if p.file == "parameters.yaml"]
    assert [(p.line, p.message, p.suggestion) for p in found] == [
        (n, "层级 countey 不认识：只能是 county, township, village", "county")
    ]
