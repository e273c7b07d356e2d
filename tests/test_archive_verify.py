"""`p4p verify` (and `history`, which runs the same checks): every way of tampering with an
archive listed in issue 11 is reported with its path and what changed — or, where SPEC §8 says
only a key or a chain head from paper can tell, reported with them. Exit 0 clean, 3 findings,
1 no archive. Archives written by p4p 0.2 still verify and replay."""

import json
import shutil
from pathlib import Path

import pytest
from archive_kit import (
    approve_ok,
    approved_quarters,
    copy_archive,
    edit_json,
    forge_approval_folder,
    forge_lists,
    forge_quarter,
    head_of,
    line_of,
    lines,
    problems,
    q4_input,
    records,
    sha,
    verify,
    write_records,
)

from p4p import __version__

from conftest import DATA, cli, run_ok, write_quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

SECRET = "an archive key kept in the finance office safe"
V1 = DATA / "archive-v1" / "archive"


@pytest.fixture(scope="module")
def year_base(tmp_path_factory):
    """Q1–Q3 run and approved, Q4 run and approved; no key."""
    tmp = tmp_path_factory.mktemp("year")
    archive = tmp / "archive"
    approved_quarters(tmp, archive)
    approve_ok(run_ok(q4_input(tmp), archive))
    return archive


@pytest.fixture(scope="module")
def keyed_base(tmp_path_factory):
    """The same year, every approval signed; the key file lives outside the archive."""
    tmp = tmp_path_factory.mktemp("keyed")
    key = tmp / "archive.key"
    key.write_text(SECRET, encoding="utf-8")
    archive = tmp / "archive"
    for n in (1, 2, 3):
        approve_ok(run_ok(write_quarter(tmp / f"q{n}", period=f"2026Q{n}"), archive), "--key-file", key)
    approve_ok(run_ok(q4_input(tmp), archive), "--key-file", key)
    return archive, key


@pytest.fixture
def year(tmp_path, year_base):
    return copy_archive(year_base, tmp_path / "year")


@pytest.fixture
def keyed(tmp_path, keyed_base):
    archive, key = keyed_base
    return copy_archive(archive, tmp_path / "keyed"), key


def run_of(archive: Path, period: str) -> Path:
    rec = [r for r in records(archive) if r["period"] == period][-1]
    return archive / rec["run_dir"]


def assert_found(result, *fragments):
    assert result.exit_code == 3, result.stdout
    found = problems(result)
    for fragment in fragments:
        assert any(fragment in f for f in found), (fragment, found)


def test_a_clean_archive(year):
    r = verify(year)
    assert r.exit_code == 0, r.stdout
    assert "核验通过：4 个运行目录、4 条审批记录，未发现问题" in r.stdout
    assert f"审批链头：{head_of(year)}" in r.stdout
    assert "说明：4 条审批记录未签名" in r.stdout
    r = cli("verify", year, "--head", head_of(year)[: 2 + 16])  # a 16-digit prefix from paper
    assert r.exit_code == 0 and "未给出纸质链头" not in r.stdout


def test_no_archive_is_exit_1_for_verify_and_history(tmp_path):
    for args in (("verify", tmp_path / "nope"), ("history", "--archive", tmp_path / "nope")):
        r = cli(*args)
        assert r.exit_code == 1 and "这里没有归档" in r.stderr and str(tmp_path / "nope") in r.stderr
    (tmp_path / "empty").mkdir()
    r = cli("verify", tmp_path / "empty")
    assert r.exit_code == 1 and "没有归档内容" in r.stderr
    assert cli("verify", tmp_path / "empty", "--head", "3:abc").exit_code == 2  # usage: hash too short


def test_run_folder_files_edited_missing_or_added(year):
    q1 = run_of(year, "2026Q1")
    rel = f"2026Q1/{q1.name}"
    (q1 / "inputs" / "assessment.csv").write_text("inst_id,score\nT01,100\n", encoding="utf-8")
    (q1 / "summary.txt").unlink()
    (q1 / "notes.txt").write_text("added later", encoding="utf-8")
    assert_found(
        verify(year),
        f"{rel}/inputs/assessment.csv：文件已被修改（SHA-256 与 manifest 不符）",
        f"{rel}/summary.txt：文件缺失",
        f"{rel}/notes.txt：多出未在 manifest 中登记的文件",
    )


def test_files_and_folders_replaced_by_symbolic_links_to_copies_outside(tmp_path, year):
    """The same bytes, moved out of the archive and linked back: every hash still matched and
    verify passed, while the approved ledger, the approvals file, an approval folder and a period
    folder could now be changed outside the archive (and an approval appended through the link)."""
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    q1 = run_of(year, "2026Q1")
    folder = year / records(year)[1]["folder"]
    moved = {
        q1 / "ledger.csv": outside / "ledger.csv",
        year / "approvals.jsonl": outside / "approvals.jsonl",
        folder: outside / "folder",
        year / "2026Q3": outside / "2026Q3",
    }
    for inside, there in moved.items():
        shutil.move(inside, there)
        inside.symlink_to(there)
    linked = "是符号链接（指向 {}），不是归档中的文件或目录"
    assert_found(
        verify(year),
        f"2026Q1/{q1.name}/ledger.csv：" + linked.format(outside / "ledger.csv"),
        "approvals.jsonl：" + linked.format(outside / "approvals.jsonl"),
        f"{records(year)[1]['folder']}：" + linked.format(outside / "folder"),
        "2026Q3：" + linked.format(outside / "2026Q3"),
    )
    assert len(problems(verify(year))) == 4
    before = (outside / "approvals.jsonl").read_bytes()
    r = cli("approve", run_ok(write_quarter(tmp_path / "q1b", budget="800000.00"), year), "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "不能追加新的审批" in r.stderr and "approvals.jsonl：是符号链接" in r.stderr
    assert (outside / "approvals.jsonl").read_bytes() == before


def test_an_approval_refuses_a_run_whose_file_is_a_symbolic_link(tmp_path, archive):
    rd = run_ok(write_quarter(tmp_path / "q1"), archive)
    (tmp_path / "ledger.csv").write_bytes((rd / "ledger.csv").read_bytes())
    (rd / "ledger.csv").unlink()
    (rd / "ledger.csv").symlink_to(tmp_path / "ledger.csv")
    r = cli("approve", rd, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and f"2026Q1/{rd.name}/ledger.csv：是符号链接" in r.stderr
    assert not (archive / "approvals.jsonl").exists()


def test_a_damaged_trace_with_its_manifest_rehashed_is_a_finding_not_the_end_of_verify(year):
    """verify stopped at the first approved run whose trace it could not parse (working its
    payment lists out again) with 'trace.jsonl 第 1 行已损坏…；请用 p4p verify 检查归档' — naming no
    run, listing no other finding."""
    q1, q2 = run_of(year, "2026Q1"), run_of(year, "2026Q2")
    (q1 / "trace.jsonl").write_text("{not json\n", encoding="utf-8")
    m = json.loads((q1 / "manifest.json").read_text(encoding="utf-8"))
    edit_json(q1 / "manifest.json", files={**m["files"], "trace.jsonl": sha((q1 / "trace.jsonl").read_bytes())})
    (q2 / "summary.txt").unlink()
    r = verify(year)
    assert_found(
        r,
        f"2026Q1/{q1.name}/manifest.json：运行哈希与approvals.jsonl 第1行（第1条审批记录）不符",
        f"2026Q2/{q2.name}/summary.txt：文件缺失",
    )
    assert "已损坏或被改动" not in r.output


@pytest.mark.parametrize("command", ["verify", "replay"])
def test_earlier_quarters_edited_into_another_shape_in_a_manifest_are_findings(year, command):
    """A negative chain_seen.seq ended verify with 内部错误 IndexError; a previous_run without a
    period ended replay (and approve, which replays) with 内部错误 TypeError."""
    q2 = run_of(year, "2026Q2")
    m = json.loads((q2 / "manifest.json").read_text(encoding="utf-8"))
    assert m["chain_seen"]["seq"] == 1 and m["previous_run"]["period"] == "2026Q1"
    edit_json(
        q2 / "manifest.json",
        chain_seen={**m["chain_seen"], "seq": -5},
        previous_run={**m["previous_run"], "period": None},
    )
    if command == "verify":
        assert_found(
            verify(year), f"2026Q2/{q2.name}/manifest.json：chain_seen 中的记录序号 -5 不是 p4p 写的：manifest 被改动"
        )
    else:
        r = cli("replay", q2)
        assert r.exit_code == 3, r.output
        assert "篡改：manifest.json 中的 previous_run 不是 p4p 写的形式（应为含期间 YYYYQn 的记录）" in r.stdout
        assert "内部错误" not in r.output


def test_a_record_whose_run_hash_is_not_text_is_a_finding(year):
    """A re-chained record with "run_sha256": 5 ended verify and history with 内部错误 TypeError."""
    recs = records(year)
    recs[1]["run_sha256"] = 5
    write_records(year, recs)
    for args in (("verify", year), ("history", "--archive", year)):
        r = cli(*args)
        assert r.exit_code == 3, r.output
        assert "运行哈希与approvals.jsonl 第2行（第2条审批记录）不符（审批时 5…" in r.stdout


@pytest.mark.parametrize(("key", "value", "replayed"), [("archive_format", "2", 0), ("files", None, 3)])
def test_replay_and_approve_of_a_run_whose_manifest_holds_a_value_of_another_type(
    tmp_path, archive, key, value, replayed
):
    """ "archive_format": "2" or "files": null ended replay and approve with 内部错误 TypeError.
    (The format number only says how ledger.xlsx is compared: the run still replays.)"""
    rd = run_ok(write_quarter(tmp_path / "q1"), archive)
    edit_json(rd / "manifest.json", **{key: value})
    r = cli("replay", rd)
    assert r.exit_code == replayed and "内部错误" not in r.output, r.output
    r = cli("approve", rd, "--by", "财务", "--no-pdf")
    if replayed:
        assert r.exit_code == 1 and "ledger.csv 缺失或与运行的 manifest 不符" in r.stderr, r.output
        assert not (archive / "approvals.jsonl").exists()
    else:
        assert r.exit_code == 0, r.output


def test_a_manifest_listing_files_outside_its_run_folder_is_a_finding_and_they_are_not_read(tmp_path, archive):
    """A run manifest may be edited to list '../../../x' (or 'rules/../../../x'): verify and
    approve hashed whatever file that named on the machine — a file of the right hash passed,
    /proc/kcore would have kept them reading."""
    rd = run_ok(write_quarter(tmp_path / "q1"), archive)
    outside = tmp_path / "outside.yaml"
    outside.write_text("x: 1\n", encoding="utf-8")
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    listed = {
        "../../../outside.yaml": sha(outside.read_bytes()),
        "rules/../../../../outside.yaml": sha(outside.read_bytes()),
    }
    edit_json(rd / "manifest.json", files={**m["files"], **listed})
    r = verify(archive)
    for name in listed:
        assert (
            f"问题：2026Q1/{rd.name}/{name}：manifest 登记的文件不在本目录内（路径含 .. 或是绝对路径）" in r.stdout
        ), r.stdout
    r = cli("approve", rd, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1 and "rules/../../../../outside.yaml 不在运行目录内" in r.stderr, r.output
    assert not (archive / "approvals.jsonl").exists()


def test_a_deleted_approved_run_folder(year):
    q2 = run_of(year, "2026Q2")
    shutil.rmtree(q2)
    assert_found(verify(year), f"2026Q2/{q2.name}：approvals.jsonl 第2行（第2条审批记录）批准的运行目录不见了")


def test_a_deleted_manifest(year):
    q1 = run_of(year, "2026Q1")
    (q1 / "manifest.json").unlink()
    assert_found(
        verify(year),
        f"2026Q1/{q1.name}/manifest.json：2026Q1/{q1.name} 不是一个运行目录（缺少 manifest.json）",
        f"2026Q1/{q1.name}：approvals.jsonl 第1行（第1条审批记录）批准的运行没有可读的 manifest.json",
    )


@pytest.mark.parametrize(
    "key,value,shown",
    [
        ("alliance", "别的医共体", 'alliance："测试医共体" → "别的医共体"'),
        ("created", "2020-01-01T00:00:00Z", "created："),
        ("engine_version", "9.9.9", f'engine_version："{__version__}" → "9.9.9"'),
    ],
)
def test_edited_manifest_metadata_names_what_changed(year, key, value, shown):
    q1 = run_of(year, "2026Q1")
    edit_json(q1 / "manifest.json", **{key: value})
    assert_found(
        verify(year),
        f"2026Q1/{q1.name}/manifest.json：运行哈希与approvals.jsonl 第1行（第1条审批记录）不符",
        shown,
    )
    r = cli("replay", q1)  # replay of an approved run checks the approval's run hash too
    assert r.exit_code == 3 and "运行哈希与approvals.jsonl 第1行（第1条审批记录）不符" in r.stdout


def test_edited_prior_approvers_in_a_q4_manifest(year):
    q4 = run_of(year, "2026Q4")
    m = json.loads((q4 / "manifest.json").read_text(encoding="utf-8"))
    m["prior_runs"][0]["approved_by"] = "李四"
    edit_json(q4 / "manifest.json", prior_runs=m["prior_runs"])
    assert_found(
        verify(year),
        'prior_runs[0].approved_by："财务" → "李四"',
        f"2026Q4/{q4.name}/manifest.json：2026Q1 的审批人/时间记为 李四/",
    )


def test_a_deleted_last_approval_record(year):
    head = head_of(year)
    folder = records(year)[-1]["folder"]
    write_records(year, records(year)[:-1], rechain=False)
    assert_found(verify(year), f"{folder}：审批目录没有对应的审批记录")
    assert_found(cli("verify", year, "--head", head), "审批记录文件只有 3 条：第4至第4条记录被删除")


def test_a_deleted_last_record_and_its_folder_is_caught_by_the_paper_head_or_the_key(tmp_path, year, keyed):
    for archive, extra in ((year, ()), (keyed[0], ("--key-file", keyed[1]))):
        head = head_of(archive)
        shutil.rmtree(archive / records(archive)[-1]["folder"])
        write_records(archive, records(archive)[:-1], rechain=False)
        assert_found(cli("verify", archive, "--head", head), "第4至第4条记录被删除（归档被回滚）")
        if extra:  # the signed head file knows there were 4 records
            assert_found(cli("verify", archive, *extra), "签名头文件记有 4 条审批记录，审批记录文件只有 3 条")


def test_an_edited_last_approval_record(year, keyed):
    recs = records(year)
    recs[-1]["by"] = "不是财务"
    write_records(year, recs, rechain=False)
    folder = recs[-1]["folder"]
    assert_found(verify(year), f"{folder}/manifest.json：记下的审批记录（第4条")
    archive, key = keyed
    recs = records(archive)
    recs[-1]["by"] = "不是财务"
    write_records(archive, recs, rechain=False)
    assert_found(cli("verify", archive, "--key-file", key), "第4条审批记录）：签名（HMAC）不符：记录在签名后被修改")


def test_a_deleted_approvals_file(year):
    (year / "approvals.jsonl").unlink()
    q4 = run_of_dir(year, "2026Q4")
    assert_found(
        verify(year),
        "approvals/0001-2026Q1-",
        "审批目录没有对应的审批记录",
        f"2026Q4/{q4.name}/manifest.json：运行计算时已有 3 条审批记录，现在只有 0 条",
    )


def run_of_dir(archive: Path, period: str) -> Path:
    (p,) = (archive / period).iterdir()
    return p


def test_a_line_that_is_not_a_record_is_a_finding_not_a_traceback(tmp_path, year):
    with open(year / "approvals.jsonl", "a", encoding="utf-8") as f:
        f.write("this is not json\n")
    assert_found(verify(year), "approvals.jsonl 第5行：不是有效的 JSON")
    h = cli("history", "--archive", year)
    assert h.exit_code == 3 and "approvals.jsonl 第5行" in h.stdout
    r = cli("run", q4_input(tmp_path, "q4again"), "--archive", year, "--no-pdf")
    assert r.exit_code == 1 and "approvals.jsonl 第5行" in r.stderr and "Traceback" not in r.output
    r = cli("replay", run_of_dir(year, "2026Q1"))
    assert r.exit_code == 3 and "篡改：approvals.jsonl 第5行" in r.stdout


def test_a_torn_last_line(year):
    data = (year / "approvals.jsonl").read_bytes()
    (year / "approvals.jsonl").write_bytes(data[:-40])
    assert_found(verify(year), "approvals.jsonl 第4行：不是有效的 JSON", "文件末尾没有换行")


def test_reordered_and_deleted_records_break_the_chain(year, tmp_path):
    other = copy_archive(year, tmp_path / "other")
    ls = lines(year)
    (year / "approvals.jsonl").write_text("\n".join([ls[0], ls[2], ls[1], ls[3]]) + "\n", encoding="utf-8")
    assert_found(
        verify(year), "第2条审批记录）：与前一条记录的哈希链不符", "第2条审批记录）：记录自称第3条，却排在第2条"
    )
    ls = lines(other)
    (other / "approvals.jsonl").write_text("\n".join([ls[0], ls[2], ls[3]]) + "\n", encoding="utf-8")
    assert_found(verify(other), "第2条审批记录）：与前一条记录的哈希链不符", "approvals/0002-2026Q2-")


def test_two_approvals_of_one_period_as_the_old_race_left_them(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(write_quarter(tmp_path / "b", budget="800000.00"), archive)
    approve_ok(a)
    rec = records(archive)[0]
    rec2 = {k: rec[k] for k in ("alliance", "period", "by", "at", "supersedes", "reason")}
    rec2.update(run_id=b.name, run_dir=f"2026Q1/{b.name}", ledger_sha256=sha((b / "ledger.csv").read_bytes()))
    rec2["prev_sha256"] = sha(line_of(rec).encode())  # a well-chained record in the 0.2 format
    with open(archive / "approvals.jsonl", "a", encoding="utf-8") as f:
        f.write(line_of(rec2) + "\n")
    assert_found(verify(archive), f"本记录又批准了运行 {b.name}，却没有注明替换：同一期间有两个审批")


def test_a_q4_history_copy_replaced_with_its_manifest_hashes(year):
    q4 = run_of(year, "2026Q4")
    copy = q4 / "history" / "2026Q1.ledger.csv"
    fake = copy.read_bytes().replace(b"40425.53", b"50425.53")  # T01's Q1 advance, raised
    assert fake != copy.read_bytes()
    (q4 / "history" / "2026Q1.ledger.csv").write_bytes(fake)
    m = json.loads((q4 / "manifest.json").read_text(encoding="utf-8"))
    m["files"]["history/2026Q1.ledger.csv"] = sha(fake)
    m["prior_runs"][0]["ledger_sha256"] = sha(fake)
    edit_json(q4 / "manifest.json", files=m["files"], prior_runs=m["prior_runs"])
    r = verify(year)
    assert_found(
        r,
        f"2026Q4/{q4.name}/history/2026Q1.ledger.csv：与第1条审批记录批准的台账不符",
        f"2026Q4/{q4.name}/manifest.json：2026Q1 的台账 SHA-256 与第1条审批记录不符",
        f"2026Q4/{q4.name}/manifest.json：运行哈希与approvals.jsonl 第4行（第4条审批记录）不符",
    )


def test_a_forged_quarter_recomputed_consistently_and_rechained(tmp_path, year):
    """The issue's case: replay of the forged folder is clean, yet verify sees it — through the
    approval folder that still holds the real record hash and run manifest, and through the Q4
    run that recorded the run hash and the chain it was computed from."""
    forged = forge_quarter(year, "2026Q1", tmp_path)
    assert cli("replay", forged).exit_code == 0
    q4 = run_of(year, "2026Q4")
    assert_found(
        verify(year),
        "approvals/0001-2026Q1-",
        f"2026Q4/{q4.name}/manifest.json：运行计算时第3条审批记录的哈希与现在的不符",
        f"2026Q4/{q4.name}/manifest.json：2026Q1 的台账 SHA-256 与第1条审批记录不符",
    )


def test_a_full_rewrite_without_a_key_needs_the_paper_head(tmp_path):
    """A single approved quarter, and the forger rewrites its approval folder too, payment lists
    worked out from the forged ledger included: nothing inside a key-less archive can tell
    (SPEC §8) — the chain head on the signed paper statement can."""
    archive = tmp_path / "archive"
    approved_quarters(tmp_path, archive, quarters=(1,))
    paper = head_of(archive)
    forge_quarter(archive, "2026Q1", tmp_path)
    forge_approval_folder(archive, 1)
    assert_found(verify(archive), "payments.csv：与按批准的台账重新编制的结果不符")  # the old lists give it away
    forge_lists(archive, 1)
    forge_approval_folder(archive, 1)
    assert verify(archive).exit_code == 0  # consistent: this is why statements print the head
    assert_found(cli("verify", archive, "--head", paper), "第1条审批记录）：与纸质链头不符")


def test_later_quarters_record_the_run_hash_of_the_year_so_far(tmp_path):
    """Every quarter keeps the approved earlier quarters it saw (their run hashes) for the year
    to date, so a Q1 rewritten with its approval folder is still seen through Q2 and Q3."""
    archive = tmp_path / "archive"
    runs = approved_quarters(tmp_path, archive)
    forge_quarter(archive, "2026Q1", tmp_path)
    forge_approval_folder(archive, 1)
    q2 = runs["2026Q2"]
    assert_found(verify(archive), f"2026Q2/{q2.name}/manifest.json")


def test_a_forged_quarter_in_a_keyed_archive(tmp_path, keyed, monkeypatch):
    archive, key = keyed
    forge_quarter(archive, "2026Q1", tmp_path)
    assert_found(cli("verify", archive, "--key-file", key), "第1条审批记录）：签名（HMAC）不符")
    monkeypatch.setenv("P4P_ARCHIVE_KEY", SECRET)  # and a new Q4 does not settle against it
    r = cli("run", q4_input(tmp_path, "q4new"), "--archive", archive, "--no-pdf")
    assert r.exit_code == 1 and "签名（HMAC）不符" in r.stderr
    assert len(list((archive / "2026Q4").iterdir())) == 1


def test_stripped_signatures_are_found_with_the_key(keyed):
    archive, key = keyed
    recs = [{k: v for k, v in r.items() if k not in ("hmac", "key_id")} for r in records(archive)]
    write_records(archive, recs)
    (archive / "approvals.head").unlink()
    assert_found(cli("verify", archive, "--key-file", key), "给出了密钥，但归档中既没有签名的审批记录也没有签名头文件")


def test_a_wrong_key_is_told_apart_from_an_edited_record(tmp_path, keyed):
    archive, _ = keyed
    wrong = tmp_path / "wrong.key"
    wrong.write_text("not the key of this archive at all", encoding="utf-8")
    assert_found(cli("verify", archive, "--key-file", wrong), "不是给出的密钥")


def test_history_lists_runs_marks_superseded_ones_and_runs_the_checks(tmp_path, archive):
    a = run_ok(write_quarter(tmp_path / "a"), archive)
    b = run_ok(write_quarter(tmp_path / "b", budget="800000.00"), archive)
    approve_ok(a)
    approve_ok(b, "--supersede", "--reason", "预算更正")
    h = cli("history", "--archive", archive)
    assert h.exit_code == 0, h.stdout
    row_a = next(line for line in h.stdout.splitlines() if a.name in line)
    row_b = next(line for line in h.stdout.splitlines() if b.name in line)
    assert "第1条审批 财务" in row_a and "（已被替换）" in row_a
    assert f"替换 {a.name}（预算更正）（现行）" in row_b
    (b / "ledger.csv").write_text("x", encoding="utf-8")
    h = cli("history", "--archive", archive)
    assert h.exit_code == 3 and f"问题：2026Q1/{b.name}/ledger.csv：文件已被修改" in h.stdout


# ---- archives written by p4p 0.2 (tests/data/archive-v1) ---------------------------------------


@pytest.fixture
def v1(tmp_path):
    return copy_archive(V1, tmp_path / "archive")


def test_an_archive_of_p4p_0_2_verifies_with_its_records_reported_as_older(v1):
    r = verify(v1)
    assert r.exit_code == 0, r.stdout
    assert "说明：3 条审批记录是旧格式（p4p 0.2 及更早写入）：没有运行哈希，没有签名" in r.stdout
    assert sorted(p.name for p in v1.iterdir()) == sorted(p.name for p in V1.iterdir())  # verify wrote nothing


def test_an_archive_of_p4p_0_2_replays(v1):
    for period in ("2026Q1", "2026Q2", "2026Q3", "2026Q4"):
        r = cli("replay", run_of_dir(v1, period))
        assert r.exit_code == 0, (period, r.stdout)
    assert "旧格式记录，没有运行哈希" in cli("replay", run_of_dir(v1, "2026Q1")).stdout


def test_an_archive_of_p4p_0_2_goes_on(tmp_path, v1):
    """Its Q4 run is approved by today's code, and a new Q4 run reads the old records."""
    approve_ok(run_of_dir(v1, "2026Q4"))
    q4 = run_ok(q4_input(tmp_path), v1)
    m = json.loads((q4 / "manifest.json").read_text(encoding="utf-8"))
    assert [p["approval_seq"] for p in m["prior_runs"]] == [1, 2, 3]
    assert verify(v1).exit_code == 0


def test_tampering_with_an_archive_of_p4p_0_2_is_found(v1):
    q1 = run_of_dir(v1, "2026Q1")
    p = q1 / "ledger.csv"
    p.write_bytes(p.read_bytes().replace(b"40425.53", b"40425.54"))
    assert_found(
        verify(v1),
        f"2026Q1/{q1.name}/ledger.csv：文件已被修改",
        f"2026Q1/{q1.name}/ledger.csv：与approvals.jsonl 第1行（第1条审批记录）中的台账 SHA-256 不符",
    )


def test_replay_finds_an_approved_run_whose_ledger_was_edited_before_its_approval(tmp_path, archive, monkeypatch):
    """An archive made before approval computed runs again: V01's top-up was raised from
    3,268.09 to 9,268.09 in ledger.csv, the manifest re-hashed, and the run approved. Every hash
    agrees, so `verify` finds nothing; `verify --replay` computes the run again and names the line."""
    import p4p.app.approve as approve_mod

    rd = run_ok(write_quarter(tmp_path / "q1"), archive)
    ledger = rd / "ledger.csv"
    ledger.write_bytes(ledger.read_bytes().replace(b",3268.09,", b",9268.09,"))
    edit_json(rd / "manifest.json", ledger_sha256=sha(ledger.read_bytes()))
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    edit_json(rd / "manifest.json", files={**m["files"], "ledger.csv": sha(ledger.read_bytes())})
    monkeypatch.setattr(approve_mod, "reproduced", lambda run_dir: None)  # as approval was before
    approve_ok(rd)
    assert verify(archive).exit_code == 0
    r = verify(archive, "--replay")
    assert r.exit_code == 3, r.output
    assert problems(r) == [
        f"问题：2026Q1/{rd.name}：重新计算与归档不同：V01 甲镇一村卫生室 VILLAGE_TOPUP：归档 9268.09（数量 1），重算 3268.09（数量 1）"
    ]
    assert "已按各自归档的输入和规则重新计算 1 个已审批的运行" in r.stdout


@pytest.mark.parametrize(
    ("key", "value", "shown"),
    [
        ("period", "2026Q1", "period 为 2026Q1，按归档的输入重算得到的是 2026Q2"),
        ("alliance_id", "B99", "alliance_id 为 B99"),
    ],
)
def test_a_run_relabelled_in_its_manifest_is_not_approved_as_another_quarter_or_alliance(
    tmp_path, archive, monkeypatch, key, value, shown
):
    """A Q2 run whose manifest was edited to say 2026Q1 (and moved to 2026Q1/) replayed clean —
    replay compared only ledger and trace — and was approved as Q1, paying Q2's amounts (the real
    Q2 could then be approved too); an alliance_id changed there approves the quarter under
    another alliance key. Approval refuses such a run; verify --replay finds one approved before."""
    import p4p.app.approve as approve_mod

    rd = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), archive)
    if key == "period":
        (archive / "2026Q1").mkdir()
        rd = rd.rename(archive / "2026Q1" / rd.name)
    edit_json(rd / "manifest.json", **{key: value})
    r = cli("approve", rd, "--by", "财务", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert f"运行 {rd.name} 不能审批" in r.stderr and f"manifest.json 记的 {shown}" in r.stderr
    assert not (archive / "approvals.jsonl").exists()
    monkeypatch.setattr(approve_mod, "reproduced", lambda run_dir: None)  # as approval was before
    approve_ok(rd)
    assert verify(archive).exit_code == 0
    r = verify(archive, "--replay")
    assert r.exit_code == 3 and any(f"manifest.json 记的 {shown}" in p for p in problems(r)), r.output


def test_control_characters_in_a_manifest_cannot_rewrite_the_report_on_a_terminal(year):
    """A run_id edited to 'x\\x1b[2K\\r核验通过…' printed as is: on a terminal the escape erased
    the finding's line and the carriage return wrote 核验通过 over it (exit 3 all the same)."""
    from click.testing import CliRunner

    from p4p.cli import main

    q3 = run_of(year, "2026Q3")
    edit_json(q3 / "manifest.json", run_id="x\x1b[2K\r核验通过：4 个运行目录")
    for args in (["verify", str(year)], ["history", "--archive", str(year)], ["replay", str(q3)]):
        r = CliRunner().invoke(main, args, color=True)  # as on a terminal: escapes are not stripped
        assert r.exit_code == 3, r.output
        assert "\x1b" not in r.output and "\r" not in r.output, (args, r.output)
    assert "<U+001B>[2K<U+000D>核验通过" in verify(year).stdout


def test_two_approvals_in_force_of_one_quarter_for_namesake_alliances_are_a_finding(tmp_path, archive, monkeypatch):
    """Approved before approval refused namesakes (alliance_id added, a zero-width space in the
    name): two approvals of 2026Q1 in force under two archive keys, the quarter paid twice —
    and verify passed."""
    import p4p.archive.approval as approval_mod

    approve_ok(run_ok(write_quarter(tmp_path / "a"), archive))
    monkeypatch.setattr(approval_mod, "_check_namesake", lambda *args: None)  # as approval was before
    approve_ok(run_ok(write_quarter(tmp_path / "b", extra_period="alliance_id: T2\n"), archive))
    approve_ok(run_ok(write_quarter(tmp_path / "c", extra_period="alliance_id: T3\n", period="2026Q2"), archive))
    assert_found(
        verify(archive),
        "approvals.jsonl 第2行（第2条审批记录）：2026Q1 另有同名医共体“测试医共体”的现行审批（第1条记录，"
        "医共体编码 测试医共体），本记录的编码为 T2：同一季度可能发放了两次",
    )
    assert len(problems(verify(archive))) == 1  # 2026Q2 under T3 has no other approval to collide with
