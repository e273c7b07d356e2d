"""manifest.json: the SHA-256 of every file of a folder plus all of its metadata. The SHA-256 of
manifest.json itself is the folder's hash (a run folder's is the *run hash*)."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path
from typing import Any

from .digest import pretty, sha256, sha256_file
from .errors import ArchiveError
from .findings import Finding
from .layout import MANIFEST, link_text


def as_dict(value: Any) -> dict[str, Any]:
    """A JSON value that should be an object, or {} when an edited file made it something else."""
    return value if isinstance(value, dict) else {}


def alliance_of(m: dict[str, Any]) -> str:
    """The alliance as the archive keys it (an alliance_id when the run has one)."""
    return str(m.get("alliance_id") or m.get("alliance") or "")


def plain_name(name: str) -> str:
    """An alliance name as people read it: compatibility forms folded (NFKC: full-width letters,
    digits and brackets), letter case, invisible characters (a zero-width space) and spaces
    dropped — two names that read alike are one alliance's (one with a zero-width space, a space
    or （一） for (一) was approved as another alliance and the quarter paid twice)."""
    folded = unicodedata.normalize("NFKC", name).casefold()
    return "".join(ch for ch in folded if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def load_manifest(folder: Path) -> dict[str, Any]:
    p = folder / MANIFEST
    if not p.is_file():
        raise ArchiveError(f"{folder} 不是一个运行目录（缺少 {MANIFEST}）")
    try:
        m = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArchiveError(f"{p} 不是有效的 JSON（{e}）") from None
    if not isinstance(m, dict):
        raise ArchiveError(f"{p} 不是一个 manifest（应为 JSON 对象）")
    return m


def manifest_or_none(folder: Path) -> dict[str, Any] | None:
    try:
        return load_manifest(folder)
    except ArchiveError:
        return None


def folder_hash(folder: Path) -> str | None:
    """SHA-256 of the folder's manifest.json (None when it has none)."""
    p = folder / MANIFEST
    return sha256_file(p) if p.is_file() else None


def present_files(folder: Path) -> list[str]:
    """Every file under the folder except its manifest, as "/"-separated relative paths."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file() or p.is_symlink())


def hash_files(folder: Path) -> dict[str, str]:
    return {r: sha256_file(folder / r) for r in present_files(folder) if r != MANIFEST}


def write_manifest(folder: Path, manifest: dict[str, Any]) -> str:
    """Write manifest.json; returns its SHA-256."""
    data = pretty(manifest)
    (folder / MANIFEST).write_bytes(data)
    return sha256(data)


def stays_inside(relative: str) -> bool:
    """A "/"-separated path that stays inside the folder it is relative to."""
    parts = relative.split("/")
    return bool(relative) and not relative.startswith("/") and "\\" not in relative and ".." not in parts


def file_findings(folder: Path, recorded: dict[str, str], where: str) -> list[Finding]:
    """Files edited, missing or added since the manifest recorded them. `where` is the folder's
    path inside the archive."""
    out = []
    for r, digest in sorted(recorded.items()):
        p = folder / r
        if not stays_inside(r):  # never read: an edited manifest could name any file of the machine
            out.append(
                Finding(f"{where}/{r}", "manifest 登记的文件不在本目录内（路径含 .. 或是绝对路径）：manifest 被改动")
            )
        elif p.is_symlink():
            out.append(Finding(f"{where}/{r}", link_text(p)))
        elif not p.is_file():
            out.append(Finding(f"{where}/{r}", "文件缺失（manifest 中登记了它）"))
        elif sha256_file(p) != digest:
            out.append(Finding(f"{where}/{r}", "文件已被修改（SHA-256 与 manifest 不符）"))
    for r in present_files(folder):
        if r != MANIFEST and r not in recorded:
            out.append(Finding(f"{where}/{r}", "多出未在 manifest 中登记的文件"))
    return out


def run_consistency(m: dict[str, Any], where: str) -> list[Finding]:
    """A run manifest's metadata against its own file list (ledger, inputs, rules)."""
    files = as_dict(m.get("files"))
    out = []
    if "ledger.csv" in files and m.get("ledger_sha256") != files["ledger.csv"]:
        out.append(Finding(f"{where}/{MANIFEST}", "ledger_sha256 与登记的 ledger.csv 的 SHA-256 不一致"))
    pairs = [("inputs", "inputs/", as_dict(m.get("inputs"))), ("ruleset.files", "rules/", {})]
    pairs[1] = ("ruleset.files", "rules/", as_dict(as_dict(m.get("ruleset")).get("files")))
    for key, prefix, listed in pairs:
        for name, digest in sorted(listed.items()):
            if files.get(prefix + name) != digest:
                out.append(Finding(f"{where}/{MANIFEST}", f"{key} 中 {name} 的 SHA-256 与登记的 {prefix}{name} 不一致"))
    return out


def run_file_findings(run_dir: Path, where: str) -> list[Finding]:
    """Everything a run folder can say about itself: its files against its manifest and the
    manifest's metadata against its file list."""
    try:
        m = load_manifest(run_dir)
    except ArchiveError as e:
        return [Finding(f"{where}/{MANIFEST}", str(e).replace(str(run_dir), where))]
    files = m.get("files")
    if not isinstance(files, dict):
        return [Finding(f"{where}/{MANIFEST}", "manifest 中没有文件清单（files）")]
    return file_findings(run_dir, files, where) + run_consistency(m, where)


def _flatten(obj: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(obj, dict) and obj:
        out: dict[str, Any] = {}
        for k, v in obj.items():
            out.update(_flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(obj, list) and obj:
        out = {}
        for i, v in enumerate(obj):
            out.update(_flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: obj}


def _show(v: Any) -> str:
    text = json.dumps(v, ensure_ascii=False) if v is not ... else "（无）"
    return text if len(text) <= 40 else text[:37] + "…"


def manifest_changes(old: dict[str, Any], new: dict[str, Any], limit: int = 8) -> list[str]:
    """What differs between two manifests, key by key, for people ("alliance：“甲” → “乙”")."""
    a, b = _flatten(old), _flatten(new)
    out = [
        f"{k}：{_show(a.get(k, ...))} → {_show(b.get(k, ...))}"
        for k in sorted(set(a) | set(b))
        if a.get(k, ...) != b.get(k, ...)
    ]
    return out[:limit] + ([f"……另有 {len(out) - limit} 处"] if len(out) > limit else [])
