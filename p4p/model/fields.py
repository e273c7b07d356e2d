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
