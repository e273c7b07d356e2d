"""What one input cell may hold, cell by cell (SPEC §3, v2). Money and integers are parsed by
p4p/model/money.py; these are the other kinds. Each parser returns the value or raises
CellError with the Chinese reason; validate.py and period.py name the place."""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal

from ..model.fields import YES_NO
from ..model.money import number_problem

ID_PATTERN = r"[A-Za-z0-9][A-Za-z0-9_-]{0,31}"
ID_RE = re.compile(ID_PATTERN)
PERIOD_RE = re.compile(r"(20[0-9]{2})Q([1-4])")
SCORE_RE = re.compile(r"(?:0|[1-9][0-9]*)(?:\.[0-9]+)?")
MAX_TEXT = 2000  # names may be long (statements wrap them); longer is almost surely a paste error
_LINE_BREAKS = ("\n", "\r", "\u2028", "\u2029", "\x85")
# characters that show nothing: Hangul fillers (letters), and the categories Cf (zero-width
# space, joiners, direction marks and overrides, soft hyphen, BOM), Co (private use) and Cc
# (control; tab and line breaks are judged apart). RE2's \p{C} is Cc, Cf, Co and Cs.
_FILLERS = "\u115f\u1160\u3164\uffa0"
INVISIBLE_RE2 = r"\p{C}\x{115F}\x{1160}\x{3164}\x{FFA0}"


class CellError(ValueError):
    """The cell does not hold what its column needs; the message is Chinese."""


def parse_score(text: str) -> Decimal:
    """A score 0–100 with at most one decimal (`85.10`, as a workbook shows 85.1, is 85.1)."""
    s = text.strip()
    if not s:
        raise CellError("不能为空")
    if not SCORE_RE.fullmatch(s):
        raise CellError(number_problem(s, "得分") or "考核得分应为 0–100 的数字")
    if len(s.split(".")[0]) > 3:
        raise CellError("考核得分应在 0–100 之间")
    d = Decimal(s)
    if d > 100:
        raise CellError("考核得分应在 0–100 之间")
    if d != d.quantize(Decimal("0.1")):
        raise CellError("考核得分最多一位小数")
    return d


def parse_flag(text: str) -> int:
    """0/1, 是/否, true/false, yes/no (English in any case); a blank cell is 否."""
    s = text.strip()
    v = YES_NO.get(s.lower() if s.isascii() else s)
    if v is None:
        raise CellError("应为 0/1 或 是/否")
    return v


def id_problem(text: str, what: str = "机构编码") -> str | None:
    """Why `text` is not an id (`inst_id`, `alliance_id`), or None."""
    if not text:
        return f"{what}不能为空"
    if ID_RE.fullmatch(text):
        return None
    if len(text) > 32:
        return f"{what}最长 32 位"
    return f"{what}应为 1–32 位半角字母、数字、_ 或 -，且以字母或数字开头"


def parse_period(text: str) -> tuple[int, int]:
    """`YYYYQn` in ASCII digits, year 2000–2099 → (year, quarter)."""
    s = text.strip()
    m = PERIOD_RE.fullmatch(s)
    if m:
        return int(m.group(1)), int(m.group(2))
    if any(ch.isdigit() and not "0" <= ch <= "9" for ch in s):
        raise CellError("期间应使用半角数字，写成 YYYYQn，例如 2026Q1")
    if re.fullmatch(r"[0-9]{4}Q[1-4]", s):
        raise CellError("期间的年份应在 2000–2099 之间")
    raise CellError("期间应写成 YYYYQn，例如 2026Q1")


def text_problem(text: str, required: bool, one_line: bool = True) -> str | None:
    """Why a text cell (a name) is not acceptable, or None."""
    if required and not text:
        return "不能为空"
    if len(text) > MAX_TEXT:
        return f"文字过长（超过 {MAX_TEXT} 个字）"
    if one_line and any(b in text for b in _LINE_BREAKS):
        return "不能有换行"
    ch = invisible(text)
    if ch is not None:
        return (f"含有看不见的字符 U+{ord(ch):04X}（如零宽空格、方向控制符）：看起来相同的两个名称会被当作不同的名称，"
                "请删除这个字符（可删掉后重新输入）")  # fmt: skip
    return None


def invisible(text: str) -> str | None:
    """The first character of `text` that shows nothing (tab and line breaks apart), or None."""
    for ch in text:
        if ch in _FILLERS or (unicodedata.category(ch) in ("Cf", "Co", "Cc") and ch not in "\t\n\r\x85"):
            return ch
    return None
