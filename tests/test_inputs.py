"""SPEC §7: every class of bad input is reported — file, row, column, value — in Chinese,
all at once, exit 2, no traceback, nothing written."""

import subprocess
import sys

import pytest
from strict_helpers import refused

from conftest import (
    BASE_ASSESSMENT,
    BASE_INCOME,
    BASE_INSTITUTIONS,
    BASE_WORKPOINTS,
    INST_HEAD,
    ROOT,
    cli,
    ledger_of,
    run_ok,
    write_csv,
    write_quarter,
)


def _inst(change: dict):
    rows = [list(r) for r in BASE_INSTITUTIONS]
    for (i, col), v in change.items():
        rows[i][INST_HEAD.index(col)] = v
    return rows


def rejected(tmp_path, *expect, **kw):
    return refused(write_quarter(tmp_path / "in", **kw), tmp_path / "archive", *expect)


@pytest.mark.slow
def test_rejected_input_as_a_real_process_has_no_traceback(tmp_path):
    """The one subprocess check: exit 2 and a Chinese list, no traceback, nothing written."""
    inp = write_quarter(tmp_path / "in", workpoints=[*BASE_WORKPOINTS, ["T01", "EHR", "１２"]])
    archive = tmp_path / "archive"
    r = subprocess.run(
        [sys.executable, "-m", "p4p.cli", "run", str(inp), "--archive", str(archive), "--no-pdf"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr + r.stdout
    assert "workpoints.csv 第7行 列“count”（值：“１２”）：数字应使用半角数字 0–9" in r.stderr
    assert not archive.exists()


CASES = {
    "unknown kind": (
        dict(institutions=_inst({(2, "kind"): "医院"})),
        ["institutions.csv 第4行 列“kind”（值：“医院”）", "未知的机构类型"],
    ),
    "duplicate id": (dict(institutions=_inst({(3, "inst_id"): "T01"})), ["institutions.csv 第5行", "机构编码重复"]),
    "bad id characters": (dict(institutions=_inst({(1, "inst_id"): "C/01"})), ["第3行", "机构编码应为"]),
    "broken parent": (
        dict(institutions=_inst({(4, "parent_id"): "T99"})),
        ["institutions.csv 第6行 列“parent_id”（值：“T99”）", "上级机构必须是"],
    ),
    "second lead": (dict(institutions=_inst({(1, "kind"): "牵头医院"})), ["第3行", "第二个牵头医院"]),
    "no lead": (dict(institutions=_inst({(0, "kind"): "county_hospital"})), ["没有牵头医院"]),
    "township staff 0": (dict(institutions=_inst({(2, "staff_count"): "0"})), ["第4行", "staff_count", "不小于 1"]),
    "money 3 decimals": (
        dict(institutions=_inst({(1, "perf_base_annual"): "1000.005"})),
        ["第3行", "perf_base_annual", "1000.005", "最多两位小数"],
    ),
    "text for number": (dict(institutions=_inst({(1, "population"): "很多"})), ["第3行", "population", "应为整数"]),
    "score above 100": (
        dict(assessment=[r if r[0] != "T01" else ["T01", "100.5", "0", ""] for r in BASE_ASSESSMENT]),
        ["assessment.csv 第4行 列“score”（值：“100.5”）", "0–100"],
    ),
    "score two decimals": (
        dict(assessment=[r if r[0] != "T01" else ["T01", "88.25", "0", ""] for r in BASE_ASSESSMENT]),
        ["assessment.csv 第4行", "最多一位小数"],
    ),
    "bad veto flag": (
        dict(assessment=[r if r[0] != "T01" else ["T01", "88", "maybe", ""] for r in BASE_ASSESSMENT]),
        ["第4行", "veto", "是/否"],
    ),
    "no assessment row": (dict(assessment=BASE_ASSESSMENT[:-1]), ["assessment.csv", "V03", "没有考核结果行"]),
    "unknown assessed id": (
        dict(assessment=[*BASE_ASSESSMENT, ["X9", "80", "0", ""]]),
        ["第9行", "X9", "没有这个机构编码"],
    ),
    "duplicate assessment": (dict(assessment=[*BASE_ASSESSMENT, ["T01", "80", "0", ""]]), ["第9行", "两行考核结果"]),
    "unknown item": (
        dict(workpoints=[*BASE_WORKPOINTS, ["T01", "XRAY", "3"]]),
        ["workpoints.csv 第7行 列“item”（值：“XRAY”）", "未知的服务项目"],
    ),
    "negative count": (dict(workpoints=[*BASE_WORKPOINTS, ["T01", "EHR", "-3"]]), ["workpoints.csv 第7行", "count"]),
    "fractional count": (dict(workpoints=[*BASE_WORKPOINTS, ["T01", "EHR", "2.5"]]), ["第7行", "整数"]),
    "workpoints of a county hospital": (
        dict(workpoints=[*BASE_WORKPOINTS, ["C01", "EHR", "3"]]),
        ["第7行", "只有乡镇卫生院和村卫生室"],
    ),
    "guarantee village without income": (dict(income=BASE_INCOME[:1]), ["village_income.csv", "V03", "没有收入行"]),
    "income for a non-guarantee village": (
        dict(income=[*BASE_INCOME, ["V02", "1.00", "1.00", "1.00", "1.00", "1"]]),
        ["village_income.csv 第4行", "只有享受保底的村卫生室"],
    ),
    "negative income": (
        dict(income=[["V01", "-1.00", "1.00", "1.00", "1.00", "1"], BASE_INCOME[1]]),
        ["village_income.csv 第2行", "不能为负数"],
    ),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_rejected_with_location(tmp_path, case):
    kw, expect = CASES[case]
    rejected(tmp_path, *expect, **kw)


def test_all_problems_are_reported_at_once(tmp_path):
    err = rejected(
        tmp_path,
        institutions=_inst({(1, "perf_base_annual"): "abc", (2, "kind"): "x"}),
        workpoints=[*BASE_WORKPOINTS, ["T01", "XRAY", "-1"]],
    )
    assert "第3行" in err and "第4行" in err and "XRAY" in err and "-1" in err
    assert "4 处问题" in err


def test_missing_file_and_column(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "workpoints.csv").unlink()
    write_csv(inp / "assessment.csv", ["inst_id", "veto"], [["L01", "0"]])
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "缺少文件 workpoints.csv" in r.stderr and "assessment.csv 第1行" in r.stderr and "缺少列 score" in r.stderr


@pytest.mark.parametrize(
    "period_yaml,expect",
    [
        ("alliance: x\nph_annual_budget: 1.00\n", "缺少 period"),
        ("period: 2026-1\nalliance: x\nph_annual_budget: 1.00\n", "YYYYQn"),
        ("period: 2026Q1\nalliance: x\nph_annual_budget: 1.005\n", "最多两位小数"),
        ("period: 2026Q4\nalliance: x\nph_annual_budget: 1.00\n", "mi_budget"),
    ],
)
def test_bad_period_yaml(tmp_path, period_yaml, expect):
    inp = write_quarter(tmp_path / "in")
    (inp / "period.yaml").write_text(period_yaml, encoding="utf-8")
    r = cli("validate", inp)
    assert r.exit_code == 2 and "period.yaml" in r.stderr and expect in r.stderr, r.stderr


def test_encoding_neither_utf8_nor_gb18030(tmp_path):
    inp = write_quarter(tmp_path / "in")
    (inp / "assessment.csv").write_bytes("inst_id,score\n".encode() + b"\xff\xfe\x80\x81\xff\n")
    r = cli("validate", inp)
    assert r.exit_code == 2 and "assessment.csv" in r.stderr and "编码" in r.stderr


def test_gb18030_bom_chinese_headers_labels_and_thousands(tmp_path, archive):
    """The same quarter written the way Excel on Chinese Windows saves it gives the same ledger."""
    plain = run_ok(write_quarter(tmp_path / "plain"), archive)
    d = write_quarter(tmp_path / "cn")
    labels = {
        "lead_hospital": "牵头医院",
        "county_hospital": "县级医院",
        "township": "乡镇卫生院",
        "village": "村卫生室",
    }
    rows = [
        [r[0], r[1], labels[r[2]], r[3], r[4], f"{float(r[5]):,.2f}", r[6], "是" if r[7] == "1" else "否", r[8], r[9]]
        for r in BASE_INSTITUTIONS
    ]
    write_csv(
        d / "institutions.csv",
        [
            "机构编码",
            "机构名称",
            "机构类型",
            "上级机构编码",
            "在岗人数",
            "核定年度绩效工资基数",
            "服务人口",
            "享受保底",
            "季度门诊目标人次",
            "院长",
        ],
        rows,
        encoding="gb18030",
    )
    write_csv(
        d / "assessment.csv",
        ["机构编码", "考核得分", "一票否决", "否决事由"],
        [[a, s, "是" if v == "1" else "否", why] for a, s, v, why in BASE_ASSESSMENT],
        encoding="gb18030",
    )
    (d / "workpoints.csv").write_bytes(b"\xef\xbb\xbf" + (d / "workpoints.csv").read_bytes())
    cn = run_ok(d, archive)
    assert (plain / "ledger.csv").read_bytes() == (cn / "ledger.csv").read_bytes()


def test_yaml_numbers_are_read_exactly(tmp_path, archive):
    # 3952042.10 as a double is 3952042.0999999998…; read as text it stays exact
    inp = write_quarter(tmp_path / "in", budget="3952042.10")
    led = ledger_of(run_ok(inp, archive))
    total = sum(float(r["amount"]) for (i, it), r in led.items() if it == "PH_FUND")
    assert f"{total:.2f}" == "790408.42"  # round2(3,952,042.10 × 0.25 × 0.8) = 790,408.42


def test_hostile_names_stay_data(tmp_path, archive):
    inst = _inst({(4, "name"): '<b>"村"</b> & ../../etc/passwd ' + "长" * 150})
    run_dir = run_ok(write_quarter(tmp_path / "in", institutions=inst), archive)
    led = ledger_of(run_dir)
    assert led[("V01", "PH_FUND")]["inst_name"].startswith('<b>"村"</b> & ../../etc/passwd')
    assert not (tmp_path / "etc").exists()
    assert sorted(p.name for p in archive.iterdir()) == ["2026Q1"]


def test_absurdly_long_name_is_rejected(tmp_path):
    rejected(tmp_path, "文字过长", institutions=_inst({(4, "name"): "长" * 2001}))


def test_ragged_row_and_empty_institutions(tmp_path):
    inp = write_quarter(tmp_path / "in", institutions=[])
    with open(inp / "workpoints.csv", "a", encoding="utf-8") as f:
        f.write("T01,EHR,5,extra\n")
    r = cli("validate", inp)
    assert r.exit_code == 2
    assert "workpoints.csv 第7行（值：“extra”）：这一行有 4 列，多于表头的 3 列" in r.stderr
    assert "机构表中没有任何机构" in r.stderr


def test_blank_cells_that_no_rule_reads_are_zero(tmp_path, archive):
    # V02 has no guarantee: its target is never read; a township's population is never read
    inst = _inst({(5, "workload_target"): "", (2, "population"): ""})
    led = ledger_of(run_ok(write_quarter(tmp_path / "in", institutions=inst), archive))
    assert led[("T01", "PERF_POOL")]["amount"] == "200000.00"
    # ...but a guarantee village's target is read by R6 and may not be blank
    rejected(tmp_path / "x", "第6行", "workload_target", "不能为空", institutions=_inst({(4, "workload_target"): ""}))


def test_period_yaml_with_chinese_keys(tmp_path, archive):
    inp = write_quarter(tmp_path / "in")
    (inp / "period.yaml").write_text(
        "期间: 2026Q1\n医共体: 测试医共体\n基本公共卫生服务经费年度预算: 400000.00\n", encoding="utf-8"
    )
    led = ledger_of(run_ok(inp, archive))
    assert led[("T01", "PH_FUND")]["amount"] == "40425.53"


def test_codes_in_any_case(tmp_path, archive):
    plain = run_ok(write_quarter(tmp_path / "plain"), archive)
    d = write_quarter(tmp_path / "cased")
    rows = [[r[0], r[1], r[2].title(), *r[3:]] for r in BASE_INSTITUTIONS]
    write_csv(d / "institutions.csv", [h.upper() if h == "inst_id" else h for h in INST_HEAD], rows)
    write_csv(d / "workpoints.csv", ["inst_id", "Item", "count"], [[i, it.lower(), n] for i, it, n in BASE_WORKPOINTS])
    write_csv(
        d / "assessment.csv",
        ["inst_id", "score", "veto", "veto_reason"],
        [[a, s, "TRUE" if v == "1" else "false", w] for a, s, v, w in BASE_ASSESSMENT],
    )
    assert (plain / "ledger.csv").read_bytes() == (run_ok(d, archive) / "ledger.csv").read_bytes()
