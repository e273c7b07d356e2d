"""The p4p commands (click): run, validate, explain, diff, statements, template here; approve,
history, replay, verify in archive_cmds.py; batch in batch_cmds.py; rules in rules_cmds.py.
User-facing text is Chinese; nothing here computes money."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import click

from ..app import DEFAULT_RULES, compute_run, write
from ..archive.errors import ArchiveError, os_reason
from ..archive.layout import APPROVALS, MANIFEST, archive_of
from ..archive.layout import PERIOD_RE as PERIOD_FOLDER
from ..archive.manifest import load_manifest
from ..archive.runfolder import unwritable
from ..engine.summary import summary_text
from ..engine.trace import in_folder, read_directors, read_trace
from ..report.explain import explain_lines, item_codes
from ..ruleset.load import load_ruleset
from .base import (
    EXIT_DIFF,
    EXIT_FAIL,
    EXIT_INPUT,
    EXIT_OK,
    archive_option,
    examples,
    jobs_option,
    main,
    quiet,
    rules_option,
    xlsx_option,
)
from .base import err as _err
from .base import guard as _guard
from .base import stage as _stage

__all__ = ["EXIT_DIFF", "EXIT_FAIL", "EXIT_INPUT", "EXIT_OK", "main"]

TERMINAL_WARNINGS = 30  # warnings of each kind printed after a run; summary.txt keeps them all


@main.command(epilog=examples(
    "p4p run 2026Q1/ --archive 归档                 # 输入文件夹（CSV 和 period.yaml）",
    "p4p run 2026Q1.xlsx --archive 归档 --no-pdf    # 一个工作簿；先不生成结算单",
    "p4p run 2026Q4/ --archive 归档                 # 第四季度：需要本年前三季度已审批",
    "p4p run 2026Q1/ --rules 测算规则/ --archive 测算   # 用另一套规则测算（写入另一个归档）",
))  # fmt: skip
@click.argument("input_path", metavar="输入", type=click.Path(path_type=Path))
@rules_option
@archive_option
@click.option("--no-pdf", is_flag=True, help="不生成 PDF 结算单")
@jobs_option
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出汇总")
@xlsx_option
@click.option("--strict", is_flag=True, help="把规则集声明的数据核实提示当作错误（退出码 2，不写入任何文件）")
@_guard
def run(
    input_path: Path,
    rules_dir: Path | None,
    archive: Path,
    no_pdf: bool,
    jobs: int | None,
    as_json: bool,
    xlsx: bool | None,
    strict: bool,
) -> None:
    """校验输入、计算本季度全部兑现金额，并写入归档运行目录。"""
    t0 = time.perf_counter()
    why = unwritable(archive)
    if why:
        raise ArchiveError(f"不能写入归档 {archive}：{why}；未计算")
    _stage("读取规则与输入，校验中…", t0)
    c = compute_run(input_path, rules_dir or DEFAULT_RULES, archive, xlsx=xlsx, strict=strict)
    _stage(f"计算完成：{len(c.result.order)} 行台账", t0)
    render = None
    if not no_pdf:
        from ..report.pdf import render_run

        def render(tmp: Path, run_id: str, manifest: dict) -> None:
            render_run(tmp, run_id, manifest, jobs=jobs, progress=not quiet())

    run_dir = write(c, archive, render)
    _stage("运行目录已写入", t0)
    if as_json:
        click.echo(json.dumps(c.summary, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(summary_text(c.summary, shown=TERMINAL_WARNINGS))
    click.echo(str(run_dir))


@main.command(epilog=examples("p4p validate 2026Q1/", "p4p validate 2026Q4.xlsx --archive 归档"))
@click.argument("input_path", metavar="输入", type=click.Path(path_type=Path))
@rules_option
@click.option(
    "--archive",
    type=click.Path(path_type=Path),
    default=Path("archive"),
    show_default=True,
    help="第四季度：在此归档中检查前三季度是否已审批",
)
@_guard
def validate(input_path: Path, rules_dir: Path | None, archive: Path) -> None:
    """只做输入校验，列出全部问题（第四季度还检查前三季度的审批）。"""
    from ..archive.history import prior_quarters
    from ..read.load import load_quarter

    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    q = load_quarter(input_path, lambda p: rs.service_items(p.first_day))
    if q.period.quarter == 4:
        prior_quarters(archive, q.period.year, 4, q.period.alliance_id)
    click.echo(
        f"输入校验通过：{q.period.alliance} {q.period.period}，{len(q.institutions)} 个机构，"
        f"{sum(len(v) for v in q.workpoints.values())} 项公卫工分，{len(q.income)} 个保底村卫生室收入"
    )
    if q.warnings:  # what `run` would list under 提示 (a blank veto read as 否, a column ignored)
        click.echo("\n".join(["", "提示：", *(f"  - {w}" for w in q.warnings)]))


@main.command(epilog=examples(
    "p4p explain 归档/2026Q1/<运行编号> V0101            # 该机构的每一笔金额",
    "p4p explain 归档/2026Q1/<运行编号> T01 DIRECTOR_BONUS   # 只看一个项目（项目代码见台账）",
))  # fmt: skip
@click.argument("run_dir", metavar="运行目录", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("inst_id", metavar="机构编码")
@click.argument("item", metavar="[项目]", required=False)
@_guard
def explain(run_dir: Path, inst_id: str, item: str | None) -> None:
    """说明某机构（某项目）每一笔金额的计算过程、规则和政策依据（只读 trace.jsonl）。"""
    data = _trace_bytes(run_dir)
    with in_folder(run_dir):
        traces = read_trace(data, inst_id)
    out = explain_lines(traces, inst_id, item)
    if not out:
        codes = item_codes(traces, inst_id)
        if not codes:
            with in_folder(run_dir):
                known = sorted(read_directors(data))  # every institution with a line
            _err(f"运行 {run_dir} 中没有机构 {inst_id} 的台账行（共 {len(known)} 个机构，例如 {'、'.join(known[:5])}）")
        else:
            _err(f"机构 {inst_id} 没有项目 {item} 的台账行；它的项目有：{'、'.join(codes)}")
        sys.exit(EXIT_FAIL)
    click.echo("\n".join(out))


def _trace_bytes(run_dir: Path) -> bytes:
    """A run folder's trace.jsonl; a folder without one is not a run folder (exit 1), a run folder
    (with its manifest) without one has been tampered with (exit 3, as verify would find)."""
    trace = run_dir / "trace.jsonl"
    if not trace.is_file():
        if (run_dir / MANIFEST).is_file():
            _err(f"运行目录 {run_dir} 缺少 trace.jsonl（归档被改动或已损坏）；请用 p4p verify 检查归档")
            sys.exit(EXIT_DIFF)
        _err(f"{run_dir} 不是一个运行目录（没有 trace.jsonl，也没有 {MANIFEST}）；应为 <归档>/<期间>/<运行编号>")
        sys.exit(EXIT_FAIL)
    try:
        return trace.read_bytes()
    except OSError as e:
        _err(f"无法读取 {trace}：{os_reason(e)}")
        sys.exit(EXIT_FAIL)


@main.command(epilog=examples(
    "p4p diff 归档/2026Q2/<原运行> 归档/2026Q2/<更正后运行>",
    "p4p diff 归档/2026Q1/<运行> 测算/2026Q1/<运行> --xlsx 差异.xlsx",
))  # fmt: skip
@click.argument("run_a", metavar="运行目录A", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", metavar="运行目录B", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--xlsx", "xlsx_out", type=click.Path(dir_okay=False, path_type=Path), help="同时写出 Excel 文件")
@_guard
def diff(run_a: Path, run_b: Path, xlsx_out: Path | None) -> None:
    """比较两次运行：逐机构、逐项目的金额差异和合计（只列出真正不同的行）。"""
    from ..report.diff import DiffError, compare, diff_text, diff_xlsx, load_run

    if xlsx_out:
        _outside_archives(xlsx_out, "差异文件", run_a, run_b)
    try:
        c = compare(load_run(run_a), load_run(run_b))
    except DiffError as e:
        _err(f"无法比较：{e}")
        sys.exit(EXIT_FAIL)
    for w in c.warnings:
        _err(f"警告：{w}")
    click.echo("\n".join(diff_text(c)))
    if xlsx_out:
        try:
            xlsx_out.write_bytes(diff_xlsx(c))
        except OSError as e:
            _err(f"无法写出 {xlsx_out}：{e.strerror or e}")
            sys.exit(EXIT_FAIL)
        click.echo(f"已写出 {xlsx_out}")


@main.command(epilog=examples("p4p statements 归档/2026Q1/<运行编号> --out 打印用结算单"))
@click.argument("run_dir", metavar="运行目录", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="输出目录（默认 ./statements-<运行编号>）")
@jobs_option
@_guard
def statements(run_dir: Path, out: Path | None, jobs: int | None) -> None:
    """为已有运行重新生成结算单（带当前审批状态），写到运行目录之外，归档保持不变。"""
    from ..archive.history import approval_label
    from ..report.pdf import render_run

    m = load_manifest(run_dir)
    out = out or Path(f"statements-{m['run_id']}")
    _outside_archives(out, "输出目录", run_dir)
    n = render_run(
        run_dir, m["run_id"], m, jobs=jobs, progress=not quiet(), out_dir=out, approval=approval_label(run_dir)
    )
    click.echo(f"已生成 {n} 份结算单和汇总报告")
    click.echo(str(out))


def _outside_archives(out: Path, what: str, *run_dirs: Path) -> None:
    """What p4p writes after the fact (statements, a diff workbook, a template) goes outside
    every archive: a file written into one (or into a run folder) is one its manifests do not
    cover, and verify reports the archive edited."""
    archives = [archive_of(r) for r in run_dirs if PERIOD_FOLDER.match(r.resolve().parent.name)]
    inside = _archive_around(out.resolve(), archives)
    if inside:
        _err(
            f"{what} {out} {inside}：应写到归档之外（写入归档的文件不在清单中，p4p verify 会报告归档被改动），"
            "未写入任何文件"
        )
        sys.exit(EXIT_INPUT)


def _archive_around(target: Path, archives: list[Path]) -> str | None:
    for archive in archives:
        if target == archive or archive in target.parents:
            return f"在归档 {archive} 之内"
    for p in (target, *target.parents):
        if (p / MANIFEST).is_file():
            return f"在运行目录 {p} 之内"
        if (p / APPROVALS).is_file() or _holds_runs(p):
            return f"在归档 {p} 之内"
    return None


def _holds_runs(folder: Path) -> bool:
    """An archive without approvals yet: a period folder (2026Q1/) holding a run folder."""
    try:
        periods = [c for c in folder.iterdir() if PERIOD_FOLDER.match(c.name) and c.is_dir()]
        return any((r / MANIFEST).is_file() for c in periods for r in c.iterdir())
    except OSError:
        return False


@main.command(epilog=examples("p4p template 2026Q2输入.xlsx --period 2026Q2"))
@click.argument("out", metavar="输出文件", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", metavar="期间", default="2026Q1", show_default=True, help="期间，如 2026Q1")
@rules_option
@_guard
def template(out: Path, period: str, rules_dir: Path | None) -> None:
    """生成一个空白的输入工作簿（含说明、下拉列表和数值校验）。"""
    import datetime as dt

    from ..read.validate import PERIOD_RE
    from ..report.template import write_template

    m = PERIOD_RE.match(period)
    if not m:
        _err(f"期间应写成 YYYYQn，例如 2026Q1：{period}")
        sys.exit(EXIT_INPUT)
    if out.exists() or out.is_symlink():  # perhaps the workbook a finance centre has filled in
        _err(f"文件 {out} 已存在，未覆盖：请换一个文件名，或确认不再需要后先删除它")
        sys.exit(EXIT_INPUT)
    _outside_archives(out, "模板文件")
    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    on = dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    r = rs.resolve(on)
    points = r.params.get(rs.workpoint_items, {})
    names = rs.service_items(on)
    items = {k: {"name": names[k], "points": r.texts().get(k) or str(points[k])} for k in names}  # type: ignore[index]
    write_template(out, period, items)
    click.echo(f"已生成输入模板：{out}")


# `p4p rules …` lives in its own module (it needs _guard and the exit codes defined above)
from .rules_cmds import rules  # noqa: E402

main.add_command(rules)

from . import archive_cmds, batch_cmds  # noqa: E402, F401  (register approve, history, replay, verify, batch)
