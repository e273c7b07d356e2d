"""Excel in: the same quarter as a workbook (numbers as doubles, Chinese sheet names and
headers) gives the same ledger as the CSV folder; bad cells are named as Excel names them."""

import csv
import io
import re

import pytest
from openpyxl import Workbook, load_workbook

from p4p.model.fields import TABLES
from p4p.model.yamldoc import load as load_yaml
from p4p.read.workbook import cell_text

from conftest import ACCEPTANCE, ROOT, cli, run_ok, write_quarter


def decode(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("gb18030")


def as_excel(text: str):
    """What Excel stores for a typed cell: numbers become doubles, the rest stays text."""
    t = text.replace(",", "")
    if re.fullmatch(r"-?\d+", t):
        return int(t)
    if re.fullmatch(r"-?\d+\.\d+", t):
        return float(t)
    return text


def folder_rows(folder, name):
    rows = list(csv.reader(io.StringIO(decode((folder / f"{name}.csv").read_bytes()))))
    return rows[0], rows[1:]


def to_workbook(folder, out, chinese=True, wb=None):
    period = load_yaml(decode((folder / "period.yaml").read_bytes())).data
    fresh = wb is None
    wb = wb or Workbook()
    for k, (name, spec) in enumerate(TABLES.items()):
        title = spec["label"] if chinese else name
        if fresh:
            ws = wb.active if k == 0 else wb.create_sheet()
            ws.title = title
        else:
            ws = wb[title]
        head, body = folder_rows(folder, name)
        if fresh:
            ws.append([spec["columns"].get(h, h) if chinese else h for h in head])
        for r in body:
            ws.append([as_excel(c) for c in r])
    ws = wb["期间"] if "期间" in wb.sheetnames else wb.create_sheet("期间" if chinese else "period")
    for key, v in period.items():
        for row in ws.iter_rows(min_row=2):
            if row[0].value == key:
                row[1].value = as_excel(str(v))
                break
        else:
            ws.append([key, as_excel(str(v))])
    wb.save(out)
    return out


@pytest.mark.parametrize("chinese", [True, False])
def test_acceptance_q1_as_workbook_gives_the_same_ledger(tmp_path, archive, chinese):
    book = to_workbook(ACCEPTANCE / "2026Q1", tmp_path / "q1.xlsx", chinese=chinese)
    a = run_ok(ACCEPTANCE / "2026Q1", archive)
    b = run_ok(book, archive)
    assert (a / "ledger.csv").read_bytes() == (b / "ledger.csv").read_bytes()
    assert (b / "inputs" / "q1.xlsx").is_file()
    assert cli("replay", b).exit_code == 0


def test_template_filled_with_the_demo_runs_to_the_demo_ledger(tmp_path, archive):
    tpl = tmp_path / "t.xlsx"
    assert cli("template", tpl, "--period", "2026Q1").exit_code == 0
    wb = load_workbook(tpl)
    assert wb.sheetnames == ["机构", "考核", "公卫工分", "村卫生室收入", "期间", "说明"]
    assert wb["机构"].freeze_panes == "A2" and wb["机构"].data_validations.dataValidation
    demo = ROOT / "inputs" / "demo" / "2026Q1"
    book = to_workbook(demo, tmp_path / "filled.xlsx", wb=wb)
    a = run_ok(demo, archive)
    b = run_ok(book, archive)
    assert (a / "ledger.csv").read_bytes() == (b / "ledger.csv").read_bytes()


@pytest.mark.parametrize(
    "v,text",
    [
        (1345691.96, "1345691.96"),
        (0.1 + 0.2, "0.30"),
        (12.0, "12"),
        (12.5, "12.50"),
        (1000.005, "1000.005"),
        (85.1, "85.10"),
        (3952042.1, "3952042.10"),
        (0.07, "0.07"),
        (None, ""),
        (True, "TRUE"),
        (1e300, "1" + "0" * 300),  # whole doubles are exact integers; validation says too large
        (float("inf"), "inf"),
    ],
)
def test_doubles_become_the_amount_excel_shows(v, text):
    assert cell_text(v) == text


def test_bad_cells_are_named_sheet_and_cell(tmp_path):
    book = to_workbook(write_quarter(tmp_path / "in"), tmp_path / "bad.xlsx")
    wb = load_workbook(book)
    wb["考核"]["B4"] = 100.5  # score of T01
    wb["公卫工分"]["C3"] = 12.5  # a fractional count
    wb["机构"]["F3"] = 1000.005  # money with 3 decimals
    wb.save(book)
    r = cli("validate", book)
    assert r.exit_code == 2
    for s in (
        "bad.xlsx 考核!B4（值：“100.50”）",
        "bad.xlsx 公卫工分!C3（值：“12.50”）",
        "bad.xlsx 机构!F3（值：“1000.005”）",
    ):
        assert s in r.stderr, r.stderr


def test_missing_sheet(tmp_path):
    book = to_workbook(write_quarter(tmp_path / "in"), tmp_path / "m.xlsx")
    wb = load_workbook(book)
    del wb["公卫工分"]
    wb.save(book)
    r = cli("validate", book)
    assert r.exit_code == 2 and "缺少工作表 workpoints（公卫工分）" in r.stderr


def test_ledger_xlsx_totals_equal_the_csv(base_quarter, archive):
    from decimal import Decimal

    rd = run_ok(base_quarter, archive)
    wb = load_workbook(rd / "ledger.xlsx")
    ws = wb["明细"]
    assert [c.value for c in ws[1]][:3] == ["期间", "机构编码", "机构名称"]
    assert ws.freeze_panes == "A2" and ws.auto_filter.ref
    assert ws["G2"].number_format == "#,##0.00"
    with open(rd / "ledger.csv", encoding="utf-8-sig") as f:
        csv_total = sum(Decimal(r["amount"]) for r in csv.DictReader(f))
    xlsx_total = sum(Decimal(str(ws.cell(row=i, column=7).value)) for i in range(2, ws.max_row + 1))
    assert xlsx_total == csv_total
    tot = wb["合计"]
    assert tot.cell(row=tot.max_row, column=1).value == "合计"
    assert str(tot.cell(row=2, column=4).value).startswith("=SUMIF(")
    assert tot.freeze_panes == "A2"


def _amounts(path):
    with open(path, encoding="utf-8-sig") as f:
        return {(r["inst_id"], r["item"]): r["amount"] for r in csv.DictReader(f)}


@pytest.mark.year
def test_the_whole_public_year_as_workbooks_gives_the_expected_ledgers(tmp_path, archive):
    for q in ("2026Q1", "2026Q2", "2026Q3", "2026Q4"):
        book = to_workbook(ACCEPTANCE / q, tmp_path / f"{q}.xlsx")
        rd = run_ok(book, archive)
        exp, got = _amounts(ACCEPTANCE / "expected" / f"{q}.csv"), _amounts(rd / "ledger.csv")
        assert got == exp, q
        if q != "2026Q4":
            assert cli("approve", rd, "--by", "验收", "--no-pdf").exit_code == 0
