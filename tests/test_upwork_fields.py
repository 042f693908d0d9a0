"""Upwork's fields made the short way are what the long way makes: its dates parsed once per
distinct date (`upwork._dates`) are `base.parse_dates` of every cell, with the same error at
the same line; ids proven integers by a cast (`csv_parts.trimmed(numbers=True)`) are the
trimmed cells; types given as codes classify as the cells do."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest

from importers import csv_parts, upwork
from importers.base import parse_dates
from importers.readers import LINE
from ledger.core.errors import DataError


def _frame(dates: list[str | None]) -> pl.DataFrame:
    return pl.DataFrame({"date": dates}, schema={"date": pl.String}).with_columns(
        pl.int_range(2, len(dates) + 2, dtype=pl.Int64).alias(LINE))


def _long_way(df: pl.DataFrame):
    try:
        return parse_dates(df, pl.col("date"), upwork.DATE_FORMATS, path="x.csv")
    except DataError as exc:
        return exc


def _short_way(df: pl.DataFrame):
    try:
        return upwork._dates(df, "x.csv")
    except DataError as exc:
        return exc


@pytest.mark.parametrize("dates", [
    ["Jun 3, 2024", "Jun 3, 2024", " Jun 2, 2024", "2024-06-01", "June 1, 2024", "Jun 3, 2024"],
    ["Jun 3, 2024", "Jun 31, 2024", "Jun 2, 2024", "Feb 30, 2024", "Jun 31, 2024"],  # 2 bad
    ["Jun 3, 2024", "Jun 2, 2024", None, "Jun 1, 2024", None],  # empty
    ["Jun 3, 2024", None, "bad", "Jun 1, 2024"],  # empty before a bad one
    ["Jun 3, 2024", "bad", None],
    [],
])
def test_dates_once_per_distinct_date_are_every_cell_parsed(dates):
    df = _frame(dates)
    long, short = _long_way(df), _short_way(df)
    if isinstance(long, DataError):
        assert isinstance(short, DataError)
        assert (str(short), short.line, short.hint) == (str(long), long.line, long.hint)
    else:
        assert short.equals(long) and short.dtype == pl.Date
        if dates:
            assert short[0] == dt.date(2024, 6, 3)


@pytest.mark.parametrize("cells", [
    ["612345", "612346", "7"],
    ["612345", " 612346", "7"],      # white space: trimmed as any text
    ["612345", "612346\t", "7"],
    ["612345", "", "7"],             # blank: null
    ["612345", None, "7"],
    ["612345", "\u00a0612346", "7"],
    ["+612345", "-7", "007"],        # integers as written: kept as written
    ["1e3", "0x1f", "1_000"],
    [],
])
def test_refs_proven_integers_are_the_trimmed_cells(cells):
    df = pl.DataFrame({"ref": cells}, schema={"ref": pl.String})
    for blank_is_null in (True, False):
        slow = csv_parts.trimmed(df, pl.col("ref"), blank_is_null)
        fast = csv_parts.trimmed(df, pl.col("ref"), blank_is_null, numbers=True)
        assert fast.to_list() == slow.to_list() and fast.dtype == slow.dtype


def test_types_given_as_codes_classify_as_the_cells_do():
    types = ["Hourly", "Service Fee", " hourly", "Mystery", "Hourly", None, "Connects", "VAT"]
    df = pl.DataFrame({
        "type": types,
        "description": ["Invoice - 2:30 hrs", "Service Fee - Ref ID 12", "1.5 hrs", "x",
                        "Invoice 10:00 hrs", "y", "Connects purchase", "VAT"],
    })
    cells, warned = upwork._classified(df)
    index, distinct = csv_parts.distinct_codes(df["type"])
    coded, warned_coded = upwork._classified(
        df.drop("type").with_columns(index.alias(upwork.TYPE_CODE)), distinct)
    assert warned_coded == warned and warned
    assert coded.drop(upwork.TYPE_CODE).equals(cells.drop("type"))


@pytest.mark.parametrize("cells", [
    ["Acme", "Acme", "", "Beta ", None, " Acme", "Beta", "\u00a0", "Acme"],
    ["Acme", "Acme", "Beta", "Beta"],
    [],
])
def test_few_values_trimmed_once_each_are_the_cells_trimmed(cells, monkeypatch):
    monkeypatch.setattr(csv_parts, "FEW", 1)
    values = pl.Series("team", cells, dtype=pl.String)
    for blank_is_null in (True, False):
        index, distinct = csv_parts.trimmed_codes(values, blank_is_null)
        slow = csv_parts.trimmed(values.to_frame(), pl.col("team"), blank_is_null)
        assert distinct.gather(index).to_list() == slow.to_list()
    monkeypatch.setattr(csv_parts, "FEW", 16)  # 3 distinct in 9 rows: not few
    assert csv_parts.trimmed_codes(values, True) is None or len(cells) < 9


def test_fields_with_coded_counterparties_are_the_fields(tmp_path, monkeypatch):
    from bench.generate import write_upwork
    from importers import registry
    from importers.readers import read_table

    path = write_upwork(tmp_path / "upwork.csv", 2000, days=20)
    text = path.read_text().replace(",Client 7,", ", Client 7 ,").replace(",Client 9,", ",,")
    path.write_text(text)
    monkeypatch.setattr(csv_parts, "FEW", 2)

    def table():
        return read_table(registry.read(path), 0, columns=upwork._READ)

    plain = upwork._fields(table().df, table(), path)
    coded: dict[str, pl.Series] = {}
    got = upwork._fields(table().df, table(), path, coded)
    assert list(coded) == ["counterparty"]
    got = upwork._decoded(got, coded).select(plain.columns)
    assert got.equals(plain) and plain["counterparty"].null_count()
    assert plain.filter(pl.col("counterparty") == "Client 7").height


@pytest.mark.parametrize("pieces", [1, 5, 40])
def test_distinct_codes_of_values_in_pieces_are_their_positions(pieces):
    """Each row's code as it is where the codes are the positions (no null, first rows in
    order), else gathered: the positions either way, as the strings' join gives them."""
    values = pl.Series([f"t{(n * 7) % 13}" for n in range(400)] + ["t3", None] * (pieces > 5))
    step = -(-values.len() // pieces)
    chunked = pl.concat([values.slice(a, step) for a in range(0, values.len(), step)],
                        rechunk=False)
    index, distinct = csv_parts.distinct_codes(chunked)
    joined_index, joined = csv_parts._joined_codes(values)
    assert index.to_list() == joined_index.to_list() and distinct.equals(joined)
    assert index.dtype == pl.UInt32 and distinct.gather(index).equals(values)


def test_distinct_codes_not_in_first_row_order_are_gathered(monkeypatch):
    """Codes given in another order than the rows' (a Categories already holding the values,
    last first): each row's position is looked up, not taken as its code."""
    values = pl.Series(["b", "a", "c", "a", "b", "c"])
    categories = pl.Categories.random()
    held = pl.Series(["c", "a", "b"]).cast(pl.Categorical(categories))  # c=0, a=1, b=2
    assert held.to_physical().to_list() == [0, 1, 2]  # (held: the mapping lives with it)
    monkeypatch.setattr(pl.Categories, "random", staticmethod(lambda *a, **k: categories))
    index, distinct = csv_parts.distinct_codes(values)
    assert distinct.to_list() == ["b", "a", "c"] and index.to_list() == [0, 1, 2, 1, 0, 2]


def test_report_with_every_cell_quoted_reads_as_the_export(tmp_path):
    """The 2024 report re-saved with every cell quoted: an empty description part `""` is read
    as "" (where `,,` is null), and is left out of the description as a null is (it was joined
    as "Service Fee - Ref ID 612340231 -  -  -  -")."""
    import csv
    import io

    from tests.golden import DATA, parse, rows_as_json

    original = DATA / "upwork" / "report-2024.csv"
    text = original.read_bytes().decode("utf-8-sig")
    out = io.StringIO()
    csv.writer(out, quoting=csv.QUOTE_ALL, lineterminator="\r\n").writerows(
        csv.reader(io.StringIO(text)))
    quoted = tmp_path / original.name
    quoted.write_text(out.getvalue(), encoding="utf-8")
    assert '""' in out.getvalue()
    got, want = (rows_as_json(parse(p).rows) for p in (quoted, original))
    assert [r["description"] for r in got] == [r["description"] for r in want]
    assert got == want
