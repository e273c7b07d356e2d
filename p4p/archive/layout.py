"""Where things are in an archive, and the names of its temporary folders.

<archive>/<period>/<run_id>/              one complete run (manifest.json covers every file)
<archive>/approvals.jsonl                 the chain of approval records, one JSON line each
<archive>/approvals.head                  the signed head of the chain (keyed archives only)
<archive>/approvals/<seq>-<period>-<run_id>/   what an approval made (its own manifest.json)
<archive>/.lock                           the archive lock (one writer of archive-wide records)
<archive>/.tmp-<period>-<host>-<pid>-<random>/  a folder being written by process <pid> of <host>
"""

from __future__ import annotations

import os
import re
import secrets
import socket
from dataclasses import dataclass
from pathlib import Path

MANIFEST = "manifest.json"
APPROVALS = "approvals.jsonl"
HEAD_FILE = "approvals.head"
APPROVAL_DIRS = "approvals"
LOCK = ".lock"
TMP_PREFIX = ".tmp-"

PERIOD_RE = re.compile(r"^\d{4}Q[1-4]$")
TMP_RE = re.compile(r"^\.tmp-(?P<period>\d{4}Q[1-4])-(?P<host>[A-Za-z0-9._-]+)-(?P<pid>\d+)-(?P<tag>[a-z0-9]{8})$")


def host_name() -> str:
    """This machine's name as it goes into a temporary folder's name (safe characters only)."""
    return re.sub(r"[^A-Za-z0-9._-]", "_", socket.gethostname()) or "host"


def tmp_name(period: str) -> str:
    tag = "".join(secrets.choice("abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(8))
    return f"{TMP_PREFIX}{period}-{host_name()}-{os.getpid()}-{tag}"


@dataclass(frozen=True)
class TmpName:
    period: str
    host: str
    pid: int


def parse_tmp(name: str) -> TmpName | None:
    m = TMP_RE.match(name)
    return TmpName(m["period"], m["host"], int(m["pid"])) if m else None


def archive_of(run_dir: Path) -> Path:
    return run_dir.resolve().parent.parent


def rel(archive: Path, path: Path) -> str:
    """A path inside the archive as findings name it."""
    try:
        return path.relative_to(archive).as_posix() or "."
    except ValueError:
        return str(path)


def period_dirs(archive: Path) -> list[Path]:
    return sorted(p for p in archive.iterdir() if p.is_dir() and PERIOD_RE.match(p.name))


def inside(archive: Path, relative: str) -> Path | None:
    """archive/relative when that stays inside the archive (a record could name '../x')."""
    p = Path(relative)
    if p.is_absolute() or ".." in p.parts or not relative:
        return None
    return archive / p


def linked(archive: Path) -> list[Path]:
    """Entries of the archive that are symbolic links, where p4p writes only real files and
    folders: at the top (approvals.jsonl, approvals/, period folders…) and among the approval
    folders. (Run folders in a period folder, and files inside a run or approval folder, are
    checked by the run and folder checks.)"""
    out = [p for p in archive.iterdir() if p.is_symlink()]
    root = archive / APPROVAL_DIRS
    if root.is_dir() and not root.is_symlink():
        out += [p for p in root.iterdir() if p.is_symlink()]
    return sorted(out)


def link_text(path: Path) -> str:
    """What a finding says of a symbolic link in the archive."""
    try:
        target = os.readlink(path)
    except OSError:
        target = "?"
    return (
        f"是符号链接（指向 {target}），不是归档中的文件或目录：它的内容在归档之外，可被改动而不留痕迹"
        "（p4p 不写符号链接）；请用真实的文件替换它，或查明是谁建立的"
    )
