"""Who pays what, as data (SPEC §9): one declaration per ledger item.

A ruleset declares for each item its role:
- `transfer` — money that leaves a payer: `payer` (a code such as `lead_hospital`), the
  payer's display name, the `fund` it is paid from, and whether the `payee` is the
  institution itself or its director personally;
- `ceiling` — an approved ceiling within which the institution pays its own staff
  (PERF_POOL): shown on statements, never in a payment list;
- `alliance` — booked for the alliance (undistributed funds, the alliance's share of a
  deficit): listed in alliance_items.csv, never paid.

The engine holds no item codes: the declarations come from the ruleset (or, in tests, from
tests/data/pay/items.yaml) and are read with `declarations_from_tree`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, cast, get_args

from ..model.problems import InputError, Problem
from .yamltext import Tree, load_text_yaml

Role = Literal["transfer", "ceiling", "alliance"]
PayeeKind = Literal["institution", "director"]
ROLES: tuple[str, ...] = get_args(Role)
PAYEE_KINDS: tuple[str, ...] = get_args(PayeeKind)
ROLE_NAMES = {"transfer": "转付", "ceiling": "核定额度（不发放）", "alliance": "医共体项目"}
PAYEE_KIND_NAMES = {"institution": "机构", "director": "院长"}

_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$")
_TRANSFER_KEYS = ("payer", "payer_name", "fund", "payee")
KEYS = ("name", "role", *_TRANSFER_KEYS, "cite")


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


def declarations_from_tree(tree: Tree, where: str) -> dict[str, ItemPayment]:
    """`{items: {CODE: {name, role, payer, payer_name, fund, payee, cite}}}` → declarations by
    item code. All problems at once as InputError (file, key, value, Chinese message)."""
    problems: list[Problem] = []
    items = tree.get("items") if isinstance(tree, dict) else None
    if not isinstance(items, dict) or not items:
        raise InputError([Problem(where, None, "items", None, "应为 items: 下按项目代码逐项声明发放方式")])
    if isinstance(tree, dict):
        problems += [Problem(where, None, k, None, "未知的键（只认 items）") for k in tree if k != "items"]
    out: dict[str, ItemPayment] = {}
    for code, body in items.items():
        decl = _one(code, body, where, problems)
        if decl is not None:
            out[code] = decl
    problems += _payer_names(out.values(), where)
    if problems:
        raise InputError(problems)
    return out


def _payer_names(decls: Iterable[ItemPayment], where: str) -> list[Problem]:
    """One payer code, one display name: lists and bank files are grouped by the code."""
    names: dict[str, set[str]] = {}
    for d in decls:
        if d.payer:
            names.setdefault(d.payer, set()).add(d.payer_name or "")
    return [
        Problem(where, None, "payer_name", "、".join(sorted(n)), f"付款方 {code} 在不同项目中的名称不一致")
        for code, n in sorted(names.items())
        if len(n) > 1
    ]


def _one(code: str, body: Tree, where: str, problems: list[Problem]) -> ItemPayment | None:
    col = f"items.{code}"
    if not isinstance(body, dict):
        problems.append(Problem(where, None, col, None, "应为 键: 值 的声明"))
        return None
    unknown = [k for k in body if k not in KEYS]
    problems += [Problem(where, None, f"{col}.{k}", None, f"未知的键（可用：{'、'.join(KEYS)}）") for k in unknown]
    texts = {k: v for k, v in body.items() if k in KEYS}
    bad = [k for k, v in texts.items() if not isinstance(v, str)]
    problems += [Problem(where, None, f"{col}.{k}", None, "应为文字") for k in bad]
    if unknown or bad:
        return None
    fields = cast(Mapping[str, str], texts)
    errors = _consistency_of(code, fields)
    if errors:
        problems += [Problem(where, None, col, None, e) for e in errors]
        return None
    return ItemPayment(
        item=code,
        name=fields["name"],
        role=cast(Role, fields["role"]),
        payer=fields.get("payer"),
        payer_name=fields.get("payer_name"),
        fund=fields.get("fund"),
        payee=cast(PayeeKind | None, fields.get("payee")),
        cite=fields.get("cite"),
    )


def _consistency_of(code: str, fields: Mapping[str, str]) -> list[str]:
    if "role" not in fields or "name" not in fields:
        return [f"缺少 {k}" for k in ("name", "role") if k not in fields]
    try:
        ItemPayment(
            item=code,
            name=fields["name"],
            role=cast(Role, fields["role"]),
            payer=fields.get("payer"),
            payer_name=fields.get("payer_name"),
            fund=fields.get("fund"),
            payee=cast(PayeeKind | None, fields.get("payee")),
        )
    except ValueError as e:
        return str(e).split("; ")
    return []


def load_declarations(text: str, where: str) -> dict[str, ItemPayment]:
    """Declarations from YAML text (a file like tests/data/pay/items.yaml)."""
    tree, problems = load_text_yaml(text, where)
    if problems or tree is None:
        raise InputError(problems)
    return declarations_from_tree(tree, where)


def undeclared(decls: Mapping[str, ItemPayment], items: Iterable[str], where: str) -> list[Problem]:
    """Every item a ledger carries must say how it is paid — an undeclared item would silently
    drop out of the payment lists."""
    missing = sorted(set(items) - set(decls))
    return [
        Problem(where, None, "item", code, "规则集没有声明该项目的发放方式（转付/核定额度/医共体项目）")
        for code in missing
    ]
