"""Where the data p4p ships lives: the reference ruleset and the statement templates.

In a source checkout (and an editable install) they are the top-level `rules/` and
`templates/` folders; a wheel carries the same folders as `p4p/data/rules` and
`p4p/data/templates` (pyproject.toml maps them in), so an installed `p4p` works from any folder.
"""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def _shipped(name: str) -> Path:
    packaged = _PACKAGE / "data" / name
    return packaged if packaged.is_dir() else _PACKAGE.parent / name


RULES_DIR = _shipped("rules")
REFERENCE_RULES = RULES_DIR / "huangshan-2026"
TEMPLATES = _shipped("templates")
