"""Decision tables are proved complete before any run, like Catala's and DMN's checks.

For every version of a table, on every date a band edge's parameter changes, and for veto 0
and veto 1: the rows that can apply must cover every score from 0 to 100 (gap = error); with
hit policy `unique` no score may fall in two rows (overlap = error); with `first`, a row that
an earlier row always pre-empts can never apply (error). Scores have one decimal, so an edge
with more decimals is an error too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from fractions import Fraction

from .model import Resolved, Ruleset, Table, TableRow, TableVersion

LOW, HIGH = Fraction(0), Fraction(100)
Interval = tuple[Fraction, Fraction]  # [lo, hi) over the real line, clipped to [0, 100 + 1/10)
TOP = HIGH + Fraction(1, 10)


def check_bands(rs: Ruleset, report: Callable[..., None]) -> None:
    for tid, table in rs.tables.items():
        for vi, version in enumerate(table.versions):
            if not _edges_known(rs, version):
                continue  # an edge that is no numeric parameter: names.py reports it
            path = (tid, "rows") if len(table.versions) == 1 else (tid, "versions", vi, "rows")
            for day in _dates(rs, table, vi):
                try:
                    resolved = rs.resolve(day)
                except LookupError:
                    continue
                for msg, row in _problems(version, resolved):
                    where = (*path, row) if row is not None else path
                    report("tables.yaml", where, f"{msg}（{day} 起生效的版本）")


def _edges_known(rs: Ruleset, version: TableVersion) -> bool:
    names = {e for row in version.rows for e in row.band or () if isinstance(e, str)}
    return all(n in rs.parameters and not rs.parameters[n].is_mapping for n in names)


def _dates(rs: Ruleset, table: Table, vi: int) -> list[dt.date]:
    """The dates on which this version's bands can change: its start, and every change of a
    parameter used as an edge while it is in force."""
    version = table.versions[vi]
    end = table.versions[vi + 1].start if vi + 1 < len(table.versions) else dt.date.max
    days = {version.start}
    for row in version.rows:
        for e in row.band or ():
            if isinstance(e, str) and e in rs.parameters:
                days |= {d for d, _ in rs.parameters[e].values if version.start < d < end}
    return sorted(days)


def _interval(row: TableRow, r: Resolved) -> Interval | str | None:
    if row.band is None:
        return (LOW, TOP)
    lo, hi = (r.edge(e) for e in row.band)
    for e in (lo, hi):
        if e is not None and (e * 10).denominator != 1:
            return f"分档边界 {float(e)} 超过一位小数（考核得分只有一位小数）"
    lo_, hi_ = max(lo if lo is not None else LOW, LOW), min(hi if hi is not None else TOP, TOP)
    if lo_ >= hi_:
        return None
    return (lo_, hi_)


def _problems(version: TableVersion, r: Resolved) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    spans: list[tuple[int, Interval, set[str]]] = []
    for i, row in enumerate(version.rows):
        iv = _interval(row, r)
        if isinstance(iv, str):
            out.append((iv, i))
            continue
        if iv is None:
            out.append(("分档为空：下限不小于上限，这一行永远不会生效", i))
            continue
        vetoes = set(row.when.get("veto") or ["0", "1"])
        spans.append((i, iv, vetoes))
    never: dict[int, int] = {}
    for veto in ("0", "1"):
        rows = [(i, iv) for i, iv, v in spans if veto in v]
        out += _coverage(rows, veto)
        if version.hit_policy == "unique":
            out += _overlaps(rows, veto)
        for j in _preempted(rows):
            never[j] = never.get(j, 0) + 1
    for i, _, vetoes in spans:
        if never.get(i, 0) == len(vetoes):
            out.append((f"第{i + 1}行永远不会生效：前面的行已覆盖它的全部分档", i))
    return sorted(set(out), key=lambda x: (x[1] or 0, x[0]))


def _coverage(rows: list[tuple[int, Interval]], veto: str) -> list[tuple[str, int | None]]:
    at = LOW
    for _, (lo, hi) in sorted(rows, key=lambda x: x[1]):
        if lo > at:
            return [(f"分档在 {_num(at)} 到 {_num(lo)} 分之间有缺口（一票否决 = {veto} 时）", None)]
        at = max(at, hi)
    if at < TOP:
        return [(f"分档没有覆盖 {_num(at)} 到 100 分（一票否决 = {veto} 时）", None)]
    return []


def _overlaps(rows: list[tuple[int, Interval]], veto: str) -> list[tuple[str, int | None]]:
    out: list[tuple[str, int | None]] = []
    for a in range(len(rows)):
        for b in range(a + 1, len(rows)):
            (i, (lo1, hi1)), (j, (lo2, hi2)) = rows[a], rows[b]
            if max(lo1, lo2) < min(hi1, hi2):
                msg = f"第{i + 1}行和第{j + 1}行在 {_num(max(lo1, lo2))} 分处重叠（hit_policy: unique，一票否决 = {veto}）"
                out.append((msg, j))
    return out


def _preempted(rows: list[tuple[int, Interval]]) -> list[int]:
    """With `first` (and for `unique` too), rows wholly covered by the rows above them."""
    out = []
    for k, (j, (lo, hi)) in enumerate(rows):
        at = lo
        for clo, chi in sorted(iv for _, iv in rows[:k]):
            if clo <= at < chi:
                at = chi
        if at >= hi:
            out.append(j)
    return out


def _num(f: Fraction) -> str:
    if f >= TOP:
        return "100"
    return str(f.numerator) if f.denominator == 1 else f"{float(f):g}"


# ---- declared ranges of table values ---------------------------------------------------------
SCORES = [Fraction(n, 10) for n in range(1001)]  # every score an assessment can have


def check_table_ranges(
    rs: Ruleset, bounds: dict[str, tuple[Fraction | None, Fraction | None]], report: Callable[..., None]
) -> None:
    """Every row's value, for every score (0–100, one decimal) and veto that row is the first to
    match, on every date its parameters change, can be computed (no division by zero) and, for
    a table that declares `min`/`max`, lies within them. Scores are finitely many, so this is a
    proof, not a sample."""
    for tid, table in rs.tables.items():
        lo, hi = bounds.get(tid, (None, None))
        for vi, version in enumerate(table.versions):
            if not _edges_known(rs, version):
                continue
            path = (tid, "rows") if len(table.versions) == 1 else (tid, "versions", vi, "rows")
            end = table.versions[vi + 1].start if vi + 1 < len(table.versions) else dt.date.max
            days = {version.start} | {d for p in rs.parameters.values() for d, _ in p.values if version.start < d < end}
            found: dict[int, str] = {}
            for day in sorted(days):
                try:
                    resolved = rs.resolve(day)
                except LookupError:
                    continue
                for i, msg in _out_of_range(version, resolved, lo, hi).items():
                    found.setdefault(i, f"{msg}（{day} 起生效）")
            for i, msg in sorted(found.items()):
                report("tables.yaml", (*path, i, "value"), msg)


def _out_of_range(version: TableVersion, r: Resolved, lo: Fraction | None, hi: Fraction | None) -> dict[int, str]:
    from ..lang.exact import Vec, fraction_text
    from ..lang.formula import FormulaError

    hits: dict[int, list[tuple[Fraction, int]]] = {}
    for veto in (0, 1):
        for score in SCORES:
            for i in _rows_for(version.rows, r, score, veto):
                hits.setdefault(i, []).append((score, veto))
    env: dict = {name: ({k: Vec.scalar(x) for k, x in v.items()} if isinstance(v, dict) else Vec.scalar(v))
                 for name, v in r.params.items()}  # fmt: skip
    out: dict[int, str] = {}
    for i, at in sorted(hits.items()):
        env["score"] = Vec.of_fractions([s for s, _ in at])
        env["veto"] = Vec.of([v for _, v in at])
        try:
            column = version.rows[i].value.number(env)
        except FormulaError:
            continue  # the engine reports it when it evaluates the row
        bad = column.bad_rows()
        if len(bad):
            score, veto = at[int(bad[0])]
            who = f"考核得分 {fraction_text(score)} 分" + ("、一票否决" if veto else "")
            out[i] = f"第{i + 1}行的取值公式 {version.rows[i].value.text} 在{who}时除以零"
            continue
        values = column.fractions()
        if len(values) == 1:
            values = values * len(at)
        for (score, veto), v in zip(at, values, strict=True):
            if lo is not None and v < lo:
                bound = f"下限 min: {fraction_text(lo)}"
            elif hi is not None and v > hi:
                bound = f"上限 max: {fraction_text(hi)}"
            else:
                continue
            who = f"考核得分 {fraction_text(score)} 分" + ("、一票否决" if veto else "")
            out[i] = f"第{i + 1}行的取值 {fraction_text(v)}（{who}时）超出声明的{bound}"
            break
    return out


def _rows_for(rows: tuple[TableRow, ...], r: Resolved, score: Fraction, veto: int) -> list[int]:
    """The rows that may apply to (score, veto): the first that matches it, and before it any
    that also test kind, quarter or guarantee (they may not apply, so they hide nothing)."""
    out = []
    ops = {">=": score.__ge__, ">": score.__gt__, "<=": score.__le__, "<": score.__lt__, "!=": score.__ne__}
    for i, row in enumerate(rows):
        vetoes = row.when.get("veto")
        if vetoes is not None and str(veto) not in vetoes:
            continue
        if not all(ops[op](Fraction(v)) for op, v in (row.when.get("score") or {}).items()):
            continue
        if row.band is not None:
            lo, hi = (r.edge(e) for e in row.band)
            if (lo is not None and score < lo) or (hi is not None and score >= hi):
                continue
        out.append(i)
        if not set(row.when) - {"veto", "score"}:
            break
    return out
