"""Typed records of one alliance-quarter, built only from validated input."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal


@dataclass(frozen=True)
class Period:
    period: str
    year: int
    quarter: int
    alliance: str
    ph_annual_budget: Decimal
    mi_budget: Decimal | None = None
    mi_spent: Decimal | None = None
    alliance_score: Decimal | None = None
    alliance_id: str = ""  # names the alliance in the archive; the alliance name when not given

    def __post_init__(self) -> None:
        if not self.alliance_id:
            object.__setattr__(self, "alliance_id", self.alliance)

    @property
    def first_day(self) -> dt.date:
        return dt.date(self.year, 3 * self.quarter - 2, 1)


@dataclass(frozen=True)
class Institution:
    inst_id: str
    name: str
    kind: str
    parent_id: str
    staff_count: int
    perf_base_annual: Decimal
    population: int
    guarantee: int
    workload_target: int
    director: str


@dataclass(frozen=True)
class Assessment:
    score: Decimal
    veto: int
    veto_reason: str = ""


@dataclass(frozen=True)
class VillageIncome:
    drug_subsidy: Decimal
    service_fee: Decimal
    operating_subsidy: Decimal
    medical_income: Decimal
    visits: int


@dataclass
class Quarter:
    """Everything a quarter is computed from (besides the ruleset and history)."""

    period: Period
    institutions: dict[str, Institution]
    assessment: dict[str, Assessment]
    workpoints: dict[str, dict[str, int]]
    income: dict[str, VillageIncome]
    files: dict[str, bytes] = field(default_factory=dict)  # name → bytes as read, for the archive
    warnings: list[str] = field(default_factory=list)  # Chinese, for the summary (e.g. unknown sheets)

    @property
    def lead(self) -> Institution:
        return next(i for i in self.institutions.values() if i.kind == "lead_hospital")
