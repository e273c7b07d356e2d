"""Differences between two ledgers, line by line."""

from __future__ import annotations


def diff_rows(a: list[dict], b: list[dict], la: str = "A", lb: str = "B") -> list[str]:
    ka = {(r["inst_id"], r["item"]): r for r in a}
    kb = {(r["inst_id"], r["item"]): r for r in b}
    out = []
    for key in sorted(set(ka) | set(kb)):
        ra, rb = ka.get(key), kb.get(key)
        name = (ra or rb or {}).get("inst_name", "")
        if ra is None and rb is not None:
            out.append(f"{key[0]} {name} {key[1]}：{la} 无此行，{lb} {rb['amount']}")
        elif rb is None and ra is not None:
            out.append(f"{key[0]} {name} {key[1]}：{la} {ra['amount']}，{lb} 无此行")
        elif ra is not None and rb is not None and ra["amount"] != rb["amount"] or ra["quantity"] != rb["quantity"]:
            out.append(
                f"{key[0]} {name} {key[1]}：{la} {ra['amount']}（数量 {ra['quantity']}），"
                f"{lb} {rb['amount']}（数量 {rb['quantity']}）"
            )
    return out
