"""bundles/: the statements again, for people who file them by name and by township (SPEC §5).

    bundles/机构/<inst_id>-<name>.pdf      a copy of statements/<inst_id>.pdf named with the
                                          institution's name (letters, digits and CJK only)
    bundles/乡镇/<inst_id>-<name>.pdf      per township: its centre's statement, then its
                                          villages', in one PDF

statements/<inst_id>.pdf stays the document of record; the names are never trusted as paths."""

from __future__ import annotations

import shutil
from collections import defaultdict
from pathlib import Path

from ..engine.trace import TraceLine
from .display import safe_file_name

BY_INSTITUTION, BY_TOWNSHIP = "机构", "乡镇"


def named(inst_id: str, name: str) -> str:
    safe = safe_file_name(name)
    return f"{inst_id}-{safe}.pdf" if safe else f"{inst_id}.pdf"


def _institutions(lines: list[TraceLine]) -> dict[str, TraceLine]:
    out: dict[str, TraceLine] = {}
    for t in lines:
        out.setdefault(t.inst_id, t)
    return out


def copy_named(lines: list[TraceLine], statements: Path, bundles: Path) -> None:
    target = bundles / BY_INSTITUTION
    target.mkdir(parents=True, exist_ok=True)
    for iid, t in sorted(_institutions(lines).items()):
        shutil.copyfile(statements / f"{iid}.pdf", target / named(iid, t.inst_name))


def bundle_tasks(lines: list[TraceLine], statements: Path, bundles: Path) -> list[tuple[str, str, list[str]]]:
    """One ('merge', out, [statement PDFs]) per township: the township first, then its villages."""
    insts = _institutions(lines)
    villages: dict[str, list[str]] = defaultdict(list)
    for iid, t in insts.items():
        if t.kind == "village" and t.parent_id in insts:
            villages[t.parent_id].append(iid)
    target = bundles / BY_TOWNSHIP
    target.mkdir(parents=True, exist_ok=True)
    tasks = []
    for iid, t in sorted(insts.items()):
        if t.kind == "township":
            parts = [iid, *sorted(villages.get(iid, []))]
            tasks.append(
                ("merge", str(target / named(iid, t.inst_name)), [str(statements / f"{p}.pdf") for p in parts])
            )
    return tasks


def merge_pdfs(parts: list[str], out: str) -> None:
    """The pages of `parts` in order, as one PDF (pages only: ~20 % faster than PdfWriter.append)."""
    from pypdf import PdfReader, PdfWriter

    writer = PdfWriter()
    for p in parts:
        for page in PdfReader(p).pages:
            writer.add_page(page)
    with open(out, "wb") as f:
        writer.write(f)
