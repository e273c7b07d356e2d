from decimal import Decimal
from fractions import Fraction

import pytest

from p4p.model.money import MoneyError, capitals, half_up, parse_int, parse_money, round2, split_fen


@pytest.mark.parametrize(
    "amount,text",
    [
        ("0.05", "人民币伍分"),
        ("10.00", "人民币壹拾元整"),
        ("1409.50", "人民币壹仟肆佰零玖元伍角整"),
        ("16409.02", "人民币壹万陆仟肆佰零玖元零贰分"),
        ("100000.00", "人民币壹拾万元整"),
        ("48000.00", "人民币肆万捌仟元整"),
        ("10005.00", "人民币壹万零伍元整"),
        ("12000.00", "人民币壹万贰仟元整"),
        ("0.00", "人民币零元整"),
        ("1000000.00", "人民币壹佰万元整"),
        ("10000001.00", "人民币壹仟万零壹元整"),
        ("100.06", "人民币壹佰元零陆分"),
        ("2684640.98", "人民币贰佰陆拾捌万肆仟陆佰肆拾元零玖角捌分"),
        ("-561.64", "人民币负伍佰陆拾壹元陆角肆分"),
        ("-10005.00", "人民币负壹万零伍元整"),
    ],
)
def test_capitals(amount, text):
    assert capitals(Decimal(amount)) == text


@pytest.mark.parametrize(
    "x,expect",
    [("2.345", "2.35"), ("2.344999", "2.34"), ("-2.345", "-2.35"), ("0.005", "0.01"), ("3268.086", "3268.09")],
)
def test_round_half_up(x, expect):
    assert round2(Fraction(Decimal(x))) == Decimal(expect)


def test_round2_of_a_third_is_exact():
    assert round2(Fraction(1, 3)) == Decimal("0.33") and round2(Fraction(2, 3)) == Decimal("0.67")


def test_half_up_on_integers_and_columns():
    """-2.5 → -3 (ties away from zero), 2.5 → 3, 7/3 → 2; the same on an object array."""
    import numpy as np

    assert [half_up(n, d) for n, d in ((-5, 2), (5, 2), (7, 3), (0, 9))] == [-3, 3, 2, 0]
    col = np.array([-5, 5, 7, 0], dtype=object)
    assert half_up(col, 2).tolist() == [-3, 3, 4, 0]


def test_largest_remainder_adds_up_and_breaks_ties_by_position():
    # 100 fen over 1:1:1 → 33.33 each; the fen left goes to the earliest (weights come in inst_id order)
    assert split_fen(100, [1, 1, 1]) == [34, 33, 33]
    parts = split_fen(1_000_003, [(i + 1) * 7 for i in range(13)])
    assert sum(parts) == 1_000_003
    assert split_fen(5, [0, 0]) == [0, 0]


def test_largest_remainder_gives_leftovers_to_largest_fractions():
    # 10 fen over 2:1 → 6.67 / 3.33: the fen left goes to the larger remainder (.67)
    assert split_fen(10, [2, 1]) == [7, 3]


@pytest.mark.parametrize(
    "text,value",
    [("48,000.00", "48000.00"), ("1345691.96", "1345691.96"), ("12", "12.00"), (" 3,059,846.24 ", "3059846.24")],
)
def test_parse_money(text, value):
    assert parse_money(text) == Decimal(value)


@pytest.mark.parametrize("text", ["1.005", "abc", "1,00.00", "", "1e5"])
def test_parse_money_rejects(text):
    with pytest.raises(MoneyError):
        parse_money(text)


def test_parse_int():
    assert parse_int("12") == 12 and parse_int("12.0") == 12
    with pytest.raises(MoneyError):
        parse_int("12.5")


def test_exact_text():
    from p4p.lang.exact import fraction_text

    assert fraction_text(Fraction(8, 492)) == "0.01626016260162601626016260163"
    assert fraction_text(Fraction(9, 10)) == "0.9" and fraction_text(Fraction(1)) == "1"
    assert fraction_text(Fraction(0)) == "0" and fraction_text(Fraction(631281120, 10000)) == "63128.112"
