"""Who pays what, as data (SPEC §9): one declaration per ledger item.

A ruleset declares for each item its role:
- `transfer` — money that leaves a payer: `payer` (a code such as `lead_hospital`), the
  payer's display name, the `fund` it is paid from, and whether the `payee` is the
  institution itself or its director personally;
- `ceiling` — an approved ceiling within which the institution pays its own staff
  (PERF_POOL): shown on statements, never in a payment list;
- `alliance` — booked for the alliance (undistributed funds, the alliance's share of a
  deficit): listed in alliance_items.csv, never paid.

The engine holds no item codes: the declarations come from the ruleset's items.yaml
(`from_ruleset`), checked when the ruleset loads.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast, get_args

from ..model.problems import Problem
from ..ruleset.model import Item as RulesetItem

Role = Literal["transfer", "ceiling", "alliance"]
PayeeKind = Literal["institution", "director"]
ROLES: tuple[str, ...] = get_args(Role)
PAYEE_KINDS: tuple[str, ...] = get_args(PayeeKind)
ROLE_NAMES = {"transfer": "转付", "ceiling": "核定额度（不发放）", "alliance": "医共体项目"}
PAYEE_KIND_NAMES = {"institution": "机构", "director": "院长"}

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_TRANSFER_KEYS = ("payer", "payer_name", "fund", "payee")


@dataclass(frozen=True)
class ItemPayment:
    """How one ledger item is paid. `name` is the short name used in a payment's purpose
    (用途, e.g. 基本公卫经费); `cite` the policy clause behind the payment route."""

    item: str
    name: str
    role: Role
    payer: str | None = None
    payer_name: str | None = None
    fund: str | None = None
    payee: PayeeKind | None = None
    cite: str | None = None

    def __post_init__(self) -> None:
        problems = _consistency(self)
        if problems:
            raise ValueError("; ".join(problems))

    @property
    def is_transfer(self) -> bool:
        return self.role == "transfer"


def _consistency(d: ItemPayment) -> list[str]:
    """What is wrong with a declaration (Chinese, for messages); empty when it is sound."""
    out = []
    if not _CODE.match(d.item):
        out.append(f"项目代码“{d.item}”无效")
    if not d.name.strip():
        out.append("缺少 name（用途中显示的名称）")
    if d.role not in ROLES:
        out.append(f"role 应为 {' / '.join(ROLES)}")
    values = {k: getattr(d, k) for k in _TRANSFER_KEYS}
    if d.role == "transfer":
        out += [f"转付项目必须写明 {k}" for k, v in values.items() if not (v or "").strip()]
        if d.payer and not _CODE.match(d.payer):
            out.append(f"payer“{d.payer}”应为代码（字母、数字、_、-）")
        if d.payee and d.payee not in PAYEE_KINDS:
            out.append(f"payee 应为 {' / '.join(PAYEE_KINDS)}")
    elif d.role in ROLES:
        out += [f"{ROLE_NAMES[d.role]}项目不应写 {k}" for k, v in values.items() if v is not None]
    return out


def from_ruleset(items: Mapping[str, RulesetItem]) -> dict[str, ItemPayment]:
    """The payment declarations of a loaded ruleset (items.yaml, checked when it loaded)."""
    out = {}
    for code, it in items.items():
        payee = cast(PayeeKind | None, it.payee)
        out[code] = ItemPayment(code, it.name, cast(Role, it.role), it.payer, it.payer_name, it.fund, payee)
    return out


def undeclared(decls: Mapping[str, ItemPayment], items: Iterable[str], where: str) -> list[Problem]:
    """Every item a ledger carries must say how it is paid — an undeclared item would silently
    drop out of the payment lists."""
    missing = sorted(set(items) - set(decls))
    return [
        Problem(where, None, "item", code, "规则集没有声明该项目的发放方式（转付/核定额度/医共体项目）")
        for code in missing
    ]
