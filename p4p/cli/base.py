"""What every p4p command shares: exit codes, Chinese messages on stderr, the guard that turns
every expected failure into a message and an exit code (never a traceback), Chinese help
(click's own words, usage line and examples) and `--quiet`."""

from __future__ import annotations

import functools
import os
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from .. import __version__
from ..app import XLSX_MAX_LINES
from ..archive.errors import ArchiveError, MissingHistory, os_reason
from ..engine.result import ComputeError
from ..engine.trace import TraceError
from ..model.problems import InputError
from ..report.pool import cores as usable_cores
from ..ruleset.errors import RulesetError
from . import zh

EXIT_OK, EXIT_FAIL, EXIT_INPUT, EXIT_DIFF = 0, 1, 2, 3
F = TypeVar("F", bound=Callable[..., Any])
_state = {"quiet": False}

zh.install()


# options several commands share, worded once
rules_option = click.option(
    "--rules", "rules_dir", type=click.Path(path_type=Path), default=None, help="规则集目录（默认 huangshan-2026）"
)
archive_option = click.option(
    "--archive", type=click.Path(path_type=Path), default=Path("archive"), show_default=True, help="归档目录"
)
xlsx_option = click.option(
    "--xlsx/--no-xlsx",
    "xlsx",
    default=None,
    help=f"是否生成 ledger.xlsx（默认：台账不超过 {XLSX_MAX_LINES:,} 行时生成）",
)


def _jobs(_ctx: click.Context, _param: click.Parameter, jobs: int | None) -> int | None:
    """More PDF processes than cores render no faster and each holds its own copy of the fonts
    and templates: `--jobs 500` took all 24 GB of a machine. Cut to the cores, and said."""
    cores = usable_cores()
    if jobs is not None and jobs > cores:
        err(f"提示：--jobs {jobs} 多于本机的 CPU 核数（{cores}）：按 {cores} 个进程生成 PDF")
        return cores
    return jobs


jobs_option = click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=None,
    callback=_jobs,
    metavar="进程数",
    help="生成 PDF 的并行进程数（默认 CPU 核数）",
)


def quiet() -> bool:
    return _state["quiet"]


def err(msg: str) -> None:
    click.echo(msg, err=True)


def visible(text: str) -> str:
    """A line of archive content as printed: a control or invisible character (an edited
    manifest's carriage return or terminal escape could overwrite a finding with 核验通过…) is
    shown as <U+XXXX>, a line break too."""
    return "".join(f"<U+{ord(ch):04X}>" if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in text)


def visible_lines(message: str) -> str:
    """An error message as printed: its own line breaks stay, anything else invisible in the
    text it quotes (a manifest value) is shown as <U+XXXX>."""
    return "\n".join(visible(line) for line in message.split("\n"))


def stage(msg: str, t0: float) -> None:
    """A progress line on stderr (left out with --quiet)."""
    if not _state["quiet"]:
        err(f"[{time.perf_counter() - t0:6.2f}s] {msg}")


def _report_input_error(e: InputError) -> None:
    err(f"输入有 {e.count} 处问题，未计算、未写入任何文件：")
    for p in e.problems:
        err(f"  - {p.text()}")
    if e.warnings:
        err("提示（可能与上述问题有关）：")
        for w in e.warnings:
            err(f"  - {w}")


def _failure(e: Exception) -> int:
    """The message and exit code of an expected failure."""
    if isinstance(e, InputError):
        _report_input_error(e)
        return EXIT_INPUT
    if isinstance(e, MissingHistory):
        err(f"输入被拒绝：{e}")
        return EXIT_INPUT
    if isinstance(e, RulesetError):
        err(f"规则集有 {len(e.problems)} 处问题，未计算、未写入任何文件：")
        for p in e.problems:
            err(f"  - {p.text()}")
        return EXIT_INPUT
    if isinstance(e, TraceError):  # a run folder's file edited or damaged: what verify calls a finding
        err(visible_lines(str(e)))
        return EXIT_DIFF
    if isinstance(e, ComputeError):
        err(f"计算被拒绝（规则集或输入的问题），未写入任何文件：{e}")
        return EXIT_INPUT
    err(visible_lines(f"失败：{e}"))  # it may quote an archive's (edited) manifest
    return EXIT_FAIL


def guard(fn: F) -> F:
    """Every expected failure becomes a Chinese message and an exit code, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*a: Any, **kw: Any) -> Any:
        try:
            return fn(*a, **kw)
        except (InputError, MissingHistory, RulesetError, ComputeError, ArchiveError, TraceError) as e:
            sys.exit(_failure(e))
        except BrokenPipeError:
            _stdout_gone()
        except OSError as e:  # the environment (an input file without read permission, a disk error)
            err(f"失败：读写文件出错：{os_reason(e)}")
            sys.exit(EXIT_FAIL)
        except click.exceptions.Exit:
            raise
        except Exception as e:  # last resort: still no traceback for the user
            if os.environ.get("P4P_DEBUG"):
                raise
            err(f"运行失败（内部错误）：{type(e).__name__}: {e}（设置 P4P_DEBUG=1 可查看详细信息）")
            sys.exit(EXIT_FAIL)

    return wrapper  # type: ignore[return-value]


def _stdout_gone() -> None:
    """The reader of our output stopped (`p4p history | head -1`): that is not an error."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except OSError:
        pass
    sys.exit(EXIT_OK)


def examples(*lines: str) -> str:
    """An epilog of example commands (kept as written: click does not rewrap them)."""
    return "\b\n示例：\n" + "\n".join(f"  {x}" for x in lines)


class Command(click.Command):
    def __init__(self, *a: Any, **kw: Any) -> None:
        kw.setdefault("options_metavar", "[选项]")
        super().__init__(*a, **kw)


class Group(click.Group):
    command_class = Command

    def __init__(self, *a: Any, **kw: Any) -> None:
        kw.setdefault("options_metavar", "[选项]")
        kw.setdefault("subcommand_metavar", "命令 [参数]...")
        super().__init__(*a, **kw)


Group.group_class = Group


def _set_quiet(ctx: click.Context, param: click.Parameter, value: bool) -> bool:
    _state["quiet"] = bool(value)
    return bool(value)


@click.group(cls=Group, epilog=examples(
    "p4p validate 2026Q1/                         # 只校验输入",
    "p4p run 2026Q1.xlsx --archive 归档           # 计算并写入归档",
    "p4p approve 归档/2026Q1/<运行编号> --by 张会计 --payees 收款账户.xlsx",
    "p4p explain 归档/2026Q1/<运行编号> V0101      # 某机构每笔金额怎么算的",
    "p4p verify 归档                              # 审计：核验整个归档",
    "p4p 命令 --help                              # 每个命令的说明和示例",
))  # fmt: skip
@click.version_option(__version__, prog_name="p4p")
@click.option("--quiet", "-q", is_flag=True, expose_value=False, is_eager=True, callback=_set_quiet,
              help="不输出进度信息（供脚本使用；结果和错误照常输出）")  # fmt: skip
def main() -> None:
    """p4p —— 紧密型县域医共体绩效兑现：计算、结算单、发放清单、可审计的归档。"""
