"""The formula language: exact, safe, over columns of institutions."""

from fractions import Fraction as F

import pytest

from p4p.lang.exact import Vec, texts
from p4p.lang.formula import FormulaError, compile_formula, value_type


def col(*values):
    return Vec.of_fractions([F(v) for v in values])


def test_literals_are_exact_decimals():
    assert compile_formula("0.1 + 0.2").number({}).fractions() == [F(3, 10)]
    assert compile_formula("round2(1 / 3)").number({}).fractions() == [F(33, 100)]


def test_round2_is_half_up_away_from_zero():
    # 0.005 → 0.01, -0.005 → -0.01, 2.675 (a binary double's trap) → 2.68
    f = compile_formula("round2(x)")
    assert f.number({"x": col("0.005", "-0.005", "2.675", "2.674999")}).fractions() == [
        F(1, 100), F(-1, 100), F(268, 100), F(267, 100)
    ]  # fmt: skip


def test_a_formula_runs_over_a_column_and_ifelse_chooses_row_by_row():
    """Row 1 has target 0: its division by zero is on the branch not taken, so it is no error."""
    f = compile_formula("ifelse(t == 0, 1, min(1, v / t))")
    out = f.number({"t": col(492, 0, 100), "v": col(8, 5, 250)})
    assert out.fractions() == [F(2, 123), F(1), F(1)]
    assert len(out.bad_rows()) == 0
    assert f.names == {"t", "v"}


def test_division_by_zero_on_a_row_that_is_used_is_marked():
    out = compile_formula("a / b").number({"a": col(1, 2, 3), "b": col(2, 0, 3)})
    assert out.bad_rows().tolist() == [1]


def test_dot_is_count_times_points_over_the_counted_items():
    f = compile_formula("dot(wp, pts)")
    wp = {"A": col(3, 0), "B": col(2, 5)}
    assert f.number({"wp": wp, "pts": {"A": col(4), "B": col(10)}}).fractions() == [F(32), F(50)]
    with pytest.raises(FormulaError, match="项目 C"):
        f.number({"wp": {**wp, "C": col(1, 1)}, "pts": {"A": col(4), "B": col(10)}})


def test_exact_text_of_a_column():
    # terminating fractions are written exactly; others to 28 significant digits
    assert texts(col("0.25", "1/3", "-7/8", 12)) == ["0.25", "0.3333333333333333333333333333", "-0.875", "12"]


def test_a_long_column_is_written_exactly_as_value_by_value(monkeypatch):
    """Columns of 2,048 distinct values and more are formatted by Arrow's string kernels: the
    same text as one value at a time, on both sides of zero, at int64's edge, and past it."""
    from p4p.lang import exact

    used = []
    arrow = exact._decimal_column
    monkeypatch.setattr(exact, "_decimal_column", lambda *a: used.append(arrow(*a)) or used[-1])
    values = [F((-1) ** i * i, 1000) for i in range(3000)] + [F(12), F(-3), F(999999999, 1000)]
    edge = [F(2**62 - 1, 1000), F(-(2**62) + 1, 1000), F(10**30 + 1, 1000)]  # the last needs Python ints
    for column in (values, [*values, *edge]):
        assert texts(Vec.of_fractions(column)) == [t for v in column for t in texts(col(v))]
    assert used[0] is not None and used[1] is None  # Arrow for the first column, Python ints for the second
    assert texts(Vec.of_fractions(values))[:4] == ["0", "-0.001", "0.002", "-0.003"]
    assert texts(Vec.of_fractions(values))[-3:] == ["12", "-3", "999999.999"]
    whole = [(-1) ** i * i * 7 for i in range(3000)] + [2**62 - 1, -(2**62) + 1]  # integers: den 1
    assert texts(Vec.of(whole)) == [str(x) for x in whole] and used[-1] is not None


@pytest.mark.parametrize(
    "text",
    ['__import__("os")', "a.b", "[1]", "x ** 2", "lambda: 1", '"s"', "open(1)", "f(x=1)", "a[0]", "(yield)",
     "1e5", "0x10", "1_000", "True", "min(1)", "round2(1, 2)", "ifelse(1, 2)", "x if y else z", "a % 2"],
)  # fmt: skip
def test_anything_else_is_refused(text):
    with pytest.raises(FormulaError):
        compile_formula(text)


def test_formulas_are_bounded():
    with pytest.raises(FormulaError, match="过长"):
        compile_formula(" + ".join(["1"] * 100_000))
    with pytest.raises(FormulaError, match="嵌套过深"):
        compile_formula("(" * 40 + "1" + ")" * 40 + " + " + "-" * 40 + "1")
    with pytest.raises(FormulaError, match="数字过长"):
        compile_formula("1" * 31)
    with pytest.raises(FormulaError, match=r"123 或 0\.85"):
        compile_formula("1e99999999")


def test_unknown_name_is_an_error_naming_it():
    with pytest.raises(FormulaError, match="名称 b 没有取值"):
        compile_formula("a + b").number({"a": col(1)})


def test_static_types_catch_a_mapping_used_as_a_number():
    types = {"wp": "mapping", "pts": "mapping", "x": "number"}
    assert value_type(compile_formula("dot(wp, pts) * x"), types) == "number"
    assert value_type(compile_formula("x > 1 and x < 3"), types) == "truth"
    with pytest.raises(FormulaError, match="只能用在 dot 里"):
        value_type(compile_formula("wp + 1"), types)
    with pytest.raises(FormulaError, match="需要条件"):
        value_type(compile_formula("ifelse(x, 1, 2)"), types)
