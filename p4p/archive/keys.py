"""The optional archive key: HMAC-SHA256 over approval records and the head file. The key
comes from --key-file or P4P_ARCHIVE_KEY and is never written into the archive; records carry
only its id (a hash of it), so a wrong key is told apart from an edited record."""

from __future__ import annotations

import hashlib
import hmac
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .digest import canonical
from .errors import ArchiveError, os_reason

KEY_ENV = "P4P_ARCHIVE_KEY"
MIN_KEY_BYTES = 16


@dataclass(frozen=True)
class ArchiveKey:
    secret: bytes

    @property
    def key_id(self) -> str:
        return hashlib.sha256(b"p4p-archive-key-id\n" + self.secret).hexdigest()[:16]

    def sign(self, purpose: str, obj: Any) -> str:
        return hmac.new(self.secret, purpose.encode() + b"\n" + canonical(obj), hashlib.sha256).hexdigest()

    def verify(self, purpose: str, obj: Any, mac: str) -> bool:
        return hmac.compare_digest(self.sign(purpose, obj), mac)


def load_key(key_file: Path | None, archive: Path | None = None) -> ArchiveKey | None:
    """The key from the file (surrounding white space dropped) or else from P4P_ARCHIVE_KEY;
    None when neither is given. A key file inside the archive is refused."""
    if key_file is not None:
        if archive is not None and key_file.resolve().is_relative_to(archive.resolve()):
            raise ArchiveError(f"密钥文件不能放在归档目录里（{key_file}）：能改归档的人就能伪造签名")
        try:
            secret = key_file.read_bytes().strip()
        except OSError as e:
            raise ArchiveError(f"不能读取密钥文件 {key_file}：{os_reason(e)}") from None
        source = f"密钥文件 {key_file}"
    elif os.environ.get(KEY_ENV):
        secret, source = os.environ[KEY_ENV].strip().encode("utf-8"), f"环境变量 {KEY_ENV}"
    else:
        return None
    if len(secret) < MIN_KEY_BYTES:
        raise ArchiveError(f"{source} 中的密钥太短（至少 {MIN_KEY_BYTES} 个字节）")
    return ArchiveKey(secret)
