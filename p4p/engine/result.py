"""What computing a quarter gives: blocks of ledger lines (one block per rule and part, every
line with the values its derivation used), reconciliation checks, reported figures, warnings."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from functools import cached_property

from ..model.money import fen_text
from ..ruleset.model import Rule, Statement

# A value stored for each line of a block (exact text, or a mapping of texts), or once for the
# whole block when it is the same for every line (period values).
LineValues = list[str] | list[dict[str, str]]


class ComputeError(Exception):
    """A ruleset or input problem found while computing (exit 2): the message names the rule
    and the institution or period values concerned."""


@dataclass
class HistoryLine:
    """A line of an approved earlier quarter's ledger (what a Q4 settles against)."""

    period: str
    inst_id: str
    inst_name: str
    kind: str
    item: str
    amount: Decimal
    quantity: Fraction


@dataclass
class Block:
    rule: Rule
    part: str  # "main" or "undistributed"
    item: str
    item_name: str
    inst_ids: list[str]
    amounts: list[int]  # fen
    quantities: list[str]  # exact text, "" where the rule has none
    cases: list[int]  # which statement case applies to each line
    names: list[str]  # the names whose values each line keeps (in this order)
    values: dict[str, LineValues]  # name → one value per line
    constants: dict[str, str | dict[str, str]]  # name → the value every line shares
    statement: Statement
    numeric: frozenset[str] = frozenset()  # names whose values are numbers (no JSON escaping needed)
    mappings: dict[str, list[str]] = field(default_factory=dict)  # per-line mappings: their keys

    @property
    def key(self) -> str:
        return self.rule.id if self.part == "main" else f"{self.rule.id}/{self.part}"

    @cached_property
    def amount_texts(self) -> list[str]:
        """The amounts as the ledger and the trace write them (formatted once for both)."""
        return [fen_text(a) for a in self.amounts]


@dataclass
class UnitInfo:
    inst_id: str
    name: str
    kind: str
    parent_id: str
    director: str
    veto_reason: str


@dataclass
class Result:
    period: str
    alliance: str
    blocks: list[Block]
    units: dict[str, UnitInfo]  # every institution with a ledger line (incl. ones settled from history)
    params: dict[str, str]  # the parameter values in force (exact text), for texts
    entry_names: dict[str, dict[str, str]]
    item_names: dict[str, str]
    checks: list[dict] = field(default_factory=list)  # reconciliation, one per allocation rule
    reports: list[dict] = field(default_factory=list)  # period figures a rule reports
    warnings: list[dict] = field(default_factory=list)  # plausibility checks and notes
    titles: dict[str, str] = field(default_factory=dict)  # rule key → title rendered for the period
    order: list[tuple[int, int]] = field(default_factory=list)  # ledger order: (block, line)

    def lines(self) -> list[tuple[Block, int]]:
        return [(self.blocks[b], i) for b, i in self.order]
