"""What each item of a run is to the institution reading its statement, from the ruleset copy in
the run folder (rules/items.yaml, SPEC §9): money it receives, money paid to its director
personally, an approved ceiling (not money received), or an amount booked for the alliance.

Runs archived before ruleset format 2 have no items.yaml: their statements show one total."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..ruleset.errors import RulesetError
from ..ruleset.load import load_ruleset
from ..ruleset.model import Item

RECEIVED, DIRECTOR, CEILING, ALLIANCE = "received", "director", "ceiling", "alliance"
GROUP_ORDER = (RECEIVED, DIRECTOR, CEILING, ALLIANCE)


@dataclass(frozen=True)
class Group:
    key: str
    title: str  # the heading of the group in the amounts table
    total_label: str  # its subtotal row
    note: str  # what the subtotal is (and is not)


GROUPS = {
    RECEIVED: Group(RECEIVED, "拨付给本单位的款项", "本单位实收合计", ""),
    DIRECTOR: Group(DIRECTOR, "发给院长个人的款项", "院长个人合计", "直接发给院长本人，不计入本单位实收"),
    CEILING: Group(
        CEILING, "核定的绩效工资总量", "核定总量合计", "单位在总量内自主发放绩效工资的上限，不是拨给本单位的款项"
    ),
    ALLIANCE: Group(ALLIANCE, "记在医共体名下的款项", "医共体名下合计", "由医共体统一处理，不拨付给本单位"),
}


def group_of(item: Item | None) -> str:
    if item is None:
        return RECEIVED
    if item.role == "ceiling":
        return CEILING
    if item.role == "alliance":
        return ALLIANCE
    return DIRECTOR if item.payee == "director" else RECEIVED


def run_items(run_dir: Path) -> dict[str, Item] | None:
    """The item declarations of the ruleset the run used, or None for a run archived before
    format 2 (no rules/items.yaml) or whose rules cannot be read."""
    rules = run_dir / "rules"
    if not (rules / "items.yaml").is_file():
        return None
    try:
        return load_ruleset(rules).items
    except (RulesetError, OSError, ValueError):
        return None
