"""Run folders are written atomically and contained (SPEC §8): a failure removes only its own
temporary folder; temporary folders of dead processes of this host are swept by the next
writing command and nothing else is; ledger.xlsx is deterministic, so replay compares it."""

import json
import os
import subprocess
import sys

import pytest
from archive_kit import approve_ok, sha, verify

from p4p.app import DEFAULT_RULES, compute_run, write
from p4p.archive.errors import ArchiveError
from p4p.archive.layout import host_name, parse_tmp, tmp_name
from p4p.archive.runfolder import Staging, staging, sweep_temporaries

from conftest import cli, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out


def boom(*_):
    raise RuntimeError("disk full")


def dead_pid() -> int:
    """The pid of a process that has exited (and been reaped)."""
    p = subprocess.Popen([sys.executable, "-c", "pass"])
    p.wait()
    return p.pid


def test_a_failing_run_keeps_the_archive_and_the_approvals(base_quarter, archive):
    first = run_ok(base_quarter, archive)
    approve_ok(first)
    before = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    c = compute_run(base_quarter, DEFAULT_RULES, archive)
    with pytest.raises(RuntimeError, match="disk full"):
        write(c, archive, render=boom)
    after = {p: p.read_bytes() for p in archive.rglob("*") if p.is_file()}
    assert after == before  # no run folder, no temporary folder, nothing else touched
    assert not [p for p in archive.iterdir() if p.name.startswith(".tmp-")]


def test_ctrl_c_removes_only_its_own_temporary_folder(base_quarter, archive):
    run_ok(base_quarter, archive)
    c = compute_run(base_quarter, DEFAULT_RULES, archive)

    def interrupt(tmp, run_id, manifest):
        assert tmp.parent == archive and parse_tmp(tmp.name).pid == os.getpid()
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write(c, archive, render=interrupt)
    assert sorted(p.name for p in archive.iterdir()) == ["2026Q1"]
    assert len(list((archive / "2026Q1").iterdir())) == 1


def test_ctrl_c_on_a_first_run_keeps_what_another_user_approved_meanwhile(base_quarter, tmp_path):
    """The issue's case: the first run into a new archive is interrupted after another user
    has run and approved a quarter in it; before, the whole archive went."""
    archive = tmp_path / "archive"
    c = compute_run(base_quarter, DEFAULT_RULES, archive)

    def meanwhile_another_user_approves(tmp, run_id, manifest):
        approve_ok(run_ok(write_quarter(tmp_path / "other", period="2026Q2"), archive))
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write(c, archive, render=meanwhile_another_user_approves)
    assert sorted(p.name for p in archive.iterdir()) == [".lock", "2026Q2", "approvals", "approvals.jsonl"]
    assert verify(archive).exit_code == 0


def test_a_full_disk_is_said_in_chinese_and_leaves_nothing(base_quarter, archive):
    import errno

    first = run_ok(base_quarter, archive)
    c = compute_run(base_quarter, DEFAULT_RULES, archive)

    def disk_full(tmp, run_id, manifest):
        raise OSError(errno.ENOSPC, "No space left on device", str(tmp / "statements" / "T01.pdf"))

    with pytest.raises(ArchiveError, match="磁盘已满") as e:
        write(c, archive, render=disk_full)
    assert "未写入任何内容" in str(e.value) and "statements/T01.pdf" in str(e.value)
    assert sorted(p.name for p in archive.iterdir()) == ["2026Q1"] and [first] == list((archive / "2026Q1").iterdir())


def test_a_failing_first_run_leaves_another_writers_temporary_folder(base_quarter, tmp_path):
    """Two first runs into a new archive: the one that fails must not take the other's
    temporary folder (nor the archive folder it is in) with it."""
    archive = tmp_path / "new" / "archive"
    c = compute_run(base_quarter, DEFAULT_RULES, archive)

    def other_writer_starts(tmp, run_id, manifest):
        (archive / tmp_name("2026Q1")).mkdir()  # this pid is alive: not swept
        boom()

    with pytest.raises(RuntimeError):
        write(c, archive, render=other_writer_starts)
    assert [parse_tmp(p.name) is not None for p in archive.iterdir()] == [True]


def test_a_failing_first_run_removes_the_folders_it_created(base_quarter, tmp_path):
    archive = tmp_path / "new" / "archive"
    c = compute_run(base_quarter, DEFAULT_RULES, archive)
    with pytest.raises(RuntimeError):
        write(c, archive, render=boom)
    assert not (tmp_path / "new").exists()  # new/ and new/archive/ were made by this run, and were empty


def test_temporary_folders_of_dead_processes_of_this_host_are_swept(base_quarter, archive):
    run_ok(base_quarter, archive)
    dead = archive / f".tmp-2026Q1-{host_name()}-{dead_pid()}-abcdefgh"
    alive = archive / f".tmp-2026Q1-{host_name()}-{os.getpid()}-abcdefgh"
    elsewhere = archive / f".tmp-2026Q1-otherhost-{dead_pid()}-abcdefgh"
    old_style = archive / ".tmp-2026Q1-k2j3h4g5"  # p4p 0.2's mkdtemp name: no host, no pid
    unrelated = archive / ".tmp-notes"
    for d in (dead, alive, elsewhere, old_style, unrelated):
        d.mkdir()
        (d / "ledger.csv").write_text("x")
    r = verify(archive)
    assert r.exit_code == 3
    for d in (dead, elsewhere, old_style, unrelated):
        assert f"问题：{d.name}：遗留的临时目录" in r.stdout
    assert f"说明：{alive.name}：进程 {os.getpid()} 正在写入" in r.stdout
    run_ok(base_quarter, archive)  # the next writing command
    assert not dead.exists()
    assert alive.exists() and elsewhere.exists() and old_style.exists() and unrelated.exists()


def test_a_temporary_folder_whose_process_id_was_reused_by_a_later_process_is_swept(base_quarter, archive, monkeypatch):
    """A run killed before a reboot left .tmp-…-<pid>-…; after the reboot that pid belonged to
    another program, so verify said 进程 N 正在写入 (no finding) and no command ever removed the
    folder. A process that started after the folder last changed is not its writer."""
    import time

    from p4p.archive import runfolder

    started = runfolder.process_started(os.getpid())
    assert started is not None and time.time() - 3600 < started <= time.time() + 1  # read from /proc
    run_ok(base_quarter, archive)
    left = archive / f".tmp-2026Q1-{host_name()}-{os.getpid()}-abcdefgh"
    left.mkdir()
    monkeypatch.setattr(runfolder, "process_started", lambda pid: time.time() + 60)  # pid reused since
    r = verify(archive)
    assert r.exit_code == 3 and f"问题：{left.name}：遗留的临时目录" in r.stdout, r.stdout
    run_ok(base_quarter, archive)  # the next writing command
    assert not left.exists()


def test_sweeping_never_follows_a_symlink_or_removes_a_file(tmp_path):
    archive = tmp_path / "archive"
    archive.mkdir()
    keep = tmp_path / "keep"
    keep.mkdir()
    (keep / "precious").write_text("x")
    pid = dead_pid()
    (archive / f".tmp-2026Q1-{host_name()}-{pid}-abcdefgh").symlink_to(keep)
    (archive / f".tmp-2026Q2-{host_name()}-{pid}-abcdefgh").write_text("a file, not a folder")
    assert sweep_temporaries(archive) == []
    assert (keep / "precious").is_file()


def test_a_staged_folder_never_writes_outside_itself_nor_replaces_a_folder(tmp_path):
    archive = tmp_path / "archive"
    with staging(archive, "2026Q1") as st:
        for bad in ("../escape", "/etc/passwd", "a/../../b"):
            with pytest.raises(ArchiveError):
                st.write(bad, b"x")
        st.write("a.txt", b"x")
        (archive / "2026Q1" / "R1").mkdir(parents=True)
        (archive / "2026Q1" / "R1" / "other").write_text("someone else's")
        with pytest.raises(ArchiveError, match="已存在"):
            st.commit(archive / "2026Q1" / "R1")
    assert (archive / "2026Q1" / "R1" / "other").read_text() == "someone else's"
    assert sorted(p.name for p in archive.iterdir()) == ["2026Q1"]


def test_temporary_folder_name_carries_period_host_and_pid(tmp_path):
    st = Staging(tmp_path / "a", "2026Q3")
    t = parse_tmp(st.path.name)
    assert (t.period, t.host, t.pid) == ("2026Q3", host_name(), os.getpid())
    st.discard()
    assert not (tmp_path / "a").exists()


def test_ledger_xlsx_is_byte_identical_for_identical_inputs(base_quarter, archive):
    a = run_ok(base_quarter, archive)
    b = run_ok(base_quarter, archive)
    assert (a / "ledger.xlsx").read_bytes() == (b / "ledger.xlsx").read_bytes()


def test_replay_compares_ledger_xlsx(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    assert m["archive_format"] == 2
    # a workbook swapped together with its manifest entry: hashes agree, the recomputation does not
    other = run_ok(write_quarter(base_quarter.parent / "b", budget="800000.00"), base_quarter.parent / "x")
    data = (other / "ledger.xlsx").read_bytes()
    (rd / "ledger.xlsx").write_bytes(data)
    m["files"]["ledger.xlsx"] = sha(data)
    (rd / "manifest.json").write_text(json.dumps(m, ensure_ascii=False, indent=2, sort_keys=True) + "\n", "utf-8")
    r = cli("replay", rd)
    assert r.exit_code == 3 and "差异：ledger.xlsx 与重算结果不同" in r.stdout


def test_every_file_and_folder_reaches_the_disk_before_the_rename_and_the_rename_after(tmp_path, monkeypatch):
    """A power cut after "written" must not leave a renamed folder with empty files: each file
    and folder of the temporary folder is fsync'd before the rename, the period folder after."""
    events: list[tuple[str, str]] = []
    real_fsync, real_rename = os.fsync, os.rename

    def fsync(fd):
        events.append(("fsync", os.readlink(f"/proc/self/fd/{fd}")))
        return real_fsync(fd)

    def rename(src, dst):
        events.append(("rename", str(dst)))
        return real_rename(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "rename", rename)
    archive = tmp_path / "archive"
    with staging(archive, "2026Q1") as st:
        st.write("ledger.csv", b"a,b\n")
        st.write("statements/S1.pdf", b"%PDF")
        tmp = st.path
        final = st.commit(archive / "2026Q1" / "run1")
    at = events.index(("rename", str(final)))
    before = {p for kind, p in events[:at] if kind == "fsync"}
    after = {p for kind, p in events[at:] if kind == "fsync"}
    assert {str(tmp / "ledger.csv"), str(tmp / "statements" / "S1.pdf"), str(tmp / "statements"), str(tmp)} <= before
    assert str(archive / "2026Q1") in after and str(archive) in after  # the new name, and the new period folder's
    assert (final / "statements" / "S1.pdf").read_bytes() == b"%PDF"
