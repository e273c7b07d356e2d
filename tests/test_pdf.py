"""Statements as a reader gets them: text extracted with pdftotext, fonts with pdffonts, pages
counted with pdfinfo, images listed with pdfimages, a page rendered with pdftoppm (poppler-utils,
installed by `make setup`). The content itself (every sentence) is tested on the HTML in
test_report_statement.py; here: what only the PDF shows.

Base alliance amounts: see test_rules.py (V01 PH_FUND 2,553.19 and top-up 3,268.09, …)."""

from __future__ import annotations

import csv
import json
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pytest

from p4p.model.money import capitals, group_thousands

from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, INST_HEAD, cli, write_quarter

pytestmark = pytest.mark.slow


def pdftext(path) -> str:
    return subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout


def pages(path) -> int:
    out = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout
    return int(re.search(r"^Pages:\s+(\d+)", out, re.M).group(1))


def flat(text: str) -> str:
    return re.sub(r"\s+", "", text)


HOSTILE = '<script>alert("x")</script> & “村” ' + "很长的名字" * 30
LONG = "长" * 600 + "/../../x'\"<i>"


@pytest.fixture(scope="module")
def pdf_run(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("pdf")
    inst = [list(r) for r in BASE_INSTITUTIONS]
    inst[5][INST_HEAD.index("name")] = HOSTILE
    inst[6][INST_HEAD.index("name")] = LONG
    inp = write_quarter(tmp / "in", institutions=inst)
    r = cli("run", inp, "--archive", tmp / "archive", "--jobs", "2")
    assert r.exit_code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1])


def ledger(rd: Path) -> list[dict]:
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
            assert group_thousands(r["amount"]) in text, (inst_id, r["item"])
            assert capitals(a) in text, (inst_id, r["item"])
        assert "经办人" in text and "审核人" in text and "负责人" in text


def test_village_statements_fit_one_page_and_state_threshold_and_clause(pdf_run):
    for v in ("V01", "V02"):  # V03's name of 600 characters takes a third of the page: it may not fit
        assert pages(pdf_run / "statements" / f"{v}.pdf") == 1, v
    text = flat(pdftext(pdf_run / "statements" / "V01.pdf"))
    for s in (
        "考核得分低于60分不兑现",
        "完成季度目标400人次的100%",
        "依据：《歙县工作方案》一（三）2“对享受4.8万元保底收入的村卫生室一村一策核定工作数量和质量",
        "补助=5,446.81×60%×100%≈3,268.09元",
    ):
        assert flat(s) in text, s


def test_hostile_name_prints_literally(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "V02.pdf"))
    assert flat('<script>alert("x")</script>&“村”') in text


def test_a_600_character_name_wraps_and_keeps_the_amounts(pdf_run):
    text = flat(pdftext(pdf_run / "statements" / "V03.pdf"))
    assert text.count("长") >= 600 and "<i>" in text and "2,978.73" in text
    assert {p.name for p in pdf_run.parent.parent.iterdir()} == {"2026Q1"}


def test_every_font_is_embedded_subset_and_has_a_real_bold(pdf_run):
    for pdf in [pdf_run / "summary.pdf", *sorted((pdf_run / "statements").glob("*.pdf"))]:
        out = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
        fonts = [f.split() for f in out.splitlines()[2:]]
        assert fonts, pdf
        for cols in fonts:
            assert cols[-5:-3] == ["yes", "yes"], cols  # emb, sub
        names = {cols[0].split("+", 1)[1] for cols in fonts}
        assert {"P4P-Sans-SC", "P4P-Sans-SC-Bold"} <= names, (pdf, names)


def test_the_footer_has_the_run_and_hashes_and_a_qr_code(pdf_run):
    m = json.loads((pdf_run / "manifest.json").read_text(encoding="utf-8"))
    text = pdftext(pdf_run / "statements" / "V01.pdf")
    top, bottom = text.split("一、本期金额", 1)
    assert m["ledger_sha256"] not in top
    assert m["ledger_sha256"] in flat(bottom) and m["run_id"] in flat(bottom)
    images = subprocess.run(["pdfimages", "-list", str(pdf_run / "statements" / "V01.pdf")],
                            capture_output=True, text=True, check=True).stdout.splitlines()[2:]  # fmt: skip
    (qr,) = images
    width, height = qr.split()[3:5]
    assert width == height and int(width) >= 25  # a QR code: square, at least version 2 with its margin


def test_bundles_by_name_and_by_township(pdf_run):
    by_name = sorted(p.name for p in (pdf_run / "bundles" / "机构").iterdir())
    assert "V01-甲镇一村卫生室.pdf" in by_name and "T01-甲镇卫生院.pdf" in by_name
    hostile = next(n for n in by_name if n.startswith("V02-"))
    assert re.fullmatch(r"V02-[0-9A-Za-z_\u4e00-\u9fff]+\.pdf", hostile) and len(hostile) <= 40
    assert (pdf_run / "bundles" / "机构" / "V01-甲镇一村卫生室.pdf").read_bytes() == (
        pdf_run / "statements" / "V01.pdf"
    ).read_bytes()
    towns = sorted(p.name for p in (pdf_run / "bundles" / "乡镇").iterdir())
    assert towns == ["T01-甲镇卫生院.pdf", "T02-乙镇卫生院.pdf"]
    # T02 with its villages V02 and V03, one page each at least
    want = sum(pages(pdf_run / "statements" / f"{i}.pdf") for i in ("T02", "V02", "V03"))
    bundle = pdf_run / "bundles" / "乡镇" / "T02-乙镇卫生院.pdf"
    assert pages(bundle) == want
    text = flat(pdftext(bundle))
    assert text.index("乙镇卫生院") < text.index(flat('<script>alert("x")</script>')) < text.index("长长长")


def test_summary_report_has_checks_charts_and_every_institution(pdf_run):
    text = flat(pdftext(pdf_run / "summary.pdf"))
    for s in ("各项目合计", "核对", "通过", "80,000.00", "各乡镇实收金额", "各村卫生室实收金额", "考核得分分布",
              "需要核实的数据", "各机构兑现明细", "本单位实收"):  # fmt: skip
        assert flat(s) in text, s
    for r in ledger(pdf_run):
        assert r["inst_id"] in text


def test_a_page_renders_to_png(pdf_run, tmp_path):
    args = ["pdftoppm", "-r", "40", "-png", "-f", "1", "-l", "1", str(pdf_run / "statements" / "T01.pdf")]
    subprocess.run([*args, str(tmp_path / "p")], check=True)
    png = next(tmp_path.glob("p*.png"))
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5000


def test_manifest_covers_the_pdfs_and_bundles(pdf_run):
    m = json.loads((pdf_run / "manifest.json").read_text(encoding="utf-8"))
    for rel in (
        "statements/T01.pdf",
        "summary.pdf",
        "bundles/乡镇/T01-甲镇卫生院.pdf",
        "bundles/机构/T01-甲镇卫生院.pdf",
    ):
        assert rel in m["files"], rel
    assert cli("replay", pdf_run).exit_code == 0


def test_statements_rerendered_after_approval_show_it(base_quarter, archive, tmp_path):
    from conftest import run_ok

    rd = run_ok(base_quarter, archive)
    assert cli("approve", rd, "--by", "王会计").exit_code == 0
    r = cli("statements", rd, "--out", tmp_path / "st", "--jobs", "1")
    assert r.exit_code == 0, r.output
    text = flat(pdftext(tmp_path / "st" / "statements" / "V01.pdf"))
    assert "已审批（王会计" in text
    assert (tmp_path / "st" / "bundles" / "乡镇" / "T01-甲镇卫生院.pdf").is_file()
    assert cli("replay", rd).exit_code == 0  # the archive was not touched


MI = "mi_budget: 10000000.00\nmi_spent: 9000000.00\nalliance_score: 85\n"


def test_the_annual_statement_of_a_village_fits_one_page(tmp_path):
    """test_q4.py's year; V03 in Q4: PH_FUND −3,387.97 (pays back), MI_SURPLUS 0.00 (vetoed),
    top-up, and the year-to-date table of four quarters."""
    from conftest import run_ok

    archive = tmp_path / "archive"
    for n in (1, 2, 3):
        rd = run_ok(write_quarter(tmp_path / f"q{n}", period=f"2026Q{n}"), archive)
        assert cli("approve", rd, "--by", "财务").exit_code == 0
    q4 = write_quarter(tmp_path / "q4", period="2026Q4", extra_period=MI,
                       institutions=BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
                       assessment=BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
                       workpoints=[["T01", "EHR", "10000"]], income=BASE_INCOME[1:])  # fmt: skip
    r = cli("run", q4, "--archive", archive, "--jobs", "1")
    assert r.exit_code == 0, r.output
    rd = Path(r.stdout.strip().splitlines()[-1])
    st = rd / "statements" / "V03.pdf"
    assert pages(st) == 1
    text = flat(pdftext(st))
    assert "年度绩效兑现结算单" in text and "全年累计（年度结算）" in text
    assert "多拨了3,387.97元，本季度应退回3,387.97元" in text
