"""approvals.head: the signed head of the chain (keyed archives). It holds the number of
records, the hash of the last one and the hash of the last approval folder's manifest, with an
HMAC, so deleting the last records (or editing the last approval folder) is caught without
paper. Rolling back records and head file together is caught only against a head from paper."""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .chain import Chain
from .digest import pretty
from .errors import ArchiveError, os_reason
from .findings import Finding
from .keys import ArchiveKey
from .layout import HEAD_FILE

HEAD_PURPOSE = "p4p-approvals-head"
PAPER_HEAD_RE = re.compile(r"^(\d+):([0-9a-fA-F]{16,64})$")


@dataclass(frozen=True)
class PaperHead:
    """A chain head as printed on a stamped document: N:HASH (a prefix of 16+ hex digits)."""

    seq: int
    digest: str

    @classmethod
    def parse(cls, text: str) -> PaperHead:
        m = PAPER_HEAD_RE.match(text.strip())
        if not m or int(m[1]) < 1:
            raise ValueError(f"链头应写成 序号:哈希（哈希至少 16 位十六进制），例如 3:9f2c…：{text}")
        return cls(int(m[1]), m[2].lower())


def head_body(chain: Chain, folder_sha256: str) -> dict[str, Any]:
    return {"count": len(chain.records), "head": chain.last_sha256, "folder_sha256": folder_sha256}


def write_head(archive: Path, chain: Chain, folder_sha256: str, key: ArchiveKey) -> None:
    body = head_body(chain, folder_sha256) | {"key_id": key.key_id}
    data = pretty(body | {"hmac": key.sign(HEAD_PURPOSE, body)})
    tmp = archive / f"{HEAD_FILE}.tmp-{os.getpid()}"
    try:
        with open(tmp, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, archive / HEAD_FILE)
    except OSError as e:
        tmp.unlink(missing_ok=True)
        raise ArchiveError(f"不能写入签名头文件 {archive / HEAD_FILE}：{os_reason(e)}") from None


def read_head(archive: Path) -> dict[str, Any] | str | None:
    """The head file's content; None when absent; a Chinese reason when unreadable."""
    p = archive / HEAD_FILE
    if not p.is_file():
        return None
    try:
        obj = json.loads(p.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        return f"不是有效的 JSON（{e}）"
    if not isinstance(obj, dict) or not isinstance(obj.get("count"), int) or not isinstance(obj.get("head"), str):
        return "不是签名头文件（应有 count、head）"
    return obj


def head_findings(
    archive: Path,
    chain: Chain,
    last_folder_sha256: str | None,
    key: ArchiveKey | None,
    allow_lag: bool = False,
    key_means_signed: bool = True,
) -> tuple[list[Finding], list[str]]:
    """The head file against the chain. `allow_lag`: a head behind the chain (an approval
    interrupted between appending its record and updating the head) is accepted — for a keyed
    approval, which checked the later records' signatures and rewrites the head.
    `key_means_signed`: a key given for an archive without any signature is a finding (the
    signatures may have been stripped) — not for an approval that starts signing it."""
    head = read_head(archive)
    signed = any(r.signed for r in chain.records)
    if head is None:
        if signed:
            return [Finding(HEAD_FILE, "签名头文件不见了（归档中有签名的审批记录）")], []
        if key is not None and key_means_signed:
            return [Finding(".", "给出了密钥，但归档中既没有签名的审批记录也没有签名头文件（签名可能被整体去掉）")], []
        return [], ["归档未签名：审批记录没有 HMAC，也没有签名头文件（删除最后几条记录只能用纸质链头发现）"]
    if isinstance(head, str):
        return [Finding(HEAD_FILE, head)], []
    return _compare_head(head, chain, last_folder_sha256, key, allow_lag)


def _compare_head(
    head: dict[str, Any], chain: Chain, last_folder_sha256: str | None, key: ArchiveKey | None, allow_lag: bool
) -> tuple[list[Finding], list[str]]:
    out, notes = [], []
    count, n = head["count"], len(chain.records)
    if count > n:
        out.append(Finding(HEAD_FILE, f"签名头文件记有 {count} 条审批记录，审批记录文件只有 {n} 条：最后的记录被删除"))
    elif count < n and not (allow_lag and (count == 0 or chain.records[count - 1].sha256 == head["head"])):
        out.append(
            Finding(
                HEAD_FILE,
                f"签名头文件只记到第{count}条，审批记录文件有 {n} 条：头文件没有随最后的审批更新"
                "（审批在写头文件前中断，或头文件被换成旧的）",
            )
        )
    elif 0 < count <= n and chain.records[count - 1].sha256 != head["head"]:
        out.append(Finding(HEAD_FILE, f"签名头文件中第{count}条记录的哈希与审批记录文件不符：记录被改写"))
    elif count == n and last_folder_sha256 is not None and head.get("folder_sha256") not in ("", last_folder_sha256):
        out.append(Finding(HEAD_FILE, "签名头文件中最后一个审批目录的 manifest 哈希不符：该审批目录被改动"))
    if key is None:
        notes.append("签名头文件存在，未提供密钥，其签名未核对")
    elif head.get("key_id") != key.key_id:
        out.append(Finding(HEAD_FILE, f"签名头文件所用的密钥（编号 {head.get('key_id')}）不是给出的密钥"))
    else:
        body = {k: v for k, v in head.items() if k != "hmac"}
        if not key.verify(HEAD_PURPOSE, body, str(head.get("hmac"))):
            out.append(Finding(HEAD_FILE, "签名头文件的签名（HMAC）不符：头文件被改动"))
    return out, notes


def paper_head_findings(chain: Chain, paper: PaperHead) -> list[Finding]:
    n = len(chain.records)
    if paper.seq > n:
        return [
            Finding(
                "approvals.jsonl",
                f"纸质链头为第{paper.seq}条记录，审批记录文件只有 {n} 条："
                f"第{n + 1}至第{paper.seq}条记录被删除（归档被回滚）",
            )
        ]
    r = chain.records[paper.seq - 1]
    if not r.sha256.startswith(paper.digest):
        return [
            Finding(
                r.where,
                f"与纸质链头不符（纸质 {paper.digest[:16]}…，归档中 {r.sha256[:16]}…）：这条或之前的记录被改写",
            )
        ]
    return []
