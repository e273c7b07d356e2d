"""The institutions of a quarter as columns: one row per institution, sorted by inst_id, every
numeric input field as exact integers over its scale (money in fen, scores in tenths), so a rule
runs over all its institutions at once. Built only from validated facts."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np

from ..lang.exact import Vec
from ..model.facts import Quarter
from ..model.fields import KINDS, NUMERIC, SCALE, table_of, unit_fields

TEXT_FIELDS = ("inst_id", "name", "kind", "parent_id", "director", "veto_reason")


@dataclass
class Units:
    ids: list[str]
    index: dict[str, int]
    text: dict[str, list[str]]  # inst_id, name, kind, parent_id, director, veto_reason, kind_name
    num: dict[str, Vec]  # numeric input fields, exact
    present: dict[str, np.ndarray]  # table → which institutions have a row in it
    workpoints: dict[str, Vec]  # service item → count per institution
    kind: np.ndarray
    score10: np.ndarray
    veto: np.ndarray
    guarantee: np.ndarray

    def __len__(self) -> int:
        return len(self.ids)


def _scaled(value: object, scale: int) -> int:
    """An exact input value as an integer count of 1/scale (a Decimal amount → fen)."""
    if isinstance(value, Decimal):
        scaled = value * scale
        assert scaled == scaled.to_integral_value(), value
        return int(scaled)
    return int(value) * scale  # type: ignore[call-overload]


def units_of(q: Quarter, service_items: list[str]) -> Units:
    ids = sorted(q.institutions)
    index = {iid: i for i, iid in enumerate(ids)}
    insts = [q.institutions[i] for i in ids]
    assess = [q.assessment[i] for i in ids]
    income = [q.income.get(i) for i in ids]
    records: dict[str, list[Any]] = {"institutions": insts, "assessment": assess, "village_income": income}
    num: dict[str, Vec] = {}
    for name, typ in unit_fields().items():
        if typ not in NUMERIC:
            continue
        table = table_of(name)
        scale = SCALE[typ]
        vals = [0 if r is None else _scaled(getattr(r, name), scale) for r in records[table]]
        num[name] = Vec.of(vals, scale)
    text = {
        "inst_id": ids,
        "name": [x.name for x in insts],
        "kind": [x.kind for x in insts],
        "parent_id": [x.parent_id for x in insts],
        "director": [x.director for x in insts],
        "veto_reason": [a.veto_reason for a in assess],
        "kind_name": [KINDS.get(x.kind, x.kind) for x in insts],
    }
    present = {"village_income": np.array([r is not None for r in income], dtype=bool)}
    wp = {item: Vec.of([q.workpoints.get(i, {}).get(item, 0) for i in ids]) for item in service_items}
    kind = np.array(text["kind"], dtype=object)
    score10 = np.array([int(a.score * 10) for a in assess], dtype=np.int64)
    veto = np.array([a.veto for a in assess], dtype=np.int64)
    guarantee = np.array([x.guarantee for x in insts], dtype=np.int64)
    return Units(ids, index, text, num, present, wp, kind, score10, veto, guarantee)
