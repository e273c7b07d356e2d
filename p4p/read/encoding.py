"""The bytes of a text input file → UTF-8 that can be trusted (SPEC §3, v2).

A file is wholly UTF-8 (with or without BOM) or wholly GB18030 (Excel on Chinese Windows).
A file that is not valid UTF-8 but has lines that decode as UTF-8 to CJK text is *mixed*
and rejected: decoding it as GB18030 would silently turn those lines into mojibake. A single
line is judged by what it decodes to (characters of 3 UTF-8 bytes), because short GB18030
text can be valid UTF-8 by chance. Characters no input may hold — NUL and other control
characters, a byte-order mark after the start (two files pasted together) — are refused here,
naming the line, so nothing downstream has to think about them.
"""

from __future__ import annotations

import re

import numpy as np

from ..model.problems import Problem

BOM = b"\xef\xbb\xbf"
# a UTF-8 sequence of 3 bytes (U+0800–U+FFFF: CJK, full-width forms, …)
_UTF8_3 = re.compile(rb"[\xe0-\xef][\x80-\xbf][\x80-\xbf]")
_CONTROL_OK = (9, 10, 13)  # tab, LF, CR
# every byte an input may hold; `bytes.translate` deleting these leaves only the refused ones
_ALLOWED_BYTES = bytes(b for b in range(256) if (32 <= b != 127) or b in _CONTROL_OK)
_SPECIALS = {BOM: "字节顺序标记（BOM）", b"\xef\xbf\xbe": "非字符 U+FFFE", b"\xef\xbf\xbf": "非字符 U+FFFF"}
_MAX_LINES_NAMED = 10


def line_of(data: bytes, pos: int) -> int:
    """1-based line of byte offset `pos`."""
    return data.count(b"\n", 0, pos) + 1


def _lines_named(lines: list[int]) -> str:
    shown = "、".join(str(n) for n in lines[:_MAX_LINES_NAMED])
    return shown + (f" 等 {len(lines)} 行" if len(lines) > _MAX_LINES_NAMED else " 行")


def _utf8_cjk_lines(data: bytes) -> list[int]:
    """Lines of a non-UTF-8 file that decode as UTF-8 to text with 3-byte characters (one pass:
    line numbers are counted on from the previous find)."""
    found: list[int] = []
    line, counted_to, last_start = 1, 0, -1
    for m in _UTF8_3.finditer(data):
        start = data.rfind(b"\n", 0, m.start()) + 1
        if start == last_start:
            continue
        last_start = start
        end = data.find(b"\n", m.end())
        try:
            text = data[start : end if end >= 0 else len(data)].decode("utf-8")
        except UnicodeDecodeError:
            continue
        if any("\u0800" <= ch <= "\uffff" for ch in text):
            line += data.count(b"\n", counted_to, start)
            counted_to = start
            found.append(line)
    return found


def to_utf8(data: bytes, label: str, problems: list[Problem]) -> bytes | None:
    """UTF-8 bytes without BOM, or None after adding the problem (encoding or characters)."""
    body = data[len(BOM) :] if data.startswith(BOM) else data
    try:
        body.decode("utf-8")
    except UnicodeDecodeError as e:
        if body is not data:  # the BOM promises UTF-8
            problems.append(
                Problem(
                    label, line_of(body, e.start), None, None, "文件开头标明是 UTF-8（BOM），但这一行不是 UTF-8 编码"
                )
            )
            return None
        utf8_lines = _utf8_cjk_lines(data)
        if utf8_lines:
            problems.append(
                Problem(
                    label,
                    None,
                    None,
                    None,
                    f"文件混用了两种编码：第 {_lines_named(utf8_lines)}是 UTF-8，其余是 GB18030。"
                    "请把整个文件另存为同一种编码（建议 UTF-8）",
                )
            )
            return None
        try:
            body = data.decode("gb18030").encode("utf-8")
        except UnicodeDecodeError as e2:
            problems.append(
                Problem(
                    label,
                    line_of(data, e2.start),
                    None,
                    None,
                    "文件编码既不是 UTF-8 也不是 GB18030，请另存为 UTF-8 CSV",
                )
            )
            return None
    return body if _characters_ok(body, label, problems) else None


def _characters_ok(body: bytes, label: str, problems: list[Problem]) -> bool:
    """No control characters (other than tab and line ends), no BOM after the start."""
    start = len(problems)
    if body.translate(None, _ALLOWED_BYTES):  # one C pass; the positions only when there are any
        arr = np.frombuffer(body, dtype=np.uint8)
        bad = (arr < 32) | (arr == 127)
        for ok in _CONTROL_OK:
            bad &= arr != ok
        positions = np.flatnonzero(bad)
        lines = sorted({line_of(body, int(p)) for p in positions[:_MAX_LINES_NAMED]})
        code = int(arr[positions[0]])
        what = "空字符（NUL）" if code == 0 else f"控制字符（0x{code:02X}）"
        problems.append(
            Problem(label, lines[0], None, None, f"文件中有{what}，共 {positions.size} 处（第 {_lines_named(lines)}）")
        )
    for seq, what in _SPECIALS.items():
        pos = body.find(seq)
        if pos >= 0:
            hint = "，可能是两个文件拼接而成" if seq == BOM else ""
            problems.append(Problem(label, line_of(body, pos), None, None, f"文件中间有{what}{hint}"))
    return len(problems) == start
