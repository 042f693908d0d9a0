"""`parse` leaves the skipped (Pending) rows out at the end, of the ledger's columns only: the
balance and transfer currency checks, the links and the warnings read the booked rows through
`_booked` on all the rows. That must give what leaving them out first gives: the same rows
(but their lines), warnings and errors, whatever the Pending rows hold and wherever they are."""

from __future__ import annotations

import polars as pl
import pytest

from importers import payoneer, registry
from importers.base import ImportOptions
from tests.conftest import DATA

FIXTURE = DATA / "payoneer" / "transactions-17col.csv"

# (after which of the fixture's rows (0: the first), the Pending row)
PENDING = {
    # at the withdrawal's time, between it and its fee, and one more fee at that time
    "between a fee and its row": [
        (1, "05/03/2024,14:02:10,UTC,5550001,Transfer to bank account,,7.00,USD,,,Pending,,,,"
            "Jane Doe,HBL,"),
        (2, "05/03/2024,14:02:10,UTC,5550002,Withdrawal fee,,1.00,USD,,,Pending,,,,Jane Doe,"
            "Payoneer,")],
    # a third leg at a conversion's time (three legs are no pair), between its legs
    "a conversion leg": [
        (6, "05/08/2024,16:20:00,UTC,5550003,USD to EUR,5.00,,EUR,5.40,USD,Pending,,"
            "Currency conversion,,Jane Doe,Jane Doe,")],
    # balances that would break the chain, or are missing
    "balances": [
        (0, "05/03/2024,13:00:00,UTC,5550004,Payment from Acme Corp,10.00,,USD,,,Pending,"
            "999.00,,,Acme Corp,Jane Doe,"),
        (3, "05/05/2024,13:00:00,UTC,5550005,Payment from Acme Corp,10.00,,USD,,,Pending,,,,"
            "Acme Corp,Jane Doe,")],
    # an unknown description (no warning), a transfer currency that is no code (no error)
    "other cells": [
        (4, "05/07/2024,13:00:00,UTC,5550006,Something odd,,1.00,USD,,,Pending,,,,Jane Doe,X,"),
        (5, "05/07/2024,14:00:00,UTC,5550007,Transfer to bank account,,1.00,USD,\"1,000.00\","
            "XX,Pending,,,,Jane Doe,HBL,")],
    # a fee naming the Reference ID of a booked row, and a row naming a booked fee's
    "reference ids": [
        (4, "05/06/2024,10:00:01,UTC,5550008,Receiving fee,,1.00,USD,,,Pending,,,,Jane Doe,"
            "Payoneer,INV-17"),
        (5, "05/06/2024,10:00:05,UTC,5550009,Payment from Acme Corp,1.00,,USD,,,Pending,,,,"
            "Acme Corp,Jane Doe,INV-17")],
}


def _files(tmp_path, name: str) -> tuple[object, object]:
    """(the fixture with PENDING[name]'s rows added, the fixture as it is but for its own
    Pending row, which both keep)."""
    lines = FIXTURE.read_text().splitlines()
    header, body = lines[0], lines[1:]
    added = list(body)
    for after, row in sorted(PENDING[name], reverse=True):
        added.insert(after + 1, row)
    paths = []
    for kind, rows in (("added", added), ("as-is", body)):
        path = tmp_path / f"{kind}.csv"
        path.write_text("\n".join([header, *rows]) + "\n")
        paths.append(path)
    return paths[0], paths[1]


def _parsed(path):
    return payoneer.parse(registry.read(path), ImportOptions())


@pytest.mark.parametrize("name", sorted(PENDING))
def test_pending_rows_change_nothing_booked(tmp_path, name):
    added, as_is = (_parsed(p) for p in _files(tmp_path, name))
    assert added.skipped["status Pending"] == 1 + len(PENDING[name])
    assert added.warnings == as_is.warnings
    assert added.rows["related_ref"].drop_nulls().len() >= 3
    columns = [c for c in added.rows.columns if c not in ("line", "import_id")]
    assert added.rows.select(columns).equals(as_is.rows.select(columns)), name


def test_booked_rows_alone_through_the_mask_are_those_filtered_first(tmp_path):
    """The steps given `_booked` give what they give on the booked rows alone."""
    path, _ = _files(tmp_path, "between a fee and its row")
    raw = registry.read(path)
    table = payoneer.read_table(raw, 0)
    df = payoneer._fields(table.df, table, raw.path,
                          payoneer._date_formats(table.df, ImportOptions()))
    df = payoneer.kinds(df.with_columns(
        amount=pl.col("credit").fill_null(0) - pl.col("debit").fill_null(0),
        _booked=pl.col("status") == "Completed"), payoneer.CODED)
    booked = pl.col("_booked")
    alone = df.filter(booked)
    for frame in (df, df.with_columns(balance=pl.col("balance").fill_null(0))):
        assert payoneer._balances_follow(frame, booked) \
            == payoneer._balances_follow(frame.filter(booked))
    assert payoneer._balances_follow(df, booked)
    through = payoneer._booked_rows(payoneer._link(df.clone(), booked=booked))
    assert through.equals(payoneer._link(alone.clone()).drop("_booked"))


def test_distinct_values_found_by_fields_are_the_fields_own(tmp_path):
    """`_fields`' `few`: each field's distinct values (statuses, currencies), the checks read
    them instead of the fields', on cells padded, blank, lower-cased and as exported."""
    from tests.test_payoneer_distinct import VARIANTS, _variant

    seen = set()
    for name in VARIANTS:
        raw = registry.read(_variant(tmp_path, name))
        table = payoneer.read_table(raw, 0)
        few: dict[str, pl.Series] = {}
        try:
            df = payoneer._fields(table.df, table, raw.path, ["%m/%d/%Y", "%Y-%m-%d"], few=few)
        except Exception:  # (the variants the fields refuse)
            continue
        for field, values in few.items():
            assert sorted(values.unique().to_list(), key=str) \
                == sorted(df[field].unique().to_list(), key=str), (name, field)
            seen.add(field)
    assert seen == {"status", "currency", "_transfer_currency"}


def test_distinct_currencies_lower_cased_are_upper_cased(tmp_path):
    text = FIXTURE.read_text().replace(",USD,", ",usd,", 2)
    path = tmp_path / "lower.csv"
    path.write_text(text)
    raw = registry.read(path)
    table = payoneer.read_table(raw, 0)
    few: dict[str, pl.Series] = {}
    df = payoneer._fields(table.df, table, raw.path, ["%m/%d/%Y"], few=few)
    assert sorted(few["currency"].unique().to_list()) == sorted(df["currency"].unique()) \
        == ["EUR", "USD"]


def test_cells_read_as_integers_are_those_trimming_leaves_alone():
    """`csv_parts.integer_cells` (trimmed's `numbers`): polars reads an integer of no cell
    with white space at an end (any that `strip_chars` strips) or empty, so trimming is
    skipped only where it changes nothing."""
    import sys

    from importers.csv_parts import integer_cells, trimmed

    spaces = [chr(c) for c in range(sys.maxunicode + 1) if chr(c).isspace()
              or chr(c).strip() != chr(c)] + ["\u200b", "\ufeff", "\u180e"]
    padded = [f"{s}12" for s in spaces] + [f"12{s}" for s in spaces] + ["", " "]
    for cell in padded:
        column = pl.Series("ref", ["34", cell, None], dtype=pl.String)
        frame = column.to_frame()
        stripped = trimmed(frame, pl.col("ref"), True)
        assert not integer_cells(column) or stripped.equals(column), repr(cell)
        assert trimmed(frame, pl.col("ref"), True, numbers=True).equals(stripped), repr(cell)
        if cell.strip() != cell or not cell:
            assert not integer_cells(column), repr(cell)
    column = pl.Series("ref", ["34", "-5", "+7", "007", None], dtype=pl.String)
    assert integer_cells(column)
    assert trimmed(column.to_frame(), pl.col("ref"), True).equals(column)


def test_transfer_currencies_checked_on_their_distinct_values_as_on_each_cell():
    """`_no_transfer_currency` given the distinct currencies refuses the rows it refuses
    looking each cell up: a code, none, one that is not a code, with and without an amount."""
    texts = ["1.00", "2.00", None, "3.00", None, "4.00"]
    for currencies in (["EUR", "PKR", None, "USD", "EUR", "EUR"],
                       ["EUR", None, None, "USD", "EUR", None],
                       ["EUR", "XX", None, "USD", "ZZ", "PKR"],
                       [None] * 6, ["EUR"] * 6):
        df = pl.DataFrame({"_transfer_text": pl.Series(texts, dtype=pl.String),
                           "_transfer_currency": pl.Series(currencies, dtype=pl.String)})
        slow = df.select(payoneer._no_transfer_currency().alias("bad")).to_series()
        fast = df.select(payoneer._no_transfer_currency(
            df["_transfer_currency"].unique()).alias("bad")).to_series()
        assert fast.equals(slow), currencies


def test_one_of_one_value_is_is_in():
    column = pl.Series("s", [None, "Completed", "Pending", "completed", ""], dtype=pl.String)
    for values in (["Completed"], ["Completed", "completed"], [None], [""], []):
        series = pl.Series(values, dtype=pl.String)
        fast = column.to_frame().select(payoneer._is_one_of(pl.col("s"), series)).to_series()
        assert fast.equals(column.is_in(series.implode())), values


def test_times_alone_padded_are_trimmed_as_cell_by_cell(tmp_path, monkeypatch):
    """A time padded where no day is (`_instants_of` reads the distinct times for it): the
    same rows as cell by cell, the padded fee still linked to its transfer."""
    from tests import test_payoneer_distinct as distinct

    monkeypatch.setitem(distinct.VARIANTS, "time alone padded",
                        [(2, "Transaction Time", "14:02:10 "), (7, "Transaction Time", "\t")])
    path = distinct._variant(tmp_path, "time alone padded")
    fast = distinct._parsed(path)
    with monkeypatch.context() as patch:
        distinct._cell_by_cell(patch)
        slow = distinct._parsed(path)
    assert fast[0].equals(slow[0]) and fast[1:] == slow[1:]
    assert fast[0].filter(pl.col("ref") == "1234567892")["related_ref"].to_list() == \
        ["1234567891"]


def test_day_and_time_numbers_in_32_bits_match_as_in_64():
    """`_day_time`: rows get equal numbers exactly where their day and time codes are equal,
    in 32 bits (days * times fits) as in 64 (it does not, or a code is out of range)."""
    import random

    from importers import payoneer_fields

    rng = random.Random(5)
    for days, times in ((3, 5), (1887, 86385), (70000, 70000), (1, 1)):
        day = pl.Series([None if rng.random() < 0.05 else rng.randrange(days)
                         for _ in range(2000)], dtype=pl.UInt32)
        time = pl.Series([None if rng.random() < 0.05 else rng.randrange(times)
                          for _ in range(2000)], dtype=pl.UInt32)
        made = payoneer_fields._day_time(day, time, days, times)
        assert made.dtype == (pl.UInt32 if days * times < 2**31 else pl.UInt64)
        pairs = pl.DataFrame({"d": day, "t": time, "ts": made})
        assert pairs["ts"].is_null().equals(day.is_null() | time.is_null())
        both = pairs.drop_nulls()
        assert both.select(pl.struct("d", "t").n_unique()).item() \
            == both["ts"].n_unique() == both.select(pl.struct("d", "t", "ts").n_unique()).item()
    # a time code not below `times`: the 64-bit way
    assert payoneer_fields._day_time(pl.Series([1], dtype=pl.UInt32),
                                     pl.Series([9], dtype=pl.UInt32), 3, 5).dtype == pl.UInt64
