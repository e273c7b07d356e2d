"""Real signals (SPEC §8): Ctrl-C (SIGINT to the process group, as a terminal sends it) or kill -9
in the middle of a run or an approval leaves the archive as it was — an earlier approved run,
approvals.jsonl and the archive folder stay; Ctrl-C cleans its own temporary folder; a killed
process's temporary folder is removed by the next command that writes to the archive."""

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from archive_kit import approve_ok, problems, verify

from conftest import P4P, ROOT, run_ok, write_quarter

pytestmark = pytest.mark.slow

PAUSE = "P4P_TEST_PAUSE_BEFORE_COMMIT"


def start(*args, env=None) -> subprocess.Popen:
    return subprocess.Popen(
        [*P4P, *map(str, args)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,  # its own process group, like a command started in a terminal
        env={**os.environ, **(env or {})},
    )


def wait_for(predicate, proc: subprocess.Popen, what: str):
    """Poll until predicate() is true (a deadline only against hanging; no timing asserted)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        got = predicate()
        if got:
            return got
        if proc.poll() is not None:
            pytest.fail(f"process ended before {what}: {proc.communicate()}")
        time.sleep(0.02)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def snapshot(archive: Path) -> dict[str, bytes]:
    return {p.relative_to(archive).as_posix(): p.read_bytes() for p in archive.rglob("*") if p.is_file()}


def temporaries(archive: Path) -> list[Path]:
    return [p for p in archive.iterdir() if p.name.startswith(".tmp-")]


@pytest.fixture
def approved(tmp_path, archive):
    """An archive holding another user's approved run."""
    approve_ok(run_ok(write_quarter(tmp_path / "q1"), archive))
    return archive


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_while_statements_render(tmp_path, approved, jobs):
    before = snapshot(approved)
    p = start("run", write_quarter(tmp_path / "q2", period="2026Q2"), "--archive", approved, "--jobs", jobs)
    wait_for(lambda: [t for t in temporaries(approved) if list(t.glob("statements/*.pdf"))], p, "the first PDF")
    os.killpg(p.pid, signal.SIGINT)
    out, _ = p.communicate(timeout=120)
    assert p.returncode != 0, out
    assert snapshot(approved) == before  # nothing added, nothing removed, nothing changed
    assert temporaries(approved) == []


def test_ctrl_c_just_before_the_rename(tmp_path, approved):
    before = snapshot(approved)
    flag = tmp_path / "paused"
    q2 = write_quarter(tmp_path / "q2", period="2026Q2")
    p = start("run", q2, "--archive", approved, "--no-pdf", env={PAUSE: str(flag)})
    staged = Path(wait_for(lambda: flag.is_file() and flag.read_text(), p, "the pause"))
    assert (staged / "manifest.json").is_file()  # sealed, not yet renamed
    os.killpg(p.pid, signal.SIGINT)
    p.communicate(timeout=120)
    assert p.returncode != 0
    assert snapshot(approved) == before and not staged.exists()


def test_kill_9_leaves_a_temporary_folder_the_next_run_removes(tmp_path, approved):
    before = snapshot(approved)
    flag = tmp_path / "paused"
    q2 = write_quarter(tmp_path / "q2", period="2026Q2")
    p = start("run", q2, "--archive", approved, "--no-pdf", env={PAUSE: str(flag)})
    staged = Path(wait_for(lambda: flag.is_file() and flag.read_text(), p, "the pause"))
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert staged.is_dir()  # a killed process cleans nothing…
    assert {k: v for k, v in snapshot(approved).items() if not k.startswith(".tmp-")} == before
    assert any(staged.name in x and "遗留的临时目录" in x for x in problems(verify(approved)))
    rd = run_ok(q2, approved)  # …the next writing command does
    assert not staged.exists() and rd.is_dir()
    assert verify(approved).exit_code == 0


def test_kill_9_during_an_approval_appends_nothing_and_releases_the_lock(tmp_path, approved):
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), approved)
    before = snapshot(approved)
    flag = tmp_path / "paused"
    p = start("approve", q2, "--by", "张", "--no-pdf", env={PAUSE: str(flag)})
    staged = Path(wait_for(lambda: flag.is_file() and flag.read_text(), p, "the pause"))
    os.killpg(p.pid, signal.SIGKILL)
    p.wait()
    assert {k: v for k, v in snapshot(approved).items() if not k.startswith(".tmp-")} == before
    folder = approve_ok(q2)  # the lock died with the process; the approval's leftovers are swept
    assert not staged.exists() and folder.name.startswith("0002-2026Q2-")
    assert verify(approved).exit_code == 0


def test_ctrl_c_during_an_approval_leaves_no_folder_and_no_record(tmp_path, approved):
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), approved)
    before = snapshot(approved)
    flag = tmp_path / "paused"
    p = start("approve", q2, "--by", "张", "--no-pdf", env={PAUSE: str(flag)})
    wait_for(flag.is_file, p, "the pause")
    os.killpg(p.pid, signal.SIGINT)
    p.communicate(timeout=120)
    assert p.returncode != 0
    assert snapshot(approved) == before and temporaries(approved) == []
