"""`p4p batch`: every alliance-quarter of a province folder, in parallel on Dask. Registered on
`main` by p4p/cli/__init__.py. Each alliance's problems are printed under its name (stderr); a
table of all alliances goes to stdout, then a summary line, then the archive's path."""

from __future__ import annotations

import sys
import time
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import click

from ..app import DEFAULT_RULES
from ..model.money import group_thousands
from .base import EXIT_FAIL, EXIT_INPUT, EXIT_OK, archive_option, examples, main, quiet, rules_option, xlsx_option
from .base import err as _err
from .base import guard as _guard

if TYPE_CHECKING:
    from ..app.batch_task import Failure, Outcome

STATUS = {
    "input": "输入被拒绝",
    "history": "输入被拒绝",
    "duplicate": "重复输入，未计算",
    "ruleset": "规则集被拒绝",
    "compute": "计算被拒绝",
    "environment": "失败",
    "killed": "失败",
    "internal": "失败",
}


@main.command(epilog=examples(
    "p4p batch 全省2026Q1/ --archive 归档 --no-pdf",
    "p4p batch 全省2026Q1/ --archive 归档 --workers 2",
    "p4p batch 全省2026Q1/ --archive 归档 --scheduler tcp://127.0.0.1:8786   # 已有的 Dask 集群",
))  # fmt: skip
@click.argument("province_dir", metavar="省级文件夹", type=click.Path(path_type=Path))
@archive_option
@rules_option
@click.option(
    "--workers", metavar="进程数", type=click.IntRange(min=1), default=None, help="本机计算进程数（默认 CPU 核数）"
)
@click.option(
    "--scheduler", metavar="地址", default=None, help="使用已有的 dask.distributed 调度器（如 tcp://10.0.0.5:8786）"
)
@click.option("--no-pdf", is_flag=True, help="不生成 PDF 结算单")
@xlsx_option
@click.option("--strict", is_flag=True, help="把规则集声明的数据核实提示当作错误（该医共体被拒绝）")
@_guard
def batch(
    province_dir: Path,
    archive: Path,
    rules_dir: Path | None,
    workers: int | None,
    scheduler: str | None,
    no_pdf: bool,
    xlsx: bool | None,
    strict: bool,
) -> None:
    """并行计算文件夹中每个医共体季度（含 period.yaml 的文件夹或 .xlsx 工作簿），各自写入归档运行目录。

    一个医共体的输入有问题不影响其他医共体。退出码：0 全部完成；2 有医共体被拒绝（输入、规则集、缺少已审批的前三季度）；
    1 有医共体因环境原因失败（计算进程意外退出、归档写入失败），需重新运行。"""
    if workers and scheduler:
        _err("--workers 与 --scheduler 不能同时使用（使用已有调度器时，计算进程由调度器的集群决定）")
        sys.exit(EXIT_INPUT)
    from ..app.batch import BatchError, Cluster, Progress, default_workers, run_batch  # Dask only for this command
    from ..app.batch_task import Options

    told = Told(time.perf_counter(), workers, scheduler, default_workers())
    try:
        outcomes = run_batch(province_dir, archive, rules_dir or DEFAULT_RULES, Options(not no_pdf, xlsx, strict),
                             Cluster(workers, scheduler), progress=Progress(told.start, told.ready, told.done))  # fmt: skip
    except BatchError as e:
        _err(f"失败：{e}")
        sys.exit(EXIT_FAIL)
    except KeyboardInterrupt:
        _err(interrupted_line(told.finished))
        raise
    for o in outcomes:
        if o.failure:
            _err("")
            _err(f"【{o.label}{_named(o)}】")
            for line in failure_lines(o.failure):
                _err(line)
    click.echo(outcome_table(outcomes, archive))
    click.echo(summary_line(outcomes, time.perf_counter() - told.t0))
    click.echo(str(archive))
    sys.exit(exit_code(outcomes))


@dataclass
class Told:
    """The progress lines on stderr (left out with -q), and the alliances finished so far."""

    t0: float
    workers: int | None
    scheduler: str | None
    cores: int
    finished: list[Outcome] = field(default_factory=list)

    def stage(self, msg: str) -> None:
        if not quiet():
            _err(f"[{time.perf_counter() - self.t0:7.2f}s] {msg}")

    def start(self, inputs: int, local: int | None) -> None:
        where = f"连接 Dask 调度器 {self.scheduler}…" if self.scheduler else f"在本机启动 {local} 个 Dask 计算进程…"
        self.stage(f"找到 {inputs} 个医共体季度，规则集已读取；{where}")
        if self.workers and self.workers > self.cores:
            _err(f"提示：--workers {self.workers} 多于本机的 CPU 核数（{self.cores}）：按 {self.cores} 个计算进程计算")

    def ready(self, inputs: int, n: int) -> None:
        self.stage(f"{n} 个计算进程已就绪，开始计算 {inputs} 个医共体季度")

    def done(self, o: Outcome, n: int, total: int) -> None:
        self.finished.append(o)
        self.stage(f"{n}/{total} {o.label}：{_status(o)}")


def interrupted_line(finished: list[Outcome]) -> str:
    """What a Ctrl-C leaves: the alliances archived before it stay (each run folder is whole)."""
    kept = sum(1 for o in finished if o.ok)
    if not kept:
        return "批量计算被中止：没有医共体季度写入归档。"
    return (f"批量计算被中止：此前完成的 {kept} 个医共体季度已写入归档（见上面标为“完成”的行），"
            "其余未写入；重新计算时只需放入其余的输入")  # fmt: skip


def exit_code(outcomes: list[Outcome]) -> int:
    """1 when an alliance failed for the environment (re-run it), else 2 when one was rejected."""
    codes = {o.failure.exit_code for o in outcomes if o.failure}
    return EXIT_FAIL if EXIT_FAIL in codes else EXIT_INPUT if codes else EXIT_OK


def _named(o: Outcome) -> str:
    return f"（{o.alliance} {o.period}）" if o.alliance else ""


def failure_lines(f: Failure) -> list[str]:
    """The same messages `p4p run` prints for these failures."""
    if f.kind == "input":
        return [f"输入有 {f.count} 处问题，未计算、未写入任何文件：", *(f"  - {p.text()}" for p in f.problems)]
    if f.kind == "ruleset":
        return [f"规则集有 {f.count} 处问题，未计算、未写入任何文件：", *(f"  - {p.text()}" for p in f.rule_problems)]
    prefix = {
        "history": "输入被拒绝：",
        "duplicate": "输入被拒绝：",
        "compute": "计算被拒绝（规则集或输入的问题），未写入任何文件：",
        "environment": "失败：",
        "internal": "运行失败（内部错误）：",
    }
    return [prefix.get(f.kind, "") + f.message]


def _status(o: Outcome) -> str:
    if o.failure:
        return STATUS.get(o.failure.kind, "失败")
    return f"完成（{o.checks} 条需核实）" if o.checks else "完成"


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool) -> str:
    fill = " " * max(0, w - _width(s))
    return fill + s if right else s + fill


def outcome_table(outcomes: list[Outcome], archive: Path) -> str:
    """One row per alliance-quarter: input, alliance, period, institutions, ledger lines, total,
    status, run folder (inside the archive)."""
    head = ["输入", "医共体", "期间", "机构数", "台账行数", "兑现合计（元）", "状态", "运行目录"]
    right = [False, False, False, True, True, True, False, False]
    rows = [head]
    for o in outcomes:
        folder = o.run_dir.relative_to(archive).as_posix() if o.run_dir else "—"
        counts = [f"{o.institutions:,}", f"{o.lines:,}", group_thousands(o.total)] if o.ok else ["", "", ""]
        rows.append([o.label, o.alliance, o.period, *counts, _status(o), folder])
    widths = [max(_width(r[i]) for r in rows) for i in range(len(head))]
    lines = ["  ".join(_pad(c, w, r) for c, w, r in zip(row, widths, right, strict=True)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def summary_line(outcomes: list[Outcome], seconds: float) -> str:
    ok = sum(1 for o in outcomes if o.ok)
    rejected = sum(1 for o in outcomes if o.failure and o.failure.exit_code == EXIT_INPUT)
    failed = len(outcomes) - ok - rejected
    return (f"共 {len(outcomes)} 个医共体季度：{ok} 个已写入归档，{rejected} 个被拒绝，{failed} 个失败"
            f"（用时 {seconds:.1f} 秒）")  # fmt: skip
