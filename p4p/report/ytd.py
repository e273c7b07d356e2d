"""Year to date (SPEC §9): per institution and item, the amounts of every earlier approved quarter
of the year and the total so far. The earlier quarters come from the ledgers the run copied into
its own `history/` folder, so a run folder renders alone."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path

from ..engine.ledger import parse_ledger


@dataclass
class YearToDate:
    periods: list[str]  # the earlier quarters found, in order (this quarter not included)
    amounts: dict[str, dict[str, dict[str, Decimal]]] = field(default_factory=dict)  # inst → item → period

    def of(self, inst_id: str) -> dict[str, dict[str, Decimal]]:
        return self.amounts.get(inst_id, {})


def year_to_date(run_dir: Path, period: str) -> YearToDate:
    """The approved earlier quarters of `period`'s year found in run_dir/history."""
    year, quarter = period[:4], int(period[-1])
    amounts: dict[str, dict[str, dict[str, Decimal]]] = defaultdict(lambda: defaultdict(dict))
    periods = set()
    for path in sorted((run_dir / "history").glob("*.ledger.csv")):
        for r in parse_ledger(path.read_bytes()):
            p = r.get("period", "")
            if len(p) != 6 or p[:4] != year or not p[-1].isdigit() or int(p[-1]) >= quarter:
                continue
            periods.add(p)
            amounts[r["inst_id"]][r["item"]][p] = Decimal(r["amount"])
    return YearToDate(sorted(periods), {k: dict(v) for k, v in amounts.items()})
