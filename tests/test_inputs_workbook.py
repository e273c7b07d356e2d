"""A workbook (SPEC §3, v2): one visible sheet per table, every row read whatever the declared
dimension says, formula cells without a cached value and error cells named, unknown sheets a
warning, the period sheet one mapping of known keys. Cells are named as Excel names them."""

import datetime as dt
import io
import re
import zipfile
from pathlib import Path

import pytest
from openpyxl import load_workbook
from strict_helpers import read, refused
from test_workbook import to_workbook

from conftest import run_cli, write_quarter

# sheets as to_workbook writes them (Chinese names, in this order): sheet1.xml … sheet5.xml
WP_SHEET = 3  # 公卫工分: header row 1, rows 2–6 = T01 EHR 1000, T02 HTN 250, V01 ELD 10, V02 EDU 5, V03 TB 20


def _book(tmp_path: Path, name: str = "q.xlsx") -> Path:
    return to_workbook(write_quarter(tmp_path / "in"), tmp_path / name)


def _patch(book: Path, sheet: int, edit) -> None:
    """Rewrite the XML of xl/worksheets/sheet<sheet>.xml (what another program might write)."""
    _patch_part(book, f"xl/worksheets/sheet{sheet}.xml", edit)


def _patch_part(book: Path, part: str, edit) -> None:
    src = zipfile.ZipFile(book)
    items = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            out.writestr(info, edit(data.decode()).encode() if info.filename == part else data)


def _saved_by_excel(book: Path) -> None:
    """openpyxl asks for a calculation on opening (fullCalcOnLoad); a workbook Excel saved does not."""
    _patch_part(book, "xl/workbook.xml", lambda s: re.sub(r'\s*fullCalcOnLoad="1"', "", s))


def _set_cell_xml(book: Path, ref: str, xml: str) -> None:
    _patch(book, WP_SHEET, lambda s: re.sub(rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', xml, s, count=1))


def test_a_visible_and_a_hidden_sheet_for_one_table(tmp_path):
    """The finding: with a visible `assessment` and a hidden `考核`, the hidden one was used."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb.copy_worksheet(wb["考核"]).title = "assessment"
    wb["考核"].sheet_state = "hidden"
    wb.save(book)
    refused(book, tmp_path / "a", "q.xlsx：工作表 “考核”、“assessment” 都是 assessment 表；每张表只能有一个工作表")


def test_a_hidden_table_sheet_is_refused(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["公卫工分"].sheet_state = "veryHidden"
    wb.save(book)
    refused(book, tmp_path / "a", "q.xlsx：工作表 “公卫工分”（workpoints）是隐藏的；请取消隐藏，或删除这个工作表")


def test_two_sheets_whose_names_differ_only_in_spaces(tmp_path):
    """The finding: ` assessment ` and `assessment` — the last one won."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["考核"].title = " assessment "
    wb.copy_worksheet(wb[" assessment "]).title = "assessment"
    wb.save(book)
    refused(book, tmp_path / "a", "工作表 “ assessment ”、“assessment” 都是 assessment 表")


def _long_workpoints(tmp_path, last_item):
    """公卫工分 with rows 7–91 of `T01,EHR,1` and row 92 `T01,<last_item>,1`, declared A1:C60."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    ws = wb["公卫工分"]
    for _ in range(85):
        ws.append(["T01", "EHR", 1])
    ws.append(["T01", last_item, 1])
    wb.save(book)
    assert ws.max_row == 92
    _patch(book, WP_SHEET, lambda s: s.replace('<dimension ref="A1:C92"', '<dimension ref="A1:C60"'))
    assert load_workbook(book, read_only=True)["公卫工分"].max_row == 60  # what a trusting reader sees
    return book


def test_rows_past_the_declared_dimension_are_read(tmp_path):
    """The finding: rows 61–92 were dropped silently. EHR of T01 = 1000 + 85 + 1."""
    assert read(_long_workpoints(tmp_path / "ok", "EHR")).workpoints["T01"]["EHR"] == 1086
    refused(
        _long_workpoints(tmp_path / "bad", "XRAY"), tmp_path / "a", "q.xlsx 公卫工分!B92（值：“XRAY”）：未知的服务项目"
    )


def test_a_formula_without_a_cached_value_is_named(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["公卫工分"]["C3"] = "=200+50"  # openpyxl, like many generators, stores no result
    wb.save(book)
    err = refused(book, tmp_path / "a", "q.xlsx 公卫工分!C3：公式没有计算结果")
    assert "输入有 1 处问题" in err  # not also "不能为空" for the same cell


def test_a_formula_with_its_cached_value_is_that_value(tmp_path):
    book = _book(tmp_path)
    _set_cell_xml(book, "C3", '<c r="C3"><f>200+50</f><v>251</v></c>')
    _saved_by_excel(book)
    assert read(book).workpoints["T02"]["HTN"] == 251


def test_a_formula_result_of_a_workbook_that_asks_to_be_recalculated_is_not_trusted(tmp_path):
    """The finding: XlsxWriter stores 0 as every formula's result and asks Excel to calculate on
    opening (fullCalcOnLoad). Excel showed 1000 for =600+400; p4p read 0 and paid T02 no HTN
    points. A formula beside the table (a column p4p does not read) is no concern."""
    book = _book(tmp_path)
    _set_cell_xml(book, "C3", '<c r="C3"><f>600+400</f><v>0</v></c>')
    _patch(book, WP_SHEET, lambda s: s.replace("</row>", '<c r="Z2"><f>1+1</f><v>0</v></c></row>', 1))
    out = refused(
        book, tmp_path / "a", "公卫工分!C3", "存的结果（0）不一定是 Excel 显示的数", "在 Excel 或 WPS 中打开并保存"
    )
    assert "!Z2" not in out
    _set_cell_xml(book, "C3", '<c r="C3"><v>1000</v></c>')
    assert read(book).workpoints["T02"]["HTN"] == 1000


@pytest.mark.parametrize(
    "xml,expect",
    [
        ('<c r="C3" t="e"><v>#DIV/0!</v></c>', "q.xlsx 公卫工分!C3：单元格是错误值 #DIV/0!"),
        ('<c r="C3"><v>' + "9" * 5000 + "</v></c>", "q.xlsx 公卫工分!C3（值：“99999"),
        ('<c r="C3"><v>1e309</v></c>', "q.xlsx 公卫工分!C3（值：“inf”）：数字不能是 inf 或 nan"),
        ('<c r="C3"><v>1e16</v></c>', "（值：“10000000000000000”）：数值过大（不能超过 1,000,000,000）"),
        ('<c r="C3" t="b"><v>1</v></c>', "q.xlsx 公卫工分!C3（值：“TRUE”）：应为整数"),
        ('<c r="C3" t="inlineStr"><is><t>２５０</t></is></c>', "（值：“２５０”）：数字应使用半角数字 0–9"),
        # a shared string that does not exist was read as its index: 99 service counts
        ('<c r="C3" t="s"><v>99</v></c>', "q.xlsx 公卫工分!C3：单元格的内容已损坏，无法读取"),
    ],
)
def test_cells_another_program_might_write(tmp_path, xml, expect):
    book = _book(tmp_path)
    _set_cell_xml(book, "C3", xml)
    refused(book, tmp_path / "a", expect)


def test_unknown_sheets_are_named_in_a_warning(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb.create_sheet("草稿")
    wb.create_sheet("旧数据").sheet_state = "hidden"
    wb.create_sheet("说明")  # the notes sheet of `p4p template` is known
    wb.save(book)
    assert read(book).warnings == ["q.xlsx：工作表 “草稿”、“旧数据”（隐藏） 不是 p4p 使用的表，已忽略"]


def test_data_without_a_header_is_a_warning(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["公卫工分"]["E4"] = "手工核对"
    wb.save(book)
    assert read(book).warnings == ["q.xlsx 公卫工分：第 E 列有数据但没有表头，已忽略"]


def _period_sheet(tmp_path, rows):
    book = _book(tmp_path)
    wb = load_workbook(book)
    ws = wb["期间"]
    ws.delete_rows(1, ws.max_row)
    for r in rows:
        ws.append(r)
    wb.save(book)
    return book


def test_period_sheet_with_a_key_twice_in_two_languages(tmp_path):
    book = _period_sheet(
        tmp_path, [["period", "2026Q1"], ["alliance", "测试医共体"], ["ph_annual_budget", 400000], ["期间", "2026Q2"]]
    )
    refused(book, tmp_path / "a", "q.xlsx 期间!A4 键“期间”：键重复：period（期间）已在 q.xlsx 期间!A1 给出")


def test_period_sheet_unknown_key_and_value_without_key(tmp_path):
    book = _period_sheet(
        tmp_path,
        [
            ["项目", "取值", "说明"],
            ["period", "2026Q1"],
            ["alliance", "x"],
            ["ph_annual_budget", 1],
            ["budget", 2],
            [None, 3],
        ],
    )
    refused(
        book,
        tmp_path / "a",
        "q.xlsx 期间!A5 键“budget”：未知的键",
        "q.xlsx 期间!B6（值：“3”）：有值但没有键",
    )


def test_period_sheet_values_are_what_the_cells_show(tmp_path):
    """A budget typed as 3952042.1 is the double 3952042.0999…; the sheet shows 3,952,042.10."""
    book = _period_sheet(
        tmp_path, [["项目", "取值"], ["期间", "2026Q1"], ["医共体", "测试医共体"], ["ph_annual_budget", 3952042.1]]
    )
    from decimal import Decimal

    assert read(book).period.ph_annual_budget == Decimal("3952042.10")


def test_rich_text_inline_strings_read_as_excel_shows_them(tmp_path):
    """A name written as two formatted runs with a phonetic guide reads as the runs' text."""
    book = _book(tmp_path)
    runs = '<is><r><t>甲镇</t></r><r><t>中心卫生院</t></r><rPh sb="0" eb="1"><t>jia</t></rPh></is>'
    _patch(book, 1, lambda s: re.sub(r'<c r="B4"[^>]*?>.*?</c>', f'<c r="B4" t="inlineStr">{runs}</c>', s, count=1))
    assert read(book).institutions["T01"].name == "甲镇中心卫生院"


def test_period_sheet_a_second_value_beside_column_b_is_refused(tmp_path):
    """A corrected budget typed next to the old one: which one is meant changes the money."""
    book = _period_sheet(
        tmp_path,
        [["period", "2026Q1"], ["alliance", "测试医共体"], ["ph_annual_budget", 400000, "2261290.00"], [None, None, 5]],
    )
    refused(
        book,
        tmp_path / "a",
        "q.xlsx 期间!C3（值：“2261290.00”）：键 ph_annual_budget 的取值只读 B 列（B3 为“400000”）；"
        "这个单元格在 B 列之外也有值，无法判断该用哪一个",
        "q.xlsx 期间!C4（值：“5”）：取值只读 B 列（B 列是空的）",
    )


def test_period_sheet_notes_beside_the_values(tmp_path):
    """Text under a 说明 title (as `p4p template` writes) is read by nobody; elsewhere it is named."""
    rows = [["项目", "取值", "说明"], ["period", "2026Q1", "必填"], ["alliance", "测试医共体", None, "旧名称"]]
    book = _period_sheet(tmp_path, [*rows, ["ph_annual_budget", 400000, "元"]])
    assert read(book).warnings == ["q.xlsx 期间：D3 在 B 列之外，不是取值，已忽略"]
    book = _period_sheet(tmp_path, [["period", "2026Q1", "必填"], ["alliance", "测试医共体"], ["ph_annual_budget", 4]])
    assert read(book).warnings == ["q.xlsx 期间：C1 在 B 列之外，不是取值，已忽略"]


@pytest.mark.parametrize("fmt", ["0%", "0.0%", "#,##0.00%;[Red]-0%", '"得分"0%'])
def test_a_number_shown_as_a_percentage_is_refused(tmp_path, fmt):
    """The finding: scores typed as 90% (stored 0.9) were read as 0.9 — under the pass score,
    the institutions' money gone without a word. Which number is meant cannot be known."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    for r in range(2, 9):
        cell = wb["考核"].cell(r, 2)
        cell.value, cell.number_format = cell.value / 100, fmt
    wb.save(book)
    err = refused(book, tmp_path / "a", "q.xlsx 考核!B2：单元格是百分比格式：Excel 显示为 90%，单元格中存的数是 0.9")
    assert "q.xlsx 考核!B7：单元格是百分比格式：Excel 显示为 59.9%，单元格中存的数是 0.599" in err
    assert err.count("百分比格式") == 7 and "最多一位小数" not in err


def test_a_percent_sign_written_as_text_in_a_format_is_no_percentage(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["考核"]["B2"].number_format = '0.0"%"'
    wb["考核"]["B3"].number_format = "0.0\\%"
    wb.save(book)
    assert read(book).warnings == []


def _zip(entries: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in entries.items():
            z.writestr(name, data)
    return buf.getvalue()


@pytest.mark.parametrize(
    "data,expect",
    [
        (b"", "文件是空的"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(504), "这是旧版 .xls 工作簿或设置了打开密码的工作簿"),
        (b"inst_id,name,kind\nL01,A,lead_hospital\n", "这是文本文件（可能是改了扩展名的 CSV）"),
        (b"PK\x03\x04 truncated", "文件已损坏或不完整（压缩包无法解开）"),
        (_zip({"mimetype": b"application/vnd.oasis.opendocument.spreadsheet"}), "这是 OpenDocument 表格（.ods）"),
        (_zip({"a.csv": b"x"}), "压缩包中没有 Excel 工作簿的内容"),
    ],
)
def test_a_file_that_is_no_workbook_is_told_in_chinese(tmp_path, data, expect):
    """The finding: openpyxl's English exception was the message (`File is not a zip file`,
    `There is no item named '[Content_Types].xml' in the archive`)."""
    (tmp_path / "q.xlsx").write_bytes(data)
    err = refused(tmp_path / "q.xlsx", tmp_path / "a", f"q.xlsx：无法打开工作簿（不是有效的 .xlsx 文件）：{expect}")
    assert not re.search(r"[A-Za-z]{4,}", err.replace(".xlsx", "").replace("OpenDocument", "").replace("Excel", ""))


def test_a_damaged_sheet_is_told_in_chinese(tmp_path):
    book = _book(tmp_path)
    _patch(book, WP_SHEET, lambda s: s.replace("</sheetData>", "<row><c><v>1</v></row></sheetData>"))
    err = refused(book, tmp_path / "a", "q.xlsx 公卫工分：工作表的内容已损坏，无法读取；请在 Excel 中打开")
    assert "Error" not in err and "mismatched" not in err


def test_a_merged_range_is_refused(tmp_path):
    """The finding: 享受保底 = 1 merged over two villages (H6:H7) showed 1 on both rows; the file
    holds it in H6 only, and the second village was read as blank — no guarantee, without a word."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["机构"]["H7"] = 1
    wb["机构"].merge_cells("H6:H7")
    wb["考核"].merge_cells("B3:B4")
    wb.save(book)
    err = refused(
        book,
        tmp_path / "a",
        "q.xlsx 机构!H6:H7：合并单元格：文件中只有左上角的 H6 有值，其余单元格是空的；请取消合并，在每个单元格中填写",
        "q.xlsx 考核!B3:B4：合并单元格：文件中只有左上角的 B3 有值",
    )
    assert "不能为空" not in err  # B4, blank, is not reported once more


def test_hidden_rows_and_columns_p4p_would_read_are_refused(tmp_path):
    """The finding: a hidden row of 公卫工分 (T01 EHR 5,000 more) was read and paid; nobody
    looking at the workbook sees it, and people hide rows to leave them out. A hidden column
    p4p does not read is no problem."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wp = wb["公卫工分"]
    wp.append(["T01", "EHR", 5000])
    wp.row_dimensions[7].hidden = True
    wp.column_dimensions["E"].hidden = True
    wb["机构"].column_dimensions["C"].hidden = True
    wb["期间"].row_dimensions[2].hidden = True
    wb.save(book)
    err = refused(
        book,
        tmp_path / "a",
        "q.xlsx 公卫工分：第 7 行是隐藏的（或被筛选隐藏），其中有数据：p4p 会读取隐藏的行，无法判断它们该不该算",
        "q.xlsx 机构：第 C 列是隐藏的，p4p 要读取这些列；请取消隐藏后核对",
        "q.xlsx 期间：第 2 行是隐藏的",
    )
    assert "第 E 列" not in err


def test_a_row_of_height_zero_is_hidden(tmp_path):
    book = _book(tmp_path)
    _patch(book, WP_SHEET, lambda s: s.replace('<row r="3"', '<row r="3" ht="0" customHeight="1"', 1))
    refused(book, tmp_path / "a", "q.xlsx 公卫工分：第 3 行是隐藏的")


def test_openpyxl_warnings_do_not_reach_the_terminal(tmp_path):
    """The finding: a workbook with a filter (as Excel saves it: a defined name) printed
    `UserWarning: Defined names for sheet index 0 cannot be located` — English, on stderr."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["机构"].auto_filter.ref = "A1:J8"
    wb.save(book)
    r = run_cli("validate", book)
    assert r.returncode == 0 and "输入校验通过" in r.stdout
    assert "Warning" not in r.stderr and "warn(" not in r.stderr, r.stderr


def test_a_title_above_the_header_of_a_sheet_is_named(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["考核"].insert_rows(1)
    wb["考核"]["A1"] = "2026年第一季度考核结果"
    wb.save(book)
    err = refused(book, tmp_path / "a", "q.xlsx 考核 第1行：第1行应为表头，但表头在第2行；请删除表头上方的 1 行")
    assert "缺少列" not in err


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path, monkeypatch):
    """The finding: a workbook of 300 KB held one shared string of 300 MB (a 3 MB one: 3 GB),
    all unpacked into memory before the 10,000-character limit could refuse it (730 MB of
    memory for the 300 KB file; a 20 MB file would exhaust the machine, no message at all)."""
    import p4p.read.workbook as wbmod

    monkeypatch.setattr(wbmod, "MAX_UNZIPPED", 1 << 20)
    book = _book(tmp_path)
    _patch(book, WP_SHEET, lambda s: s.replace("</sheetData>", "<row r=\"9\"><c r=\"A9\" t=\"inlineStr\"><is><t>"
                                               + "a" * (2 << 20) + "</t></is></c></row></sheetData>"))  # fmt: skip
    assert book.stat().st_size < 100_000
    err = refused(book, tmp_path / "a", "q.xlsx：工作簿解压后有 2 MB，超过 1 MB 的上限（文件可能已损坏或被恶意构造）")
    assert "过长" not in err  # refused before reading, not after


def test_a_strict_open_xml_workbook_says_what_to_save_it_as(tmp_path):
    """The finding: a workbook saved as “Strict Open XML 电子表格” (an Excel save option) gave
    缺少工作表 … five times — the clerk sees every sheet there."""
    book = _book(tmp_path)
    src = zipfile.ZipFile(book)
    items = [(i, src.read(i.filename)) for i in src.infolist()]
    src.close()
    strict = {
        b"http://schemas.openxmlformats.org/spreadsheetml/2006/main": b"http://purl.oclc.org/ooxml/spreadsheetml/main",
        b"http://schemas.openxmlformats.org/officeDocument/2006/relationships": (
            b"http://purl.oclc.org/ooxml/officeDocument/relationships"
        ),
    }
    with zipfile.ZipFile(book, "w", zipfile.ZIP_DEFLATED) as out:
        for info, data in items:
            text = data
            for old, new in strict.items():
                text = text.replace(old, new)
            out.writestr(info, text)
    err = refused(
        book, tmp_path / "a", "q.xlsx：这是“Strict Open XML 电子表格”格式，p4p 读不出其中的工作表；请在 Excel 中另存为"
    )
    assert "缺少工作表" not in err


def test_a_sheet_name_in_full_width_letters_is_named_when_refused(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["考核"].title = "ａｓｓｅｓｓｍｅｎｔ"
    wb.save(book)
    refused(book, tmp_path / "a", "q.xlsx：缺少工作表 assessment（考核）",
            "提示（可能与上述问题有关）：\n  - q.xlsx：工作表 “ａｓｓｅｓｓｍｅｎｔ” 不是 p4p 使用的表，已忽略")  # fmt: skip


def test_a_header_row_repeated_in_a_sheet_is_named(tmp_path):
    book = _book(tmp_path)
    wb = load_workbook(book)
    ws = wb["公卫工分"]
    ws.append([c.value for c in ws[1]])
    ws.append(["T01", "EHR", 1000])
    wb.save(book)
    err = refused(book, tmp_path / "a", "q.xlsx 公卫工分 第7行：这一行和第1行一样是表头")
    assert "输入有 1 处问题" in err


def test_a_percentage_or_a_date_beside_the_table_is_no_concern(tmp_path):
    """A 完成率 column shown as % and a 填报日期 column of dates, which p4p does not read, are
    named as ignored, not refused."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    ws = wb["考核"]
    ws["E1"], ws["F1"] = "完成率", "填报日期"
    for r in range(2, 9):
        ws.cell(r, 5, 0.9).number_format = "0%"
        ws.cell(r, 6, dt.datetime(2026, 4, 1))
    wb.save(book)
    assert read(book).warnings == ["q.xlsx 考核：列 “完成率”、“填报日期” 不是 p4p 使用的列，已忽略"]


def test_an_id_excel_took_for_a_date_says_so(tmp_path):
    """The finding: an id typed 1-2, which Excel stores as the date 2026-01-02, was refused as
    机构编码应为 1–32 位半角字母… with the value “2026-01-02T00:00:00” — nothing said why."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    wb["公卫工分"]["A2"] = dt.datetime(2026, 1, 2)
    wb.save(book)
    err = refused(
        book, tmp_path / "a", "q.xlsx 公卫工分!A2：单元格是日期或时间（2026-01-02）：p4p 的输入中没有日期，可能是 Excel"
    )
    assert "输入有 1 处问题" in err


def test_a_merged_note_beside_the_table_is_no_concern(tmp_path):
    """A 备注 column merged over several rows (p4p does not read it) is named as ignored, not
    refused; a merge of a whole column is refused, not an internal error."""
    book = _book(tmp_path)
    wb = load_workbook(book)
    ws = wb["考核"]
    ws["E1"], ws["E2"] = "备注", "第一批"
    ws.merge_cells("E2:E5")
    wb.save(book)
    assert read(book).warnings == ["q.xlsx 考核：列 “备注” 不是 p4p 使用的列，已忽略"]
    _patch(book, 2, lambda s: re.sub(r'<mergeCell ref="E2:E5"\s*/>', '<mergeCell ref="B:B"/>', s))
    refused(book, tmp_path / "a", "q.xlsx 考核")  # (openpyxl takes the sheet for damaged)
