"""The archive's public names as the rest of p4p imported them before the archive was split
into modules with one job each (runfolder, manifest, lock, chain, headfile, keys, approval,
history, verify). New code imports from those modules."""

from __future__ import annotations

from .clock import utc_now
from .digest import sha256
from .errors import ArchiveError, MissingHistory, NoArchive
from .history import approval_label, history_from, prior_quarters
from .layout import archive_of
from .manifest import load_manifest

__all__ = [
    "ArchiveError",
    "MissingHistory",
    "NoArchive",
    "approval_label",
    "archive_of",
    "history_from",
    "load_manifest",
    "prior_quarters",
    "sha256",
    "utc_now",
]
