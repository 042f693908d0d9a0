"""Row ids of a key given in its parts (schema.Joined) and a bank's proof that its keys are
distinct (Parsed.ids_distinct): the fast paths must give what the slow ones gave, the ids
hashed from the key joined first, and the ids' own check."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers.bank_columns import row_key
from ledger.core import schema
from ledger.core.schema import Joined

TEXT = st.one_of(st.none(), st.sampled_from(["", "a", "a|b", "|", "x\x1fy", "ünï", "0"]))


def _frame(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema={"source": pl.String, "account": pl.String,
                                      "a": pl.String, "b": pl.String, "n": pl.Int32},
                        orient="row")


@pytest.mark.parametrize("stream_from", [0, 100_000])
@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # the same value
@given(rows=st.lists(st.tuples(st.sampled_from(["bank:x", "wise"]),
                               st.sampled_from(["bank:x", "acct"]), TEXT, TEXT,
                               st.one_of(st.none(), st.integers(-3, 3))), max_size=12),
       separator=st.sampled_from(["|", "", "\x1f", "--"]))
def test_a_key_in_its_parts_gives_the_ids_of_the_key_joined_first(rows, separator,
                                                                    stream_from, monkeypatch):
    """The same ids whether the key is joined first or in the text hashed, null parts
    (the content fallback) included, on both engines."""
    monkeypatch.setattr(schema, "STREAM_IDS_FROM", stream_from)
    df = _frame(rows).with_columns(
        date=pl.lit(dt.date(2024, 6, 1)), amount=pl.lit(Decimal("1.5"), pl.Decimal(38, 4)),
        currency=pl.lit("USD"), description=pl.col("a"), ref=pl.col("b"))
    parts = (pl.col("a"), pl.col("n"), pl.col("b"))
    joined = schema.with_ids(df, Joined(parts, separator))
    first = schema.with_ids(df, pl.concat_str(list(parts), separator=separator))
    assert joined["id"].to_list() == first["id"].to_list()
    assert joined.equals(first)
    # a source and account known to be every row's (finalize's): the same ids, either key
    for source in ("bank:x", "wise"):
        one = df.filter(pl.col("source") == source).with_columns(account=pl.lit("acct"))
        for key in (Joined(parts, separator), pl.concat_str(list(parts), separator=separator),
                    None, pl.lit("k"), Joined(("x", pl.col("a"), "y", "z"), separator),
                    Joined(("x", "y"), separator)):
            told = schema.with_ids(one, key, origin=(source, "acct"))
            assert told.equals(schema.with_ids(one, key))
            text = key.expr() if isinstance(key, Joined) else key
            if text is not None:  # the same ids as the key joined first
                assert told.equals(schema.with_ids(one, text))


def _bank_rows(balances: list[str | None], refs: list[str], dates: list[int | None],
               currencies: list[str | None] | None = None, parts: list[int] | None = None
               ) -> pl.DataFrame:
    n = len(refs)
    return pl.DataFrame({
        "date": [None if d is None else dt.date(2024, 6, 1) + dt.timedelta(days=d)
                 for d in dates],
        "amount": pl.Series([Decimal("1.5")] * n, dtype=pl.Decimal(38, 4)),
        "currency": currencies or ["INR"] * n, "description": ["Fee"] * n, "ref": refs,
        "balance": pl.Series([b and Decimal(b) for b in balances], dtype=pl.Decimal(38, 4)),
        "_part": pl.Series(parts or [0] * n, dtype=pl.Int32),
        "source": ["bank:x"] * n, "account": ["bank:x"] * n})


BANK = st.integers(1, 10).flatmap(lambda n: st.tuples(
    st.lists(st.one_of(st.none(), st.sampled_from(["10", "11", "12", "-3"])),
             min_size=n, max_size=n),
    st.lists(st.sampled_from(["R1", "R2", ""]), min_size=n, max_size=n),
    st.lists(st.one_of(st.integers(0, 2), st.none()), min_size=n, max_size=n),
    st.one_of(st.none(), st.lists(st.sampled_from(["INR", "USD"]), min_size=n, max_size=n),
              st.lists(st.one_of(st.none(), st.just("INR")), min_size=n, max_size=n)),
    st.one_of(st.none(), st.lists(st.integers(0, 2), min_size=n, max_size=n))))


@settings(max_examples=300, deadline=None)
@given(BANK)
def test_a_banks_key_said_distinct_is_and_gives_the_ids_of_the_joined_key(case):
    """`row_key` says its keys are distinct only when they are (then registry.parse does
    not hash the ids to check them: the check could not refuse them); its parts give the
    ids its joined key gives."""
    rows = _bank_rows(*case)
    key = row_key(rows)
    keys = rows.select(key.expr().alias("k"))["k"]
    if key.distinct:
        assert keys.null_count() == 0 and keys.n_unique() == rows.height
    if rows["date"].null_count() == 0:  # as every bank statement's rows (dates required)
        assert key.distinct
    ids = schema.with_ids(rows, key)
    assert ids.equals(schema.with_ids(rows, key.expr()))
    told = schema.with_ids(rows, key, origin=("bank:x", "bank:x"))  # as finalize does
    assert told.equals(ids)
    old = pl.concat_str([pl.col("date").cast(pl.Int32)] + [  # the key as it was joined
        pl.col(c).cast(pl.String).fill_null("")
        for c in ("amount", "currency", "description", "ref", "balance", "_part")],
        separator="|")
    if isinstance(key.parts[-1], str):  # no repeat: the old key plus occurrence "0"
        assert ids.equals(schema.with_ids(rows, old + "|0"))
    if key.distinct:
        assert ids["id"].n_unique() == rows.height
        schema.check_ids(ids.with_columns(line=pl.int_range(pl.len())), "x")  # no refusal


def test_a_stacked_banks_keys_are_not_said_distinct_across_files():
    """Repeats are numbered within each file: the same row in two files has one key."""
    rows = _bank_rows(["10", "10"], ["R1", "R1"], [0, 0]).with_columns(
        _file=pl.Series([0, 1], dtype=pl.Int32))
    key = row_key(rows, by=["_file"])
    assert not key.distinct
    assert rows.select(key.expr().alias("k"))["k"].n_unique() == 1


def test_a_statement_whose_rows_repeat_is_imported_as_before(tmp_path):
    """Identical rows (same day, amount, text, balance) each get their own id, by their
    number, and the file is not refused: through registry.parse, with ids_distinct."""
    from importers import registry
    from importers.base import ImportOptions

    lines = ["Date,Narration,Chq./Ref.No.,Value Dt,Withdrawal Amt.,Deposit Amt.,"
             "Closing Balance",
             "01/06/24,ATM FEE,0,01/06/24,10.00,,90.00",
             "01/06/24,REVERSAL,0,01/06/24,,10.00,100.00",
             "01/06/24,ATM FEE,0,01/06/24,10.00,,90.00"]
    path = tmp_path / "s.csv"
    path.write_text("\n".join(lines) + "\n")
    parsed = registry.parse(registry.read(path), ImportOptions(), "bank:hdfc")
    assert parsed.ids_distinct
    assert parsed.rows["id"].n_unique() == 3
    assert parsed.rows["kind"].to_list()[0] == "bank_fee"
