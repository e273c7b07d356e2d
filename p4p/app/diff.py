"""Differences between two ledgers, line by line (replay: archived against recomputed)."""

from __future__ import annotations


def diff_rows(a: list[dict], b: list[dict], la: str = "A", lb: str = "B") -> list[str]:
    ka = {(r["inst_id"], r["item"]): r for r in a}
    kb = {(r["inst_id"], r["item"]): r for r in b}
    out = []
    for key in sorted(set(ka) | set(kb)):
        ra, rb = ka.get(key), kb.get(key)
        head = f"{key[0]} {(ra or rb or {}).get('inst_name', '')} {key[1]}"
        if ra is None and rb is not None:
            out.append(f"{head}：{la} 无此行，{lb} {rb['amount']}")
        elif rb is None and ra is not None:
            out.append(f"{head}：{la} {ra['amount']}，{lb} 无此行")
        elif ra is not None and rb is not None and (ra["amount"], ra["quantity"]) != (rb["amount"], rb["quantity"]):
            out.append(
                f"{head}：{la} {ra['amount']}（数量 {ra['quantity']}），{lb} {rb['amount']}（数量 {rb['quantity']}）"
            )
    return out
