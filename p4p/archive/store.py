"""The run archive: append-only run folders, approvals, and the history a Q4 run reads.

<archive>/<period>/<run_id>/   one complete run, never edited (written elsewhere, then renamed in)
<archive>/approvals.jsonl      one JSON line per approval; the last one for a period is in force
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ..engine.ledger import history_lines

APPROVALS = "approvals.jsonl"
MANIFEST = "manifest.json"


class ArchiveError(Exception):
    pass


class MissingHistory(ArchiveError):
    """A Q4 run without its approved Q1–Q3: rejected input (exit 2)."""


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def utc_now() -> str:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def archive_of(run_dir: Path) -> Path:
    return run_dir.resolve().parent.parent


def load_manifest(run_dir: Path) -> dict:
    p = run_dir / MANIFEST
    if not p.is_file():
        raise ArchiveError(f"{run_dir} 不是一个运行目录（缺少 {MANIFEST}）")
    return json.loads(p.read_text(encoding="utf-8"))


def write_run(archive: Path, period: str, run_id: str, files: dict[str, bytes], manifest: dict, render=None) -> Path:
    """Write every file into a temporary folder inside the archive, add the manifest (with the
    hash of every file), optionally render more files into it, then rename it into place.
    On any failure the temporary folder is removed: the run is complete or absent."""
    created = not archive.exists()
    archive.mkdir(parents=True, exist_ok=True)
    final = archive / period / run_id
    tmp = Path(tempfile.mkdtemp(prefix=f".tmp-{period}-", dir=archive))
    try:
        for rel, data in files.items():
            p = tmp / rel
            p.parent.mkdir(parents=True, exist_ok=True)
            p.write_bytes(data)
        if render is not None:
            render(tmp)
        manifest["files"] = {
            rel: sha256((tmp / rel).read_bytes())
            for rel in sorted(str(p.relative_to(tmp)) for p in tmp.rglob("*") if p.is_file())
        }
        (tmp / MANIFEST).write_text(
            json.dumps(manifest, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8"
        )
        final.parent.mkdir(parents=True, exist_ok=True)
        if final.exists():
            raise ArchiveError(f"运行目录已存在：{final}")
        os.rename(tmp, final)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if created:  # an archive folder made for this run only goes too
            shutil.rmtree(archive, ignore_errors=True)
        raise
    return final


def verify_files(run_dir: Path) -> list[str]:
    """Files whose hash no longer matches the manifest, or that were added or removed."""
    m = load_manifest(run_dir)
    problems = []
    recorded = m.get("files", {})
    present = {str(p.relative_to(run_dir)) for p in run_dir.rglob("*") if p.is_file()} - {MANIFEST}
    for rel, digest in sorted(recorded.items()):
        p = run_dir / rel
        if not p.is_file():
            problems.append(f"文件缺失：{rel}")
        elif sha256(p.read_bytes()) != digest:
            problems.append(f"文件已被修改（SHA-256 不符）：{rel}")
    for rel in sorted(present - set(recorded)):
        problems.append(f"多出未登记的文件：{rel}")
    if "ledger.csv" in recorded and m.get("ledger_sha256") != recorded["ledger.csv"]:
        problems.append("manifest 中的 ledger_sha256 与登记的 ledger.csv 不一致")
    return problems


# ---- approvals ---------------------------------------------------------------------------


@dataclass
class Approval:
    period: str
    alliance: str
    run_id: str
    run_dir: str
    ledger_sha256: str
    by: str
    at: str
    supersedes: str | None = None
    reason: str | None = None
    prev_sha256: str = ""  # SHA-256 of the previous record's line: an edited or removed record breaks the chain


def _lines(archive: Path) -> list[str]:
    p = archive / APPROVALS
    return [l for l in p.read_text(encoding="utf-8").splitlines() if l.strip()] if p.is_file() else []


def approvals(archive: Path) -> list[Approval]:
    return [Approval(**json.loads(line)) for line in _lines(archive)]


def approval_chain_problems(archive: Path) -> list[str]:
    """Records whose link to the previous record does not hold (the file was edited)."""
    out, prev = [], ""
    for n, line in enumerate(_lines(archive), 1):
        rec = json.loads(line)
        if rec.get("prev_sha256", "") != prev:
            out.append(f"{APPROVALS} 第{n}条审批记录与前一条记录的哈希链不符（审批记录被修改或删除）")
        prev = sha256(line.encode("utf-8"))
    return out


def approved(archive: Path, period: str, alliance: str) -> Approval | None:
    bad = approval_chain_problems(archive)
    if bad:
        raise ArchiveError("审批记录文件已被改动：\n" + "\n".join(bad))
    found = [a for a in approvals(archive) if a.period == period and a.alliance == alliance]
    return found[-1] if found else None


def approve(run_dir: Path, by: str, supersede: bool = False, reason: str | None = None) -> Approval:
    run_dir = run_dir.resolve()
    m = load_manifest(run_dir)
    bad = verify_files(run_dir)
    if bad:
        raise ArchiveError("运行目录与 manifest 不符，不能审批：\n" + "\n".join(bad))
    archive = archive_of(run_dir)
    current = approved(archive, m["period"], m["alliance"])
    if current and current.run_id == m["run_id"]:
        raise ArchiveError(f"{m['period']} 的这次运行（{m['run_id']}）已经审批过了")
    if current and not supersede:
        raise ArchiveError(
            f"{m['period']} 已有审批通过的运行 {current.run_id}（{current.by}，{current.at}）；"
            f"如需替换，请加 --supersede --reason 说明原因"
        )
    if supersede and not (reason or "").strip():
        raise ArchiveError("替换已审批的运行需要用 --reason 说明原因")
    bad = approval_chain_problems(archive)
    if bad:
        raise ArchiveError("审批记录文件已被改动，不能追加：\n" + "\n".join(bad))
    lines = _lines(archive)
    rec = Approval(
        m["period"],
        m["alliance"],
        m["run_id"],
        str(run_dir.relative_to(archive)),
        m["ledger_sha256"],
        by,
        utc_now(),
        current.run_id if current and supersede else None,
        reason if supersede else None,
        sha256(lines[-1].encode("utf-8")) if lines else "",
    )
    with open(archive / APPROVALS, "a", encoding="utf-8") as f:
        f.write(json.dumps(rec.__dict__, ensure_ascii=False, sort_keys=True) + "\n")
    return rec


def approval_label(run_dir: Path) -> str:
    """The approval state of a run, for statements."""
    run_dir = run_dir.resolve()
    m = load_manifest(run_dir)
    mine = [a for a in approvals(archive_of(run_dir)) if a.run_id == m["run_id"] and a.period == m["period"]]
    current = approved(archive_of(run_dir), m["period"], m["alliance"])
    if current and current.run_id == m["run_id"]:
        return f"已审批（{current.by}，{current.at}）"
    if mine:
        return f"已被替换（本期现行审批为运行 {current.run_id}）"
    if current:
        return f"未审批（本期已审批的运行为 {current.run_id}）"
    return "未审批"


def prior_quarters(archive: Path, year: int, quarter: int, alliance: str) -> list[dict]:
    """The approved runs of the earlier quarters of the year, with their ledgers (verified
    against the hash recorded at approval). Raises MissingHistory naming what is missing."""
    out, missing = [], []
    for qn in range(1, quarter):
        period = f"{year}Q{qn}"
        a = approved(archive, period, alliance)
        if a is None:
            missing.append(period)
            continue
        ledger = archive / a.run_dir / "ledger.csv"
        if not ledger.is_file():
            raise ArchiveError(f"{period} 已审批的运行 {a.run_id} 的 ledger.csv 不见了：{ledger}")
        data = ledger.read_bytes()
        if sha256(data) != a.ledger_sha256:
            raise ArchiveError(f"{period} 已审批的运行 {a.run_id} 的 ledger.csv 与审批时的 SHA-256 不符（可能被修改）")
        out.append(
            {
                "period": period,
                "run_id": a.run_id,
                "ledger_sha256": a.ledger_sha256,
                "bytes": data,
                "approved_by": a.by,
                "approved_at": a.at,
            }
        )
    if missing:
        raise MissingHistory(
            f"第四季度年终清算需要本年度前三季度已审批的运行，缺少：{'、'.join(missing)}"
            f"（医共体：{alliance}，归档目录：{archive}）。请先运行并用 p4p approve 审批这些季度。"
        )
    return out


def history_from(prior: list[dict]) -> list:
    lines = []
    for p in prior:
        lines += history_lines(p["bytes"])
    return lines
