"""`p4p explain` and `p4p statements` on a folder that is not a run folder, or on a run whose
trace.jsonl or summary.json was damaged or edited: a Chinese message naming the file and line,
exit 1 (not a run folder) or 3 (an edited archive, as verify reports it) — never an internal
error, and nothing written."""

import json

import pytest

from conftest import cli, run_ok


def _lines(rd):
    return (rd / "trace.jsonl").read_text(encoding="utf-8").split("\n")


def test_explain_on_an_input_folder_is_not_a_run_folder(base_quarter):
    r = cli("explain", base_quarter, "V01")
    assert r.exit_code == 1
    assert f"{base_quarter} 不是一个运行目录（没有 trace.jsonl，也没有 manifest.json）" in r.stderr
    assert "内部错误" not in r.output


def test_explain_on_a_run_without_its_trace_is_an_edited_archive(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    (rd / "trace.jsonl").unlink()
    r = cli("explain", rd, "V01")
    assert r.exit_code == 3 and f"运行目录 {rd} 缺少 trace.jsonl" in r.stderr and "p4p verify" in r.stderr


def test_a_garbled_line_appended_is_named(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    n = len([x for x in _lines(rd) if x]) + 1
    with (rd / "trace.jsonl").open("a", encoding="utf-8") as f:
        f.write("{bad json\n")
    want = f"{rd}/trace.jsonl 第 {n} 行已损坏或被改动，不能读取；请用 p4p verify 检查归档"
    r = cli("explain", rd, "V01")
    assert r.exit_code == 3 and want in r.stderr and "内部错误" not in r.output
    out = tmp_path / "st"
    r = cli("statements", rd, "--out", out, "--jobs", "1")
    assert r.exit_code == 3 and want in r.stderr and "内部错误" not in r.output
    assert not out.exists()


@pytest.mark.parametrize(
    ("kind", "edit"),
    [
        ("line", lambda d: d.pop("values")),
        ("line", lambda d: d.update(block=999)),
        ("line", lambda d: d["values"].append("1")),
        ("unit", lambda d: d.pop("name")),
        ("block", lambda d: d.pop("constants")),
        ("rule", lambda d: d.update(explain="{坏")),
    ],
)
def test_an_edited_record_is_named(base_quarter, archive, kind, edit):
    rd = run_ok(base_quarter, archive)
    lines = _lines(rd)
    at = next(i for i, x in enumerate(lines) if f'"type":"{kind}"' in x and ("V01" in x or kind in ("rule", "block")))
    d = json.loads(lines[at])
    edit(d)
    lines[at] = json.dumps(d, ensure_ascii=False)
    (rd / "trace.jsonl").write_text("\n".join(lines), encoding="utf-8")
    r = cli("explain", rd, "V01")
    if r.exit_code == 0:  # an edited record V01's lines do not use: the institution it is read for
        r = cli("statements", rd, "--out", rd.parent.parent.parent / "st", "--jobs", "1")
    assert r.exit_code == 3, r.output
    assert f"trace.jsonl 第 {at + 1} 行已损坏或被改动" in r.stderr and "内部错误" not in r.output


def test_statements_with_a_damaged_summary(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    (rd / "summary.json").write_text("{", encoding="utf-8")
    out = tmp_path / "st"
    r = cli("statements", rd, "--out", out, "--jobs", "1")
    assert r.exit_code == 3 and f"{rd}/summary.json 缺失、已损坏或被改动" in r.stderr
    assert not out.exists()


@pytest.mark.parametrize("where", ["run", "run/extra", "archive", "archive/2026Q1", "archive/printed", "other_run"])
def test_statements_refuse_an_output_folder_inside_an_archive(base_quarter, archive, where, tmp_path):
    rd = run_ok(base_quarter, archive)
    other = run_ok(base_quarter, tmp_path / "other")
    base = {"run": rd, "archive": archive, "other_run": other}[where.split("/")[0]]
    out = base.joinpath(*where.split("/")[1:])
    before = sorted(p for p in tmp_path.rglob("*"))
    r = cli("statements", rd, "--out", out, "--jobs", "1")
    assert r.exit_code == 2, r.output
    assert f"输出目录 {out} 在" in r.stderr and "应写到归档之外" in r.stderr and "未写入任何文件" in r.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert cli("verify", archive).exit_code == 0


@pytest.mark.parametrize("where", ["run", "archive", "archive/2026Q1", "other_archive"])
def test_a_diff_workbook_or_a_template_is_not_written_into_an_archive(base_quarter, archive, where, tmp_path):
    """`p4p diff --xlsx` into a run folder (or `p4p template` into an archive) put a file there no
    manifest covers: verify then reported the archive edited. An archive with no approval yet
    (only run folders) counts too."""
    rd = run_ok(base_quarter, archive)
    other = run_ok(base_quarter, tmp_path / "other").parent.parent
    base = {"run": rd, "archive": archive, "other_archive": other}[where.split("/")[0]]
    folder = base.joinpath(*where.split("/")[1:])
    before = sorted(p for p in tmp_path.rglob("*"))
    d = cli("diff", rd, rd, "--xlsx", folder / "差异.xlsx")
    t = cli("template", folder / "模板.xlsx")
    for r, what in ((d, "差异文件"), (t, "模板文件")):
        assert r.exit_code == 2, r.output
        assert f"{what} {folder}/" in r.stderr and "应写到归档之外" in r.stderr and "未写入任何文件" in r.stderr
    assert sorted(p for p in tmp_path.rglob("*")) == before
    assert cli("verify", archive).exit_code == 0


def test_a_template_never_overwrites_a_file(tmp_path):
    """`p4p template 2026Q1.xlsx` over the workbook a finance centre had filled in replaced it."""
    filled = tmp_path / "2026Q1.xlsx"
    filled.write_bytes(b"filled in")
    r = cli("template", filled)
    assert r.exit_code == 2 and f"文件 {filled} 已存在，未覆盖" in r.stderr
    assert filled.read_bytes() == b"filled in"
    inputs = tmp_path / "输入" / "2026Q1"  # beside an input folder (a period name, no run in it)
    inputs.mkdir(parents=True)
    (inputs / "period.yaml").write_text("period: 2026Q1\n", encoding="utf-8")
    assert cli("template", tmp_path / "输入" / "2026Q2.xlsx").exit_code == 0
