"""YAML read exactly.

`read_flat_mapping` is how input files (period.yaml) are read (SPEC §3, v2): one mapping of
scalar keys to scalar values, every value kept as the text written (quoted or not, so
`03200000`, `0x10` or `1:30` reach the checks as written, never as the numbers PyYAML would
make of them), duplicates visible to the caller, anchors, aliases and tags refused before
anything is expanded (no billion laughs).

`load_yaml` is the older loader the ruleset reader still uses: a float scalar becomes the
Decimal of its own text, never a double.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml

from ..model.problems import Problem

_NULLS = ("", "~", "null", "Null", "NULL")


class ExactLoader(yaml.SafeLoader):
    pass


def _exact_float(loader: ExactLoader, node: yaml.ScalarNode) -> Any:
    text = loader.construct_scalar(node).replace("_", "")
    try:
        return Decimal(text)
    except Exception:  # .inf / .nan: keep the text, validation reports it
        return text


ExactLoader.add_constructor("tag:yaml.org,2002:float", _exact_float)


def load_yaml(text: str) -> Any:
    return yaml.load(text, Loader=ExactLoader)


@dataclass(frozen=True)
class Scalar:
    """A key or value as written: its text (None for a plain null: empty, ~, null) and line."""

    text: str | None
    line: int


def _scalar(ev: yaml.ScalarEvent) -> Scalar:
    plain = ev.style is None
    return Scalar(None if plain and ev.value in _NULLS else ev.value, _line(ev) or 0)


def _line(ev: yaml.Event | yaml.YAMLError | None) -> int | None:
    mark = getattr(ev, "start_mark", None) or getattr(ev, "problem_mark", None)
    return mark.line + 1 if mark is not None else None


def _refused(ev: yaml.Event) -> str | None:
    if isinstance(ev, yaml.AliasEvent):
        return "不支持 YAML 别名（*）"
    if getattr(ev, "anchor", None) is not None:
        return "不支持 YAML 锚点（&）"
    tag = getattr(ev, "tag", None)
    if tag is not None:
        return f"不支持 YAML 标签（{tag}）"
    if isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
        return "值应为单个数字或文字，不能是列表或嵌套的键值"
    return None


def read_flat_mapping(text: str, label: str, problems: list[Problem]) -> list[tuple[Scalar, Scalar]] | None:
    """The (key, value) pairs of a one-level mapping in order, duplicates included; None after
    adding a problem when the text is not such a mapping."""

    def bad(line: int | None, msg: str) -> None:
        problems.append(Problem(label, line, None, None, msg))

    try:
        events = yaml.parse(text, Loader=yaml.SafeLoader)
        head = [next(events, None) for _ in range(3)]  # stream, document, mapping start
        if head[1] is None or isinstance(head[1], yaml.StreamEndEvent):
            bad(None, "文件是空的")
            return None
        if not isinstance(head[2], yaml.MappingStartEvent) or head[2].anchor or head[2].tag:
            bad(_line(head[2]), "应为“键: 值”的形式，每行一项")
            return None
        pairs: list[tuple[Scalar, Scalar]] = []
        for ev in events:
            if isinstance(ev, yaml.MappingEndEvent):
                break
            key = _pair_part(ev, bad)
            value = _pair_part(next(events), bad) if key is not None else None
            if key is None or value is None:
                return None
            pairs.append((key, value))
        rest = next(events, None)
        if rest is not None and not isinstance(rest, yaml.DocumentEndEvent):
            bad(_line(rest), "应只有一个“键: 值”映射")
            return None
        more = next(events, None)
        if more is not None and not isinstance(more, yaml.StreamEndEvent):
            bad(_line(more), "文件中只能有一个 YAML 文档")
            return None
    except yaml.YAMLError as e:
        bad(_line(e), f"YAML 格式错误：{getattr(e, 'problem', None) or e}")
        return None
    return pairs


def _pair_part(ev: yaml.Event, bad: Any) -> Scalar | None:
    why = _refused(ev)
    if why is not None:
        bad(_line(ev), why)
        return None
    if not isinstance(ev, yaml.ScalarEvent):
        bad(_line(ev), "应为“键: 值”的形式，每行一项")
        return None
    return _scalar(ev)
