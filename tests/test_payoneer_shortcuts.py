"""Payoneer's cheaper ways (issue 23) give what the longer ones gave: the counterparty picked
by number, the description made in one concatenation, the category made from numbers and the
platform test made per distinct name. The longer ways are written out here as they were."""

from __future__ import annotations

import itertools
from decimal import Decimal

import polars as pl
import pytest

from importers import payoneer, payoneer_kinds, registry
from importers.base import ImportOptions, is_platform
from importers.readers import read_table


def _old_counterparty() -> pl.Expr:
    kind_is = payoneer_kinds.kind_is
    payer = pl.coalesce(pl.col("_source"),
                        pl.when(kind_is("earning", "transfer", "other")).then(pl.col("_from_name")))
    payee = pl.coalesce(pl.col("_target"), pl.when(kind_is("other")).then(pl.col("_to_name")))
    return (pl.when(kind_is("payment_fee", "fx")).then(None)
            .when(kind_is("expense")).then(pl.coalesce(pl.col("_store"), payee))
            .when(pl.col("amount") >= 0).then(payer)
            .otherwise(payee))


def _old_description() -> pl.Expr:
    word = pl.when(pl.col("amount") < 0).then(pl.lit("[delivered ")).otherwise(pl.lit("[sent "))
    tags = [pl.concat_str([word, pl.col("_transfer_text").str.replace_all(",", ""), pl.lit(" "),
                           pl.col("_transfer_currency"), pl.lit("]")]),
            pl.when(pl.col("_reference_used")).then(None)
            .otherwise(pl.lit("[reference ") + pl.col("reference_id") + pl.lit("]"))]
    text = pl.concat_str([pl.col("text"), pl.col("_extra")], separator=" - ", ignore_nulls=True)
    return pl.concat_str([text, *tags], separator=" ", ignore_nulls=True)


def _rows(texts: list[str | None], references: list[str | None]) -> pl.DataFrame:
    """Every combination of rule, sign and filled or empty name, text and tag."""
    names = ["A", None]
    combos = list(itertools.product(
        [None, *range(len(payoneer.RULE_KINDS))], ["-5.00", "0", "7.25"], names, names, names,
        names, names, texts, [None, "x"], [None, "1,250.00"], references, [True, False]))
    columns = list(zip(*combos, strict=True))
    return pl.DataFrame({
        "_line": range(2, 2 + len(combos)),
        "_rule": pl.Series(columns[0], dtype=pl.Int8),
        "amount": pl.Series([Decimal(v) for v in columns[1]], dtype=pl.Decimal(38, 4)),
        "_store": columns[2], "_source": columns[3], "_target": columns[4],
        "_from_name": columns[5], "_to_name": columns[6], "text": columns[7],
        "_extra": columns[8], "_transfer_text": columns[9],
        "_transfer_currency": ["PKR"] * len(combos),
        "_transfer": pl.Series([Decimal(1)] * len(combos), dtype=pl.Decimal(38, 4)),
        "reference_id": columns[10], "_reference_used": columns[11],
    }, schema_overrides={c: pl.String for c in ("_store", "_source", "_target", "_from_name",
                                                 "_to_name", "text", "_extra",
                                                 "_transfer_text", "reference_id")})


def test_counterparty_by_number_is_the_coalesced_one():
    rows = _rows([""], [None])
    assert payoneer._counterparty(rows).to_list() \
        == rows.select(_old_counterparty().alias("c"))["c"].to_list()


def test_one_concatenation_is_the_description_made_in_steps():
    for texts, references in (([""], [None]), (["Payment", ""], [None, "R1"]),
                              ([None, "", "Fee"], ["R2", None])):
        rows = _rows(texts, references)
        expected = rows.select(_old_description().alias("d"))["d"]
        assert payoneer._described(rows.clone())["description"].to_list() == expected.to_list()


def test_category_numbers_are_the_per_row_strings():
    texts = ["Withdrawal fee", "Annual account fee", "Receiving fee", "Currency conversion fee",
             "ATM fee", "Card fee", "Transfer fee", "Some fee", "ATM cash withdrawal",
             "Card charge Amazon", "Service charge", "USD to EUR", "Transfer to bank account",
             "Payment from Upwork", "Payment from Acme", "Payment to Bob", "Something else"]
    stores, sources = ["Shop", None], ["Upwork Global Inc.", "Acme", "PayPal", None]
    combos = list(itertools.product(texts, stores, sources, ["-3", "4"]))
    rows = pl.DataFrame({
        "text": [c[0] for c in combos], "_store": [c[1] for c in combos],
        "_source": [c[2] for c in combos],
        "amount": pl.Series([Decimal(c[3]) for c in combos], dtype=pl.Decimal(38, 4)),
    })
    got = payoneer._classify(rows)
    # as it was: the fee's category a string per row
    low = pl.col("text").str.to_lowercase()
    fee_category = pl.lit("payoneer_fee")
    for pattern, name in reversed(payoneer.FEE_CATEGORIES):
        fee_category = pl.when(low.str.contains(pattern)).then(pl.lit(name)) \
            .otherwise(fee_category)
    fees = [n for n, kind in enumerate(payoneer.RULE_KINDS) if kind == "payment_fee"]
    categories = [None, "atm_withdrawal", "card", None, "conversion", "withdrawal", "receipt",
                  "payment", "payment_sent"]
    expected = rows.with_columns(_rule=got["_rule"]).select(
        category=pl.when(pl.col("_rule").is_in(fees)).then(fee_category)
        .otherwise(pl.col("_rule").replace_strict(range(9), categories, default=None,
                                                  return_dtype=pl.String)))
    assert got["category"].to_list() == expected["category"].to_list()
    assert set(got["category"].drop_nulls()) >= {"withdrawal_fee", "payoneer_fee", "receipt"}


def test_platform_per_distinct_name_is_the_per_row_test():
    names = ["Upwork Global Inc.", "Acme", "PayPal", "Fiverr International Ltd", "", None]
    combos = list(itertools.product(names, names))
    rows = pl.DataFrame({"_source": [c[0] for c in combos], "_from_name": [c[1] for c in combos]},
                        schema={"_source": pl.String, "_from_name": pl.String})
    rows = rows.with_columns(_from_platform=is_platform(pl.col("_from_name")))
    got = rows.select(payoneer._platform(rows).alias("p"))["p"]
    expected = rows.select(is_platform(pl.coalesce("_source", "_from_name")).alias("p"))["p"]
    assert got.to_list() == expected.to_list()
    assert got.any() and not got.all()


def test_links_written_at_their_lines_are_the_joined_ones():
    """`_link` on lines in order (binary search) and out of order (the join): the same."""
    from importers.readers import LINE
    from tests.conftest import DATA

    for name in ("transactions-17col.csv", "transactions-12col.csv"):
        raw = registry.read(DATA / "payoneer" / name)
        table = read_table(raw, 0)
        formats = payoneer._date_formats(table.df, ImportOptions())
        df = payoneer._fields(table.df, table, raw.path, formats).filter(
            pl.col("status") == "Completed")
        df = payoneer._classify(df.with_columns(
            amount=pl.col("credit").fill_null(0) - pl.col("debit").fill_null(0)))
        in_order = payoneer._link(df)
        joined = payoneer._link(df.reverse()).sort(LINE)
        assert in_order["related_ref"].drop_nulls().len() > 0
        assert in_order.equals(joined)


def test_instants_are_equal_where_the_day_and_time_texts_are():
    days = ["06/28/2024", "6/28/2024", "06/29/2024", "2024-06-28"]
    times = ["08:00:00", "8:00:00", "08:00:01", None]
    pairs = list(itertools.product(days, times)) * 2
    for with_space in (False, True):
        # with a space: ("D x", "T") and ("D", "x T") make the same text
        extra = [("06/28/2024 x", "08:00:00"), ("06/28/2024", "x 08:00:00")] if with_space \
            else []
        day = pl.Series("d", [d for d, _ in pairs + extra])
        time = pl.Series("t", [t for _, t in pairs + extra], dtype=pl.String)
        instants = payoneer._instants(day, time)
        texts = pl.DataFrame([day, time]).select(pl.concat_str(["d", "t"], separator=" "))
        both = pl.DataFrame({"i": instants, "s": texts.to_series()})
        # the same partition of the rows: as many distinct values alone as together
        distinct = both.drop_nulls().select(pl.all().n_unique(),
                                            pl.struct("i", "s").n_unique().alias("both"))
        assert len(set(distinct.row(0))) == 1
        assert (both["i"].is_null() == both["s"].is_null()).all()
        assert instants.dtype == (pl.String if with_space else pl.UInt64)


def test_amounts_of_rows_not_booked_are_not_refused(tmp_path):
    """The amounts are checked before the skipped rows are left out: on the booked rows only,
    as when they were checked after."""
    from tests.golden import parse
    from tests.test_payoneer import write

    pending = "05/03/2024,10:30:00,UTC,9,Payment from Beta,{},{},USD,,,Pending,,,,Beta,Me,"
    for credit, debit in (("", ""), ("5.00", "5.00"), ("-5.00", "")):
        path = write(
            tmp_path,
            "05/03/2024,10:00:00,UTC,1,Payment from Acme,100.00,,USD,,,Completed,100.00,,,Acme,"
            "Me,", pending.format(credit, debit),
            "05/04/2024,10:00:00,UTC,3,Card charge - X,,10.00,USD,,,Completed,90.00,,X,Me,X,")
        assert parse(path, date_order="mdy").rows["amount"].to_list() == [  # (May 3 and 4)
            Decimal("100"), Decimal("-10")]


def test_balances_said_to_follow_pass_the_full_check():
    """`_balances_follow` says True only where `check_running_balance` passes, and does say
    it of balances in file order (else the shortcut would never be taken)."""
    import datetime as dt

    from importers.base import check_running_balance
    from ledger.core.errors import DataError

    def frame(amounts, balances, days, currencies):
        return pl.DataFrame({
            "_line": range(2, 2 + len(amounts)),
            "date": [dt.date(2024, 5, d) for d in days], "currency": currencies,
            "amount": pl.Series([Decimal(a) for a in amounts], dtype=pl.Decimal(38, 4)),
            "balance": pl.Series([None if b is None else Decimal(b) for b in balances],
                                 dtype=pl.Decimal(38, 4))})

    usd_eur = ["USD", "EUR", "USD", "EUR"]
    cases = {
        "forward": (frame(["10", "5", "-3", "1"], ["10", "5", "7", "6"], [1, 1, 2, 3], usd_eur),
                    True),
        "same day": (frame(["10", "-3"], ["10", "7"], [1, 1], ["USD"] * 2), True),
        # in file order the balances follow, but dates going back make it read backwards
        "newest first": (frame(["10", "-3"], ["10", "7"], [2, 1], ["USD"] * 2), False),
        "broken": (frame(["10", "5", "-3", "1"], ["10", "5", "8", "6"], [1, 1, 2, 3], usd_eur),
                   False),
        "a balance missing": (frame(["10", "-3", "1"], ["10", None, "8"], [1, 2, 3],
                                    ["USD"] * 3), False),
    }
    for name, (df, expected) in cases.items():
        said = payoneer._balances_follow(df)
        assert said == expected, name
        if said:
            check_running_balance(df, path="x.csv", group=["currency"])
    for name in ("broken", "newest first"):
        with pytest.raises(DataError):
            check_running_balance(cases[name][0], path="x.csv", group=["currency"])


def test_upper_is_to_uppercase_and_keeps_a_column_already_upper():
    for values in (["USD", "EUR", None, "USD"], ["usd", "EUR", None], ["PKR", "straße", "ǅ"],
                   [None, None]):
        column = pl.Series("c", values, dtype=pl.String)
        assert payoneer._upper(column).to_list() == column.str.to_uppercase().to_list()
    column = pl.Series("c", ["USD", "EUR", None] * 3)
    assert payoneer._upper(column) is column
