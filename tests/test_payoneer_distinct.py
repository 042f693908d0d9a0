"""Payoneer's columns of few distinct values read once per value (issue 23) give what reading
every cell gave: trimming decided on the distinct values, the dates parsed once per day, the
instants and the kinds' keys numbered by one Categorical each. Each test runs both ways, the
cell-by-cell way forced by `_distinct` answering None (its documented way out) and no column
counted as one of few values; the rows, warnings and errors must be the same."""

from __future__ import annotations

import csv
import io
import itertools
from decimal import Decimal

import polars as pl
import pytest

from importers import csv_parts, payoneer, payoneer_fields, payoneer_kinds, registry
from importers.base import ImportOptions
from tests.conftest import DATA

FIXTURE = DATA / "payoneer" / "transactions-17col.csv"

# (row, column, cell): the fixture's cells changed (row 0: the first after the header)
VARIANTS: dict[str, list[tuple[int, str, str]]] = {
    "as exported": [],
    "statuses padded": [(0, "Status", " Completed"), (3, "Status", "completed\t"),
                        (8, "Status", "Pending ")],
    "currencies padded": [(0, "Currency", " usd"), (6, "Transfer Amount Currency", " eur ")],
    "keys padded": [(2, "Description", "Withdrawal fee "), (1, "Description", "\tTransfer to "
                    "bank account"), (3, "Store Name", " AWS EMEA"), (4, "Source", "Acme Corp "),
                    (5, "Target", "  ")],
    "keys blank": [(3, "Store Name", "   "), (0, "Source", ""), (9, "Description", " ")],
    "keys quoted empty": [(3, "Store Name", '""'), (0, "Source", '""'), (9, "Description", '""'),
                          (5, "Target", '""'), (6, "Transfer Amount Currency", '""')],
    "day and time padded": [(2, "Transaction Date", " 05/03/2024"),
                            (2, "Transaction Time", "14:02:10 "),
                            (7, "Transaction Time", " 16:20:00")],
    "time empty": [(2, "Transaction Time", ""), (1, "Transaction Time", "")],
    "time quoted empty": [(2, "Transaction Time", '""'), (1, "Transaction Time", '""')],
    "day with a space inside": [(3, "Transaction Date", "05/ 4/2024")],
    "iso and short days": [(3, "Transaction Date", "2024-05-04"),
                           (4, "Transaction Date", "5/6/2024")],
    "day-first": [(9, "Transaction Date", "13/05/2024"), (10, "Transaction Date", "13/05/2024")],
    "bad day later repeated": [(5, "Transaction Date", "05/33/2024"),
                               (9, "Transaction Date", "05/33/2024")],
    "day empty": [(6, "Transaction Date", "")],
    "day with a space": [(4, "Transaction Date", "05/06/2024 x")],
    "bad amount": [(4, "Credit Amount", "4OO.00")],
    "transfers padded": [(1, "Transfer Amount", " 278500.00"), (6, "Transfer Amount", "92.50\t")],
    "transfer blank": [(0, "Transfer Amount", "  "), (3, "Transfer Amount", '""')],
    "status unknown": [(4, "Status", "Reversed")],
    "references empty": [(4, "Reference ID", ""), (5, "Reference ID", "")],
}


def _variant(tmp_path, name: str) -> object:
    """The fixture with VARIANTS[name]'s cells written as given (`""`: a quoted empty cell,
    which polars reads as an empty text, not a null); its cells hold no comma or quote."""
    rows = list(csv.reader(io.StringIO(FIXTURE.read_text())))
    header = rows[0]
    for row, column, cell in VARIANTS[name]:
        rows[row + 1][header.index(column)] = cell
    path = tmp_path / f"{name.replace(' ', '-')}.csv"
    path.write_text("".join(",".join(row) + "\n" for row in rows))
    return path


def _cell_by_cell(monkeypatch) -> None:
    monkeypatch.setattr(payoneer_fields, "_distinct", lambda values: None)
    monkeypatch.setattr(payoneer_fields, "_FEW", frozenset())


def _parsed(path, options=ImportOptions()):
    try:
        got = payoneer.parse(registry.read(path), options)
    except Exception as exc:  # compared: the same error, message and line
        return type(exc), str(exc)
    return got.rows, got.warnings, got.skipped, got.rows_read


def _same_parse(one, other, name: str) -> None:
    """Two `_parsed` outcomes are the same: equal rows (schema included), warnings, skipped
    and read counts, or the same error and message."""
    assert type(one[0]) is type(other[0]), (name, one, other)
    if isinstance(one[0], pl.DataFrame):
        assert one[0].schema == other[0].schema and one[0].equals(other[0]), name
        assert one[1:] == other[1:], name
    else:
        assert one == other, name


@pytest.mark.parametrize("name", list(VARIANTS))
def test_parse_by_distinct_values_is_parse_cell_by_cell(name, tmp_path, monkeypatch):
    path = _variant(tmp_path, name)
    for options in (ImportOptions(), ImportOptions(date_order="dmy")):
        fast = _parsed(path, options)
        with monkeypatch.context() as patch:
            _cell_by_cell(patch)
            slow = _parsed(path, options)
        _same_parse(fast, slow, name)


def test_the_variants_take_both_ways_and_the_slow_one_differs():
    """The variants reach what the fast path decides: padded cells trimmed (a fee linked to
    its padded transfer), an error of the day column at its first line."""
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        padded = _parsed(_variant(Path(folder), "day and time padded"))
        assert padded[0].filter(pl.col("ref") == "1234567892")["related_ref"].to_list() == \
            ["1234567891"]
        bad = _parsed(_variant(Path(folder), "bad day later repeated"))
        assert issubclass(bad[0], Exception) and ":7:" in bad[1], bad


def test_fields_by_distinct_values_are_the_fields_cell_by_cell(tmp_path, monkeypatch):
    """`_fields` itself: the same columns but the kinds' codes (which only the fast way makes);
    the instants partition the rows alike (their numbers are codes, not texts)."""
    for name in ("as exported", "keys padded", "keys blank", "keys quoted empty",
                 "day and time padded", "time empty", "time quoted empty", "currencies padded",
                 "statuses padded", "day with a space inside"):
        path = _variant(tmp_path, name)
        frames = []
        for slow in (False, True):
            with monkeypatch.context() as patch:
                if slow:
                    _cell_by_cell(patch)
                table = payoneer.read_table(registry.read(path), 0)
                frames.append(payoneer._fields(table.df, table, path,
                                               payoneer._date_formats(table.df,
                                                                      ImportOptions())))
        fast, slow = frames
        assert set(payoneer.CODED.values()) <= set(fast.columns), name
        fast = fast.drop(*payoneer.CODED.values())
        assert fast.columns == slow.columns, name
        assert fast.drop("_ts").equals(slow.drop("_ts")), name
        both = pl.DataFrame({"a": fast["_ts"], "b": slow["_ts"]})
        assert (both["a"].is_null() == both["b"].is_null()).all(), name
        distinct = both.drop_nulls().select(pl.col("a").n_unique(), pl.col("b").n_unique(),
                                            pl.struct("a", "b").n_unique().alias("ab")).row(0)
        assert len(set(distinct)) == 1, (name, distinct)


def _shapes_frame() -> pl.DataFrame:
    texts = ["Withdrawal fee", "Transfer to bank account", "USD to EUR", "Payment from Acme",
             "Payment from Upwork Global Inc", "Card charge - Canva", "Payment to Bob", None, ""]
    stores, sources = [None, "Canva", ""], [None, "Upwork", "Acme Corp", "Wise"]
    targets = [None, "Jane Doe", "Bob"]
    rows = list(itertools.product(texts, stores, sources, targets, ["-3", "0", "5"]))
    rows = rows + rows[::7]  # repeats, not in the first rows' order
    return pl.DataFrame({
        "text": [r[0] for r in rows], "_store": [r[1] for r in rows],
        "_source": [r[2] for r in rows], "_target": [r[3] for r in rows],
        "amount": pl.Series([Decimal(r[4]) for r in rows], dtype=pl.Decimal(38, 4)),
    }, schema_overrides={c: pl.String for c in ("text", "_store", "_source", "_target")})


@pytest.mark.parametrize("dense", [True, False])
def test_kinds_from_given_codes_are_kinds_from_the_strings(dense, monkeypatch):
    """`kinds` combining the codes `_fields` gives (looked up densely, or joined) answers as
    `distinct_lookup` over the strings; codes finer than the values (the same text coded
    twice) too."""
    df = _shapes_frame()
    expected = payoneer_kinds.kinds(df)
    codes = {}
    for key, column in payoneer.CODED.items():
        codes[column] = payoneer_fields._distinct(df[key])[0]
    coded = df.with_columns(**codes)
    if not dense:
        monkeypatch.setattr(csv_parts, "DENSE", 0)
        assert coded.height < 10 * 4 * 5 * 4 * 3 * 3  # (more combinations than rows)
    got = payoneer_kinds.kinds(coded, payoneer.CODED)
    assert got.columns == expected.columns and got.equals(expected)
    # finer codes: each row's own number for the texts
    finer = coded.with_columns(pl.int_range(pl.len(), dtype=pl.UInt32)
                               .alias(payoneer.CODED["text"]))
    assert payoneer_kinds.kinds(finer, payoneer.CODED).equals(expected)
    assert got["kind"].n_unique() > 3


def test_distinct_values_of_many_are_read_as_of_few(monkeypatch):
    values = pl.Series(["b", None, "a", "b", "c", None, "a"] * 3, dtype=pl.String)
    few = payoneer_fields._distinct(values)
    monkeypatch.setattr(payoneer_fields, "FEW_VALUES", 0)
    many = payoneer_fields._distinct(values)
    for codes, distinct in (few, many):
        assert distinct.gather(codes.drop_nulls()).to_list() == values.drop_nulls().to_list()
        assert (codes.is_null() == values.is_null()).all()
        assert sorted(distinct.to_list()) == ["a", "b", "c"]
    empty = payoneer_fields._distinct(pl.Series([None, None], dtype=pl.String))
    assert empty[0].null_count() == 2 and empty[1].len() == 0


@pytest.mark.parametrize("name", ["transactions-17col.csv", "transactions-12col.csv"])
def test_links_written_at_their_rows_are_the_links_joined_by_file_and_line(name):
    """`_link` of one file writes each link at its row's position; the stacked files' way
    (joined back by file and line) gives the same, the rows in any order."""
    from importers.readers import LINE

    raw = registry.read(DATA / "payoneer" / name)
    table = payoneer.read_table(raw, 0)
    df = payoneer._fields(table.df, table, raw.path,
                          payoneer._date_formats(table.df, ImportOptions()))
    df = payoneer.kinds(df.filter(pl.col("status") == "Completed").with_columns(
        amount=pl.col("credit").fill_null(0) - pl.col("debit").fill_null(0)), payoneer.CODED)
    for frame in (df, df.reverse(), df.sample(fraction=1.0, shuffle=True, seed=3)):
        alone = payoneer._link(frame)
        joined = payoneer._link(frame.with_columns(_file=pl.lit(0, dtype=pl.Int32)),
                                by=["_file"]).drop("_file")
        assert alone["related_ref"].drop_nulls().len() > 0
        assert alone.equals(joined), name
        assert alone.sort(LINE).equals(payoneer._link(df).sort(LINE))
    empty = payoneer._link(df.head(0))
    assert empty.height == 0 and empty.schema == payoneer._link(df).schema


@pytest.mark.parametrize("cells", [[(8, "Debit Amount", "80.00")],  # both filled
                                   [(8, "Credit Amount", "")],  # neither
                                   [(8, "Credit Amount", ""), (8, "Debit Amount", "-5.00")]])
def test_amounts_of_skipped_rows_change_nothing(cells, tmp_path, monkeypatch):
    """The amount is made (credit, else minus debit) and the kinds worked out before the
    skipped rows are left out: whatever a Pending row's amounts, the rows are the same."""
    monkeypatch.setitem(VARIANTS, "pending amounts", cells)
    got = _parsed(_variant(tmp_path, "pending amounts"))
    expected = _parsed(_variant(tmp_path, "as exported"))
    assert isinstance(got[0], pl.DataFrame)  # (another file: another import id)
    assert got[0].drop("import_id").equals(expected[0].drop("import_id"))
    assert got[1:] == expected[1:]
