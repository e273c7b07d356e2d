"""The payees file given at approval (`p4p approve RUN --by NAME --payees FILE`, SPEC §9):
a CSV (UTF-8 with or without BOM, or GB18030) or an .xlsx workbook with a sheet 收款账户
(or `payees`), one bank account per (inst_id, payee kind).

Columns (English code or Chinese label): inst_id 机构编码, payee 收款人类型 (institution/机构
or director/院长), account_name 户名, account_no 账号, bank 开户行.

An account number is text of 8–30 ASCII digits. Single spaces between digit groups (as a
card is printed: `6222 0212 3456 7890 123`) are allowed and removed; anything else (a hyphen,
a full-width digit, a leading apostrophe, a tab) is an error. A numeric spreadsheet cell is an
error naming the cell: Excel keeps 15 significant digits, so a 19-digit card number typed as a
number has already become another number. A 16–19-digit number that fails the Luhn check is a
warning (company accounts need not pass it). Names are kept exactly as written, including text
that a spreadsheet would take for a formula (outputs guard it, bank files refuse it).
All problems are reported at once as InputError; warnings are returned with the accounts.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..archive.errors import os_reason
from ..model.problems import InputError, Problem
from .items import PAYEE_KIND_NAMES
from .lists import UNNAMED
from .rows import HIDDEN, Account, PayeeKey, PaymentLists

SHEETS = ("收款账户", "payees")
COLUMNS = {"inst_id": "机构编码", "payee": "收款人类型", "account_name": "户名", "account_no": "账号", "bank": "开户行"}
PAYEE_WORDS = {"institution": "institution", "机构": "institution", "director": "director", "院长": "director"}
MAX_CELL = 10_000
MAX_COLUMNS = 200
_ACCOUNT = re.compile(r"^\d+( \d+)*$", re.ASCII)
_INST_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")


@dataclass(frozen=True)
class Cell:
    """One cell as read: its text, and where it is as the user sees it."""

    text: str
    where: str  # file, or `book sheet!D3` for a workbook cell
    row: int | None  # the spreadsheet row when `where` does not name the cell
    column: str  # the header as written
    kind: str = "s"  # openpyxl data type: s text, n number, f formula, b bool, d date, e error

    def problem(self, message: str, value: str | None = None) -> Problem:
        return Problem(self.where, self.row, self.column, self.text if value is None else value, message)

    @property
    def place(self) -> str:
        """Where the cell is, for a message naming it beside another: `payees.csv 第5行`."""
        return f"{self.where} 第{self.row}行" if self.row else self.where


Row = dict[str, Cell]


@dataclass(frozen=True)
class PayeeBook:
    """The accounts of a payees file, its warnings, and the file's bytes (copied into the
    approval folder as given)."""

    label: str
    accounts: dict[PayeeKey, Account]
    warnings: tuple[Problem, ...] = ()
    data: bytes = field(default=b"", repr=False)


# ---- decoding and tables --------------------------------------------------------------------


def decode_text(data: bytes, label: str) -> tuple[str | None, list[Problem]]:
    """UTF-8 (with or without BOM), else GB18030 — wholly one or the other (SPEC §3): a file
    that is not UTF-8 yet has a line that decodes as UTF-8 to CJK text is mixed and refused.
    (A small decoder of its own, so the paying side does not depend on p4p/read internals.)"""
    try:
        return data.decode("utf-8-sig"), []
    except UnicodeDecodeError:
        pass
    for n, raw in enumerate(data.split(b"\n"), 1):
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if any("\u4e00" <= ch <= "\u9fff" for ch in line):  # a line of UTF-8 CJK text (SPEC §3)
            msg = "这一行是 UTF-8 编码，文件其余部分不是：同一文件混用了两种编码，请整体另存为 UTF-8"
            return None, [Problem(label, n, None, None, msg)]
    try:
        text = data.decode("gb18030")
    except UnicodeDecodeError:
        return None, [Problem(label, None, None, None, "文件编码既不是 UTF-8 也不是 GB18030，请另存为 UTF-8 CSV")]
    return text, []


def _header(names: list[str], label: str, problems: list[Problem], warnings: list[Problem]) -> dict[int, str]:
    """Column position → code, from English codes (any case) or Chinese labels; empty when a
    column is missing or given twice (the rows cannot be read then)."""
    lookup = {**{c: c for c in COLUMNS}, **{v: c for c, v in COLUMNS.items()}}
    if len(names) > MAX_COLUMNS:
        problems.append(Problem(label, 1, None, None, f"表头有 {len(names)} 列，超过 {MAX_COLUMNS} 列"))
        return {}
    out: dict[int, str] = {}
    duplicate = False
    for j, raw in enumerate(names):
        h = raw.strip().lstrip("\ufeff")
        code = lookup.get(h) or lookup.get(h.lower())
        if code in out.values():
            problems.append(Problem(label, 1, h, None, "列名重复"))
            duplicate = True
        elif code:
            out[j] = code
        elif h:
            warnings.append(Problem(label, 1, h, None, "未识别的列，已忽略"))
    before = len(problems)
    for code, name in COLUMNS.items():
        if code not in out.values():
            problems.append(Problem(label, 1, None, None, f"缺少列 {code}（{name}）"))
    return out if len(problems) == before and not duplicate else {}


def read_csv_rows(data: bytes, label: str, problems: list[Problem], warnings: list[Problem]) -> list[Row]:
    text, bad = decode_text(data, label)
    problems += bad
    if text is None:
        return []
    try:
        table = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        problems.append(Problem(label, None, None, None, f"无法解析 CSV：{e}"))
        return []
    if not table or not any(c.strip() for c in table[0]):
        problems.append(Problem(label, None, None, None, "文件是空的（第1行应为表头）"))
        return []
    cols = _header(table[0], label, problems, warnings)
    if not cols:
        return []
    heads = [h.strip().lstrip("\ufeff") for h in table[0]]
    rows = []
    for n, cells in enumerate(table[1:], 2):
        extra = [c for c in cells[len(heads) :] if c.strip()]
        if extra:
            problems.append(
                Problem(label, n, None, ",".join(extra), f"这一行有 {len(cells)} 列，多于表头的 {len(heads)} 列")
            )
        row = {code: Cell(cells[j] if j < len(cells) else "", label, n, heads[j]) for j, code in cols.items()}
        if any(c.text.strip() for c in row.values()):
            rows.append(row)
    return rows


def _xlsx_cell(cell: object, where: str, column: str) -> Cell:
    value = getattr(cell, "value", None)
    kind = str(getattr(cell, "data_type", "s"))
    if value is None:
        return Cell("", where, None, column)
    # a double as Excel shows it in a General cell (15 significant digits)
    text = f"{value:.15g}" if kind == "n" and isinstance(value, float) else str(value)
    return Cell(text, where, None, column, kind)


def read_xlsx_rows(path: Path, label: str, problems: list[Problem], warnings: list[Problem]) -> list[Row]:
    from openpyxl import load_workbook
    from openpyxl.utils import get_column_letter

    try:  # not read-only: a read-only sheet trusts its declared dimension (FINDINGS.md)
        wb = load_workbook(path, read_only=False, data_only=False)
    except Exception:  # openpyxl's reasons are English ("File is not a zip file")
        problems.append(
            Problem(label, None, None, None, f"无法打开工作簿（不是有效的 .xlsx 文件）：{_what_it_is(path)}")
        )
        return []
    found = [ws for ws in wb.worksheets if ws.title.strip() in SHEETS or ws.title.strip().lower() == "payees"]
    if len(found) != 1:
        names = "、".join(ws.title for ws in wb.worksheets)
        msg = "只能有一个" if found else "缺少"
        problems.append(Problem(label, None, None, names, f"{msg}工作表“收款账户”（或 payees）"))
        return []
    ws = found[0]
    if ws.sheet_state != "visible":
        problems.append(Problem(f"{label} {ws.title}", None, None, None, "收款账户工作表是隐藏的，请取消隐藏后再用"))
        return []
    grid = [list(r) for r in ws.iter_rows()]
    hidden = _hidden_or_merged(ws, grid, f"{label} {ws.title}")
    if hidden:
        problems.extend(hidden)
        return []
    if not grid or not any(c.value not in (None, "") for c in grid[0]):
        problems.append(Problem(f"{label} {ws.title}", None, None, None, "工作表是空的（第1行应为表头）"))
        return []
    heads = ["" if c.value is None else str(c.value) for c in grid[0]]
    cols = _header(heads, f"{label} {ws.title}", problems, warnings)
    if not cols:
        return []
    rows = []
    for n, cells in enumerate(grid[1:], 2):
        row = {
            code: _xlsx_cell(
                cells[j] if j < len(cells) else None, f"{label} {ws.title}!{get_column_letter(j + 1)}{n}", heads[j]
            )
            for j, code in cols.items()
        }
        if any(c.text.strip() for c in row.values()):
            rows.append(row)
    return rows


def _what_it_is(path: Path) -> str:
    from ..read.workbook import not_a_workbook

    try:
        what = not_a_workbook(path.read_bytes())
    except OSError as e:
        return os_reason(e)
    return what.replace("CSV 文件请放进输入文件夹", "收款账户的 CSV 文件请用 .csv 扩展名")  # not an input here


def _hidden_or_merged(ws: object, grid: list[list[object]], where: str) -> list[Problem]:
    """Rows or columns hidden (or filtered out) with something in them, and merged ranges: the
    clerk does not see what p4p would pay into (a hidden row with another account), or a merged
    户名 stands in its first row only."""
    used = {c.row for row in grid for c in row if getattr(c, "value", None) not in (None, "")}  # type: ignore[attr-defined]
    rows = sorted(r for r, d in ws.row_dimensions.items() if d.hidden and r in used)  # type: ignore[attr-defined]
    cols = sorted(k for k, d in ws.column_dimensions.items() if d.hidden)  # type: ignore[attr-defined]
    merged = [str(m) for m in ws.merged_cells.ranges]  # type: ignore[attr-defined]
    listed = "、".join(str(r) for r in rows[:20]) + ("…" if len(rows) > 20 else "")
    whys = [
        f"第 {listed} 行是隐藏的（或被筛选掉），其中有内容；请取消隐藏或筛选，核对后再用" if rows else "",
        f"列 {'、'.join(cols)} 是隐藏的；请取消隐藏，核对后再用" if cols else "",
        f"有合并单元格 {'、'.join(merged[:20])}：合并后的内容只在第一个单元格中；请取消合并，每行填写完整"
        if merged
        else "",
    ]
    out = [Problem(where, None, None, None, why) for why in whys if why]
    return out


# ---- checks ---------------------------------------------------------------------------------


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _text_cell(cell: Cell, problems: list[Problem], required: bool = True) -> str | None:
    """A text column: formulas and dates are refused; a whole number cell is read as its digits."""
    if cell.kind in ("f", "e", "d", "b"):
        what = {"f": "公式", "e": "错误值", "d": "日期", "b": "逻辑值"}[cell.kind]
        problems.append(cell.problem(f"应为文字，不能是{what}单元格"))
        return None
    if len(cell.text) > MAX_CELL:
        problems.append(cell.problem(f"单元格超过 {MAX_CELL} 个字符"))
        return None
    text = cell.text.strip()
    hidden = [ch for ch in text if unicodedata.category(ch) in HIDDEN]
    if hidden:
        shown = "".join(f"<U+{ord(ch):04X}>" if ch in hidden else ch for ch in text)
        problems.append(
            cell.problem(
                f"含有换行、控制字符或不可见的格式字符（U+{ord(hidden[0]):04X}）：它们会拆开代发文件的一行，"
                "或让打印出的户名与实际不同；代发文件不改动收款信息，请删去后重新审批",
                shown,
            )
        )
        return None
    if cell.kind == "n" and not re.fullmatch(r"\d+", text):
        problems.append(cell.problem("应为文字"))
        return None
    if required and not text:
        problems.append(cell.problem("不能为空"))
        return None
    return text


def account_number(cell: Cell, problems: list[Problem], warnings: list[Problem]) -> str | None:
    if cell.kind == "n":
        problems.append(
            cell.problem(
                "账号是数字单元格：Excel 只保留 15 位有效数字，长账号（如 19 位卡号）输入为数字后已变成另一个号码。"
                "请把该列设为“文本”格式，重新输入账号"
            )
        )
        return None
    text = _text_cell(cell, problems)
    if text is None:
        return None
    if not _ACCOUNT.match(text):
        problems.append(cell.problem("账号只能由半角数字组成（数字组之间可有单个空格）"))
        return None
    digits = text.replace(" ", "")
    if not 8 <= len(digits) <= 30:
        problems.append(cell.problem(f"账号应为 8–30 位数字，这里是 {len(digits)} 位"))
        return None
    if 16 <= len(digits) <= 19 and not luhn_ok(digits):
        warnings.append(cell.problem("该 16–19 位账号未通过银行卡校验位（Luhn）检查，请核对是否录错（对公账户可忽略）"))
    return digits


def _payee_kind(cell: Cell, problems: list[Problem]) -> str | None:
    text = _text_cell(cell, problems)
    if text is None:
        return None
    kind = PAYEE_WORDS.get(text) or PAYEE_WORDS.get(text.lower())
    if kind is None:
        problems.append(cell.problem("收款人类型应为 institution（机构）或 director（院长）"))
    return kind


def _inst_id(
    cell: Cell, institutions: Mapping[str, str], problems: list[Problem], warnings: list[Problem]
) -> str | None:
    """The row's inst_id when the run has it. A well-formed id the run does not have is a
    warning, not an error: one payees file serves the whole year, and a unit absent this
    quarter keeps its row. A mistyped id cannot go unnoticed — the payee it was meant for has
    no account then, which is an error."""
    text = _text_cell(cell, problems)
    if text is None:
        return None
    if not _INST_ID.match(text):
        problems.append(cell.problem("机构编码应为 1–32 位字母、数字、_ 或 -，以字母或数字开头"))
        return None
    if text not in institutions:
        warnings.append(cell.problem("本次运行的台账中没有这个机构编码：该行本次未使用"))
        return None
    return text


def accounts_from_rows(
    rows: list[Row], institutions: Mapping[str, str], problems: list[Problem], warnings: list[Problem]
) -> tuple[dict[PayeeKey, Account], set[PayeeKey]]:
    """The valid accounts, and every (inst_id, payee kind) the file has a row for (valid or not)."""
    accounts: dict[PayeeKey, Account] = {}
    first: dict[PayeeKey, Cell] = {}
    holders: dict[str, tuple[PayeeKey, Cell]] = {}  # account number → the first payee given it
    for row in rows:
        inst = _inst_id(row["inst_id"], institutions, problems, warnings)
        kind = _payee_kind(row["payee"], problems)
        name = _text_cell(row["account_name"], problems)
        number = account_number(row["account_no"], problems, warnings)
        bank = _text_cell(row["bank"], problems)
        if inst is None or kind is None:
            continue
        key = (inst, kind)
        if key in first:
            problems.append(
                row["inst_id"].problem(
                    f"{inst} 的{PAYEE_KIND_NAMES[kind]}账户重复（已在 {first[key].place} 给出）；每个收款人只能有一个账户"
                )
            )
            continue
        first[key] = row["inst_id"]
        if number is not None:
            _shared_account(number, key, row["account_no"], holders, warnings)
        if name is not None and number is not None and bank is not None:
            accounts[key] = Account(name, number, bank, row["inst_id"].row)
    return accounts, set(first)


def _shared_account(
    number: str, key: PayeeKey, cell: Cell, holders: dict[str, tuple[PayeeKey, Cell]], warnings: list[Problem]
) -> None:
    """One account number given to two payees: money of one would reach the other. A warning,
    not an error (a village's funds may be paid into its township's account, 乡管村用)."""
    if number not in holders:
        holders[number] = (key, cell)
        return
    (inst, kind), seen = holders[number]
    also = "；院长个人绩效将转入他人账户" if "director" in (kind, key[1]) else ""
    warnings.append(
        cell.problem(
            f"与 {seen.place}（{inst} 的{PAYEE_KIND_NAMES[kind]}账户）是同一账号：两个收款人的款项将转入同一账户"
            f"{also}，请核对"
        )
    )


# ---- entry points ---------------------------------------------------------------------------


@dataclass
class _Read:
    accounts: dict[PayeeKey, Account]
    listed: set[PayeeKey]  # payees the file has a row for, valid or not
    problems: list[Problem]
    warnings: list[Problem]
    data: bytes
    has_table: bool  # the file gave a table with all columns (so coverage can be judged)


def _read(path: Path, institutions: Mapping[str, str]) -> _Read:
    label = path.name
    problems: list[Problem] = []
    warnings: list[Problem] = []
    try:
        if path.is_dir():
            raise IsADirectoryError(0, "是文件夹，不是文件", str(path))
        data = path.read_bytes()
    except OSError as e:
        return _Read(
            {}, set(), [Problem(label, None, None, None, f"无法读取收款账户文件：{os_reason(e)}")], [], b"", False
        )
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        rows = read_xlsx_rows(path, label, problems, warnings)
    elif path.suffix.lower() in (".csv", ".txt"):
        rows = read_csv_rows(data, label, problems, warnings)
    else:
        return _Read({}, set(), [Problem(label, None, None, None, "收款账户文件应为 .csv 或 .xlsx")], [], data, False)
    has_table = not any(p.row in (None, 1) for p in problems)  # file-, sheet- or header-level
    accounts, listed = accounts_from_rows(rows, institutions, problems, warnings)
    return _Read(accounts, listed, problems, warnings, data, has_table)


def read_payees(path: Path, institutions: Mapping[str, str]) -> PayeeBook:
    """Read and check a payees file against the run's institutions (inst_id → name, e.g. from
    `institutions_of(ledger)`). Raises InputError with every problem."""
    got = _read(path, institutions)
    if got.problems:
        raise InputError(got.problems)
    return PayeeBook(path.name, got.accounts, tuple(got.warnings), got.data)


def institutions_of(ledger: Iterable[Mapping[str, str]]) -> dict[str, str]:
    return {str(line["inst_id"]): str(line.get("inst_name", "")) for line in ledger}


def coverage(
    label: str, accounts: Mapping[PayeeKey, Account], lists: PaymentLists, listed: set[PayeeKey] | None = None
) -> tuple[list[Problem], list[Problem]]:
    """(problems, warnings): every payee of a payment must have an account (a payee whose row
    is already reported as wrong, in `listed`, is not reported twice); a director's account
    held in another name is a warning. Receivables need no account: the payee pays back, and
    a unit that has left the alliance may have none."""
    problems: list[Problem] = []
    warnings: list[Problem] = []
    for r in lists.payments:
        acc = accounts.get(r.payee_key)
        unnamed = r.payee_name.endswith(UNNAMED)  # no name to compare with (already a warning)
        who = f"{r.payee_name}（{r.payee_id}，{PAYEE_KIND_NAMES.get(r.payee_kind, r.payee_kind)}）"
        if acc is None and r.payee_key not in (listed or set()):
            msg = f"{r.payer_name} · {r.fund} 应付 {r.amount} 元，但文件中没有该收款人的账户"
            problems.append(Problem(label, None, None, who, msg))
        elif acc is not None and r.payee_kind == "director" and acc.account_name != r.payee_name and not unnamed:
            msg = f"院长个人账户的户名与机构表中的院长姓名“{r.payee_name}”不一致，请核对"
            warnings.append(Problem(label, acc.row, "户名", acc.account_name, msg))
    return problems, warnings


def _unused_director_rows(label: str, accounts: Mapping[PayeeKey, Account], lists: PaymentLists) -> list[Problem]:
    """A `director` row for an institution with no director line (a village, a county hospital)."""
    paid = {r.payee_key for r in (*lists.payments, *lists.receivables, *lists.netted_to_zero)}
    return [
        Problem(
            label,
            acc.row,
            "inst_id",
            inst,
            f"{inst} 在本次台账中没有院长个人的款项（村卫生室和县级医院没有"
            "院长绩效）：这一行未使用，请核对机构编码或收款人类别",
        )
        for (inst, kind), acc in sorted(accounts.items())
        if kind == "director" and (inst, kind) not in paid
    ]


def validate_payees(
    path: Path, ledger: Iterable[Mapping[str, str]], lists: PaymentLists, full: PaymentLists | None = None
) -> PayeeBook:
    """What approval calls: read the file and check it against the lists — one InputError
    with the file's problems and the missing accounts together (coverage is judged only when
    the file's table itself could be read). `full`: the run's whole lists when `lists` are a
    correction's (a director row is unused only if the run pays that director nothing at all)."""
    got = _read(path, institutions_of(ledger))
    problems, warnings = got.problems, got.warnings
    if got.has_table:
        missing, mismatched = coverage(path.name, got.accounts, lists, got.listed)
        unused = _unused_director_rows(path.name, got.accounts, full or lists)
        problems, warnings = problems + missing, warnings + unused + mismatched
    if problems:
        raise InputError(problems)
    return PayeeBook(path.name, got.accounts, tuple(warnings), got.data)
