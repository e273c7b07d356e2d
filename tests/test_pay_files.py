"""The data files of an approval (payments.csv, receivables.csv, alliance_items.csv) and the
bank batch files made from payments through a declared template (SPEC §9, §3).

Amounts are those of the base quarter (test_pay_lists has the working): the health commission
pays T01 40,425.53, T02 34,042.55, V01 2,553.19, V03 2,978.73; the lead hospital pays the
directors 张院长 15,000.00 (1,500,000 fen) and 李院长 3,750.00 (375,000 fen).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from p4p.model.problems import InputError
from p4p.pay.bankfile import bank_files, load_template, shipped_templates, template_from_tree
from p4p.pay.files import guard, list_files
from p4p.pay.lists import build_lists
from p4p.pay.rows import Account

from pay_support import ACCOUNTS, ALLIANCE, DIRECTORS, decls, ledger, line

DEFAULT = shipped_templates() / "default.yaml"
GB_FEN = shipped_templates() / "example-gb18030-fen.yaml"
HC = "代发_health_commission_基本公共卫生服务补助资金"
LH = "代发_lead_hospital_院长绩效奖励"


def q1(accounts=ACCOUNTS):
    return build_lists(ledger("2026Q1"), decls(), alliance=ALLIANCE, directors=DIRECTORS, accounts=accounts)


def test_payments_csv_bytes():
    files = list_files(q1())
    assert sorted(files) == ["alliance_items.csv", "payments.csv", "receivables.csv"]
    data = files["payments.csv"]
    assert data.startswith(b"\xef\xbb\xbf") and b"\r\n" in data and b"\n" not in data.replace(b"\r\n", b"")
    lines = data.decode("utf-8-sig").split("\r\n")
    assert lines[0] == (
        "period,payer,payer_name,fund,payee_id,payee_kind,payee_name,account_name,account_no,bank,amount,purpose,items"
    )
    assert lines[6] == (
        "2026Q1,lead_hospital,牵头医院,院长绩效奖励,T01,director,张院长,张院长,12345678904,建行歙县支行,15000.00,"
        "2026年第一季度 院长绩效奖励,DIRECTOR_BONUS"
    )
    assert len(lines) == 9 and lines[-1] == ""
    assert files["receivables.csv"] == files["alliance_items.csv"] == data.split(b"\r\n")[0] + b"\r\n"
    assert list_files(q1()) == files


def test_receivables_keep_their_sign_in_the_file():
    lists = build_lists(ledger("2026Q4"), decls(), alliance=ALLIANCE, directors=DIRECTORS)
    rows = list_files(lists)["receivables.csv"].decode("utf-8-sig").split("\r\n")[1:-1]
    assert [r.split(",")[10] for r in rows] == ["-38719.46", "-2903.96", "-3387.97"]


def test_formula_like_text_is_kept_as_text_in_csv():
    """`=1+2` as a name would be a formula in Excel: written as '=1+2. Amounts never are."""
    assert [guard(t) for t in ("=1+2", "+86", "-张", "@x", "\tx", "张=")] == [
        "'=1+2",
        "'+86",
        "'-张",
        "'@x",
        "'\tx",
        "张=",
    ]
    accounts = {**ACCOUNTS, ("V03", "institution"): Account('=HYPERLINK("x")', "12345678903", "@银行")}
    data = list_files(q1(accounts))["payments.csv"].decode("utf-8-sig")
    assert ',"\'=HYPERLINK(""x"")",12345678903,\'@银行,2978.73,' in data


def test_the_default_bank_file():
    files = bank_files(q1(), load_template(DEFAULT))
    assert list(files) == ["代发_alliance_村卫生室保底补助.csv", f"{HC}.csv", f"{LH}.csv"]
    assert files[f"{HC}.csv"].decode("utf-8-sig").split("\r\n") == [
        "序号,收款账号,收款户名,开户行,金额（元）,用途,收款方编码",
        "1,12345678901,甲镇卫生院,工行歙县支行,40425.53,2026年第一季度 基本公卫经费,T01",
        "2,12345678902,乙镇卫生院,工行歙县支行,34042.55,2026年第一季度 基本公卫经费,T02",
        "3,4111111111111111,王医生,农商行歙县支行,2553.19,2026年第一季度 基本公卫经费,V01",
        "4,12345678903,赵医生,农商行歙县支行,2978.73,2026年第一季度 基本公卫经费,V03",
        "",
    ]
    assert files[f"{HC}.csv"].startswith(b"\xef\xbb\xbf")


def test_a_bank_that_wants_gb18030_and_fen():
    files = bank_files(q1(), load_template(GB_FEN))
    data = files[f"{LH}.txt"]
    assert data == (
        "12345678904|张院长|1500000|CNY|2026年第一季度 院长绩效奖励\r\n"
        "12345678905|李院长|375000|CNY|2026年第一季度 院长绩效奖励\r\n"
    ).encode("gb18030")
    assert data.decode("gb18030").count("|") == 8


def test_receivables_never_reach_a_bank_file():
    lists = build_lists(ledger("2026Q4"), decls(), alliance=ALLIANCE, directors=DIRECTORS)
    accounts = {r.payee_key: Account(r.payee_name, "12345678901", "工行") for r in lists.payments}
    files = bank_files(lists.with_accounts(accounts), load_template(DEFAULT))
    hc = files[f"{HC}.csv"].decode("utf-8-sig")
    assert "205011.39" in hc and "38719.46" not in hc and hc.count("\r\n") == 2


def test_a_formula_like_name_or_a_missing_account_is_refused_naming_the_payee():
    accounts = {k: v for k, v in ACCOUNTS.items() if k != ("T02", "institution")}
    accounts[("V03", "institution")] = Account("-赵医生", "12345678903", "农商行")
    with pytest.raises(InputError) as e:
        bank_files(q1(accounts), load_template(DEFAULT))
    where = f"代发文件 {HC}.csv（模板：通用代发格式（UTF-8，金额：元））"
    assert [p.text() for p in e.value.problems] == [
        f"{where} 列“账号”（值：“乙镇卫生院（T02，机构）”）：没有收款账户（审批时请用 --payees 提供收款账户文件）",
        f"{where} 列“收款户名”（值：“乙镇二村卫生室（V03，机构）”）："
        "“-赵医生”开头是 = + - @ 等，电子表格会当作公式；代发文件不改动收款信息，请先更正",
    ]


def test_a_line_break_or_invisible_character_in_a_bank_file_value_is_refused_even_when_quoted():
    """Quoting keeps a CSV reader right, but banks' importers read line by line: the rest of a
    name after a line break (U+2028 included, which splitlines() breaks at) was a row of its own."""
    accounts = {**ACCOUNTS, ("T01", "director"): Account("张院长\u2028,6222020000000000000", "12345678904", "建行")}
    accounts[("V03", "institution")] = Account("赵医生", "12345678903", "农商行\u200b")
    with pytest.raises(InputError) as e:
        bank_files(q1(accounts), load_template(DEFAULT))
    assert [(p.column, p.message) for p in e.value.problems] == [
        ("开户行", "含有换行、控制字符或不可见的格式字符（U+200B），会拆开或改变代发文件的一行"),
        ("收款户名", "含有换行、控制字符或不可见的格式字符（U+2028），会拆开或改变代发文件的一行"),
    ]


def test_unquoted_templates_refuse_a_delimiter_and_lengths_are_limits():
    template = load_template(GB_FEN)
    accounts = {**ACCOUNTS, ("T01", "director"): Account("张|院长", "12345678904", "建行")}
    with pytest.raises(InputError) as e:
        bank_files(q1(accounts), template)
    assert [p.message for p in e.value.problems] == ["含有分隔符、引号或换行，而模板规定不加引号"]
    short = replace(
        template, columns=tuple(replace(c, max_length=10) if c.field == "purpose" else c for c in template.columns)
    )
    with pytest.raises(InputError) as e:
        bank_files(q1(), short)
    # "2026年第一季度"(9) + " "(1) + "村卫生室保底补助"(8) = 18; "… 基本公卫经费" = 16 (×4 rows)
    assert [p.message for p in e.value.problems][:2] == [
        "长度 18 超过该列允许的 10 个字符",
        "长度 16 超过该列允许的 10 个字符",
    ]
    assert len(e.value.problems) == 1 + 4 + 2


def test_template_problems_are_reported_at_once(tmp_path):
    p = tmp_path / "bank.yaml"
    p.write_text(
        "name: 坏模板\nencoding: gbk\ncolour: red\ncolumns:\n"
        "  - {header: 金额, field: amount}\n  - {header: 账号, field: acct}\n  - {header: 币种, value: CNY, field: bank}\n",
        encoding="utf-8",
    )
    with pytest.raises(InputError) as e:
        load_template(p)
    assert [p.text() for p in e.value.problems] == [
        "bank.yaml 列“colour”：未知的键（可用：name、encoding、delimiter、header、line_end、extension、quoting、columns）",
        "bank.yaml 列“columns 第1项”：金额列须写 format: yuan 或 fen，且只有金额列可写 format",
        "bank.yaml 列“columns 第2项”：field“acct”未知（可用：seq、period、payer、payer_name、fund、payee_id、"
        "payee_kind、payee_name、account_name、account_no、bank、amount、purpose）",
        "bank.yaml 列“columns 第3项”：field 与 value 必须有且只有一个",
        "bank.yaml 列“columns”：缺少必需的列：account_no（代发文件须有收款账号和金额）",
        "bank.yaml 列“encoding”（值：“gbk”）：应为 utf-8 / utf-8-sig / gb18030",
    ]
    with pytest.raises(InputError, match="应列出至少一列"):
        template_from_tree({"name": "空"}, "x.yaml")


@pytest.mark.parametrize(
    "change,expect",
    [
        ({"columns": [{"header": "账号", "field": "account_no"}]}, "缺少必需的列：amount"),
        ({"columns": [{"header": "金额", "field": "amount", "format": "yuan"}]}, "缺少必需的列：account_no"),
        ({"delimiter": "5"}, "分隔符不能是字母、数字或 . - +"),
        ({"delimiter": "."}, "分隔符不能是字母、数字或 . - +"),
    ],
)
def test_a_bank_file_needs_accounts_and_amounts_and_a_delimiter_they_cannot_hold(change, expect):
    """A template without an amount column wrote a bank file of names and accounts only; one
    without accounts, bare amounts; a delimiter of "5" or "." cannot be told from the numbers."""
    base = {"name": "模板", "columns": [{"header": "账号", "field": "account_no"},
                                        {"header": "金额", "field": "amount", "format": "yuan"}]}  # fmt: skip
    template_from_tree(base, "t.yaml")  # the two together are enough
    with pytest.raises(InputError) as e:
        template_from_tree({**base, **change}, "t.yaml")
    assert [expect in p.text() for p in e.value.problems] == [True]


def test_the_shipped_templates_load():
    for path in sorted(Path(shipped_templates()).glob("*.yaml")):
        assert load_template(path).columns


def test_bank_file_rows_follow_payee_order():
    """Hand-written lines of two villages: the bank file lists them in payee order."""
    led = [line("V09", "VILLAGE_TOPUP", "10.00"), line("V08", "VILLAGE_TOPUP", "20.00")]
    lists = build_lists(led, decls(), alliance=ALLIANCE, directors={})
    accounts = {r.payee_key: Account(r.payee_name, "12345678901", "工行") for r in lists.payments}
    (data,) = bank_files(lists.with_accounts(accounts), load_template(DEFAULT)).values()
    assert [r.split(",")[-1] for r in data.decode("utf-8-sig").split("\r\n")[1:-1]] == ["V08", "V09"]
