"""Verification of runs computed from earlier approved quarters (Q4's annual settlement):
each run's prior quarters against the approvals in force at its place in the chain, its
history copies against the approved ledgers, every such approval against the approvals in force
when it was made, and an approved Q4 made stale by a later supersede of one of its quarters."""

from __future__ import annotations

import json
from typing import Any

from .chain import Record, in_force
from .digest import sha256_file
from .findings import Finding
from .layout import MANIFEST
from .manifest import alliance_of
from .verify_runs import RunInfo


def _place(run: RunInfo, records: list[Record]) -> tuple[int, list[Finding]]:
    """How many records the run had seen when it was computed: from `chain_seen` (checked
    against the chain), or — for runs of p4p 0.2 — the records made up to its creation time."""
    m, where = run.manifest or {}, f"{run.rel}/{MANIFEST}"
    seen = m.get("chain_seen")
    if not isinstance(seen, dict):
        created = str(m.get("created", ""))
        return sum(1 for r in records if str(r.get("at")) <= created), []
    n = seen.get("seq")
    if not isinstance(n, int) or isinstance(n, bool) or n < 0:
        return 0, [
            Finding(
                where, f"chain_seen 中的记录序号 {json.dumps(n, ensure_ascii=False)} 不是 p4p 写的：manifest 被改动"
            )
        ]
    if n > len(records):
        return len(records), [
            Finding(where, f"运行计算时已有 {n} 条审批记录，现在只有 {len(records)} 条：之后的审批记录被删除")
        ]
    if n and records[n - 1].sha256 != seen.get("sha256"):
        return n, [Finding(where, f"运行计算时第{n}条审批记录的哈希与现在的不符：审批记录在之后被改写")]
    return n, []


def prior_findings(
    run: RunInfo, p: dict[str, Any], rec: Record | None, n: int, approved_hash: str | None
) -> list[Finding]:
    """One prior quarter a run used (`p`, from its manifest) against `rec`, the approval of that
    quarter in force after the first `n` records; `approved_hash` is the approved run's manifest
    hash now (for records of p4p 0.2, which hold none)."""
    where, period, run_id = f"{run.rel}/{MANIFEST}", p.get("period"), p.get("run_id")
    if rec is None:
        return [Finding(where, f"用了 {period} 的运行 {run_id}，但到第{n}条审批记录为止该期没有有效的审批")]
    if rec.run_id != run_id:
        return [
            Finding(
                where,
                f"用了 {period} 的运行 {run_id}，而到第{n}条审批记录为止有效的是运行 {rec.run_id}（第{rec.seq}条记录）",
            )
        ]
    out = []
    if p.get("ledger_sha256") != rec.get("ledger_sha256"):
        out.append(Finding(where, f"{period} 的台账 SHA-256 与第{rec.seq}条审批记录不符"))
    # a record of p4p 0.2 holds no run hash: then the approved run's manifest as it is now
    if p.get("run_sha256") and p.get("run_sha256") != (rec.get("run_sha256") or approved_hash):
        out.append(Finding(where, f"{period} 的运行哈希与第{rec.seq}条审批记录不符"))
    if p.get("approved_by") != rec.get("by") or p.get("approved_at") != rec.get("at"):
        out.append(
            Finding(
                where,
                f"{period} 的审批人/时间记为 {p.get('approved_by')}/{p.get('approved_at')}，"
                f"第{rec.seq}条审批记录是 {rec.get('by')}/{rec.get('at')}",
            )
        )
    copy = run.path / "history" / f"{period}.ledger.csv"
    if copy.is_file() and sha256_file(copy) != rec.get("ledger_sha256"):
        out.append(Finding(f"{run.rel}/history/{period}.ledger.csv", f"与第{rec.seq}条审批记录批准的台账不符"))
    return out


def _needed(m: dict[str, Any]) -> set[str]:
    period = str(m.get("period", ""))
    return {f"{period[:4]}Q{q}" for q in (1, 2, 3)} if period.endswith("Q4") else set()


def run_prior_findings(runs: list[RunInfo], records: list[Record]) -> list[Finding]:
    by_rel = {r.rel: r for r in runs}
    out: list[Finding] = []
    for run in runs:
        m = run.manifest
        if m is None or not (run.priors or _needed(m)):
            continue
        n, found = _place(run, records)
        out += found
        force = in_force(records, n)
        for missing in sorted(_needed(m) - {str(p.get("period")) for p in run.priors}):
            out.append(Finding(f"{run.rel}/{MANIFEST}", f"第四季度运行的前期季度中缺少 {missing}"))
        for p in run.priors:
            rec = force.get((alliance_of(m), str(p.get("period"))))
            approved = by_rel.get(str(rec.get("run_dir"))) if rec else None
            out += prior_findings(run, p, rec, n, approved.run_hash if approved else None)
    return out


def approval_prior_findings(runs: dict[str, RunInfo], records: list[Record]) -> list[Finding]:
    """Every approval of a run with prior quarters against the approvals in force when it was
    made, and the approved Q4 of each year against the approvals in force now."""
    return _approved_when_in_force(runs, records) + _stale_q4(runs, records)


def _approved_when_in_force(runs: dict[str, RunInfo], records: list[Record]) -> list[Finding]:
    out: list[Finding] = []
    for r in records:
        run = runs.get(str(r.get("run_dir")))
        if run is None or run.manifest is None:
            continue
        force = in_force(records, r.seq - 1)
        for p in run.priors:
            cur = force.get((r.alliance, str(p.get("period"))))
            if cur is None or cur.run_id != p.get("run_id"):
                now = f"运行 {cur.run_id}（第{cur.seq}条记录）" if cur else "没有有效的审批"
                out.append(
                    Finding(r.where, f"批准的运行用的是 {p.get('period')} 运行 {p.get('run_id')}，批准时有效的是{now}")
                )
    return out


def _stale_q4(runs: dict[str, RunInfo], records: list[Record]) -> list[Finding]:
    """An approved Q4 whose quarters were superseded after it was approved (until it is itself
    superseded by a Q4 run on the new quarters)."""
    out: list[Finding] = []
    now = in_force(records)
    for (alliance, period), r in sorted(now.items()):
        run = runs.get(str(r.get("run_dir")))
        if not period.endswith("Q4") or run is None:
            continue
        for p in run.priors:
            cur = now.get((alliance, str(p.get("period"))))
            if cur is not None and cur.run_id != p.get("run_id") and cur.seq > r.seq:
                out.append(
                    Finding(
                        str(r.get("run_dir")),
                        f"已审批的第四季度运行（第{r.seq}条记录）用的是 {p.get('period')} 运行 {p.get('run_id')}，"
                        f"该季度后来被第{cur.seq}条记录替换为运行 {cur.run_id}："
                        "第四季度须重新运行，并用 --supersede 审批",
                    )
                )
    return out
