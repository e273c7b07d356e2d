"""Verification of the run folders: every file against its manifest, the manifest's own
metadata against its file list, and anything in a period folder that is not a run."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .findings import Finding
from .layout import MANIFEST, period_dirs
from .manifest import folder_hash, manifest_or_none, run_file_findings


@dataclass
class RunInfo:
    rel: str  # <period>/<run_id>
    path: Path
    manifest: dict[str, Any] | None
    run_hash: str | None

    @property
    def priors(self) -> list[dict[str, Any]]:
        p = (self.manifest or {}).get("prior_runs")
        return [x for x in p if isinstance(x, dict)] if isinstance(p, list) else []


def scan_runs(archive: Path) -> tuple[list[RunInfo], list[Finding]]:
    runs, out = [], []
    for pd in period_dirs(archive):
        for entry in sorted(pd.iterdir()):
            rel = f"{pd.name}/{entry.name}"
            if not entry.is_dir() or entry.is_symlink():
                out.append(Finding(rel, "期间目录中多出的文件（不是运行目录）"))
                continue
            out += run_file_findings(entry, rel)
            m = manifest_or_none(entry)
            if m is not None and (m.get("period") != pd.name or m.get("run_id") != entry.name):
                out.append(
                    Finding(
                        f"{rel}/{MANIFEST}",
                        f"manifest 记的是 {m.get('period')}/{m.get('run_id')}，与所在目录不符：运行目录被改名或移动",
                    )
                )
            runs.append(RunInfo(rel, entry, m, folder_hash(entry)))
    return runs, out
