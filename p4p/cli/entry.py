"""The `p4p` console script and `python -m p4p.cli`: the commands run under click, which turns a
Ctrl-C into 已中止。 and exit 1 — but importing them takes a few tenths of a second, and a Ctrl-C
then (or after click is done) would end in a Python traceback. Here it ends the same way at any
moment. This module imports nothing of p4p before the guard."""

from __future__ import annotations

import sys

ABORTED = "已中止。"  # click's "Aborted!" as p4p words it (cli/zh.py)


def main() -> None:
    try:
        from .commands import main as commands

        commands()
    except KeyboardInterrupt:
        aborted()


def aborted() -> None:
    try:
        sys.stderr.write(ABORTED + "\n")
        sys.stderr.flush()
    except (OSError, ValueError, KeyboardInterrupt):
        pass
    raise SystemExit(1)


if __name__ == "__main__":
    main()
