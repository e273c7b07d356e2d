"""The engine against an independent transcription of SPEC §4 (tests/spec_reference.py) on
generated alliance-years: every line, every fen, Q1–Q4 with approvals."""

import csv
import subprocess
import sys
from decimal import Decimal
from fractions import Fraction

import pytest

from conftest import ROOT, cli, run_ok
from spec_reference import quarter

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out


def ledger(rd):
    return {(r["inst_id"], r["item"]): r for r in csv.DictReader(open(rd / "ledger.csv", encoding="utf-8-sig"))}


# seeds 4–7 with --edgy: insurance surplus, deficit within the 5 % limit, beyond it, and nil (seed % 4)
@pytest.mark.parametrize(
    "seed,townships,villages,edgy",
    [(1, 6, 5, False), (2, 9, 4, False), (4, 6, 6, True), (5, 5, 6, True), (6, 7, 5, True), (7, 3, 8, True)],
)
def test_generated_year_matches_the_spec_transcription(tmp_path, archive, seed, townships, villages, edgy):
    data = tmp_path / "year"
    subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "gen_alliance.py"),
            str(data),
            "--seed",
            str(seed),
            "--townships",
            str(townships),
            "--villages",
            str(villages),
        ]
        + (["--edgy"] if edgy else []),
        check=True,
    )
    prior = []
    for q in (1, 2, 3, 4):
        folder = data / f"2026Q{q}"
        expected = quarter(folder, prior)
        rd = run_ok(folder, archive)
        got = ledger(rd)
        assert set(got) == set(expected), (q, set(got) ^ set(expected))
        for key, (amount, qty) in expected.items():
            assert Decimal(got[key]["amount"]) == Decimal(amount.numerator) / amount.denominator, (q, key)
            if key[1] in ("PH_FUND", "PERF_POOL", "DIRECTOR_BONUS"):
                assert Fraction(Decimal(got[key]["quantity"])) == qty, (q, key)
        if q < 4:
            prior.append(expected)
            assert cli("approve", rd, "--by", "核对", "--no-pdf").exit_code == 0
