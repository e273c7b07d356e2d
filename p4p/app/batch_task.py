"""One alliance-quarter of `p4p batch`, as a Dask worker runs it.

The task carries everything the run needs — the input files, the ruleset files and the archive
context the client read — so a worker needs no shared file system and no access to the archive.
The worker writes the complete run folder (manifest, PDFs) into a scratch folder of its own,
`<tmp>/p4p-batch-<host>-<pid>/`, through the archive's staging code (the scratch folder is
written like an archive: `.tmp-…` while being written, then sealed and renamed), and returns
where it is — or, when the client cannot see the worker's files, the folder's bytes.

Expected failures (bad input, rejected computation, missing approved quarters) come back as a
`Failure` (a Chinese message or problem list); nothing raised on a worker crosses the wire.
"""

from __future__ import annotations

import os
import secrets
import shutil
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from ..archive.errors import ArchiveError, MissingHistory, os_reason
from ..archive.layout import host_name
from ..archive.manifest import present_files
from ..archive.runfolder import writer_alive
from ..engine.result import ComputeError
from ..model.problems import InputError, Problem
from ..ruleset.errors import RuleProblem, RulesetError
from ..ruleset.load import load_ruleset
from ..ruleset.model import Ruleset
from .context import Context
from .run import Computed, compute_run, write

SCRATCH_PREFIX = "p4p-batch-"
KILL_ENV = "P4P_TEST_KILL_WORKER"  # test seam: a worker given this input dies at once (os._exit)

EXIT_FAIL, EXIT_INPUT = 1, 2


@dataclass(frozen=True)
class Failure:
    """Why an alliance-quarter was not written, in a form that survives pickling.
    kind: input | ruleset | compute | history | duplicate (exit 2: the input or ruleset) or
    environment | killed | internal (exit 1)."""

    kind: str
    message: str = ""
    problems: tuple[Problem, ...] = ()
    rule_problems: tuple[RuleProblem, ...] = ()
    count: int = 0

    @property
    def exit_code(self) -> int:
        return EXIT_INPUT if self.kind in ("input", "ruleset", "compute", "history", "duplicate") else EXIT_FAIL

    @classmethod
    def of(cls, e: BaseException) -> Failure:
        if isinstance(e, InputError):
            return cls("input", problems=tuple(e.problems), count=e.count)
        if isinstance(e, RulesetError):
            return cls("ruleset", rule_problems=tuple(e.problems), count=len(e.problems))
        if isinstance(e, ComputeError):
            return cls("compute", str(e))
        if isinstance(e, MissingHistory):
            return cls("history", str(e))
        if isinstance(e, ArchiveError):
            return cls("environment", str(e))
        if isinstance(e, OSError):
            return cls("environment", f"计算节点 {host_name()} 上读写文件失败：{os_reason(e)}")
        return cls("internal", f"{type(e).__name__}: {e}")


@dataclass(frozen=True)
class Options:
    pdf: bool = True
    xlsx: bool | None = None
    strict: bool = False


@dataclass
class Task:
    index: int
    label: str  # the input as the client names it (its path under PROVINCE_DIR)
    input_name: str  # the folder's or workbook's own name
    workbook: bool
    input_files: dict[str, bytes]  # the folder's files by name, or {book name: bytes}
    rules_files: dict[str, bytes]
    rules_sha256: str
    context: Context
    options: Options
    alliance: str = ""  # as the client read them from the period (for messages)
    period: str = ""
    scratch_root: str | None = None  # where workers make their scratch folder (default: their tmp)
    client_marker: tuple[str, str] | None = None  # (path, token) of a file only the client's machine has


@dataclass
class Outcome:
    """What became of one alliance-quarter. A finished run is at `folder` on the worker (when
    the client can see it) or carried in `files`; the client sets `run_dir` once it is archived."""

    index: int
    label: str
    failure: Failure | None = None
    alliance: str = ""
    period: str = ""
    institutions: int = 0
    lines: int = 0
    total: str = ""
    checks: int = 0  # plausibility warnings of the ruleset (需要核实的数据)
    run_id: str = ""
    worker: str = ""  # host:pid
    folder: str | None = None
    files: dict[str, bytes] | None = None
    run_dir: Path | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.failure is None


def run_task(task: Task) -> Outcome:
    """The worker's side: compute and write the run folder into this process's scratch folder."""
    if os.environ.get(KILL_ENV) == task.input_name:
        os._exit(70)
    where: Path | None = None
    try:
        scratch = worker_scratch(task.scratch_root)
        where = scratch / f".in-{secrets.token_hex(6)}"
        source = _materialise_input(where, task)
        rules, ruleset = _ruleset(scratch, task)
        c = compute_run(source, rules, None, task.context, xlsx=task.options.xlsx, strict=task.options.strict,
                        ruleset=ruleset)  # fmt: skip
        run_dir = write(c, scratch, _renderer() if task.options.pdf else None)
    except Exception as e:  # every failure goes back as a message; a traceback would not pickle well
        return failed(task, Failure.of(e))
    finally:
        if where is not None:
            shutil.rmtree(where, ignore_errors=True)
    return _finished(task, c, run_dir)


def failed(task: Task, why: Failure) -> Outcome:
    return Outcome(task.index, task.label, why, alliance=task.alliance, period=task.period)


def _me() -> str:
    return f"{host_name()}:{os.getpid()}"


def _renderer() -> Callable[[Path, str, dict], object]:
    """Statements rendered on this worker, one process (the workers are the parallelism)."""
    from ..report.pdf import render_run

    return lambda folder, run_id, manifest: render_run(folder, run_id, manifest, jobs=1)


def _finished(task: Task, c: Computed, run_dir: Path) -> Outcome:
    s = c.summary
    out = Outcome(
        task.index,
        task.label,
        alliance=c.quarter.period.alliance,
        period=c.quarter.period.period,
        institutions=len(c.quarter.institutions),
        lines=len(c.result.order),
        total=str(s["grand_total"]),
        checks=sum(1 for w in s["warnings"] if w.get("kind") == "check"),
        run_id=run_dir.name,
        worker=_me(),
    )
    if client_sees_me(task.client_marker):
        out.folder = str(run_dir)
    else:  # another machine: the folder travels back as bytes, the scratch copy goes
        out.files = {r: (run_dir / r).read_bytes() for r in present_files(run_dir)}
        shutil.rmtree(run_dir, ignore_errors=True)
    return out


def client_sees_me(marker: tuple[str, str] | None) -> bool:
    """Whether the client shares this machine's files: it left a file with a random token."""
    if marker is None:
        return False
    try:
        return Path(marker[0]).read_text(encoding="ascii") == marker[1]
    except (OSError, UnicodeDecodeError):
        return False


def scratch_name(pid: int) -> str:
    return f"{SCRATCH_PREFIX}{host_name()}-{pid}"


def worker_scratch(root: str | None) -> Path:
    """This process's scratch folder (made once; the folders of dead processes of this host go)."""
    base = Path(root or tempfile.gettempdir())
    mine = base / scratch_name(os.getpid())
    if not mine.is_dir():
        sweep_scratch(base)
        mine.mkdir(parents=True, exist_ok=True)
    return mine


def sweep_scratch(base: Path) -> list[Path]:
    """Remove the scratch folders of this host whose process is gone (or whose process id now
    belongs to a later process); returns what went."""
    head = f"{SCRATCH_PREFIX}{host_name()}-"
    gone = []
    for p in sorted(base.glob(f"{head}*")) if base.is_dir() else []:
        pid = p.name[len(head) :]
        if pid.isdigit() and p.is_dir() and not p.is_symlink() and not writer_alive(int(pid), p):
            shutil.rmtree(p, ignore_errors=True)
            gone.append(p)
    return gone


def _write_files(folder: Path, files: dict[str, bytes]) -> None:
    for name, data in files.items():
        parts = PurePosixPath(name).parts
        if len(parts) != 1 or name in (".", ".."):
            raise ArchiveError(f"输入文件名不能含目录：{name}")
        (folder / name).write_bytes(data)


def _materialise_input(where: Path, task: Task) -> Path:
    """The input as files again, under its own name (the names go into the run folder)."""
    if task.workbook:
        where.mkdir()
        _write_files(where, task.input_files)
        return where / task.input_name
    folder = where / task.input_name
    folder.mkdir(parents=True)
    _write_files(folder, task.input_files)
    return folder


_RULESETS: dict[str, Ruleset] = {}  # loaded rulesets of this worker process, by SHA-256


def _ruleset(scratch: Path, task: Task) -> tuple[Path, Ruleset]:
    """The task's ruleset as a folder and loaded — once per worker process: loading (the YAML
    parser) costs about as much as computing an alliance of 500 institutions."""
    folder = _materialise_rules(scratch, task)
    rs = _RULESETS.get(task.rules_sha256)
    if rs is None:
        rs = load_ruleset(folder)
        if rs.sha256 != task.rules_sha256:
            raise ArchiveError(f"计算节点 {host_name()} 收到的规则集文件与客户端读取的不一致")
        _RULESETS[task.rules_sha256] = rs
    return folder, rs


def _materialise_rules(scratch: Path, task: Task) -> Path:
    """The ruleset as a folder, once per process and ruleset (renamed into place whole)."""
    final = scratch / f".rules-{task.rules_sha256[:16]}"
    if final.is_dir():
        return final
    tmp = scratch / f".rules-{task.rules_sha256[:16]}-{secrets.token_hex(4)}"
    tmp.mkdir()
    _write_files(tmp, task.rules_files)
    try:
        os.rename(tmp, final)
    except OSError:  # another thread of this process was first
        shutil.rmtree(tmp, ignore_errors=True)
    return final
