"""What is approved over time: the approved earlier quarters a Q4 run reads (checked against
their approval records before use), and a run's approval state for statements."""

from __future__ import annotations

from contextlib import nullcontext
from pathlib import Path
from typing import Any

from ..engine.ledger import history_lines
from .approval import chain_problems, namesake_approvals, refusal
from .chain import Chain, Record, in_force, read_chain
from .errors import ArchiveError, MissingHistory
from .keys import ArchiveKey, load_key
from .layout import archive_of, inside
from .lock import reading_lock
from .manifest import alliance_of, folder_hash, load_manifest, manifest_or_none, run_file_findings
from .verify_approvals import record_run_findings
from .verify_runs import RunInfo


def _approved_ledger(archive: Path, rec: Record, chain: Chain) -> dict[str, Any]:
    """The ledger of an approved run, after checking the run folder against the record."""
    run_dir = inside(archive, str(rec.get("run_dir")))
    if run_dir is None or not run_dir.is_dir():
        raise ArchiveError(
            f"{rec.period} 已审批的运行 {rec.run_id} 的运行目录不见了：{archive / str(rec.get('run_dir'))}"
        )
    where = str(rec.get("run_dir"))
    run = RunInfo(where, run_dir, manifest_or_none(run_dir), folder_hash(run_dir))
    bad = run_file_findings(run_dir, where) + (record_run_findings(archive, rec, run) if run.manifest else [])
    if bad:
        raise refusal(f"{rec.period} 已审批的运行 {rec.run_id} 与审批时不符，不能使用：", bad)
    data = (run_dir / "ledger.csv").read_bytes()
    return {
        "period": rec.period,
        "run_id": rec.run_id,
        "ledger_sha256": rec.get("ledger_sha256"),
        "run_sha256": run.run_hash,
        "bytes": data,
        "approved_by": rec.get("by"),
        "approved_at": rec.get("at"),
        "approval_seq": rec.seq,
        "approval_sha256": rec.sha256,
        "chain_seen": {"seq": len(chain.records), "sha256": chain.last_sha256},
        "run_dir": run_dir,
    }


def prior_quarters(
    archive: Path,
    year: int,
    quarter: int,
    alliance: str,
    key: ArchiveKey | None = None,
    required: bool = True,
    extra: tuple[str, ...] = (),
) -> list[dict[str, Any]]:
    """The approved runs of the earlier quarters of the year with their ledgers (and of the
    periods in `extra`, e.g. last year's Q4 when it exists), each checked against its approval
    record (run hash, files, ledger hash), the chain checked as a writer checks it (key from
    P4P_ARCHIVE_KEY unless given). `required` (a Q4): a missing quarter raises MissingHistory
    naming it; otherwise missing quarters are left out. ArchiveError when the archive does not
    hold together."""
    chain, out, missing = Chain(), [], []
    key = key if key is not None else load_key(None)
    with reading_lock(archive) if archive.is_dir() else nullcontext(False):
        if archive.is_dir():
            chain = read_chain(archive)
            bad = chain_problems(archive, chain, key, writing=True)
            if bad:
                raise refusal("审批记录有问题，不能使用前期已审批的季度（请先用 p4p verify 核查）：", bad)
        force = in_force(chain.records)
        for period in (*extra, *(f"{year}Q{qn}" for qn in range(1, quarter))):
            rec = force.get((alliance, period))
            if rec is None:
                missing += [] if period in extra else [period]
            else:
                out.append(_approved_ledger(archive, rec, chain))
    if missing and required:
        raise MissingHistory(
            f"第四季度年终清算需要本年度前三季度已审批的运行，缺少：{'、'.join(missing)}"
            f"（医共体：{alliance}，归档目录：{archive}）。请先运行并用 p4p approve 审批这些季度。"
        )
    return out


def namesakes(archive: Path, name: str, key: str, year: int) -> list[str]:
    """Quarters of `year` approved for an alliance called `name` under another archive key than
    `key` (an `alliance_id` added, dropped or changed in period.yaml): "period（key）" each."""
    if not archive.is_dir():
        return []
    force = in_force(read_chain(archive).records)
    return [f"{period}（{other}）" for other, period, _ in namesake_approvals(archive, force, name, key, str(year))]


def history_from(prior: list[dict[str, Any]]) -> list[Any]:
    """The engine's history lines from the approved ledgers."""
    lines: list[Any] = []
    for p in prior:
        lines += history_lines(p["bytes"])
    return lines


def approval_label(run_dir: Path) -> str:
    """The approval state of a run, for statements rendered after the fact."""
    run_dir = run_dir.resolve()
    m = load_manifest(run_dir)
    records = read_chain(archive_of(run_dir)).records
    current = in_force(records).get((alliance_of(m), m["period"]))
    mine = [r for r in records if r.run_id == m["run_id"] and r.period == m["period"]]
    if current and current.run_id == m["run_id"]:
        when = current.get("at_beijing") or current.get("at")
        return f"已审批（{current.get('by')}，{when}，第{current.seq}条审批记录）"
    if mine and current:
        return f"已被替换（本期现行审批为运行 {current.run_id}）"
    if current:
        return f"未审批（本期已审批的运行为 {current.run_id}）"
    return "未审批"
