"""`p4p verify`, the paying part: every approval folder's data files — payment lists,
receivables, alliance items, corrections, bank files, the reconciliation — worked out again
from the ledger of the run it approved (and, for a supersede, of the run it replaced), with
the payees file and bank template kept in the folder, exactly as `p4p approve` worked them out,
and compared with the hashes the record holds.

The hashes alone prove that nothing changed after approval only while nobody rewrites the
chain; this check proves that the amounts and payees paid are what the approved ledger says
(account numbers come from the payees file kept in the folder, which only the record's hash and
the chain protect). It runs when the approval folder was made by this version of p4p (its
manifest says which): another version may lay the lists out differently, which is said as a
note, not a finding. A run changed since its approval is reported by the run checks; its
approval folder is then not worked out again (a note).
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

from .. import __version__
from ..archive.approvalfolder import RUN_MANIFEST_COPY
from ..archive.chain import RECORD_VERSION, Chain, Record
from ..archive.digest import sha256
from ..archive.errors import ArchiveError
from ..archive.findings import Finding
from ..archive.layout import inside
from ..archive.manifest import as_dict, folder_hash, manifest_or_none
from ..archive.verify_runs import RunInfo
from ..engine.trace import TraceError
from ..model.problems import InputError
from ..pay.plan import BANK_TEMPLATE_COPY
from ..ruleset.errors import RulesetError
from .approve import Paying, bank_template, plan_payments, read_run, situation_of

PAYEES_COPY = re.compile(r"payees\.(csv|xlsx|xlsm)")


def payment_findings(archive: Path, chain: Chain, runs: dict[str, RunInfo]) -> tuple[list[Finding], list[str]]:
    """For each approval record with a folder: its data files against a fresh plan. Returns
    (findings, notes). Records whose run or folder is missing are left to the other checks."""
    findings: list[Finding] = []
    notes: list[str] = []
    other_version: list[str] = []
    for i, r in enumerate(chain.records):
        folder = inside(archive, str(r.get("folder") or ""))
        run_dir = inside(archive, str(r.get("run_dir") or ""))
        if r.version < RECORD_VERSION or folder is None or not folder.is_dir() or run_dir is None:
            continue
        if str(r.get("run_dir")) not in runs:  # a missing run folder: the record checks say so
            continue
        made_by = (manifest_or_none(folder) or {}).get("p4p_version")
        if made_by != __version__:
            other_version.append(f"第{r.seq}条（{made_by or '未记录版本'}）")
            continue
        try:
            data = _replanned(archive, chain.records[:i], r, folder, run_dir)
        except ArchiveError as e:  # a run file that does not match its manifest: found by the run checks
            notes.append(f"第{r.seq}条审批的发放清单未重新编制：{e}")
            continue
        except (InputError, RulesetError, TraceError) as e:
            findings.append(Finding(str(r.get("folder")), f"不能按批准的台账重新编制发放清单：{e}"))
            continue
        findings += _compare(folder, str(r.get("folder")), as_dict(r.get("files")), data)
    if other_version:
        notes.append(
            f"审批目录由其他版本的 p4p 生成，未重新编制其发放清单（本机 p4p {__version__}）："
            + "、".join(other_version)
        )
    return findings, notes


def _replanned(archive: Path, before: list[Record], r: Record, folder: Path, run_dir: Path) -> dict[str, bytes]:
    """The data files approval would write for record `r` with the chain as it was then."""
    files = as_dict(r.get("files"))
    payees = next((folder / name for name in sorted(files) if PAYEES_COPY.fullmatch(name)), None)
    template = folder / BANK_TEMPLATE_COPY if BANK_TEMPLATE_COPY in files else None
    paying = Paying(payees, template)
    changed = ArchiveError(f"运行 {r.get('run_dir')} 已不是第{r.seq}条记录批准时的样子（见上面的问题）")
    if folder_hash(run_dir) != r.get("run_sha256"):  # before its files are parsed: they may be anything now
        raise changed
    run = read_run(run_dir)
    if run.run_sha256 != r.get("run_sha256") or run.ledger_sha256 != r.get("ledger_sha256"):
        raise changed
    situation = situation_of(archive, before, run, supersede=bool(r.get("supersedes")))
    plan = plan_payments(run.pay, paying, bank_template(paying), situation)
    return plan.data


def _compare(folder: Path, rel: str, recorded: dict, data: dict[str, bytes]) -> list[Finding]:
    out = []
    for name in sorted(set(recorded) | set(data)):
        if name == RUN_MANIFEST_COPY:
            continue
        where = f"{rel}/{name}"
        if name not in data:
            out.append(Finding(where, "按批准的台账重新编制时没有这个文件：它不是由台账得出的发放数据"))
        elif name not in recorded:
            out.append(Finding(where, "按批准的台账应有这个发放数据文件，审批记录中却没有"))
        elif recorded[name] != sha256(data[name]):
            out.append(
                Finding(where, "与按批准的台账重新编制的结果不符" + _first_difference(folder / name, data[name]))
            )
    return out


def _first_difference(path: Path, expected: bytes) -> str:
    """Where the folder's file first differs from the recomputed one, in its own words."""
    try:
        actual = path.read_bytes()
    except OSError:
        return "（文件缺失）"
    ours, theirs = _lines(expected), _lines(actual)
    for n, (e, a) in enumerate(zip(ours, theirs, strict=False), start=1):
        if e != a:
            return f"：第 {n} 行" + _fields(ours[0] if n > 1 else "", e, a)
    return f"：有 {len(theirs)} 行，按台账应有 {len(ours)} 行"


def _fields(header: str, ours: str, theirs: str) -> str:
    """A CSV line's differing columns by name (the whole lines when they do not split alike)."""
    names, e, a = (next(csv.reader([x])) if x else [] for x in (header, ours, theirs))
    if not names or len(names) != len(e) or len(e) != len(a):
        return f"为“{theirs[:160]}”，按台账应为“{ours[:160]}”"
    return "：" + "；".join(f"{k} 为 {y}，按台账应为 {x}" for k, x, y in zip(names, e, a, strict=True) if x != y)


def _lines(data: bytes) -> list[str]:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding).splitlines()
        except UnicodeDecodeError:
            continue
    return [data.hex()]
