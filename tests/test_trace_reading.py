"""Reading a trace for one institution (`p4p explain` on a province's run) gives exactly that
institution's lines of the whole trace, explanations included, in both trace formats."""

from p4p.app import DEFAULT_RULES, compute_run
from p4p.engine.trace import read_directors, read_trace

from conftest import DATA


def one_by_one_is_the_whole(data: bytes) -> int:
    whole = read_trace(data)
    ids = sorted({t.inst_id for t in whole})
    assert ids == sorted(read_directors(data))  # every institution with a line
    for inst in ids:
        mine = read_trace(data, inst)
        assert [(t.item, t.amount, t.explain, t.values) for t in mine] == [
            (t.item, t.amount, t.explain, t.values) for t in whole if t.inst_id == inst
        ]
    assert read_trace(data, "NO_SUCH") == []
    return len(ids)


def test_format_2(base_quarter):
    data = compute_run(base_quarter, DEFAULT_RULES, None).files["trace.jsonl"]
    assert one_by_one_is_the_whole(data) == 7


def test_format_1_archived_by_p4p_0_2():
    (q4,) = (DATA / "archive-v1" / "archive" / "2026Q4").iterdir()
    assert one_by_one_is_the_whole((q4 / "trace.jsonl").read_bytes()) >= 6
