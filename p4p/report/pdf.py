"""Statements (one PDF per institution), their bundles and summary.pdf, rendered from a run
folder's trace.jsonl and summary.json (plus the ruleset copy's item declarations and the
history/ ledgers of the year's earlier quarters) — nothing is recomputed here.

Rendering is parallel (a process pool, one FontConfiguration and cache per worker, as measured
in FINDINGS.md). libharfbuzz-subset0 must be present or CJK subsetting is 10× slower, and the
font "P4P Sans SC" (scripts/subset_fonts.py) keeps a statement with a real bold as fast as one
in WenQuanYi Micro Hei.
"""

from __future__ import annotations

import ctypes.util
import json
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jinja2

from .. import __version__
from ..archive.errors import ArchiveError, os_reason
from ..engine.trace import TraceError, TraceLine, in_folder, read_trace
from ..resources import TEMPLATES
from .bundles import bundle_tasks, copy_named, merge_pdfs
from .display import period_label
from .glyphs import missing_glyph_warnings
from .pool import cores, quiet_pool
from .qr import qr_data_url, verify_text
from .roles import run_items
from .statement import institution, statement_context
from .summary_pdf import summary_context, warnings_of
from .ytd import year_to_date

FONT = "P4P Sans SC"
FIXED_DATE = "2000-01-01T00:00:00Z"


class RenderError(Exception):
    pass


def check_harfbuzz_subset() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def check_font() -> bool:
    """Is the statements' font installed (fontconfig knows the family)?"""
    try:
        out = subprocess.run(
            ["fc-list", f":family={FONT}", "family"], capture_output=True, text=True, timeout=20, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return False
    return FONT in out.stdout


def _warn_environment() -> None:
    if not check_harfbuzz_subset():
        print("警告：未安装 libharfbuzz-subset0，中文字体子集化会非常慢（每页数秒）。"
              "请运行 make setup 或 apt-get install libharfbuzz-subset0。", file=sys.stderr)  # fmt: skip
    if not check_font():
        print(f"警告：未找到字体 {FONT}，结算单改用完整的 Noto Sans CJK SC（较慢）或文泉驿微米黑（无粗体）。"
              "请运行 make setup（scripts/setup-system.sh 会生成该字体）。", file=sys.stderr)  # fmt: skip


def _warn_glyphs(alliance: str, lines: list[TraceLine]) -> None:
    """Names printed on the statements with a character no font has (it would print as a box)."""
    texts = {("医共体名称", alliance)}
    for t in lines:
        texts.add((f"{t.inst_id} 机构名称", t.inst_name))
        if t.director:
            texts.add((f"{t.inst_id} 院长", t.director))
    for message in missing_glyph_warnings(sorted(texts)):
        print(f"警告：{message}", file=sys.stderr)


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


# ---- the statements of a run -------------------------------------------------------------------


class Statements:
    """Everything the statements of one run share, read once; `html(inst_id)` is one statement.
    Built before the worker processes fork, so each worker makes its own statements' HTML."""

    def __init__(self, run_dir: Path, lines: list[TraceLine], summary: dict, head: dict[str, Any]) -> None:
        self.head = head
        self.items = run_items(run_dir)
        self.ytd = year_to_date(run_dir, head["period"])
        self.names = {t.inst_id: t.inst_name for t in lines}
        self.vetoes = _vetoes(summary)
        self.groups: dict[str, list[TraceLine]] = defaultdict(list)
        for t in lines:
            self.groups[t.inst_id].append(t)
        self.template = _env().get_template("statement.html")

    def html(self, inst_id: str) -> str:
        mine = self.groups[inst_id]
        h = self.head
        inst = institution(mine, self.names, self.vetoes)
        qr = qr_data_url(verify_text(h["period"], h["run_id"], h["ledger_sha256"], inst_id, h["chain_head"]))
        return self.template.render(**h, **statement_context(mine, inst, self.items, self.ytd), qr=qr)


def _vetoes(summary: dict) -> dict[str, str]:
    out = {}
    for w in warnings_of(summary):
        if w.get("kind") == "veto" and w.get("inst_id"):
            out[w["inst_id"]] = str(w.get("message", "")).removeprefix("一票否决：")
    return out


# ---- rendering in worker processes ---------------------------------------------------------------

STYLESHEET = "statement.css"
_worker: dict[str, Any] = {}
_job: dict[str, Statements] = {}  # set before the pool forks


def _init_worker() -> None:
    """One font configuration, image cache and parsed stylesheet per process (parsing the
    stylesheet again for every statement was a fifth of its time)."""
    from weasyprint import CSS
    from weasyprint.text.fonts import FontConfiguration
    from weasyprint.urls import URLFetcher

    _worker["fc"] = fc = FontConfiguration()
    # only inline data (the QR code) is read: a document never fetches anything
    _worker["fetcher"] = URLFetcher(allowed_protocols=("data",))
    _worker["cache"] = {}
    _worker["css"] = CSS(string=(TEMPLATES / STYLESHEET).read_text(encoding="utf-8"), font_config=fc)


def write_pdf(html_text: str, out: str) -> None:
    if "fc" not in _worker:
        _init_worker()
    from weasyprint import HTML

    HTML(string=html_text, url_fetcher=_worker["fetcher"], base_url=str(TEMPLATES)).write_pdf(
        out, stylesheets=[_worker["css"]], font_config=_worker["fc"], cache=_worker["cache"]
    )


def _render_one(task: tuple[str, str, Any]) -> str:
    """('statement', out, inst_id) · ('html', out, html text) · ('merge', out, [PDFs to join])."""
    kind, out, arg = task
    if kind == "merge":
        merge_pdfs(arg, out)
    elif kind == "statement":
        write_pdf(_job["statements"].html(arg), out)
    else:
        write_pdf(arg, out)
    return out


def _run_tasks(tasks: list[tuple[str, str, Any]], jobs: int, bar: Callable[[int], Any] | None, done: int) -> int:
    if jobs == 1 or len(tasks) < 4:
        for t in tasks:
            _render_one(t)
            done += 1
            bar and bar(done)
        return done
    with quiet_pool(jobs, _init_worker) as pool:
        for _ in pool.imap_unordered(_render_one, tasks, chunksize=2):
            done += 1
            bar and bar(done)
    return done


# ---- the run's documents -------------------------------------------------------------------------


def _head(run_id: str, manifest: dict, approval: str | None, chain_head: str | None) -> dict[str, Any]:
    return {
        "alliance": manifest["alliance"],
        "period": manifest["period"],
        "period_label": period_label(manifest["period"]),
        "run_id": run_id,
        "ledger_sha256": manifest["ledger_sha256"],
        "ruleset_id": manifest["ruleset"]["id"],
        "ruleset_sha": manifest["ruleset"]["sha256"],
        "version": __version__,
        "approval": approval or "未审批（以归档中的审批记录为准）",
        # the stamp box: approved (red), or any other state a caller prints (superseded, for checking
        # only: grey); a run that is simply not approved yet gets none
        "stamp": approval if approval and not approval.startswith("未审批") else "",
        "stamp_official": bool(approval and approval.startswith("已审批")),
        "chain_head": chain_head or "",
        "created": manifest.get("created") or FIXED_DATE,
        "prior": manifest.get("prior_runs", []),
    }


def render_run(
    run_dir: Path,
    run_id: str,
    manifest: dict,
    jobs: int | None = None,
    progress: bool = False,
    out_dir: Path | None = None,
    approval: str | None = None,
    chain_head: str | None = None,
) -> int:
    """Render statements/<inst_id>.pdf for every institution, summary.pdf, and under bundles/ a
    copy of each statement named with the institution's name and one PDF per township (its centre
    and its villages). Returns the number of statements. At approval, `approval` is the stamp
    (已审批, who, when) and `chain_head` the head N:HASH of the approval chain including this
    approval's record; both are printed."""
    _warn_environment()
    out_dir = out_dir or run_dir
    try:
        with in_folder(run_dir):
            lines = read_trace((run_dir / "trace.jsonl").read_bytes())
    except FileNotFoundError:
        raise TraceError(None, run_dir) from None
    summary = _summary(run_dir)
    head = _head(run_id, manifest, approval, chain_head)
    _job["statements"] = job = Statements(run_dir, lines, summary, head)
    _warn_glyphs(head["alliance"], lines)
    st_dir, bundles = out_dir / "statements", out_dir / "bundles"
    st_dir.mkdir(parents=True, exist_ok=True)
    qr = qr_data_url(verify_text(head["period"], run_id, head["ledger_sha256"], None, head["chain_head"]))
    summary_html = _env().get_template("summary.html").render(**summary_context(run_dir, lines, summary, head), qr=qr)
    # summary.pdf first: the longest document should not be the last one a worker starts
    tasks = [("html", str(out_dir / "summary.pdf"), summary_html)]
    tasks += [("statement", str(st_dir / f"{iid}.pdf"), iid) for iid in sorted(job.groups)]
    merges = bundle_tasks(lines, st_dir, bundles)
    jobs = jobs or cores()
    bar = _progress(len(tasks) + len(merges)) if progress else None
    try:
        done = _run_tasks(tasks, jobs, bar, 0)
        copy_named(lines, st_dir, bundles)
        _run_tasks(merges, jobs, bar, done)
    finally:
        _job.clear()
    return len(job.groups)


def _summary(run_dir: Path) -> dict[str, Any]:
    """The run's summary.json; a missing or damaged one is an edited archive (exit 3), not a crash."""
    p = run_dir / "summary.json"
    try:
        summary = json.loads(p.read_bytes())
    except FileNotFoundError:
        summary = None
    except OSError as e:
        raise ArchiveError(f"无法读取 {p}：{os_reason(e)}") from None
    except ValueError:
        summary = None
    if not isinstance(summary, dict):
        raise TraceError(None, run_dir, "summary.json")
    return summary


def _progress(total: int) -> Callable[[int], Any]:
    """A progress bar on stderr with the time taken and the time still needed (estimated from
    the pace so far); a log file gets one line at the end, not 300 carriage returns."""
    start = time.monotonic()
    if not sys.stderr.isatty():
        return lambda n: n == total and print(f"生成 PDF {n}/{total}，用时 {_clock(time.monotonic() - start)}",
                                              file=sys.stderr)  # fmt: skip

    def show(n: int) -> None:
        w = 30
        fill = int(w * n / total)
        took = time.monotonic() - start
        left = took / n * (total - n) if n else 0.0
        tail = "完成" if n == total else f"预计还需 {_clock(left)}"
        print(f"\r生成 PDF [{'#' * fill}{'.' * (w - fill)}] {n}/{total} 已用 {_clock(took)}，{tail}  ",
              end="\n" if n == total else "", file=sys.stderr, flush=True)  # fmt: skip

    return show


def _clock(seconds: float) -> str:
    s = int(seconds + 0.5)
    return f"{s // 60}分{s % 60:02d}秒" if s >= 60 else f"{s}秒"
