"""The input tables of SPEC §3: column codes, Chinese labels, and accepted Chinese values."""

from __future__ import annotations

from typing import TypedDict


class TableSpec(TypedDict):
    label: str  # Chinese name (sheet name, messages)
    required: bool
    columns: dict[str, str]  # code → Chinese header
    optional: set[str]  # columns that may be absent


TABLES: dict[str, TableSpec] = {
    "institutions": {
        "label": "机构",
        "required": True,
        "columns": {
            "inst_id": "机构编码",
            "name": "机构名称",
            "kind": "机构类型",
            "parent_id": "上级机构编码",
            "staff_count": "在岗人数",
            "perf_base_annual": "核定年度绩效工资基数",
            "population": "服务人口",
            "guarantee": "享受保底",
            "workload_target": "季度门诊目标人次",
            "director": "院长",
        },
        "optional": {"director", "parent_id"},
    },
    "assessment": {
        "label": "考核",
        "required": True,
        "columns": {"inst_id": "机构编码", "score": "考核得分", "veto": "一票否决", "veto_reason": "否决事由"},
        "optional": {"veto_reason"},
    },
    "workpoints": {
        "label": "公卫工分",
        "required": True,
        "columns": {"inst_id": "机构编码", "item": "服务项目", "count": "服务数量"},
        "optional": set(),
    },
    "village_income": {
        "label": "村卫生室收入",
        "required": True,
        "columns": {
            "inst_id": "机构编码",
            "drug_subsidy": "基本药物补助",
            "service_fee": "一般诊疗费",
            "operating_subsidy": "运行经费补助",
            "medical_income": "其他医疗收入",
            "visits": "门诊人次",
        },
        "optional": set(),
    },
}

PERIOD_KEYS = {
    "period": "期间",
    "alliance": "医共体",
    "alliance_id": "医共体编码",
    "ph_annual_budget": "基本公共卫生服务经费年度预算",
    "mi_budget": "城乡居民医保基金年度总额预算",
    "mi_spent": "年度实际支出",
    "alliance_score": "医共体年度医保考核得分",
}
PERIOD_KEY_ALIASES = {**{k: k for k in PERIOD_KEYS}, **{v: k for k, v in PERIOD_KEYS.items()}}
Q4_KEYS = ("mi_budget", "mi_spent", "alliance_score")
# sheets of a workbook that p4p reads or knows: table sheets, the period sheet, and the notes
# sheet of `p4p template` (known, so it draws no warning)
PERIOD_SHEET = {"period": "period", "期间": "period"}
NOTES_SHEETS = ("说明",)

KINDS = {
    "lead_hospital": "牵头医院",
    "county_hospital": "县级医院",
    "township": "乡镇卫生院",
    "village": "村卫生室",
}
KIND_ALIASES = {
    **{v: k for k, v in KINDS.items()},
    **{k: k for k in KINDS},
    "其他县级医院": "county_hospital",
    "社区卫生服务中心": "township",
}
LEVEL_OF_KIND = {"lead_hospital": "county", "county_hospital": "county", "township": "township", "village": "village"}
LEVEL_NAMES = {"county": "县", "township": "乡", "village": "村"}
YES_NO = {"0": 0, "1": 1, "否": 0, "是": 1, "": 0, "true": 1, "false": 0, "yes": 1, "no": 0}


def header_map(table: str) -> dict[str, str]:
    """Every accepted header text → column code."""
    cols = TABLES[table]["columns"]
    out = {code: code for code in cols}
    out.update({label: code for code, label in cols.items()})
    return out


# ---- what each field is: read by validation, held in the facts, seen by formulas --------------
# money: at most 2 decimals, held as integer fen; score: 0–100 with at most one decimal, held as
# integer tenths; count: integer 0–1,000,000,000; flag: 0/1; the others are text.
FIELD_TYPES: dict[str, str] = {
    "inst_id": "id", "name": "text", "kind": "kind", "parent_id": "ref", "staff_count": "count",
    "perf_base_annual": "money", "population": "count", "guarantee": "flag", "workload_target": "count",
    "director": "text", "score": "score", "veto": "flag", "veto_reason": "text",
    "drug_subsidy": "money", "service_fee": "money", "operating_subsidy": "money", "medical_income": "money",
    "visits": "count", "item": "code", "count": "count",
}  # fmt: skip
SCALE = {"money": 100, "score": 10, "count": 1, "flag": 1}
NUMERIC = tuple(SCALE)
UNIT_TABLES = ("institutions", "assessment", "village_income")
# a table's rows exist only for some institutions: formulas may read its fields only in rules
# whose `when` guarantees a row
PRESENT_WHEN = {"village_income": {"kind": ["village"], "guarantee": ["1"]}}
WORKPOINTS = "workpoints"  # the work-point counts of a unit, by service item (a mapping)
PERIOD_FIELD_TYPES = {"ph_annual_budget": "money", "mi_budget": "money", "mi_spent": "money", "alliance_score": "score"}
PERIOD_Q4_ONLY = frozenset({"mi_budget", "mi_spent", "alliance_score"})
# decision tables are also looked up at these period scores (veto 0): alliance_score → alliance_k
PERIOD_SCORE_PREFIX = {"alliance_score": "alliance"}
# fields a rule's `when` may test, and what durable-rules compares
CONDITION_FIELDS = {"kind": "kind", "quarter": "quarter", "guarantee": "flag", "veto": "flag", "score": "score"}
TABLE_CONDITION_FIELDS = frozenset({"veto", "score"})


def unit_fields(table: str | None = None) -> dict[str, str]:
    """Fields of the unit tables (or one of them) with their types; `inst_id` once."""
    out: dict[str, str] = {}
    for t in UNIT_TABLES if table is None else (table,):
        for code in TABLES[t]["columns"]:
            out.setdefault(code, FIELD_TYPES[code])
    return out


def table_of(field: str) -> str:
    return next(t for t in UNIT_TABLES if field in TABLES[t]["columns"])
