"""The wheel carries every package of p4p and the data it ships (pyproject.toml lists the
packages explicitly because rules/ and templates/ are mapped into p4p/data/)."""

import tomllib

from conftest import ROOT


def test_every_package_is_listed_for_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "p4p").rglob("__init__.py")}
    assert found <= listed, sorted(found - listed)


def test_shipped_data_is_mapped_into_the_package():
    cfg = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert cfg["package-dir"]["p4p.data.rules"] == "rules"
    assert cfg["package-dir"]["p4p.data.templates"] == "templates"
    assert "**/*.yaml" in cfg["package-data"]["p4p.data.rules"]
