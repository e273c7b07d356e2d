"""The work-point table (SPEC §3 `workpoints.csv`): up to ten million rows, one per service or
one per (institution, item), validated and summed as whole columns.

Counts are summed exactly: each is at most MAX_COUNT (10^9), so int64 sums cannot overflow
unless a group has more than 9.2·10^9 rows; `exact_group_sums` proves that bound before it
trusts int64, and adds in Python integers beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from ..model.money import MAX_COUNT
from .columns import integers
from .findings import Findings
from .tables import RawTable

INT64_MAX = 2**63 - 1


def workpoints(
    f: Findings,
    t: RawTable,
    insts: dict[str, int],
    items: list[str] | None,
    seen: dict[str, str | None] | None,
) -> Sums:
    """The total count per (institution, item) of the valid rows; every problem goes to `f`.
    `seen` maps every readable inst_id to its kind (None: no institutions table to check ids
    against)."""
    known = list(seen or {})
    at = pc.index_in(t.columns["inst_id"], value_set=pa.array(known, pa.string()))
    inst_idx = at.to_numpy(zero_copy_only=False)
    unknown = _isnull(at) & (seen is not None)
    f.cells("inst_id", unknown, "机构表中没有这个机构编码")
    kinds = np.array([_kind_code((seen or {})[i]) for i in known] + [0], dtype=np.int8)
    idx = np.where(unknown, len(known), np.nan_to_num(inst_idx, nan=len(known))).astype(np.int64)
    row_kind = kinds[idx]
    f.cells("inst_id", row_kind == 2, "只有乡镇卫生院和村卫生室有公卫工分")
    upper = pc.ascii_upper(t.columns["item"])  # item codes in any case (ehr → EHR), ASCII only
    item_idx = np.zeros(len(t), dtype=np.int64)
    bad_item = np.zeros(len(t), dtype=bool)
    if items is not None:
        found = pc.index_in(upper, value_set=pa.array(items, pa.string()))
        bad_item = _isnull(found)
        item_idx = np.nan_to_num(found.to_numpy(zero_copy_only=False), nan=0).astype(np.int64)
        f.cells("item", bad_item, "未知的服务项目（应为 " + "/".join(items) + "）")
    count = integers(t.columns["count"])
    f.cells("count", count.bad, count.why, f"服务数量应为 0–{MAX_COUNT:,} 的整数")
    if items is None or unknown.any() or (row_kind == 2).any() or bad_item.any() or count.bad.any():
        return Sums([], [], {})
    valid = np.array([iid in insts for iid in known] + [False])
    use = valid[idx]
    n_items = len(items)
    keys = idx[use] * n_items + item_idx[use]
    return Sums(known, items, exact_group_sums(keys, np.asarray(count.values)[use], MAX_COUNT))


@dataclass
class Sums:
    """Totals keyed by `inst index × len(items) + item index` (indexes into `known`, `items`)."""

    known: list[str]
    items: list[str]
    totals: dict[int, int]

    def columns(self, ids: list[str], items: list[str]) -> dict[str, np.ndarray]:
        """Count per unit of `ids` for each item: int64, or Python ints where a total is too
        large for int64 (never rounded)."""
        out = {item: np.zeros(len(ids), dtype=np.int64) for item in items}
        if not self.totals:
            return out
        pos = {iid: n for n, iid in enumerate(ids)}
        n_items = len(self.items)
        keys = np.fromiter(self.totals, dtype=np.int64, count=len(self.totals))
        values = np.array(list(self.totals.values()), dtype=object)
        big = max(values) > INT64_MAX
        if not big:
            values = values.astype(np.int64)
        at = {iid: pos.get(iid, -1) for iid in self.known}
        row = np.array([at[self.known[k]] for k in (keys // n_items).tolist()], dtype=np.int64)
        which = keys % n_items
        for j, item in enumerate(self.items):
            sel = np.flatnonzero((which == j) & (row >= 0))
            col = out[item].astype(object) if big else out[item]
            col[row[sel]] = values[sel]
            out[item] = col
        return out


def _isnull(a: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(a).to_numpy(zero_copy_only=False), dtype=bool)


def _kind_code(kind: str | None) -> int:
    """0: unreadable (its own row is reported), 1: may have work points, 2: may not."""
    if kind is None:
        return 0
    return 1 if kind in ("township", "village") else 2


def exact_group_sums(keys: np.ndarray, counts: np.ndarray, bound: int) -> dict[int, int]:
    """Σ counts per key, exactly. Every count is in [0, bound]: a block of rows whose length ×
    bound fits in int64 is summed in int64 (no wrap-around possible); blocks are added in
    Python integers."""
    per_block = max(1, INT64_MAX // max(bound, 1))
    totals: dict[int, int] = {}
    for start in range(0, len(keys), per_block):
        k, c = keys[start : start + per_block], counts[start : start + per_block]
        table = pa.table({"k": k, "c": c.astype(np.int64)}).group_by("k").aggregate([("c", "sum")])
        block = dict(zip(table["k"].to_pylist(), table["c_sum"].to_pylist(), strict=True))
        if not totals:
            totals = block
            continue
        for key, s in block.items():
            totals[key] = totals.get(key, 0) + s
    return totals
