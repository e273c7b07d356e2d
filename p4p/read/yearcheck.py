"""A quarter against the year's approved quarters (SPEC §3, v2): a `ph_annual_budget` or an
alliance that differs is not an error (a budget may be revised during the year) but must not
pass unseen — it is a warning naming both values."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal

from ..model.facts import Period
from ..model.money import fmt_amount, group_thousands

_COMPARED: tuple[tuple[str, str, Callable[[object], str]], ...] = (
    (
        "ph_annual_budget",
        "基本公共卫生服务经费年度预算",
        lambda v: group_thousands(fmt_amount(Decimal(str(v)))) + " 元",
    ),
    ("alliance", "医共体名称", lambda v: f"“{v}”"),
    ("alliance_id", "医共体编码", lambda v: f"“{v}”"),
)


def year_warnings(current: Period, approved: Sequence[Period]) -> list[str]:
    """Chinese warnings, one per differing value: `current` is this quarter, `approved` the
    year's approved earlier quarters (in any order)."""
    out = []
    for attr, label, show in _COMPARED:
        mine = getattr(current, attr)
        differing: dict[object, list[str]] = {}
        for p in sorted(approved, key=lambda p: p.period):
            theirs = getattr(p, attr)
            if theirs != mine:
                differing.setdefault(theirs, []).append(p.period)
        for theirs, periods in differing.items():
            when = "、".join(periods)
            out.append(
                f"{label}与已审批的 {when} 不同：本季度 {current.period} 为 {show(mine)}，{when} 为 {show(theirs)}"
            )
    return out
