"""Payment lists for people (SPEC §9): the workbook and the PDF — figures, capitals, totals,
signature block, chain head and stamp; text never becomes a formula; the same lists give the
same bytes.

Q4 amounts (tests/pay_support.py): MI_SURPLUS from the alliance 440,816.33 + 99,183.67 +
186,206.90 + 83,793.10 = 810,000.00 (人民币捌拾壹万元整); receivables of the health commission
38,719.46 + 2,903.96 + 3,387.97 = 45,011.39 to recover (人民币肆万伍仟零壹拾壹元叁角玖分);
director bonuses 15,000.00 + 3,750.00 = 18,750.00 (人民币壹万捌仟柒佰伍拾元整).
"""

from __future__ import annotations

import io
import re
import zipfile

import pytest
from openpyxl import load_workbook

from p4p.pay.lists import build_lists
from p4p.pay.reconcile import reconcile
from p4p.pay.rows import Account
from p4p.report.payment_xlsx import payment_lists_xlsx

from pay_support import ALLIANCE, DIRECTORS, decls, ledger

HEAD = "审批记录 #4 · 3f2a9c0d17e4b5a6"
STAMP = "已审批 张会计 2026-11-23"


def q4_lists():
    lists = build_lists(ledger("2026Q4"), decls(), alliance=ALLIANCE, directors=DIRECTORS)
    accounts = {r.payee_key: Account(r.payee_name, "12345678901", "工行歙县支行") for r in lists.payments}
    accounts[("C01", "institution")] = Account("=1+2", "12345678902", "<b>银行</b>")
    return lists.with_accounts(accounts)


def workbook_bytes() -> bytes:
    lists = q4_lists()
    text = reconcile(ledger("2026Q4"), decls(), lists)
    return payment_lists_xlsx(lists, chain_head=HEAD, stamp=STAMP, reconciliation=text)


def test_the_workbook_has_a_sheet_per_payer_and_fund_then_receivables_alliance_and_check():
    wb = load_workbook(io.BytesIO(workbook_bytes()))
    assert wb.sheetnames == [
        "1.医保结余留用资金",
        "2.基本公共卫生服务补助资金",
        "3.院长绩效奖励",
        "4.应收回 基本公共卫生服务补助资金",
        "5.医共体项目",
        "6.核对",
    ]
    mi = wb["1.医保结余留用资金"]
    assert mi["A1"].value == "测试医共体 2026年第四季度 绩效兑现发放名单"
    assert (mi["A3"].value, mi["A4"].value) == (HEAD, STAMP)
    assert [c.value for c in mi[5]] == [
        "序号",
        "收款方编码",
        "收款方",
        "收款人类型",
        "户名",
        "账号",
        "开户行",
        "金额（元）",
        "金额大写",
    ]
    assert [mi.cell(10, j).value for j in (1, 8, 9)] == ["合计（4 笔）", 810000, "人民币捌拾壹万元整"]
    assert mi["B6"].value == "C01" and mi["E6"].value == "=1+2" and mi["F6"].value == "12345678902"
    back = wb["4.应收回 基本公共卫生服务补助资金"]
    assert back["A1"].value == "测试医共体 2026年第四季度 应收回清单"
    assert [back.cell(r, 8).value for r in (6, 7, 8, 9)] == [38719.46, 2903.96, 3387.97, 45011.39]
    assert back["I9"].value == "人民币肆万伍仟零壹拾壹元叁角玖分"
    assert "经办人：＿＿＿＿＿＿＿＿" in [c.value for c in mi[14]]
    director = wb["3.院长绩效奖励"]
    assert [director.cell(6, j).value for j in (2, 3, 4, 8)] == ["T01", "张院长（甲镇卫生院）", "院长", 15000]


def test_workbook_print_setup():
    wb = load_workbook(io.BytesIO(workbook_bytes()))
    ws = wb["3.院长绩效奖励"]
    assert ws.page_setup.orientation == "landscape" and ws.page_setup.paperSize == 9
    # fit to 1 page wide, any number tall (OOXML's default fitToWidth is 1: XlsxWriter omits it)
    assert ws.sheet_properties.pageSetUpPr.fitToPage
    assert (ws.page_setup.fitToWidth or 1, ws.page_setup.fitToHeight) == (1, 0)
    assert ws.print_title_rows == "$5:$5"
    assert HEAD in ws.oddFooter.left.text


def test_workbook_text_is_never_a_formula_and_bytes_are_deterministic():
    data = workbook_bytes()
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        sheets = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet")]
        core = z.read("docProps/core.xml").decode()
    assert not any("<f>" in s for s in sheets)  # "=1+2" stays a string
    assert re.search(r"<dcterms:created[^>]*>2000-01-01T00:00:00Z<", core)
    assert workbook_bytes() == data


@pytest.mark.slow
def test_the_pdf_prints_figures_capitals_chain_head_and_stamp():
    from pypdf import PdfReader

    from p4p.report.payment_pdf import payment_lists_pdf

    lists = q4_lists()
    text = reconcile(ledger("2026Q4"), decls(), lists)
    pdf = payment_lists_pdf(lists, chain_head=HEAD, stamp=STAMP, reconciliation=text)
    pages = [p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 5  # three payers' lists, the receivables, the alliance items with the check
    flat = [re.sub(r"\s+", "", p) for p in pages]
    assert all(HEAD.replace(" ", "") in p and STAMP.replace(" ", "") in p for p in flat)
    assert (
        "810,000.00" in flat[0] and "人民币捌拾壹万元整" in flat[0] and "=1+2" in flat[0] and "<b>银行</b>" in flat[0]
    )
    assert "应收回清单" in flat[3] and "人民币肆万伍仟零壹拾壹元叁角玖分" in flat[3]
    assert "人民币壹万捌仟柒佰伍拾元整" in flat[2] and "经办人" in flat[2] and "负责人" in flat[2]
    assert "医共体项目清单" in flat[4] and "发放核对" in flat[4]
    assert payment_lists_pdf(lists, chain_head=HEAD, stamp=STAMP, reconciliation=text) == pdf


@pytest.mark.slow
def test_a_reference_copy_is_stamped_as_such():
    from pypdf import PdfReader

    from p4p.report.payment_pdf import payment_context, payment_lists_pdf

    lists = build_lists(ledger("2026Q1"), decls(), alliance=ALLIANCE, directors=DIRECTORS)
    stamp = "仅供核对，不作发放依据"
    assert payment_context(lists, chain_head=HEAD, stamp=stamp)["official"] is False
    pdf = payment_lists_pdf(lists, chain_head=HEAD, stamp=stamp)
    first = re.sub(r"\s+", "", PdfReader(io.BytesIO(pdf)).pages[0].extract_text())
    assert stamp in first and "绩效兑现发放名单" in first
