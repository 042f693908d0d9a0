"""A statement's import made cheaper gives what it gave (issue 23, session 37): kinds found a
sign at a time on shrinking descriptions, against the rule-by-rule masks they replaced; a
statement cut before its footer read from its bytes as read, against its copy read."""

from __future__ import annotations

from decimal import Decimal

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from importers import bank_columns
from importers.bank_profiles import COMMON_KINDS, Rule


def _classified_as_before(df: pl.DataFrame, rules) -> pl.DataFrame:
    """`bank_columns.classify` as it was: a mask of the whole table per rule, the rows it
    leaves searched, scattered, and the rule numbers replaced by kinds and categories."""
    height = df.height
    description = df["description"]
    signs = {"credit": (df["amount"] > 0).fill_null(False),
             "debit": (df["amount"] < 0).fill_null(False)}
    first = pl.repeat(None, height, dtype=pl.UInt16, eager=True).alias("_rule")
    done = pl.repeat(False, height, dtype=pl.Boolean, eager=True)
    for number, rule in enumerate(rules):
        todo = ~done & signs[rule.sign] if rule.sign else ~done
        rows = todo.arg_true()
        if rule.match and rows.len():
            hit = description.gather(rows).str.contains(f"(?i){rule.match}").fill_null(False)
            rows = rows.filter(hit)
        if rows.len():
            first.scatter(rows, number)
            done.scatter(rows, True)
    kinds = {n: r.kind for n, r in enumerate(rules)}
    categories = {n: r.category for n, r in enumerate(rules)}
    return df.with_columns(first).with_columns(
        kind=pl.col("_rule").replace_strict(kinds, default="other", return_dtype=pl.String),
        category=pl.col("_rule").replace_strict(categories, default=None,
                                                return_dtype=pl.String),
    ).drop("_rule")


WORDS = ["ATW-1234", "markup", "PAYONEER", "upi", "gst on charges", "sms alert", "Interest",
         "neft cr", "atm", "pos amazon", "", " ", "tds", "Transfer to", "fee"]
ROWS = st.lists(st.tuples(
    st.one_of(st.none(), st.lists(st.sampled_from(WORDS), max_size=3).map(" ".join)),
    st.one_of(st.none(), st.sampled_from(["-5", "0", "3.25", "-0.01", "100"]))),
    max_size=30)
OWN = [Rule("^(ATW|NWD|EAW)-", "debit", "transfer", "cash_withdrawal"),
       Rule("markup", None, "bank_fee", "fx_markup"),
       Rule(None, "credit", "earning", None),
       Rule("upi", "debit", "expense", "upi")]


@settings(max_examples=300, deadline=None)
@given(ROWS, st.lists(st.sampled_from(OWN), max_size=4), st.booleans())
def test_kinds_are_those_the_rule_by_rule_masks_gave(rows, own, common):
    rules = tuple(own) + (COMMON_KINDS if common else ())
    df = pl.DataFrame({"description": [r[0] for r in rows],
                       "amount": [None if r[1] is None else Decimal(r[1]) for r in rows]},
                      schema={"description": pl.String, "amount": pl.Decimal(38, 4)})
    got = bank_columns.classify(df, rules)
    assert got.equals(_classified_as_before(df, rules))
    assert got.schema == _classified_as_before(df, rules).schema


PREAMBLE = "HDFC BANK Ltd.,,\nIFSC :HDFC0001234,,\n,,\n"
ROWS_TEXT = "".join(f'0{d}/01/24,"shop {d}",{d}.50\n' for d in range(1, 10))
FOOTERS = [
    ',,\nSTATEMENT SUMMARY :-,,\nOpening Balance,Dr Count,Cr Count\n"50,000.00",,\n',
    "Total,1,2,3,4\n",  # more cells than the header: polars refuses the whole file
    "\n\n** End of Report **\n",
    '"legal\ntext",,\n',
    "Closing balance,1.00",  # no newline at the end
    "x\n",
    'x",,\n',
    ',x",\n"y,,\n',
]
BODIES = [
    ROWS_TEXT,
    ROWS_TEXT.replace('"shop 9"', '"shop\nnine"'),  # a quoted line break in the last row
    ROWS_TEXT.replace("09/01/24,\"shop 9\",9.50\n", "09/01/24,\"shop 9\"\n"),  # cut short
    ROWS_TEXT.replace("\n", "\r\n"),
    ROWS_TEXT.replace('"shop 5"', '"shop ""5"""'),
    ROWS_TEXT.replace('"shop 8"', '"shop 8'),  # a quote left open: the cut is inside it
]


def _read(raw, index):
    from importers.readers import read_table
    from ledger.core.errors import DataError

    try:
        table = read_table(raw, index)
    except DataError as exc:
        return ("error", exc.message, exc.line)
    return ("table", table.df.to_dicts(), table.df.schema)


@settings(max_examples=60, deadline=None)
@given(st.sampled_from(BODIES), st.sampled_from(FOOTERS))
def test_a_cut_statement_read_from_its_bytes_is_its_copy_read(body, footer):
    """`RawFile.cut`'s table (read from the bytes as read, the records after the cut
    dropped, or from the copy where those records cannot be told apart) is the table and the
    error of the cut copy read as before."""
    import tempfile
    from pathlib import Path

    from importers import raw_files, readers

    head = PREAMBLE + "Date,Narration,Amount\n"
    data = (head + body + footer).encode()
    length = len((head + body).encode())
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "statement.csv"
        path.write_bytes(data)
        saved = readers.EXACT_SCAN_MAX_BYTES, raw_files.EXACT_SCAN_MAX_BYTES
        readers.EXACT_SCAN_MAX_BYTES = raw_files.EXACT_SCAN_MAX_BYTES = 64  # counts as large
        copies = []
        read_copy = readers._read_cut_copy
        readers._read_cut_copy = lambda *a: (copies.append(1), read_copy(*a))[1]
        try:
            whole = raw_files.RawFile(path=path, data=data, sha256="x", origin=path)
            cut = raw_files.RawFile.cut(whole, length)
            got = _read(cut, 4)
            expected = _read(raw_files.RawFile(path=path, data=data[:length], sha256="x"), 4)
        finally:
            readers.EXACT_SCAN_MAX_BYTES, raw_files.EXACT_SCAN_MAX_BYTES = saved
            readers._read_cut_copy = read_copy
    assert got == expected
    if body in (BODIES[0], BODIES[3]) and footer in (FOOTERS[0], FOOTERS[5]):
        assert not copies  # read from the bytes as read, no copy of them made


def _outcome(check):
    from ledger.core.errors import DataError

    try:
        check()
    except DataError as exc:
        return (exc.message, exc.line)
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([-3, 0, 2, 5]),
                          st.one_of(st.none(), st.sampled_from([0, 2, 5, 7, 10])),
                          st.sampled_from([1, 2, 3])), max_size=8))
def test_a_one_currency_balance_is_followed_as_the_grouped_check_follows_it(rows):
    """`check_balance` of a profile without a currency column follows the balance without
    grouping by currency (one group): the error, or none, of the grouped check."""
    import datetime as dt
    from pathlib import Path

    from importers.bank_profiles import load_profile
    from importers.base import check_running_balance
    from importers.readers import LINE

    profile = load_profile(Path(bank_columns.__file__).parent / "profiles" / "hdfc.toml")
    assert "currency" not in profile.columns
    df = pl.DataFrame({LINE: list(range(2, len(rows) + 2)),
                       "date": [dt.date(2024, 1, day) for _, _, day in rows],
                       "amount": [Decimal(a) for a, _, _ in rows],
                       "balance": [None if b is None else Decimal(b) for _, b, _ in rows],
                       "currency": ["INR"] * len(rows)},
                      schema={LINE: pl.Int64, "date": pl.Date, "amount": pl.Decimal(38, 4),
                              "balance": pl.Decimal(38, 4), "currency": pl.String})
    got = _outcome(lambda: bank_columns.check_balance(
        df, df.clear(), profile, profile.path, ".", ["%d/%m/%y"], pl.lit("INR")))
    dates = df["date"].drop_nulls()
    newest_first = dates[0] > dates[-1] if dates.len() > 1 and dates[0] != dates[-1] else None
    assert got == _outcome(lambda: check_running_balance(
        df, path=profile.path, group=["currency"], newest_first=newest_first))
