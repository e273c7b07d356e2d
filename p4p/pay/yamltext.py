"""Small declared YAML files of the paying side (item declarations, bank templates) read
strictly: every scalar stays text (no octal, no floats, no `yes` → True), a key given twice,
an anchor, an alias or a tag is refused — each with the line it is on (FINDINGS.md, PyYAML)."""

from __future__ import annotations

import yaml

from ..model.problems import Problem

Tree = dict[str, "Tree"] | list["Tree"] | str


def _refusals(text: str, where: str) -> list[Problem]:
    out = []
    for ev in yaml.parse(text, Loader=yaml.BaseLoader):
        line = ev.start_mark.line + 1 if ev.start_mark else None
        tag = getattr(ev, "tag", None)
        implicit = getattr(ev, "implicit", True)
        explicit_tag = tag and not (all(implicit) if isinstance(implicit, tuple) else implicit)
        if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
            out.append(Problem(where, line, None, None, "不支持 YAML 锚点/别名（& *），请直接写出内容"))
        elif explicit_tag:
            out.append(Problem(where, line, None, str(tag), "不支持 YAML 标签（!!…）"))
    return out


def _tree(node: yaml.Node, where: str, problems: list[Problem]) -> Tree:
    if isinstance(node, yaml.MappingNode):
        out: dict[str, Tree] = {}
        for k, v in node.value:
            key = k.value if isinstance(k, yaml.ScalarNode) else str(k.value)
            if key in out:
                problems.append(Problem(where, k.start_mark.line + 1, key, None, "键重复"))
                continue
            out[key] = _tree(v, where, problems)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_tree(v, where, problems) for v in node.value]
    return str(node.value)


def load_text_yaml(text: str, where: str) -> tuple[Tree | None, list[Problem]]:
    """Parse `text`; returns (tree, problems). The tree is None when the text is not YAML."""
    try:
        problems = _refusals(text, where)
        if problems:
            return None, problems
        node = yaml.compose(text, Loader=yaml.BaseLoader)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        return None, [Problem(where, mark.line + 1 if mark else None, None, None, f"YAML 格式错误：{e}")]
    if node is None:
        return None, [Problem(where, None, None, None, "文件是空的")]
    problems = []
    return _tree(node, where, problems), problems
