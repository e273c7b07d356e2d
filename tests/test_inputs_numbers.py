"""SPEC §3 (v2) "Limits and strictness", cell by cell: numbers in ASCII digits only, the bounds,
exact sums of work points. Every refused cell ends in exit 2 naming file, row, column and value,
with nothing written; the accepted spellings give exactly the value written.

The base quarter (tests/conftest.py) has five work-point rows (rows 2–6); the cases append a
row 7 `T01,EHR,<count>`. T01 already has EHR 1000 from row 2.
"""

from decimal import Decimal

import numpy as np
import pytest
from strict_helpers import read, refused

from p4p.model.money import MAX_COUNT, MoneyError, parse_int, parse_money
from p4p.read.workpoints import exact_group_sums

from conftest import BASE_ASSESSMENT, BASE_INSTITUTIONS, BASE_WORKPOINTS, INST_HEAD, write_csv, write_quarter


def _count(tmp_path, text):
    return write_quarter(tmp_path / "in", workpoints=[*BASE_WORKPOINTS, ["T01", "EHR", text]])


COUNT_REFUSED = {
    "１２３": "数字应使用半角数字 0–9",  # full-width
    "١٢٣": "数字应使用半角数字 0–9",  # Arabic-Indic
    "+5": "数字前不能带 + 号",
    "5.": "小数点前后都应有数字",
    ".5": "小数点前后都应有数字",
    "0005": "数字不能以 0 开头",
    "1,2,3": "千分位逗号的位置不对",
    "1,0000": "千分位逗号的位置不对",
    "1e3": "数字不能用科学计数法",
    "1E3": "数字不能用科学计数法",
    "0x10": "数字不能用十六进制",
    "1_000": "数字中不能有下划线",
    "inf": "数字不能是 inf 或 nan",
    "nan": "数字不能是 inf 或 nan",
    "-3": "应为不小于 0 的整数",
    "2.5": "应为整数（不能有小数）",
    "5 0": "数字中不能有空格",
    "1000000001": "数值过大（不能超过 1,000,000,000）",
    "9" * 5000: "数值过大",
    "\u200b5": "应为整数",  # a zero-width space is not trimmed: shown as \u200b
    "五": "应为整数",
}


@pytest.mark.parametrize("text", sorted(COUNT_REFUSED))
def test_count_spellings_that_are_refused(tmp_path, text):
    shown = text if len(text) <= 60 else text[:60] + "…"
    shown = shown.replace("\u200b", "\\u200b")
    refused(
        _count(tmp_path, text),
        tmp_path / "a",
        f"workpoints.csv 第7行 列“count”（值：“{shown}”）：{COUNT_REFUSED[text]}",
    )


@pytest.mark.parametrize(
    "text,value",
    [
        (" 5 ", 1005),  # surrounding spaces are trimmed: 1000 + 5
        ("\u30005\u3000", 1005),  # so is the full-width space
        ("1,000", 2000),  # thousands separators in groups of three
        ("12.0", 1012),  # a fraction of zeros is still the integer
        ("1000000000", 1_000_001_000),  # the bound itself
        ("0", 1000),
    ],
)
def test_count_spellings_that_are_accepted(tmp_path, text, value):
    assert read(_count(tmp_path, text)).workpoints["T01"]["EHR"] == value


def test_counts_are_summed_exactly_at_the_bound(tmp_path):
    """50 rows of 10^9 for one unit and item: 5·10^10, beyond int32; plus rows of the usual kind
    in the same column as a `1.0` cell (which once turned the column into floats):
    999,999,999 + 999,999,999 + 1 = 1,999,999,999 exactly."""
    rows = [["T01", "EHR", "1000000000"]] * 50 + [["T02", "HTN", "999999999"]] * 2 + [["T02", "HTN", "1.0"]]
    q = read(write_quarter(tmp_path / "in", workpoints=rows))
    assert q.workpoints == {"T01": {"EHR": 50_000_000_000}, "T02": {"HTN": 1_999_999_999}}
    assert all(type(n) is int for v in q.workpoints.values() for n in v.values())


def test_exact_group_sums_leaves_int64_before_it_could_wrap():
    """With a per-cell bound of 2^62 only one row fits an int64 block, so the three rows of key 5
    are added in Python integers: 3·2^62 > 2^63 − 1, exactly (int64 would wrap negative)."""
    keys = np.array([5, 5, 7, 5])
    counts = np.array([2**62, 2**62, 1, 2**62], dtype=np.int64)
    assert exact_group_sums(keys, counts, 2**62) == {5: 3 * 2**62, 7: 1}
    # with the real bound one int64 block holds 9.2·10^9 rows: 3 rows of 10^9 stay exact
    small = np.array([MAX_COUNT] * 4, dtype=np.int64)
    assert exact_group_sums(np.array([1, 1, 1, 2]), small, MAX_COUNT) == {1: 3 * MAX_COUNT, 2: MAX_COUNT}


def _inst(change):
    rows = [list(r) for r in BASE_INSTITUTIONS]
    for (i, col), v in change.items():
        rows[i][INST_HEAD.index(col)] = v
    return rows


MONEY_REFUSED = {
    "03200000": "金额不能以 0 开头",
    "1e309": "金额不能用科学计数法",
    "1" * 30: "金额过大（整数部分最多 15 位）",
    "1000000000000000.00": "金额过大（整数部分最多 15 位）",
    "inf": "金额不能是 inf 或 nan",
    "-inf": "金额不能是 inf 或 nan",
    "１,０００.００": "金额应使用半角数字",
    "1,00.00": "千分位逗号的位置不对",
    "1000.005": "金额最多两位小数",
    "+1000": "金额前不能带 + 号",
    "-0.01": "金额不能为负数",
    "1 000.00": "金额中不能有空格",
    "¥1000": "不是有效的金额",
}


@pytest.mark.parametrize("text", sorted(MONEY_REFUSED))
def test_money_spellings_that_are_refused(tmp_path, text):
    """C01 is row 3 of institutions.csv; its perf_base_annual is column F."""
    inp = write_quarter(tmp_path / "in", institutions=_inst({(1, "perf_base_annual"): text}))
    refused(inp, tmp_path / "a", f"institutions.csv 第3行 列“perf_base_annual”（值：“{text[:60]}", MONEY_REFUSED[text])


@pytest.mark.parametrize(
    "text,value",
    [
        ("999,999,999,999,999.99", "999999999999999.99"),  # the largest amount: 15 digits
        ("48,000.00", "48000.00"),
        ("48，000.00", "48000.00"),  # a full-width comma is read as the thousands separator
        ("1000.5", "1000.50"),
        ("0.07", "0.07"),
    ],
)
def test_money_spellings_that_are_accepted(tmp_path, text, value):
    q = read(write_quarter(tmp_path / "in", institutions=_inst({(1, "perf_base_annual"): text})))
    assert q.institutions["C01"].perf_base_annual == Decimal(value)


def test_a_five_thousand_digit_staff_count_is_a_bad_cell(tmp_path):
    inp = write_quarter(tmp_path / "in", institutions=_inst({(2, "staff_count"): "7" * 5000}))
    refused(inp, tmp_path / "a", "institutions.csv 第4行 列“staff_count”", "数值过大（不能超过 1,000,000,000）")


@pytest.mark.parametrize(
    "text,why",
    [
        ("٩٠", "得分应使用半角数字"),
        ("9e1", "得分不能用科学计数法"),
        ("+90", "得分前不能带 + 号"),
        ("090", "得分不能以 0 开头"),
        ("90.", "小数点前后都应有数字"),
        ("90.05", "考核得分最多一位小数"),
        ("100.1", "考核得分应在 0–100 之间"),
        ("1" * 5000, "考核得分应在 0–100 之间"),
        ("nan", "得分不能是 inf 或 nan"),
    ],
)
def test_score_spellings_that_are_refused(tmp_path, text, why):
    """T01's assessment is row 4."""
    rows = [r if r[0] != "T01" else ["T01", text, "0", ""] for r in BASE_ASSESSMENT]
    refused(write_quarter(tmp_path / "in", assessment=rows), tmp_path / "a", "assessment.csv 第4行 列“score”", why)


def test_score_as_a_workbook_shows_it(tmp_path):
    """85.1 in a workbook reads as the text 85.10: one decimal in value, accepted."""
    rows = [r if r[0] != "T01" else ["T01", "85.10", "0", ""] for r in BASE_ASSESSMENT]
    assert read(write_quarter(tmp_path / "in", assessment=rows)).assessment["T01"].score == Decimal("85.1")


@pytest.mark.parametrize("text", ["-T9", "_T9", "Ｔ01", "T 01", "T" * 33, "T01/x"])
def test_ids_start_with_a_letter_or_digit_and_are_ascii(tmp_path, text):
    inp = write_quarter(tmp_path / "in", institutions=_inst({(1, "inst_id"): text}))
    refused(inp, tmp_path / "a", "institutions.csv 第3行 列“inst_id”", "机构编码")


@pytest.mark.parametrize("text,why", [("ＥＨＲ", "未知的服务项目"), ("ehr\u0131", "未知的服务项目")])
def test_item_codes_match_in_ascii_case_only(tmp_path, text, why):
    """`ehr` is EHR (codes in any case), but no Unicode case mapping makes a code."""
    inp = write_quarter(tmp_path / "in", workpoints=[*BASE_WORKPOINTS, ["T01", text, "1"]])
    refused(inp, tmp_path / "a", "workpoints.csv 第7行 列“item”", why)


def test_a_name_with_a_line_break_is_refused(tmp_path):
    inp = write_quarter(tmp_path / "in", institutions=_inst({(4, "name"): "甲镇\n一村"}))
    refused(inp, tmp_path / "a", "institutions.csv 第6行 列“name”（值：“甲镇\\u000a一村”）：不能有换行")


def test_many_problems_are_listed_up_to_200_then_counted(tmp_path, archive):
    """250 bad counts: the first 200 are listed in row order (rows 7–206), then one line says
    50 more; the headline counts all 250."""
    bad = [["T01", "EHR", "x"]] * 250
    err = refused(write_quarter(tmp_path / "in", workpoints=BASE_WORKPOINTS + bad), archive)
    assert "输入有 250 处问题" in err
    assert "workpoints.csv 第206行 列“count”（值：“x”）" in err and "第207行" not in err
    assert "workpoints.csv：另有 50 处问题未逐一列出（count：服务数量应为 0–1,000,000,000 的整数 50 处）" in err


@pytest.mark.parametrize("text", ["0", "1", "12", "1,000", "12.00", "1000000000", "-5", "-1,000"])
def test_vectorised_and_cell_parsers_agree_on_integers(text):
    """The column check (pyarrow, RE2) and the cell parser read the same grammar."""
    import pyarrow as pa

    from p4p.read.columns import integers

    col = integers(pa.chunked_array([[text]]), minimum=-(10**10))
    assert not col.bad[0] and int(col.values[0]) == parse_int(text)


@pytest.mark.parametrize("text", ["1.005", "0x10", "1e3", "00", "1,00", "１", "5.", "+1", "1000000001", ""])
def test_vectorised_and_cell_parsers_agree_on_bad_integers(text):
    import pyarrow as pa

    from p4p.read.columns import integers

    col = integers(pa.chunked_array([[text]]))
    assert col.bad[0]
    with pytest.raises(MoneyError):
        parse_int(text)


@pytest.mark.parametrize(
    "text", ["0", "0.5", "12.34", "48,000.00", "999999999999999.99", "1000.005", "1e3", "0012", "1,00.0", "-1"]
)
def test_vectorised_and_cell_parsers_agree_on_money(text):
    import pyarrow as pa

    from p4p.read.columns import money

    col = money(pa.chunked_array([[text]]))
    try:
        expected = parse_money(text)
        ok = expected >= 0
    except MoneyError:
        ok = False
    assert col.bad[0] == (not ok)
    if ok:
        assert col.values[0] == int(expected.scaleb(2))  # in fen, exactly


def test_a_long_money_column_mixing_written_forms_is_read_exactly():
    """Cells written like 1234.50 are read by Arrow, the others by Decimal: all in fen."""
    import pyarrow as pa

    from p4p.read.columns import money

    texts = ["1234.50", "1,234.5", "12", "0.05", "", "999999999999999.99", "48，000.00", "-1.00", "1.005"] * 500
    col = money(pa.chunked_array([texts[:2000], texts[2000:]]), blank_ok=True)
    assert col.values[:9].tolist()[:4] == [123450, 123450, 1200, 5]
    assert col.values[5] == 99999999999999999 and col.values[6] == 4800000
    assert col.bad[:9].tolist() == [False, False, False, False, False, False, False, True, True]
    assert col.values.tolist()[9:18] == col.values.tolist()[:9] and len(col.values) == 4500


def test_header_only_tables_and_columns_in_any_order(tmp_path):
    """Columns may come in any order; a work-point table with only its header is no work."""
    inp = write_quarter(tmp_path / "in", workpoints=[])
    write_csv(inp / "assessment.csv", ["veto", "score", "inst_id"], [[v, s, i] for i, s, v, _ in BASE_ASSESSMENT])
    q = read(inp)
    assert q.workpoints == {} and q.assessment["V02"].score == Decimal("59.9")
