"""The approval folder <archive>/approvals/<seq>-<period>-<run_id>/: append-only, written once
by `p4p approve`. Its manifest.json lists the data files (whose hashes are also in the record)
and the documents (stamped statements, payment lists as PDF/xlsx: they print the chain head,
so their hashes cannot be in the record), and the hash of the record it belongs to."""

from __future__ import annotations

import json
from pathlib import Path

from .chain import Record
from .digest import short
from .findings import Finding
from .layout import APPROVAL_DIRS, MANIFEST, inside
from .manifest import as_dict, file_findings, folder_hash

RUN_MANIFEST_COPY = "run-manifest.json"  # data file: the approved run's manifest.json as it was


def approval_folder(seq: int, period: str, run_id: str) -> str:
    return f"{APPROVAL_DIRS}/{seq:04d}-{period}-{run_id}"


def last_folder_hash(archive: Path, records: list[Record]) -> str | None:
    """SHA-256 of the manifest of the last record's approval folder (None: no such folder)."""
    if not records or not isinstance(records[-1].get("folder"), str):
        return None
    return folder_hash(archive / str(records[-1].get("folder")))


def approval_folder_findings(archive: Path, r: Record) -> list[Finding]:
    """A v2 record's approval folder against its own manifest and against the record."""
    folder = str(r.get("folder") or "")
    path = inside(archive, folder)
    if path is None or not folder.startswith(f"{APPROVAL_DIRS}/"):
        return [Finding(r.where, f"所记的审批目录不在归档的 approvals/ 中：{folder}")]
    if not path.is_dir():
        return [Finding(folder, f"{r.where}的审批目录不见了")]
    try:
        fm = as_dict(json.loads((path / MANIFEST).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return [Finding(f"{folder}/{MANIFEST}", "审批目录的 manifest 缺失或不是有效的 JSON")]
    out = []
    if fm.get("record_sha256") != r.sha256 or fm.get("seq") != r.seq:
        out.append(
            Finding(
                f"{folder}/{MANIFEST}",
                f"记下的审批记录（第{fm.get('seq')}条，{short(fm.get('record_sha256'))}）与{r.where}"
                f"（{short(r.sha256)}）不符：记录或审批目录被改动",
            )
        )
    data = as_dict(r.get("files"))
    if fm.get("data") != data:
        out.append(Finding(f"{folder}/{MANIFEST}", f"数据文件清单与{r.where}中的不符"))
    return out + file_findings(path, {**as_dict(fm.get("documents")), **data}, folder)
