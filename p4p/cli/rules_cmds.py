"""`p4p rules check | test | diff`: a ruleset's checks, its tests as data, and what changes
between two rulesets (their texts, and with an input, the payouts: a what-if in one step).

Nothing is written anywhere: test cases and what-ifs are computed in memory. Exit codes as
every p4p command: 0 done, 2 a ruleset, test file or input is not valid or a test fails,
1 the environment.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path

import click

from ..app import DEFAULT_RULES
from ..archive.history import history_from, prior_quarters
from ..engine.checks import PriorQuarter
from ..engine.compute import Engine
from ..engine.ledger import history_lines, ledger_csv, ledger_rows
from ..engine.result import ComputeError, Result
from ..model.facts import Quarter
from ..read.load import load_quarter
from ..ruleset.diff import payout_differences, ruleset_differences
from ..ruleset.load import load_ruleset
from ..ruleset.model import Ruleset
from ..ruleset.testcases import (
    Compute,
    LedgerLine,
    Outcome,
    QuarterRefused,
    TestFileError,
    TestReport,
    load_cases,
    report_lines,
    run_cases,
)
from .base import EXIT_INPUT, Group, examples
from .base import err as _err
from .base import guard as _guard

# ---- running a ruleset on a quarter in memory ------------------------------------------------------


def outcome_of(result: Result) -> Outcome:
    """What a test case or a what-if reads of a computed quarter: its ledger as ledger.csv has
    it, the reported figures, the plausibility warnings and the statement cases that applied."""
    ledger = [LedgerLine(r[1], r[2], r[3], r[4], r[5], Decimal(r[6]), r[7], r[8]) for r in ledger_rows(result)]
    return Outcome(
        ledger,
        {r["name"]: Decimal(r["amount"]) for r in result.reports},
        [(w["check_id"], w["inst_id"], w["message"]) for w in result.warnings if w.get("kind") == "check"],
        {(b.key, c) for b in result.blocks for c in b.cases},
        history_lines(ledger_csv(ledger_rows(result))),  # read back as a Q4 reads approved ledgers
    )


def engine_compute(rs: Ruleset) -> Compute:
    """`compute` for test cases: one quarter with the engine; a Q4 settles against the ledgers
    of the year's earlier quarters of the case (as if approved), and the quarter before is the
    one plausibility checks compare with."""
    engine = Engine(rs)

    def compute(q: Quarter, earlier: Sequence[tuple[Quarter, Outcome]]) -> Outcome:
        p = q.period
        history = []
        if p.quarter == 4:
            history = [h for eq, eo in earlier if eq.period.year == p.year and eq.period.quarter < 4
                       and eq.period.alliance == p.alliance for h in eo.history]  # fmt: skip
        prior = PriorQuarter(earlier[-1][0].period.period, earlier[-1][0], earlier[-1][1].history) if earlier else None
        try:
            return outcome_of(engine.compute(q, history, prior))
        except ComputeError as e:
            raise QuarterRefused(str(e)) from None

    return compute


def run_ruleset_tests(rs: Ruleset, *, fail_fast: bool = False) -> TestReport | None:
    """The ruleset's tests/*.yaml run in memory; None when it has none. Raises TestFileError."""
    cases = load_cases(rs)
    if not cases:
        return None
    return run_cases(rs, cases, engine_compute(rs), fail_fast=fail_fast)


def _what_if(rs: Ruleset, input_path: Path, archive: Path) -> list[LedgerLine]:
    q = load_quarter(input_path, lambda p: rs.service_items(p.first_day))
    p = q.period
    history = history_from(prior_quarters(archive, p.year, 4, p.alliance)) if p.quarter == 4 else []
    try:
        return outcome_of(Engine(rs).compute(q, history)).ledger
    except ComputeError as e:
        raise ComputeError(f"规则集 {rs.id}：{e}") from None


# ---- the commands -------------------------------------------------------------------------------


@click.group(cls=Group)
def rules() -> None:
    """规则集工具：检查、运行测试用例、比较两个规则集。"""


def _tests(rs: Ruleset, *, required: bool) -> None:
    """Run and print the ruleset's tests; exit 2 when one fails (or, if `required`, none exist)."""
    try:
        report = run_ruleset_tests(rs)
    except TestFileError as e:
        _err(f"测试用例文件有 {len(e.problems)} 处问题：")
        for p in e.problems:
            _err(f"  - {p.text()}")
        sys.exit(EXIT_INPUT)
    if report is None:
        msg = f"规则集 {rs.id} 没有测试用例（{rs.path / 'tests'} 中的 *.yaml）"
        if required:
            _err(msg)
            sys.exit(EXIT_INPUT)
        click.echo(msg)
        return
    for line in report_lines(rs, report):
        click.echo(line)
    if not report.ok:
        _err(f"规则集 {rs.id} 有测试用例未通过")
        sys.exit(EXIT_INPUT)


@rules.command("check", epilog=examples("p4p rules check", "p4p rules check rules/examples/huangshan-2026-whatif"))
@click.argument("rules_dir", metavar="[规则集目录]", type=click.Path(path_type=Path), required=False)
@_guard
def rules_check(rules_dir: Path | None) -> None:
    """检查规则集：文件、键、名称、公式、决策表分档（缺口、重叠）、引用；然后运行它的测试用例。"""
    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    click.echo(
        f"规则集 {rs.id}（{rs.title}）检查通过：{len(rs.rules)} 条规则，{len(rs.tables)} 张决策表，"
        f"{len(rs.parameters)} 个参数；SHA-256 {rs.sha256}"
    )
    values = rs.resolve(rs.in_force_from).texts()  # titles name parameters: shown as in force at the start
    for r in rs.rules:
        click.echo(f"  {r.id:6} {r.item:16} {r.title.render(values)}（{'；'.join(c.text() for c in r.cite)}）")
    _tests(rs, required=False)


@rules.command("test", epilog=examples("p4p rules test", "p4p rules test 我县规则/"))
@click.argument("rules_dir", metavar="[规则集目录]", type=click.Path(path_type=Path), required=False)
@_guard
def rules_test(rules_dir: Path | None) -> None:
    """在内存中运行规则集 tests/*.yaml 中的测试用例，逐项列出与手算期望不同之处。"""
    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    _tests(rs, required=True)


@rules.command("diff", epilog=examples(
    "p4p rules diff rules/huangshan-2026 rules/examples/huangshan-2026-whatif",
    "p4p rules diff 旧规则/ 新规则/ --input 2026Q1.xlsx      # 连同金额差异（不写入任何文件）",
))  # fmt: skip
@click.argument("old_dir", metavar="旧规则集", type=click.Path(path_type=Path))
@click.argument("new_dir", metavar="新规则集", type=click.Path(path_type=Path))
@click.option("--input", "input_path", type=click.Path(path_type=Path), default=None,
              help="一个季度的输入（文件夹或工作簿）：用两个规则集分别计算，列出各机构、各项目的金额差异")  # fmt: skip
@click.option("--archive", type=click.Path(path_type=Path), default=Path("archive"), show_default=True,
              help="第四季度输入：从此归档读取已审批的前三季度")  # fmt: skip
@_guard
def rules_diff(old_dir: Path, new_dir: Path, input_path: Path | None, archive: Path) -> None:
    """比较两个规则集：参数（按生效日期）、决策表行、规则（公式、条件、依据、文字）、项目；
    给出输入时，再用两个规则集分别计算（只在内存中，不写任何文件），列出兑现金额的差异和合计。"""
    old, new = load_ruleset(old_dir), load_ruleset(new_dir)
    payouts = None
    if input_path is not None:  # computed first: a rejected input prints nothing but the problems
        a, b = _what_if(old, input_path, archive), _what_if(new, input_path, archive)
        transfers = {k for rs in (old, new) for k, it in rs.items.items() if it.role == "transfer"}
        payouts = payout_differences(a, b, transfers)
    click.echo(f"旧：{old.id}（{old.path}）  新：{new.id}（{new.path}）")
    lines = ruleset_differences(old, new)
    click.echo("\n".join(lines) if lines else "两个规则集的内容没有差别")
    if payouts is not None:
        click.echo("")
        click.echo(f"用同一份输入 {input_path} 计算的兑现金额（旧 → 新）：")
        click.echo("\n".join(payouts))
