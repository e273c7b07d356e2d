from fractions import Fraction

import pytest

from p4p.lang.formula import FormulaError, compile_formula


def test_literals_are_exact_decimals():
    assert compile_formula("0.1 + 0.2")({}) == Fraction(3, 10)
    assert compile_formula("round2(1 / 3)")({}) == Fraction(33, 100)


def test_names_functions_and_lazy_ifelse():
    f = compile_formula("ifelse(t == 0, 1, min(1, v / t))")
    assert f({"t": 0, "v": 5}) == 1  # the division by zero branch is never evaluated
    assert f({"t": 492, "v": 8}) == Fraction(2, 123)
    assert f.names == {"t", "v"}


def test_dot_is_count_times_points():
    assert compile_formula("dot(wp, pts)")({"wp": {"A": 3, "B": 2}, "pts": {"A": Fraction(4), "B": Fraction(10)}}) == 32


@pytest.mark.parametrize(
    "text", ['__import__("os")', "a.b", "[1]", "x ** 2", "lambda: 1", '"s"', "open(1)", "f(x=1)", "a[0]", "(yield)"]
)
def test_anything_else_is_refused(text):
    with pytest.raises(FormulaError):
        compile_formula(text)


def test_unknown_name_and_division_by_zero_are_errors():
    with pytest.raises(FormulaError, match="没有取值"):
        compile_formula("a + b")({"a": 1})
    with pytest.raises(FormulaError, match="除以零"):
        compile_formula("a / b")({"a": 1, "b": 0})
