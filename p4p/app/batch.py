"""`p4p batch`: every alliance-quarter of a province folder, run in parallel on Dask.

The client (this process) finds the inputs, reads the ruleset once, reads each alliance's
archive context (approved earlier quarters, the previous quarter) and sends it with the input
and ruleset files as one task (batch_task.py); workers compute and write complete run folders
into scratch folders of their own. The client moves each finished folder into the archive the
way every writer does (archive/runfolder.py): moved into an archive `.tmp-…` folder, checked
against its manifest, renamed to `<archive>/<period>/<run_id>/` — the archive never holds half
a folder. One alliance's failure never stops the others.
"""

from __future__ import annotations

import logging
import os
import secrets
import shutil
import signal
import tempfile
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from ..archive.errors import ArchiveError, os_reason
from ..archive.layout import PERIOD_RE, rel
from ..archive.manifest import load_manifest, plain_name, run_file_findings
from ..archive.runfolder import pid_alive, staging, unwritable
from ..model.facts import Columns, Period, Quarter
from ..model.problems import InputError, Problem
from ..read.folder import PERIOD_FILE, period_entries
from ..read.load import WORKBOOK_SUFFIXES
from ..read.period import build_period
from ..read.workbook import read_workbook
from ..report.pool import cores
from ..ruleset.load import load_ruleset
from ..ruleset.model import Ruleset
from .batch_task import Failure, Options, Outcome, Task, failed, run_task, scratch_name, sweep_scratch
from .context import Context, archive_context

IN_FLIGHT_PER_WORKER = 2  # tasks handed out ahead per worker (inputs are read as they go out)
CONNECT_SECONDS = 20  # waiting for an existing scheduler
ALLOWED_FAILURES = 1  # a task on a worker that dies is tried once more, then reported as killed
WORKER_EXIT_SECONDS = 10  # a closed local cluster's worker processes have this long to exit


class BatchError(Exception):
    """The batch as a whole cannot run (no scheduler, …): exit 1, nothing written."""


# ---- finding the inputs --------------------------------------------------------------------


def discover(root: Path, skip: Path | None = None) -> list[Path]:
    """Every alliance-quarter under `root`, sorted: each folder holding period.yaml (not looked
    into further) and each .xlsx/.xlsm workbook; hidden folders, Excel's `~$` lock files and
    the archive (`skip`) are passed over; linked folders are followed (each real folder once).
    `root` itself may be one input."""
    if root.is_file() and root.suffix.lower() in WORKBOOK_SUFFIXES:
        return [root]
    if not root.is_dir():
        raise InputError(
            [Problem(str(root), None, None, None, "路径不存在或不是文件夹（应为存放各医共体季度输入的文件夹）")]
        )
    if (root / PERIOD_FILE).is_file():
        return [root]
    seen = {skip.resolve()} if skip is not None else set()
    found: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
        here = Path(dirpath)
        seen.add(here.resolve())
        keep = []
        for d in sorted(dirnames):
            p = here / d
            if d.startswith(".") or p.resolve() in seen:
                continue
            if (p / PERIOD_FILE).is_file():
                found.append(p)
            else:
                keep.append(d)
        dirnames[:] = keep
        found += [here / f for f in filenames if _is_workbook(f)]
    if not found:
        msg = "没有找到任何医共体季度输入（含 period.yaml 的文件夹或 .xlsx 工作簿）"
        raise InputError([Problem(str(root), None, None, None, msg)])
    return sorted(found, key=lambda p: p.relative_to(root).as_posix())


def _is_workbook(name: str) -> bool:
    return Path(name).suffix.lower() in WORKBOOK_SUFFIXES and not name.startswith(("~$", "."))


def input_files(path: Path) -> dict[str, bytes]:
    """What the worker needs of an input: the workbook, or every file of the folder (p4p reads
    the tables and period.yaml and names the others in a warning, as `p4p run` does)."""
    if path.is_file():
        return {path.name: path.read_bytes()}
    return {p.name: p.read_bytes() for p in sorted(path.iterdir()) if p.is_file()}


def period_of(name: str, files: dict[str, bytes], workbook: bool) -> Period | None:
    """The period values, read as `p4p run` reads them; None when they have problems (the
    worker's full reading then reports every problem of the input)."""
    problems: list[Problem] = []
    warnings: list[str] = []
    if workbook:
        _, entries = read_workbook(files[name], name, problems, warnings)
        label = f"{name} 期间"
    else:
        entries = period_entries(files[PERIOD_FILE], problems) if PERIOD_FILE in files else None
        label = PERIOD_FILE
    return build_period(entries, label, problems, warnings) if entries is not None else None


# ---- the client's side of one alliance-quarter -----------------------------------------------


@dataclass
class Batch:
    """What every task of a batch shares, and the client's two steps around a task."""

    root: Path
    archive: Path
    ruleset: Ruleset
    options: Options
    scratch_root: str | None
    marker: tuple[str, str] | None = None
    first_input: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (key|name, …, period) → label

    def prepare(self, index: int, path: Path) -> Task | Outcome:
        """A task for one input, or its outcome already (missing approved quarters of a Q4,
        an archive that does not hold together, an input that cannot be read)."""
        label = path.relative_to(self.root).as_posix() if path != self.root else path.name
        try:
            files = input_files(path)
        except OSError as e:
            return Outcome(index, label, Failure("environment", f"不能读取输入：{os_reason(e)}"))
        try:
            period = period_of(path.name, files, path.is_file())
        except Exception:  # whatever it is, the worker's full reading reports it for this alliance alone
            period = None
        alliance, name = (period.alliance, period.period) if period else ("", "")
        if period:
            first = self.first_of(period, label)
            if first != label:
                return Outcome(index, label, Failure("duplicate", _duplicate(first, alliance, name)), alliance, name)
        try:
            ctx = archive_context(self.archive, _bare(period), self.ruleset) if period else Context()
        except Exception as e:  # MissingHistory (a Q4 without its approved quarters), a broken archive…
            return Outcome(index, label, Failure.of(e), alliance=alliance, period=name)
        return Task(index, label, path.name, path.is_file(), files, self.ruleset.files, self.ruleset.sha256,
                    ctx, self.options, alliance, name, self.scratch_root, self.marker)  # fmt: skip

    def first_of(self, period: Period, label: str) -> str:
        """The first input of this alliance-quarter in the batch: the same archive key, or a name
        that reads the same (approval refuses a namesake under another key: it would pay the
        quarter twice, so the later run could never be approved)."""
        keys = [("key", period.alliance_id or period.alliance, period.period),
                ("name", plain_name(period.alliance), period.period)]  # fmt: skip
        first = next((self.first_input[k] for k in keys if k in self.first_input), label)
        for k in keys:
            self.first_input.setdefault(k, first)
        return first

    def receive(self, out: Outcome) -> Outcome:
        """Move a finished run folder into the archive (an Outcome that failed passes through)."""
        if not out.ok:
            return out
        try:
            out.run_dir = adopt_run(self.archive, out)
        except (ArchiveError, OSError) as e:
            out.failure = Failure.of(e)
        finally:
            out.files = None
            if out.folder:
                discard_worker_folder(Path(out.folder))
        return out


def _duplicate(first: str, alliance: str, period: str) -> str:
    return (f"与输入 {first} 是同一医共体的同一季度（{alliance} {period}；编码或名称相同），未计算：一次批量计算中"
            f"每个医共体每季度只能有一份输入。请删去多余的一份；若要用的是这一份，删去 {first} 后重新计算；"
            "若确是不同的医共体，请使用不同的名称和 alliance_id")  # fmt: skip


def _bare(period: Period) -> Quarter:
    """archive_context reads only the quarter's period: the client has not read the tables."""
    return Quarter(period, Columns([], {}, {}, {}, {}))


def adopt_run(archive: Path, out: Outcome) -> Path:
    """Move (or copy) a worker's finished run folder into an archive temporary folder, check
    every file against its manifest, rename it to <archive>/<period>/<run_id>/."""
    if not PERIOD_RE.match(out.period) or not out.run_id or "/" in out.run_id or out.run_id.startswith("."):
        raise ArchiveError(f"计算节点返回的运行编号或期间无效：{out.period}/{out.run_id}")
    with staging(archive, out.period) as st:
        if out.files is not None:
            for relative, data in out.files.items():
                st.write(relative, data)
        elif out.folder and Path(out.folder).is_dir():
            move_into(Path(out.folder), st.path)
        else:
            raise ArchiveError(f"看不到计算节点 {out.worker} 写好的运行目录：{out.folder}")
        where = rel(archive, st.path)
        m = load_manifest(st.path)
        bad = run_file_findings(st.path, where)
        if bad or m.get("run_id") != out.run_id or m.get("period") != out.period:
            listed = "；".join(str(f) for f in bad) or "manifest 的运行编号或期间不符"
            raise ArchiveError(f"从计算节点 {out.worker} 收到的运行目录不完整，未放入归档：{listed}")
        return st.commit(archive / out.period / out.run_id)


def move_into(folder: Path, empty: Path) -> None:
    """A worker's finished folder into the (empty) archive temporary folder: renamed when both
    are on one file system (a worker of this machine: no copy), else copied."""
    try:
        os.rename(folder, empty)
    except OSError:  # another file system (EXDEV), or not allowed: copy
        shutil.copytree(folder, empty, dirs_exist_ok=True, symlinks=True)


def discard_worker_folder(folder: Path) -> None:
    """The worker's copy of a run folder, once archived (or refused); its period folder too
    when empty (the worker's staging makes it again when it needs it)."""
    shutil.rmtree(folder, ignore_errors=True)
    with suppress(OSError):
        folder.parent.rmdir()


# ---- the cluster --------------------------------------------------------------------------------


def default_workers() -> int:
    return cores()


DASK_SETTINGS = {
    # one task per worker at a time: a worker that dies takes only its own task with it
    "distributed.scheduler.worker-saturation": 1.0,
    "distributed.scheduler.allowed-failures": ALLOWED_FAILURES,
    # measured on statements (weasyprint): Dask's sampling profiler and its MALLOC_TRIM_THRESHOLD_
    # for worker processes together cost a fifth more CPU per PDF; nobody looks at the profile
    "distributed.worker.profile.enabled": False,
    "distributed.nanny.pre-spawn-environ": {"OMP_NUM_THREADS": 1, "MKL_NUM_THREADS": 1, "OPENBLAS_NUM_THREADS": 1},
    "distributed.admin.large-graph-warning-threshold": "1GB",
    "distributed.admin.tick.limit": "1h",  # a long task is not worth a warning on the terminal
    "logging.distributed": "error",
}


@contextmanager
def _quiet() -> Iterator[None]:
    """Dask's own logging and warnings stay off the terminal: errors reach the user as outcomes."""
    loggers = [logging.getLogger(n) for n in ("distributed", "tornado", "asyncio", "bokeh")]
    levels = [lg.level for lg in loggers]
    for lg in loggers:
        lg.setLevel(logging.CRITICAL)
    try:
        with warnings.catch_warnings():  # ("Port 8787 is already in use…"): English, and nothing to act on
            warnings.filterwarnings("ignore", module=r"(distributed|tornado|bokeh)(\..*)?$")
            yield
    finally:
        for lg, level in zip(loggers, levels, strict=True):
            lg.setLevel(level)


@dataclass(frozen=True)
class Cluster:
    """Where the tasks run: an existing scheduler, or a local cluster of `workers` processes
    with one thread each (default: one per core)."""

    workers: int | None = None
    scheduler: str | None = None


@contextmanager
def dask_client(where: Cluster) -> Iterator[Any]:
    import dask
    from distributed import Client, LocalCluster

    from .batch_plugin import IgnoreCtrlC

    scheduler = where.scheduler
    with dask.config.set(DASK_SETTINGS), _quiet():
        if scheduler:
            try:
                client = Client(scheduler, timeout=f"{CONNECT_SECONDS}s")
            except ValueError:  # not an address
                raise BatchError(f"不能连接 Dask 调度器 {scheduler}：地址无效（应为 tcp://主机:端口）") from None
            except (OSError, TimeoutError):
                raise BatchError(
                    f"不能连接 Dask 调度器 {scheduler}：{CONNECT_SECONDS} 秒内没有连上"
                    "（调度器没有运行，或地址、端口有误，或被防火墙挡住）"
                ) from None
            with client:
                yield client
            return
        n = where.workers or default_workers()
        with ExitStack() as stack:
            pids: list[int] = []
            stack.callback(wait_for_exit, pids)  # runs last: once the cluster is closed
            with workers_ignore_ctrl_c():
                cluster = stack.enter_context(
                    LocalCluster(
                        n_workers=n,
                        threads_per_worker=1,
                        processes=True,
                        dashboard_address=None,
                        silence_logs=logging.CRITICAL,
                        # no dashboard; the scheduler's own small HTTP server (health, metrics) on a free
                        # port of this machine only — by default it takes :8787 on every interface, and
                        # says so in an English warning when that port is taken
                        scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
                    )
                )
            client = stack.enter_context(Client(cluster))
            client.register_plugin(IgnoreCtrlC())  # a worker the nanny starts later in place of one that died
            pids += client.run(os.getpid).values()
            yield client


def wait_for_exit(pids: list[int], seconds: float = WORKER_EXIT_SECONDS) -> None:
    """The local workers after the cluster is closed: Dask returns while a worker process may
    still be exiting (after a Ctrl-C, often). Wait for them, so that none outlives the command
    and their scratch folders are swept. Not killed after `seconds`: by then the number may
    belong to another process."""
    deadline = time.monotonic() + seconds
    while any(pid_alive(p) for p in pids) and time.monotonic() < deadline:
        time.sleep(0.02)


@contextmanager
def workers_ignore_ctrl_c() -> Iterator[None]:
    """Ctrl-C is the client's to handle (已中止。, the cluster closed): the terminal sends SIGINT to
    the whole process group, and a Dask worker that took it printed a KeyboardInterrupt traceback
    in English. While the local cluster starts its workers, this process ignores SIGINT, and a
    process started then keeps ignoring it (the disposition survives fork and exec; Python and
    asyncio leave an ignored SIGINT ignored). A Ctrl-C in that second is lost; the next one stops
    the batch. (Blocking SIGINT instead would not do: Python's subprocess start-up unblocks it
    in a child started from a thread other than the main one, which is where Dask starts them.)"""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal dispositions; nor does it receive Ctrl-C
        return
    before = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, before)


def warm_up(pdf: bool) -> str:
    """Run on every worker before the first task: import what a task needs (a second or so),
    so that the workers are ready when the command says so. Returns the worker's p4p version."""
    import importlib

    for module in ("p4p.app.run", "p4p.report.xlsx", *(("p4p.report.pdf", "weasyprint") if pdf else ())):
        importlib.import_module(module)
    return __version__


def same_version(versions: dict[str, str]) -> None:
    """Every run folder records the engine version: the workers must run this p4p."""
    other = {w: v for w, v in versions.items() if v != __version__}
    if other:
        listed = "、".join(f"{w}（{v}）" for w, v in sorted(other.items()))
        raise BatchError(f"计算节点的 p4p 版本与本机（{__version__}）不同，未计算：{listed}")


def worker_count(client: Any) -> int:
    return max(1, len(client.scheduler_info().get("workers", {})))


# ---- the whole batch ------------------------------------------------------------------------------


def _nothing(*_: object) -> None:
    return None


@dataclass(frozen=True)
class Progress:
    """What the command is told as the batch goes: `start(inputs, local_workers)` once the inputs
    are found and the ruleset read (before the cluster starts; None with a scheduler),
    `ready(inputs, workers)` once it is up, `done(outcome, n, inputs)` as each alliance is
    finished."""

    start: Callable[[int, int | None], None] = _nothing
    ready: Callable[[int, int], None] = _nothing
    done: Callable[[Outcome, int, int], None] = _nothing


def run_batch(
    root: Path,
    archive: Path,
    rules_dir: Path,
    options: Options,
    cluster: Cluster,
    *,
    scratch_root: Path | None = None,
    progress: Progress | None = None,
) -> list[Outcome]:
    """Run every alliance-quarter under `root`; returns the outcomes in input order. Raises
    InputError (no inputs), RulesetError (the ruleset) or BatchError (an archive that cannot be
    written, no cluster) before any alliance is run."""
    told = progress or Progress()
    inputs = discover(root, archive)
    why = unwritable(archive)
    if why:
        raise BatchError(f"不能写入归档 {archive}：{why}；没有计算任何医共体")
    rs = load_ruleset(rules_dir)
    if cluster.scheduler is None:  # no more worker processes than cores or inputs: each costs ~150 MB
        cluster = Cluster(workers=min(cluster.workers or default_workers(), default_workers(), len(inputs)))
    told.start(len(inputs), cluster.workers)
    with client_scratch(scratch_root) as marker:
        batch = Batch(root, archive, rs, options, str(scratch_root) if scratch_root else None, marker)
        try:
            with dask_client(cluster) as client:
                same_version(client.run(warm_up, options.pdf))
                told.ready(len(inputs), worker_count(client))
                return _drive(client, batch, inputs, told.done)
        finally:
            sweep_scratch(scratch_root or Path(tempfile.gettempdir()))


@contextmanager
def client_scratch(root: Path | None) -> Iterator[tuple[str, str]]:
    """The client's own scratch folder with a token file: a worker that can read the token
    shares this machine's files, so it returns where its run folder is, not its bytes."""
    base = root or Path(tempfile.gettempdir())
    folder = base / scratch_name(os.getpid())
    token = secrets.token_hex(16)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"client-{token}").write_text(token, encoding="ascii")
    except OSError as e:
        raise BatchError(f"不能建立临时目录 {folder}：{os_reason(e)}") from None
    try:
        yield str(folder / f"client-{token}"), token
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _drive(
    client: Any, batch: Batch, inputs: list[Path], on_done: Callable[[Outcome, int, int], None]
) -> list[Outcome]:
    """Hand out tasks (a few per worker ahead), archive each finished run as it arrives."""
    from distributed import as_completed

    outcomes: list[Outcome] = []
    queue = iter(enumerate(inputs))
    running = as_completed()
    labels: dict[Any, Task] = {}
    limit = IN_FLIGHT_PER_WORKER * worker_count(client)

    def finish(o: Outcome) -> None:
        outcomes.append(o)
        on_done(o, len(outcomes), len(inputs))

    def hand_out() -> None:
        while running.count() < limit:
            nxt = next(queue, None)
            if nxt is None:
                return
            prepared = batch.prepare(*nxt)
            if isinstance(prepared, Outcome):
                finish(prepared)
                continue
            fut = client.submit(
                run_task, prepared, pure=False, key=f"p4p-batch-{prepared.index}-{secrets.token_hex(4)}"
            )
            labels[fut] = prepared
            running.add(fut)

    hand_out()
    for fut in running:
        task = labels.pop(fut)
        finish(batch.receive(_result(fut, task)))
        fut.release()
        hand_out()
    return sorted(outcomes, key=lambda o: o.index)


def _result(fut: Any, task: Task) -> Outcome:
    """The worker's outcome, or why there is none (the worker died, the scheduler went away)."""
    from distributed import KilledWorker

    try:
        out: Outcome = fut.result()
        return out
    except KilledWorker:
        msg = (f"计算进程在计算时意外退出（已重试 {ALLOWED_FAILURES} 次；可能是内存不足或进程被终止），"
               "本医共体未写入归档")  # fmt: skip
        return failed(task, Failure("killed", msg))
    except Exception as e:  # the cluster failed under this task
        return failed(task, Failure("killed", f"计算失败（Dask 集群出错）：{type(e).__name__}: {e}"))
