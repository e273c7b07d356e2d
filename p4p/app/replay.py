"""Replay: recompute a run from its own folder and compare; check its files and approvals."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..archive.layout import PERIOD_RE
from ..archive.manifest import alliance_of, as_dict, load_manifest, run_file_findings
from ..archive.verify_approvals import run_approval_findings
from ..engine.ledger import parse_ledger
from ..engine.trace import TraceLine, read_trace, trace_format
from ..model.problems import InputError
from ..ruleset.load import load_ruleset, ruleset_format
from .context import archived_input, context_of_run
from .diff import diff_rows
from .run import ARCHIVE_FORMAT, Computed, compute_run


@dataclass
class Replayed:
    tampered: list[str]  # files, manifest or approval that no longer match
    diffs: list[str]  # recomputed outputs that differ from the archived ones
    approvals: list[str]  # approval records of the run that were checked


def replay(run_dir: Path, workbook: bool = True) -> Replayed:
    """Recompute a run from its own folder (archived inputs, rules and history) and compare;
    check its files against the manifest and, when approved, its run hash against the record.
    `workbook=False` leaves ledger.xlsx out (approval: nothing is paid from the workbook)."""
    rel = f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}"
    m = load_manifest(run_dir)
    tampered = [str(f) for f in run_file_findings(run_dir, rel)]
    found, checked = run_approval_findings(run_dir)
    tampered += [str(f) for f in found]
    shape = _history_shape(m)
    if shape:  # the history a run was computed with cannot even be located: nothing to recompute
        return Replayed(tampered + shape, [], checked)
    v1 = ruleset_format(run_dir / "rules") == 1  # runs archived by p4p 0.2
    try:
        ctx, stale = context_of_run(run_dir, m, load_ruleset(run_dir / "rules", v1=v1))
        tampered += stale
        c = compute_run(
            archived_input(run_dir),
            run_dir / "rules",
            context=ctx,
            v1_rules=v1,
            xlsx=workbook and "ledger.xlsx" in as_dict(m.get("files")),  # the workbook when the run has one
        )
    except InputError as e:
        return Replayed(tampered, [f"归档的输入不能读取：{p.text()}" for p in e.problems], checked)
    return Replayed(tampered, _identity(m, c) + _differences(run_dir, c, m), checked)


def _identity(m: dict, c: Computed) -> list[str]:
    """The manifest's period and alliance against those of the run its inputs give: an approval
    is keyed by them (a Q2 run relabelled 2026Q1 in its manifest was approved as Q1, paying Q2's
    amounts; an alliance_id changed there would approve it for another alliance)."""
    p = c.quarter.period
    given = {  # (what the manifest says, what the inputs give); the key: alliance_id, else the name
        "period": (m.get("period"), p.period),
        "alliance": (m.get("alliance"), p.alliance),
        "alliance_id": (alliance_of(m), p.alliance_id),
    }
    return [
        f"manifest.json 记的 {k} 为 {said}，按归档的输入重算得到的是 {found}（manifest 被改动）"
        for k, (said, found) in given.items()
        if said != found
    ]


def _history_shape(m: dict) -> list[str]:
    """What is wrong with the manifest's record of earlier quarters (prior_runs, previous_run) as
    p4p writes it — each a mapping naming a period YYYYQn, whose copies lie inside the run folder."""

    def names_a_period(p: object) -> bool:
        return isinstance(p, dict) and isinstance(p.get("period"), str) and PERIOD_RE.match(p["period"]) is not None

    out = []
    priors = m.get("prior_runs", [])
    if not isinstance(priors, list) or not all(names_a_period(p) for p in priors):
        out.append(
            "manifest.json 中的 prior_runs 不是 p4p 写的形式（每项应为含期间 YYYYQn 的记录）：manifest 被改动，无法重算"
        )
    previous = m.get("previous_run")
    if previous and not names_a_period(previous):
        out.append(
            "manifest.json 中的 previous_run 不是 p4p 写的形式（应为含期间 YYYYQn 的记录）：manifest 被改动，无法重算"
        )
    return out


def _differences(run_dir: Path, c: Computed, m: dict) -> list[str]:
    def archived(name: str) -> bytes:
        p = run_dir / name
        return p.read_bytes() if p.is_file() else b""

    diffs = []
    if c.files["ledger.csv"] != archived("ledger.csv"):
        diffs = diff_rows(parse_ledger(archived("ledger.csv")), parse_ledger(c.files["ledger.csv"]), "归档", "重算")
        if not diffs:
            diffs = ["ledger.csv 字节不同（内容行相同：格式或编码被改动）"]
    trace = _trace_difference(archived("trace.jsonl"), c.files["trace.jsonl"])
    if trace:
        diffs.append(trace)
    # ledger.xlsx is byte-identical from archive format 2 on (earlier ones carry the time they were
    # made), and compared when it was written in today's layout
    from ..report.xlsx import LAYOUT

    xlsx = c.files.get("ledger.xlsx")
    written = m.get("archive_format", 1)  # an edited manifest may hold anything there
    same_layout = isinstance(written, int) and written >= ARCHIVE_FORMAT and m.get("ledger_xlsx_layout") == LAYOUT
    if same_layout and xlsx is not None and xlsx != archived("ledger.xlsx"):
        diffs.append("ledger.xlsx 与重算结果不同")
    return diffs


def _trace_difference(archived: bytes, recomputed: bytes) -> str | None:
    """trace.jsonl is compared byte for byte when written in today's format; a trace of an older
    format (p4p 0.2) is compared line by line on what it states: amount, quantity, rule."""
    if archived == recomputed:
        return None
    try:
        old = read_trace(archived)
    except (ValueError, KeyError, TypeError):
        return "trace.jsonl 不能读取"
    if trace_format(archived) == trace_format(recomputed):
        return "trace.jsonl 与重算结果不同"
    if sorted(_trace_key(t) for t in old) != sorted(_trace_key(t) for t in read_trace(recomputed)):
        return "trace.jsonl（旧格式）中的金额、数量或规则与重算结果不同"
    return None


def _trace_key(t: TraceLine) -> tuple:
    rule = t.rule.get("id") if isinstance(t.rule, dict) else t.rule
    return (t.inst_id, t.item, t.amount, t.quantity, rule)
