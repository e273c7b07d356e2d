"""p4p command line (click). User-facing text is Chinese; nothing here computes money."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path

import click

from .. import __version__
from ..app import DEFAULT_RULES, XLSX_MAX_LINES, compute_run, diff_rows, write
from ..archive.store import ArchiveError, MissingHistory, load_manifest
from ..engine.result import ComputeError
from ..engine.ledger import parse_ledger
from ..engine.trace import read_trace
from ..engine.summary import summary_text
from ..model.problems import InputError
from ..report.explain import explain_lines
from ..ruleset.errors import RulesetError
from ..ruleset.load import load_ruleset

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_DIFF = 0, 1, 2, 3


def _err(msg: str):
    click.echo(msg, err=True)


def _stage(msg: str, t0: float):
    _err(f"[{time.perf_counter() - t0:6.2f}s] {msg}")


def _report_input_error(e: InputError):
    _err(f"输入有 {e.count} 处问题，未计算、未写入任何文件：")
    for p in e.problems:
        _err(f"  - {p.text()}")


def _guard(fn):
    """Every expected failure becomes a Chinese message and an exit code, never a traceback."""

    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except InputError as e:
            _report_input_error(e)
            sys.exit(EXIT_INPUT)
        except MissingHistory as e:
            _err(f"输入被拒绝：{e}")
            sys.exit(EXIT_INPUT)
        except RulesetError as e:
            _err(f"规则集有 {len(e.problems)} 处问题，未计算、未写入任何文件：")
            for p in e.problems:
                _err(f"  - {p.text()}")
            sys.exit(EXIT_INPUT)
        except ComputeError as e:
            _err(f"计算被拒绝（规则集或输入的问题），未写入任何文件：{e}")
            sys.exit(EXIT_INPUT)
        except ArchiveError as e:
            _err(f"失败：{e}")
            sys.exit(EXIT_FAIL)
        except click.exceptions.Exit:
            raise
        except Exception as e:  # last resort: still no traceback for the user
            if os.environ.get("P4P_DEBUG"):
                raise
            _err(f"运行失败（内部错误）：{type(e).__name__}: {e}（设置 P4P_DEBUG=1 可查看详细信息）")
            sys.exit(EXIT_FAIL)

    wrapper.__name__, wrapper.__doc__ = fn.__name__, fn.__doc__
    return wrapper


@click.group()
@click.version_option(__version__, prog_name="p4p")
def main():
    """p4p —— 紧密型县域医共体绩效兑现计算与结算单。"""


@main.command()
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option(
    "--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="规则集目录（默认 huangshan-2026）"
)
@click.option("--archive", type=click.Path(path_type=Path), default=Path("archive"), show_default=True, help="归档目录")
@click.option("--no-pdf", is_flag=True, help="不生成 PDF 结算单")
@click.option("--jobs", type=int, default=None, help="生成 PDF 的并行进程数（默认 CPU 核数）")
@click.option("--json", "as_json", is_flag=True, help="以 JSON 输出汇总")
@click.option("--xlsx/--no-xlsx", "xlsx", default=None,
              help=f"是否生成 ledger.xlsx（默认：台账不超过 {XLSX_MAX_LINES:,} 行时生成）")  # fmt: skip
@click.option("--strict", is_flag=True, help="把规则集声明的数据核实提示当作错误（退出码 2，不写入任何文件）")
@_guard
def run(input_path, rules_dir, archive, no_pdf, jobs, as_json, xlsx, strict):
    """校验输入、计算本季度全部兑现金额，并写入归档运行目录。"""
    t0 = time.perf_counter()
    _stage("读取规则与输入，校验中…", t0)
    c = compute_run(input_path, rules_dir or DEFAULT_RULES, archive, xlsx=xlsx, strict=strict)
    _stage(f"计算完成：{len(c.result.order)} 行台账", t0)
    render = None
    if not no_pdf:
        from ..report.pdf import render_run

        render = lambda tmp, run_id, manifest: render_run(tmp, run_id, manifest, jobs=jobs, progress=True)
    run_dir = write(c, archive, render)
    _stage("运行目录已写入", t0)
    if as_json:
        click.echo(json.dumps(c.summary, ensure_ascii=False, sort_keys=True))
    else:
        click.echo(summary_text(c.summary))
    click.echo(str(run_dir))


@main.command()
@click.argument("input_path", type=click.Path(path_type=Path))
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None)
@click.option(
    "--archive",
    type=click.Path(path_type=Path),
    default=Path("archive"),
    show_default=True,
    help="第四季度：在此归档中检查前三季度是否已审批",
)
@_guard
def validate(input_path, rules_dir, archive):
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


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("inst_id")
@click.argument("item", required=False)
@_guard
def explain(run_dir, inst_id, item):
    """说明某机构（某项目）每一笔金额的计算过程、规则和政策依据。"""
    out = explain_lines(read_trace((run_dir / "trace.jsonl").read_bytes()), inst_id, item)
    if not out:
        _err(f"运行 {run_dir} 中没有机构 {inst_id}" + (f" 的项目 {item}" if item else "") + " 的台账行")
        sys.exit(EXIT_FAIL)
    click.echo("\n".join(out))


@main.command()
@click.argument("run_a", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.argument("run_b", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_guard
def diff(run_a, run_b):
    """比较两次运行：逐机构、逐项目的差异和合计。"""
    from decimal import Decimal

    a, b = parse_ledger((run_a / "ledger.csv").read_bytes()), parse_ledger((run_b / "ledger.csv").read_bytes())
    lines = diff_rows(a, b, "A", "B")
    for l in lines:
        click.echo(l)
    tot = lambda rows: sum((Decimal(r["amount"]) for r in rows), Decimal("0.00"))
    click.echo(f"共 {len(lines)} 处差异；合计 A {tot(a)} 元，B {tot(b)} 元，差 {tot(b) - tot(a)} 元")


@main.command()
@click.argument("run_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", type=click.Path(path_type=Path), default=None, help="输出目录（默认 ./statements-<运行编号>）")
@click.option("--jobs", type=int, default=None, help="并行进程数（默认 CPU 核数）")
@_guard
def statements(run_dir, out, jobs):
    """为已有运行重新生成结算单（带当前审批状态），写到运行目录之外，归档保持不变。"""
    from ..archive.store import approval_label
    from ..report.pdf import render_run

    m = load_manifest(run_dir)
    out = out or Path(f"statements-{m['run_id']}")
    n = render_run(run_dir, m["run_id"], m, jobs=jobs, progress=True, out_dir=out, approval=approval_label(run_dir))
    click.echo(f"已生成 {n} 份结算单和汇总报告")
    click.echo(str(out))


@main.command()
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--period", default="2026Q1", show_default=True, help="期间，如 2026Q1")
@click.option("--rules", "rules_dir", type=click.Path(path_type=Path), default=None)
@_guard
def template(out, period, rules_dir):
    """生成一个空白的输入工作簿（含说明、下拉列表和数值校验）。"""
    import datetime as dt

    from ..read.validate import PERIOD_RE
    from ..report.template import write_template

    m = PERIOD_RE.match(period)
    if not m:
        _err(f"期间应写成 YYYYQn，例如 2026Q1：{period}")
        sys.exit(EXIT_INPUT)
    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    on = dt.date(int(m.group(1)), 3 * int(m.group(2)) - 2, 1)
    r = rs.resolve(on)
    points = r.params.get(rs.workpoint_items, {})
    names = rs.service_items(on)
    items = {k: {"name": names[k], "points": r.texts().get(k) or str(points[k])} for k in names}  # type: ignore[index]
    write_template(out, period, items)
    click.echo(f"已生成输入模板：{out}")


@main.group()
def rules():
    """规则集工具。"""


@rules.command("check")
@click.argument("rules_dir", type=click.Path(path_type=Path), required=False)
@_guard
def rules_check(rules_dir):
    """检查规则集：文件、公式、决策表分档（缺口、重叠）、引用。"""
    rs = load_ruleset(rules_dir or DEFAULT_RULES)
    click.echo(
        f"规则集 {rs.id}（{rs.title}）检查通过：{len(rs.rules)} 条规则，{len(rs.tables)} 张决策表，"
        f"{len(rs.parameters)} 个参数；SHA-256 {rs.sha256}"
    )
    for r in rs.rules:
        click.echo(f"  {r.id:6} {r.item:16} {r.title}（{'；'.join(c.text() for c in r.cite)}）")


from . import archive_cmds, batch_cmds  # noqa: E402, F401  (register approve, history, replay, verify, batch)
