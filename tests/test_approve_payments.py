"""`p4p approve RUN --by NAME --payees FILE` (SPEC §9): the approval folder's payment lists,
receivables, alliance items and bank files, through the real command.

The base quarter of conftest.py (2026Q1), by hand (test_pay_lists.py has the full working):
- PH_FUND, health commission: F = round2(400,000 × 0.25 × 0.80) = 80,000.00 shared by
  w = T01 950, T02 800, V01 60, V03 70 (Σ 1,880; V02's q(59.9) = 0):
  T01 40,425.53, T02 34,042.55, V01 2,553.19, V03 2,978.73 (the spare fen to V03's .340 remainder).
- DIRECTOR_BONUS, lead hospital → the director: T01 800,000/4/10 × 2.0 = 40,000 → cap 15,000.00
  to 张院长; T02 400,000/4/40 × 1.5 = 3,750.00 to 李院长.
- VILLAGE_TOPUP, alliance: V01 (12,000 − 4 × 1,000 − 2,553.19) × 0.6 × 1 = 3,268.086 → 3,268.09;
  V03 vetoed → 0.00 (in no list).
- PERF_POOL is a ceiling (in no list); no alliance items in a Q1–Q3 with work points.
Transfers 80,000.00 + 18,750.00 + 3,268.09 = 102,018.09 in 7 payments, no receivables.

The year end of archive_kit.q4_input (tests/pay_support.py has the working): PH_FUND T01
+205,011.39 and claw-backs T02 −38,719.46, V01 −2,903.96, V03 −3,387.97 (= −45,011.39);
MI_SURPLUS L01 440,816.33 + C01 99,183.67 + T01 186,206.90 + T02 83,793.10 = 810,000.00;
directors 15,000.00 + 3,750.00; MI_UNDISTRIBUTED 90,000.00 on L01 (an alliance item).
Transfers 205,011.39 − 45,011.39 + 810,000.00 + 18,750.00 = 988,750.00
= 7 payments 1,033,761.39 + 3 receivables −45,011.39.
"""

from __future__ import annotations

import json
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from archive_kit import (
    approved_quarters,
    edit_json,
    forge_approval_folder,
    problems,
    q4_input,
    records,
    sha,
    write_records,
)
from openpyxl import Workbook

from p4p.engine.ledger import parse_ledger
from p4p.pay.items import from_ruleset
from p4p.pay.rows import Account
from p4p.ruleset.load import load_archived_ruleset

from conftest import BASE_INSTITUTIONS, DATA, ROOT, cli, run_ok, write_quarter
from pay_support import ALL_ACCOUNTS, PAY_DATA, folder_of, payees_csv, rows

pytestmark = pytest.mark.year  # whole quarters or years end to end: `make quick` leaves them out

LISTS = ("payments.csv", "receivables.csv", "alliance_items.csv")


def approve(run_dir: Path, *extra):
    return cli("approve", run_dir, "--by", "王会计", "--no-pdf", *extra)


def brief(path: Path) -> list[tuple[str, ...]]:
    return [
        (r["payer"], r["payee_id"], r["payee_kind"], r["payee_name"], r["account_no"], r["amount"]) for r in rows(path)
    ]


def nothing_written(archive: Path) -> bool:
    return (
        not (archive / "approvals.jsonl").exists()
        and not (archive / "approvals").exists()
        and not [p for p in archive.iterdir() if p.name.startswith(".tmp")]
    )


def totals_by_role(run_dir: Path) -> dict[str, Decimal]:
    """The run's own ledger summed by each item's declared role (transfer, alliance, ceiling)."""
    decls = from_ruleset(load_archived_ruleset(run_dir / "rules").items)
    out: dict[str, Decimal] = {}
    for line in parse_ledger((run_dir / "ledger.csv").read_bytes()):
        role = decls[line["item"]].role
        out[role] = out.get(role, Decimal("0.00")) + Decimal(line["amount"])
    return out


def listed_sum(folder: Path, *names: str) -> Decimal:
    return sum((Decimal(r["amount"]) for n in names for r in rows(folder / n)), Decimal("0.00"))


def test_a_quarter_is_paid_by_its_lists_and_bank_files(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    payees = payees_csv(tmp_path / "payees.csv")
    r = approve(rd, "--payees", payees)
    folder = folder_of(r)
    assert brief(folder / "payments.csv") == [
        ("alliance", "V01", "institution", "甲镇一村卫生室", "4111111111111111", "3268.09"),
        ("health_commission", "T01", "institution", "甲镇卫生院", "12345678901", "40425.53"),
        ("health_commission", "T02", "institution", "乙镇卫生院", "12345678902", "34042.55"),
        ("health_commission", "V01", "institution", "甲镇一村卫生室", "4111111111111111", "2553.19"),
        ("health_commission", "V03", "institution", "乙镇二村卫生室", "12345678903", "2978.73"),
        ("lead_hospital", "T01", "director", "张院长", "12345678904", "15000.00"),  # the capped bonus
        ("lead_hospital", "T02", "director", "李院长", "12345678905", "3750.00"),
    ]
    assert rows(folder / "receivables.csv") == [] and rows(folder / "alliance_items.csv") == []
    # every transfer line of the ledger is in exactly one list: the sums agree to the fen
    assert listed_sum(folder, "payments.csv", "receivables.csv") == totals_by_role(rd)["transfer"]
    assert listed_sum(folder, "payments.csv") == Decimal("102018.09")
    assert (folder / "payments.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    # one bank file per payer and fund, from the declared default template
    bank = sorted(p.name for p in (folder / "bank").iterdir())
    assert bank == [
        "template.yaml",
        "代发_alliance_村卫生室保底补助.csv",
        "代发_health_commission_基本公共卫生服务补助资金.csv",
        "代发_lead_hospital_院长绩效奖励.csv",
    ]
    assert (folder / "bank" / "代发_lead_hospital_院长绩效奖励.csv").read_bytes().decode("utf-8") == (
        "\ufeff序号,收款账号,收款户名,开户行,金额（元）,用途,收款方编码\r\n"
        "1,12345678904,张院长,建行歙县支行,15000.00,2026年第一季度 院长绩效奖励,T01\r\n"
        "2,12345678905,李院长,建行歙县支行,3750.00,2026年第一季度 院长绩效奖励,T02\r\n"
    )
    assert (folder / "bank" / "template.yaml").read_bytes() == (ROOT / "bank-templates" / "default.yaml").read_bytes()
    assert (folder / "payees.csv").read_bytes() == payees.read_bytes()
    # the reconciliation, printed and kept
    assert (
        "台账转付项目：非零 7 行，合计 102,018.09 元 = 发放名单 7 笔 102,018.09 元 + 应收回 0 笔 0.00 元 —— 相符"
        in r.stdout
    )
    assert "代发文件：bank/代发_lead_hospital_院长绩效奖励.csv" in r.stdout
    assert "台账转付项目：非零 7 行" in (folder / "reconciliation.txt").read_text(encoding="utf-8-sig")


def test_the_record_holds_every_data_file_and_verify_catches_an_edited_list(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    folder = folder_of(approve(rd, "--payees", payees_csv(tmp_path / "payees.csv")))
    (rec,) = records(archive)
    data = {"run-manifest.json", "payees.csv", "reconciliation.txt", *LISTS, "bank/template.yaml"}
    data |= {f"bank/{p.name}" for p in (folder / "bank").glob("代发_*")}
    assert set(rec["files"]) == data
    assert all(rec["files"][f] == sha((folder / f).read_bytes()) for f in data)
    fm = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert fm["data"] == rec["files"] and set(fm["documents"]) == {"payments.xlsx"}
    assert cli("verify", archive).exit_code == 0
    text = (folder / "payments.csv").read_text(encoding="utf-8-sig")
    (folder / "payments.csv").write_text(text.replace("15000.00", "51000.00"), encoding="utf-8-sig")
    v = cli("verify", archive)
    assert v.exit_code == 3
    assert f"问题：approvals/{folder.name}/payments.csv：文件已被修改（SHA-256 与 manifest 不符）" in v.stdout


def test_a_list_forged_with_its_record_and_chain_is_caught_by_recomputing_from_the_ledger(
    base_quarter, archive, tmp_path
):
    """Without a key anyone with write access can re-hash a record and re-chain (archive_kit):
    verify then works the lists out again from the approved ledger and the payees file kept in
    the folder, as approval did, and names the line that is not what the ledger says."""
    rd = run_ok(base_quarter, archive)
    folder = folder_of(approve(rd, "--payees", payees_csv(tmp_path / "payees.csv")))
    assert cli("verify", archive).exit_code == 0
    text = (folder / "payments.csv").read_text(encoding="utf-8-sig")
    (folder / "payments.csv").write_text(text.replace("15000.00", "51000.00"), encoding="utf-8-sig")
    recs = records(archive)
    recs[0]["files"]["payments.csv"] = sha((folder / "payments.csv").read_bytes())
    write_records(archive, recs)
    forge_approval_folder(archive, 1)  # the folder manifest agrees with the forged record
    v = cli("verify", archive)
    assert v.exit_code == 3
    (problem,) = problems(v)
    assert problem == (
        f"问题：approvals/{folder.name}/payments.csv：与按批准的台账重新编制的结果不符：第 7 行：amount 为 51000.00，按台账应为 15000.00"
    )


def test_a_run_changed_after_approval_is_blamed_on_the_run_not_on_its_approval_folder(base_quarter, archive, tmp_path):
    """The lists are worked out again only from the run the record approved: a ledger changed and
    re-sealed afterwards is the run's finding; the approval folder, unchanged, is a note."""
    rd = run_ok(base_quarter, archive)
    folder = folder_of(approve(rd, "--payees", payees_csv(tmp_path / "payees.csv")))
    ledger = (rd / "ledger.csv").read_bytes().replace(b"15000.00", b"51000.00", 1)
    (rd / "ledger.csv").write_bytes(ledger)
    m = json.loads((rd / "manifest.json").read_text(encoding="utf-8"))
    edit_json(rd / "manifest.json", files={**m["files"], "ledger.csv": sha(ledger)}, ledger_sha256=sha(ledger))
    v = cli("verify", archive)
    assert v.exit_code == 3
    found = problems(v)
    assert found and all(folder.name not in f for f in found), found  # the run's hash, not the lists
    assert any("运行哈希与approvals.jsonl 第1行（第1条审批记录）不符" in f for f in found), found
    assert "说明：第1条审批的发放清单未重新编制：运行 2026Q1/" in v.stdout


def test_a_changed_rules_file_of_the_run_is_not_reported_against_the_approval(base_quarter, archive):
    rd = run_ok(base_quarter, archive)
    folder = folder_of(approve(rd))
    (rd / "rules" / "checks.yaml").write_text("checks: [\n", encoding="utf-8")  # garbled YAML
    v = cli("verify", archive)
    assert v.exit_code == 3
    assert f"问题：2026Q1/{rd.name}/rules/checks.yaml：文件已被修改（SHA-256 与 manifest 不符）" in v.stdout
    assert all(folder.name not in f for f in problems(v)), problems(v)


def test_an_approval_folder_of_another_p4p_version_is_not_recomputed_and_says_so(base_quarter, archive):
    folder = folder_of(approve(run_ok(base_quarter, archive)))
    edit_json(folder / "manifest.json", p4p_version="0.2.0")
    v = cli("verify", archive)
    assert v.exit_code == 0, v.output
    assert "说明：审批目录由其他版本的 p4p 生成，未重新编制其发放清单" in v.stdout
    assert "第1条（0.2.0）" in v.stdout


def test_without_payees_the_lists_carry_names_only_and_no_bank_file(base_quarter, archive):
    r = approve(run_ok(base_quarter, archive))
    folder = folder_of(r)
    got = rows(folder / "payments.csv")
    assert [(x["payee_name"], x["account_no"], x["amount"]) for x in got][-2:] == [
        ("张院长", "", "15000.00"),
        ("李院长", "", "3750.00"),
    ]
    assert not (folder / "bank").exists() and not list(folder.glob("payees*"))
    assert "说明：未提供收款账户文件（--payees）：发放清单只列收款方名称，没有账号，未生成代发文件" in r.stdout


def test_a_q4_claw_back_is_a_receivable_never_in_a_bank_file(tmp_path, archive):
    approved_quarters(tmp_path, archive)
    q4 = run_ok(q4_input(tmp_path), archive)
    assert parse_ledger((q4 / "ledger.csv").read_bytes()) == parse_ledger((PAY_DATA / "ledger-2026Q4.csv").read_bytes())
    r = approve(q4, "--payees", payees_csv(tmp_path / "payees.csv"))
    folder = folder_of(r)
    assert brief(folder / "receivables.csv") == [
        ("health_commission", "T02", "institution", "乙镇卫生院", "12345678902", "-38719.46"),
        ("health_commission", "V01", "institution", "甲镇一村卫生室", "4111111111111111", "-2903.96"),
        ("health_commission", "V03", "institution", "乙镇二村卫生室", "12345678903", "-3387.97"),
    ]
    assert [(x["payer"], x["payee_id"], x["amount"]) for x in rows(folder / "payments.csv")] == [
        ("alliance", "C01", "99183.67"),
        ("alliance", "L01", "440816.33"),
        ("alliance", "T01", "186206.90"),
        ("alliance", "T02", "83793.10"),
        ("health_commission", "T01", "205011.39"),
        ("lead_hospital", "T01", "15000.00"),
        ("lead_hospital", "T02", "3750.00"),
    ]
    assert [(x["payee_id"], x["items"], x["amount"]) for x in rows(folder / "alliance_items.csv")] == [
        ("L01", "MI_UNDISTRIBUTED", "90000.00")
    ]
    roles = totals_by_role(q4)
    assert listed_sum(folder, "payments.csv", "receivables.csv") == roles["transfer"] == Decimal("988750.00")
    assert listed_sum(folder, "alliance_items.csv") == roles["alliance"]
    health = rows(folder / "bank" / "代发_health_commission_基本公共卫生服务补助资金.csv")
    assert [(x["收款方编码"], x["金额（元）"]) for x in health] == [("T01", "205011.39")]
    assert (
        "台账转付项目：非零 10 行，合计 988,750.00 元 = 发放名单 7 笔 1,033,761.39 元 + 应收回 3 笔 -45,011.39 元 —— 相符"
        in r.stdout
    )


def payees_workbook(path: Path, accounts: dict, numeric: str | None = None) -> Path:
    """Sheet 收款账户 with the accounts as text cells, except `numeric`'s, typed as a number the
    way Excel keeps it (a double: 15 significant digits)."""
    wb = Workbook()
    ws = wb.active
    ws.title = "收款账户"
    ws.append(["机构编码", "收款人类型", "户名", "账号", "开户行"])
    for (inst, kind), a in accounts.items():
        number: str | float = float(a.account_no) if inst == numeric else a.account_no
        ws.append([inst, kind, a.account_name, number, a.bank])
    wb.save(path)
    return path


def test_a_card_number_typed_as_a_number_is_refused_naming_the_cell_and_nothing_is_written(
    base_quarter, archive, tmp_path
):
    """V01's 19-digit card 6222020000000000000 typed as a number in row 4 (after the header,
    T01 and T02); T02's director has no row at all — both are reported at once."""
    rd = run_ok(base_quarter, archive)
    accounts = {k: v for k, v in ALL_ACCOUNTS.items() if k != ("T02", "director")}
    accounts[("V01", "institution")] = Account("王医生", "6222020000000000000", "农商行歙县支行")
    book = payees_workbook(tmp_path / "payees.xlsx", accounts, numeric="V01")
    assert list(accounts)[2] == ("V01", "institution")
    before = {p: p.read_bytes() for p in rd.rglob("*") if p.is_file()}
    r = approve(rd, "--payees", book)
    assert r.exit_code == 2
    assert "审批的输入有 2 处问题，未审批、未写入任何文件" in r.stderr
    assert "payees.xlsx 收款账户!D4" in r.stderr and "数字单元格" in r.stderr
    assert "李院长（T02，院长）" in r.stderr and "没有该收款人的账户" in r.stderr
    assert nothing_written(archive)
    assert {p: p.read_bytes() for p in rd.rglob("*") if p.is_file()} == before


def test_a_card_failing_the_luhn_check_is_a_warning(base_quarter, archive, tmp_path):
    """4111111111111112: the Luhn sum is 31 (test_pay_payees.py), not a multiple of 10."""
    accounts = dict(ALL_ACCOUNTS)
    accounts[("V01", "institution")] = Account("王医生", "4111111111111112", "农商行歙县支行")
    r = approve(run_ok(base_quarter, archive), "--payees", payees_csv(tmp_path / "p.csv", accounts))
    folder = folder_of(r)
    assert "警告：" in r.stderr and "Luhn" in r.stderr
    assert ("alliance", "V01", "institution", "甲镇一村卫生室", "4111111111111112", "3268.09") in brief(
        folder / "payments.csv"
    )


def test_a_declared_bank_template_shapes_the_bank_file(base_quarter, archive, tmp_path):
    """example-gb18030-fen.yaml: GB18030 .txt, '|' separated, no header, amounts in fen
    (15,000.00 yuan = 1,500,000 fen), a constant currency column."""
    template = ROOT / "bank-templates" / "example-gb18030-fen.yaml"
    rd = run_ok(base_quarter, archive)
    folder = folder_of(approve(rd, "--payees", payees_csv(tmp_path / "p.csv"), "--bank-template", template))
    assert (folder / "bank" / "代发_lead_hospital_院长绩效奖励.txt").read_bytes().decode("gb18030") == (
        "12345678904|张院长|1500000|CNY|2026年第一季度 院长绩效奖励\r\n"
        "12345678905|李院长|375000|CNY|2026年第一季度 院长绩效奖励\r\n"
    )
    assert (folder / "bank" / "template.yaml").read_bytes() == template.read_bytes()


def test_a_bad_bank_template_or_one_without_payees_is_refused_before_anything_is_written(
    base_quarter, archive, tmp_path
):
    rd = run_ok(base_quarter, archive)
    bad = tmp_path / "bank.yaml"
    bad.write_text(
        "name: 坏模板\ncolumns:\n  - {header: 金额, field: amount}\n  - {header: 户名, field: holder}\n", "utf-8"
    )
    r = approve(rd, "--payees", payees_csv(tmp_path / "p.csv"), "--bank-template", bad)
    assert r.exit_code == 2 and "bank.yaml" in r.stderr and "format" in r.stderr and "holder" in r.stderr
    r = approve(rd, "--bank-template", ROOT / "bank-templates" / "default.yaml")
    assert r.exit_code == 2 and "--bank-template 要与 --payees 一起使用" in r.stderr
    assert nothing_written(archive)


def test_a_run_archived_by_p4p_0_2_is_approved_without_payment_lists(tmp_path):
    """Format-1 rulesets declare no payments: the approval stamps, records, and says so."""
    archive = shutil.copytree(DATA / "archive-v1" / "archive", tmp_path / "archive")
    (q4,) = sorted((archive / "2026Q4").iterdir())
    r = approve(q4, "--payees", payees_csv(tmp_path / "p.csv"))
    assert r.exit_code == 2 and "没有声明发放方式" in r.stderr
    assert len(records(archive)) == 3
    r = approve(q4)
    folder = folder_of(r)
    assert "说明：该运行的规则集（p4p 0.2 的格式 1）没有声明各项目由谁发放" in r.stdout
    assert not list(folder.glob("*.csv")) and records(archive)[-1]["files"].keys() == {"run-manifest.json"}
    assert cli("verify", archive).exit_code == 0


def test_a_unit_not_in_the_run_is_a_warning_and_a_second_account_an_error(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    p = payees_csv(tmp_path / "p.csv")
    with open(p, "a", encoding="utf-8") as f:
        f.write("X99,institution,某机构,12345678999,工行\n")
    r = approve(rd, "--payees", p)
    folder_of(r)
    assert "警告：p.csv 第10行 列“inst_id”（值：“X99”）：本次运行的台账中没有这个机构编码：该行本次未使用" in r.stderr
    with open(p, "a", encoding="utf-8") as f:
        f.write("T01,director,张院长,12345678998,建行\n")
    b = run_ok(write_quarter(tmp_path / "q2", period="2026Q2"), archive)
    r = approve(b, "--payees", p)
    assert r.exit_code == 2 and "审批的输入有 1 处问题" in r.stderr
    assert "p.csv 第11行 列“inst_id”（值：“T01”）：T01 的院长账户重复（已在 p.csv 第6行 给出）" in r.stderr
    assert len(records(archive)) == 1


def test_the_same_quarter_of_another_input_gives_the_same_list_bytes(tmp_path):
    """Lists carry no timestamps: two archives approving identical runs hold identical files."""
    a = folder_of(approve(run_ok(write_quarter(tmp_path / "a"), tmp_path / "A")))
    b = folder_of(approve(run_ok(write_quarter(tmp_path / "b"), tmp_path / "B")))
    assert all((a / n).read_bytes() == (b / n).read_bytes() for n in (*LISTS, "reconciliation.txt"))


def test_a_director_without_a_name_is_listed_with_a_warning_and_needs_an_account(archive, tmp_path):
    """T02's director left blank in the institutions table (an optional column): the approval
    goes ahead without payees (乙镇卫生院院长（姓名未填写）, 3,750.00, warned); with payees, the
    director's account is required like every payee's."""
    institutions = [list(r) for r in BASE_INSTITUTIONS]
    institutions[3][9] = ""
    rd = run_ok(write_quarter(tmp_path / "in", institutions=institutions), archive)
    accounts = {k: v for k, v in ALL_ACCOUNTS.items() if k != ("T02", "director")}
    r = approve(rd, "--payees", payees_csv(tmp_path / "p.csv", accounts))
    assert r.exit_code == 2 and "乙镇卫生院院长（姓名未填写）（T02，院长）" in r.stderr
    assert nothing_written(archive)
    r = approve(rd)
    folder = folder_of(r)
    assert ("lead_hospital", "T02", "director", "乙镇卫生院院长（姓名未填写）", "", "3750.00") in brief(
        folder / "payments.csv"
    )
    assert "警告：ledger.csv 第7行" in r.stderr and "没有填写院长姓名（乙镇卫生院）" in r.stderr


def test_a_missing_payees_file_is_an_input_problem_in_chinese(base_quarter, archive, tmp_path):
    rd = run_ok(base_quarter, archive)
    r = approve(rd, "--payees", tmp_path / "收款账户.xlsx")
    assert (
        r.exit_code == 2 and f"收款账户.xlsx：无法读取收款账户文件：不存在（{tmp_path / '收款账户.xlsx'}）" in r.stderr
    )
    r = approve(rd, "--payees", tmp_path)
    assert r.exit_code == 2 and f"无法读取收款账户文件：是文件夹，不是文件（{tmp_path}）" in r.stderr
    assert nothing_written(archive)
