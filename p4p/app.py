"""The imperative shell around `Engine.compute`: read inputs, rules and history; compute;
assemble the run folder; write it atomically. Also replay and diff, which reuse the same path."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

from . import __version__
from .archive.store import history_from, load_manifest, prior_quarters, sha256, utc_now, verify_files, write_run
from .engine.checks import PriorQuarter
from .engine.compute import Engine
from .engine.ledger import ledger_csv, ledger_rows, parse_ledger
from .engine.result import ComputeError, Result
from .engine.summary import build_summary, summary_text
from .engine.trace import trace_jsonl
from .model.facts import Quarter
from .read.load import load_quarter
from .resources import REFERENCE_RULES
from .ruleset.load import load_ruleset
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


def write(c: Computed, archive: Path, render=None) -> Path:
    q = c.quarter
    ledger = c.files["ledger.csv"]
    run_id = new_run_id(ledger)
    manifest = {
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
        "ledger_sha256": sha256(ledger),
        "prior_runs": [
            {
                "period": p["period"],
                "run_id": p["run_id"],
                "ledger_sha256": p["ledger_sha256"],
                "approved_by": p["approved_by"],
                "approved_at": p["approved_at"],
            }
            for p in c.prior
        ],
    }
    hook = (lambda tmp: render(tmp, run_id, manifest)) if render else None
    return write_run(archive, q.period.period, run_id, c.files, manifest, hook)


def archived_input(run_dir: Path) -> Path:
    inputs = run_dir / "inputs"
    books = sorted(inputs.glob("*.xlsx"))
    return books[0] if books else inputs


def replay(run_dir: Path) -> tuple[list[str], list[str]]:
    """Recompute a run from its own folder. Returns (tampered files, ledger differences)."""
    tampered = verify_files(run_dir)
    m = load_manifest(run_dir)
    prior = []
    for p in m.get("prior_runs", []):
        data = (run_dir / "history" / f"{p['period']}.ledger.csv").read_bytes()
        if sha256(data) != p["ledger_sha256"]:
            tampered.append(f"history/{p['period']}.ledger.csv 与 manifest 中前期运行的 SHA-256 不符")
        prior.append({**p, "bytes": data})
    c = compute_run(archived_input(run_dir), run_dir / "rules", prior=prior)
    diffs = []
    if c.files["ledger.csv"] != (run_dir / "ledger.csv").read_bytes():
        diffs = diff_rows(
            parse_ledger((run_dir / "ledger.csv").read_bytes()), parse_ledger(c.files["ledger.csv"]), "归档", "重算"
        )
        if not diffs:
            diffs = ["ledger.csv 字节不同（内容行相同：格式或编码被改动）"]
    if c.files["trace.jsonl"] != (run_dir / "trace.jsonl").read_bytes():
        diffs.append("trace.jsonl 与重算结果不同")
    return tampered, diffs


def _rows(data: bytes) -> list[dict]:
    import csv
    import io

    return list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))


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
