"""p4p command line. The package itself imports nothing: `p4p.cli.entry` (the console script)
must be able to catch a Ctrl-C while the commands and everything they use are imported. The
click group `main`, the exit codes and the rest are in `commands` and are looked up there on
first use (`from p4p.cli import main` works as before)."""

from __future__ import annotations

TYPE_CHECKING = False  # not typing's: importing typing takes milliseconds before the guard is up
if TYPE_CHECKING:
    from typing import Any

__all__ = ["EXIT_DIFF", "EXIT_FAIL", "EXIT_INPUT", "EXIT_OK", "main"]


def __getattr__(name: str) -> Any:
    if name not in __all__:  # submodules (`from . import zh`) are not looked up here
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from . import commands

    return getattr(commands, name)
