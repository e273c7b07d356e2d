"""The payees file of approval (SPEC §9): CSV or xlsx, accounts as text, every problem at
once, warnings for Luhn failures and a director's account held in another name.

Luhn by hand: 4111111111111111 — from the right, every second digit doubled: the leading 4 → 8
and seven 1s → 2 each (14), plus eight undoubled 1s (8): 30, divisible by 10 → passes;
4111111111111112 makes 31 → fails. 6222020000000000000 (19 digits) — the doubled digits are
the 2nd, 4th and 6th from the left (2, 2, 2 → 4 + 4 + 4 = 12), the undoubled 6 + 2 + 0 = 8:
20 → passes.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from openpyxl import Workbook

from p4p.model.problems import InputError
from p4p.pay.lists import build_lists
from p4p.pay.payees import luhn_ok, read_payees, validate_payees
from p4p.pay.rows import Account

from pay_support import ALLIANCE, DIRECTORS, decls, ledger

HEAD = "inst_id,payee,account_name,account_no,bank\n"
GOOD_ROWS = [
    ["T01", "institution", "甲镇卫生院", "12345678901", "工行歙县支行"],
    ["T02", "机构", "乙镇卫生院", "12345678902", "工行歙县支行"],
    ["V01", "institution", "王医生", "4111111111111111", "农商行歙县支行"],
    ["V03", "institution", "赵医生", "12345678903", "农商行歙县支行"],
    ["T01", "director", "张院长", "12345678904", "建行歙县支行"],
    ["T02", "院长", "李院长", "12345678905", "建行歙县支行"],
]
INSTITUTIONS = {line["inst_id"]: line["inst_name"] for line in ledger("2026Q1")}


def q1_lists():
    return build_lists(ledger("2026Q1"), decls(), alliance=ALLIANCE, directors=DIRECTORS)


def write(tmp_path: Path, rows, name="payees.csv", head=HEAD, encoding="utf-8") -> Path:
    p = tmp_path / name
    p.write_bytes((head + "".join(",".join(r) + "\n" for r in rows)).encode(encoding))
    return p


def texts(e: pytest.ExceptionInfo[InputError]) -> list[str]:
    return [p.text() for p in e.value.problems]


def test_a_good_csv_gives_one_account_per_payee(tmp_path):
    book = validate_payees(write(tmp_path, GOOD_ROWS), ledger("2026Q1"), q1_lists())
    assert len(book.accounts) == 6
    assert book.accounts[("T02", "director")] == Account("李院长", "12345678905", "建行歙县支行", 7)
    assert book.warnings == ()
    assert book.data.startswith(b"inst_id,payee")


@pytest.mark.parametrize("encoding", ["utf-8-sig", "gb18030"])
def test_chinese_headers_in_utf8_bom_or_gb18030(tmp_path, encoding):
    head = "机构编码,收款人类型,户名,账号,开户行\n"
    book = read_payees(write(tmp_path, GOOD_ROWS, head=head, encoding=encoding), INSTITUTIONS)
    assert book.accounts[("T01", "institution")].account_name == "甲镇卫生院"


def test_a_file_mixing_utf8_and_gb18030_is_refused(tmp_path):
    p = tmp_path / "payees.csv"
    p.write_bytes(
        HEAD.encode()
        + "T01,机构,甲镇卫生院,12345678901,工行\n".encode("gb18030")
        + "T02,机构,乙镇卫生院,12345678902,工行\n".encode()
    )
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e) == [
        "payees.csv 第3行：这一行是 UTF-8 编码，文件其余部分不是：同一文件混用了两种编码，请整体另存为 UTF-8"
    ]


def test_account_numbers_are_text_of_8_to_30_ascii_digits(tmp_path):
    """Spaces between digit groups are removed (a card as printed); a hyphen, full-width
    digits, 7 or 31 digits are errors — all reported at once, with row and column."""
    rows = [
        ["T01", "institution", "甲镇卫生院", "6222 0200 0000 0000 000", "工行"],
        ["T02", "institution", "乙镇卫生院", "6222-0200", "工行"],
        ["V01", "institution", "王医生", "１２３４５６７８", "农商行"],
        ["V03", "institution", "赵医生", "1234567", "农商行"],
        ["T01", "director", "张院长", "1" * 31, "建行"],
    ]
    with pytest.raises(InputError) as e:
        read_payees(write(tmp_path, rows), INSTITUTIONS)
    assert texts(e) == [
        "payees.csv 第3行 列“account_no”（值：“6222-0200”）：账号只能由半角数字组成（数字组之间可有单个空格）",
        "payees.csv 第4行 列“account_no”（值：“１２３４５６７８”）：账号只能由半角数字组成（数字组之间可有单个空格）",
        "payees.csv 第5行 列“account_no”（值：“1234567”）：账号应为 8–30 位数字，这里是 7 位",
        f"payees.csv 第6行 列“account_no”（值：“{'1' * 31}”）：账号应为 8–30 位数字，这里是 31 位",
    ]
    ok = read_payees(write(tmp_path, rows[:1]), INSTITUTIONS)
    assert ok.accounts[("T01", "institution")].account_no == "6222020000000000000"


def test_luhn():
    assert luhn_ok("4111111111111111") and luhn_ok("6222020000000000000")
    assert not luhn_ok("4111111111111112")


def test_a_card_number_failing_luhn_is_a_warning_not_an_error(tmp_path):
    rows = [r if r[0:2] != ["V01", "institution"] else [*r[:3], "4111111111111112", r[4]] for r in GOOD_ROWS]
    book = validate_payees(write(tmp_path, rows), ledger("2026Q1"), q1_lists())
    assert [w.text() for w in book.warnings] == [
        "payees.csv 第4行 列“account_no”（值：“4111111111111112”）："
        "该 16–19 位账号未通过银行卡校验位（Luhn）检查，请核对是否录错（对公账户可忽略）"
    ]
    assert book.accounts[("V01", "institution")].account_no == "4111111111111112"


def test_payee_kinds_ids_duplicates_and_blanks(tmp_path):
    rows = [
        *GOOD_ROWS,
        ["T01", "机构", "甲镇卫生院二", "12345678909", "工行"],
        ["X99", "institution", "外单位", "12345678910", "工行"],
        ["V02", "village", "钱医生", "12345678911", "工行"],
        ["V02", "institution", "", "12345678912", "工行"],
    ]
    with pytest.raises(InputError) as e:
        read_payees(write(tmp_path, rows), INSTITUTIONS)
    assert texts(e) == [
        "payees.csv 第8行 列“inst_id”（值：“T01”）：T01 的机构账户重复（已在 payees.csv 第2行 给出）；每个收款人只能有一个账户",
        "payees.csv 第10行 列“payee”（值：“village”）：收款人类型应为 institution（机构）或 director（院长）",
        "payees.csv 第11行 列“account_name”（值：“”）：不能为空",
    ]


def test_a_unit_the_run_does_not_have_is_a_warning_one_payees_file_serves_the_year(tmp_path):
    """X99 (say a village that closed after Q2) keeps its row: unused, named in a warning."""
    book = read_payees(
        write(tmp_path, [*GOOD_ROWS, ["X99", "institution", "外单位", "12345678910", "工行"]]), INSTITUTIONS
    )
    assert len(book.accounts) == 6 and ("X99", "institution") not in book.accounts
    assert [w.text() for w in book.warnings] == [
        "payees.csv 第8行 列“inst_id”（值：“X99”）：本次运行的台账中没有这个机构编码：该行本次未使用"
    ]


def test_a_payee_with_money_but_no_account_is_an_error_with_the_files_other_problems(tmp_path):
    """李院长 is owed 3,750.00 by the lead hospital (DIRECTOR_BONUS of T02) and has no row; a
    receivable needs no account; the file's own problem is reported in the same error."""
    rows = [r for r in GOOD_ROWS if r[:2] != ["T02", "院长"]]
    rows[0] = ["T01", "institution", "甲镇卫生院", "1234", "工行歙县支行"]
    with pytest.raises(InputError) as e:
        validate_payees(write(tmp_path, rows), ledger("2026Q1"), q1_lists())
    assert texts(e) == [
        "payees.csv 第2行 列“account_no”（值：“1234”）：账号应为 8–30 位数字，这里是 4 位",
        "payees.csv（值：“李院长（T02，院长）”）：牵头医院 · 院长绩效奖励 应付 3750.00 元，但文件中没有该收款人的账户",
    ]


def test_receivables_need_no_account(tmp_path):
    """Q4: V01 (left the alliance) only owes −2,903.96 PH_FUND: no row needed for it."""
    q4 = ledger("2026Q4")
    lists = build_lists(q4, decls(), alliance=ALLIANCE, directors=DIRECTORS)
    rows = [
        ["L01", "institution", "县人民医院", "12345678920", "工行"],
        ["C01", "institution", "县中医院", "12345678921", "工行"],
        *[r for r in GOOD_ROWS if r[0] in ("T01", "T02")],
    ]
    book = validate_payees(write(tmp_path, rows), q4, lists)
    assert ("V01", "institution") not in book.accounts


def test_a_directors_account_in_another_name_is_a_warning(tmp_path):
    rows = [r if r[:2] != ["T01", "director"] else ["T01", "director", "张三", r[3], r[4]] for r in GOOD_ROWS]
    book = validate_payees(write(tmp_path, rows), ledger("2026Q1"), q1_lists())
    assert [w.text() for w in book.warnings] == [
        "payees.csv 第6行 列“户名”（值：“张三”）：院长个人账户的户名与机构表中的院长姓名“张院长”不一致，请核对"
    ]


def test_one_account_number_for_two_payees_is_a_warning_naming_both_rows(tmp_path):
    """V03's money would reach 王医生 (V01's account); 张院长's personal bonus would reach
    甲镇卫生院's account. Warnings, not errors: a village's funds may go through its
    township's account (乡管村用), but nobody should find out from the bank statement."""
    rows = [list(r) for r in GOOD_ROWS]
    rows[3][3] = "4111111111111111"  # V03 given V01's card
    rows[4][3] = "12345678901"  # T01's director given T01's own account
    book = validate_payees(write(tmp_path, rows), ledger("2026Q1"), q1_lists())
    assert [w.text() for w in book.warnings] == [
        "payees.csv 第5行 列“account_no”（值：“4111111111111111”）：与 payees.csv 第4行（V01 的机构账户）"
        "是同一账号：两个收款人的款项将转入同一账户，请核对",
        "payees.csv 第6行 列“account_no”（值：“12345678901”）：与 payees.csv 第2行（T01 的机构账户）"
        "是同一账号：两个收款人的款项将转入同一账户；院长个人绩效将转入他人账户，请核对",
    ]


def test_a_director_row_for_an_institution_without_a_director_payment_is_a_warning(tmp_path):
    """V01 is a village clinic: it has no director bonus, so a `director` row for it is unused."""
    rows = [*GOOD_ROWS, ["V01", "director", "王医生", "12345678930", "农商行"]]
    book = validate_payees(write(tmp_path, rows), ledger("2026Q1"), q1_lists())
    assert [w.text() for w in book.warnings] == [
        "payees.csv 第8行 列“inst_id”（值：“V01”）：V01 在本次台账中没有院长个人的款项（村卫生室和县级医院没有院长绩效）："
        "这一行未使用，请核对机构编码或收款人类别"
    ]


def test_formula_like_names_are_kept_as_written(tmp_path):
    rows = [
        r if r[0:2] != ["V03", "institution"] else ["V03", "institution", "=1+2", r[3], "@开户行"] for r in GOOD_ROWS
    ]
    book = read_payees(write(tmp_path, rows), INSTITUTIONS)
    acc = book.accounts[("V03", "institution")]
    assert (acc.account_name, acc.account_no, acc.bank) == ("=1+2", "12345678903", "@开户行")


def test_missing_columns_and_unknown_columns(tmp_path):
    with pytest.raises(InputError) as e:
        read_payees(write(tmp_path, [["T01", "机构", "甲", "x"]], head="机构编码,收款人类型,户名,备注\n"), INSTITUTIONS)
    assert texts(e) == ["payees.csv 第1行：缺少列 account_no（账号）", "payees.csv 第1行：缺少列 bank（开户行）"]


def workbook(tmp_path: Path, rows, sheet="收款账户", name="payees.xlsx", account_as_number=None) -> Path:
    wb = Workbook()
    ws = wb.active
    ws.title = sheet
    ws.append(["机构编码", "收款人类型", "户名", "账号", "开户行"])
    for r in rows:
        ws.append(r)
    if account_as_number:
        row, value = account_as_number
        ws.cell(row=row, column=4).value = value
    p = tmp_path / name
    wb.save(p)
    return p


def test_an_xlsx_with_text_accounts(tmp_path):
    book = validate_payees(workbook(tmp_path, GOOD_ROWS), ledger("2026Q1"), q1_lists())
    assert book.accounts[("V01", "institution")].account_no == "4111111111111111"


def test_a_19_digit_account_typed_as_a_number_is_an_error_naming_the_cell(tmp_path):
    """Excel stores 6222020000000000003 as the double 6.22202e18 (15 significant digits):
    the cell no longer holds the card number. The error names 收款账户!D3 and shows what
    Excel shows."""
    p = workbook(tmp_path, GOOD_ROWS, account_as_number=(3, 6222020000000000003.0))
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e) == [
        "payees.xlsx 收款账户!D3 列“账号”（值：“6.22202e+18”）：账号是数字单元格：Excel 只保留 15 位有效数字，"
        "长账号（如 19 位卡号）输入为数字后已变成另一个号码。请把该列设为“文本”格式，重新输入账号"
    ]


def test_even_a_short_numeric_account_cell_is_refused_and_formulas_too(tmp_path):
    p = workbook(tmp_path, GOOD_ROWS, account_as_number=(2, 12345678901))
    wb_rows = [*GOOD_ROWS[:1], ["T02", "机构", "=A1", "12345678902", "工行"]]
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e)[0].startswith("payees.xlsx 收款账户!D2 列“账号”（值：“12345678901”）：账号是数字单元格")
    with pytest.raises(InputError) as e:
        read_payees(workbook(tmp_path, wb_rows, name="f.xlsx"), INSTITUTIONS)
    assert texts(e) == ["f.xlsx 收款账户!C3 列“户名”（值：“=A1”）：应为文字，不能是公式单元格"]


def test_a_numeric_inst_id_cell_reads_as_its_digits(tmp_path):
    p = workbook(tmp_path, [[1001, "机构", "某卫生室", "12345678901", "工行"]])
    book = read_payees(p, {"1001": "某卫生室"})
    assert ("1001", "institution") in book.accounts


def test_workbook_sheets(tmp_path):
    with pytest.raises(InputError) as e:
        read_payees(workbook(tmp_path, GOOD_ROWS, sheet="Sheet1"), INSTITUTIONS)
    assert texts(e) == ["payees.xlsx（值：“Sheet1”）：缺少工作表“收款账户”（或 payees）"]
    assert read_payees(workbook(tmp_path, GOOD_ROWS, sheet="payees", name="en.xlsx"), INSTITUTIONS).accounts
    p = workbook(tmp_path, GOOD_ROWS, name="hidden.xlsx")
    from openpyxl import load_workbook

    wb = load_workbook(p)
    wb.create_sheet("说明")
    wb["收款账户"].sheet_state = "hidden"
    wb.active = 1
    wb.save(p)
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e) == ["hidden.xlsx 收款账户：收款账户工作表是隐藏的，请取消隐藏后再用"]


def test_a_file_of_another_kind_is_refused(tmp_path):
    p = tmp_path / "payees.pdf"
    p.write_bytes(b"%PDF")
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e) == ["payees.pdf：收款账户文件应为 .csv 或 .xlsx"]


def test_formula_like_text_in_an_xlsx_text_cell_is_kept(tmp_path):
    """Typed in Excel as '=王医生 the cell is text (t="s"), not a formula: read as written."""
    p = workbook(tmp_path, GOOD_ROWS)
    from openpyxl import load_workbook

    wb = load_workbook(p)
    cell = wb["收款账户"]["C5"]  # V03's account name
    cell.value = "=王医生"
    cell.data_type = "s"
    wb.save(p)
    book = read_payees(p, INSTITUTIONS)
    assert book.accounts[("V03", "institution")].account_name == "=王医生"


def test_line_breaks_control_and_invisible_format_characters_in_a_payee_cell_are_refused(tmp_path):
    """A quoted line break in an account name went into the bank file as is: a bank importer
    reading line by line saw the rest of the name as a payment row of its own (account and
    amount of the attacker's choosing); a BEL or a right-to-left override (U+202E) made the
    printed name differ from the one paid."""
    rows = [[f'"{c}"' for c in r] for r in GOOD_ROWS]
    rows[0][2] = '"甲镇卫生院\n6222020000000000000,999999.00,"'
    rows[2][2] = '"王\u202e生医"'
    rows[3][4] = '"农商行\x07支行"'
    with pytest.raises(InputError) as e:
        read_payees(write(tmp_path, rows), INSTITUTIONS)
    said = "：含有换行、控制字符或不可见的格式字符（U+{}）：它们会拆开代发文件的一行"
    assert [t.split("，或让")[0] for t in texts(e)] == [
        "payees.csv 第2行 列“account_name”（值：“甲镇卫生院<U+000A>6222020000000000000,999999.00,”）"
        + said.format("000A"),
        "payees.csv 第4行 列“account_name”（值：“王<U+202E>生医”）" + said.format("202E"),
        "payees.csv 第5行 列“bank”（值：“农商行<U+0007>支行”）" + said.format("0007"),
    ]


def test_hidden_rows_hidden_columns_and_merged_cells_of_the_payees_sheet_are_refused(tmp_path):
    """A hidden row held an account the clerk reviewing the sheet never saw; a 户名 merged over
    two rows stands in the first only."""
    from openpyxl import load_workbook

    p = workbook(tmp_path, GOOD_ROWS)
    wb = load_workbook(p)
    ws = wb["收款账户"]
    ws.row_dimensions[3].hidden = True
    ws.row_dimensions[40].hidden = True  # hidden but empty: no concern
    ws.column_dimensions["E"].hidden = True
    ws.merge_cells("C2:C3")
    wb.save(p)
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    assert texts(e) == [
        "payees.xlsx 收款账户：第 3 行是隐藏的（或被筛选掉），其中有内容；请取消隐藏或筛选，核对后再用",
        "payees.xlsx 收款账户：列 E 是隐藏的；请取消隐藏，核对后再用",
        "payees.xlsx 收款账户：有合并单元格 C2:C3：合并后的内容只在第一个单元格中；请取消合并，每行填写完整",
    ]


@pytest.mark.parametrize(
    ("data", "what"), [(b"inst_id,payee,account_no\n", "CSV 文件请用 .csv 扩展名"), (b"", "文件是空的")]
)
def test_a_payees_file_that_is_no_workbook_is_said_in_chinese(tmp_path, data, what):
    p = tmp_path / "payees.xlsx"
    p.write_bytes(data)
    with pytest.raises(InputError) as e:
        read_payees(p, INSTITUTIONS)
    [text] = texts(e)
    assert text.startswith("payees.xlsx：无法打开工作簿（不是有效的 .xlsx 文件）：") and what in text
    assert "zip" not in text
