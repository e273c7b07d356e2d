"""One writer at a time (SPEC §8): approvals started together, as separate processes, many
times. Before the lock, two approvals of one period both succeeded in 8 of 15 trials and the
hash chain tore in 6 of 20; now exactly one wins, the other is refused, and the chain holds."""

import subprocess

import pytest
from archive_kit import copy_archive, records, verify

from conftest import P4P, ROOT, cli, run_ok, write_quarter

pytestmark = pytest.mark.slow

TRIALS = 20


@pytest.fixture(scope="module")
def two_runs_of_q1_and_one_of_q2(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lock")
    archive = tmp / "archive"
    a = run_ok(write_quarter(tmp / "a"), archive)
    b = run_ok(write_quarter(tmp / "b", budget="800000.00"), archive)
    c = run_ok(write_quarter(tmp / "c", period="2026Q2"), archive)
    return archive, [p.relative_to(archive) for p in (a, b, c)]


def approve_together(archive, runs):
    procs = [
        subprocess.Popen(
            [*P4P, "approve", archive / rel, "--by", f"审批人{i}", "--no-pdf"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i, rel in enumerate(runs)
    ]
    return [(p.wait(), *p.communicate()) for p in procs]


@pytest.mark.parametrize("trial", range(TRIALS))
def test_two_approvals_of_one_period_started_together(tmp_path, two_runs_of_q1_and_one_of_q2, trial):
    base, (a, b, c) = two_runs_of_q1_and_one_of_q2
    archive = copy_archive(base, tmp_path / "archive")
    results = approve_together(archive, [a, b, c])
    q1 = sorted(code for code, _, _ in results[:2])
    assert q1 == [0, 1], results  # exactly one approval of 2026Q1, one refusal
    refused = next(err for code, _, err in results[:2] if code == 1)
    assert "已有审批通过的运行" in refused and "Traceback" not in refused
    assert results[2][0] == 0, results  # the approval of another period is not disturbed
    recs = records(archive)
    assert sorted(r["period"] for r in recs) == ["2026Q1", "2026Q2"]
    assert [r["seq"] for r in recs] == [1, 2]
    v = verify(archive)
    assert v.exit_code == 0, v.stdout  # chain intact, one approval folder per record


def test_a_lock_file_deleted_during_an_approval_does_not_let_two_approvals_of_one_period_in(
    tmp_path, archive, monkeypatch
):
    """Someone takes the lock file for a stale one and deletes it while approval A holds it:
    approval B creates a new lock file, locks it and approves the same quarter. A must then
    refuse (before, both said 已审批 and the quarter had two sets of bank files)."""
    from archive_kit import approve_ok

    import p4p.app.approve as approve_mod

    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(write_quarter(tmp_path / "b", budget="800000.00"), archive)
    documents = approve_mod._documents

    def meanwhile(*args, **kwargs):  # A holds the lock and has made its record
        monkeypatch.setattr(approve_mod, "_documents", documents)
        (archive / ".lock").unlink()
        approve_ok(b)  # B is let in
        return documents(*args, **kwargs)

    monkeypatch.setattr(approve_mod, "_documents", meanwhile)
    r = cli("approve", a, "--by", "甲", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert "锁文件" in r.stderr and "被删除或替换" in r.stderr and "未写入任何内容" in r.stderr
    assert [rec["run_id"] for rec in records(archive)] == [b.name]
    assert len(list((archive / "approvals").iterdir())) == 1
    assert verify(archive).exit_code == 0


def test_a_lock_file_replaced_by_a_symbolic_link_is_refused_in_chinese(tmp_path, archive):
    """The lock is opened without following links: approve said 'Too many levels of symbolic
    links' (the system's English) after its Chinese lead."""
    rd = run_ok(write_quarter(tmp_path / "a"), archive)
    (tmp_path / "elsewhere").write_text("", encoding="utf-8")
    (archive / ".lock").symlink_to(tmp_path / "elsewhere")
    r = cli("approve", rd, "--by", "甲", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert r.stderr.startswith(f"失败：不能锁定归档（{archive / '.lock'}）：是符号链接或链接层数过多"), r.stderr
    assert "Too many" not in r.stderr and not (archive / "approvals.jsonl").exists()
