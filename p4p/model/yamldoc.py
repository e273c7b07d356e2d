"""YAML read strictly, for files people edit (rulesets, period.yaml).

PyYAML's `safe_load` reads `03200000` as octal, `0x10` as hex, `1:30` as 90, keeps the last of
two equal keys and expands aliases (a few lines can expand to gigabytes). Here every scalar stays
the text it was written as (the schema that reads it decides what it means), a key given twice,
an anchor, an alias or an explicit tag is an error, and every key and list item keeps the line
it was written on, so a problem can be reported as file + line.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

# A plain (unquoted) scalar that means "nothing": `band: [90, null]`, `key:` with no value.
_NULLS = {"", "~", "null", "Null", "NULL"}
MAX_NODES = 200_000  # far above any real ruleset; keeps a pasted blob from taking minutes
# libyaml's parser when PyYAML was built with it (same events and nodes, ~5× faster)
_LOADER = getattr(yaml, "CBaseLoader", yaml.BaseLoader)

Path = tuple[str | int, ...]


class YamlError(Exception):
    """Problems of the YAML text itself, each `(line, message)` in Chinese."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        super().__init__("; ".join(m for _, m in problems))
        self.problems = problems


@dataclass
class Document:
    """The data (dicts, lists, str and None only) and the line of every key and list item."""

    data: Any
    lines: dict[Path, int] = field(default_factory=dict)

    def line(self, path: Path) -> int | None:
        """The line of `path`, or of the nearest enclosing key or item that has one."""
        p = tuple(path)
        while p:
            if p in self.lines:
                return self.lines[p]
            p = p[:-1]
        return self.lines.get((), None)


def _parse(text: str) -> Document:
    try:
        root = yaml.compose(text, Loader=_LOADER)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise YamlError([(line, f"YAML 格式错误：{getattr(e, 'problem', None) or e}")]) from None
    doc = Document(None)
    problems: list[tuple[int | None, str]] = []
    if root is not None:
        doc.data = _convert(root, (), doc, problems, [0])
    if problems:
        raise YamlError(problems)
    return doc


def _convert(node: yaml.Node, path: Path, doc: Document, problems: list, count: list[int]) -> Any:
    count[0] += 1
    if count[0] > MAX_NODES:
        if count[0] == MAX_NODES + 1:
            problems.append((node.start_mark.line + 1, f"YAML 内容过大（超过 {MAX_NODES} 个元素）"))
        return None
    doc.lines.setdefault(path, node.start_mark.line + 1)
    _check_node(node, problems)
    if isinstance(node, yaml.MappingNode):
        return _mapping(node, path, doc, problems, count)
    if isinstance(node, yaml.SequenceNode):
        out = []
        for i, item in enumerate(node.value):
            doc.lines[(*path, i)] = item.start_mark.line + 1
            out.append(_convert(item, (*path, i), doc, problems, count))
        return out
    value = str(node.value)
    if not getattr(node, "style", None) and value.strip() in _NULLS:  # plain: None (Python) or '' (libyaml)
        return None
    return value


def _mapping(node: yaml.MappingNode, path: Path, doc: Document, problems: list, count: list[int]) -> dict:
    out: dict[str, Any] = {}
    for key_node, value_node in node.value:
        line = key_node.start_mark.line + 1
        if not isinstance(key_node, yaml.ScalarNode):
            problems.append((line, "键必须是简单文字"))
            continue
        _check_node(key_node, problems)
        key = str(key_node.value)
        if key in out:
            problems.append((line, f"键 {key} 重复（第{doc.lines[(*path, key)]}行已有）"))
            continue
        doc.lines[(*path, key)] = line
        out[key] = _convert(value_node, (*path, key), doc, problems, count)
    return out


def _check_node(node: yaml.Node, problems: list) -> None:
    if _explicit_tag(node):
        problems.append((node.start_mark.line + 1, f"不允许使用 YAML 标签 {node.tag}"))


def _explicit_tag(node: yaml.Node) -> bool:
    """BaseLoader resolves every untagged node to str/seq/map; any other core tag was written."""
    return node.tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:seq", "tag:yaml.org,2002:map")


def _aliases(text: str) -> list[tuple[int, str]]:
    """Anchors and aliases found by the event parser (before anything is expanded)."""
    out = []
    try:
        for ev in yaml.parse(text, Loader=_LOADER):
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
                out.append((line, "不允许使用 YAML 锚点（&）和别名（*）"))
    except yaml.YAMLError:
        return []  # parse() reports the syntax error
    return out


def load(text: str) -> Document:
    """Parse one YAML document strictly; raise YamlError listing every problem found.
    Anchors and aliases are refused from the event stream, before anything is composed, so a
    "billion laughs" file costs no more than its length."""
    found = _aliases(text)
    if found:
        raise YamlError([(line, msg) for line, msg in found])
    return _parse(text)
