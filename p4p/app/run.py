"""A run: read inputs, rules and the archive's context; compute; assemble the run folder;
write it atomically (stage → files → PDFs → seal → rename)."""

from __future__ import annotations

import gc
import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .. import __version__
from ..archive.clock import utc_now
from ..archive.digest import sha256
from ..archive.history import history_from
from ..archive.runfolder import staged_run
from ..engine.compute import Engine
from ..engine.ledger import ledger_csv, ledger_rows
from ..engine.result import ComputeError, Result
from ..engine.summary import build_summary, summary_text
from ..engine.trace import trace_jsonl
from ..model.facts import Quarter
from ..read.load import load_quarter
from ..resources import REFERENCE_RULES
from ..ruleset.load import load_ruleset
from ..ruleset.model import Ruleset
from .context import Context, archive_context

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
    context: Context
    files: dict[str, bytes]  # run-folder relative path → bytes (without manifest/PDFs)
    summary: dict


def compute_run(
    input_path: Path,
    rules_dir: Path,
    archive: Path | None = None,
    context: Context | None = None,
    *,
    v1_rules: bool = False,
    xlsx: bool | None = None,
    strict: bool = False,
    ruleset: Ruleset | None = None,
) -> Computed:
    """Validate and compute. The context (approved earlier quarters, the previous quarter) comes
    from the archive's approvals for a new run, or is given (replay). `ruleset`: the ruleset of
    `rules_dir` already loaded (a batch worker loads it once for all its alliances)."""
    with _no_cycle_collection():
        return _compute_run(
            input_path, rules_dir, archive, context, v1_rules=v1_rules, xlsx=xlsx, strict=strict, ruleset=ruleset
        )


@contextmanager
def _no_cycle_collection() -> Iterator[None]:
    """A run allocates millions of short-lived objects without reference cycles; Python's cycle
    collector would walk them again and again (a quarter of the CPU of a province run,
    measured). Memory is freed by reference counting as always; collection resumes after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def _compute_run(
    input_path: Path,
    rules_dir: Path,
    archive: Path | None,
    context: Context | None,
    *,
    v1_rules: bool,
    xlsx: bool | None,
    strict: bool,
    ruleset: Ruleset | None,
) -> Computed:
    ruleset = ruleset if ruleset is not None else load_ruleset(rules_dir, v1=v1_rules)
    q = load_quarter(input_path, lambda p: ruleset.service_items(p.first_day))
    ctx = context if context is not None else archive_context(archive, q, ruleset)
    result = Engine(ruleset).compute(q, history_from(ctx.prior), ctx.previous)
    notes = [{"kind": "input", "message": w} for w in [*q.warnings, *ctx.notes]]
    rows = ledger_rows(result)
    with_xlsx = len(rows) <= XLSX_MAX_LINES if xlsx is None else xlsx
    if not with_xlsx:
        notes.append({"kind": "note", "message": f"未生成 ledger.xlsx：台账 {len(rows):,} 行"
                      + (f"，超过 {XLSX_MAX_LINES:,} 行（需要时加 --xlsx）" if xlsx is None else "（--no-xlsx）")})  # fmt: skip
    summary = build_summary(result, notes)
    if strict:
        _refuse_implausible(summary)
    background = with_xlsx and len(rows) > XLSX_IN_BACKGROUND and may_fork()
    pending = _in_background(_ledger_xlsx, rows, summary, ruleset.items) if background else None
    head = {"ruleset": {"id": ruleset.id, "sha256": ruleset.sha256}, "engine_version": __version__}
    files = {
        "ledger.csv": ledger_csv(rows),
        "trace.jsonl": trace_jsonl(result, head),
        "summary.json": (json.dumps(summary, ensure_ascii=False, indent=2, sort_keys=True) + "\n").encode(),
        "summary.txt": summary_text(summary).encode("utf-8"),
    }
    for name, data in q.files.items():
        files[f"inputs/{name}"] = data
    for name, data in ruleset.files.items():
        files[f"rules/{name}"] = data
    files.update(ctx.files())
    if with_xlsx:
        files["ledger.xlsx"] = pending() if pending else _ledger_xlsx(rows, summary, ruleset.items)
    return Computed(q, ruleset, result, ctx, files, summary)


def _refuse_implausible(summary: dict) -> None:
    """--strict: the ruleset's plausibility warnings stop the run (exit 2, nothing written)."""
    from ..engine.summary import warning_text

    found = [w for w in summary["warnings"] if w.get("kind") == "check"]
    if found:
        listed = "\n".join(f"  - {warning_text(w)}" for w in found)
        raise ComputeError(f"--strict：有 {len(found)} 条需要核实的数据，未写入任何文件：\n{listed}")


def _ledger_xlsx(rows: list[list[str]], summary: dict, items: dict) -> bytes:
    from ..report.xlsx import ledger_xlsx

    return ledger_xlsx(rows, summary, items or None)  # items: what each item is to the institution


def may_fork() -> bool:
    """Whether this process may fork a helper child: it runs no other Python thread (a fork
    copies a lock another thread holds, and the child could wait on it for ever) and is not
    daemonic (a daemonic process may not have children). A Dask worker is neither, so it
    writes ledger.xlsx itself — there the workers are the parallelism."""
    import multiprocessing as mp
    import threading

    return threading.active_count() == 1 and not mp.current_process().daemon


def _in_background(fn: Callable[..., bytes], *args: object) -> Callable[[], bytes]:
    """Run fn(*args) in a forked child (it inherits the arguments, nothing is pickled but the
    result) while this process goes on; returns a function that waits for the result.
    Used to write a large ledger.xlsx on the second core while the trace is serialised."""
    import multiprocessing as mp

    ctx = mp.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)

    def child() -> None:
        import signal

        signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle (已中止。)
        try:
            send.send((True, fn(*args)))
        except BaseException as e:  # the parent raises it
            send.send((False, f"{type(e).__name__}: {e}"))

    proc = ctx.Process(target=child, daemon=True)
    proc.start()
    send.close()

    def wait() -> bytes:
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
            for p in c.context.prior
        ],
        "period_values": _period_values(q),
    }
    if "ledger.xlsx" in c.files:
        from ..report.xlsx import LAYOUT

        manifest["ledger_xlsx_layout"] = LAYOUT
    if q.period.alliance_id:
        manifest["alliance_id"] = q.period.alliance_id
    if c.context.previous_record:
        manifest["previous_run"] = c.context.previous_record  # the quarter the plausibility checks compared with
    if c.context.prior and "chain_seen" in c.context.prior[0]:
        manifest["chain_seen"] = c.context.prior[0]["chain_seen"]  # the approvals this run was computed against
    return manifest


def _period_values(q: Quarter) -> dict[str, Any]:
    """The period's values as given (period.yaml / the period sheet), for the year's checks."""
    p = q.period
    out: dict[str, Any] = {"period": p.period, "alliance": p.alliance, "alliance_id": p.alliance_id}
    for k in ("ph_annual_budget", "mi_budget", "mi_spent", "alliance_score"):
        v = getattr(p, k, None)
        if v is not None:
            out[k] = str(v)
    return out


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
