"""The `p4p` console script and `python -m p4p.cli`: the commands run under click, which turns a
Ctrl-C into 已中止。 and exit 1 — but importing them takes a few tenths of a second, and a Ctrl-C
then (or after click is done) would end in a Python traceback. Here it ends the same way at any
moment. This module imports nothing of p4p before the guard."""

from __future__ import annotations

import os
import sys

ABORTED = "已中止。"  # click's "Aborted!" as p4p words it (cli/zh.py)


def main() -> None:
    try:
        from .commands import main as commands

        commands()
    except KeyboardInterrupt:
        aborted()


def aborted() -> None:
    """已中止。 and exit 1 at once. Not through SystemExit: the interpreter's shut-down after an
    interrupted import now and then ended by the signal itself (exit -2 instead of 1, seen once
    in a few dozen Ctrl-Cs under load); nothing is left to clean up — the command never started,
    or click has finished it."""
    for stream in (sys.stdout, sys.stderr):
        try:
            if stream is sys.stderr:
                stream.write(ABORTED + "\n")
            stream.flush()
        except (OSError, ValueError, KeyboardInterrupt):
            pass
    os._exit(1)


if __name__ == "__main__":
    main()
