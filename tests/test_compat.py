"""Runs archived by p4p 0.2 (ruleset format 1, trace format 1) recompute to the same ledger with
today's engine, byte for byte, and explain from their old trace."""

import json
from pathlib import Path

import pytest

from p4p.app import Context, compute_run
from p4p.archive.history import history_from
from p4p.engine.trace import read_trace
from p4p.ruleset.load import load_archived_ruleset, ruleset_format

from conftest import DATA, cli

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

V1 = DATA / "archive-v1" / "archive"
RUNS = sorted(V1.glob("2026Q*/*"))


def test_the_fixture_has_four_runs_of_format_1():
    assert [r.parent.name for r in RUNS] == ["2026Q1", "2026Q2", "2026Q3", "2026Q4"]
    assert all(ruleset_format(r / "rules") == 1 for r in RUNS)
    assert ruleset_format(Path(__file__).resolve().parents[1] / "rules" / "huangshan-2026") == 2


@pytest.mark.parametrize("run", RUNS, ids=lambda r: r.parent.name)
def test_a_format_1_run_recomputes_to_the_same_ledger_bytes(run):
    m = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    prior = [{**p, "bytes": (run / "history" / f"{p['period']}.ledger.csv").read_bytes()} for p in m["prior_runs"]]
    assert load_archived_ruleset(run / "rules").format == 1
    c = compute_run(run / "inputs", run / "rules", context=Context(prior), v1_rules=True)
    assert c.files["ledger.csv"] == (run / "ledger.csv").read_bytes()
    assert history_from(prior) or run.parent.name != "2026Q4"


def test_a_format_1_trace_still_explains():
    q4 = RUNS[-1]
    lines = read_trace((q4 / "trace.jsonl").read_bytes())
    t = next(x for x in lines if x.inst_id == "T02" and x.item == "PH_FUND")
    assert t.amount == "-38719.46" and "应退 38,719.46" in t.explain
    r = cli("explain", q4, "T02", "PH_FUND")
    assert r.exit_code == 0 and "应退 38,719.46" in r.stdout and "R4-Q4" in r.stdout
