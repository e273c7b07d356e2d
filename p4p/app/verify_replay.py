"""`p4p verify --replay`: every approved run computed again from its own folder (inputs, rules,
history as archived) and compared to the fen, as `p4p replay` does for one run.

The hashes prove that a run is what was approved; this proves that what was approved is what
its inputs and rules give — a ledger edited before approval, its manifest re-hashed, shows here
(approval refuses such a run since this version; archives made before it may hold one). Files
that do not match their manifest are reported by the run checks, not again here.
"""

from __future__ import annotations

from pathlib import Path

from ..archive.chain import Chain
from ..archive.findings import Finding
from ..archive.verify_runs import RunInfo
from ..ruleset.errors import RulesetError
from .replay import replay


def replay_findings(archive: Path, chain: Chain, runs: dict[str, RunInfo]) -> tuple[list[Finding], list[str]]:
    """For each approved run folder (in force or superseded: money was paid from both), the
    lines its recomputation gives differently. Returns (findings, notes)."""
    findings: list[Finding] = []
    approved = sorted({str(r.get("run_dir")) for r in chain.records} & set(runs))
    for rel in approved:
        try:
            diffs = replay(runs[rel].path).diffs
        except RulesetError as e:
            diffs = [f"归档的规则不能读取：{e}"]
        findings += [Finding(rel, f"重新计算与归档不同：{d}") for d in diffs]
    notes = [f"已按各自归档的输入和规则重新计算 {len(approved)} 个已审批的运行"]
    return findings, notes
