"""What archive operations raise: a Chinese message for people, an exit code for the CLI."""

from __future__ import annotations


class ArchiveError(Exception):
    """A refused or impossible archive operation (exit 1)."""


class MissingHistory(ArchiveError):
    """A Q4 run without its approved Q1–Q3: rejected input (exit 2)."""


class NoArchive(ArchiveError):
    """There is no archive at the path given (exit 1)."""
