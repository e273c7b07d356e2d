"""Helpers for the archive tests: a small approved year, the approvals file as records, and
what a dishonest user with write access does to an archive (edit, re-chain, forge)."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, cli, run_ok, write_quarter

MI = "mi_budget: 10000000.00\nmi_spent: 9000000.00\nalliance_score: 85\n"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def approve_ok(run_dir: Path, *extra) -> Path:
    """Approve without PDFs; returns the approval folder (the last stdout line)."""
    r = cli("approve", run_dir, "--by", "财务", "--no-pdf", *extra)
    assert r.exit_code == 0, r.output
    return Path(r.stdout.strip().splitlines()[-1])


def approved_quarters(tmp: Path, archive: Path, quarters=(1, 2, 3), **quarter_args) -> dict[str, Path]:
    runs = {}
    for n in quarters:
        rd = run_ok(write_quarter(tmp / f"q{n}", period=f"2026Q{n}", **quarter_args), archive)
        approve_ok(rd)
        runs[f"2026Q{n}"] = rd
    return runs


def q4_input(tmp: Path, name: str = "q4", workpoints=None) -> Path:
    return write_quarter(
        tmp / name,
        period="2026Q4",
        extra_period=MI,
        institutions=BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
        assessment=BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
        workpoints=workpoints or [["T01", "EHR", "10000"]],
        income=BASE_INCOME[1:],
    )


def lines(archive: Path) -> list[str]:
    return (archive / "approvals.jsonl").read_text(encoding="utf-8").splitlines()


def records(archive: Path) -> list[dict]:
    return [json.loads(line) for line in lines(archive)]


def line_of(rec: dict) -> str:
    return json.dumps(rec, ensure_ascii=False, sort_keys=True)


def write_records(archive: Path, recs: list[dict], rechain: bool = True) -> None:
    """Write records back; with `rechain`, recompute every prev_sha256 (the chain has no key, so
    anyone can do this) and keep each seq equal to its position."""
    out, prev = [], ""
    for i, original in enumerate(recs, 1):
        rec = dict(original)
        if rechain:
            rec["prev_sha256"] = prev
            if "seq" in rec:
                rec["seq"] = i
        line = line_of(rec)
        out.append(line)
        prev = sha(line.encode("utf-8"))
    (archive / "approvals.jsonl").write_text("".join(x + "\n" for x in out), encoding="utf-8")


def head_of(archive: Path) -> str:
    ls = lines(archive)
    return f"{len(ls)}:{sha(ls[-1].encode('utf-8'))}"


def verify(archive: Path, *extra):
    return cli("verify", archive, *extra)


def problems(result) -> list[str]:
    return [line for line in result.stdout.splitlines() if line.startswith("问题：")]


def copy_archive(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, symlinks=True)
    return dst


def edit_json(path: Path, **changes) -> None:
    m = json.loads(path.read_text(encoding="utf-8"))
    m.update(changes)
    path.write_text(json.dumps(m, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def forge_quarter(archive: Path, period: str, tmp: Path, budget: str = "800000.00") -> Path:
    """Replace the approved run of `period` by a consistently recomputed one: other inputs,
    ledger, trace and manifest under the same run id (replay of it is clean), and re-chain
    approvals.jsonl with its run and ledger hashes. Returns the forged run folder."""
    recs = records(archive)
    k = max(i for i, r in enumerate(recs) if r["period"] == period)
    target = archive / recs[k]["run_dir"]
    scratch = run_ok(write_quarter(tmp / "forged-in", period=period, budget=budget), tmp / "scratch")
    edit_json(scratch / "manifest.json", run_id=target.name)
    shutil.rmtree(target)
    shutil.copytree(scratch, target)
    recs[k]["run_sha256"] = sha((target / "manifest.json").read_bytes())
    recs[k]["ledger_sha256"] = sha((target / "ledger.csv").read_bytes())
    write_records(archive, recs)
    return target


def forge_lists(archive: Path, seq: int) -> None:
    """Work record `seq`'s payment lists out again from the (forged) run it names, as approval
    does, into its approval folder and the record's hashes; then re-chain."""
    from p4p.app.approve import Paying, plan_payments, read_run, situation_of

    recs = records(archive)
    rec = recs[seq - 1]
    folder = archive / rec["folder"]
    run = read_run(archive / rec["run_dir"])
    plan = plan_payments(run.pay, Paying(), None, situation_of(archive, [], run, supersede=False))
    for name, data in plan.data.items():
        (folder / name).write_bytes(data)
        rec["files"][name] = sha(data)
    write_records(archive, recs)


def forge_approval_folder(archive: Path, seq: int) -> None:
    """Make record `seq`'s approval folder agree with the (forged) record: copy of the run
    manifest, the record's data hashes, the folder manifest's record hash; then re-chain."""
    recs = records(archive)
    rec = recs[seq - 1]
    folder = archive / rec["folder"]
    copy = (archive / rec["run_dir"] / "manifest.json").read_bytes()
    (folder / "run-manifest.json").write_bytes(copy)
    rec["files"] = {**rec["files"], "run-manifest.json": sha(copy)}  # the other data files stay as they are
    write_records(archive, recs)
    for i, r in enumerate(records(archive), 1):  # every folder manifest names its record's hash
        fm = archive / r["folder"] / "manifest.json"
        line = lines(archive)[i - 1]
        edit_json(fm, record_sha256=sha(line.encode("utf-8")), data=r["files"], run_sha256=r["run_sha256"])
        if i < len(recs):  # and the next record names this folder manifest's hash
            nxt = records(archive)
            nxt[i]["prev_folder_sha256"] = sha(fm.read_bytes())
            write_records(archive, nxt)
