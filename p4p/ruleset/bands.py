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
