"""Approvals (SPEC §8, §9): chained records holding run hash, ledger hash, who and when (UTC and
Beijing time); an append-only approval folder per approval with its own manifest; the chain
head printed on the documents made at approval; optional HMAC with a key kept outside the
archive and a signed head file; preconditions checked under the lock."""

import datetime as dt
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from archive_kit import approve_ok, approved_quarters, lines, q4_input, records, sha, verify

from p4p.archive.approval import begin_approval
from p4p.archive.errors import ArchiveError
from p4p.archive.verify import verify_archive

from conftest import cli, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

SECRET = "correct horse battery staple 2026"


def snapshot(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_a_record_holds_run_hash_ledger_hash_who_and_when(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    before = snapshot(rd)
    r = cli("approve", rd, "--by", "财务科 王会计", "--no-pdf")
    assert r.exit_code == 0, r.output
    (rec,) = records(archive)
    manifest = (rd / "manifest.json").read_bytes()
    assert rec["v"] == 2 and rec["seq"] == 1
    assert (rec["alliance"], rec["period"], rec["run_id"]) == ("测试医共体", "2026Q1", rd.name)
    assert rec["run_dir"] == f"2026Q1/{rd.name}"
    assert rec["run_sha256"] == sha(manifest)  # the run hash: SHA-256 of manifest.json
    assert rec["ledger_sha256"] == sha((rd / "ledger.csv").read_bytes())
    assert rec["by"] == "财务科 王会计"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", rec["at"])
    # Beijing time is UTC + 8 hours, e.g. 2026-11-23T14:05:00Z → 2026-11-23 22:05（北京时间）
    at = dt.datetime.strptime(rec["at"], "%Y-%m-%dT%H:%M:%SZ") + dt.timedelta(hours=8)
    assert rec["at_beijing"] == f"{at:%Y-%m-%d %H:%M}（北京时间）"
    assert (rec["supersedes"], rec["reason"], rec["prev_sha256"], rec["prev_folder_sha256"]) == (None, None, "", "")
    assert "hmac" not in rec and "key_id" not in rec
    assert snapshot(rd) == before  # approval leaves the run folder untouched
    # the approval folder: last stdout line, named <seq>-<period>-<run_id>, its own manifest
    folder = Path(r.stdout.strip().splitlines()[-1])
    assert folder == archive / "approvals" / f"0001-2026Q1-{rd.name}" and rec["folder"] == f"approvals/{folder.name}"
    assert (folder / "run-manifest.json").read_bytes() == manifest
    assert rec["files"]["run-manifest.json"] == rec["run_sha256"]
    # the payment lists (test_approve_payments.py) are data files too; the workbook of them a document
    assert set(rec["files"]) == {
        "run-manifest.json",
        "payments.csv",
        "receivables.csv",
        "alliance_items.csv",
        "reconciliation.txt",
    }
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    line = lines(archive)[0]
    assert fm["record_sha256"] == sha(line.encode()) and fm["chain_head"] == f"1:{sha(line.encode())}"
    assert fm["data"] == rec["files"] and set(fm["documents"]) == {"payments.xlsx"}
    assert f"审批链头：1:{sha(line.encode())}" in r.stdout and "未签名" in r.stdout


def test_a_ledger_edited_before_approval_with_its_manifest_rehashed_is_not_approved(base_quarter, archive):
    """A dishonest user with write access raises V01's top-up in ledger.csv from 3,268.09 to
    9,268.09 and writes the new SHA-256 into the run's manifest, so every hash agrees. Approval
    computes the run again from its own inputs and rules, names the line, and appends nothing:
    no payment list is made from an amount p4p did not compute."""
    rd = run_ok(base_quarter, archive)
    ledger = rd / "ledger.csv"
    data = ledger.read_bytes()
    assert data.count("VILLAGE_TOPUP,村卫生室保底补助,3268.09,".encode()) == 1
    ledger.write_bytes(data.replace(b",3268.09,", b",9268.09,"))
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    m["files"]["ledger.csv"] = m["ledger_sha256"] = sha(ledger.read_bytes())
    (rd / "manifest.json").write_text(
        json.dumps(m, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
    )
    r = cli("approve", rd, "--by", "李", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert f"运行 {rd.name} 不能审批：按它归档的输入和规则重新计算" in r.stderr
    assert "V01 甲镇一村卫生室 VILLAGE_TOPUP：归档 9268.09（数量 1），重算 3268.09（数量 1）" in r.stderr
    assert not (archive / "approvals.jsonl").exists() or records(archive) == []


def test_records_are_chained_to_the_previous_record_and_its_folder(tmp_path, archive):
    approved_quarters(tmp_path, archive, quarters=(1, 2))
    first, second = lines(archive)
    rec2 = json.loads(second)
    assert rec2["seq"] == 2 and rec2["prev_sha256"] == sha(first.encode())
    folder1 = archive / json.loads(first)["folder"]
    assert rec2["prev_folder_sha256"] == sha((folder1 / "manifest.json").read_bytes())


def test_a_q4_run_records_the_run_hashes_and_the_chain_it_was_computed_from(tmp_path, archive):
    runs = approved_quarters(tmp_path, archive)
    q4 = run_ok(q4_input(tmp_path), archive)
    m = json.loads((q4 / "manifest.json").read_text(encoding="utf-8"))
    recs = records(archive)
    for p, rec, (period, rd) in zip(m["prior_runs"], recs, sorted(runs.items()), strict=True):
        assert p["period"] == period and p["run_id"] == rd.name
        assert p["run_sha256"] == sha((rd / "manifest.json").read_bytes()) == rec["run_sha256"]
        assert p["approval_seq"] == rec["seq"]
    assert m["chain_seen"] == {"seq": 3, "sha256": sha(lines(archive)[2].encode())}
    assert p["approval_sha256"] == sha(lines(archive)[2].encode())


def test_preconditions_are_refused_with_a_reason(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    assert cli("approve", a, "--by", " ", "--no-pdf").exit_code == 1
    approve_ok(a)
    r = cli("approve", a, "--by", "李", "--no-pdf")
    assert r.exit_code == 1 and "已经是现行审批" in r.stderr
    b = run_ok(write_quarter(tmp_path / "b", budget="800000.00"), archive)
    (b / "summary.txt").write_text("改过了", encoding="utf-8")
    r = cli("approve", b, "--by", "李", "--supersede", "--reason", "预算更正", "--no-pdf")
    assert r.exit_code == 1 and "summary.txt" in r.stderr and "不能审批" in r.stderr
    assert len(records(archive)) == 1 and len(list((archive / "approvals").iterdir())) == 1


def test_superseding_a_quarter_makes_the_approved_q4_stale_until_it_is_superseded_too(tmp_path, archive):
    approved_quarters(tmp_path, archive)
    q4 = run_ok(q4_input(tmp_path), archive)
    approve_ok(q4)
    fixed = run_ok(write_quarter(tmp_path / "q2b", period="2026Q2", workpoints=[["T01", "EHR", "1000"]]), archive)
    r = cli("approve", fixed, "--by", "李", "--supersede", "--reason", "工分更正", "--no-pdf")
    assert r.exit_code == 0 and f"2026Q4 运行 {q4.name}" in r.stderr and "须重新运行" in r.stderr
    v = verify(archive)
    assert v.exit_code == 3 and f"问题：2026Q4/{q4.name}：已审批的第四季度运行（第4条记录）" in v.stdout
    assert f"该季度后来被第5条记录替换为运行 {fixed.name}" in v.stdout
    # the old Q4 run cannot be approved again, a re-run can (and clears the finding)
    q4b = run_ok(q4_input(tmp_path, "q4b"), archive)
    approve_ok(q4b, "--supersede", "--reason", "第二季度更正后重算")
    assert verify(archive).exit_code == 0


def test_a_run_computed_from_superseded_quarters_is_not_approved(tmp_path, archive):
    approved_quarters(tmp_path, archive)
    q4 = run_ok(q4_input(tmp_path), archive)
    fixed = run_ok(write_quarter(tmp_path / "q3b", period="2026Q3", workpoints=[["T01", "EHR", "1000"]]), archive)
    approve_ok(fixed, "--supersede", "--reason", "工分更正")
    assert verify(archive).exit_code == 0  # the Q4 run is judged at its place in the chain
    r = cli("approve", q4, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "2026Q3" in r.stderr and f"有效的是运行 {fixed.name}" in r.stderr
    assert len(records(archive)) == 4


@pytest.fixture
def key_file(tmp_path):
    p = tmp_path / "keys" / "archive.key"
    p.parent.mkdir()
    p.write_text(SECRET + "\n", encoding="utf-8")
    return p


def test_a_keyed_archive_signs_every_record_and_its_head(tmp_path, archive, key_file):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    r = cli("approve", a, "--by", "财务", "--no-pdf", "--key-file", key_file)
    assert r.exit_code == 0 and "已用密钥签名" in r.stdout
    (rec,) = records(archive)
    assert len(rec["hmac"]) == 64 and len(rec["key_id"]) == 16
    head = json.loads((archive / "approvals.head").read_text(encoding="utf-8"))
    assert head["count"] == 1 and head["head"] == sha(lines(archive)[0].encode()) and len(head["hmac"]) == 64
    for p in archive.rglob("*"):  # the key is never stored in the archive
        assert not p.is_file() or SECRET.encode() not in p.read_bytes(), p
    v = cli("verify", archive, "--key-file", key_file)
    assert v.exit_code == 0 and "签名已用给出的密钥核对" in v.stdout
    v = verify(archive)
    assert v.exit_code == 0 and "有签名（HMAC-SHA256），未提供密钥，签名未核对" in v.stdout


def test_a_keyed_archive_refuses_an_approval_without_or_with_another_key(tmp_path, archive, key_file, monkeypatch):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    approve_ok(a, "--key-file", key_file)
    b = run_ok(write_quarter(tmp_path / "b", period="2026Q2"), archive)
    r = cli("approve", b, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "需要" not in r.stdout and "提供密钥" in r.stderr
    monkeypatch.setenv("P4P_ARCHIVE_KEY", "another key of sufficient length")
    r = cli("approve", b, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "不是给出的密钥" in r.stderr
    monkeypatch.setenv("P4P_ARCHIVE_KEY", SECRET)  # the same key from the environment
    approve_ok(b)
    assert len(records(archive)) == 2 and cli("verify", archive, "--key-file", key_file).exit_code == 0


def test_an_unsigned_archive_starts_signing(tmp_path, archive, key_file):
    approve_ok(run_ok(write_quarter(tmp_path / "a"), archive))
    approve_ok(run_ok(write_quarter(tmp_path / "b", period="2026Q2"), archive), "--key-file", key_file)
    v = cli("verify", archive, "--key-file", key_file)
    assert v.exit_code == 0, v.stdout
    assert "1 条审批记录未签名（写入时没有密钥）" in v.stdout and "1 条审批记录的签名已用给出的密钥核对" in v.stdout


def test_a_key_file_inside_the_archive_or_a_short_key_is_refused(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    inside = archive / "key"
    inside.write_text(SECRET, encoding="utf-8")
    r = cli("approve", a, "--by", "财务", "--no-pdf", "--key-file", inside)
    assert r.exit_code == 1 and "不能放在归档目录里" in r.stderr
    short = tmp_path / "short"
    short.write_text("abc", encoding="utf-8")
    r = cli("approve", a, "--by", "财务", "--no-pdf", "--key-file", short)
    assert r.exit_code == 1 and "太短" in r.stderr
    assert not (archive / "approvals.jsonl").exists()


def test_data_files_are_hashed_in_the_record_documents_in_the_folder_manifest(tmp_path, archive):
    """The hook the paying work uses: data files before the record, documents after it."""
    rd = run_ok(write_quarter(tmp_path / "a"), archive)
    with begin_approval(rd, "财务") as draft:
        draft.add_data("payments.csv", "payer,amount\r\nL01,1.00\r\n".encode())
        with pytest.raises(ArchiveError):
            draft.add_document("early.pdf", b"printed before the head exists")
        head = draft.make_record()
        with pytest.raises(ArchiveError):
            draft.add_data("late.csv", b"x")
        draft.add_document("payments.pdf", f"printed head {head}".encode())
        folder = draft.commit()
    (rec,) = records(archive)
    assert rec["files"]["payments.csv"] == sha("payer,amount\r\nL01,1.00\r\n".encode())
    assert head == f"1:{sha(lines(archive)[0].encode())}"
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert fm["documents"] == {"payments.pdf": sha(f"printed head {head}".encode())}
    assert verify_archive(archive).clean  # the archive layer: hashes (the lists are not a real plan here)
    (folder / "payments.csv").write_text("payer,amount\r\nL01,100.00\r\n", encoding="utf-8")
    found = [str(f) for f in verify_archive(archive).findings]
    assert f"approvals/{folder.name}/payments.csv：文件已被修改（SHA-256 与 manifest 不符）" in found
    v = verify(archive)  # the command also works the lists out again from the ledger: these are not those
    assert (
        v.exit_code == 3 and f"问题：approvals/{folder.name}/payments.csv：与按批准的台账重新编制的结果不符" in v.stdout
    )


def test_an_exception_before_commit_appends_nothing(tmp_path, archive):
    rd = run_ok(write_quarter(tmp_path / "a"), archive)
    with pytest.raises(RuntimeError), begin_approval(rd, "财务") as draft:
        draft.make_record()
        raise RuntimeError("printer on fire")
    assert not (archive / "approvals.jsonl").exists()
    assert not (archive / "approvals").exists() and not [p for p in archive.iterdir() if p.name.startswith(".tmp")]


@pytest.mark.slow
def test_statements_stamped_at_approval_print_the_chain_head(tmp_path, archive):
    rd = run_ok(write_quarter(tmp_path / "a"), archive)
    before = snapshot(rd)
    r = cli("approve", rd, "--by", "王会计", "--jobs", "1")
    assert r.exit_code == 0, r.output
    folder = Path(r.stdout.strip().splitlines()[-1])
    head = f"1:{sha(lines(archive)[0].encode())}"
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    # the bundles (copies by name, one PDF per township: report/bundles.py) are documents too
    assert {d for d in fm["documents"] if not d.startswith("bundles/")} == {
        f"statements/{i}.pdf" for i in ("L01", "C01", "T01", "T02", "V01", "V02", "V03")
    } | {"summary.pdf", "payments.xlsx", "payments.pdf"}
    assert {"bundles/乡镇/T01-甲镇卫生院.pdf", "bundles/机构/V01-甲镇一村卫生室.pdf"} <= set(fm["documents"])
    for doc in ("statements/V01.pdf", "summary.pdf", "payments.pdf"):
        text = re.sub(
            r"\s+",
            "",
            subprocess.run(["pdftotext", folder / doc, "-"], capture_output=True, text=True, check=True).stdout,
        )
        assert "已审批：王会计" in text and "（北京时间）" in text and head in text, doc
    assert snapshot(rd) == before  # the run folder's own statements stay unstamped
    assert verify(archive).exit_code == 0


def test_an_approval_never_chains_over_a_changed_approval_folder(tmp_path, archive):
    """The next record holds the hash of the last approval folder's manifest: extending the
    chain over an edited stamped document would bless the edit."""
    folder = approve_ok(run_ok(write_quarter(tmp_path / "a"), archive))
    (folder / "run-manifest.json").write_text("{}", encoding="utf-8")
    r = cli("approve", run_ok(write_quarter(tmp_path / "b", period="2026Q2"), archive), "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and f"approvals/{folder.name}/run-manifest.json：文件已被修改" in r.stderr
    assert len(records(archive)) == 1


def test_a_folder_left_by_an_interrupted_approval_is_named_not_overwritten(tmp_path, archive):
    approve_ok(run_ok(write_quarter(tmp_path / "a"), archive))
    b = run_ok(write_quarter(tmp_path / "b", period="2026Q2"), archive)
    orphan = archive / "approvals" / f"0002-2026Q2-{b.name}"
    orphan.mkdir()
    (orphan / "summary.pdf").write_bytes(b"%PDF")
    r = cli("approve", b, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and str(orphan) in r.stderr and "没有对应的审批记录" in r.stderr
    assert (orphan / "summary.pdf").read_bytes() == b"%PDF" and len(records(archive)) == 1


def test_a_run_folder_outside_an_archive_is_refused_without_writing_next_to_it(tmp_path, archive):
    rd = run_ok(write_quarter(tmp_path / "a"), archive)
    loose = tmp_path / "copies" / "somewhere" / "run"
    loose.parent.mkdir(parents=True)
    shutil.copytree(rd, loose)
    r = cli("approve", loose, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "不在归档中它应在的位置" in r.stderr
    assert sorted(p.name for p in (tmp_path / "copies").iterdir()) == ["somewhere"]


def test_a_supersede_with_nothing_to_supersede_is_refused(tmp_path, archive):
    """--supersede on a period without an approved run would silently be a first approval that
    pays the whole quarter (and drop the reason): refused, nothing appended."""
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    r = cli("approve", a, "--by", "李", "--supersede", "--reason", "更正", "--no-pdf")
    assert r.exit_code == 1
    assert "测试医共体 2026Q1 没有已审批的运行可替换：--supersede 只用于更正已审批的季度" in r.stderr
    assert not (archive / "approvals.jsonl").exists() or records(archive) == []


def test_the_same_alliance_under_a_new_alliance_id_is_not_approved_twice(tmp_path, archive):
    """Q1 is approved for 测试医共体 (no alliance_id: the archive keys it by name). The same
    quarter run again with `alliance_id: T2` would be another alliance to the archive, approved
    without --supersede and paid a second time: refused, nothing appended."""
    approve_ok(run_ok(write_quarter(tmp_path / "a"), archive))
    b = run_ok(write_quarter(tmp_path / "b", extra_period="alliance_id: T2\n"), archive)
    assert ("归档中有同名医共体“测试医共体”以其他编码审批的季度：2026Q1（测试医共体）；本次的编码为 T2"
            in (b / "summary.txt").read_text(encoding="utf-8"))  # fmt: skip
    r = cli("approve", b, "--by", "李", "--no-pdf")
    assert r.exit_code == 1
    assert (
        "2026Q1 已有同名医共体“测试医共体”的现行审批（第1条记录，医共体编码 测试医共体），本次运行的编码为 T2"
        in r.stderr
    )
    assert len(records(archive)) == 1
    other = run_ok(write_quarter(tmp_path / "c", extra_period="alliance_id: T2\n", period="2026Q2"), archive)
    approve_ok(other)  # another quarter under the new id has nothing approved to collide with


def test_names_that_read_the_same_are_one_alliance():
    """Inputs now refuse invisible characters in names; runs archived before may hold them (a
    zero-width space made the same quarter another alliance's, approved and paid twice)."""
    from p4p.archive.manifest import plain_name

    same = ["测试医共体", "测试医共体\u200b", "测试\u2060医共体", "测试 医共体", "ＴＥＳＴ医共体"]
    assert {plain_name(n) for n in same[:4]} == {"测试医共体"}
    assert plain_name("测试医共体（一）") == plain_name("测试医共体(一)") and plain_name(same[4]) == "test医共体"
    assert plain_name("测试医共体") != plain_name("测试医共体（二）")


def test_a_disk_filling_up_while_the_record_is_appended_leaves_no_half_record(tmp_path, archive, monkeypatch):
    """The part of the record that fit stayed in approvals.jsonl (on a full tmpfs: the rest of
    its last page): the approval said it failed, yet the torn line blocked every later approval
    and made verify fail until someone edited the approvals file by hand."""
    import errno
    import os

    approved_quarters(tmp_path, archive, quarters=(1,))
    q2 = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), archive)
    before = (archive / "approvals.jsonl").read_bytes()
    write = os.write

    def disk_fills_up(fd, data):
        if not os.readlink(f"/proc/self/fd/{fd}").endswith("approvals.jsonl"):
            return write(fd, data)
        if len(data) > 10:
            return write(fd, data[: len(data) // 2])
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "write", disk_fills_up)
    r = cli("approve", q2, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert "不能追加审批记录" in r.stderr and "磁盘已满" in r.stderr and "审批记录文件已恢复原样" in r.stderr
    assert (archive / "approvals.jsonl").read_bytes() == before
    assert len(list((archive / "approvals").iterdir())) == 1
    monkeypatch.setattr(os, "write", write)
    assert verify(archive).exit_code == 0
    approve_ok(q2)  # space made again: the quarter is approved as usual
    assert [rec["period"] for rec in records(archive)] == ["2026Q1", "2026Q2"]


@pytest.mark.parametrize(
    ("args", "option", "code"),
    [
        (("--by", "\u200b"), "--by", "200B"),  # a zero-width space: an approver nobody can read
        (("--by", "王会计\n李会计"), "--by", "000A"),
        (("--by", "王会计", "--supersede", "--reason", "录入错误\u202e误错"), "--reason", "202E"),
    ],
)
def test_an_approver_or_reason_with_invisible_or_control_characters_is_refused(tmp_path, archive, args, option, code):
    """`--by` of a zero-width space was accepted: the record and the stamp 已审批：… named nobody."""
    rd = run_ok(write_quarter(tmp_path / "q1"), archive)
    if "--supersede" in args:
        approve_ok(run_ok(write_quarter(tmp_path / "q1a", budget="800000.00"), archive))
    before = lines(archive) if (archive / "approvals.jsonl").exists() else []
    r = cli("approve", rd, "--no-pdf", *args)
    assert r.exit_code == 1, r.output
    assert f"{option} 中有换行、控制字符或不可见的格式字符（U+{code}）" in r.stderr
    assert (lines(archive) if before else []) == before


@pytest.mark.parametrize(
    "first,name",
    [("测试医共体", "测试 医共体"), ("测试医共体（一）", "测试医共体(一)"), ("TEST医共体", "ＴＥＳＴ医共体")],
)
def test_the_same_alliance_under_a_name_spelled_otherwise_is_not_approved_twice(tmp_path, archive, first, name):
    """The finding: Q1 approved for 测试医共体, then run again as 测试 医共体 (a space: another
    archive key) was approved without --supersede and paid a second time. Names are compared as
    people read them: spaces, full-width forms and case left out."""
    a = write_quarter(tmp_path / "a")
    b = write_quarter(tmp_path / "b")
    (a / "period.yaml").write_text(
        f"period: 2026Q1\nalliance: {first}\nph_annual_budget: 400000.00\n", encoding="utf-8"
    )
    (b / "period.yaml").write_text(f"period: 2026Q1\nalliance: {name}\nph_annual_budget: 400000.00\n", encoding="utf-8")
    approve_ok(run_ok(a, archive))
    r = cli("approve", run_ok(b, archive), "--by", "李", "--no-pdf")
    assert r.exit_code == 1
    assert f"2026Q1 已有同名医共体“{name}”的现行审批（第1条记录，医共体编码 {first}）" in r.stderr
    assert len(records(archive)) == 1
