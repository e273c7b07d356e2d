"""The archive commands: approve, history, replay, verify (SPEC §6, §8). Registered on `main`
by p4p/cli/__init__.py. Messages are Chinese; exit codes as SPEC §6 says."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import replay as do_replay

if TYPE_CHECKING:
    from ..app.approve import Approval
from ..archive.chain import Chain, Record, in_force
from ..archive.findings import Finding
from ..archive.headfile import PaperHead
from ..archive.keys import load_key
from ..archive.layout import archive_of
from ..archive.manifest import as_dict
from ..archive.verify import Report, verify_archive
from ..archive.verify_runs import RunInfo
from ..model.problems import InputError
from .base import EXIT_DIFF, EXIT_INPUT, examples, jobs_option, main, visible
from .base import err as _err
from .base import guard as _guard

KEY_HELP = "密钥文件（HMAC-SHA256 签名用；不要放在归档里）；也可用环境变量 P4P_ARCHIVE_KEY"


def _paper_head(ctx: click.Context, param: click.Parameter, value: str | None) -> PaperHead | None:
    if value is None:
        return None
    try:
        return PaperHead.parse(value)
    except ValueError as e:
        raise click.BadParameter(str(e)) from None


key_option = click.option(
    "--key-file", type=click.Path(exists=True, dir_okay=False, path_type=Path), default=None, help=KEY_HELP
)
head_option = click.option(
    "--head",
    "paper",
    metavar="序号:哈希",
    callback=_paper_head,
    default=None,
    help="纸质审批单上的链头，写成 序号:哈希（哈希至少 16 位）",
)


@main.command(
    epilog=examples(
        "p4p approve 归档/2026Q1/<运行编号> --by 张会计 --payees 收款账户.xlsx",
        'p4p approve 归档/2026Q2/<新运行编号> --by 张会计 --payees 收款账户.xlsx --supersede --reason "考核得分录入错误"',
    )
)
@click.argument("run_dir", metavar="运行目录", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--by", metavar="姓名", required=True, help="审批人")
@click.option(
    "--payees",
    type=click.Path(path_type=Path),  # a missing or unreadable file is reported in Chinese, exit 2
    default=None,
    help="收款账户文件（CSV，或 xlsx 的“收款账户”工作表）；不给则发放清单只有收款方名称、不生成代发文件",
)
@click.option(
    "--bank-template",
    type=click.Path(path_type=Path),
    default=None,
    help="代发文件的列模板（YAML；默认 bank-templates/default.yaml），与 --payees 一起使用",
)
@click.option("--supersede", is_flag=True, help="替换本期已审批的运行（只发放差额：更正发放清单）")
@click.option("--reason", metavar="原因", default=None, help="替换原因（与 --supersede 一起使用）")
@key_option
@click.option("--no-pdf", is_flag=True, help="不生成 PDF（盖“已审批”的结算单、发放清单 PDF、更正结算单）")
@jobs_option
@_guard
def approve(  # noqa: PLR0913, PLR0917 — click passes each option as a parameter
    run_dir: Path,
    by: str,
    payees: Path | None,
    bank_template: Path | None,
    supersede: bool,
    reason: str | None,
    key_file: Path | None,
    no_pdf: bool,
    jobs: int | None,
) -> None:
    """把一次运行标记为本期正式结果：核对并写出发放清单和代发文件，追加一条链式审批记录，写审批目录（最后一行输出其路径）。"""
    if bank_template is not None and payees is None:
        _err("--bank-template 要与 --payees 一起使用（没有收款账户就不生成代发文件）；未审批、未写入任何文件")
        sys.exit(EXIT_INPUT)
    key = load_key(key_file, archive_of(run_dir))
    try:
        from ..app.approve import Paying, Rendering
        from ..app.approve import approve as do_approve

        a = do_approve(
            run_dir,
            by,
            supersede,
            reason,
            key,
            Paying(payees, bank_template),
            Rendering(pdf=not no_pdf, jobs=jobs, progress=True),
        )
    except InputError as e:
        _err(f"审批的输入有 {e.count} 处问题，未审批、未写入任何文件（没有审批记录，没有审批目录）：")
        for p in e.problems:
            _err(f"  - {p.text()}")
        sys.exit(EXIT_INPUT)
    for w in a.plan.warnings:
        _err(f"警告：{w.text()}")
    f = a.approved.fields
    extra = f"，替换 {f['supersedes']}（原因：{f['reason']}）" if f.get("supersedes") else ""
    click.echo(f"已审批：{f['period']} 运行 {f['run_id']}，审批人 {f['by']}，{f['at_beijing']}（{f['at']}）{extra}")
    _print_payments(a)
    click.echo(f"审批链头：{a.approved.chain_head}")
    click.echo("审批记录已用密钥签名（HMAC-SHA256）" if a.approved.signed else "审批记录未签名（没有提供密钥）")
    for q4 in a.approved.stale:
        _err(f"注意：{q4} 已审批，它用的是被替换的季度：第四季度须重新运行，并用 --supersede 审批")
    click.echo(str(a.approved.folder))


def _print_payments(a: Approval) -> None:
    """The reconciliation and what the approval folder holds for paying."""
    plan = a.plan
    if plan.corrections is not None:
        click.echo(f"更正：{len(plan.corrections)} 个台账行的金额有变化（corrections.csv）")
    if plan.payable is not None:
        click.echo(plan.payable.reconciliation)
    if plan.reference is not None:
        click.echo("更正后的全额清单（reference/，仅供核对，不作发放依据，不生成代发文件）：核对相符")
    for name in plan.bank_files:
        click.echo(f"代发文件：{name}")
    for n in plan.notes:
        click.echo(f"说明：{n}")


def _print_report(rep: Report) -> None:
    for n in rep.notes:
        click.echo(visible(f"说明：{n}"))
    for f in rep.findings:
        click.echo(visible(f"问题：{f}"))
    if rep.findings:
        click.echo(f"核验未通过：发现 {len(rep.findings)} 处问题（归档：{rep.archive}）")
    else:
        click.echo(f"核验通过：{len(rep.runs)} 个运行目录、{len(rep.chain.records)} 条审批记录，未发现问题")
    click.echo(f"审批链头：{rep.chain.head}")


def _report(archive: Path, paper: PaperHead | None, key_file: Path | None, again: bool = False) -> Report:
    """Verify (payment lists recomputed from the approved ledgers included; with `again`, every
    approved run recomputed too), or exit 1 (through _guard) when there is no archive at the path."""
    from ..app.verify_pay import payment_findings  # paying is imported only when used

    extra = payment_findings
    if again:
        from ..app.verify_replay import replay_findings

        def extra(archive: Path, chain: Chain, runs: dict[str, RunInfo]) -> tuple[list[Finding], list[str]]:
            found, notes = payment_findings(archive, chain, runs)
            more, said = replay_findings(archive, chain, runs)
            return found + more, notes + said

    return verify_archive(archive, paper, load_key(key_file, archive), extra=extra)


@main.command(
    epilog=examples(
        "p4p verify 归档",
        "p4p verify 归档 --head 7:3fa2c19d0e5b77a1   # 纸质审批单上的链头",
        "p4p verify 归档 --key-file 密钥.txt",
        "p4p verify 归档 --replay                    # 另把每个已审批的运行重新计算一遍（较慢）",
    )
)
@click.argument("archive", metavar="归档目录", type=click.Path(path_type=Path))
@head_option
@key_option
@click.option(
    "--replay", "again", is_flag=True, help="另把每个已审批的运行按其归档的输入和规则重新计算，逐行比对（较慢）"
)
@_guard
def verify(archive: Path, paper: PaperHead | None, key_file: Path | None, again: bool) -> None:
    """核验整个归档：运行目录、审批记录链、审批目录、第四季度所用的前期季度、遗留的临时目录。"""
    rep = _report(archive, paper, key_file, again)
    _print_report(rep)
    if rep.findings:
        sys.exit(EXIT_DIFF)


def _approval_marks(records: list[Record]) -> dict[str, list[str]]:
    """For each approved run folder: its approvals, each in force (现行) or superseded."""
    current = {r.get("run_dir"): r.seq for r in in_force(records).values()}
    marks: dict[str, list[str]] = {}
    for r in records:
        state = "现行" if current.get(r.get("run_dir")) == r.seq else "已被替换"
        sup = f"，替换 {r.get('supersedes')}（{r.get('reason')}）" if r.get("supersedes") else ""
        marks.setdefault(str(r.get("run_dir")), []).append(
            f"第{r.seq}条审批 {r.get('by')} {r.get('at_beijing') or r.get('at')}{sup}（{state}）"
        )
    return marks


@main.command(epilog=examples("p4p history --archive 归档", "p4p history --archive 归档 | head -20"))
@click.option("--archive", type=click.Path(path_type=Path), default=Path("archive"), show_default=True)
@head_option
@key_option
@_guard
def history(archive: Path, paper: PaperHead | None, key_file: Path | None) -> None:
    """列出归档中的期间、运行、审批和替换，并做与 p4p verify 相同的核验。"""
    rep = _report(archive, paper, key_file)
    marks = _approval_marks(rep.chain.records)
    period = None
    for run in rep.runs:
        run_period, run_id = run.rel.split("/")
        if run_period != period:
            period = run_period
            click.echo(period)
        m = run.manifest or {}
        click.echo(
            visible(
                f"  {run_id}  {m.get('alliance', '（manifest 缺失）')}  规则 {as_dict(m.get('ruleset')).get('id', '?')}  "
                f"台账 {str(m.get('ledger_sha256', ''))[:12]}  {'；'.join(marks.get(run.rel, [])) or '未审批'}"
            )
        )
    _print_report(rep)
    if rep.findings:
        sys.exit(EXIT_DIFF)


@main.command(epilog=examples("p4p replay 归档/2026Q1/<运行编号>"))
@click.argument("run_dir", metavar="运行目录", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_guard
def replay(run_dir: Path) -> None:
    """用运行目录中归档的输入和规则重算，逐行比对，并检查文件、manifest 和审批记录是否被改动。"""
    r = do_replay(run_dir)
    for a in r.approvals:
        click.echo(visible(f"审批：{a}"))
    for t in r.tampered:
        click.echo(visible(f"篡改：{t}"))
    for d in r.diffs:
        click.echo(visible(f"差异：{d}"))
    if r.tampered or r.diffs:
        click.echo(f"重算结果与归档不一致：{len(r.tampered)} 个文件问题，{len(r.diffs)} 处差异")
        sys.exit(EXIT_DIFF)
    click.echo("重算结果与归档完全一致（逐字节），所有文件哈希相符")
