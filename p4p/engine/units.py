"""The institutions of a quarter as columns: one row per institution, sorted by inst_id, every
numeric input field as exact integers over its scale (money in fen, scores in tenths), so a rule
runs over all its institutions at once. Built only from validated facts."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..lang.exact import Vec
from ..model.facts import Quarter
from ..model.fields import KINDS, NUMERIC, SCALE, unit_fields

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


def units_of(q: Quarter, service_items: list[str]) -> Units:
    """The engine's view of the validated columns: exact numbers as Vecs over their scale."""
    c = q.columns
    ids = list(c.ids)
    num = {name: Vec.of(c.num[name], SCALE[typ]) for name, typ in unit_fields().items() if typ in NUMERIC}
    text = {**c.text, "inst_id": ids, "kind_name": [KINDS.get(k, k) for k in c.text["kind"]]}
    zero = np.zeros(len(ids), dtype=np.int64)
    wp = {item: Vec.of(c.workpoints.get(item, zero)) for item in service_items}
    return Units(ids, {iid: i for i, iid in enumerate(ids)}, text, num, dict(c.present), wp,
                 np.array(c.text["kind"], dtype=object), c.num["score"], c.num["veto"], c.num["guarantee"])  # fmt: skip
