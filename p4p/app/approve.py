"""Approving a run (SPEC §8, §9): one chained record and one approval folder, under the lock."""

from __future__ import annotations

from pathlib import Path

from ..archive.approval import Approved, begin_approval
from ..archive.keys import ArchiveKey


def approve(
    run_dir: Path,
    by: str,
    supersede: bool = False,
    reason: str | None = None,
    key: ArchiveKey | None = None,
    pdf: bool = True,
    jobs: int | None = None,
    progress: bool = False,
) -> Approved:
    """Approve a run (SPEC §8, §9): under the archive lock, one chained record and one approval
    folder holding the documents stamped 已审批 with the chain head that includes the record."""
    with begin_approval(run_dir, by, supersede=supersede, reason=reason, key=key) as draft:
        # Data files of the approval (payment lists, payees) are added here, before the record
        # that holds their hashes: draft.add_data("payments.csv", data).
        head = draft.make_record()
        if pdf:
            from ..report.pdf import render_run

            m = draft.manifest
            stamp = approval_stamp(draft.fields or {})
            render_run(draft.run_dir, m["run_id"], m, jobs, progress, draft.path, stamp, chain_head=head)
        draft.commit()
    assert draft.result is not None
    return draft.result


def approval_stamp(record: dict) -> str:
    """What a document made at approval says about it: 已审批, who, the Beijing date."""
    stamp = f"已审批：{record['by']}，{record['at_beijing'][:10]}（北京时间）"
    if record.get("supersedes"):
        stamp += f"；替换运行 {record['supersedes']}（原因：{record['reason']}）"
    return stamp
