"""Small declared YAML files of the paying side (bank templates) read strictly through
model/yamldoc.py: every scalar stays text, a key given twice, an anchor, an alias or a tag is
refused, each with its line."""

from __future__ import annotations

from ..model.problems import Problem
from ..model.yamldoc import YamlError, load

Tree = dict[str, "Tree"] | list["Tree"] | str | None


def load_text_yaml(text: str, where: str) -> tuple[Tree, list[Problem]]:
    """Parse `text`; returns (tree, problems). The tree is None when the text is not YAML."""
    try:
        doc = load(text)
    except YamlError as e:
        return None, [Problem(where, line, None, None, msg) for line, msg in e.problems]
    if doc.data is None:
        return None, [Problem(where, None, None, None, "文件是空的")]
    return doc.data, []
