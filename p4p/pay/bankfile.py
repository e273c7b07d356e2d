"""Bank batch files (代发) from the payments list, through a small declared column template
(SPEC §9), so a county matches its bank's format by editing YAML, not code.

A template (bank-templates/*.yaml):

    name: 通用代发格式             # shown in messages
    encoding: utf-8-sig            # utf-8 | utf-8-sig (with BOM) | gb18030
    delimiter: ","                 # one character; "\\t" for tab
    header: true                   # write a header row
    line_end: crlf                 # crlf | lf
    extension: csv                 # csv | txt
    quoting: minimal               # minimal (quote when needed) | never (refuse such a value)
    columns:
      - {header: 序号, field: seq}
      - {header: 账号, field: account_no}
      - {header: 金额, field: amount, format: yuan}   # yuan (2 decimals) | fen (integer)
      - {header: 币种, value: CNY}                    # a constant
      - {header: 用途, field: purpose, max_length: 40}

One file per payer and fund. Nothing is altered to fit: a payee without an account, a text a
spreadsheet would take for a formula, a value longer than its column allows or one holding
the delimiter when quoting is `never` is refused, naming the payee and the column.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..archive.errors import os_reason
from ..model.money import fen, fmt_amount
from ..model.problems import InputError, Problem
from .files import looks_like_formula
from .items import PAYEE_KIND_NAMES
from .rows import COLUMNS, HIDDEN, PaymentLists, PayRow
from .yamltext import Tree, load_text_yaml

FIELDS = ("seq", *(c for c in COLUMNS if c != "items"))  # what a bank template's column may show
ENCODINGS = ("utf-8", "utf-8-sig", "gb18030")
AMOUNT_FORMATS = ("yuan", "fen")
KEYS = ("name", "encoding", "delimiter", "header", "line_end", "extension", "quoting", "columns")
COLUMN_KEYS = ("header", "field", "value", "format", "max_length")
REQUIRED_FIELDS = ("account_no", "amount")  # a bank file without them pays nobody, or nothing
BOOLS = {"true": True, "yes": True, "是": True, "false": False, "no": False, "否": False}


def shipped_templates() -> Path:
    """bank-templates/ of a source checkout, or p4p/data/bank_templates inside a wheel."""
    package = Path(__file__).resolve().parents[1]
    packaged = package / "data" / "bank_templates"
    return packaged if packaged.is_dir() else package.parent / "bank-templates"


@dataclass(frozen=True)
class Column:
    header: str
    field: str | None = None
    value: str | None = None
    format: str | None = None
    max_length: int | None = None


@dataclass(frozen=True)
class BankTemplate:
    name: str
    columns: tuple[Column, ...]
    encoding: str = "utf-8-sig"
    delimiter: str = ","
    header: bool = True
    line_end: str = "\r\n"
    extension: str = "csv"
    quote: bool = True  # quoting: minimal


# ---- loading --------------------------------------------------------------------------------


def _column(i: int, raw: Tree, where: str, problems: list[Problem]) -> Column | None:
    at = f"columns 第{i}项"
    if not isinstance(raw, dict) or not all(isinstance(v, str) for v in raw.values()):
        problems.append(Problem(where, None, at, None, "应为 {header: …, field: …} 形式"))
        return None
    bad = [k for k in raw if k not in COLUMN_KEYS]
    problems += [Problem(where, None, f"{at}.{k}", None, f"未知的键（可用：{'、'.join(COLUMN_KEYS)}）") for k in bad]
    texts = {k: v for k, v in raw.items() if isinstance(v, str)}
    field, value, fmt, length = (texts.get(k) for k in ("field", "value", "format", "max_length"))
    errors = []
    if "header" not in texts:
        errors.append("缺少 header")
    if (field is None) == (value is None):
        errors.append("field 与 value 必须有且只有一个")
    if field is not None and field not in FIELDS:
        errors.append(f"field“{field}”未知（可用：{'、'.join(FIELDS)}）")
    if (fmt is not None or field == "amount") and (field != "amount" or fmt not in AMOUNT_FORMATS):
        errors.append(f"金额列须写 format: {' 或 '.join(AMOUNT_FORMATS)}，且只有金额列可写 format")
    if length is not None and not re.fullmatch(r"[1-9]\d{0,4}", length):
        errors.append("max_length 应为正整数")
    problems += [Problem(where, None, at, None, e) for e in errors]
    if bad or errors:
        return None
    return Column(texts["header"], field, value, fmt, int(length) if length else None)


def _option(
    tree: dict[str, Tree], key: str, allowed: Mapping[str, object], default: str, where: str, problems: list[Problem]
) -> object:
    raw = tree.get(key, default)
    if not isinstance(raw, str) or raw not in allowed:
        problems.append(Problem(where, None, key, str(raw), f"应为 {' / '.join(allowed)}"))
        return allowed[default]
    return allowed[raw]


def template_from_tree(tree: Tree, where: str) -> BankTemplate:
    if not isinstance(tree, dict):
        raise InputError([Problem(where, None, None, None, "应为 键: 值 的模板")])
    problems = [Problem(where, None, k, None, f"未知的键（可用：{'、'.join(KEYS)}）") for k in tree if k not in KEYS]
    cols = tree.get("columns")
    if not isinstance(cols, list) or not cols:
        problems.append(Problem(where, None, "columns", None, "应列出至少一列"))
        cols = []
    columns = [_column(i, c, where, problems) for i, c in enumerate(cols, 1)]
    fields = {str(c.get("field")) for c in cols if isinstance(c, dict)}  # as written: a bad column is said once
    missing = [f for f in REQUIRED_FIELDS if f not in fields]
    if cols and missing:
        problems.append(
            Problem(where, None, "columns", None, f"缺少必需的列：{'、'.join(missing)}（代发文件须有收款账号和金额）")
        )
    delimiter = tree.get("delimiter", ",")
    if not isinstance(delimiter, str) or len(delimiter) != 1 or delimiter in "\"'\r\n":
        problems.append(Problem(where, None, "delimiter", str(delimiter), "分隔符应为一个字符（如 , 或 \\t）"))
        delimiter = ","
    elif delimiter.isalnum() or delimiter in ".-+":
        problems.append(
            Problem(where, None, "delimiter", delimiter, "分隔符不能是字母、数字或 . - +（它们出现在账号和金额中）")
        )
        delimiter = ","
    name = tree.get("name", where)
    template = BankTemplate(
        name=name if isinstance(name, str) else where,
        columns=tuple(c for c in columns if c is not None),
        encoding=str(_option(tree, "encoding", {e: e for e in ENCODINGS}, "utf-8-sig", where, problems)),
        delimiter=delimiter,
        header=bool(_option(tree, "header", BOOLS, "true", where, problems)),
        line_end=str(_option(tree, "line_end", {"crlf": "\r\n", "lf": "\n"}, "crlf", where, problems)),
        extension=str(_option(tree, "extension", {"csv": "csv", "txt": "txt"}, "csv", where, problems)),
        quote=bool(_option(tree, "quoting", {"minimal": True, "never": False}, "minimal", where, problems)),
    )
    if problems:
        raise InputError(problems)
    return template


def load_template(path: Path) -> BankTemplate:
    """A template file (UTF-8 YAML); InputError with every problem."""
    where = path.name
    try:
        if path.is_dir():
            raise IsADirectoryError(0, "是文件夹，不是文件", str(path))
        text = path.read_text(encoding="utf-8-sig")
    except OSError as e:
        raise InputError([Problem(where, None, None, None, f"无法读取代发模板：{os_reason(e)}")]) from None
    except UnicodeDecodeError:
        raise InputError([Problem(where, None, None, None, "代发模板应为 UTF-8 编码的 YAML 文件")]) from None
    tree, problems = load_text_yaml(text, where)
    if problems or tree is None:
        raise InputError(problems)
    return template_from_tree(tree, where)


# ---- writing --------------------------------------------------------------------------------


def _value(col: Column, r: PayRow, seq: int) -> str:
    if col.value is not None:
        return col.value
    if col.field == "seq":
        return str(seq)
    if col.field == "amount":
        return str(fen(r.amount)) if col.format == "fen" else fmt_amount(r.amount)
    return str(getattr(r, col.field or ""))


def _refusals(t: BankTemplate, col: Column, r: PayRow, text: str, where: str) -> list[Problem]:
    who = f"{r.payee_name}（{r.payee_id}，{PAYEE_KIND_NAMES.get(r.payee_kind, r.payee_kind)}）"
    if col.field in ("amount", "seq"):
        return []
    out: list[str] = []
    if looks_like_formula(text):
        out.append(f"“{text}”开头是 = + - @ 等，电子表格会当作公式；代发文件不改动收款信息，请先更正")
    hidden = next((ch for ch in text if unicodedata.category(ch) in HIDDEN), None)
    if hidden is not None:
        out.append(f"含有换行、控制字符或不可见的格式字符（U+{ord(hidden):04X}），会拆开或改变代发文件的一行")
    if col.max_length is not None and len(text) > col.max_length:
        out.append(f"长度 {len(text)} 超过该列允许的 {col.max_length} 个字符")
    if not t.quote and any(ch in text for ch in (t.delimiter, '"', "\r", "\n")):
        out.append("含有分隔符、引号或换行，而模板规定不加引号")
    return [Problem(where, None, col.header, who, m) for m in out]


def bank_file(rows: Sequence[PayRow], t: BankTemplate, where: str) -> tuple[bytes, list[Problem]]:
    problems: list[Problem] = []
    table = [[c.header for c in t.columns]] if t.header else []
    for seq, r in enumerate(rows, 1):
        if not (r.account_no and r.account_name and r.bank):
            who = f"{r.payee_name}（{r.payee_id}，{PAYEE_KIND_NAMES.get(r.payee_kind, r.payee_kind)}）"
            problems.append(Problem(where, None, "账号", who, "没有收款账户（审批时请用 --payees 提供收款账户文件）"))
            continue
        cells = [_value(c, r, seq) for c in t.columns]
        for c, text in zip(t.columns, cells, strict=True):
            problems += _refusals(t, c, r, text, where)
        table.append(cells)
    if problems:
        return b"", problems
    buf = io.StringIO()
    if t.quote:
        w = csv.writer(buf, delimiter=t.delimiter, lineterminator=t.line_end, quoting=csv.QUOTE_MINIMAL)
    else:  # values that would need quoting were refused above
        w = csv.writer(buf, delimiter=t.delimiter, lineterminator=t.line_end, quoting=csv.QUOTE_NONE)
    try:
        w.writerows(table)
        data = buf.getvalue().encode(t.encoding)
    except (csv.Error, UnicodeEncodeError) as e:
        why = (
            "有文字不能用该编码写出"
            if isinstance(e, UnicodeEncodeError)
            else "有值含分隔符、引号或换行，不加引号无法写出"
        )
        problems.append(Problem(where, None, None, None, f"无法按模板“{t.name}”写出：{why}"))
        data = b""
    return data, problems


def file_name(payer: str, fund: str, extension: str) -> str:
    safe = re.sub(r"[^\w（）()-]", "_", f"{payer}_{fund}")
    return f"代发_{safe}.{extension}"


def bank_files(lists: PaymentLists, template: BankTemplate) -> dict[str, bytes]:
    """One bank file per payer and fund of `lists.payments` (never receivables), name →
    bytes. Raises InputError naming every payee and column that cannot be written as is."""
    problems: list[Problem] = []
    out: dict[str, bytes] = {}
    for payer, _name, fund in lists.groups():
        name = file_name(payer, fund, template.extension)
        if name in out:  # two funds that differ only in characters a file name cannot hold
            name = name.replace(f".{template.extension}", f"_{len(out) + 1}.{template.extension}")
        rows = [r for r in lists.payments if r.group == (payer, fund)]
        data, found = bank_file(rows, template, f"代发文件 {name}（模板：{template.name}）")
        problems += found
        out[name] = data
    if problems:
        raise InputError(problems)
    return out
