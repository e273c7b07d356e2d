"""The imperative shell around `Engine.compute`: read inputs, rules and history; compute;
assemble the run folder; write it atomically. Also replay and diff, which reuse the same path."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .archive.approval import Approved, begin_approval
from .archive.clock import utc_now
from .archive.digest import sha256
from .archive.history import history_from, prior_quarters
from .archive.keys import ArchiveKey
from .archive.manifest import load_manifest, run_file_findings
from .archive.runfolder import staged_run
from .archive.verify_approvals import run_approval_findings
from .engine.checks import PriorQuarter
from .engine.compute import Engine
from .engine.ledger import ledger_csv, ledger_rows, parse_ledger
from .engine.result import ComputeError, Result
from .engine.summary import build_summary, summary_text
from .engine.trace import TraceLine, read_trace, trace_jsonl
from .model.facts import Quarter
from .model.problems import InputError
from .read.load import load_quarter
from .resources import REFERENCE_RULES
from .ruleset.load import load_ruleset, ruleset_format
from .ruleset.model import Ruleset

DEFAULT_RULES = REFERENCE_RULES
XLSX_IN_BACKGROUND = 5000  # ledger lines above which ledger.xlsx is written on the second core
# Above this many ledger lines ledger.xlsx is left out unless asked for (--xlsx): a province
# ledger is read through ledger.csv (it opens in Excel too), and XlsxWriter needs ~2 s of CPU
# per 40,000 lines (see README "Figures").
XLSX_MAX_LINES = 20_000


@dataclass
class Computed:
    quarter: Quarter
    ruleset: Ruleset
    result: Result
    prior: list[dict]
    files: dict[str, bytes]  # run-folder relative path → bytes (without manifest/PDFs)
    summary: dict


def compute_run(
    input_path: Path,
    rules_dir: Path,
    archive: Path | None = None,
    prior: list[dict] | None = None,
    *,
    v1_rules: bool = False,
    previous: PriorQuarter | None = None,
    xlsx: bool | None = None,
    strict: bool = False,
) -> Computed:
    """Validate and compute. `prior` (replay) or the archive's approvals (run) give Q4 history;
    `previous` is the previous approved quarter for the ruleset's plausibility checks."""
    ruleset = load_ruleset(rules_dir, v1=v1_rules)
    q = load_quarter(input_path, lambda p: ruleset.service_items(p.first_day))
    if prior is None:
        prior = (
            prior_quarters(archive, q.period.year, q.period.quarter, q.period.alliance) if q.period.quarter == 4 else []
        )
    result = Engine(ruleset).compute(q, history_from(prior), previous)
    notes = [{"kind": "input", "message": w} for w in getattr(q, "warnings", [])]
    rows = ledger_rows(result)
    with_xlsx = len(rows) <= XLSX_MAX_LINES if xlsx is None else xlsx
    if not with_xlsx:
        notes.append({"kind": "note", "message": f"未生成 ledger.xlsx：台账 {len(rows):,} 行"
                      + (f"，超过 {XLSX_MAX_LINES:,} 行（需要时加 --xlsx）" if xlsx is None else "（--no-xlsx）")})  # fmt: skip
    summary = build_summary(result, notes)
    if strict:
        _refuse_implausible(summary)
    background = with_xlsx and len(rows) > XLSX_IN_BACKGROUND
    pending = _in_background(_ledger_xlsx, rows, summary) if background else None
    head = {"ruleset": {"id": ruleset.id, "sha256": ruleset.sha256}, "engine_version": __version__}
    files = {
        "ledger.csv": ledger_csv(result),
        "trace.jsonl": trace_jsonl(result, head),
        "summary.json": (json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
        "summary.txt": summary_text(summary).encode("utf-8"),
    }
    for name, data in q.files.items():
        files[f"inputs/{name}"] = data
    for name, data in ruleset.files.items():
        files[f"rules/{name}"] = data
    for p in prior:
        files[f"history/{p['period']}.ledger.csv"] = p["bytes"]
    if with_xlsx:
        files["ledger.xlsx"] = pending() if pending else _ledger_xlsx(rows, summary)
    return Computed(q, ruleset, result, prior, files, summary)


def _refuse_implausible(summary: dict) -> None:
    """--strict: the ruleset's plausibility warnings stop the run (exit 2, nothing written)."""
    from .engine.summary import warning_text

    found = [w for w in summary["warnings"] if w.get("kind") == "check"]
    if found:
        listed = "\n".join(f"  - {warning_text(w)}" for w in found)
        raise ComputeError(f"--strict：有 {len(found)} 条需要核实的数据，未写入任何文件：\n{listed}")


def _ledger_xlsx(rows: list[list[str]], summary: dict) -> bytes:
    from .report.xlsx import ledger_xlsx

    return ledger_xlsx(rows, summary)


def _in_background(fn, *args):
    """Run fn(*args) in a forked child (it inherits the arguments, nothing is pickled but the
    result) while this process goes on; returns a function that waits for the result.
    Used to write a large ledger.xlsx on the second core while the trace is serialised."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child():
        try:
            send.send((True, fn(*args)))
        except BaseException as e:  # the parent raises it
            send.send((False, f"{type(e).__name__}: {e}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()

    def wait():
        try:
            ok, value = recv.recv()
        except EOFError:
            ok, value = False, "后台进程意外退出"
        proc.join()
        if not ok:
            raise RuntimeError(f"生成 ledger.xlsx 失败：{value}")
        return value

    return wait


def new_run_id(ledger: bytes) -> str:
    import datetime as dt

    now = dt.datetime.now(dt.timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{sha256(ledger)[:8]}"


ARCHIVE_FORMAT = 2  # run folders whose ledger.xlsx is deterministic, with run hashes of prior runs


def run_manifest(c: Computed, run_id: str) -> dict:
    """Everything about the run that is not a file (the file hashes are added when sealed)."""
    q = c.quarter
    manifest = {
        "archive_format": ARCHIVE_FORMAT,
        "run_id": run_id,
        "period": q.period.period,
        "alliance": q.period.alliance,
        "created": utc_now(),
        "engine_version": __version__,
        "ruleset": {
            "id": c.ruleset.id,
            "title": c.ruleset.title,
            "sha256": c.ruleset.sha256,
            "files": {n: sha256(d) for n, d in sorted(c.ruleset.files.items())},
        },
        "inputs": {n: sha256(d) for n, d in sorted(q.files.items())},
        "ledger_sha256": sha256(c.files["ledger.csv"]),
        "prior_runs": [
            {k: p[k] for k in PRIOR_KEYS if k in p}  # run hash and approval record of each prior quarter
            for p in c.prior
        ],
    }
    if c.prior and "chain_seen" in c.prior[0]:
        manifest["chain_seen"] = c.prior[0]["chain_seen"]  # the approvals this run was computed against
    return manifest


PRIOR_KEYS = (
    "period",
    "run_id",
    "ledger_sha256",
    "run_sha256",
    "approved_by",
    "approved_at",
    "approval_seq",
    "approval_sha256",
)


def write(c: Computed, archive: Path, render: Callable[[Path, str, dict], object] | None = None) -> Path:
    """Stage the run folder inside the archive, write its files, let `render(folder, run_id,
    manifest)` add PDFs, seal it with its manifest and rename it into place. Ctrl-C or a failure
    removes only the staged folder."""
    run_id = new_run_id(c.files["ledger.csv"])
    manifest = run_manifest(c, run_id)
    with staged_run(archive, c.quarter.period.period, run_id) as st:
        st.write_all(c.files)
        if render is not None:
            render(st.path, run_id, manifest)
        return st.seal(manifest)


def approve(
    run_dir: Path,
    by: str,
    supersede: bool = False,
    reason: str | None = None,
    key: ArchiveKey | None = None,
    pdf: bool = True,
    jobs: int | None = None,
    progress: bool = False,
) -> Approved:
    """Approve a run (SPEC §8, §9): under the archive lock, one chained record and one approval
    folder holding the documents stamped 已审批 with the chain head that includes the record."""
    with begin_approval(run_dir, by, supersede=supersede, reason=reason, key=key) as draft:
        # Data files of the approval (payment lists, payees) are added here, before the record
        # that holds their hashes: draft.add_data("payments.csv", data).
        head = draft.make_record()
        if pdf:
            from .report.pdf import render_run

            m = draft.manifest
            stamp = approval_stamp(draft.fields or {})
            render_run(draft.run_dir, m["run_id"], m, jobs, progress, draft.path, stamp, chain_head=head)
        draft.commit()
    assert draft.result is not None
    return draft.result


def approval_stamp(record: dict) -> str:
    """What a document made at approval says about it: 已审批, who, the Beijing date."""
    stamp = f"已审批：{record['by']}，{record['at_beijing'][:10]}（北京时间）"
    if record.get("supersedes"):
        stamp += f"；替换运行 {record['supersedes']}（原因：{record['reason']}）"
    return stamp


def archived_input(run_dir: Path) -> Path:
    inputs = run_dir / "inputs"
    books = sorted(inputs.glob("*.xlsx"))
    return books[0] if books else inputs


@dataclass
class Replayed:
    tampered: list[str]  # files, manifest or approval that no longer match
    diffs: list[str]  # recomputed outputs that differ from the archived ones
    approvals: list[str]  # approval records of the run that were checked


def replay(run_dir: Path) -> Replayed:
    """Recompute a run from its own folder (archived inputs, rules and history) and compare;
    check its files against the manifest and, when approved, its run hash against the record."""
    rel = f"{run_dir.resolve().parent.name}/{run_dir.resolve().name}"
    m = load_manifest(run_dir)
    tampered = [str(f) for f in run_file_findings(run_dir, rel)]
    found, checked = run_approval_findings(run_dir)
    tampered += [str(f) for f in found]
    prior = []
    for p in m.get("prior_runs", []):
        copy = run_dir / "history" / f"{p['period']}.ledger.csv"
        if not copy.is_file():
            return Replayed(tampered, [f"缺少前期台账副本 history/{copy.name}，无法重算"], checked)
        data = copy.read_bytes()
        if sha256(data) != p["ledger_sha256"]:
            tampered.append(f"history/{copy.name} 与 manifest 中前期运行的 SHA-256 不符")
        prior.append({**p, "bytes": data})
    try:
        c = compute_run(
            archived_input(run_dir),
            run_dir / "rules",
            prior=prior,
            v1_rules=ruleset_format(run_dir / "rules") == 1,  # runs archived by p4p 0.2
            xlsx="ledger.xlsx" in m.get("files", {}),  # recompute the workbook when the run has one
        )
    except InputError as e:
        return Replayed(tampered, [f"归档的输入不能读取：{p.text()}" for p in e.problems], checked)
    return Replayed(tampered, _differences(run_dir, c, m), checked)


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
    # ledger.xlsx is byte-identical from archive format 2 on (earlier ones carry the time they were made)
    xlsx = c.files.get("ledger.xlsx")
    if m.get("archive_format", 1) >= ARCHIVE_FORMAT and xlsx is not None and xlsx != archived("ledger.xlsx"):
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
    if _trace_format(archived) == _trace_format(recomputed):
        return "trace.jsonl 与重算结果不同"
    if [_trace_key(t) for t in old] != [_trace_key(t) for t in read_trace(recomputed)]:
        return "trace.jsonl（旧格式）中的金额、数量或规则与重算结果不同"
    return None


def _trace_format(data: bytes) -> int:
    """2 when the trace opens with its run record (p4p 0.3 on), else 1."""
    first = data.split(b"\n", 1)[0]
    return 2 if first.strip() and json.loads(first).get("type") == "run" else 1


def _trace_key(t: TraceLine) -> tuple:
    rule = t.rule.get("id") if isinstance(t.rule, dict) else t.rule
    return (t.inst_id, t.item, t.amount, t.quantity, rule)


def diff_rows(a: list[dict], b: list[dict], la="A", lb="B") -> list[str]:
    ka = {(r["inst_id"], r["item"]): r for r in a}
    kb = {(r["inst_id"], r["item"]): r for r in b}
    out = []
    for key in sorted(set(ka) | set(kb)):
        ra, rb = ka.get(key), kb.get(key)
        name = (ra or rb)["inst_name"]
        if ra is None:
            out.append(f"{key[0]} {name} {key[1]}：{la} 无此行，{lb} {rb['amount']}")
        elif rb is None:
            out.append(f"{key[0]} {name} {key[1]}：{la} {ra['amount']}，{lb} 无此行")
        elif ra["amount"] != rb["amount"] or ra["quantity"] != rb["quantity"]:
            out.append(
                f"{key[0]} {name} {key[1]}：{la} {ra['amount']}（数量 {ra['quantity']}），"
                f"{lb} {rb['amount']}（数量 {rb['quantity']}）"
            )
    return out
