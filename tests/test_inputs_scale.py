"""Province scale (slow): the vectorised reading gives exactly what a plain row-by-row reading
of the same files gives, and names the right row at the far end of a long file."""

import csv
import importlib.util
from collections import Counter
from decimal import Decimal

import pytest
from strict_helpers import read, refused

from conftest import ROOT

_spec = importlib.util.spec_from_file_location("gen_alliance", ROOT / "scripts" / "gen_alliance.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def _rows(path):
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_100000_institutions_read_as_a_row_by_row_reading_says(tmp_path):
    gen.generate(tmp_path, 10_000, 9, 5, 2026, "省级医共体", quarters=1)
    d = tmp_path / "2026Q1"
    q = read(d)
    inst = _rows(d / "institutions.csv")
    assert len(q.institutions) == len(inst) == 1 + 1000 + 10_000 * 10
    assert sum(x.perf_base_annual for x in q.institutions.values()) == sum(Decimal(r["perf_base_annual"]) for r in inst)
    assert {k: a.score for k, a in q.assessment.items()} == {
        r["inst_id"]: Decimal(r["score"]) for r in _rows(d / "assessment.csv")
    }
    expected: Counter = Counter()
    for r in _rows(d / "workpoints.csv"):
        expected[(r["inst_id"], r["item"])] += int(r["count"])
    got = {(i, it): n for i, v in q.workpoints.items() for it, n in v.items()}
    assert got == {k: n for k, n in expected.items() if n}  # a total of 0 counts as no work points
    assert list(q.workpoints) == sorted(q.workpoints)  # deterministic order: by inst_id, then item
    assert sum(v.visits for v in q.income.values()) == sum(int(r["visits"]) for r in _rows(d / "village_income.csv"))


@pytest.mark.slow
def test_a_million_service_rows_sum_exactly_and_the_last_row_is_named(tmp_path):
    gen.generate(tmp_path, 200, 9, 6, 2026, "县医共体", quarters=1, workpoint_events=1_000_000)
    d = tmp_path / "2026Q1"
    expected: Counter = Counter()
    for r in _rows(d / "workpoints.csv"):
        expected[(r["inst_id"], r["item"])] += 1
    got = read(d).workpoints
    assert sum(sum(v.values()) for v in got.values()) == 1_000_000
    assert {(i, it): n for i, v in got.items() for it, n in v.items()} == dict(expected)
    with open(d / "workpoints.csv", "a", encoding="utf-8") as f:
        f.write("T001,EHR,１\n")
    refused(d, tmp_path / "a", "workpoints.csv 第1000002行 列“count”（值：“１”）")
