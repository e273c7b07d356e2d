"""A minus sign on a count is a negative number, refused like `-3` — `-0` and `-0.0` included
(money and scores refuse `-0` too). Integers written with zero decimals (`2200.00`, `0.0`, as
Excel exports them) stay accepted."""

import pytest
from strict_helpers import read, refused

from conftest import BASE_INCOME, BASE_INSTITUTIONS, BASE_WORKPOINTS, INST_HEAD, write_quarter


def _inst(i, col, text):
    rows = [list(r) for r in BASE_INSTITUTIONS]
    rows[i][INST_HEAD.index(col)] = text
    return rows


CASES = {  # column → (quarter with the cell written as text, where it shows)
    "count": (lambda d, t: write_quarter(d, workpoints=[*BASE_WORKPOINTS, ["T01", "EHR", t]]), "workpoints.csv 第7行"),
    "population": (lambda d, t: write_quarter(d, institutions=_inst(2, "population", t)), "institutions.csv 第4行"),
    "staff_count": (lambda d, t: write_quarter(d, institutions=_inst(4, "staff_count", t)), "institutions.csv 第6行"),
    "workload_target": (
        lambda d, t: write_quarter(d, institutions=_inst(4, "workload_target", t)),
        "institutions.csv 第6行",
    ),
    "visits": (
        lambda d, t: write_quarter(d, income=[[*BASE_INCOME[0][:5], t], BASE_INCOME[1]]),
        "village_income.csv 第2行",
    ),
}


@pytest.mark.parametrize("text", ["-0", "-0.0", "-0.00"])
@pytest.mark.parametrize("col", sorted(CASES))
def test_minus_zero_is_refused(tmp_path, col, text):
    make, where = CASES[col]
    refused(make(tmp_path / "in", text), tmp_path / "a", f"{where} 列“{col}”（值：“{text}”）：应为不小于 0 的整数")


@pytest.mark.parametrize("col", sorted(CASES))
def test_zero_decimals_are_still_integers(tmp_path, col):
    make, _ = CASES[col]
    for text in ("2200.00", "0.0"):
        q = read(make(tmp_path / f"in{text}", text))
        assert q is not None
    q = read(CASES["count"][0](tmp_path / "c", "2200.00"))
    assert q.workpoints["T01"]["EHR"] == 3200
