"""approvals.jsonl: the chain of approval records.

Each line is one record (JSON). A record's hash is the SHA-256 of its line (UTF-8, without the
newline); every record holds the hash of the previous record (`prev_sha256`), so editing,
deleting or reordering a record breaks the chain at the next one. The chain head `N:HASH`
(sequence number and hash of the last record) is what stamped documents print; against a head
from paper (`--head`) or a signed head file even the removal of the last records is caught.

Records written before v2 (p4p 0.2) have no `v`, `seq`, run hash or signature: they are read as
they are and reported as older, unsigned records.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .digest import sha256
from .findings import Finding
from .keys import ArchiveKey
from .layout import APPROVALS

RECORD_VERSION = 2
RECORD_PURPOSE = "p4p-approval-record"
REQUIRED = ("alliance", "period", "run_id", "run_dir", "ledger_sha256", "by", "at", "prev_sha256")


@dataclass(frozen=True)
class Record:
    seq: int  # position in the chain, from 1
    line_no: int  # line of approvals.jsonl
    line: str
    fields: dict[str, Any]
    sha256: str

    def get(self, key: str) -> Any:
        return self.fields.get(key)

    @property
    def alliance(self) -> str:
        return str(self.fields["alliance"])

    @property
    def period(self) -> str:
        return str(self.fields["period"])

    @property
    def run_id(self) -> str:
        return str(self.fields["run_id"])

    @property
    def key(self) -> tuple[str, str]:
        return (self.alliance, self.period)

    @property
    def version(self) -> int:
        v = self.fields.get("v", 1)
        return v if isinstance(v, int) else 0

    @property
    def signed(self) -> bool:
        return "hmac" in self.fields

    def body(self) -> dict[str, Any]:
        return {k: v for k, v in self.fields.items() if k != "hmac"}

    @property
    def where(self) -> str:
        return f"{APPROVALS} 第{self.line_no}行（第{self.seq}条审批记录）"


@dataclass
class Chain:
    records: list[Record] = field(default_factory=list)
    bad_lines: list[tuple[int, str]] = field(default_factory=list)
    exists: bool = False
    ends_with_newline: bool = True

    @property
    def head(self) -> str:
        return head_text(self.records)

    @property
    def last_sha256(self) -> str:
        return self.records[-1].sha256 if self.records else ""


def head_text(records: list[Record]) -> str:
    return f"{records[-1].seq}:{records[-1].sha256}" if records else "0:"


def record_line(fields: dict[str, Any]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True)


def _parse(text: str) -> tuple[dict[str, Any] | None, str]:
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"不是有效的 JSON（{e.msg}，第{e.colno}列）"
    if not isinstance(obj, dict):
        return None, "不是审批记录（应为 JSON 对象）"
    missing = [k for k in REQUIRED if not isinstance(obj.get(k), str)]
    if missing:
        return None, f"不是完整的审批记录（缺少或不是文本：{'、'.join(missing)}）"
    return obj, ""


def read_chain(archive: Path) -> Chain:
    p = archive / APPROVALS
    if not p.is_file():
        return Chain()
    data = p.read_bytes()
    chain = Chain(exists=True, ends_with_newline=data.endswith(b"\n") or not data)
    for n, raw in enumerate(data.split(b"\n"), 1):
        if not raw.strip():
            continue
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            chain.bad_lines.append((n, "不是 UTF-8 文本"))
            continue
        obj, why = _parse(text)
        if obj is None:
            chain.bad_lines.append((n, why))
            continue
        chain.records.append(Record(len(chain.records) + 1, n, text, obj, sha256(text.encode("utf-8"))))
    return chain


def in_force(records: list[Record], upto: int | None = None) -> dict[tuple[str, str], Record]:
    """The approval in force for each (alliance, period) after the first `upto` records."""
    out: dict[tuple[str, str], Record] = {}
    for r in records[: len(records) if upto is None else upto]:
        out[r.key] = r
    return out


def bad_line_findings(chain: Chain) -> list[Finding]:
    return [Finding(f"{APPROVALS} 第{n}行", f"{why}：这一行不是审批记录") for n, why in chain.bad_lines]


def link_findings(chain: Chain) -> list[Finding]:
    """Lines that are not records, broken links, sequence numbers out of place."""
    out = bad_line_findings(chain)
    if not chain.ends_with_newline:
        out.append(Finding(APPROVALS, "文件末尾没有换行：最后一条记录可能写到一半（被截断）"))
    prev = ""
    for r in chain.records:
        if r.get("prev_sha256") != prev:
            out.append(
                Finding(
                    r.where,
                    "与前一条记录的哈希链不符（prev_sha256 不是前一条记录的 SHA-256）："
                    "前一条记录被修改、删除，或记录顺序被调换",
                )
            )
        if r.version >= RECORD_VERSION and r.get("seq") != r.seq:
            out.append(
                Finding(r.where, f"记录自称第{r.get('seq')}条，却排在第{r.seq}条：之前的记录被删除、插入或调换了顺序")
            )
        prev = r.sha256
    return out


def signature_findings(chain: Chain, key: ArchiveKey | None) -> tuple[list[Finding], list[str]]:
    """Signed records checked with the key; an unsigned record after a signed one is a finding
    (with or without the key: approve never writes one)."""
    out: list[Finding] = []
    notes: list[str] = []
    seen_signed = False
    for r in chain.records:
        if r.signed:
            seen_signed = True
            if key is not None:
                out += _check_signature(r, key)
        elif seen_signed:
            out.append(Finding(r.where, "记录没有签名，而之前的记录有签名：签名被去掉，或记录不是用密钥写入的"))
    signed = sum(r.signed for r in chain.records)
    old = sum(r.version < RECORD_VERSION for r in chain.records)
    if old:
        notes.append(f"{old} 条审批记录是旧格式（p4p 0.2 及更早写入）：没有运行哈希，没有签名")
    unsigned_new = len(chain.records) - signed - old
    if unsigned_new:
        notes.append(f"{unsigned_new} 条审批记录未签名（写入时没有密钥）")
    if signed and key is None:
        notes.append(f"{signed} 条审批记录有签名（HMAC-SHA256），未提供密钥，签名未核对")
    if signed and key is not None:
        notes.append(f"{signed} 条审批记录的签名已用给出的密钥核对")
    return out, notes


def _check_signature(r: Record, key: ArchiveKey) -> list[Finding]:
    if r.get("key_id") != key.key_id:
        return [Finding(r.where, f"签名所用的密钥（编号 {r.get('key_id')}）不是给出的密钥（编号 {key.key_id}）")]
    if not key.verify(RECORD_PURPOSE, r.body(), str(r.get("hmac"))):
        return [Finding(r.where, "签名（HMAC）不符：记录在签名后被修改")]
    return []
