"""Institution ids as a careless or dishonest finance centre writes them (SPEC §3, §7)."""

from strict_helpers import read, refused

from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, edit, write_quarter


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


def test_invisible_characters_in_names_are_refused(tmp_path, archive):
    """The finding: an alliance named 测试\\u200b医共体 (a zero-width space) looks like 测试医共体 but
    is another alliance to the archive: the quarter, approved once, was approved and paid a
    second time without --supersede. Names, directors, veto reasons and the alliance may hold
    nothing invisible (zero-width, direction marks, soft hyphen, private use, fillers)."""
    inst = [list(r) for r in BASE_INSTITUTIONS]
    inst[1][1] = "县\u202e院医中"
    inst[2][9] = "张\u00ad院长"
    assessment = [list(r) for r in BASE_ASSESSMENT]
    assessment[6][3] = "违规\u2060\n第二行"
    inp = write_quarter(tmp_path / "in", institutions=inst, assessment=assessment)
    edit(inp / "period.yaml", "测试医共体", "测试\u200b医共体")
    refused(
        inp,
        archive,
        "period.yaml 第2行 键“alliance”（值：“测试\\u200b医共体”）：含有看不见的字符 U+200B（如零宽空格、方向控制符）",
        "institutions.csv 第3行 列“name”（值：“县\\u202e院医中”）：含有看不见的字符 U+202E",
        "institutions.csv 第4行 列“director”（值：“张\\u00ad院长”）：含有看不见的字符 U+00AD",
        "assessment.csv 第8行 列“veto_reason”（值：“违规\\u2060\\u000a第二行”）：含有看不见的字符 U+2060",
    )


def test_a_veto_reason_on_two_lines_and_a_name_with_a_tab_are_still_text(tmp_path):
    assessment = [list(r) for r in BASE_ASSESSMENT]
    assessment[6][3] = "违规\r\n第二行"
    inst = [list(r) for r in BASE_INSTITUTIONS]
    inst[1][1] = "县\t中医院"
    q = read(write_quarter(tmp_path / "in", institutions=inst, assessment=assessment))
    assert q.warnings == []


def test_one_institution_listed_twice_under_two_ids_is_named(tmp_path):
    """The finding: 甲镇卫生院 listed a second time as T09 (its own assessment row) was a second
    institution, paid twice, without a word. Villages of different townships may share a name;
    one kind under one parent may not without the run saying so."""
    copy = ["T09", "甲镇 卫生院", "township", "L01", "10", "800000.00", "10000", "0", "0", "王"]
    namesake_village = ["V09", "甲镇一村卫生室", "village", "T02", "1", "0.00", "100", "0", "0", ""]
    q = read(
        write_quarter(
            tmp_path / "in",
            institutions=[*BASE_INSTITUTIONS, copy, namesake_village],
            assessment=[*BASE_ASSESSMENT, ["T09", "95", "0", ""], ["V09", "90", "0", ""]],
        )
    )
    assert q.warnings == [
        "institutions.csv：同一上级下有同名同类型的机构（第4行 T01 与第9行 T09），请核对是否把同一个机构列了两次（会重复兑现）"
    ]
