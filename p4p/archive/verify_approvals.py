"""Verification of the approvals: every record against the run it names (folder, run hash,
ledger hash, identity), every approval folder against its manifest and its record, the
prev-folder links, approval folders no record names, and supersessions that do not add up."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .approvalfolder import RUN_MANIFEST_COPY, approval_folder_findings
from .chain import RECORD_VERSION, Record, bad_line_findings, in_force, read_chain
from .digest import sha256, sha256_file, short
from .findings import Finding
from .layout import APPROVAL_DIRS, MANIFEST, archive_of, inside
from .manifest import alliance_of, folder_hash, manifest_changes, manifest_or_none, plain_name
from .verify_runs import RunInfo


def record_findings(archive: Path, records: list[Record], runs: dict[str, RunInfo]) -> list[Finding]:
    out: list[Finding] = []
    for r in records:
        rel = str(r.get("run_dir"))
        path = inside(archive, rel)
        if path is None:
            out.append(Finding(r.where, f"所记的运行路径不在归档内：{rel}"))
        elif not path.is_dir():
            out.append(Finding(rel, f"{r.where}批准的运行目录不见了（运行 {r.run_id}）"))
        elif rel not in runs or runs[rel].manifest is None:
            out.append(Finding(rel, f"{r.where}批准的运行没有可读的 {MANIFEST}，无法核对"))
        else:
            out += record_run_findings(archive, r, runs[rel])
    return out


def record_run_findings(archive: Path, r: Record, run: RunInfo) -> list[Finding]:
    """An approval record against the run it approved: run hash (naming what changed in the
    manifest), alliance, period, run id and ledger hash."""
    m = run.manifest or {}
    where = f"{run.rel}/{MANIFEST}"
    out = []
    if r.get("run_sha256") and run.run_hash != r.get("run_sha256"):
        what = _what_changed(archive, r, m)
        out.append(
            Finding(
                where,
                f"运行哈希与{r.where}不符（审批时 {short(r.get('run_sha256'))}，现在 {short(run.run_hash)}）："
                "manifest 在审批后被改动" + (f"；改动：{'；'.join(what)}" if what else ""),
            )
        )
    wanted = {"alliance": alliance_of(m), "period": m.get("period"), "run_id": m.get("run_id")}
    wanted["ledger_sha256"] = m.get("ledger_sha256")
    for k, v in wanted.items():
        if r.get(k) != v:
            out.append(Finding(where, f"{k} 为 {v}，而{r.where}记的是 {r.get(k)}"))
    ledger = run.path / "ledger.csv"
    actual = sha256_file(ledger) if ledger.is_file() else None
    if actual != r.get("ledger_sha256"):
        out.append(
            Finding(
                f"{run.rel}/ledger.csv", f"与{r.where}中的台账 SHA-256 不符（审批时 {short(r.get('ledger_sha256'))}）"
            )
        )
    return out


def _what_changed(archive: Path, r: Record, m: dict[str, Any]) -> list[str]:
    """Key by key, the run manifest now against its copy taken at approval (when the copy is
    the one the record hashed)."""
    folder = inside(archive, str(r.get("folder") or ""))
    copy = folder / RUN_MANIFEST_COPY if folder else None
    if copy is None or not copy.is_file():
        return []
    data = copy.read_bytes()
    if sha256(data) != r.get("run_sha256"):
        return []
    return manifest_changes(json.loads(data.decode("utf-8")), m)


def folder_findings(archive: Path, records: list[Record]) -> list[Finding]:
    out: list[Finding] = []
    named: set[str] = set()
    prev: Record | None = None
    for r in records:
        if r.version >= RECORD_VERSION:
            out += _prev_folder_link(archive, r, prev)
            folder = str(r.get("folder") or "")
            named.add(folder)
            out += approval_folder_findings(archive, r)
        prev = r
    root = archive / APPROVAL_DIRS
    for d in sorted(root.iterdir()) if root.is_dir() else []:
        rel = f"{APPROVAL_DIRS}/{d.name}"
        if rel not in named:
            out.append(Finding(rel, "审批目录没有对应的审批记录（记录被删除，或审批在写入记录前中断）"))
    return out


def _prev_folder_link(archive: Path, r: Record, prev: Record | None) -> list[Finding]:
    folder = str(prev.get("folder") or "") if prev else ""
    expected = (folder_hash(archive / folder) or "（缺失）") if folder else ""
    if r.get("prev_folder_sha256") == expected:
        return []
    return [
        Finding(
            f"{folder}/{MANIFEST}" if folder else r.where,
            f"与{r.where}中记下的前一个审批目录的 manifest 哈希不符：该审批目录在之后被改动",
        )
    ]


def supersede_findings(records: list[Record]) -> list[Finding]:
    """Each record against the approval in force before it: one approval per period unless a
    record says which run it supersedes, and why."""
    out = []
    force: dict[tuple[str, str], Record] = {}
    for r in records:
        cur, sup = force.get(r.key), r.get("supersedes")
        if cur is not None and cur.run_id == r.run_id:
            out.append(Finding(r.where, f"再次批准了已是现行审批（第{cur.seq}条记录）的运行 {r.run_id}"))
        elif cur is not None and not sup:
            out.append(
                Finding(
                    r.where,
                    f"{r.period} 第{cur.seq}条记录批准的运行 {cur.run_id} 仍然有效，本记录又批准了运行 {r.run_id}，"
                    "却没有注明替换：同一期间有两个审批",
                )
            )
        elif sup and (cur is None or sup != cur.run_id):
            now = f"当时有效的是运行 {cur.run_id}（第{cur.seq}条记录）" if cur else "当时本期没有有效的审批"
            out.append(Finding(r.where, f"记录称替换运行 {sup}，但{now}"))
        if sup and not str(r.get("reason") or "").strip():
            out.append(Finding(r.where, "替换已审批的运行，却没有记下原因"))
        force[r.key] = r
    return out


def namesake_findings(records: list[Record], runs: dict[str, RunInfo]) -> list[Finding]:
    """Approvals in force for one period of alliances whose names read the same under two archive
    keys (an alliance_id added, or an invisible character in the name): the quarter paid twice
    (approval refuses this since p4p 0.3; an archive may hold one from before)."""
    first: dict[tuple[str, str], Record] = {}
    out = []
    for r in sorted(in_force(records).values(), key=lambda r: r.seq):
        run = runs.get(str(r.get("run_dir")))
        name = str((run.manifest or {}).get("alliance") or r.alliance) if run else r.alliance
        seen = first.setdefault((r.period, plain_name(name)), r)
        if seen is not r:
            out.append(
                Finding(
                    r.where,
                    f"{r.period} 另有同名医共体“{name}”的现行审批（第{seen.seq}条记录，医共体编码 {seen.alliance}），"
                    f"本记录的编码为 {r.alliance}：同一季度可能发放了两次",
                )
            )
    return out


def run_approval_findings(run_dir: Path) -> tuple[list[Finding], list[str]]:
    """For replay: the approval records of one run against it (run hash, ledger hash), and any
    line of the approvals file that is not a record. Returns (findings, records checked)."""
    archive = archive_of(run_dir)
    rel = f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}"
    chain = read_chain(archive)
    out = bad_line_findings(chain)
    mine = [r for r in chain.records if r.get("run_dir") == rel]
    if not mine:
        return out, []
    run = RunInfo(rel, run_dir, manifest_or_none(run_dir), folder_hash(run_dir))
    for r in mine:
        out += record_run_findings(archive, r, run) if run.manifest is not None else []
    return out, [_describe(r) for r in mine]


def _describe(r: Record) -> str:
    what = "运行哈希与台账哈希" if r.get("run_sha256") else "台账哈希（旧格式记录，没有运行哈希）"
    return f"{r.where}：{r.get('by')} 于 {r.get('at_beijing') or r.get('at')} 审批，已核对{what}"
