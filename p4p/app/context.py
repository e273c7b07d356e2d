"""What a run takes from the archive besides its inputs, and where it keeps its own copy:

- the approved earlier quarters of the year (`history/<period>.ledger.csv`): a Q4 settles
  against them (all three required), and every quarter's statements show the year to date;
- the previous approved quarter (`previous/<period>/inputs/…` and `ledger.csv`): the
  ruleset's plausibility checks compare with it (`prior_*` names) — Q(n−1), or last year's Q4
  for a Q1;
- warnings when this quarter's budget or alliance differ from the year's approved quarters.

A run folder holds copies of all of it, so `replay` needs nothing outside the folder.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from ..archive.digest import sha256
from ..archive.errors import ArchiveError, MissingHistory
from ..archive.history import namesakes, prior_quarters
from ..archive.manifest import load_manifest
from ..engine.checks import PriorQuarter
from ..engine.ledger import history_lines
from ..model.facts import Period, Quarter
from ..model.problems import InputError
from ..read.load import load_quarter
from ..read.yearcheck import year_warnings
from ..ruleset.model import Ruleset

PREVIOUS_KEYS = ("period", "run_id", "run_sha256", "ledger_sha256", "approval_seq", "approval_sha256")


@dataclass
class Context:
    prior: list[dict[str, Any]] = field(default_factory=list)  # approved earlier quarters of the year
    previous: PriorQuarter | None = None
    previous_files: dict[str, bytes] = field(default_factory=dict)  # run-folder path → bytes
    previous_record: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)

    def files(self) -> dict[str, bytes]:
        out = {f"history/{p['period']}.ledger.csv": p["bytes"] for p in self.prior}
        out.update(self.previous_files)
        return out


def archived_input(run_dir: Path) -> Path:
    """The input a run was computed from, as copied into its folder (a workbook or CSV files)."""
    inputs = run_dir / "inputs"
    books = sorted(inputs.glob("*.xlsx")) + sorted(inputs.glob("*.xlsm"))
    return books[0] if books else inputs


def archive_context(archive: Path | None, q: Quarter, ruleset: Ruleset) -> Context:
    """The context of a new run, from the archive's approvals."""
    if archive is None:
        return Context()
    p = q.period
    key = p.alliance_id or p.alliance
    try:
        prior = prior_quarters(archive, p.year, p.quarter, key, required=p.quarter == 4)
        if p.quarter > 1:
            before = [x for x in prior if x["period"] == f"{p.year}Q{p.quarter - 1}"]
        else:
            before = prior_quarters(archive, p.year, 1, key, required=False, extra=(f"{p.year - 1}Q4",))
    except ArchiveError as e:
        if p.quarter == 4 or isinstance(e, MissingHistory):
            raise  # a Q4 settles against the approved quarters: it cannot go on without them
        return Context(notes=[f"未取用本年度已审批的季度（年初至今、与上季度比较的提示）：{e}"])
    ctx = Context(prior)
    others = namesakes(archive, p.alliance, key, p.year)
    if others:
        ctx.notes.append(
            f"归档中有同名医共体“{p.alliance}”以其他编码审批的季度：{'、'.join(others)}；本次的编码为 {key}，"
            "未取用它们（年初至今、与上季度比较）。若是同一医共体，period.yaml 中的 alliance_id 应与它们一致"
        )
    if before:
        _previous(ctx, before[0], ruleset)
    ctx.notes += year_warnings(p, [x for x in (_period_of(r["run_dir"], ruleset) for r in prior) if x])
    return ctx


def _previous(ctx: Context, approved: dict[str, Any], ruleset: Ruleset) -> None:
    run_dir: Path = approved["run_dir"]
    src = archived_input(run_dir)
    files = {f.name: f.read_bytes() for f in sorted((run_dir / "inputs").iterdir()) if f.is_file()}
    try:
        q = load_quarter(src, lambda per: ruleset.service_items(per.first_day))
    except InputError:
        ctx.notes.append(f"上一已审批季度 {approved['period']} 的输入按现行规则不能读取，与上季度比较的提示未检查")
        return
    base = f"previous/{approved['period']}"
    ctx.previous = PriorQuarter(approved["period"], q, history_lines(approved["bytes"]))
    ctx.previous_files = {f"{base}/inputs/{n}": d for n, d in files.items()}
    ctx.previous_files[f"{base}/ledger.csv"] = approved["bytes"]
    ctx.previous_record = {k: approved[k] for k in PREVIOUS_KEYS if k in approved}


def _period_of(run_dir: Path, ruleset: Ruleset) -> Period | None:
    """The period values an approved run was computed with: from its manifest (p4p 0.3 on), else
    read again from its archived inputs."""
    values = load_manifest(run_dir).get("period_values")
    if isinstance(values, dict):
        per = str(values["period"])
        money = {k: Decimal(values[k]) for k in ("ph_annual_budget", "mi_budget", "mi_spent") if values.get(k)}
        return Period(per, int(per[:4]), int(per[-1]), str(values["alliance"]),
                      alliance_id=str(values.get("alliance_id", "")), **money)  # fmt: skip
    try:
        return load_quarter(archived_input(run_dir), lambda per: ruleset.service_items(per.first_day)).period
    except (InputError, OSError):
        return None


def context_of_run(run_dir: Path, m: dict[str, Any], ruleset: Ruleset) -> tuple[Context, list[str]]:
    """The context a run was computed with, from its own folder (for replay), and the copies
    that no longer match its manifest."""
    tampered: list[str] = []
    ctx = Context()
    for p in m.get("prior_runs", []):
        copy = run_dir / "history" / f"{p['period']}.ledger.csv"
        data = copy.read_bytes() if copy.is_file() else b""
        if sha256(data) != p.get("ledger_sha256"):
            tampered.append(f"history/{copy.name} 缺失或与 manifest 中前期运行的 SHA-256 不符")
        ctx.prior.append({**p, "bytes": data})
    prev = m.get("previous_run")
    if prev:
        base = run_dir / "previous" / prev["period"]
        data = (base / "ledger.csv").read_bytes() if (base / "ledger.csv").is_file() else b""
        if sha256(data) != prev.get("ledger_sha256"):
            tampered.append(f"previous/{prev['period']}/ledger.csv 缺失或与 manifest 不符")
        try:
            q = load_quarter(archived_input(base), lambda per: ruleset.service_items(per.first_day))
            ctx.previous = PriorQuarter(prev["period"], q, history_lines(data))
        except (InputError, OSError):
            tampered.append(f"previous/{prev['period']}/inputs 不能读取")
    return ctx, tampered
