"""Fixtures built by hand from SPEC.md. `base_quarter` is a small alliance whose every
amount is worked out in test_rules.py's docstrings."""

from __future__ import annotations

import csv
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(__file__).resolve().parent / "data"
ACCEPTANCE = DATA / "year-2026"
P4P = [sys.executable, "-m", "p4p.cli"]

INST_HEAD = [
    "inst_id",
    "name",
    "kind",
    "parent_id",
    "staff_count",
    "perf_base_annual",
    "population",
    "guarantee",
    "workload_target",
    "director",
]
BASE_INSTITUTIONS = [
    ["L01", "县人民医院", "lead_hospital", "", "500", "4000000.00", "0", "0", "0", ""],
    ["C01", "县中医院", "county_hospital", "", "100", "1000000.00", "0", "0", "0", ""],
    ["T01", "甲镇卫生院", "township", "L01", "10", "800000.00", "10000", "0", "0", "张院长"],
    ["T02", "乙镇卫生院", "township", "L01", "40", "400000.00", "20000", "0", "0", "李院长"],
    ["V01", "甲镇一村卫生室", "village", "T01", "2", "0.00", "1000", "1", "400", ""],
    ["V02", "乙镇一村卫生室", "village", "T02", "1", "0.00", "3000", "0", "300", ""],
    ["V03", "乙镇二村卫生室", "village", "T02", "1", "0.00", "2000", "1", "0", ""],
]
BASE_ASSESSMENT = [
    ["L01", "90", "0", ""],
    ["C01", "85", "0", ""],
    ["T01", "95", "0", ""],
    ["T02", "80", "0", ""],
    ["V01", "60", "0", ""],
    ["V02", "59.9", "0", ""],
    ["V03", "70", "1", "违规"],
]
BASE_WORKPOINTS = [
    ["T01", "EHR", "1000"],
    ["T02", "HTN", "250"],
    ["V01", "ELD", "10"],
    ["V02", "EDU", "5"],
    ["V03", "TB", "20"],
]
BASE_INCOME = [
    ["V01", "1000.00", "1000.00", "1000.00", "1000.00", "500"],
    ["V03", "2000.00", "2000.00", "2000.00", "2000.00", "10"],
]


def write_csv(path: Path, head, rows, encoding="utf-8"):
    with open(path, "w", encoding=encoding, newline="") as f:
        w = csv.writer(f)
        w.writerow(head)
        w.writerows(rows)


def write_quarter(
    d: Path,
    period="2026Q1",
    budget="400000.00",
    institutions=None,
    assessment=None,
    workpoints=None,
    income=None,
    extra_period: str = "",
) -> Path:
    d.mkdir(parents=True, exist_ok=True)
    (d / "period.yaml").write_text(
        f"period: {period}\nalliance: 测试医共体\nph_annual_budget: {budget}\n{extra_period}", encoding="utf-8"
    )
    write_csv(d / "institutions.csv", INST_HEAD, BASE_INSTITUTIONS if institutions is None else institutions)
    write_csv(
        d / "assessment.csv",
        ["inst_id", "score", "veto", "veto_reason"],
        BASE_ASSESSMENT if assessment is None else assessment,
    )
    write_csv(d / "workpoints.csv", ["inst_id", "item", "count"], BASE_WORKPOINTS if workpoints is None else workpoints)
    write_csv(
        d / "village_income.csv",
        ["inst_id", "drug_subsidy", "service_fee", "operating_subsidy", "medical_income", "visits"],
        BASE_INCOME if income is None else income,
    )
    return d


def run_cli(*args, cwd=None):
    return subprocess.run([*P4P, *map(str, args)], check=False, capture_output=True, text=True, cwd=cwd or ROOT)


def csv_rows(path: Path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as f:
        return list(csv.DictReader(f))


def ledger_of(run_dir: Path) -> dict:
    return {(r["inst_id"], r["item"]): r for r in csv_rows(Path(run_dir) / "ledger.csv")}


@pytest.fixture
def base_quarter(tmp_path) -> Path:
    return write_quarter(tmp_path / "in")


@pytest.fixture
def archive(tmp_path) -> Path:
    return tmp_path / "archive"


RULES = ROOT / "rules" / "huangshan-2026"


@pytest.fixture
def rules_copy(tmp_path) -> Path:
    """The shipped ruleset copied for a test to edit (its tests/ left out)."""
    d = tmp_path / "rules"
    shutil.copytree(RULES, d, ignore=shutil.ignore_patterns("tests"))
    return d


def edit(path: Path, old: str, new: str, count: int = 1) -> None:
    """Replace `old` (which must be there) by `new`, `count` times."""
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, count), encoding="utf-8")


def cli(*args):
    """In-process CLI call (click's runner): fast, and exceptions would surface as tracebacks."""
    from click.testing import CliRunner

    from p4p.cli import main

    return CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)


def run_ok(inp, archive, *extra) -> Path:
    r = cli("run", inp, "--archive", archive, "--no-pdf", *extra)
    assert r.exit_code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1])
