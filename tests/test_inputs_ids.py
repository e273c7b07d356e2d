"""Institution ids as a careless or dishonest finance centre writes them (SPEC §3, §7)."""

from strict_helpers import refused

from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, write_quarter


def test_an_id_repeated_in_another_letter_case_is_a_duplicate(tmp_path):
    """The finding: `t01` beside `T01` (a copy of a township with its own assessment row) was a
    second institution, paid a second time; to every reader of a list, and to a bank, the two
    are one code."""
    copy = ["t01", "甲镇卫生院（副本）", "township", "L01", "10", "800000.00", "10000", "0", "0", "王"]
    inp = write_quarter(
        tmp_path / "in",
        institutions=[*BASE_INSTITUTIONS, copy],
        assessment=[*BASE_ASSESSMENT, ["t01", "95", "0", ""]],
        income=[*BASE_INCOME, ["v01", "1.00", "1.00", "1.00", "1.00", "1"]],
    )
    err = refused(
        inp,
        tmp_path / "a",
        "institutions.csv 第9行 列“inst_id”（值：“t01”）：与第4行的 T01 只有字母大小写不同，是同一个编码",
        "assessment.csv 第9行 列“inst_id”（值：“t01”）：与第4行的 T01 只有字母大小写不同",
        "village_income.csv 第4行 列“inst_id”（值：“v01”）：与第2行的 V01 只有字母大小写不同",
    )
    assert "没有考核结果行" not in err
