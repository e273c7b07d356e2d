"""`p4p diff RUN_A RUN_B`: what differs between two runs, line by line, for people — Chinese item
names, amounts with thousands separators, the difference of each line, and only real
differences: a line is compared by value (0.60 and 0.6 are the same quantity; a missing line
counts as 0.00, as in corrections), so identical lines never show up. Comparing runs of
different periods or alliances is allowed (a what-if across quarters) but said loudly.
Also as a workbook (`--xlsx OUT`)."""

from __future__ import annotations

import datetime as dt
import io
import json
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..archive.manifest import run_file_findings
from ..engine.ledger import parse_ledger
from ..model.fields import KINDS
from .display import money, number

ZERO = Decimal("0.00")
FIXED_CREATED = dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc)


class DiffError(Exception):
    """A run folder that cannot be compared; the message is Chinese."""


@dataclass
class RunLedger:
    path: Path
    period: str
    alliance: str
    run_id: str
    ruleset: str
    rows: list[dict[str, str]]
    unsound: str = ""  # why the folder cannot be trusted to be what p4p wrote ("" if it matches its manifest)


@dataclass
class LineDiff:
    inst_id: str
    inst_name: str
    kind: str
    item: str
    item_name: str
    a: Decimal | None  # None: no such line in A
    b: Decimal | None
    qa: str
    qb: str

    @property
    def difference(self) -> Decimal:
        return (self.b or ZERO) - (self.a or ZERO)


@dataclass
class Comparison:
    a: RunLedger
    b: RunLedger
    money: list[LineDiff] = field(default_factory=list)  # the amount differs
    other: list[LineDiff] = field(default_factory=list)  # same amount; quantity differs or one side lacks a 0.00 line
    warnings: list[str] = field(default_factory=list)

    def total(self, side: str) -> Decimal:
        return sum((Decimal(r["amount"]) for r in getattr(self, side).rows), ZERO)

    def by_item(self) -> list[tuple[str, Decimal, Decimal]]:
        """(item name, total in A, total in B) for every item of either run."""
        ta: dict[str, Decimal] = defaultdict(lambda: ZERO)
        tb: dict[str, Decimal] = defaultdict(lambda: ZERO)
        names: dict[str, str] = {}
        for side, acc in (("a", ta), ("b", tb)):
            for r in getattr(self, side).rows:
                acc[r["item"]] += Decimal(r["amount"])
                names.setdefault(r["item"], r.get("item_name") or r["item"])
        return [(names[c], ta[c], tb[c]) for c in sorted(names)]


def load_run(path: Path) -> RunLedger:
    ledger = path / "ledger.csv"
    if not ledger.is_file():
        raise DiffError(f"{path} 不是一个运行目录（缺少 ledger.csv）")
    try:
        rows = parse_ledger(ledger.read_bytes())
        for r in rows:
            Decimal(r["amount"])
    except (UnicodeDecodeError, KeyError, InvalidOperation, ValueError) as e:
        raise DiffError(f"{ledger} 无法读取：{e}") from e
    m: dict = {}
    if (path / "manifest.json").is_file():
        try:
            m = json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError):
            m = {}
    period = m.get("period") or (rows[0]["period"] if rows else "")
    ruleset = (m.get("ruleset") or {}).get("id", "") if isinstance(m.get("ruleset"), dict) else ""
    return RunLedger(path, period, m.get("alliance", ""), m.get("run_id", path.name), ruleset, rows, _unsound(path))


def _unsound(path: Path) -> str:
    """What is wrong with a run folder's files against its manifest, shortly ("" if nothing)."""
    if not (path / "manifest.json").is_file():
        return "没有 manifest.json，无法确认文件未被改动"
    found = run_file_findings(path, path.name)
    if not found:
        return ""
    more = f" 等 {len(found)} 处" if len(found) > 1 else ""
    return f"与其 manifest 不符（{found[0]}{more}）：比较的是被改动过的文件，请用 p4p verify 检查归档"


def _same_quantity(x: str, y: str) -> bool:
    try:
        return Decimal(x or "0") == Decimal(y or "0")
    except InvalidOperation:
        return x == y


def compare(a: RunLedger, b: RunLedger) -> Comparison:
    c = Comparison(a, b)
    if a.period != b.period:
        c.warnings.append(f"两次运行的期间不同（A 为 {a.period}，B 为 {b.period}）：差异里包含季度之间的正常变化，"
                          "不只是规则或数据的改动")  # fmt: skip
    if a.alliance and b.alliance and a.alliance != b.alliance:
        c.warnings.append(
            f"两次运行属于不同的医共体（A 为 {a.alliance}，B 为 {b.alliance}）：机构编码相同也未必是同一机构"
        )
    for label, run in (("A", a), ("B", b)):
        if run.unsound:
            c.warnings.append(f"运行目录 {label}（{run.path}）{run.unsound}")
    ka = {(r["inst_id"], r["item"]): r for r in a.rows}
    kb = {(r["inst_id"], r["item"]): r for r in b.rows}
    for key in sorted(set(ka) | set(kb)):
        ra, rb = ka.get(key), kb.get(key)
        r = rb or ra
        assert r is not None
        d = LineDiff(key[0], r["inst_name"], r.get("kind", ""), key[1], r.get("item_name") or key[1],
                     Decimal(ra["amount"]) if ra else None, Decimal(rb["amount"]) if rb else None,
                     ra.get("quantity", "") if ra else "", rb.get("quantity", "") if rb else "")  # fmt: skip
        if d.difference != 0:
            c.money.append(d)
        elif ra is None or rb is None or not _same_quantity(d.qa, d.qb):
            c.other.append(d)
    return c


# ---- text ----------------------------------------------------------------------------------------


def _width(s: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in s)


def _pad(s: str, w: int, right: bool = False) -> str:
    gap = " " * max(0, w - _width(s))
    return gap + s if right else s + gap


def _signed(d: Decimal) -> str:
    return ("+" if d > 0 else "") + money(d)


def _amount(v: Decimal | None) -> str:
    return "无此行" if v is None else money(v)


def _run_line(label: str, r: RunLedger) -> str:
    extra = "，".join(x for x in (r.alliance, f"规则集 {r.ruleset}" if r.ruleset else "") if x)
    return f"{label} = {r.period}/{r.run_id}" + (f"（{extra}）" if extra else "") + f"  {r.path}"


def diff_text(c: Comparison) -> list[str]:
    out = ["比较两次运行：", "  " + _run_line("A", c.a), "  " + _run_line("B", c.b)]
    out += [f"注意：{w}" for w in c.warnings]
    out.append("")
    if c.money:
        who = [f"{d.inst_id} {d.inst_name}" for d in c.money]
        w0 = min(max(_width(x) for x in who), 40)
        w1 = max(_width(d.item_name) for d in c.money)
        out.append(" ".join([_pad("机构", w0), _pad("项目", w1), _pad("A（元）", 16, True), _pad("B（元）", 16, True),
                             _pad("差额（元）", 16, True)]))  # fmt: skip
        for label, d in zip(who, c.money, strict=True):
            out.append(" ".join([_pad(label, w0), _pad(d.item_name, w1), _pad(_amount(d.a), 16, True),
                                 _pad(_amount(d.b), 16, True), _pad(_signed(d.difference), 16, True)]))  # fmt: skip
    else:
        out.append("两次运行的金额逐行相同。")
    if c.other:
        out += ["", f"金额相同、数量/系数或行不同（{len(c.other)} 行，不影响金额）："]
        for d in c.other:
            qa = "无此行" if d.a is None else number(d.qa)
            qb = "无此行" if d.b is None else number(d.qb)
            out.append(
                f"  {d.inst_id} {d.inst_name} {d.item_name}：数量 A {qa}，B {qb}（金额 {money(d.a or d.b or ZERO)}）"
            )
    items = [(n, x, y) for n, x, y in c.by_item() if x != y]
    if items:
        out += ["", "按项目合计："]
        for name, x, y in items:
            out.append(f"  {name}：A {money(x)}，B {money(y)}，差额 {_signed(y - x)}")
    ta, tb = c.total("a"), c.total("b")
    out += ["", f"共 {len(c.money)} 行金额不同；合计 A {money(ta)} 元，B {money(tb)} 元，差额 {_signed(tb - ta)} 元"]
    return out


# ---- workbook ------------------------------------------------------------------------------------


def diff_xlsx(c: Comparison) -> bytes:
    import xlsxwriter

    buf = io.BytesIO()
    wb = xlsxwriter.Workbook(buf, {"in_memory": True, "strings_to_formulas": False})
    wb.set_properties({"title": f"运行比较 {c.a.run_id} / {c.b.run_id}", "author": "p4p", "created": FIXED_CREATED})
    head = wb.add_format({"bold": True, "bg_color": "#DDEBF7", "border": 1, "text_wrap": True, "align": "center"})
    amt = wb.add_format({"num_format": "#,##0.00"})
    signed = wb.add_format({"num_format": "+#,##0.00;[Red]-#,##0.00;0.00"})
    ws = wb.add_worksheet("差异")
    heads = ["机构编码", "机构名称", "机构类型", "项目", "项目名称", "A 金额（元）", "B 金额（元）", "差额（元）",
             "A 数量/系数", "B 数量/系数", "说明"]  # fmt: skip
    for j, (h, w) in enumerate(zip(heads, [12, 28, 11, 16, 18, 16, 16, 16, 14, 14, 22], strict=True)):
        ws.set_column(j, j, w)
        ws.write_string(0, j, h, head)
    for i, d in enumerate(c.money + c.other, 1):
        for j, text in enumerate([d.inst_id, d.inst_name, KINDS.get(d.kind, d.kind), d.item, d.item_name]):
            ws.write_string(i, j, text)
        for j, v in ((5, d.a), (6, d.b)):
            ws.write_number(i, j, float(v), amt) if v is not None else ws.write_string(i, j, "无此行")
        ws.write_number(i, 7, float(d.difference), signed)
        for j, q in ((8, d.qa), (9, d.qb)):
            if q:
                ws.write_number(i, j, float(Decimal(q)))
        ws.write_string(i, 10, "金额不同" if d.difference else "金额相同，数量/行不同")
    ws.freeze_panes(1, 0)
    ws.autofilter(0, 0, max(1, len(c.money) + len(c.other)), len(heads) - 1)
    ws.set_landscape()
    ws.fit_to_pages(1, 0)
    ws.repeat_rows(0)
    info = wb.add_worksheet("说明")
    info.set_column(0, 0, 110)
    lines = ["比较两次运行：", _run_line("A", c.a), _run_line("B", c.b)] + [f"注意：{w}" for w in c.warnings]
    lines += [f"{n}：A {money(x)}，B {money(y)}，差额 {_signed(y - x)}" for n, x, y in c.by_item()]
    ta, tb = c.total("a"), c.total("b")
    lines.append(f"共 {len(c.money)} 行金额不同；合计 A {money(ta)} 元，B {money(tb)} 元，差额 {_signed(tb - ta)} 元")
    for i, text in enumerate(lines):
        info.write_string(i, 0, text)
    wb.close()
    return buf.getvalue()
