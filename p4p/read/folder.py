"""An alliance-quarter as a folder: one CSV file per table plus period.yaml (SPEC §3)."""

from __future__ import annotations

from pathlib import Path

from ..model.fields import TABLES
from ..model.problems import Problem, clip
from ..model.yamldoc import YamlError, load
from .csvfile import read_csv_table
from .encoding import to_utf8
from .period import Entry
from .tables import RawTable, some

PERIOD_FILE = "period.yaml"
MAX_PERIOD_BYTES = 64 * 1024  # a few keys; anything larger is not a period file
_INPUT_LIKE = (".csv", ".yaml", ".yml", ".xlsx", ".xlsm", ".xls", ".txt")


def read_folder(
    folder: Path, problems: list[Problem], warnings: list[str]
) -> tuple[dict[str, RawTable], list[Entry] | None, dict[str, bytes]]:
    """The tables, the period entries (None if period.yaml is missing or unreadable) and the
    bytes of every file read (for the archive)."""
    tables: dict[str, RawTable] = {}
    files: dict[str, bytes] = {}
    for name in TABLES:
        p = folder / f"{name}.csv"
        if not p.is_file():
            label = TABLES[name]["label"]
            problems.append(Problem(p.name, None, None, None, _missing(p, f"{p.name}（{label}）", label)))
            continue
        files[p.name] = p.read_bytes()
        t = read_csv_table(p.name, files[p.name], name, problems, warnings)
        if t is not None:
            tables[name] = t
    entries = None
    p = folder / PERIOD_FILE
    if not p.is_file():
        problems.append(Problem(PERIOD_FILE, None, None, None, _missing(p, PERIOD_FILE)))
    else:
        files[p.name] = p.read_bytes()
        entries = period_entries(files[p.name], problems)
    known = {f"{n}.csv" for n in TABLES} | {PERIOD_FILE}
    others = sorted(
        q.name for q in folder.iterdir() if q.suffix.lower() in _INPUT_LIKE and q.name not in known and q.is_file()
    )
    if others:
        warnings.append(f"文件夹中的 {some([clip(o, 100) for o in others])} 不是 p4p 的输入文件，已忽略")
    return tables, entries, files


def _missing(p: Path, what: str, label: str | None = None) -> str:
    """Why there is no file `what` at `p`: none, a folder of that name, a broken link — and the
    files of the folder that look meant for it (another case, a doubled or other extension as
    Windows hides it, the Chinese name)."""
    if p.is_dir():
        return f"这是一个文件夹，不是文件；缺少文件 {what}"
    if p.is_symlink():
        return f"这是一个链接（快捷方式），它指向的文件不存在；缺少文件 {what}"
    if p.exists():
        return f"这不是普通文件；缺少文件 {what}"
    stem = p.stem.lower()
    near = sorted(
        q.name
        for q in p.parent.iterdir()
        if q.name != p.name
        and (q.name.lower().startswith(f"{stem}.") or q.name.lower().startswith(f"{stem} ")
             or (label is not None and q.stem.strip() == label))
    )  # fmt: skip
    if near:
        return f"缺少文件 {what}；文件夹中有 {'、'.join(near[:5])}，文件名应为 {p.name}（请改名）"
    return f"缺少文件 {what}"


def period_entries(data: bytes, problems: list[Problem]) -> list[Entry] | None:
    """The key/value entries of period.yaml, read strictly (model/yamldoc.py: every value the
    text written, duplicate keys, anchors, aliases and tags refused); None after a problem."""
    if len(data) > MAX_PERIOD_BYTES:
        problems.append(Problem(PERIOD_FILE, None, None, None, f"文件过大（超过 {MAX_PERIOD_BYTES // 1024} KB）"))
        return None
    utf8 = to_utf8(data, PERIOD_FILE, problems)
    if utf8 is None:
        return None
    try:
        doc = load(utf8.decode("utf-8"))
    except YamlError as e:
        problems.extend(Problem(PERIOD_FILE, line, None, None, msg) for line, msg in e.problems)
        return None
    if doc.data is None:
        problems.append(Problem(PERIOD_FILE, None, None, None, "文件是空的"))
        return None
    if not isinstance(doc.data, dict):
        problems.append(Problem(PERIOD_FILE, doc.line(()), None, None, "应为“键: 值”的形式，每行一项"))
        return None
    entries = []
    for key, value in doc.data.items():
        line = doc.line((key,))
        if isinstance(value, (dict, list)):
            problems.append(
                Problem(PERIOD_FILE, line, None, None, "值应为单个数字或文字，不能是列表或嵌套的键值", key=key)
            )
        else:
            entries.append(Entry(key, value, PERIOD_FILE, line, PERIOD_FILE, line))
    return entries
