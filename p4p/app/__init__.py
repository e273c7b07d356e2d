"""Orchestration used by the CLI: a run (read → validate → compute → archive → statements),
approval, replay and diff. Nothing here computes money; it wires the layers in their order.

Approval (payment lists, PDFs) and batch (Dask) are imported when first used, so `p4p run`
does not pay for them at start-up."""

from typing import Any

from .context import Context, archived_input
from .diff import diff_rows
from .replay import Replayed, replay
from .run import DEFAULT_RULES, XLSX_MAX_LINES, Computed, compute_run, new_run_id, run_manifest, write

_LATER = {"approve": "approve", "approval_stamp": "approve"}


def __getattr__(name: str) -> Any:
    if name in _LATER:
        import importlib

        return getattr(importlib.import_module(f".{_LATER[name]}", __name__), name)
    raise AttributeError(name)


__all__ = [
    "DEFAULT_RULES",
    "XLSX_MAX_LINES",
    "Computed",
    "Context",
    "Replayed",
    "approval_stamp",
    "approve",
    "archived_input",
    "compute_run",
    "diff_rows",
    "new_run_id",
    "replay",
    "run_manifest",
    "write",
]
