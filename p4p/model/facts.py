"""Typed records of one alliance-quarter, built only from validated input."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from functools import cached_property

import numpy as np


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
class Columns:
    """The validated institutions of a quarter as columns, in inst_id order: what the engine
    reads. Numbers are exact integers over their field's scale (money in fen, scores in tenths;
    model/fields.py SCALE), int64 — every input bound keeps them far inside it; fields of a table
    a unit has no row in (village income) are 0 there, and `present` says which units have one."""

    ids: list[str]
    text: dict[str, list[str]]  # name, kind, parent_id, director, veto_reason
    num: dict[str, np.ndarray]  # every numeric field of the unit tables
    present: dict[str, np.ndarray]  # table → which units have a row in it
    workpoints: dict[str, np.ndarray]  # service item → total count per unit (int64, or exact ints)

    def __len__(self) -> int:
        return len(self.ids)


class Quarter:
    """Everything a quarter is computed from (besides the ruleset and history): the period, the
    validated columns, and the files as read (for the archive). The per-institution records
    (`institutions`, `assessment`, `income`, `workpoints`) are views made on first use."""

    def __init__(self, period: Period, columns: Columns, files: dict[str, bytes] | None = None,
                 warnings: list[str] | None = None) -> None:  # fmt: skip
        self.period = period
        self.columns = columns
        self.files = files if files is not None else {}  # name → bytes as read, for the archive
        self.warnings = warnings if warnings is not None else []  # Chinese, for the summary

    @cached_property
    def institutions(self) -> dict[str, Institution]:
        c = self.columns
        t, n = c.text, c.num
        return {
            iid: Institution(iid, t["name"][i], t["kind"][i], t["parent_id"][i], int(n["staff_count"][i]),
                             _money(n["perf_base_annual"][i]), int(n["population"][i]), int(n["guarantee"][i]),
                             int(n["workload_target"][i]), t["director"][i])
            for i, iid in enumerate(c.ids)
        }  # fmt: skip

    @cached_property
    def assessment(self) -> dict[str, Assessment]:
        c = self.columns
        return {iid: Assessment(Decimal(int(c.num["score"][i])) / 10, int(c.num["veto"][i]), c.text["veto_reason"][i])
                for i, iid in enumerate(c.ids)}  # fmt: skip

    @cached_property
    def income(self) -> dict[str, VillageIncome]:
        c = self.columns
        n = c.num
        return {
            iid: VillageIncome(_money(n["drug_subsidy"][i]), _money(n["service_fee"][i]),
                               _money(n["operating_subsidy"][i]), _money(n["medical_income"][i]), int(n["visits"][i]))
            for i, iid in enumerate(c.ids) if c.present["village_income"][i]
        }  # fmt: skip

    @cached_property
    def workpoints(self) -> dict[str, dict[str, int]]:
        c = self.columns
        out: dict[str, dict[str, int]] = {}
        for item in sorted(c.workpoints):
            counts = c.workpoints[item]
            for i in np.flatnonzero(counts != 0).tolist():
                out.setdefault(c.ids[i], {})[item] = int(counts[i])
        return {k: dict(sorted(v.items())) for k, v in sorted(out.items())}

    @property
    def lead(self) -> Institution:
        return next(i for i in self.institutions.values() if i.kind == "lead_hospital")


def _money(fen: object) -> Decimal:
    return Decimal(int(fen)).scaleb(-2)  # type: ignore[call-overload]
