"""Imports follow the data flow (README "Architecture"): a module imports from its own package
and from packages to its left in model → lang → read → ruleset → engine → archive → pay →
report → app → cli, never from one to its right — including imports inside functions."""

from __future__ import annotations

import ast
from pathlib import Path

from conftest import ROOT

ORDER = ["model", "lang", "read", "ruleset", "engine", "archive", "pay", "report", "app", "cli"]


def layer_of(module: str) -> str | None:
    """'p4p.engine.kinds' → 'engine'; p4p's top-level modules belong to no layer."""
    parts = module.split(".")
    if parts[0] != "p4p" or len(parts) < 2:
        return None
    return parts[1] if parts[1] in ORDER else None


def imported_modules(path: Path, package: str) -> list[tuple[int, str]]:
    """Every p4p module `path` imports (absolute, or relative resolved against `package`)."""
    out = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
                names = [target] if node.module else [f"{target}.{a.name}" for a in node.names]
            else:
                names = [node.module or ""]
            out += [(node.lineno, n) for n in names]
        elif isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
    return [(line, m) for line, m in out if m.startswith("p4p")]


def violations() -> list[str]:
    found = []
    for path in sorted((ROOT / "p4p").rglob("*.py")):
        rel = path.relative_to(ROOT).with_suffix("")
        module = ".".join(rel.parts)
        package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
        own = layer_of(module)
        if own is None:
            continue
        for line, target in imported_modules(path, package):
            other = layer_of(target)
            if other is not None and ORDER.index(other) > ORDER.index(own):
                found.append(f"{rel}.py:{line} ({own}) imports {target} ({other})")
    return found


def test_no_module_imports_against_the_flow():
    assert violations() == []


def test_the_check_sees_a_backward_import(tmp_path):
    """The checker itself: an engine module importing report is found (relative and absolute)."""
    f = tmp_path / "m.py"
    f.write_text("from ..report.pdf import x\nimport p4p.cli\nfrom ..model import money\n")
    assert [m for _, m in imported_modules(f, "p4p.engine")] == ["p4p.report.pdf", "p4p.cli", "p4p.model"]
    assert layer_of("p4p.report.pdf") == "report" and layer_of("p4p.resources") is None
