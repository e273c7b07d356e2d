"""The run as a user drives it: determinism, the run folder, atomicity, explain, validate."""

import json
from pathlib import Path

import pytest

from conftest import ACCEPTANCE, cli, csv_rows, run_ok


def test_identical_inputs_give_a_byte_identical_ledger(base_quarter, archive):
    a = run_ok(base_quarter, archive)
    b = run_ok(base_quarter, archive)
    assert a != b
    for f in ("ledger.csv", "trace.jsonl", "summary.json"):
        assert (a / f).read_bytes() == (b / f).read_bytes()


def test_run_folder_layout_and_manifest(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    assert rd.parent == archive / "2026Q1"
    data = (rd / "ledger.csv").read_bytes()
    assert data.startswith(b"\xef\xbb\xbf")
    head = data[3:].decode().splitlines()[0]
    assert head == "period,inst_id,inst_name,kind,item,item_name,amount,quantity,rule_id"
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    for k in (
        "run_id",
        "period",
        "alliance",
        "created",
        "engine_version",
        "ruleset",
        "inputs",
        "ledger_sha256",
        "prior_runs",
        "files",
    ):
        assert k in m
    assert m["ruleset"]["id"] == "huangshan-2026" and len(m["ruleset"]["sha256"]) == 64
    assert set(m["inputs"]) == {
        "institutions.csv",
        "assessment.csv",
        "workpoints.csv",
        "village_income.csv",
        "period.yaml",
    }
    for rel in ("inputs/institutions.csv", "rules/rules.yaml", "ledger.xlsx", "trace.jsonl", "summary.txt"):
        assert (rd / rel).is_file(), rel
    # every ledger line has a trace line
    traces = [json.loads(x) for x in (rd / "trace.jsonl").read_text(encoding="utf-8").splitlines()]
    assert sum(1 for t in traces if t["type"] == "line") == len(data.splitlines()) - 1


def test_last_stdout_line_is_the_run_folder_and_summary_is_chinese(base_quarter, archive):
    r = cli("run", base_quarter, "--archive", archive, "--no-pdf")
    lines = r.stdout.strip().splitlines()
    assert Path(lines[-1]).is_dir()
    assert "绩效工资总量" in r.stdout and "核对" in r.stdout and "[通过]" in r.stdout


def test_json_summary(base_quarter, archive):
    r = cli("run", base_quarter, "--archive", archive, "--no-pdf", "--json")
    s = json.loads(r.stdout.strip().splitlines()[-2])
    assert s["all_checks_ok"] and s["checks"][0]["total"] == "80000.00"


def test_a_failing_run_leaves_nothing(base_quarter, archive):
    def boom(tmp):
        raise RuntimeError("disk full")

    from p4p.app import DEFAULT_RULES, compute_run, write

    c = compute_run(base_quarter, DEFAULT_RULES, archive)
    with pytest.raises(RuntimeError, match="disk full"):
        write(c, archive, render=lambda tmp, run_id, manifest: boom(tmp))
    assert not archive.exists()  # no run folder, no temporary folder, not even the archive it made


def test_validate_ok(base_quarter):
    r = cli("validate", base_quarter)
    assert r.exit_code == 0 and "7 个机构" in r.stdout


def test_explain_prints_rule_clause_and_numbers(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    r = cli("explain", rd, "T01")
    assert r.exit_code == 0
    for s in (
        "甲镇卫生院",
        "院长绩效奖励",
        "15,000.00",
        "人民币壹万伍仟元整",
        "R3",
        "一（一）4",
        "张院长",
        "40,000.00",
        "PH_FUND",
        "40,425.53",
        "加权工分 950",
    ):
        assert s in r.stdout, s
    assert cli("explain", rd, "NOPE").exit_code == 1


def test_explain_needs_only_the_trace(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    lonely = tmp_path / "only-trace"
    lonely.mkdir()
    (lonely / "trace.jsonl").write_bytes((rd / "trace.jsonl").read_bytes())
    r = cli("explain", lonely, "V01", "VILLAGE_TOPUP")
    assert r.exit_code == 0 and "3,268.09" in r.stdout and "工作量系数 1" in r.stdout


def test_missing_input_folder_is_a_rejected_input(tmp_path, archive):
    r = cli("run", tmp_path / "nope", "--archive", archive, "--no-pdf")
    assert r.exit_code == 2 and not archive.exists()


def test_public_acceptance_q1_q3_match(archive):

    for q in ("2026Q1", "2026Q2", "2026Q3"):
        rd = run_ok(ACCEPTANCE / q, archive)
        exp = {(r["inst_id"], r["item"]): r for r in csv_rows(ACCEPTANCE / "expected" / f"{q}.csv")}
        got = {(r["inst_id"], r["item"]): r for r in csv_rows(rd / "ledger.csv")}
        assert set(exp) == set(got), q
        for k, e in exp.items():
            assert got[k]["amount"] == e["amount"], (q, k)
        assert cli("approve", rd, "--by", "验收", "--no-pdf").exit_code == 0
    rd = run_ok(ACCEPTANCE / "2026Q4", archive)
    exp = {(r["inst_id"], r["item"]): r["amount"] for r in csv_rows(ACCEPTANCE / "expected" / "2026Q4.csv")}
    got = {(r["inst_id"], r["item"]): r["amount"] for r in csv_rows(rd / "ledger.csv")}
    assert got == exp


def test_a_failing_run_keeps_an_existing_archive(base_quarter, archive):
    first = run_ok(base_quarter, archive)
    from p4p.app import DEFAULT_RULES, compute_run, write

    c = compute_run(base_quarter, DEFAULT_RULES, archive)
    with pytest.raises(RuntimeError):
        write(c, archive, render=lambda tmp, run_id, manifest: (_ for _ in ()).throw(RuntimeError("x")))
    assert sorted(p.name for p in archive.rglob("*") if p.parent == archive) == ["2026Q1"]
    assert first.is_dir() and len(list((archive / "2026Q1").iterdir())) == 1


def test_the_terminal_lists_the_first_warnings_and_summary_txt_keeps_them_all(base_quarter, archive, monkeypatch):
    """A province's run can have thousands of warnings: the terminal shows the first few of each
    list and says how many more there are; summary.txt (in the run folder) has every one."""
    import p4p.cli.commands as cli_mod

    monkeypatch.setattr(cli_mod, "TERMINAL_WARNINGS", 1)
    r = cli("run", base_quarter, "--archive", archive, "--no-pdf")
    tips = r.stdout.split("提示：\n")[1].splitlines()
    assert tips[:2] == [
        "  - 乙镇二村卫生室（V03）：一票否决：违规",
        "  ……另有 3 条未在此列出，全部见运行目录中的 summary.txt",
    ]
    kept = (Path(r.stdout.strip().splitlines()[-1]) / "summary.txt").read_text(encoding="utf-8")
    assert kept.count("\n  - ") == 4 and "另有" not in kept


def test_an_error_quoting_an_edited_manifest_cannot_rewrite_the_terminal(capsys):
    """An ArchiveError quotes what it read (a run id, an alliance name): a terminal escape or a
    carriage return in an edited manifest is shown as <U+XXXX>; the message's own lines stay."""
    from p4p.archive.errors import ArchiveError
    from p4p.cli.base import EXIT_FAIL, _failure

    assert _failure(ArchiveError("运行 x\x1b[2K\r审批通过 不存在\n  - 第二行\u202e")) == EXIT_FAIL
    assert capsys.readouterr().err == "失败：运行 x<U+001B>[2K<U+000D>审批通过 不存在\n  - 第二行<U+202E>\n"


@pytest.mark.parametrize("command", ["run", "statements"])
def test_more_pdf_processes_than_cores_are_cut_to_the_cores_and_said(
    tmp_path, base_quarter, archive, monkeypatch, command
):
    """`--jobs 500` forked 500 renderers, each with its own fonts and templates: it took all 24 GB
    of the machine. More processes than cores are no faster."""
    from p4p.report import pdf
    from p4p.report.pool import cores

    used = []
    monkeypatch.setattr(pdf, "_run_tasks", lambda tasks, jobs, bar, done: used.append(jobs) or done + len(tasks))
    monkeypatch.setattr(pdf, "merge_pdfs", lambda *a, **k: None)
    if command == "run":
        r = cli("run", base_quarter, "--archive", archive, "--jobs", 500)
    else:
        r = cli("statements", run_ok(base_quarter, archive), "--out", tmp_path / "out", "--jobs", 500)
    assert f"提示：--jobs 500 多于本机的 CPU 核数（{cores()}）：按 {cores()} 个进程生成 PDF" in r.stderr
    assert used and set(used) == {cores()}


@pytest.mark.parametrize("jobs", ["0", "-3"])
def test_a_number_of_pdf_processes_below_one_is_refused(base_quarter, archive, jobs):
    r = cli("run", base_quarter, "--archive", archive, "--jobs", jobs)
    assert r.exit_code == 2 and f"'--jobs' 的取值无效：{jobs} 不在 x>=1 范围内" in r.stderr
    assert not archive.exists()
