"""Exact money: every number shape the exports use, the scalar and vector parsers agree, and
rounding is half-even to the currency's minor unit."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from ledger.core.money import (
    amount_expr,
    detect_decimal_mark,
    footed,
    format_money,
    minor_units,
    parse_amount,
    round_money,
)

CASES = [
    ("1,234.56", ".", "1234.56"),
    ("1.234,56", ",", "1234.56"),
    ("1,00,000.00", ".", "100000.00"),
    ("(12.34)", ".", "-12.34"),
    ("12.34-", ".", "-12.34"),
    ("+1,200.00", ".", "1200.00"),
    ("PKR 1,000 Dr", ".", "-1000"),
    ("1,000.50 Cr", ".", "1000.50"),
    ("Rs.1,500", ".", "1500"),
    ("₹ 2,000.50", ".", "2000.50"),
    ("$-5.00", ".", "-5.00"),
    ("-$5.00", ".", "-5.00"),
    ("1\u00a0234,56", ",", "1234.56"),
    ("  4439.59", ".", "4439.59"),
    ("6460.0", ".", "6460.0"),
    ("-1,201.00", ".", "-1201.00"),
    ("0.00", ".", "0.00"),
    ("1,23,45,678.90", ".", "12345678.90"),
    ("12.345.678,90", ",", "12345678.90"),
    ("1.500", ",", "1500"),
]
BAD = ["", "abc", "1O0", "12abc", "1-2", "1.23456", "--", "(", "1,2,3.4.5",
       "1.500,00", "12,50", "1,5", "1,2345.00", "1,234.5,6"]


@pytest.mark.parametrize(("text", "mark", "expected"), CASES)
def test_parse_shapes(text, mark, expected):
    assert parse_amount(text, mark) == Decimal(expected)
    vector = pl.DataFrame({"a": [text]}).select(amount_expr("a", mark))[0, 0]
    assert vector == Decimal(expected)


@pytest.mark.parametrize("text", BAD)
def test_bad_values_are_errors_not_zero(text):
    with pytest.raises(ValueError):
        parse_amount(text)
    assert pl.DataFrame({"a": [text]}).select(amount_expr("a"))[0, 0] is None


def test_detect_decimal_mark():
    assert detect_decimal_mark(["1,250.00", "48.13"]) == "."
    assert detect_decimal_mark(["1.234,56", "0,00"]) == ","
    assert detect_decimal_mark(["1,250", "300"]) is None
    with pytest.raises(ValueError):
        detect_decimal_mark(["1.50", "2,50"])


def test_rounding_is_half_even_to_minor_unit():
    assert round_money(Decimal("2.675"), "USD") == Decimal("2.68")
    assert round_money(Decimal("2.665"), "USD") == Decimal("2.66")
    assert format_money(Decimal("1234.5"), "JPY") == "1234"
    assert format_money(Decimal("-0.001"), "USD") == "0.00"
    assert minor_units("PKR") == 2
    assert minor_units("KWD") == 3


def test_float_is_refused():
    from ledger.core.money import to_decimal

    with pytest.raises(TypeError):
        to_decimal(0.1)


money = st.decimals(min_value=Decimal("-99999999.99"), max_value=Decimal("99999999.99"),
                    places=2, allow_nan=False, allow_infinity=False)


@given(money, st.sampled_from([".", ","]), st.booleans(), st.sampled_from(["", "PKR ", "$"]))
def test_round_trip_through_every_presentation(value, mark, parens, prefix):
    """Format a value the way some export would, parse it back: the same Decimal."""
    text = f"{abs(value):,.2f}"
    if mark == ",":
        text = text.replace(",", "X").replace(".", ",").replace("X", ".")
    text = prefix + text
    if value < 0:
        text = f"({text})" if parens else f"{text}-"
    assert parse_amount(text, mark) == value
    assert pl.DataFrame({"a": [text]}).select(amount_expr("a", mark))[0, 0] == value


@given(st.lists(st.decimals(min_value=Decimal("-99999.999999"), max_value=Decimal("99999.999999"),
                            places=6, allow_nan=False, allow_infinity=False), max_size=8),
       st.sampled_from(["PKR", "JPY", "KWD"]))
def test_footed_lines_add_up_to_the_total_rounded_from_the_exact_sum(amounts, currency):
    """Each line moves at most one minor unit from its own rounding, and the lines add up to
    the exact sum, rounded (each rounded alone, 0.125 + 0.125 + 0.125 shows 0.36, not 0.38)."""
    unit = Decimal(1).scaleb(-minor_units(currency))
    shown = footed(amounts, currency)
    assert sum(shown, Decimal(0)) == round_money(sum(amounts, Decimal(0)), currency)
    for line, exact in zip(shown, amounts, strict=True):
        assert line == round_money(line, currency)
        assert abs(line - exact) < unit


def test_footed_puts_the_cent_on_the_largest_remainder():
    assert footed([Decimal("0.125"), Decimal("0.125"), Decimal("0.125")], "USD") == [
        Decimal("0.13"), Decimal("0.13"), Decimal("0.12")]  # a tie: the first lines
    assert footed([Decimal("1.004"), Decimal("2.0049"), Decimal("3.001")], "USD",
                  Decimal("6.02")) == [Decimal("1.01"), Decimal("2.01"), Decimal("3.00")]


@given(money)
def test_format_then_parse(value):
    assert parse_amount(format_money(value, "USD")) == value


@pytest.mark.parametrize(("amount", "locale", "shown"), [
    ("12500000.50", "en_IN", "1,25,00,000.50"),
    ("-1234567.00", "en_PK", "-1,234,567.00"),
    ("125000.5", "de_DE", "125.000,5"),
    ("-0.50", "en_IN", "-0.50"),
    ("497286.08", None, "497,286.08"),
])
def test_grouping_for_reading_keeps_every_digit(amount, locale, shown):
    from ledger.core.money import group_for_reading

    assert group_for_reading(Decimal(amount), locale) == shown


def test_currency_symbol_from_the_locale():
    from ledger.core.money import currency_symbol

    assert (currency_symbol("INR", "en_IN"), currency_symbol("PKR", "en_PK"),
            currency_symbol("PKR", None)) == ("₹", "Rs", None)
