"""`p4p verify`: every check of SPEC §8 over a whole archive, as findings (path + what changed)
and notes (what could not be checked, and why that is not a finding)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .approvalfolder import last_folder_hash
from .chain import Chain, link_findings, read_chain, signature_findings
from .errors import NoArchive
from .findings import Finding
from .headfile import PaperHead, head_findings, paper_head_findings
from .keys import ArchiveKey
from .layout import (
    APPROVAL_DIRS,
    APPROVALS,
    HEAD_FILE,
    LOCK,
    PERIOD_RE,
    TMP_PREFIX,
    host_name,
    link_text,
    linked,
    parse_tmp,
    rel,
)
from .lock import reading_lock
from .runfolder import writer_alive
from .verify_approvals import folder_findings, namesake_findings, record_findings, supersede_findings
from .verify_priors import approval_prior_findings, run_prior_findings
from .verify_runs import RunInfo, scan_runs

KNOWN = {APPROVALS, HEAD_FILE, APPROVAL_DIRS, LOCK}


@dataclass
class Report:
    archive: Path
    chain: Chain
    runs: list[RunInfo]
    findings: list[Finding] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def clean(self) -> bool:
        return not self.findings


def _entries(archive: Path) -> tuple[list[Finding], list[str]]:
    """Temporary folders left behind, and entries an archive does not have."""
    out = [Finding(rel(archive, p), link_text(p)) for p in linked(archive)]
    notes = []
    for p in sorted(archive.iterdir()):
        name = p.name
        t = parse_tmp(name)
        if t and t.host == host_name() and writer_alive(t.pid, p):
            notes.append(f"{name}：进程 {t.pid} 正在写入（尚未完成的运行或审批）")
        elif t or name.startswith(TMP_PREFIX):
            where = "本机" if t and t.host == host_name() else "其他主机或旧版本"
            out.append(Finding(name, f"遗留的临时目录（{where}的写入被中断，下一次写入本归档的命令会清理本机的）"))
        elif name not in KNOWN and not (p.is_dir() and PERIOD_RE.match(name)):
            notes.append(f"{name}：不是归档的组成部分，未核对")
    return out, notes


def _is_archive(archive: Path) -> bool:
    return any(
        p.name in KNOWN or p.name.startswith(TMP_PREFIX) or (p.is_dir() and PERIOD_RE.match(p.name))
        for p in archive.iterdir()
    )


# a further check run under the same lock (app/verify_pay.py: payment lists recomputed from the
# approved ledgers — paying is a later layer than the archive): (findings, notes)
Extra = Callable[[Path, Chain, dict[str, RunInfo]], tuple[list[Finding], list[str]]]


def verify_archive(
    archive: Path, paper: PaperHead | None = None, key: ArchiveKey | None = None, extra: Extra | None = None
) -> Report:
    if not archive.is_dir():
        raise NoArchive(f"这里没有归档：{archive}")
    if not _is_archive(archive):
        raise NoArchive(f"{archive} 中没有归档内容（既没有运行目录，也没有审批记录）")
    with reading_lock(archive):
        chain = read_chain(archive)
        runs, findings = scan_runs(archive)
        report = Report(archive, chain, runs, findings)
        _check_chain(report, paper, key)
        by_rel = {r.rel: r for r in runs}
        report.findings += record_findings(archive, chain.records, by_rel)
        report.findings += folder_findings(archive, chain.records)
        report.findings += supersede_findings(chain.records)
        report.findings += namesake_findings(chain.records, by_rel)
        report.findings += run_prior_findings(runs, chain.records)
        report.findings += approval_prior_findings(by_rel, chain.records)
        if extra is not None:
            found, notes = extra(archive, chain, by_rel)
            report.findings += found
            report.notes += notes
        tmp, notes = _entries(archive)
        report.findings += tmp
        report.notes += notes
    return report


def _check_chain(report: Report, paper: PaperHead | None, key: ArchiveKey | None) -> None:
    chain = report.chain
    report.findings += link_findings(chain)
    found, notes = signature_findings(chain, key)
    report.findings += found
    report.notes += notes
    found, notes = head_findings(report.archive, chain, last_folder_hash(report.archive, chain.records), key)
    report.findings += found
    report.notes += notes
    if paper is not None:
        report.findings += paper_head_findings(chain, paper)
    elif chain.records:
        report.notes.append("未给出纸质链头（--head 序号:哈希）：删除最后几条记录后整体回滚的归档只能用它发现")
