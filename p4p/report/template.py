"""`p4p template`: a blank input workbook a finance officer can fill in — Chinese sheet names
and headers, a notes sheet, drop-down lists and number checks, frozen headers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.worksheet.datavalidation import DataValidation

from ..model.fields import KINDS, PERIOD_KEYS, TABLES

NOTES = {
    "institutions": {
        "inst_id": "机构唯一编码，1–32位字母、数字、_ 或 -，必填",
        "name": "机构名称，必填",
        "kind": "牵头医院（恰好一个）/县级医院/乡镇卫生院/村卫生室",
        "parent_id": "村卫生室填所属乡镇卫生院编码；乡镇卫生院填牵头医院编码；县级医院留空",
        "staff_count": "在岗人数，整数；乡镇卫生院至少为1",
        "perf_base_annual": "核定年度绩效工资基数（元），最多两位小数；村卫生室为0",
        "population": "服务人口，整数",
        "guarantee": "是否享受村卫生室保底收入：是/否（只有村卫生室可以为“是”；保底金额见规则集参数）",
        "workload_target": "一村一策季度门诊目标人次，整数；0表示不考核工作量",
        "director": "乡镇卫生院院长姓名（显示在结算单上）",
    },
    "assessment": {
        "inst_id": "每个机构恰好一行",
        "score": "考核得分 0–100，最多一位小数",
        "veto": "一票否决：是/否",
        "veto_reason": "否决事由（选填）",
    },
    "workpoints": {
        "inst_id": "乡镇卫生院或村卫生室的编码",
        "item": "服务项目代码（见下拉列表）；同一机构同一项目多行会相加",
        "count": "本季度服务数量，整数",
    },
    "village_income": {
        "inst_id": "每个享受保底的村卫生室恰好一行",
        "drug_subsidy": "基本药物补助（元）",
        "service_fee": "一般诊疗费（元）",
        "operating_subsidy": "运行经费补助（元）",
        "medical_income": "其他医疗收入（净额，元）",
        "visits": "本季度门诊人次，整数",
    },
}
PERIOD_NOTES = {
    "period": "期间，如 2026Q1（必填）",
    "alliance": "医共体名称（必填）",
    "alliance_id": "医共体编码，归档用（可选，字母、数字、_、-，默认用医共体名称）",
    "ph_annual_budget": "基本公共卫生服务经费年度预算（元，必填）",
    "mi_budget": "城乡居民医保基金年度总额预算（元，仅第四季度）",
    "mi_spent": "年度实际支出，含医共体外就医（元，仅第四季度）",
    "alliance_score": "医共体年度医保考核得分 0–100（仅第四季度）",
}
HEAD = PatternFill("solid", fgColor="DDEBF7")


def _validations(ws: Any, name: str, letter: dict[str, str], service_items: dict[str, dict]) -> None:
    """Drop-down lists and number checks of one input sheet."""

    def dv(col: str, **kw: Any) -> None:
        v = DataValidation(allow_blank=True, showErrorMessage=True, **kw)
        v.error = NOTES[name].get(col, "")
        ws.add_data_validation(v)
        v.add(f"{letter[col]}2:{letter[col]}5000")

    if name == "institutions":
        dv("kind", type="list", formula1='"' + ",".join(KINDS.values()) + '"')
        dv("guarantee", type="list", formula1='"是,否"')
        for c in ("staff_count", "population", "workload_target"):
            dv(c, type="whole", operator="greaterThanOrEqual", formula1="0")
        dv("perf_base_annual", type="decimal", operator="greaterThanOrEqual", formula1="0")
    elif name == "assessment":
        dv("score", type="decimal", operator="between", formula1="0", formula2="100")
        dv("veto", type="list", formula1='"是,否"')
    elif name == "workpoints":
        dv("item", type="list", formula1='"' + ",".join(service_items) + '"')
        dv("count", type="whole", operator="greaterThanOrEqual", formula1="0")
    else:
        for c in ("drug_subsidy", "service_fee", "operating_subsidy", "medical_income"):
            dv(c, type="decimal", operator="greaterThanOrEqual", formula1="0")
        dv("visits", type="whole", operator="greaterThanOrEqual", formula1="0")


def write_template(out: Path, period: str, service_items: dict[str, dict]) -> None:
    wb = Workbook()
    first = True
    for name, spec in TABLES.items():
        ws = wb.active if first else wb.create_sheet()
        first = False
        columns = spec["columns"]
        ws.title = spec["label"]
        cols = list(columns)
        ws.append([columns[c] for c in cols])
        for j, c in enumerate(cols, 1):
            cell = ws.cell(row=1, column=j)
            cell.font, cell.fill = Font(bold=True), HEAD
            cell.alignment = Alignment(horizontal="center")
            ws.column_dimensions[cell.column_letter].width = max(12, 2.2 * len(columns[c]) + 2)
        ws.freeze_panes = "A2"
        letter = {c: ws.cell(row=1, column=j).column_letter for j, c in enumerate(cols, 1)}
        _validations(ws, name, letter, service_items)
    ws = wb.create_sheet("期间")
    ws.append(["项目", "取值", "说明"])
    for key in PERIOD_KEYS:
        ws.append([key, period if key == "period" else None, PERIOD_NOTES[key]])
    for cell in ws[1]:
        cell.font, cell.fill = Font(bold=True), HEAD
    ws.column_dimensions["A"].width, ws.column_dimensions["B"].width, ws.column_dimensions["C"].width = 20, 28, 50
    ws.freeze_panes = "A2"
    notes = wb.create_sheet("说明")
    notes.append(["工作表", "列", "说明"])
    for name, spec in TABLES.items():
        for c, label in spec["columns"].items():
            notes.append([spec["label"], f"{label}（{c}）", NOTES[name][c]])
    notes.append(
        [
            "公卫工分",
            "服务项目代码",
            "；".join(f"{k} {v.get('name', '')}（{v.get('points')}分）" for k, v in service_items.items()),
        ]
    )
    notes.append(["全部", "金额", "以元为单位，最多两位小数，可带千分位；整数列不能有小数"])
    for cell in notes[1]:
        cell.font, cell.fill = Font(bold=True), HEAD
    notes.column_dimensions["A"].width, notes.column_dimensions["B"].width, notes.column_dimensions["C"].width = (
        14,
        34,
        90,
    )
    wb.save(out)
