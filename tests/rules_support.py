"""Reading a shipped test case (rules/<id>/tests/*.yaml) and a run folder's ledger in the same
terms, so a pytest test can check that `p4p run` writes what a case expects."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from p4p.engine.ledger import parse_ledger
from p4p.ruleset.load import load_ruleset
from p4p.ruleset.testcases import LedgerLine, Outcome, TestCase, load_cases

from conftest import ROOT

RULES = ROOT / "rules" / "huangshan-2026"
WHATIF = ROOT / "rules" / "examples" / "huangshan-2026-whatif"


def case(name: str, rules: Path = RULES) -> TestCase:
    return next(c for c in load_cases(load_ruleset(rules)) if c.file == f"tests/{name}")


def run_outcome(run_dir: Path) -> Outcome:
    """A run folder's ledger.csv and reported figures, as a test case compares them."""
    rows = parse_ledger((Path(run_dir) / "ledger.csv").read_bytes())
    ledger = [LedgerLine(r["inst_id"], r["inst_name"], r["kind"], r["item"], r["item_name"], Decimal(r["amount"]),
                         r["quantity"], r["rule_id"]) for r in rows]  # fmt: skip
    summary = json.loads((Path(run_dir) / "summary.json").read_text(encoding="utf-8"))
    reports = {r["name"]: Decimal(r["amount"]) for r in summary["reports"]}
    warnings = [(w["check_id"], w["inst_id"], w["message"]) for w in summary["warnings"] if w.get("kind") == "check"]
    return Outcome(ledger, reports, warnings)
