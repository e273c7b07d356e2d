"""Orchestration used by the CLI: a run (read → validate → compute → archive → statements),
approval, replay and diff. Nothing here computes money; it wires the layers in their order."""

from .approve import approval_stamp, approve
from .context import Context, archived_input
from .diff import diff_rows
from .replay import Replayed, replay
from .run import DEFAULT_RULES, XLSX_MAX_LINES, Computed, compute_run, new_run_id, run_manifest, write

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
