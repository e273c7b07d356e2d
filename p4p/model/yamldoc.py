"""YAML read strictly, for files people edit (rulesets, period.yaml).

PyYAML's `safe_load` reads `03200000` as octal, `0x10` as hex, `1:30` as 90, keeps the last of
two equal keys and expands aliases (a few lines can expand to gigabytes). Here every scalar stays
the text it was written as (the schema that reads it decides what it means), a key given twice,
an anchor, an alias or an explicit tag is an error, and every key and list item keeps the line
it was written on, so a problem can be reported as file + line.
"""

from __future__ import annotations

import re
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
        raise YamlError([syntax_problem(e, text)]) from None
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
        key = str(key_node.value)
        if key in out:
            problems.append((line, f"键 {key} 重复（第{doc.lines[(*path, key)]}行已有）"))
            continue
        doc.lines[(*path, key)] = line
        out[key] = _convert(value_node, (*path, key), doc, problems, count)
    return out


def _tag_text(tag: str) -> str:
    """A tag as it was (probably) written: `tag:yaml.org,2002:str` → `!!str`."""
    if tag.startswith(_CORE):
        return "!!" + tag[len(_CORE) :]
    return tag if tag.startswith("!") else f"!<{tag}>"


_CORE = "tag:yaml.org,2002:"


MAX_DEPTH = 50  # nesting of lists and mappings; p4p's own files need fewer than 10


def _event_problems(text: str) -> list[tuple[int, str]]:
    """Anchors, aliases, tags and too deep nesting, found by the event parser before anything is
    composed (a node tagged `!!str` looks like any other text once composed; a thousand nested
    brackets would exhaust the recursion limit). Every tag is refused here, so the composed
    nodes carry none."""
    out: list[tuple[int, str]] = []
    depth = 0
    try:
        for ev in yaml.parse(text, Loader=_LOADER):
            line = ev.start_mark.line + 1 if ev.start_mark is not None else 0
            depth += isinstance(ev, yaml.CollectionStartEvent) - isinstance(ev, yaml.CollectionEndEvent)
            if depth > MAX_DEPTH:  # composing it would exhaust Python's recursion limit
                return [*out, (line, f"嵌套超过 {MAX_DEPTH} 层（列表或映射套列表或映射），不是 p4p 能读的文件")]
            if isinstance(ev, yaml.AliasEvent) or getattr(ev, "anchor", None):
                out.append((line, "不允许使用 YAML 锚点（&）和别名（*）"))
            tag = getattr(ev, "tag", None)
            if tag is not None:
                out.append(
                    (line, f"不允许使用 YAML 标签（{_tag_text(tag)}）：请删去标签，直接写值（数字和文字都按原文读取）")
                )
    except yaml.YAMLError:
        return []  # parse() reports the syntax error
    return out


def load(text: str) -> Document:
    """Parse one YAML document strictly; raise YamlError listing every problem found.
    Anchors and aliases are refused from the event stream, before anything is composed, so a
    "billion laughs" file costs no more than its length."""
    found = _event_problems(text)
    if found:
        raise YamlError([(line, msg) for line, msg in found])
    return _parse(text)


# ---- syntax errors in Chinese ------------------------------------------------------------------
# PyYAML (and libyaml, whose words differ) describe a syntax error in English: a `problem` at a
# mark and, often, a `context` at another mark. The common problems are explained here; any other
# is named by its place with a generic explanation (the parser's words kept in brackets).
_PROBLEMS: list[tuple[str, str]] = [
    (r"unexpected end of stream", "文件在此意外结束：可能有引号或括号没有闭合"),
    (r"mapping values are not allowed", "此处不能出现“键: 值”：值中含有“: ”时请给整个值加引号，或检查缩进是否对齐"),
    (r"tab character|character '\\t'", "缩进中使用了制表符（Tab）：YAML 只能用空格缩进"),
    (
        r"another document|single document|document start",
        "文件只能有一个文档：此处出现了“---”分隔的第二个文档或多余的内容",
    ),
    (r"',' or '\]'", "方括号列表 [ ] 没有正确结束：缺少逗号“,”或右方括号“]”"),
    (r"',' or '\}'", "花括号映射 { } 没有正确结束：缺少逗号“,”或右花括号“}”"),
    (r"expected ':'", "缺少冒号：键后面应写“: 值”（冒号后加一个空格）"),
    (r"'-' indicator|expected key|block end", "缩进不一致：同一层的键（或列表项 -）应左对齐"),
    (r"cannot start any token", "此处的字符（如 @、`、%）不能作为值的开头：这样的文字请加引号"),
    (r"escape character", "双引号中的反斜杠 \\ 后面跟了无效的字符：想写反斜杠本身请改用单引号"),
    (r"alphabetic or numeric character", "& 或 * 开头的写法无效（YAML 锚点和别名不允许使用）：这样的文字请加引号"),
    (r"directive", "以 % 开头的 YAML 指令无效或重复：请删去这一行"),
    (r"chomping|indentation indicator|comment or line break", "多行文字（| 或 >）的写法无效：| 或 > 后面应直接换行"),
]
_CONTEXTS: list[tuple[str, str]] = [
    (r"quoted scalar", "引号从这里开始"),
    (r"flow sequence", "方括号列表从这里开始"),
    (r"flow mapping", "花括号映射从这里开始"),
    (r"simple key", "这个键从这里开始"),
    (r"block mapping|block collection", "这一层从这里开始"),
]


def _where(mark: Any) -> str:
    return f"第{mark.line + 1}行第{mark.column + 1}列"


def syntax_problem(e: yaml.YAMLError, text: str) -> tuple[int | None, str]:
    """A YAML syntax error as `(line, Chinese message)`: the line and column of the parser's
    mark, what is wrong in Chinese, and where the construct it was reading began."""
    if isinstance(e, yaml.reader.ReaderError):
        at = text.count("\n", 0, max(e.position, 0)) + 1
        char = e.character if isinstance(e.character, int) else ord(str(e.character)[:1] or "\0")
        return at, f"YAML 格式错误（第{at}行）：含有不允许的控制字符（U+{char:04X}），请删去"
    problem = str(getattr(e, "problem", None) or "")
    mark = getattr(e, "problem_mark", None) or getattr(e, "context_mark", None)
    line: int | None = mark.line + 1 if mark is not None else None
    where = f"（{_where(mark)}）" if mark is not None else ""
    if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
        problem = "tab character"  # libyaml does not always say which character it found
    said = next((zh for pat, zh in _PROBLEMS if re.search(pat, problem)), None)
    if said is None:
        english = " ".join(x for x in (getattr(e, "context", None), problem) if x) or str(e).split("\n")[0]
        said = f"无法识别这里的写法，请检查引号、括号、冒号和缩进（解析器提示：{english}）"
    ctx_mark = getattr(e, "context_mark", None)
    context = str(getattr(e, "context", None) or "")
    began = next((zh for pat, zh in _CONTEXTS if re.search(pat, context)), None)
    if (
        began
        and ctx_mark is not None
        and mark is not None
        and (ctx_mark.line, ctx_mark.column) != (mark.line, mark.column)
    ):
        said += f"（{began}：{_where(ctx_mark)}）"
    return line, f"YAML 格式错误{where}：{said}"
