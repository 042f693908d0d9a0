"""registry.rows_many (importers/stacked.py) gives each file exactly what `parse` gives it.

The files of one format are parsed as one frame: every golden and broken export of the
formats that can be stacked goes through both paths, with copies, so each stack mixes good
files with refused ones; rows must be equal, column types included, and an error the same
exception with the same message."""

from __future__ import annotations

from pathlib import Path

import pytest

from importers import registry
from importers.base import ImportOptions
from importers.stacked import FILE, balance_breaks

DATA = Path(__file__).parent / "data"


def _files(name: str) -> list[Path]:
    found = sorted((DATA / name).glob("*.csv")) + sorted((DATA / name).glob("*.CSV"))
    return found + sorted(p for p in (DATA / "broken").iterdir() if name in p.name)


def _single(raw, options):
    try:
        return registry.parse(raw, options).rows
    except Exception as exc:  # compared with what rows_many gives for the file
        return exc


@pytest.mark.parametrize("name", ["upwork", "payoneer", "paypal", "bank"])
def test_rows_many_equals_parse_file_by_file(name, monkeypatch):
    monkeypatch.setattr("importers.upwork._today", lambda: __import__("datetime").date(2026, 1, 1))
    files = _files(name)
    raws = [registry.read(p) for p in files + files[:2]]  # a file twice: identical donations
    options = ImportOptions()
    many = registry.rows_many(raws, options)
    single = [_single(raw, options) for raw in raws]
    stacked = 0
    for raw, one, got in zip(raws, single, many, strict=True):
        if isinstance(one, BaseException):
            assert type(got) is type(one) and str(got) == str(one), raw.path
        else:
            assert not isinstance(got, BaseException), (raw.path, got)
            assert got.schema == one.schema and got.equals(one), raw.path
            stacked += 1
    assert stacked >= 3  # goldens (and the copies) were read, not only errors compared


def test_balance_breaks_names_the_file_whose_balance_breaks_in_either_order():
    import datetime as dt
    from decimal import Decimal

    import polars as pl

    d1, d2 = dt.date(2024, 1, 1), dt.date(2024, 1, 2)
    rows = pl.DataFrame({
        FILE: [0, 0, 1, 1, 2, 2, 3],
        "_line": [2, 3, 2, 3, 2, 3, 2],
        "date": [d1, d2, d2, d1, d1, d1, d1],
        # file 0 oldest first and right; 1 newest first and right; 2 same date, wrong both
        # ways; 3 a single row
        "amount": [Decimal(5), Decimal(1), Decimal(1), Decimal(5), Decimal(5), Decimal(1),
                   Decimal(3)],
        "balance": [Decimal(5), Decimal(6), Decimal(6), Decimal(5), Decimal(5), Decimal(9),
                    Decimal(1)],
    })
    assert balance_breaks(rows) == {2}


@pytest.mark.parametrize("body", [
    "a,b,c\n1,2,3\n\n4,5,6\n",          # a blank line is a record, not checked
    "a,b,c\r\n1,2,3\r\n , ,\r\n4,5,6",  # CRLF, a line of blanks, no final newline
    "a,b,c\n1,2,3\n4,5\n",              # too few cells: the error at line 3
    "a,b,c\n1,2,3,4\n",                 # too many
    "a,b,c\n1,2,3\n,,,\n",              # a blank line with too many separators is blank
    '"a","b","c"\n"1","2,5",""\n\n"4","5","6"\n',   # every cell quoted (PayPal)
    '"a","b","c"\r\n"1","2"\r\n',                  # quoted, too few cells
    '"a","b","c"\n"1","2","3",","\n',               # quoted, a fourth cell of ","
    '"a","b","c"\n"1","2","3","  "\n',              # a blank fourth cell: fits (3, 4)
    '"a","b","c"\n"1","say ""hi""","3"\n',          # a doubled quote: the csv module
    '"a","b","c"\n"1","two\nlines","3"\n',          # a quoted line break: the csv module
    'a,b,c\n1,"2,5",3\n4,"",6\n',                   # some cells quoted (Upwork): masked
    'a,b,c\n1,"2,5"\n',                              # some quoted, too few cells
    'a,b,c\n1,"2,5",3,"  "\n5,6,7,", "\n',          # a blank quoted fourth cell; a ", " one
    'a,b,c\n1,"\u2003",3,"\u00a0"\n',               # Unicode spaces are blank both ways
    'a,b,c\r\n1,"x",3\r\n\r\n"4",5,"6,7,8"\r\n',  # CRLF, a blank line, quoted separators
    'a,b,c\n1,x"y,3\n',                              # a quote inside a cell: the csv module
    'a,b,c\n1, "2,5",3\n',                           # a space before the quote: likewise
    'a,b,c\n1,"2"5,3\n',                             # text after the closing quote: likewise
])
@pytest.mark.parametrize("widths", [(3, 3), (3, 4)])
def test_bodies_read_line_by_line_get_the_csv_modules_record_lines(body, widths, monkeypatch):
    from importers import readers

    def lines() -> object:
        try:
            return readers._record_lines(body, ",", widths, Path("f.csv"), 2, True)
        except Exception as exc:  # the message is compared
            return str(exc)

    fast = lines()
    monkeypatch.setattr(readers, "_lines_are_records", lambda body, sep: None)
    assert fast == lines()


@pytest.mark.parametrize("values", [
    ["1,234.56", "-10.00"], ["1.234,56", "3,5"], ["12", "7"], ["1.234", "5"], ["1,234"],
    ["1,5", "2.25"], ["1.234.567,8"], ["١٢.٣٤"], ["$ 1 234,5", ""], ["1.2345", "9"],
    ["1,234,567", "12,50"], [],
])
def test_paypal_decimal_mark_in_one_query_answers_as_value_by_value(values):
    import polars as pl

    from importers import paypal

    column = pl.Series(values, dtype=pl.String)
    df = pl.DataFrame({"_gross": column, "_fee": column.reverse(),
                       "_net": pl.Series([None] * len(values), dtype=pl.String),
                       "_balance": column})
    answers = []
    for columns in (["gross"], ["datum"]):  # an English header, a German one
        for decide in (paypal._decimal_mark, paypal._decimal_mark_each):
            try:
                answers.append(decide(df, columns, "f.csv"))
            except Exception as exc:  # the message is compared
                answers.append(str(exc))
    assert answers[0] == answers[1] and answers[2] == answers[3]


def test_bank_statements_of_one_profile_are_stacked_and_equal_parse():
    from importers import bank

    hdfc = registry.by_name("bank:hdfc")
    good = registry.read(DATA / "bank" / "hdfc.csv")
    lines = good.data.decode().splitlines(keepends=True)
    # the same statement with its newest rows dropped: a file of its own in the stack
    shorter = registry.read(DATA / "bank" / "hdfc.csv")
    shorter.data = "".join(lines[:-3]).encode()
    raws = [good, shorter, good]
    profile = next(p for p in bank.bundled_profiles() if p.source == "bank:hdfc")
    many = bank.rows_many(profile, raws, ImportOptions())
    for raw, got in zip(raws, many, strict=True):
        one = hdfc.parse(raw, ImportOptions()).rows
        assert got is not None and got.schema == one.schema and got.equals(one)


def test_some_quoted_cells_are_counted_line_by_line_with_their_quotes_masked():
    from importers.readers import _lines_are_records

    assert _lines_are_records('a,b,c\n1,"2,5",3\n"",x," "\n', ",") == "a,b,c\n1,x,3\n,x,\n"
    assert _lines_are_records('a;b\n"1;5";"_"\n', ";") == "a;b\nx;x\n"
    # a tab between a quoted cell and a blank one is a separator, not the blank's inside
    assert _lines_are_records('a\tb\tc\n"a"\t" "\t""\n', "\t") == "a\tb\tc\nx\t\t\n"
    for body in ('a,b\n1,x"y\n', 'a,b\n1, "2"\n', 'a,b\n"2"5,1\n', 'a,b\n"say ""hi""",1\n'):
        assert _lines_are_records(body, ",") is None, body


_DATES = [["2024-03-01", "2024-03-02"], ["01.03.2024"], ["13/02/2024", "01/03/2024"],
          ["02/13/2024", "03/01/2024"], ["01/02/2024", "02/03/2024"], ["13/14/2024"],
          ["", " "], [" 2024-03-01", None], [None, None], ["05/06/2024", "13/06/2024"],
          ["12/03/2024", "01/12/2024"]]


@pytest.mark.parametrize("order", [None, "mdy"])
@pytest.mark.parametrize("mark", [None, ","])
def test_paypal_decisions_of_a_stack_are_each_files_own(order, mark):
    """`_stacked_decisions` (one query for a group of files) gives a file the decimal mark and
    date formats it gives the file alone, or leaves the file out; and it decides the files
    whose values tell (the usual exports), so the fast path is taken."""
    import polars as pl

    from importers import paypal
    from importers.readers import LINE, Table

    values = [["1,234.56", "-10.00"], ["1.234,56", "3,5"], ["12", "7"], ["1.234", "5"],
              ["1,234"], ["1,5", "2.25"], ["1.234.567,8"], ["١٢.٣٤"], ["$ 1 234,5", ""],
              ["1.2345", "9"], ["1,234,567", "12,50"], []]
    options = ImportOptions(decimal_mark=mark, date_order=order)
    for columns in (["date", "gross", "fee", "net", "balance", "currency", "transaction id"],
                    ["datum", "brutto", "gebühr", "netto", "guthaben", "währung",
                     "transaktionscode"]):
        group = []
        for at, (money, dates) in enumerate((m, d) for m in values for d in _DATES):
            n = max(len(money), len(dates))
            cells = {c: pl.Series([None] * n, dtype=pl.String) for c in columns}
            cells[columns[0]] = pl.Series((dates * n)[:n], dtype=pl.String)
            for c in columns[1:5]:
                cells[c] = pl.Series((money * n)[:n] if money else [None] * n,
                                     dtype=pl.String)
            df = pl.DataFrame(cells).with_columns(pl.int_range(2, n + 2).alias(LINE))
            group.append((at, Table(df=df, header=columns, path=Path(f"f{at}.csv"),
                                    delimiter=",")))
        sure = paypal._stacked_decisions(group, options)[1]
        assert len(sure) >= len(group) // 4
        for at, table in group:
            try:
                df = paypal._columns(table)
                alone = (options.decimal_mark or paypal._decimal_mark(
                    df, table.df.columns, table.path), tuple(paypal._date_formats(
                        df["_date"], options, table.path)))
            except Exception:
                alone = None
            assert sure.get(at, alone) == alone, (at, table.df)


def test_payoneer_date_orders_of_a_stack_are_each_files_own():
    """`_stacked_orders` (one query for a group of files) gives each file the date formats
    `_date_formats` gives it alone, and leaves out each file `_date_formats` refuses (dates
    that could be read either way, or both ways proven): `parse` reads it alone and says so."""
    import polars as pl

    from importers import payoneer
    from importers.readers import Table
    from ledger.core.errors import DataError

    dates = [["13/02/2024", "01/03/2024"], ["02/13/2024"], ["12/01/2024"], [None],
             ["2024-03-01"], [" 31/01/2024"], ["06/06/2024", "2024-06-07"],
             ["13/05/2024", "05/14/2024"], [" 03/06/2024", "03/06/2024", None]]
    group = [(at, Table(df=pl.DataFrame({"transaction date": pl.Series(d, dtype=pl.String)}),
                        header=["Transaction Date"], path=Path("p.csv"), delimiter=","))
             for at, d in enumerate(dates)]
    for order in (None, "dmy"):
        options = ImportOptions(date_order=order)
        found = payoneer._stacked_orders(group, options)
        alone = {}
        for at, table in group:
            try:
                alone[at] = tuple(payoneer._date_formats(table.df, options))
            except DataError:
                continue
        assert found == alone
        assert {f[0] for f in found.values()} == ({"%d/%m/%Y", "%m/%d/%Y"} if order is None
                                                  else {"%d/%m/%Y"})
        assert sorted(found) == (list(range(len(dates))) if order else [0, 1, 3, 4, 5, 6])
