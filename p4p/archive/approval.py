"""Approving a run: one record appended to the chain and one approval folder, under the lock.

    with begin_approval(run_dir, by, supersede=..., reason=..., key=...) as draft:
        draft.add_data("payments.csv", data)     # data files: their hashes go into the record
        head = draft.make_record()              # the record, and the chain head including it
        draft.add_document("payments.pdf", pdf)  # documents print that head (or render into
        render(..., out_dir=draft.path, chain_head=head)   # draft.path directly)
        draft.commit()                          # folder manifest, rename, append, head file
    draft.result                                # what was approved, where, the chain head

Documents (every file of the folder that is not a data file) are listed with their hashes in
the approval folder's own manifest, which also holds the record's hash, so no document has to
print a hash that covers itself. The next record holds the hash of this folder's manifest.
"""

from __future__ import annotations

import os
import shutil
import unicodedata
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import __version__
from . import clock
from .approvalfolder import RUN_MANIFEST_COPY, approval_folder, approval_folder_findings, last_folder_hash
from .chain import (
    RECORD_PURPOSE,
    RECORD_VERSION,
    Chain,
    Record,
    in_force,
    link_findings,
    read_chain,
    record_line,
    signature_findings,
)
from .digest import sha256, sha256_file
from .errors import ArchiveError, os_reason
from .findings import Finding
from .headfile import head_findings, write_head
from .keys import ArchiveKey
from .layout import APPROVALS, HEAD_FILE, MANIFEST, archive_of, inside
from .lock import archive_lock
from .manifest import (
    alliance_of,
    folder_hash,
    hash_files,
    load_manifest,
    manifest_or_none,
    run_file_findings,
    write_manifest,
)
from .runfolder import Staging, staging
from .verify_priors import prior_findings
from .verify_runs import RunInfo


def chain_problems(archive: Path, chain: Chain, key: ArchiveKey | None, writing: bool = False) -> list[Finding]:
    """What stops a command from trusting the chain (`writing`: or from extending it; a keyed
    approval may start signing an unsigned archive and mends a head file left behind)."""
    problems = link_findings(chain) + signature_findings(chain, key)[0]
    last = last_folder_hash(archive, chain.records)
    heads = head_findings(
        archive, chain, last, key, allow_lag=writing and key is not None, key_means_signed=not writing
    )
    return problems + heads[0]


def refusal(title: str, problems: list[Finding]) -> ArchiveError:
    return ArchiveError(title + "\n" + "\n".join(f"  - {p}" for p in problems))


@dataclass
class Approved:
    fields: dict[str, Any]
    chain_head: str
    folder: Path
    signed: bool
    stale: list[str] = field(default_factory=list)  # approved Q4 runs this supersede makes stale


class Draft:
    """An approval being made, under the archive lock (see the module docstring)."""

    def __init__(
        self, run_dir: Path, m: dict[str, Any], st: Staging, chain: Chain, current: Record | None, request: Request
    ) -> None:
        self.run_dir, self.manifest, self._st, self.chain, self.request = run_dir, m, st, chain, request
        self.archive = st.archive
        self.path = st.path
        self.seq = len(chain.records) + 1
        self.superseded = current if request.supersede else None
        self.data: dict[str, str] = {}
        self.fields: dict[str, Any] | None = None
        self.line = ""
        self.result: Approved | None = None

    def add_data(self, relative: str, data: bytes) -> None:
        """A data file of the approval (payment list, payees…): hashed in the record."""
        if self.fields is not None:
            raise ArchiveError("审批记录已生成，不能再加入数据文件（数据文件的哈希在记录中）")
        self._st.write(relative, data)
        self.data[relative] = sha256(data)

    def add_document(self, relative: str, data: bytes) -> None:
        """A document of the approval (stamped statement, payment list as PDF/xlsx): made after
        the record, since it prints the chain head; listed in the approval folder's manifest."""
        if self.fields is None:
            raise ArchiveError("审批记录尚未生成：文件要印上包含本条记录的链头，须在生成记录之后写入")
        self._st.write(relative, data)

    def make_record(self) -> str:
        """Build the record; returns the chain head N:HASH that includes it."""
        m, req, t = self.manifest, self.request, clock.now()
        fields: dict[str, Any] = {
            "v": RECORD_VERSION,
            "seq": self.seq,
            "alliance": alliance_of(m),
            "period": m["period"],
            "run_id": m["run_id"],
            "run_dir": f"{m['period']}/{m['run_id']}",
            "run_sha256": self.data[RUN_MANIFEST_COPY],
            "ledger_sha256": m["ledger_sha256"],
            "folder": approval_folder(self.seq, m["period"], m["run_id"]),
            "files": dict(sorted(self.data.items())),
            "by": req.by.strip(),
            "at": clock.utc_text(t),
            "at_beijing": clock.beijing_text(t),
            "supersedes": self.superseded.run_id if self.superseded else None,
            "reason": ((req.reason or "").strip() or None) if self.superseded else None,
            "prev_sha256": self.chain.last_sha256,
            "prev_folder_sha256": last_folder_hash(self.archive, self.chain.records) or "",
        }
        if req.key is not None:
            fields["key_id"] = req.key.key_id
            fields["hmac"] = req.key.sign(RECORD_PURPOSE, fields)
        self.fields, self.line = fields, record_line(fields)
        return self.chain_head

    @property
    def chain_head(self) -> str:
        return f"{self.seq}:{sha256(self.line.encode('utf-8'))}"

    def commit(self) -> Path:
        """Write the folder manifest, rename the folder into place, append the record, update
        the signed head. A failure before the record is appended removes the folder again."""
        if self.fields is None:
            raise ArchiveError("审批记录尚未生成")
        for r, digest in self.data.items():
            if sha256_file(self.path / r) != digest:
                raise ArchiveError(f"审批目录中的数据文件在记录生成后被改动：{r}")
        record_sha = sha256(self.line.encode("utf-8"))
        folder_sha = write_manifest(
            self.path,
            {
                "v": RECORD_VERSION,
                "seq": self.seq,
                "p4p_version": __version__,  # verify recomputes the payment lists only with this p4p
                "record_sha256": record_sha,
                "chain_head": self.chain_head,
                "alliance": self.fields["alliance"],
                "period": self.fields["period"],
                "run_id": self.fields["run_id"],
                "run_sha256": self.fields["run_sha256"],
                "data": dict(sorted(self.data.items())),
                "documents": {r: d for r, d in hash_files(self.path).items() if r not in self.data},
            },
        )
        final = self._st.commit(self.archive / str(self.fields["folder"]))
        try:
            _append(self.archive / APPROVALS, self.line, self.chain.ends_with_newline)
        except BaseException:
            shutil.rmtree(final, ignore_errors=True)  # made by this command, and no record names it
            raise
        key = self.request.key
        if key is not None:
            records = [*self.chain.records, Record(self.seq, 0, self.line, self.fields, record_sha)]
            write_head(self.archive, Chain(records=records, exists=True), folder_sha, key)
        self.result = Approved(self.fields, self.chain_head, final, key is not None, _stale_q4(self))
        return final


def _append(path: Path, line: str, ends_with_newline: bool) -> None:
    """One write of the whole line to a file opened for appending, then fsync."""
    buf = (("" if ends_with_newline else "\n") + line + "\n").encode("utf-8")
    try:
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    except OSError as e:
        raise ArchiveError(f"不能打开审批记录文件 {path}：{os_reason(e)}") from None
    try:
        while buf:
            buf = buf[os.write(fd, buf) :]
        os.fsync(fd)
    except OSError as e:
        raise ArchiveError(f"不能追加审批记录到 {path}：{os_reason(e)}") from None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Request:
    by: str
    supersede: bool = False
    reason: str | None = None
    key: ArchiveKey | None = None


def _check_request(req: Request) -> None:
    if not req.by.strip():
        raise ArchiveError("审批人（--by）不能为空")
    if req.supersede and not (req.reason or "").strip():
        raise ArchiveError("替换已审批的运行需要用 --reason 说明原因")


def _check_chain(archive: Path, chain: Chain, key: ArchiveKey | None) -> None:
    bad = chain_problems(archive, chain, key, writing=True)
    if chain.records and chain.records[-1].version >= RECORD_VERSION:
        # the new record holds the hash of the last approval folder's manifest: never of a changed one
        bad += approval_folder_findings(archive, chain.records[-1])
    if bad:
        raise refusal("审批记录有问题，不能追加新的审批（请先用 p4p verify 核查）：", bad)
    if key is None and (any(r.signed for r in chain.records) or (archive / HEAD_FILE).exists()):
        raise ArchiveError("这个归档的审批记录有签名：请用 --key-file 或环境变量 P4P_ARCHIVE_KEY 提供密钥")


def _placed_run(run_dir: Path) -> dict[str, Any]:
    """The run's manifest, when the run folder is where it belongs: <archive>/<period>/<run_id>."""
    m = load_manifest(run_dir)
    if m.get("period") != run_dir.parent.name or m.get("run_id") != run_dir.name:
        raise ArchiveError(
            f"{run_dir} 不在归档中它应在的位置（manifest 记为 {m.get('period')}/{m.get('run_id')}），不能审批"
        )
    return m


def _check_run(run_dir: Path) -> dict[str, Any]:
    m = _placed_run(run_dir)
    bad = run_file_findings(run_dir, f"{run_dir.parent.name}/{run_dir.name}")
    if bad:
        raise refusal("运行目录与其 manifest 不符，不能审批：", bad)
    return m


def _check_folder_free(archive: Path, chain: Chain, m: dict[str, Any]) -> None:
    folder = approval_folder(len(chain.records) + 1, m["period"], m["run_id"])
    if (archive / folder).exists():
        raise ArchiveError(
            f"审批目录 {archive / folder} 已存在，却没有对应的审批记录（上一次审批在写入记录前被中断？）；"
            "请审计人员核实后把它移出归档，再重新审批"
        )


def _check_current(m: dict[str, Any], current: Record | None, supersede: bool) -> None:
    if current and current.run_id == m["run_id"]:
        raise ArchiveError(f"{m['period']} 的这次运行（{m['run_id']}）已经是现行审批（第{current.seq}条记录）")
    if current and not supersede:
        raise ArchiveError(
            f"{m['period']} 已有审批通过的运行 {current.run_id}（{current.get('by')}，{current.get('at')}，"
            f"第{current.seq}条记录）；如需替换，请加 --supersede --reason 说明原因"
        )
    if supersede and current is None:  # a first approval would pay the whole quarter, not differences
        raise ArchiveError(
            f"{m.get('alliance', '')} {m['period']} 没有已审批的运行可替换：--supersede 只用于更正已审批的季度。"
            "若这是本期第一次审批，请去掉 --supersede 和 --reason；若要替换的是另一医共体或另一期间的运行，请核对运行目录"
        )


def namesake_approvals(
    archive: Path, force: dict[tuple[str, str], Record], name: str, key: str, within: str
) -> list[tuple[str, str, Record]]:
    """(key, period, record) of the approvals in force for periods starting with `within` (a
    year, or one period), of an alliance called `name` under another archive key than `key` (an `alliance_id` added, dropped
    or changed in period.yaml): keyed by that name, or of a run whose manifest gives it (only
    those manifests are read)."""
    out = []
    same = same_name(name)
    for (other, period), rec in sorted(force.items()):
        if other == key or not period.startswith(within):
            continue
        run_dir = inside(archive, str(rec.get("run_dir") or ""))
        if same_name(other) == same or (
            run_dir is not None and same_name(str((manifest_or_none(run_dir) or {}).get("alliance"))) == same
        ):
            out.append((other, period, rec))
    return out


def same_name(name: str) -> str:
    """A name as people read it: 测试 医共体, 测试医共体 and 测试医共体（全角） spelled
    alike — full-width forms folded (NFKC), spaces and case left out."""
    return "".join(unicodedata.normalize("NFKC", name).casefold().split())


def _check_namesake(archive: Path, m: dict[str, Any], force: dict[tuple[str, str], Record]) -> None:
    """An approval in force for this period of an alliance of the same name under another key
    would pay the quarter a second time."""
    for key, _, rec in namesake_approvals(archive, force, str(m.get("alliance")), alliance_of(m), m["period"]):
        raise ArchiveError(
            f"{m['period']} 已有同名医共体“{m.get('alliance')}”的现行审批（第{rec.seq}条记录，医共体编码 {key}），"
            f"本次运行的编码为 {alliance_of(m)}：同一季度可能被发放两次，未审批。若是同一医共体，请在 period.yaml "
            "中使用与已审批季度相同的 alliance_id（已审批的没有写就不写），重新计算后用 --supersede 更正；若确是不同的医共体，请使用不同的名称"
        )


def _check_priors(archive: Path, run_dir: Path, m: dict[str, Any], chain: Chain) -> None:
    """A run computed from earlier quarters is approved only while those are the ones in force."""
    run = RunInfo(f"{m['period']}/{m['run_id']}", run_dir, m, folder_hash(run_dir))
    force = in_force(chain.records)
    bad = []
    for p in run.priors:
        rec = force.get((alliance_of(m), str(p.get("period"))))
        approved = inside(archive, str(rec.get("run_dir"))) if rec else None
        bad += prior_findings(run, p, rec, len(chain.records), folder_hash(approved) if approved else None)
    if bad:
        raise refusal(
            f"这次 {m['period']} 运行所用的前期季度与现行审批不符，不能审批"
            f"（请重新运行 {m['period']}，再审批新的运行）：",
            bad,
        )


def _stale_q4(draft: Draft) -> list[str]:
    """Approved Q4 runs of the year that were computed from the run this approval supersedes."""
    m = draft.manifest
    if draft.superseded is None or m["period"].endswith("Q4"):
        return []
    q4 = in_force(draft.chain.records).get((alliance_of(m), m["period"][:4] + "Q4"))
    return [f"{q4.period} 运行 {q4.run_id}（第{q4.seq}条记录）"] if q4 else []


@contextmanager
def begin_approval(
    run_dir: Path, by: str, *, supersede: bool = False, reason: str | None = None, key: ArchiveKey | None = None
) -> Iterator[Draft]:
    """Take the archive lock, re-check every precondition under it and stage the approval
    folder. The caller adds data files, makes the record, renders documents and commits; on
    any exception (Ctrl-C included) the staged folder goes and nothing is appended."""
    req = Request(by, supersede, reason, key)
    _check_request(req)
    run_dir = run_dir.resolve()
    archive = archive_of(run_dir)
    _placed_run(run_dir)  # before the lock file is made next to what may not be an archive
    with archive_lock(archive):
        chain = read_chain(archive)
        _check_chain(archive, chain, key)
        m = _check_run(run_dir)
        force = in_force(chain.records)
        current = force.get((alliance_of(m), m["period"]))
        _check_current(m, current, supersede)
        _check_namesake(archive, m, force)
        _check_priors(archive, run_dir, m, chain)
        _check_folder_free(archive, chain, m)
        with staging(archive, m["period"]) as st:
            draft = Draft(run_dir, m, st, chain, current, req)
            draft.add_data(RUN_MANIFEST_COPY, (run_dir / MANIFEST).read_bytes())
            yield draft
