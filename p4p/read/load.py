"""Read and validate one alliance-quarter: a folder of CSV files + period.yaml, or a workbook."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from pathlib import Path

from ..model.facts import Period, Quarter
from ..model.problems import InputError, Problem
from .folder import read_folder
from .period import build_period
from .validate import validate

WORKBOOK_SUFFIXES = (".xlsx", ".xlsm")
_WRONG_KIND = {
    ".xls": ".xls 是旧版 Excel 格式，不支持；请在 Excel 中另存为 .xlsx 工作簿",
    ".xlsb": ".xlsb（二进制工作簿）不支持；请在 Excel 中另存为 .xlsx 工作簿",
    ".et": "WPS 表格格式不支持；请另存为 .xlsx 工作簿",
    ".ods": "OpenDocument 表格不支持；请另存为 .xlsx 工作簿",
    ".numbers": "Numbers 表格不支持；请导出为 .xlsx 工作簿",
    ".csv": "这是单个 CSV 文件；输入应为包含 institutions.csv、assessment.csv、workpoints.csv、"
    "village_income.csv 和 period.yaml 的文件夹，或一个 .xlsx 工作簿",
    ".yaml": "这是单个文件；输入应为包含各 CSV 文件和 period.yaml 的文件夹，或一个 .xlsx 工作簿",
}


def input_kind_problem(path: Path) -> str | None:
    """Why `path` cannot be an input (a folder or an .xlsx/.xlsm workbook), or None."""
    if path.is_dir():
        return None
    if not path.exists():
        return "路径不存在（输入应为文件夹或 .xlsx 工作簿）"
    suffix = path.suffix.lower()
    if path.is_file() and suffix in WORKBOOK_SUFFIXES:
        return None
    if suffix in _WRONG_KIND:
        return _WRONG_KIND[suffix]
    if suffix == ".yml":
        return _WRONG_KIND[".yaml"]
    return f"不支持的输入：{path.name}（输入应为文件夹或 .xlsx 工作簿）"


_PERIOD_IN_NAME = re.compile(r"(?<![0-9])(20[0-9]{2})\s*[Qq]\s*([1-4])(?![0-9])")


def _name_and_period(path: Path, period: str, label: str, warnings: list[str]) -> None:
    """A folder or workbook named for another quarter than its period says (Q1's folder copied
    for Q2, period.yaml not changed): a warning naming both."""
    named = {f"{m[0]}Q{m[1]}" for m in _PERIOD_IN_NAME.findall(path.stem if path.is_file() else path.name)}
    if named and period not in named:
        warnings.append(f"输入“{path.name}”的名称是 {'、'.join(sorted(named))}，但{label} 中的期间（period）是 {period}；"
                        "请核对是否复制了上一季度的输入而没有改期间")  # fmt: skip


def load_quarter(path: str | Path, service_items: Callable[[Period], Iterable[str]]) -> Quarter:
    """Read and validate an input folder (or .xlsx workbook); raise InputError with every problem."""
    path = Path(path)
    why = input_kind_problem(path)
    if why:
        raise InputError([Problem(str(path), None, None, None, why)])
    problems: list[Problem] = []
    warnings: list[str] = []
    if path.is_dir():
        tables, entries, files = read_folder(path, problems, warnings)
        label = "period.yaml"
    else:
        files = {path.name: path.read_bytes()}
        from .workbook import read_workbook  # openpyxl only when a workbook is read

        tables, entries = read_workbook(files[path.name], path.name, problems, warnings)
        label = f"{path.name} 期间"
    period = build_period(entries, label, problems, warnings) if entries is not None else None
    if period is not None:
        _name_and_period(path, period.period, label, warnings)
    q = validate(tables, period, files, service_items, problems, warnings)
    if problems or q is None:
        raise InputError(problems, warnings)
    return q
