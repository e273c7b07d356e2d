"""`p4p batch`: every alliance-quarter of a province folder on Dask. Each alliance's run folder
is what `p4p run` writes for the same input and archive (byte for byte in everything but the
run id, the manifest's time and the PDFs' stamps); a bad alliance is reported under its name
and stops nobody else; the archive never holds a temporary or half-moved folder.

The fast tests drive the worker's task in this process (what a Dask worker does, without the
cluster); the slow ones start a real 2-worker local cluster."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from archive_kit import approved_quarters, q4_input

from p4p import __version__
from p4p.app import DEFAULT_RULES, compute_run
from p4p.app.batch import (
    Batch,
    BatchError,
    Cluster,
    client_scratch,
    discover,
    move_into,
    run_batch,
    same_version,
)
from p4p.app.batch_task import KILL_ENV, Failure, Options, Outcome, Task, run_task, scratch_name, sweep_scratch
from p4p.archive.layout import TMP_PREFIX
from p4p.archive.runfolder import unwritable
from p4p.cli.batch_cmds import exit_code
from p4p.ruleset.load import load_ruleset

from conftest import ACCEPTANCE, BASE_ASSESSMENT, ROOT, cli, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

# Everything compute_run writes (all but manifest.json and the PDFs) must be the same bytes.
NOT_COMPARED = ("manifest.json", "summary.pdf", "statements/", "bundles/")  # PDFs carry their time


def files_of(run_dir: Path) -> dict[str, bytes]:
    return {
        p.relative_to(run_dir).as_posix(): p.read_bytes()
        for p in sorted(run_dir.rglob("*"))
        if p.is_file() and not p.relative_to(run_dir).as_posix().startswith(NOT_COMPARED)
    }


def leftovers(*folders: Path) -> list[Path]:
    """Temporary folders of the archive staging or of batch scratch space."""
    found = []
    for f in folders:
        if f.is_dir():
            found += [p for p in f.rglob("*") if p.name.startswith((TMP_PREFIX, "p4p-batch-", ".in-"))]
    return found


def bad_quarter(d: Path) -> Path:
    """T01's score is "九十" (row 4 of assessment.csv: header, L01, C01, T01)."""
    rows = [list(r) for r in BASE_ASSESSMENT]
    rows[2][1] = "九十"
    return write_quarter(d, assessment=rows)


def batch_of(tmp: Path, archive: Path, root: Path, marker: tuple[str, str] | None = None) -> Batch:
    rs = load_ruleset(DEFAULT_RULES)
    return Batch(root, archive, rs, Options(pdf=False), str(tmp / "scratch"), marker)


# ---- finding the inputs -------------------------------------------------------------------


def test_discover_finds_input_folders_and_workbooks_sorted_and_skips_the_archive(tmp_path):
    root = tmp_path / "province"
    for d in ("县乙/2026Q1", "县甲/2026Q2", "县甲/2026Q1", ".hidden/2026Q1", "archive/2026Q1/run/inputs"):
        (root / d).mkdir(parents=True)
        (root / d / "period.yaml").write_text("period: 2026Q1\n", encoding="utf-8")
    (root / "县甲" / "2026Q1" / "sub").mkdir()  # inside an input folder: not looked into
    (root / "县甲" / "2026Q1" / "sub" / "period.yaml").write_text("x", encoding="utf-8")
    (root / "县丙").mkdir()
    (root / "县丙" / "2026Q1.xlsx").write_bytes(b"")
    (root / "县丙" / "~$2026Q1.xlsx").write_bytes(b"")  # Excel's lock file while the book is open
    (root / "县丙" / "notes.txt").write_text("", encoding="utf-8")
    found = discover(root, root / "archive")
    assert [p.relative_to(root).as_posix() for p in found] == [
        "县丙/2026Q1.xlsx",
        "县乙/2026Q1",
        "县甲/2026Q1",
        "县甲/2026Q2",
    ]  # sorted by path (code point order: 丙 U+4E19 < 乙 U+4E59 < 甲 U+7532)
    assert discover(root / "县甲" / "2026Q1") == [root / "县甲" / "2026Q1"]  # one input given directly


def test_discover_follows_linked_folders_once(tmp_path):
    """A county linked in from elsewhere is found; a link back up (a loop) is not walked twice."""
    elsewhere = tmp_path / "elsewhere" / "2026Q1"
    elsewhere.mkdir(parents=True)
    (elsewhere / "period.yaml").write_text("period: 2026Q1\n", encoding="utf-8")
    root = tmp_path / "province"
    (root / "县甲").mkdir(parents=True)
    (root / "县甲" / "linked").symlink_to(tmp_path / "elsewhere")
    (root / "县甲" / "loop").symlink_to(root)
    assert [p.relative_to(root).as_posix() for p in discover(root)] == ["县甲/linked/2026Q1"]


def test_workers_with_another_p4p_version_are_refused():
    """Every run folder records the engine version: a worker running another p4p would write
    run folders the client's p4p did not compute."""
    with pytest.raises(BatchError) as e:
        same_version({"tcp://10.0.0.7:4001": "0.0.1", "tcp://10.0.0.8:4001": __version__})
    assert str(e.value) == f"计算节点的 p4p 版本与本机（{__version__}）不同，未计算：tcp://10.0.0.7:4001（0.0.1）"


def test_the_exit_code_says_environment_before_input():
    """A killed worker (1: run the batch again) outranks a rejected input (2: fix the input)."""
    ok = Outcome(0, "a")
    rejected = Outcome(1, "b", Failure("input"))
    killed = Outcome(2, "c", Failure("killed", "…"))
    assert [exit_code(x) for x in ([ok], [ok, rejected], [ok, rejected, killed])] == [0, 2, 1]


def test_a_province_folder_without_inputs_is_refused(tmp_path):
    (tmp_path / "empty").mkdir()
    r = cli("batch", tmp_path / "empty", "--archive", tmp_path / "archive", "--no-pdf")
    assert r.exit_code == 2
    assert "没有找到任何医共体季度输入" in r.stderr
    assert not (tmp_path / "archive").exists()


def test_a_scheduler_that_is_not_an_address_or_not_there_is_said_in_chinese(tmp_path, archive, monkeypatch):
    from p4p.app import batch as batch_mod

    root = tmp_path / "省"
    write_quarter(root / "县乙" / "2026Q1")
    r = cli("batch", root, "--archive", archive, "--scheduler", "nonsense")
    assert r.exit_code == 1
    assert "找到 1 个医共体季度，规则集已读取；连接 Dask 调度器 nonsense…" in r.stderr
    assert "失败：不能连接 Dask 调度器 nonsense：地址无效（应为 tcp://主机:端口）" in r.stderr
    monkeypatch.setattr(batch_mod, "CONNECT_SECONDS", 1)
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]  # closed again: nobody listens there
    r = cli("batch", root, "--archive", archive, "--scheduler", f"tcp://127.0.0.1:{port}")
    assert r.exit_code == 1 and "1 秒内没有连上（调度器没有运行，或地址、端口有误，或被防火墙挡住）" in r.stderr
    assert not archive.exists()


@pytest.mark.parametrize("below", ["", "归档"])
@pytest.mark.parametrize("command", ["run", "batch"])
def test_an_archive_that_cannot_be_written_is_said_before_anything_is_computed(tmp_path, command, below):
    quarter = write_quarter(tmp_path / "province" / "县甲" / "2026Q1")
    (tmp_path / "a-file").write_text("x")
    archive = tmp_path / "a-file" / below if below else tmp_path / "a-file"
    if command == "run":
        r = cli("run", quarter, "--archive", archive, "--no-pdf")
        done = "未计算"
    else:
        r = cli("batch", quarter.parent.parent, "--archive", archive, "--workers", "1", "--no-pdf")
        done = "没有计算任何医共体"
        assert "计算进程" not in r.stderr  # no cluster was started
    assert r.exit_code == 1
    assert f"失败：不能写入归档 {archive}：{tmp_path / 'a-file'} 不是文件夹；{done}" in r.stderr
    assert "计算完成" not in r.stderr


def test_an_archive_in_a_folder_this_user_may_not_write_is_said(tmp_path, monkeypatch):
    """(As root every folder is writable: os.access stands for a folder of another user or a
    file system mounted read-only.)"""
    monkeypatch.setattr(os, "access", lambda path, mode: Path(path) != tmp_path)
    assert unwritable(tmp_path / "归档" / "2026") == f"没有在 {tmp_path} 中写入的权限（或其所在的文件系统只读）"
    assert unwritable(tmp_path.parent / "elsewhere") is None


def test_workers_and_scheduler_together_are_refused(tmp_path):
    r = cli("batch", tmp_path, "--workers", "2", "--scheduler", "tcp://127.0.0.1:1")
    assert r.exit_code == 2 and "--workers 与 --scheduler 不能同时使用" in r.output


# ---- one alliance through the worker's task, in this process ----------------------------------


def test_a_q4_through_the_worker_is_the_run_p4p_run_writes(tmp_path, archive):
    """The client reads the approved Q1–Q3 and the previous quarter from the archive and sends
    them with the task; the worker has no archive. Its run folder equals `p4p run`'s in every
    file compute_run writes (ledger, trace, summary, ledger.xlsx, inputs, rules, history/,
    previous/), and the manifest names the same approved quarters."""
    approved_quarters(tmp_path, archive)
    q4 = q4_input(tmp_path)
    single = run_ok(q4, archive)
    with client_scratch(tmp_path / "scratch") as marker:  # the worker shares this machine's files
        batch = batch_of(tmp_path, archive, tmp_path, marker)
        task = batch.prepare(0, q4)
        assert isinstance(task, Task)
        done = run_task(task)
        assert done.files is None and done.folder is not None and Path(done.folder).is_dir()
        out = batch.receive(done)
    assert out.ok and out.run_dir is not None, out.failure
    assert out.run_dir.parent == archive / "2026Q4" and out.run_dir != single
    assert files_of(out.run_dir) == files_of(single)
    assert "history/2026Q3.ledger.csv" in files_of(single) and "previous/2026Q3/ledger.csv" in files_of(single)
    m_single, m_batch = (manifest(d) for d in (single, out.run_dir))
    assert m_batch["prior_runs"] == m_single["prior_runs"] and m_batch["files"] == m_single["files"]
    ledger_lines = len(files_of(single)["ledger.csv"].splitlines()) - 1  # less the header
    assert (out.institutions, out.lines, out.period) == (6, ledger_lines, "2026Q4")
    assert not Path(done.folder).exists()  # the worker's copy went once archived
    assert cli("replay", out.run_dir).exit_code == 0
    assert cli("verify", archive).exit_code == 0
    assert leftovers(archive, tmp_path / "scratch") == []


def test_a_worker_folder_is_renamed_into_the_archive_or_else_copied(tmp_path):
    """Same file system: renamed (nothing left behind); when the rename cannot be done (here: the
    target is not empty), copied — the same files either way."""
    src, dst = tmp_path / "w" / "run", tmp_path / "a" / ".tmp-x"
    (src / "sub").mkdir(parents=True)
    (src / "ledger.csv").write_bytes(b"a")
    (src / "sub" / "t.pdf").write_bytes(b"b")
    dst.mkdir(parents=True)
    move_into(src, dst)
    assert (
        not src.exists() and (dst / "ledger.csv").read_bytes() == b"a" and (dst / "sub" / "t.pdf").read_bytes() == b"b"
    )
    src2, dst2 = tmp_path / "w2", tmp_path / "a2"
    src2.mkdir()
    (src2 / "ledger.csv").write_bytes(b"c")
    dst2.mkdir()
    (dst2 / "keep").write_bytes(b"")  # rename(2) refuses a non-empty target
    move_into(src2, dst2)
    assert (dst2 / "ledger.csv").read_bytes() == b"c" and (src2 / "ledger.csv").exists()


def manifest(run_dir: Path) -> dict:
    return json.loads((run_dir / "manifest.json").read_text(encoding="utf-8"))


def test_a_worker_on_another_machine_sends_the_folder_back_as_bytes(tmp_path, archive):
    """Without the client's token file the worker cannot see the client's files: it returns the
    run folder's files and removes its own copy; the client archives them the same way."""
    q1 = write_quarter(tmp_path / "in")
    batch = batch_of(tmp_path, archive, tmp_path)
    task = batch.prepare(0, q1)
    assert isinstance(task, Task) and task.client_marker is None
    out = run_task(task)
    assert out.folder is None and out.files is not None and "manifest.json" in out.files
    assert list((tmp_path / "scratch").glob(f"{scratch_name(os.getpid())}/2026Q1/*")) == []
    out = batch.receive(out)
    assert out.ok and out.run_dir is not None and out.files is None
    assert files_of(out.run_dir) == files_of(run_ok(q1, tmp_path / "single"))
    assert cli("verify", archive).exit_code == 0


def test_a_workbook_through_the_worker_is_the_run_p4p_run_writes(tmp_path, archive):
    """The client reads the period from the workbook's period sheet (for the archive context);
    the worker gets the book under its own name, which goes into inputs/ and the manifest."""
    from test_workbook import to_workbook

    book = to_workbook(ACCEPTANCE / "2026Q2", tmp_path / "徽州区2026Q2.xlsx")
    approved_quarters(tmp_path / "q", archive, quarters=(1,))
    single = run_ok(book, archive)
    out = batch_of(tmp_path, archive, tmp_path).receive(run_task(task_of(tmp_path, archive, book)))
    assert out.ok and out.run_dir is not None, out.failure
    assert files_of(out.run_dir) == files_of(single)
    assert "inputs/徽州区2026Q2.xlsx" in files_of(single) and (out.alliance, out.period) == (
        "徽州区紧密型县域医共体",
        "2026Q2",
    )


def task_of(tmp: Path, archive: Path, inp: Path) -> Task:
    task = batch_of(tmp, archive, tmp).prepare(0, inp)
    assert isinstance(task, Task), task
    return task


def test_a_folder_spoilt_on_the_way_is_not_archived(tmp_path, archive):
    """The client checks every file against the manifest before the rename: a changed ledger
    line leaves nothing in the archive (no run folder, no temporary folder) and exit 1."""
    batch = batch_of(tmp_path, archive, tmp_path)
    task = batch.prepare(0, write_quarter(tmp_path / "in"))
    assert isinstance(task, Task)
    out = run_task(task)
    assert out.files is not None
    out.files["ledger.csv"] = out.files["ledger.csv"].replace(b"T01", b"T09", 1)
    out = batch.receive(out)
    assert out.failure is not None and out.failure.exit_code == 1
    assert "ledger.csv" in out.failure.message and "不完整" in out.failure.message
    assert not (archive / "2026Q1").exists() and leftovers(archive) == []


def test_a_q4_without_its_approved_quarters_is_rejected_by_the_client(tmp_path, archive):
    """As `p4p run` does: MissingHistory naming the quarters (exit 2); no task is sent."""
    batch = batch_of(tmp_path, archive, tmp_path)
    out = batch.prepare(3, q4_input(tmp_path))
    assert isinstance(out, Outcome) and out.failure is not None
    assert (out.failure.kind, out.failure.exit_code, out.period) == ("history", 2, "2026Q4")
    assert "缺少：2026Q1、2026Q2、2026Q3" in out.failure.message


def test_a_second_input_of_the_same_alliance_quarter_is_refused_by_the_client(tmp_path, archive):
    """A leftover copy in the province folder (a folder and its 副本, or a workbook beside its
    folder) would put two runs of one alliance-quarter into the archive without a word: the
    first (in input order) is computed, every later one is refused (exit 2) naming the first.
    Another quarter of the alliance, or another alliance (another name and alliance_id) of the
    quarter, is no copy; the same name under another alliance_id, or a name that reads the same,
    is (approval would refuse that run as a namesake: it would pay the quarter twice)."""
    root = tmp_path / "province"
    batch = batch_of(tmp_path, archive, root)
    first = batch.prepare(0, write_quarter(root / "县甲"))
    other_quarter = batch.prepare(1, write_quarter(root / "县甲Q2", period="2026Q2"))
    other = write_quarter(root / "县乙", extra_period="alliance_id: X2\n")
    period = other / "period.yaml"
    period.write_text(period.read_text(encoding="utf-8").replace("测试医共体", "乙医共体"), encoding="utf-8")
    other_alliance = batch.prepare(2, other)
    copy = batch.prepare(3, write_quarter(root / "县甲副本"))
    spaced = write_quarter(root / "县丁")
    period = spaced / "period.yaml"
    period.write_text(period.read_text(encoding="utf-8").replace("测试医共体", "测试 医共体"), encoding="utf-8")
    namesakes = [
        batch.prepare(4, write_quarter(root / "县丙", extra_period="alliance_id: X3\n")),
        batch.prepare(5, spaced),
    ]
    assert all(isinstance(t, Task) for t in (first, other_quarter, other_alliance))
    for n in namesakes:
        assert isinstance(n, Outcome) and n.failure is not None and n.failure.kind == "duplicate"
        assert n.failure.message.startswith("与输入 县甲 是同一医共体的同一季度")
    assert isinstance(copy, Outcome) and copy.failure is not None
    assert (copy.failure.kind, copy.failure.exit_code, copy.alliance, copy.period) == (
        "duplicate",
        2,
        "测试医共体",
        "2026Q1",
    )
    assert copy.failure.message.startswith(
        "与输入 县甲 是同一医共体的同一季度（测试医共体 2026Q1；编码或名称相同），未计算"
    )
    assert exit_code([copy]) == 2


def test_bad_input_comes_back_as_its_problems(tmp_path, archive):
    batch = batch_of(tmp_path, archive, tmp_path)
    task = batch.prepare(0, bad_quarter(tmp_path / "bad"))
    assert isinstance(task, Task)
    out = batch.receive(run_task(task))
    assert out.failure is not None and out.failure.kind == "input" and out.failure.exit_code == 2
    assert [(p.where, p.row, p.column, p.value) for p in out.failure.problems] == [
        ("assessment.csv", 4, "score", "九十")
    ]
    assert not archive.exists() or leftovers(archive) == []


# ---- the real thing: a 2-worker local cluster ----------------------------------------------------


def province(tmp: Path, archive: Path) -> Path:
    """县甲: 测试医共体 2026Q2 (its Q1 approved: history/ and previous/ come from the archive);
    县乙: the acceptance alliance's 2026Q1 (14 institutions); 县丙: bad input."""
    approved_quarters(tmp / "approved", archive, quarters=(1,))
    root = tmp / "province"
    write_quarter(root / "县甲" / "2026Q2", period="2026Q2")
    shutil.copytree(ACCEPTANCE / "2026Q1", root / "县乙" / "2026Q1")
    bad_quarter(root / "县丙" / "2026Q1")
    return root


@pytest.mark.slow
def test_batch_on_two_workers_writes_what_single_runs_write(tmp_path, archive):
    root = province(tmp_path, archive)
    r = cli("batch", root, "--archive", archive, "--workers", "2")
    assert r.exit_code == 2, r.output
    out = r.stdout.splitlines()
    assert out[-1] == str(archive)
    assert out[-2].startswith("共 3 个医共体季度：2 个已写入归档，1 个被拒绝，0 个失败")
    rows = {line.split()[0]: line for line in out[2:5]}
    assert set(rows) == {"县甲/2026Q2", "县乙/2026Q1", "县丙/2026Q1"}
    assert "输入被拒绝" in rows["县丙/2026Q1"] and "完成" in rows["县乙/2026Q1"]
    assert "【县丙/2026Q1（测试医共体 2026Q1）】" in r.stderr
    assert "assessment.csv 第4行 列“score”（值：“九十”）" in r.stderr
    batch_runs = {p.parent.name: p for p in archive.glob("2026Q*/*") if p.name not in approved_names(archive)}
    assert set(batch_runs) == {"2026Q1", "2026Q2"}
    for period, src in (("2026Q2", root / "县甲" / "2026Q2"), ("2026Q1", root / "县乙" / "2026Q1")):
        mine = batch_runs[period]
        assert mine.name in rows["县甲/2026Q2" if period == "2026Q2" else "县乙/2026Q1"]
        single = run_ok(src, archive)
        assert files_of(mine) == files_of(single)  # ledger.csv, trace.jsonl, history/, previous/, …
        statements = sorted(p.name for p in (mine / "statements").iterdir())
        assert len(statements) == {"2026Q2": 7, "2026Q1": 14}[period] and (mine / "summary.pdf").is_file()
    assert "history/2026Q1.ledger.csv" in files_of(batch_runs["2026Q2"])
    assert cli("verify", archive).exit_code == 0
    assert leftovers(archive) == []
    assert not [p for p in Path(tempfile.gettempdir()).glob("p4p-batch-*") if not _alive(p)]


def approved_names(archive: Path) -> set[str]:
    return {json.loads(line)["run_id"] for line in (archive / "approvals.jsonl").read_text().splitlines()}


def _alive(p: Path) -> bool:
    from p4p.archive.runfolder import pid_alive

    return pid_alive(int(p.name.rsplit("-", 1)[1]))


@pytest.mark.slow
def test_a_killed_worker_fails_its_alliance_only(tmp_path, archive, monkeypatch):
    """The worker given 县乙's input dies (os._exit, as after the OOM killer) — twice, as the
    scheduler tries it once more: that alliance fails with exit 1 and a Chinese message, nothing
    of it is in the archive, the other alliance is archived."""
    root = tmp_path / "province"
    write_quarter(root / "县甲" / "2026Q1")
    victim = write_quarter(root / "县乙" / "victim", extra_period="alliance_id: YI\n")  # another alliance
    period = victim / "period.yaml"
    period.write_text(period.read_text(encoding="utf-8").replace("测试医共体", "乙医共体"), encoding="utf-8")
    monkeypatch.setenv(KILL_ENV, "victim")
    outcomes = run_batch(
        root, archive, DEFAULT_RULES, Options(pdf=False), Cluster(workers=2), scratch_root=tmp_path / "s"
    )
    by_label = {o.label: o for o in outcomes}
    assert by_label["县甲/2026Q1"].ok
    victim = by_label["县乙/victim"]
    assert victim.failure is not None and (victim.failure.kind, victim.failure.exit_code) == ("killed", 1)
    assert "计算进程在计算时意外退出" in victim.failure.message
    assert [p.parent.name for p in archive.glob("2026Q*/*")] == ["2026Q1"]
    assert leftovers(archive, tmp_path / "s") == []


def test_a_helper_child_is_forked_only_from_a_single_threaded_non_daemonic_process():
    """`p4p run` writes a large ledger.xlsx in a forked child; a Dask worker (threads running,
    daemonic by default) writes it itself — a fork there could copy a held lock, and a daemonic
    process may not have children at all."""
    code = (
        "import threading, multiprocessing as mp\n"
        "from p4p.app.run import may_fork\n"
        "print(may_fork())\n"
        "stop = threading.Event(); t = threading.Thread(target=stop.wait); t.start()\n"
        "print(may_fork()); stop.set(); t.join()\n"
        "def child(q): q.put(may_fork())\n"
        "ctx = mp.get_context('fork'); q = ctx.Queue()\n"
        "p = ctx.Process(target=child, args=(q,), daemon=True); p.start(); print(q.get(timeout=60)); p.join()\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT, timeout=120
    )
    assert out.stdout.split() == ["True", "False", "False"]


def test_ledger_xlsx_written_in_process_is_the_one_written_in_a_child(base_quarter, monkeypatch):
    from p4p.app import run as run_mod

    monkeypatch.setattr(run_mod, "XLSX_IN_BACKGROUND", 0)  # every ledger counts as large
    monkeypatch.setattr(run_mod, "may_fork", lambda: True)
    forked = compute_run(base_quarter, DEFAULT_RULES, None).files["ledger.xlsx"]
    monkeypatch.setattr(run_mod, "may_fork", lambda: False)
    monkeypatch.setattr(run_mod, "_in_background", lambda *a: pytest.fail("forked in a worker"))
    assert compute_run(base_quarter, DEFAULT_RULES, None).files["ledger.xlsx"] == forked


def test_the_local_cluster_takes_no_fixed_port_and_prints_no_english_warning(tmp_path, archive):
    """Dask's scheduler would take :8787 on every interface and warn in English when another
    program (a Jupyter dashboard, say) holds it: p4p's takes a free port of this machine only."""
    root = tmp_path / "省"
    write_quarter(root / "县乙" / "2026Q1")
    holder = socket.socket()
    try:
        holder.bind(("0.0.0.0", 8787))
        holder.listen()
    except OSError:  # already held by something else: the same situation
        pass
    try:
        args = ["batch", str(root), "--archive", str(archive), "--workers", "1", "--no-pdf"]
        cmd = [sys.executable, "-m", "p4p", *args]
        r = subprocess.run(cmd, check=False, capture_output=True, text=True, timeout=300)
    finally:
        holder.close()
    assert r.returncode == 0, r.stderr
    assert "Port" not in r.stderr and "Warning" not in r.stderr, r.stderr


@pytest.mark.slow
def test_ctrl_c_stops_the_batch_without_a_worker_traceback(tmp_path, archive):
    """Ctrl-C reaches the whole process group, the Dask workers too; here it comes as soon as the
    first of twenty alliances is archived, the workers busy computing others. The client alone
    answers (已中止。, exit 1) and says what was archived; those run folders are whole, nothing
    else is in the archive, and no worker process or scratch folder is left (a worker's was,
    until the next batch); no worker prints a KeyboardInterrupt traceback (each one did)."""
    from test_archive_signals import start

    root = tmp_path / "province"
    spec = importlib.util.spec_from_file_location("gen_alliance", ROOT / "scripts" / "gen_alliance.py")
    assert spec and spec.loader
    gen = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gen)
    for n in range(20):  # ~300 institutions each: the workers are busy computing when Ctrl-C comes
        gen.generate(root / f"县{n:02}", 30, 9, n, 2026, f"第{n:02}医共体", quarters=1)
    p = start("batch", root, "--archive", archive, "--workers", "2", "--no-pdf")
    assert p.stderr is not None
    for line in p.stderr:
        if "：完成".encode() in line:
            break
    else:
        pytest.fail("the batch ended before any alliance was archived")
    workers = dask_workers(p.pid)
    assert len(workers) == 2
    os.killpg(p.pid, signal.SIGINT)
    _, rest = p.communicate(timeout=120)
    err = rest.decode()
    assert p.returncode == 1, err
    assert "Traceback" not in err and "KeyboardInterrupt" not in err, err
    archived = list(archive.glob("2026Q1/*"))
    assert 1 <= len(archived) < 20
    assert f"批量计算被中止：此前完成的 {len(archived)} 个医共体季度已写入归档" in err
    assert err.rstrip().endswith("已中止。"), err[-300:]
    assert dask_workers(p.pid) == []  # none outlives the command…
    scratch = Path(tempfile.gettempdir())
    assert not [pid for pid in [p.pid, *workers] if (scratch / scratch_name(pid)).exists()]  # …nor its scratch
    assert cli("verify", archive).exit_code == 0 and leftovers(archive) == []


def dask_workers(group: int) -> list[int]:
    """The live Dask worker processes of a process group (multiprocessing's spawned children;
    not a zombie waiting for init, nor multiprocessing's resource tracker, which exits by
    itself once the command has)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            command = (stat.parent / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if int(fields[2]) == group and fields[0] != "Z" and b"spawn_main" in command:
            found.append(int(stat.parent.name))
    return found


def test_a_worker_started_later_ignores_ctrl_c_too():
    """The plugin the local cluster registers: a worker the nanny starts in place of one that
    died was not started while the client ignored SIGINT, so it is told to ignore it."""
    from p4p.app.batch_plugin import IgnoreCtrlC

    before = signal.getsignal(signal.SIGINT)
    try:
        IgnoreCtrlC().setup(worker=None)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


def test_a_process_that_exited_but_was_not_waited_for_is_not_alive(tmp_path):
    """A worker the nanny has just killed is a zombie until waited for: its scratch folder is
    swept (it was left behind after a Ctrl-C, until the next batch)."""
    from p4p.archive.runfolder import pid_alive

    child = os.fork()
    if child == 0:
        os._exit(0)
    try:
        stat = Path(f"/proc/{child}/stat")
        for _ in range(1000):  # until the kernel has marked it (no timing asserted)
            if stat.read_text().rsplit(")", 1)[1].split()[0] == "Z":
                break
            time.sleep(0.01)
        assert not pid_alive(child)
        scratch = tmp_path / scratch_name(child)
        scratch.mkdir()
        assert sweep_scratch(tmp_path) == [scratch] and not scratch.exists()
    finally:
        os.waitpid(child, 0)
    assert pid_alive(os.getpid())


@pytest.mark.slow
def test_no_more_worker_processes_than_inputs_or_cores_and_a_note_when_more_than_cores(tmp_path, archive):
    from p4p.app.batch import default_workers

    cores = default_workers()
    one = tmp_path / "one"
    write_quarter(one / "县甲" / "2026Q1")
    r = cli("batch", one, "--archive", archive, "--no-pdf")
    assert r.exit_code == 0, r.output
    assert "规则集已读取；在本机启动 1 个 Dask 计算进程…" in r.stderr and "1 个计算进程已就绪" in r.stderr
    many = tmp_path / "many"
    for n in range(cores + 1):
        write_quarter(many / f"县{n}" / "2026Q1", extra_period=f"alliance_id: A{n}\n")
        period = many / f"县{n}" / "2026Q1" / "period.yaml"
        period.write_text(period.read_text(encoding="utf-8").replace("测试医共体", f"第{n}医共体"), encoding="utf-8")
    r = cli("batch", many, "--archive", archive, "--workers", cores + 1, "--no-pdf")
    assert r.exit_code == 0, r.output
    assert f"提示：--workers {cores + 1} 多于本机的 CPU 核数（{cores}）：按 {cores} 个计算进程计算" in r.stderr
    assert f"{cores} 个计算进程已就绪" in r.stderr


def test_a_scratch_folder_whose_process_id_was_reused_is_swept(tmp_path, monkeypatch):
    """After a reboot the id of a batch's killed worker soon belongs to another program: its
    scratch folder (named with that id) was kept for ever."""
    from p4p.archive import runfolder

    scratch = tmp_path / scratch_name(os.getpid())
    scratch.mkdir()
    assert sweep_scratch(tmp_path) == []  # this process, alive, started before the folder
    monkeypatch.setattr(runfolder, "process_started", lambda pid: time.time() + 60)  # the id reused since
    assert sweep_scratch(tmp_path) == [scratch] and not scratch.exists()
