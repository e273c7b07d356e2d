import sys
from pathlib import Path
sys.path.insert(0, "tests")
from conftest import BASE_ASSESSMENT, BASE_INCOME, BASE_INSTITUTIONS, cli, run_ok, write_quarter
tmp = Path("/tmp/arch-v1")
archive = Path("tests/data/archive-v1/archive")
for n in (1, 2, 3):
    rd = run_ok(write_quarter(tmp / f"q{n}", period=f"2026Q{n}"), archive)
    r = cli("approve", rd, "--by", "财务")
    assert r.exit_code == 0, r.output
q4 = write_quarter(tmp / "q4", period="2026Q4",
    extra_period="mi_budget: 10000000.00\nmi_spent: 9000000.00\nalliance_score: 85\n",
    institutions=BASE_INSTITUTIONS[:4] + BASE_INSTITUTIONS[5:],
    assessment=BASE_ASSESSMENT[:4] + BASE_ASSESSMENT[5:],
    workpoints=[["T01", "EHR", "10000"]], income=BASE_INCOME[1:])
print(run_ok(q4, archive))
