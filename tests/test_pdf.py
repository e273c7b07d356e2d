"""Statements as a reader gets them: text extracted with pdftotext, fonts with pdffonts,
a page rendered with pdftoppm (poppler-utils, installed by `make setup`)."""

import csv
import re
import subprocess
from decimal import Decimal

import pytest
from conftest import BASE_INSTITUTIONS, INST_HEAD, cli, write_quarter

from p4p.model.money import capitals, group_thousands


def pdftext(path):
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def flat(text):
    return re.sub(r"\s+", "", text)


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pdf")
    inst = [list(r) for r in BASE_INSTITUTIONS]
    inst[5][INST_HEAD.index("name")] = '<script>alert("x")</script> & “村” ' + "很长的名字" * 30
    inst[6][INST_HEAD.index("name")] = "长" * 600 + "/../../x'\"<i>"
    inp = write_quarter(tmp / "in", institutions=inst)
    r = cli("run", inp, "--archive", tmp / "archive", "--jobs", "2")
    assert r.exit_code == 0, r.output
    from pathlib import Path

    return Path(r.stdout.strip().splitlines()[-1])


def ledger(rd):
    return list(csv.DictReader(open(rd / "ledger.csv", encoding="utf-8-sig")))


def test_one_statement_per_institution_and_a_summary(pdf_run):
    ids = {r["inst_id"] for r in ledger(pdf_run)}
    assert {p.stem for p in (pdf_run / "statements").glob("*.pdf")} == ids
    assert (pdf_run / "summary.pdf").is_file()


def test_statements_hold_name_period_and_every_amount_in_figures_and_capitals(pdf_run):
    rows = ledger(pdf_run)
    for inst_id in {r["inst_id"] for r in rows}:
        text = flat(pdftext(pdf_run / "statements" / f"{inst_id}.pdf"))
        mine = [r for r in rows if r["inst_id"] == inst_id]
        assert flat(mine[0]["inst_name"])[:40] in text
        assert "2026年第一季度" in text and "2026Q1" in text
        for r in mine:
            a = Decimal(r["amount"])
            if a:
                assert group_thousands(r["amount"]) in text, (inst_id, r["item"])
                assert capitals(a) in text, (inst_id, r["item"])
        assert "经办人" in text and "审核人" in text and "负责人" in text


def test_hostile_name_prints_literally(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "V02.pdf"))
    assert flat('<script>alert("x")</script>&“村”') in text


def test_a_600_character_name_wraps_and_keeps_the_amounts(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "V03.pdf"))
    assert text.count("长") >= 600 and "<i>" in text and "2,978.73" in text
    assert {p.name for p in pdf_run.parent.parent.iterdir()} == {"2026Q1"}


def test_every_font_is_embedded_and_subset(pdf_run):
    for pdf in [pdf_run / "summary.pdf", *sorted((pdf_run / "statements").glob("*.pdf"))]:
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        fonts = out.splitlines()[2:]
        assert fonts, pdf
        for f in fonts:
            cols = f.split()
            assert cols[-5:-3] == ["yes", "yes"], f  # emb, sub
            assert "WenQuanYi" in cols[0], f


def test_village_statement_explains_the_topup(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "V01.pdf"))
    for s in (
        "保底收入构成",
        "季度保底12,000.00元",
        "6,553.19",
        "3,268.09",
        "人民币叁仟贰佰陆拾捌元零玖分",
        "一（三）2",
        "基本公卫工分",
        "65岁及以上老年人健康体检",
    ):
        assert flat(s) in text, s


def test_township_statement_names_the_director(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "T01.pdf"))
    assert "院长绩效奖励（院长：张院长）" in text and "15,000.00" in text


def test_summary_report_has_checks_and_charts(pdf_run):
    text = flat(pdftext(pdf_run / "summary.pdf"))
    for s in (
        "各项目合计",
        "核对",
        "通过",
        "80,000.00",
        "各乡镇兑现金额",
        "考核得分与兑现金额",
        "村卫生室保底补助合计3,268.09",
    ):
        assert flat(s) in text, s


def test_a_page_renders_to_png(pdf_run, tmp_path):
    subprocess.run(
        [
            "pdftoppm",
            "-r",
            "40",
            "-png",
            "-f",
            "1",
            "-l",
            "1",
            str(pdf_run / "statements" / "T01.pdf"),
            str(tmp_path / "p"),
        ],
        check=True,
    )
    png = next(tmp_path.glob("p*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_manifest_covers_the_pdfs(pdf_run):
    import json

    m = json.loads((pdf_run / "manifest.json").read_text(encoding="utf-8"))
    assert "statements/T01.pdf" in m["files"] and "summary.pdf" in m["files"]
    assert cli("replay", pdf_run).exit_code == 0


def test_statements_rerendered_after_approval_show_it(base_quarter, archive, tmp_path):
    from conftest import run_ok

    rd = run_ok(base_quarter, archive)
    assert cli("approve", rd, "--by", "王会计").exit_code == 0
    r = cli("statements", rd, "--out", tmp_path / "st", "--jobs", "1")
    assert r.exit_code == 0, r.output
    text = flat(pdftext(tmp_path / "st" / "statements" / "V01.pdf"))
    assert "已审批（王会计" in text
    assert cli("replay", rd).exit_code == 0  # the archive was not touched
