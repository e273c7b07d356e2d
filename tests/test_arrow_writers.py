"""A province's trace blocks and ledger (2,048 lines and more) are put together by Arrow's string
kernels: the bytes must be those the line-by-line writers give, for every kind of value a block
keeps and every name a user may type."""

from dataclasses import replace

from p4p.app import DEFAULT_RULES, compute_run
from p4p.engine import ledger
from p4p.engine.trace import ARROW_BLOCK_MIN, _block_bytes, _lines


def grown(block, times: int, odd_text: str):
    """The block's lines repeated `times` times; one text value made as awkward as JSON gets."""
    values = {name: list(v) * times for name, v in block.values.items()}
    for name, v in values.items():
        if name not in block.numeric and name not in block.mappings and v and isinstance(v[0], str):
            v[1] = odd_text
            break
    return replace(
        block,
        inst_ids=block.inst_ids * times,
        amounts=block.amounts * times,
        quantities=block.quantities * times,
        cases=block.cases * times,
        values=values,
    )


def test_a_large_block_is_written_byte_for_byte_as_line_by_line(base_quarter):
    result = compute_run(base_quarter, DEFAULT_RULES, None).result
    kinds = set()
    for bi, block in enumerate(result.blocks):
        big = grown(block, ARROW_BLOCK_MIN // len(block.inst_ids) + 1, 'a"b\\c\n名\u2028')
        assert len(big.inst_ids) >= ARROW_BLOCK_MIN
        assert _block_bytes(bi, big) == "".join(_lines(bi, big)).encode("utf-8")
        kinds |= {"mapping" if n in big.mappings else "number" if n in big.numeric else "text" for n in big.names}
    assert kinds == {"mapping", "number", "text"}  # every kind of value column was compared


def test_a_large_ledger_is_written_byte_for_byte_as_line_by_line(monkeypatch):
    """Names as text (a leading ' before = + - @, not before a ' already there) and quoted as the
    csv module quotes them (a comma or a double quote), Chinese and odd separators as they are."""
    names = ["甲镇卫生院", "a,b", 'say "hi"', "=SUM(A1)", "+1", "-x", "@y", "", "'=z", "a\u2028b", '普通,名"字']
    rows = [
        ["2026Q1", f"T{i:04d}", names[i % 11], "township", "PERF_POOL", names[i * 7 % 11], "12.34", "1/3", "R1"]
        for i in range(3000)
    ]
    monkeypatch.setattr(ledger, "ARROW_LEDGER_MIN", 10**9)
    line_by_line = ledger.ledger_csv(rows)
    monkeypatch.setattr(ledger, "ARROW_LEDGER_MIN", 2048)
    assert ledger.ledger_csv(rows) == line_by_line
    assert '2026Q1,T0003,\'=SUM(A1),township,PERF_POOL,"普通,名""字",12.34,1/3,R1\r\n'.encode() in line_by_line
    assert ledger.parse_ledger(line_by_line)[3]["inst_name"] == "=SUM(A1)"  # read back as typed
