"""The period facts (period.yaml or a workbook's period sheet) → `Period` (SPEC §3, v2).

One mapping of known keys: an English code or its Chinese label (the two count as one key),
an unknown key or a key given twice is an error naming both places; every value is checked
from its text. Q4 fields given in Q1–Q3 are checked and named in a warning (no rule reads them).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from ..model.facts import Period
from ..model.fields import PERIOD_KEY_ALIASES, PERIOD_KEYS, Q4_KEYS
from ..model.money import MoneyError, parse_money
from ..model.problems import Problem
from .cells import CellError, id_problem, parse_period, parse_score, text_problem
from .tables import ascii_lower

_KEY_ALIASES = {ascii_lower(k): v for k, v in PERIOD_KEY_ALIASES.items()}


@dataclass(frozen=True)
class Entry:
    """One key/value as written. `where`/`row` name the value (file and line, or book sheet!B3);
    `key_where`/`key_row` name the key."""

    key: str
    value: str | None  # None: empty (or a YAML null)
    where: str
    row: int | None
    key_where: str
    key_row: int | None
    reported: bool = False  # the value's cell is already reported (a formula without a value)


def _keyed(entries: list[Entry], problems: list[Problem]) -> dict[str, Entry]:
    known = "、".join(f"{k}（{v}）" for k, v in PERIOD_KEYS.items())
    out: dict[str, Entry] = {}
    for e in entries:
        code = _KEY_ALIASES.get(ascii_lower(e.key.strip()))
        if code is None:
            problems.append(Problem(e.key_where, e.key_row, None, None, f"未知的键（可用的键：{known}）", key=e.key))
        elif code in out:
            first = out[code]
            at = first.key_where + (f" 第{first.key_row}行" if first.key_row else " ")
            msg = f"键重复：{code}（{PERIOD_KEYS[code]}）已在 {at}给出"
            problems.append(Problem(e.key_where, e.key_row, None, None, msg, key=e.key))
        else:
            out[code] = e
    return out


class _Reader:
    def __init__(self, values: dict[str, Entry], problems: list[Problem]):
        self.values, self.problems = values, problems

    def bad(self, code: str, msg: str, where: Entry | None = None) -> None:
        e = where or self.values.get(code)
        if e is None:
            return
        self.problems.append(Problem(e.where, e.row, None, e.value, msg, key=code))

    def text(self, code: str) -> str | None:
        e = self.values.get(code)
        return None if e is None or e.value is None or not e.value.strip() else e.value.strip()

    def parsed(self, code: str, parse: Callable[[str], object], required: bool, missing_where: str) -> object:
        e = self.values.get(code)
        if e is not None and e.reported:
            return None
        text = self.text(code)
        if text is None:
            if required:
                self.problems.append(Problem(missing_where, None, None, None, f"缺少 {code}（{PERIOD_KEYS[code]}）"))
            return None
        try:
            return parse(text)
        except (MoneyError, CellError) as err:
            self.bad(code, str(err))
            return None


def _money(text: str) -> Decimal:
    d = parse_money(text)
    if d < 0:
        raise MoneyError("金额不能为负数")
    return d


def _text(text: str) -> str:
    why = text_problem(text, required=True)
    if why:
        raise CellError(why)
    return text


def _alliance_id(text: str) -> str:
    why = id_problem(text, "医共体编码")
    if why:
        raise CellError(why)
    return text


def build_period(entries: list[Entry], label: str, problems: list[Problem], warnings: list[str]) -> Period | None:
    """Period from its entries; problems name the key and the value's place. `label` names the
    file or sheet for a missing key."""
    start = len(problems)
    r = _Reader(_keyed(entries, problems), problems)
    yq = r.parsed("period", parse_period, True, label)
    alliance = r.parsed("alliance", _text, True, label)
    alliance_id = r.parsed("alliance_id", _alliance_id, False, label)
    budget = r.parsed("ph_annual_budget", _money, True, label)
    q4 = isinstance(yq, tuple) and yq[1] == 4
    mi_budget = r.parsed("mi_budget", _money, q4, label)
    mi_spent = r.parsed("mi_spent", _money, q4, label)
    score = r.parsed("alliance_score", parse_score, q4, label)
    if isinstance(yq, tuple) and not q4:
        given = [k for k in Q4_KEYS if r.text(k) is not None]
        if given:
            warnings.append(f"{label}：{'、'.join(given)} 只在第四季度使用，本季度不读取")
            mi_budget = mi_spent = score = None
    if len(problems) > start or not isinstance(yq, tuple):
        return None
    assert isinstance(alliance, str) and isinstance(budget, Decimal)
    return Period(
        f"{yq[0]}Q{yq[1]}",
        yq[0],
        yq[1],
        alliance,
        budget,
        mi_budget if isinstance(mi_budget, Decimal) else None,
        mi_spent if isinstance(mi_spent, Decimal) else None,
        score if isinstance(score, Decimal) else None,
        alliance_id if isinstance(alliance_id, str) else "",
    )
