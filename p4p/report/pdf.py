"""Statements (one PDF per institution) and summary.pdf, rendered from a run folder's
trace.jsonl and summary.json only — nothing is recomputed here.

Rendering is parallel (a process pool, one FontConfiguration and cache per worker, as
measured in FINDINGS.md). libharfbuzz-subset0 must be present or CJK subsetting is 10× slower.
"""

from __future__ import annotations

import ctypes.util
import html
import json
import multiprocessing as mp
import os
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path

import jinja2

from .. import __version__
from ..engine.trace import TraceLine, read_trace
from ..model.fields import KINDS, LEVEL_NAMES
from ..model.money import capitals, group_thousands
from ..read.yamlio import load_yaml
from ..resources import TEMPLATES

QUARTER_NAMES = {1: "第一季度", 2: "第二季度", 3: "第三季度", 4: "第四季度"}


class RenderError(Exception):
    pass


def check_harfbuzz_subset() -> bool:
    return ctypes.util.find_library("harfbuzz-subset") is not None


def _env() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATES)), autoescape=True, undefined=jinja2.StrictUndefined
    )


def period_label(period: str) -> str:
    return f"{period[:4]}年{QUARTER_NAMES[int(period[-1])]}"


def _money(a: str) -> str:
    """An amount for people: 2 decimals and thousands separators (values the trace keeps
    as exact numbers, like a cap of 15000, are shown as 15,000.00)."""
    try:
        d = Decimal(a)
    except Exception:
        return a
    return group_thousands(f"{d:.2f}") if d == d.quantize(Decimal("0.01")) else _approx(a)


def _approx(s: str) -> str:
    """Long exact fractions are shown to 6 places for people; the trace keeps every digit."""
    if "." in s and len(s.split(".")[1]) > 6:
        return f"≈{Decimal(s):.6f}"
    return s


def _as_dict(t: TraceLine) -> dict:
    """A trace line in the shape the statement template reads (both trace formats)."""
    values = {k: v for k, v in t.values.items() if not isinstance(v, dict)}
    detail = {k: v for k, v in t.values.items() if isinstance(v, dict)}
    return {"inst_id": t.inst_id, "inst_name": t.inst_name, "kind": t.kind, "parent_id": t.parent_id,
            "director": t.director, "item": t.item, "item_name": t.item_name, "amount": t.amount,
            "explain": t.statement_text(), "rule": t.rule, "values": values, "detail": detail}  # fmt: skip


def statement_context(traces: list[dict], head: dict, service_names: dict[str, str]) -> dict:
    t0 = traces[0]
    lines, total = [], Decimal("0.00")
    for t in traces:
        a = Decimal(t["amount"])
        total += a
        lines.append(
            {
                "item": t["item"],
                "item_name": t["item_name"],
                "amount_fmt": _money(t["amount"]),
                "negative": a < 0,
                "capitals": capitals(a),
                "explain": t["explain"],
                "rule_id": t["rule"]["id"],
                "rule_title": t["rule"]["title"],
                "cite": "；".join(c["text"] for c in t["rule"]["cite"]),
            }
        )
    by_item = {t["item"]: t for t in traces}
    ctx = dict(head)
    ctx.update(
        inst={"inst_id": t0["inst_id"], "name": t0["inst_name"], "kind_name": KINDS.get(t0["kind"], t0["kind"])},
        lines=lines,
        total_fmt=_money(f"{total:.2f}"),
        total_negative=total < 0,
        total_capitals=capitals(total),
        village=None,
        points=None,
        settlement=None,
        director_line=None,
        director_name=t0.get("director") or "",
        surplus=None,
    )
    d = by_item.get("DIRECTOR_BONUS")
    if d:
        dv = d["values"]
        ctx["director_line"] = {
            "item_name": d["item_name"],
            "per_capita": _approx(dv.get("per_capita_quarter", "")),
            "m": dv.get("m", ""),
            "score": dv.get("score", ""),
            "cap": _money(dv.get("director_bonus_cap", "0.00")),
            "amount": _money(d["amount"]),
        }
    v = by_item.get("VILLAGE_TOPUP")
    if v:
        vals = v["values"]
        g = lambda k: _money(vals.get(k, "0"))
        ctx["village"] = {
            "guarantee_quarter": g("guarantee_quarter"),
            "income": g("income"),
            "shortfall": g("shortfall"),
            "income_rows": [
                (n, g(k))
                for k, n in (
                    ("drug_subsidy", "基本药物补助"),
                    ("service_fee", "一般诊疗费"),
                    ("operating_subsidy", "运行经费补助"),
                    ("medical_income", "其他医疗收入"),
                    ("PH_FUND", "基本公卫经费（本季度）"),
                    ("MI_SURPLUS", "医保结余留用"),
                )
            ],
            "score": vals.get("score", ""),
            "k": vals.get("k", ""),
            "visits": vals.get("visits", ""),
            "target": vals.get("workload_target", ""),
            "ratio": _approx(vals.get("workload_ratio", "")),
            "topup": _money(v["amount"]),
        }
    mi = by_item.get("MI_SURPLUS")
    if mi:
        mv = mi["values"]
        ctx["surplus"] = {
            "surplus": _money(mv.get("surplus", "0")),
            "k": mv.get("alliance_k", ""),
            "retained": _money(mv.get("total", "0")),
            "level_name": mv.get("level_name", ""),
            "level_total": _money(mv.get("level_total", "0")),
            "ratio": mv.get("level_ratio_text", ""),
            "weight": _approx(mv.get("weight", "")),
            "weight_sum": _approx(mv.get("weight_sum", "")),
            "amount": _money(mi["amount"]),
        }
    ph = by_item.get("PH_FUND")
    if ph:
        vals, det = ph["values"], ph.get("detail", {})
        counts, pts = det.get("workpoints", {}), det.get("ph_points", {})
        rows = [
            {
                "code": k,
                "name": service_names.get(k, k),
                "count": c,
                "points": pts.get(k, ""),
                "total": str(Decimal(c) * Decimal(pts[k])) if k in pts else "",
            }
            for k, c in counts.items()
        ]
        ctx["points"] = {"rows": rows, "raw": vals.get("raw_points", "0"), "weighted": vals.get("weighted_points", "0")}
        if "entitlement" in vals:
            ctx["settlement"] = {k: vals.get(k, "") for k in ("prior_weight", "annual_weight")}
            ctx["settlement"].update(
                entitlement=_money(vals["entitlement"]),
                prior_paid=_money(vals["prior_paid"]),
                word=vals.get("settle_word", ""),
                abs_amount=_money(vals.get("abs_amount", "0.00")),
            )
    return ctx


# ---- charts (inline SVG, vector) ----------------------------------------------------------


def bar_svg(bars: list[tuple[str, Decimal]], width=520, row=16) -> str:
    if not bars:
        return "<p class='note'>（无乡镇）</p>"
    top = max([b for _, b in bars] + [Decimal(1)])
    label_w, h = 150, row * len(bars) + 10
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}pt" height="{h}pt" viewBox="0 0 {width} {h}">']
    for i, (name, v) in enumerate(bars):
        y = 5 + i * row
        w = float(max(v, Decimal(0)) / top) * (width - label_w - 90)
        out.append(
            f'<text x="{label_w - 4}" y="{y + 11}" font-size="8.5" text-anchor="end" '
            f'font-family="WenQuanYi Micro Hei">{html.escape(name[:14])}</text>'
        )
        out.append(f'<rect x="{label_w}" y="{y + 2}" width="{w:.1f}" height="{row - 5}" fill="#4a7ab0"/>')
        out.append(
            f'<text x="{label_w + w + 3:.1f}" y="{y + 11}" font-size="8" '
            f'font-family="WenQuanYi Micro Hei">{group_thousands(f"{v:.2f}")}</text>'
        )
    out.append("</svg>")
    return "".join(out)


def scatter_svg(points: list[tuple[Decimal, Decimal, str]], width=520, height=220) -> str:
    if not points:
        return "<p class='note'>（无数据）</p>"
    left, bottom = 70, 30
    top_v = max([p[1] for p in points] + [Decimal(1)])
    low_v = min([p[1] for p in points] + [Decimal(0)])
    span = top_v - low_v or Decimal(1)
    colors = {"county": "#1f4e79", "township": "#d9822b", "village": "#3c9a5f"}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}pt" height="{height}pt" viewBox="0 0 {width} {height}">',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width - 10}" y2="{height - bottom}" stroke="#444"/>',
        f'<line x1="{left}" y1="10" x2="{left}" y2="{height - bottom}" stroke="#444"/>',
    ]
    for s in range(0, 101, 10):
        x = left + s / 100 * (width - left - 10)
        out.append(
            f'<text x="{x:.1f}" y="{height - bottom + 12}" font-size="7" text-anchor="middle" '
            f'font-family="WenQuanYi Micro Hei">{s}</text>'
        )
    for frac, lab in ((0, low_v), (1, top_v)):
        y = height - bottom - frac * (height - bottom - 10)
        out.append(
            f'<text x="{left - 3}" y="{y + 3:.1f}" font-size="7" text-anchor="end" '
            f'font-family="WenQuanYi Micro Hei">{group_thousands(f"{lab:.0f}.00")[:-3]}</text>'
        )
    out.append(
        f'<text x="{(width + left) / 2}" y="{height - 3}" font-size="8" text-anchor="middle" '
        f'font-family="WenQuanYi Micro Hei">考核得分（横轴）与本期兑现合计（纵轴，元）；橙=乡镇卫生院 绿=村卫生室</text>'
    )
    for score, v, level in points:
        x = left + float(score) / 100 * (width - left - 10)
        y = height - bottom - float((v - low_v) / span) * (height - bottom - 10)
        out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.6" fill="{colors.get(level, "#888")}" fill-opacity="0.8"/>')
    out.append("</svg>")
    return "".join(out)


def summary_context(run_dir: Path, traces: list[dict], head: dict) -> dict:
    s = json.loads((run_dir / "summary.json").read_text(encoding="utf-8"))
    per_inst, score, kind, parent = defaultdict(Decimal), {}, {}, {}
    for t in traces:
        per_inst[t["inst_id"]] += Decimal(t["amount"])
        kind[t["inst_id"]], parent[t["inst_id"]] = t["kind"], t.get("parent_id", "")
        if t["values"].get("score") and t["inst_id"] not in score:
            score[t["inst_id"]] = Decimal(t["values"]["score"])
    names = {t["inst_id"]: t["inst_name"] for t in traces}
    town_total = defaultdict(Decimal)
    for iid, v in per_inst.items():
        if kind[iid] == "township":
            town_total[iid] += v
        elif kind[iid] == "village" and parent.get(iid):
            town_total[parent[iid]] += v
    bars = [(names.get(t, t), town_total[t]) for t in sorted(town_total)][:60]
    level = {"lead_hospital": "county", "county_hospital": "county", "township": "township", "village": "village"}
    # the county level (hundreds of times larger) would flatten the chart: townships and villages
    pts = [(score[i], per_inst[i], level.get(kind[i], "")) for i in sorted(score) if level.get(kind[i]) != "county"]
    items = [
        {
            "item_name": r["item_name"],
            "lines": r["lines"],
            "total": _money(r["total"]),
            **{lvl: _money(r["by_level"].get(lvl, "0.00")) for lvl in LEVEL_NAMES},
        }
        for r in s["items"]
    ]
    topup = next((r["total"] for r in s["items"] if r["item"] == "VILLAGE_TOPUP"), "0.00")
    checks = [
        {
            **c,
            "total": _money(c["total"]),
            "distributed": _money(c["distributed"]),
            "undistributed": _money(c["undistributed"]),
        }
        for c in s["checks"]
    ]
    return {
        **head,
        "s": s,
        "items": items,
        "grand": _money(s["grand_total"]),
        "grand_capitals": capitals(Decimal(s["grand_total"])),
        "topup_total": _money(topup),
        "checks": checks,
        "reports": [{**r, "amount": _money(r["amount"])} for r in s["reports"]],
        "warnings": s["warnings"],
        "bar_svg": bar_svg(bars),
        "scatter_svg": scatter_svg(pts),
    }


# ---- rendering -----------------------------------------------------------------------------


def _refuse_urls(url, *a, **kw):
    raise ValueError(f"external resource refused: {url}")


_worker = {}


def _init_worker():
    from weasyprint.text.fonts import FontConfiguration

    _worker["fc"] = FontConfiguration()
    _worker["cache"] = {}


def _render_one(task):
    html_text, out = task
    if "fc" not in _worker:
        _init_worker()
    from weasyprint import HTML

    HTML(string=html_text, url_fetcher=_refuse_urls, base_url=str(TEMPLATES)).write_pdf(
        out, font_config=_worker["fc"], cache=_worker["cache"]
    )
    return out


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
    """Render statements/<inst_id>.pdf for every institution and summary.pdf. Returns the count.
    At approval, `approval` is the stamp (已审批, who, when) and `chain_head` the head N:HASH of
    the approval chain including this approval's record."""
    if not check_harfbuzz_subset():
        print(
            "警告：未安装 libharfbuzz-subset0，中文字体子集化会非常慢（每页数秒）。"
            "请运行 make setup 或 apt-get install libharfbuzz-subset0。",
            file=sys.stderr,
        )
    out_dir = out_dir or run_dir
    lines = read_trace((run_dir / "trace.jsonl").read_bytes())
    traces = [_as_dict(x) for x in lines]
    css = (TEMPLATES / "style.css").read_text(encoding="utf-8")
    head = {
        "alliance": manifest["alliance"],
        "period": manifest["period"],
        "period_label": period_label(manifest["period"]),
        "run_id": run_id,
        "ledger_sha256": manifest["ledger_sha256"],
        "ruleset_id": manifest["ruleset"]["id"],
        "ruleset_sha": manifest["ruleset"]["sha256"],
        "version": __version__,
        "css": css,
        "approval": approval or "未审批（以归档中的审批记录为准）",
        "chain_head": chain_head,
        "prior": manifest.get("prior_runs", []),
    }
    env = _env()
    tpl = env.get_template("statement.html")
    names = next(iter(lines)).entry_names.get("ph_points", {}) if lines else {}
    groups = defaultdict(list)
    for t in traces:
        groups[t["inst_id"]].append(t)
    (out_dir / "statements").mkdir(parents=True, exist_ok=True)
    tasks = [
        (tpl.render(**statement_context(ts, head, names)), str(out_dir / "statements" / f"{iid}.pdf"))
        for iid, ts in sorted(groups.items())
    ]
    summary_html = env.get_template("summary.html").render(**summary_context(run_dir, traces, head))
    tasks.append((summary_html, str(out_dir / "summary.pdf")))
    jobs = max(1, jobs or os.cpu_count() or 1)
    done = 0
    bar = _progress(len(tasks)) if progress else None
    if jobs == 1 or len(tasks) < 4:
        for t in tasks:
            _render_one(t)
            done += 1
            bar and bar(done)
    else:
        with mp.get_context("fork").Pool(jobs, initializer=_init_worker) as pool:
            for _ in pool.imap_unordered(_render_one, tasks, chunksize=4):
                done += 1
                bar and bar(done)
    if bar:
        print(file=sys.stderr)
    return len(tasks) - 1


def _progress(total: int):
    if not sys.stderr.isatty():  # a log file gets one line at the end, not 300 carriage returns
        return lambda n: n == total and print(f"生成 PDF {n}/{total}", end="", file=sys.stderr)

    def show(n):
        w = 30
        fill = int(w * n / total)
        print(f"\r生成 PDF [{'#' * fill}{'.' * (w - fill)}] {n}/{total}", end="", file=sys.stderr, flush=True)

    return show
