"""ledger.xlsx as a finance officer opens it: totals visible without recalculation (cached values
of every formula are the right sums), numbers where numbers belong, print setup, a sheet per
institution, text that stays text, and the same bytes for the same ledger.

Base alliance (test_rules.py): PH_FUND 80,000.00 = T01 40,425.53 + T02 34,042.55 + V01 2,553.19
+ V03 2,978.73; PERF_POOL 1,515,000.00 (county 1,225,000.00 + township 290,000.00);
DIRECTOR_BONUS 18,750.00; VILLAGE_TOPUP 3,268.09. Grand total 1,617,018.09; per level
county 1,225,000.00, township 290,000 + 18,750 + 74,468.08 = 383,218.08,
village 2,553.19 + 2,978.73 + 3,268.09 = 8,800.01.
"""

from __future__ import annotations

import io
import zipfile

import pytest
from openpyxl import load_workbook

from p4p.engine.ledger import parse_ledger
from p4p.report.xlsx import ledger_xlsx

from conftest import BASE_INSTITUTIONS, INST_HEAD, run_ok, write_quarter


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("x")
    inst = [list(r) for r in BASE_INSTITUTIONS]
    inst[4][INST_HEAD.index("name")] = '=HYPERLINK("http://x","点我")'
    return run_ok(write_quarter(tmp / "in", institutions=inst), tmp / "archive")


@pytest.fixture(scope="module")
def cached(run):
    return load_workbook(run / "ledger.xlsx", data_only=True)


@pytest.fixture(scope="module")
def formulas(run):
    return load_workbook(run / "ledger.xlsx")


def test_total_row_shows_its_sums_without_recalculation(cached, formulas):
    tot, f = cached["合计"], formulas["合计"]
    last = tot.max_row
    assert tot.cell(last, 1).value == "合计"
    # the level totals were formulas with a cached 0 before: now their cached values are the sums
    assert [tot.cell(last, j).value for j in range(3, 8)] == [13, 1617018.09, 1225000, 383218.08, 8800.01]
    assert f.cell(last, 5).value == "=SUM(E2:E5)"
    assert f.cell(2, 4).value.startswith("=SUMIF(")  # the item totals stay live over 明细
    assert tot.cell(2, 4).value == 18750  # DIRECTOR_BONUS, cached


def test_quantities_are_numbers(cached):
    ws = cached["明细"]
    quantities = {ws.cell(r, 2).value + ws.cell(r, 5).value: ws.cell(r, 8).value for r in range(2, ws.max_row + 1)}
    assert quantities["T01PH_FUND"] == 950 and quantities["C01PERF_POOL"] == 0.9
    assert all(isinstance(q, int | float) for q in quantities.values())


def test_print_setup_on_every_sheet(formulas):
    for ws in formulas.worksheets:
        assert ws.page_setup.orientation == "landscape", ws.title
        assert ws.sheet_properties.pageSetUpPr.fitToPage and ws.page_setup.fitToWidth in (1, None), ws.title
        assert ws.page_setup.fitToHeight == 0, ws.title
        assert ws.print_title_rows == "$1:$1", ws.title
        assert ws.freeze_panes == "A2", ws.title


def test_a_sheet_per_institution_with_what_it_receives(cached):
    ws = cached["按机构"]
    heads = [c.value for c in ws[1]]
    assert heads[:3] == ["机构编码", "机构名称", "机构类型"]
    assert heads[-3:] == ["本单位实收合计", "院长个人合计", "核定绩效工资总量"]
    rows = {ws.cell(r, 1).value: [c.value for c in ws[r]] for r in range(2, ws.max_row + 1)}
    t01 = dict(zip(heads, rows["T01"], strict=True))
    assert t01["本单位实收合计"] == 40425.53 and t01["院长个人合计"] == 15000 and t01["核定绩效工资总量"] == 200000
    total = dict(zip(heads, rows["合计"], strict=True))
    # received: 80,000.00 + 3,268.09; directors 18,750.00; ceilings 1,515,000.00
    assert (
        total["本单位实收合计"] == 83268.09 and total["院长个人合计"] == 18750 and total["核定绩效工资总量"] == 1515000
    )


def test_text_that_looks_like_a_formula_stays_text(run, formulas):
    ws = formulas["明细"]
    names = {ws.cell(r, 3).value for r in range(2, ws.max_row + 1)}
    assert '=HYPERLINK("http://x","点我")' in names
    with zipfile.ZipFile(run / "ledger.xlsx") as z:
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/"))
    assert "HYPERLINK" not in sheets  # it is in the shared strings, never a <f> formula


def test_same_ledger_same_bytes(run):
    rows = [list(r.values()) for r in parse_ledger((run / "ledger.csv").read_bytes())]
    import json

    summary = json.loads((run / "summary.json").read_text(encoding="utf-8"))
    a, b = ledger_xlsx(rows, summary), ledger_xlsx(rows, summary)
    assert a == b
    with zipfile.ZipFile(io.BytesIO(a)) as z:
        assert "2000-01-01T00:00:00Z" in z.read("docProps/core.xml").decode()
