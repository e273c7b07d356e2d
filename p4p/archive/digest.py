"""SHA-256 of bytes and files, and the two JSON encodings the archive writes."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

CHUNK = 1 << 20


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(CHUNK):
            h.update(block)
    return h.hexdigest()


def canonical(obj: Any) -> bytes:
    """The bytes a signature covers: sorted keys, no spaces, UTF-8."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode("utf-8")


def pretty(obj: Any) -> bytes:
    """A manifest as people read it (sorted keys, indented); its bytes are what its hash covers."""
    return (json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode("utf-8")


def short(digest: object) -> str:
    """The first 12 characters of a hash, for people (whatever an edited record holds there)."""
    return f"{str(digest)[:12]}…" if digest else "（无）"
