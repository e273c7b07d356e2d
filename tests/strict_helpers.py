"""Helpers for the strict-input tests: an in-process run that must be refused, a ruleset that
`rules check` must refuse, and the library-level reading of a quarter (with the service items
of SPEC R4)."""

from __future__ import annotations

from pathlib import Path

from p4p.model.facts import Quarter
from p4p.read.load import load_quarter

from conftest import cli

ITEMS = ["EHR", "HTN", "DM", "ELD", "CHILD", "MAT", "SMI", "TB", "TCM", "EDU"]  # SPEC §4 R4


def refused(inp: Path, archive: Path, *expect: str) -> str:
    """`p4p run` on `inp` exits 2 with every `expect` in its Chinese problem list, writes
    nothing, and never ends in an internal error. Returns stderr."""
    r = cli("run", inp, "--archive", archive, "--no-pdf")
    assert r.exit_code == 2, r.output
    assert "内部错误" not in r.output and "Traceback" not in r.output
    assert not archive.exists(), "nothing may be written for rejected input"
    for e in expect:
        assert e in r.stderr, f"{e!r} not in:\n{r.stderr}"
    return r.stderr


def check_refused(rules: Path, *expect: str) -> str:
    """`p4p rules check` refuses the ruleset (exit 2) with every `expect` in its Chinese problem
    list, never an internal error. Returns stderr."""
    r = cli("rules", "check", rules)
    assert r.exit_code == 2, r.output
    assert "内部错误" not in r.output and "检查通过" not in r.output
    for e in expect:
        assert e in r.stderr, f"{e!r} not in:\n{r.stderr}"
    return r.stderr


def read(inp: Path) -> Quarter:
    """The quarter as p4p reads it (library API), for accepted inputs."""
    return load_quarter(inp, lambda period: ITEMS)
