"""Read and validate one alliance-quarter: a folder of CSV files + period.yaml, or a workbook."""

from __future__ import annotations

from pathlib import Path

from ..model.facts import Quarter
from ..model.problems import InputError, Problem
from .tables import read_folder
from .validate import validate
from .workbook import read_workbook


def load_quarter(path: str | Path, service_items) -> Quarter:
    """Read and validate an input folder (or .xlsx workbook); raise InputError with every problem."""
    path = Path(path)
    problems: list[Problem] = []
    if path.is_file() and path.suffix.lower() in (".xlsx", ".xlsm"):
        tables, period_src, files = read_workbook(path, problems)
    elif path.is_dir():
        tables, period_src, files = read_folder(path, problems)
    else:
        raise InputError([Problem(str(path), None, None, None, "找不到输入文件夹或工作簿")])
    q = validate(tables, period_src, files, service_items, problems)
    if problems:
        raise InputError(problems)
    return q
