"""Whole files (SPEC §3, v2): one encoding per CSV file, no control characters, the size limits
(found in time proportional to the file), structure slips, and what the CLI says about a path
that is not an input."""

import codecs
from pathlib import Path

import pytest
from strict_helpers import read, refused

from p4p.read.encoding import to_utf8

from conftest import BASE_INSTITUTIONS, BASE_WORKPOINTS, cli, write_csv, write_quarter

GB = "gb18030"


def _gb_institutions(inp, utf8_row=None):
    """institutions.csv in GB18030 as Excel saves it; `utf8_row` (data row index) in UTF-8."""
    lines = [",".join(["inst_id", "name", "kind", "parent_id", "staff_count", "perf_base_annual", "population"])]
    lines[0] += ",guarantee,workload_target,director"
    lines += [",".join(r) for r in BASE_INSTITUTIONS]
    data = b""
    for k, line in enumerate(lines):
        data += (line + "\r\n").encode("utf-8" if k - 1 == utf8_row else GB)
    (inp / "institutions.csv").write_bytes(data)


def test_gb18030_is_read(tmp_path):
    inp = write_quarter(tmp_path / "in")
    _gb_institutions(inp)
    assert read(inp).institutions["T01"].name == "甲镇卫生院"


def test_gb18030_with_one_utf8_line_is_refused_as_mixed(tmp_path):
    """Decoded as GB18030 the UTF-8 line would silently become mojibake names (乙镇 → 涔欓晣)."""
    inp = write_quarter(tmp_path / "in")
    _gb_institutions(inp, utf8_row=3)  # T02, line 5
    refused(inp, tmp_path / "a", "institutions.csv：文件混用了两种编码：第 5 行是 UTF-8，其余是 GB18030")


def test_a_bom_promises_utf8(tmp_path):
    inp = write_quarter(tmp_path / "in")
    _gb_institutions(inp)
    (inp / "institutions.csv").write_bytes(codecs.BOM_UTF8 + (inp / "institutions.csv").read_bytes())
    err = refused(inp, tmp_path / "a", "institutions.csv 第2行：文件开头标明是 UTF-8（BOM），但这一行不是 UTF-8 编码")
    assert "输入有 1 处问题" in err  # the other tables are not checked against an unreadable one


@pytest.mark.parametrize(
    "bad,expect",
    [
        (b"\x00", "workpoints.csv 第3行：文件中有空字符（NUL），共 1 处"),
        (b"\x1b[31m", "workpoints.csv 第3行：文件中有控制字符（0x1B），共 1 处"),
        (codecs.BOM_UTF8, "workpoints.csv 第3行：文件中间有字节顺序标记（BOM），可能是两个文件拼接而成"),
    ],
)
def test_characters_no_input_may_hold(tmp_path, bad, expect):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_bytes(b"inst_id,item,count\r\nT01,EHR,1000\r\nT02," + bad + b"HTN,250\r\n")
    refused(inp, tmp_path / "a", expect)


def test_utf8_lines_judged_by_what_they_decode_to():
    """A GB18030 file whose bytes contain UTF-8 look-alike sequences is not 'mixed' unless a
    whole line decodes to UTF-8 text with 3-byte characters."""
    problems: list = []
    gb = "编号,名称\n1,鸡蛋灌饼\n".encode(GB)
    assert to_utf8(gb, "x.csv", problems) == "编号,名称\n1,鸡蛋灌饼\n".encode() and problems == []
    mixed = gb + "2,乙镇\n".encode()
    assert to_utf8(mixed, "x.csv", problems) is None and "第 3 行是 UTF-8" in problems[0].message


def test_bom_only_and_empty_files(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_bytes(codecs.BOM_UTF8)
    (inp / "village_income.csv").write_bytes(b"")
    (inp / "assessment.csv").write_bytes(b"\r\n\r\n")
    refused(
        inp,
        tmp_path / "a",
        "workpoints.csv：文件是空的（第1行应为表头）",
        "village_income.csv：文件是空的（第1行应为表头）",
        "assessment.csv 第1行：第1行应为表头，但它是空的",
    )


def test_header_only_institutions(tmp_path):
    refused(write_quarter(tmp_path / "in", institutions=[]), tmp_path / "a", "机构表中没有任何机构")


def test_line_ends_mixed_crlf_lf_and_cr_read_the_same(tmp_path):
    plain = read(write_quarter(tmp_path / "plain"))
    inp = write_quarter(tmp_path / "mixed")
    text = (inp / "workpoints.csv").read_text(encoding="utf-8").replace("\r\n", "\n")
    lines = text.splitlines()
    (inp / "workpoints.csv").write_text(lines[0] + "\r\n" + lines[1] + "\n" + lines[2] + "\r" + "\n".join(lines[3:]))
    assert read(inp).workpoints == plain.workpoints


def test_blank_lines_keep_their_place_in_the_row_numbers(tmp_path):
    """A blank line is row 3 as a spreadsheet shows it; the bad row after it is row 5."""
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_text("inst_id,item,count\nT01,EHR,1\n\n,,\nT01,XRAY,1\n", encoding="utf-8")
    refused(inp, tmp_path / "a", "workpoints.csv 第5行 列“item”（值：“XRAY”）")


def test_a_header_of_a_million_columns_is_refused_at_once(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_text("inst_id,item,count," + "x," * 999_997 + "x\nT01,EHR,1\n")
    refused(inp, tmp_path / "a", "workpoints.csv 第1行：表头有 1,000,001 列，超过 200 列的上限")


def test_a_row_of_a_million_cells(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_text("inst_id,item,count\nT01,EHR,1\nT01,EHR,1," + "9," * 999_999 + "9\n")
    refused(inp, tmp_path / "a", "workpoints.csv 第3行（值：“9,9,9", "这一行有 1,000,003 列，多于表头的 3 列")


@pytest.mark.parametrize("length", [10_001, 200_000])
def test_a_cell_longer_than_10000_characters(tmp_path, length):
    """Beyond the csv module's own field limit (128 KiB) too."""
    rows = [list(r) for r in BASE_INSTITUTIONS]
    rows[4][1] = "长" * length
    refused(write_quarter(tmp_path / "in", institutions=rows), tmp_path / "a", "institutions.csv 第6行", "单元格过长")


def test_short_rows_are_padded_long_rows_with_content_refused(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "assessment.csv").write_text(
        "inst_id,score,veto,veto_reason\nL01,90,0\nC01,85,0,,\nT01,95,0,,x\nT02,80,0\nV01,60,0\nV02,59.9,0\nV03,70,1,违规\n",
        encoding="utf-8",
    )
    refused(inp, tmp_path / "a", "assessment.csv 第4行（值：“x”）：这一行有 5 列，多于表头的 4 列")


def test_an_unterminated_quote_does_not_swallow_rows_silently(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_text('inst_id,item,count\nT01,"EHR,1000\nT02,HTN,250\n', encoding="utf-8")
    refused(inp, tmp_path / "a", "workpoints.csv 第2行")


def test_unknown_columns_and_files_are_warnings(tmp_path):
    inp = write_quarter(tmp_path / "in")
    write_csv(inp / "workpoints.csv", ["inst_id", "item", "count", "备注"], [[*r, "手工补录"] for r in BASE_WORKPOINTS])
    (inp / "workpoint.csv").write_text("x\n")
    q = read(inp)
    assert q.warnings == [
        "workpoints.csv：列 “备注” 不是 p4p 使用的列，已忽略",
        "文件夹中的 workpoint.csv 不是 p4p 的输入文件，已忽略",
    ]


def test_validate_shows_the_warnings_of_the_input(tmp_path):
    """The finding: `p4p validate` said only 输入校验通过 — a clerk checking the input never saw
    that a column or a file was ignored (or a blank veto read as 否); `run` lists them."""
    inp = write_quarter(tmp_path / "in")
    write_csv(inp / "workpoints.csv", ["inst_id", "item", "count", "备注"], [[*r, "手工补录"] for r in BASE_WORKPOINTS])
    (inp / "workpoint.csv").write_text("x\n")
    r = cli("validate", inp)
    assert r.exit_code == 0
    assert r.stdout.endswith(
        "\n提示：\n  - workpoints.csv：列 “备注” 不是 p4p 使用的列，已忽略\n"
        "  - 文件夹中的 workpoint.csv 不是 p4p 的输入文件，已忽略\n"
    )
    assert "提示" not in cli("validate", write_quarter(tmp_path / "plain")).stdout


@pytest.mark.parametrize(
    "name,expect",
    [
        ("q1.xls", "q1.xls：.xls 是旧版 Excel 格式，不支持；请在 Excel 中另存为 .xlsx 工作簿"),
        ("institutions.csv", "institutions.csv：这是单个 CSV 文件；输入应为包含 institutions.csv"),
        ("q1.ods", "OpenDocument 表格不支持"),
        ("q1.pdf", "不支持的输入：q1.pdf（输入应为文件夹或 .xlsx 工作簿）"),
    ],
)
def test_a_path_that_is_not_an_input_says_what_it_is(tmp_path, name, expect):
    (tmp_path / name).write_bytes(b"\xd0\xcf\x11\xe0 not a folder")
    r = cli("validate", tmp_path / name)
    assert r.exit_code == 2 and expect in r.stderr, r.stderr


def test_a_missing_path_says_it_does_not_exist(tmp_path):
    r = cli("validate", tmp_path / "nowhere")
    assert r.exit_code == 2 and "nowhere：路径不存在（输入应为文件夹或 .xlsx 工作簿）" in r.stderr


def test_an_xlsx_that_is_not_a_workbook(tmp_path):
    (tmp_path / "q1.xlsx").write_bytes(b"PK\x03\x04 truncated")
    refused(tmp_path / "q1.xlsx", tmp_path / "a", "q1.xlsx：无法打开工作簿（不是有效的 .xlsx 文件）")


def test_the_base_quarter_still_reads(tmp_path):
    q = read(write_quarter(tmp_path / "in"))
    assert sorted(q.institutions) == ["C01", "L01", "T01", "T02", "V01", "V02", "V03"]
    assert q.workpoints == {w[0]: {w[1]: int(w[2])} for w in BASE_WORKPOINTS} and q.warnings == []


def test_an_input_file_that_cannot_be_read_is_exit_1_in_chinese(tmp_path, monkeypatch):
    """The finding: an input file without read permission ended in `运行失败（内部错误）：
    PermissionError: [Errno 13] Permission denied` — the environment is exit 1, in Chinese."""
    inp = write_quarter(tmp_path / "in")
    read_bytes = Path.read_bytes

    def unreadable(self: Path) -> bytes:
        if self.name == "assessment.csv":
            raise PermissionError(13, "Permission denied", str(self))
        return read_bytes(self)

    monkeypatch.setattr(Path, "read_bytes", unreadable)
    r = cli("run", inp, "--archive", tmp_path / "a", "--no-pdf")
    assert r.exit_code == 1, r.output
    assert f"失败：读写文件出错：没有权限（{inp / 'assessment.csv'}）" in r.stderr
    assert "内部错误" not in r.output and "Permission" not in r.output
    assert not (tmp_path / "a").exists()


def test_a_folder_or_a_broken_link_named_like_an_input_file_says_so(tmp_path):
    """The finding: a folder named institutions.csv was reported as 缺少文件 institutions.csv —
    the clerk sees it there and cannot tell what is wrong."""
    inp = write_quarter(tmp_path / "in")
    (inp / "institutions.csv").unlink()
    (inp / "institutions.csv").mkdir()
    (inp / "workpoints.csv").unlink()
    (inp / "workpoints.csv").symlink_to(tmp_path / "gone.csv")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "institutions.csv：这是一个文件夹，不是文件；缺少文件 institutions.csv（机构）" in r.stderr
    assert (
        "workpoints.csv：这是一个链接（快捷方式），它指向的文件不存在；缺少文件 workpoints.csv（公卫工分）" in r.stderr
    )


def test_a_file_named_almost_right_is_named_in_the_message(tmp_path):
    """The finding: Institutions.CSV, assessment.csv.csv (Windows hides the extension), 公卫工分.csv
    or period.yml gave only 缺少文件 … — the clerk sees the file there (the warning naming it is
    not printed when the input is refused)."""
    inp = write_quarter(tmp_path / "in")
    for old, new in [("institutions.csv", "Institutions.CSV"), ("assessment.csv", "assessment.csv.csv"),
                     ("workpoints.csv", "公卫工分.csv"), ("period.yaml", "period.yml")]:  # fmt: skip
        (inp / old).rename(inp / new)
    r = cli("validate", inp)
    assert r.exit_code == 2
    for line in [
        "institutions.csv：缺少文件 institutions.csv（机构）；文件夹中有 Institutions.CSV，文件名应为 institutions.csv（请改名）",
        "assessment.csv：缺少文件 assessment.csv（考核）；文件夹中有 assessment.csv.csv，文件名应为 assessment.csv",
        "workpoints.csv：缺少文件 workpoints.csv（公卫工分）；文件夹中有 公卫工分.csv，文件名应为 workpoints.csv",
        "period.yaml：缺少文件 period.yaml；文件夹中有 period.yml，文件名应为 period.yaml（请改名）",
    ]:
        assert line in r.stderr, r.stderr
    assert "village_income.csv" not in r.stderr


def test_a_title_above_the_header_is_named(tmp_path):
    """The finding: a title row above the header (as exports often have) gave 缺少列 inst_id,
    缺少列 score, 缺少列 veto — nothing said the header was merely one row down."""
    inp = write_quarter(tmp_path / "in")
    text = (inp / "assessment.csv").read_text(encoding="utf-8")
    (inp / "assessment.csv").write_text("2026年第一季度考核结果,,,\n\n" + text, encoding="utf-8")
    (inp / "workpoints.csv").write_text(",,\n" + (inp / "workpoints.csv").read_text(encoding="utf-8"), encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "assessment.csv 第1行：第1行应为表头，但表头在第3行；请删除表头上方的 2 行（标题、说明或空行）" in r.stderr
    assert "workpoints.csv 第1行：第1行应为表头，但表头在第2行；请删除表头上方的 1 行" in r.stderr
    assert "缺少列" not in r.stderr


@pytest.mark.parametrize("sep,what", [(";", "分号 ;"), ("\t", "制表符（Tab）"), ("，", "全角逗号 ，")])
def test_columns_separated_by_something_else_than_a_comma(tmp_path, sep, what):
    """The finding: a file separated by semicolons, tabs or full-width commas (typed by hand)
    gave 缺少列 inst_id / item / count — its one column holding them all was not mentioned."""
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").write_text("inst_id,item,count\nT01,EHR,5\n".replace(",", sep), encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "workpoints.csv 第1行（值：“inst_id" in r.stderr
    assert f"：表头只有一列：各列似乎用{what} 隔开；CSV 文件的各列应以半角逗号 , 隔开" in r.stderr
    assert "缺少列" not in r.stderr


def test_a_refused_input_also_shows_what_was_ignored(tmp_path):
    """The finding: a header 机构编号 (not 机构编码) gave only 缺少列 inst_id — that the column
    机构编号 was ignored (the reason) was a warning, and warnings were dropped on refusal."""
    inp = write_quarter(tmp_path / "in")
    text = (inp / "institutions.csv").read_text(encoding="utf-8")
    (inp / "institutions.csv").write_text(text.replace("inst_id,", "机构编号,", 1), encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert r.stderr.endswith(
        "  - institutions.csv 第1行：缺少列 inst_id（机构编码）\n"
        "提示（可能与上述问题有关）：\n"
        "  - institutions.csv：列 “机构编号” 不是 p4p 使用的列，已忽略\n"
    ), r.stderr


def test_a_file_pasted_twice_names_its_second_header(tmp_path):
    """The finding: workpoints.csv pasted twice (header and all) gave three cell errors on the
    second header row (机构表中没有这个机构编码, 未知的服务项目, 应为整数) — nothing said that the
    rows after it repeat the first ones."""
    inp = write_quarter(tmp_path / "in")
    text = (inp / "workpoints.csv").read_text(encoding="utf-8")
    (inp / "workpoints.csv").write_text(text + text, encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "输入有 1 处问题" in r.stderr
    assert (
        "workpoints.csv 第7行：这一行和第1行一样是表头：可能是两个文件（或同一个文件两次）拼接而成，其后的数据可能重复"
        in r.stderr
    )


def test_an_invisible_character_in_a_header_is_shown(tmp_path):
    """The finding: a header “score\\u200b” (a zero-width space) was named in the warning as
    “score” (the character invisible) — the clerk saw score ignored and score missing, with nothing to tell them apart."""
    inp = write_quarter(tmp_path / "in")
    text = (inp / "assessment.csv").read_text(encoding="utf-8")
    (inp / "assessment.csv").write_text(text.replace("score", "score\u200b", 1), encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "assessment.csv：列 “score\\u200b” 不是 p4p 使用的列，已忽略" in r.stderr


def test_many_ignored_files_make_one_short_warning(tmp_path):
    """The finding: a folder holding 5,000 other CSV files (every export of the year dumped in
    it) gave one warning line of 5,000 names."""
    inp = write_quarter(tmp_path / "in")
    for k in range(5000):
        (inp / f"export{k:04d}.csv").write_bytes(b"")
    (w,) = read(inp).warnings
    assert w.startswith("文件夹中的 export0000.csv、export0001.csv、") and len(w) < 500
    assert w.endswith("export0019.csv 等 5,000 个 不是 p4p 的输入文件，已忽略")
