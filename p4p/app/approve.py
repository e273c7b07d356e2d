"""Approving a run (SPEC §8, §9): one chained record and one approval folder, under the lock.

In order: the run is computed again from its own folder and must give its ledger and trace (a
ledger edited before approval, its manifest re-hashed to match, is refused: nothing is paid
from amounts p4p did not compute); the payees file, the bank template and the payment lists are read, validated and
reconciled against the ledger before the archive is touched (a bad payees file is exit 2 with
nothing written); under the lock the preconditions are checked again (a supersede is planned
again if another approval came in between); the data files go into the folder and their
hashes into the record; then the documents that print the chain head including that record
(payment lists as xlsx/PDF, stamped statements, correction statements); then the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..archive.approval import Approved, Draft, begin_approval
from ..archive.approvalfolder import RUN_MANIFEST_COPY
from ..archive.chain import Record, in_force, read_chain
from ..archive.digest import sha256
from ..archive.errors import ArchiveError
from ..archive.keys import ArchiveKey
from ..archive.layout import MANIFEST, archive_of, inside
from ..archive.manifest import alliance_of, load_manifest, stays_inside
from ..engine.ledger import parse_ledger
from ..engine.trace import read_directors
from ..model.problems import InputError, Problem
from ..pay.bankfile import BankTemplate, load_template, shipped_templates
from ..pay.items import ItemPayment, from_ruleset
from ..pay.lists import named_directors
from ..pay.plan import REFERENCE, Plan, Refused, RunPay, plan_approval
from ..pay.reconcile import ReconcileError
from ..ruleset.load import load_archived_ruleset
from ..ruleset.model import Ruleset
from .replay import replay

DEFAULT_BANK_TEMPLATE = "default.yaml"
REFERENCE_STAMP = "仅供核对，不作发放依据（更正后的全额清单；本期应发放的是首次审批的清单加各次更正）"


@dataclass(frozen=True)
class Paying:
    """The inputs of approval that say how to pay: the payees file and the bank template
    (default bank-templates/default.yaml; used only with payees)."""

    payees: Path | None = None
    bank_template: Path | None = None


@dataclass(frozen=True)
class Rendering:
    pdf: bool = True
    jobs: int | None = None
    progress: bool = False


@dataclass
class Approval:
    """What an approval did: the record and folder (`approved`) and what it pays (`plan`)."""

    approved: Approved
    plan: Plan
    stale: list[str] = field(default_factory=list)


def approve(
    run_dir: Path,
    by: str,
    supersede: bool = False,
    reason: str | None = None,
    key: ArchiveKey | None = None,
    paying: Paying | None = None,
    rendering: Rendering | None = None,
) -> Approval:
    """Approve a run (SPEC §8, §9). Raises InputError (bad payees or bank template: nothing
    written), ArchiveError (refused), RulesetError (the run's archived ruleset is unreadable)."""
    paying, rendering = paying or Paying(), rendering or Rendering()
    template = bank_template(paying)
    run = read_run(run_dir)
    reproduced(run_dir)
    archive = archive_of(run_dir.resolve())
    situation = situation_of(archive, read_chain(archive).records, run, supersede)
    plan = plan_payments(run.pay, paying, template, situation)
    with begin_approval(run_dir, by, supersede=supersede, reason=reason, key=key) as draft:
        if draft.data.get(RUN_MANIFEST_COPY) != run.run_sha256:
            raise ArchiveError(f"运行目录 {draft.run_dir} 在审批过程中被改动，请重新审批")
        now = situation_of(archive, draft.chain.records, run, supersede)
        if now != situation:  # another approval came in between: plan against what is in force now
            situation, plan = now, plan_payments(run.pay, paying, template, now)
        for relative, data in sorted(plan.data.items()):
            draft.add_data(relative, data)
        head = draft.make_record()
        _documents(draft, plan, head, rendering, situation)
        draft.commit()
    assert draft.result is not None
    return Approval(draft.result, plan, list(situation.stale))


REPRODUCE_SHOWN = 5  # differences named when a run cannot be reproduced


def reproduced(run_dir: Path) -> None:
    """Refuse a run that its own inputs, rules and history do not give again (ArchiveError)."""
    r = replay(run_dir, workbook=False)
    found = r.tampered + r.diffs
    if found:
        more = f"；另有 {len(found) - REPRODUCE_SHOWN} 处" if len(found) > REPRODUCE_SHOWN else ""
        raise ArchiveError(
            f"运行 {run_dir.name} 不能审批：按它归档的输入和规则重新计算，结果与归档的台账或追溯不同"
            f"（{'；'.join(found[:REPRODUCE_SHOWN])}{more}）。运行目录可能被改动，请用 p4p replay 和 p4p verify 核查，"
            "或重新计算后审批新的运行"
        )


def approval_stamp(record: dict) -> str:
    """What a document made at approval says about it: 已审批, who, the Beijing date."""
    stamp = f"已审批：{record['by']}，{record['at_beijing'][:10]}（北京时间）"
    if record.get("supersedes"):
        stamp += f"；替换运行 {record['supersedes']}（原因：{record['reason']}）"
    return stamp


# ---- reading the runs -----------------------------------------------------------------------


@dataclass(frozen=True)
class ReadRun:
    """A run folder as paying needs it, with the hashes that tie it to the archive."""

    pay: RunPay
    alliance_key: str  # the alliance as the archive keys it (alliance_id or name)
    run_sha256: str
    ledger_sha256: str


def _checked_bytes(run_dir: Path, files: dict[str, Any], relative: str) -> bytes:
    """A file of a run folder, refused unless it is what the run's manifest recorded."""
    try:
        data = (run_dir / relative).read_bytes()
    except OSError:
        data = None
    if data is None or files.get(relative) != sha256(data):
        raise ArchiveError(f"{run_dir / relative} 缺失或与运行的 manifest 不符（运行目录被改动？请用 p4p verify 核查）")
    return data


def _checked_rules(run_dir: Path, files: dict[str, Any]) -> None:
    """Every rules file the manifest lists, as it recorded it, and no other — checked before
    the ruleset is parsed (a changed rules file is the archive's problem, not a ruleset error)."""
    rules = run_dir / "rules"
    present = {f"rules/{p.relative_to(rules).as_posix()}" for p in rules.rglob("*") if p.is_file()}
    for relative in sorted(present | {r for r in files if r.startswith("rules/")}):
        if not stays_inside(relative):
            raise ArchiveError(
                f"{run_dir / MANIFEST} 登记的文件 {relative} 不在运行目录内：manifest 被改动，不能审批（请用 p4p verify 核查）"
            )
        _checked_bytes(run_dir, files, relative)


def _declarations(ruleset: Ruleset, run_dir: Path) -> dict[str, ItemPayment] | None:
    if ruleset.format == 1:
        return None
    try:
        return from_ruleset(ruleset.items)
    except ValueError as e:  # checked when the ruleset loaded; a hand-edited archive copy may still say it
        raise InputError(
            [Problem(f"{run_dir.name}/rules/items.yaml", None, None, None, f"发放声明有误：{e}")]
        ) from None


def read_run(run_dir: Path) -> ReadRun:
    """A run folder as paying needs it, every file it reads checked against the run's manifest."""
    run_dir = run_dir.resolve()
    m = load_manifest(run_dir)
    digest = sha256((run_dir / MANIFEST).read_bytes())
    listed = m.get("files")
    files: dict[str, Any] = listed if isinstance(listed, dict) else {}
    ledger_bytes = _checked_bytes(run_dir, files, "ledger.csv")
    directors = named_directors(read_directors(_checked_bytes(run_dir, files, "trace.jsonl")))
    _checked_rules(run_dir, files)
    ruleset = load_archived_ruleset(run_dir / "rules")
    pay = RunPay(
        run_id=str(m.get("run_id", run_dir.name)),
        period=str(m.get("period", "")),
        alliance=str(m.get("alliance", "")),
        ledger=parse_ledger(ledger_bytes),
        decls=_declarations(ruleset, run_dir),
        directors=directors,
        ruleset_id=ruleset.id,
    )
    return ReadRun(pay, alliance_of(m), digest, sha256(ledger_bytes))


def _original(archive: Path, record: Record) -> RunPay:
    """The approved run a supersede replaces, as its record names it — only if unchanged."""
    path = inside(archive, str(record.get("run_dir") or ""))
    if path is None or not path.is_dir():
        raise ArchiveError(f"{record.period} 现行审批（第{record.seq}条记录）的运行目录 {record.get('run_dir')} 不见了")
    run = read_run(path)
    expected = record.get("run_sha256")
    if (expected and run.run_sha256 != expected) or run.ledger_sha256 != record.get("ledger_sha256"):
        raise ArchiveError(
            f"{path} 与第{record.seq}条审批记录中的运行哈希或台账哈希不符（运行目录被改动？请用 p4p verify 核查）"
        )
    return run.pay


# ---- what is in force -----------------------------------------------------------------------


@dataclass(frozen=True)
class Situation:
    """What a supersede replaces (the record in force), and the approved Q4 it makes stale."""

    archive: Path
    current: Record | None
    stale: tuple[str, ...] = ()


def situation_of(archive: Path, records: list[Record], run: ReadRun, supersede: bool) -> Situation:
    """What is in force after `records` for the run's alliance and period (approval: the whole
    chain; verify: the records before the one it checks)."""
    force = in_force(records)
    period = run.pay.period
    current = force.get((run.alliance_key, period)) if supersede else None
    stale: tuple[str, ...] = ()
    if current is not None and not period.endswith("Q4"):
        q4 = force.get((run.alliance_key, period[:4] + "Q4"))
        if q4 is not None:
            stale = (f"{q4.period} 运行 {q4.run_id}（第{q4.seq}条记录）",)
    return Situation(archive, current, stale)


def _stale_notice(stale: tuple[str, ...]) -> list[str]:
    return [
        f"注意：本年第四季度已审批（{q4}），它的年终清算用的是被更正前的本季度："
        "第四季度须重新运行，并用 --supersede 审批，年终清算的补发或扣回才随之更正"
        for q4 in stale
    ]


def plan_payments(run: RunPay, paying: Paying, template: tuple[BankTemplate, bytes] | None, s: Situation) -> Plan:
    """The approval folder's data files for `run` in situation `s` (approval, and verify again)."""
    original = _original(s.archive, s.current) if s.current is not None else None
    if original is not None and original.run_id == run.run_id:
        original = None  # approving the run in force again: the archive refuses it under the lock
    try:
        return plan_approval(
            run, payees=paying.payees, template=template, original=original, attention=_stale_notice(s.stale)
        )
    except (ReconcileError, Refused) as e:
        raise ArchiveError(str(e)) from None


def bank_template(paying: Paying) -> tuple[BankTemplate, bytes] | None:
    """The bank template and its bytes (copied into the approval folder), when payees are given."""
    if paying.payees is None:
        return None
    path = paying.bank_template or shipped_templates() / DEFAULT_BANK_TEMPLATE
    template = load_template(path)
    return template, path.read_bytes()


# ---- documents ------------------------------------------------------------------------------


def _lists_documents(draft: Draft, plan: Plan, head: str, pdf: bool) -> None:
    from ..report.payment_xlsx import payment_lists_xlsx

    stamp, chain = approval_stamp(draft.fields or {}), f"审批链头 {head}"
    for folder, checked, mark in (("", plan.payable, stamp), (f"{REFERENCE}/", plan.reference, REFERENCE_STAMP)):
        if checked is None:
            continue
        text = plan.document_text(checked)
        draft.add_document(
            f"{folder}payments.xlsx",
            payment_lists_xlsx(checked.lists, chain_head=chain, stamp=mark, reconciliation=text),
        )
        if pdf:
            from ..report.payment_pdf import payment_lists_pdf

            draft.add_document(
                f"{folder}payments.pdf",
                payment_lists_pdf(checked.lists, chain_head=chain, stamp=mark, reconciliation=text),
            )


def _correction_statements(draft: Draft, plan: Plan, head: str, jobs: int | None, s: Situation) -> None:
    from ..report.correction_pdf import CorrectionHead, correction_contexts, render_corrections

    fields = draft.fields or {}
    m = draft.manifest
    info = CorrectionHead(
        alliance=str(m.get("alliance", "")),
        period=str(m["period"]),
        original_run=str(fields.get("supersedes") or ""),
        corrected_run=str(m["run_id"]),
        reason=str(fields.get("reason") or ""),
        stamp=approval_stamp(fields),
        chain_head=f"审批链头 {head}",
        notes=tuple(_stale_notice(s.stale)),
    )
    lists = plan.payable.lists if plan.payable else None
    contexts = correction_contexts(plan.corrections or (), lists, plan.decls, info)
    render_corrections(contexts, draft.path / "corrections", jobs)


def _documents(draft: Draft, plan: Plan, head: str, r: Rendering, s: Situation) -> None:
    _lists_documents(draft, plan, head, r.pdf)
    if not r.pdf:
        return
    from ..report.pdf import render_run

    m = draft.manifest
    stamp = approval_stamp(draft.fields or {})
    render_run(draft.run_dir, m["run_id"], m, r.jobs, r.progress, draft.path, stamp, chain_head=head)
    if plan.corrections is not None:
        _correction_statements(draft, plan, head, r.jobs, s)
