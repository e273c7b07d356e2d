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
        return Sums([], [], None)
    valid = np.array([iid in insts for iid in known] + [False])
    use = valid[idx]
    n_items = len(items)
    keys = idx[use] * n_items + item_idx[use]
    dense = dense_group_sums(keys, np.asarray(count.values)[use], MAX_COUNT, len(known) * n_items)
    return Sums(known, items, dense.reshape(len(known), n_items))


@dataclass
class Sums:
    """Totals per (institution of `known`, item of `items`): a dense table, int64 — or Python
    integers where a total is too large for int64 (never rounded)."""

    known: list[str]
    items: list[str]
    totals: np.ndarray | None  # shape (len(known), len(items)); None: nothing valid to sum

    def columns(self, ids: list[str], items: list[str]) -> dict[str, np.ndarray]:
        """Count per unit of `ids` for each item."""
        out = {item: np.zeros(len(ids), dtype=np.int64) for item in items}
        if self.totals is None or not len(self.known):
            return out
        where = {iid: n for n, iid in enumerate(self.known)}
        rows = np.array([where.get(i, -1) for i in ids], dtype=np.int64)
        have = rows >= 0
        for j, item in enumerate(self.items):
            col = self.totals[:, j][np.where(have, rows, 0)]
            out[item] = np.where(have, col, 0) if col.dtype != object else np.where(have, col, 0).astype(object)
        return out


def _isnull(a: pa.ChunkedArray | pa.Array) -> np.ndarray:
    return np.asarray(pc.is_null(a).to_numpy(zero_copy_only=False), dtype=bool)


def _kind_code(kind: str | None) -> int:
    """0: unreadable (its own row is reported), 1: may have work points, 2: may not."""
    if kind is None:
        return 0
    return 1 if kind in ("township", "village") else 2


def dense_group_sums(keys: np.ndarray, counts: np.ndarray, bound: int, size: int) -> np.ndarray:
    """Σ counts per key (0 ≤ key < size), exactly. Every count is in [0, bound]: a block of rows
    whose length × bound fits in int64 is summed in int64 (no wrap-around possible); blocks are
    added in Python integers."""
    per_block = max(1, INT64_MAX // max(bound, 1))
    total: np.ndarray = np.zeros(size, dtype=np.int64)
    for n, start in enumerate(range(0, len(keys), per_block)):
        block = np.zeros(size, dtype=np.int64)
        np.add.at(block, keys[start : start + per_block], counts[start : start + per_block].astype(np.int64))
        total = block if n == 0 else total.astype(object) + block.astype(object)
    return total


def exact_group_sums(keys: np.ndarray, counts: np.ndarray, bound: int) -> dict[int, int]:
    """Σ counts per key that occurs, exactly (see dense_group_sums)."""
    if not len(keys):
        return {}
    dense = dense_group_sums(keys, counts, bound, int(keys.max()) + 1)
    return {int(k): int(dense[k]) for k in np.unique(keys).tolist()}
