"""Payoneer importer: broken files with their exact messages, statuses, linking, dates and
stable ids across overlapping exports. The golden rows are in tests/data/payoneer/."""

from __future__ import annotations

import re

import pytest

from importers import registry
from ledger.core.errors import DataError
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "payoneer"
HEADER = ("Transaction Date,Transaction Time,Time Zone,Transaction ID,Description,Credit Amount,"
          "Debit Amount,Currency,Transfer Amount,Transfer Amount Currency,Status,Running Balance,"
          "Additional Description,Store Name,Source,Target,Reference ID")
AMOUNT_HINT = "amounts must be numbers such as 1,234.56; fix or re-download"
BALANCE_HINT = "the file is truncated, edited or misread; download the export again"
ONE_AMOUNT_HINT = ("a Payoneer row has exactly one unsigned amount, in Credit (money in) or "
                   "Debit (money out); the file may be edited")


def write(tmp_path, *rows, name="payoneer.csv"):
    path = tmp_path / name
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


BROKEN_CASES = {
    "payoneer-wrong-columns.csv": (
        "1: column 'status' is missing\n  hint: columns found: 'Transaction Date', "
        "'Transaction Time', 'Time Zone', 'Transaction ID', 'Description', 'Credit Amount', "
        "'Debit Amount', 'Currency', 'Running Balance'"),
    "payoneer-bad-amount.csv": f"3: Debit Amount '12.4O' is not a number\n  hint: {AMOUNT_HINT}",
    "payoneer-balance-break.csv": (
        "4: balance 279.6000 does not follow from line 3 (expected 297.6000: previous "
        f"balance + amount)\n  hint: {BALANCE_HINT}"),
    "payoneer-unknown-status.csv": (
        "3: unknown Payoneer status 'Reversed'\n  hint: known statuses: Completed (booked); "
        "Pending, In Process, Cancelled, Failed, Declined, Rejected, Returned (not booked). "
        "Please report this status so it can be mapped; meanwhile remove the row"),
    "payoneer-both-amounts.csv": (
        f"2: both Credit Amount and Debit Amount are filled\n  hint: {ONE_AMOUNT_HINT}"),
    "payoneer-mixed-dates.csv": (
        "3: dates mix day-first and month-first forms: '05/14/2024' here, '13/05/2024' on "
        "line 2\n  hint: the file may have been edited; download the export again"),
    "payoneer-ambiguous-dates.csv": (
        "2: dates such as '03/06/2024' could be day-first or month-first\n  hint: say which: "
        "--date-order mdy for Payoneer's own export (month-first, 06/28/2024), --date-order "
        "dmy for a file re-saved in a day-first locale (28/06/2024)"),
    "payoneer-transfer-currency.csv": (
        "2: Transfer Amount Currency '(empty)' is not a currency code\n  hint: a Transfer Amount "
        "needs its ISO currency (PKR, EUR...); the file may be edited"),
}


SETTLED = {"payoneer-mixed-dates.csv", "payoneer-ambiguous-dates.csv"}
"""Broken files refused for their dates: read without --date-order. The others' dates (May
2024, Payoneer's own month-first export) could be read either way: read with
--date-order mdy, so each is refused for what it is about."""


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name], **({} if name in SETTLED else {"date_order": "mdy"}))


def test_both_layouts_detected_as_payoneer():
    for name in ("transactions-17col.csv", "transactions-12col.csv"):
        assert registry.detect(registry.read(GOLDEN / name)).name == "payoneer"


def test_not_completed_rows_are_counted_not_booked():
    parsed = parse(GOLDEN / "transactions-17col.csv")
    assert parsed.rows_read == 11
    assert parsed.rows.height == 10
    assert parsed.skipped == {"status Pending": 1}
    assert "1234567898" not in parsed.rows["ref"].to_list()
    older = parse(GOLDEN / "transactions-12col.csv")
    assert older.skipped == {"status Cancelled": 1}
    assert older.warnings and "Payment to John Smith" in older.warnings[0]


def test_transfer_amount_is_kept_readable_not_booked():
    rows = parse(GOLDEN / "transactions-17col.csv").rows
    withdrawal = rows.filter(rows["ref"] == "1234567891").row(0, named=True)
    assert str(withdrawal["amount"]) == "-1000.0000"
    assert withdrawal["currency"] == "USD"
    tag = re.search(r"\[(delivered|sent) (\S+) ([A-Z]{3})\]", withdrawal["description"])
    assert tag and tag.groups() == ("delivered", "278500.00", "PKR")
    assert "PKR" not in rows["currency"].to_list()


def test_balances_are_checked_per_currency(tmp_path):
    # USD and EUR rows interleave; each currency's balance runs on its own.
    path = write(
        tmp_path,
        "05/03/2024,10:00:00,UTC,1,Payment from Acme,100.00,,USD,,,Completed,100.00,,,Acme,Me,",
        "05/03/2024,11:00:00,UTC,2,Payment from Beta,50.00,,EUR,,,Completed,50.00,,,Beta,Me,",
        "05/04/2024,10:00:00,UTC,3,Card charge - X,,10.00,USD,,,Completed,90.00,,X,Me,X,",
        "05/04/2024,11:00:00,UTC,4,Card charge - Y,,5.00,EUR,,,Completed,46.00,,Y,Me,Y,",
    )
    with pytest.raises(DataError, match=r"balance 46\.0000 does not follow") as err:
        parse(path, date_order="mdy")
    assert err.value.line == 5


def test_fee_links_by_reference_id_naming_a_transaction(tmp_path):
    path = write(
        tmp_path,
        "05/03/2024,10:00:00,UTC,11,Transfer to bank account,,100.00,USD,,,Completed,900.00,,,"
        "Me,Bank,",
        "05/05/2024,08:00:00,UTC,12,Transfer fee,,1.50,USD,,,Completed,898.50,,,Me,Payoneer,11",
    )
    rows = parse(path, date_order="mdy").rows
    fee = rows.filter(rows["ref"] == "12").row(0, named=True)
    assert (fee["kind"], fee["category"], fee["related_ref"]) == (
        "payment_fee", "transfer_fee", "11")
    assert "[reference" not in fee["description"]


def test_fee_without_evidence_is_not_linked(tmp_path):
    path = write(
        tmp_path,
        "05/03/2024,10:00:00,UTC,11,Card charge - A,,1.00,USD,,,Completed,99.00,,A,Me,A,",
        "05/03/2024,10:00:00,UTC,12,Card charge - B,,2.00,USD,,,Completed,97.00,,B,Me,B,",
        "05/03/2024,10:00:00,UTC,13,Card fee,,0.50,USD,,,Completed,96.50,,,Me,Payoneer,",
    )
    rows = parse(path, date_order="mdy").rows
    assert rows.filter(rows["ref"] == "13")["related_ref"].to_list() == [None]


def dated(tmp_path, *days: str, name: str = "dated.csv"):
    """A Payoneer export with a payment of 10.00 on each of `days`, as written."""
    row = "{d},10:00:00,UTC,{i},Payment from Acme,10.00,,USD,,,Completed,{b}.00,,,Acme,Me,"
    return write(tmp_path, *(row.format(d=d, i=i, b=10 * i) for i, d in enumerate(days, 1)),
                 name=name)


def dates(path, **options) -> list[str]:
    return [str(d) for d in parse(path, **options).rows["date"]]


def test_dates_that_prove_their_order_need_no_flag(tmp_path):
    """A day above 12 in either place settles the order of every date of the file."""
    assert dates(dated(tmp_path, "13/05/2024", "02/06/2024")) == ["2024-05-13", "2024-06-02"]
    assert dates(dated(tmp_path, "05/13/2024", "06/02/2024")) == ["2024-05-13", "2024-06-02"]
    # ISO dates (a re-saved file) and dates that read the same either way ask nothing
    assert dates(dated(tmp_path, "2024-06-02", "2024-06-03")) == ["2024-06-02", "2024-06-03"]
    assert dates(dated(tmp_path, "06/06/2024", "2024-06-07")) == ["2024-06-06", "2024-06-07"]


def test_dates_that_could_read_either_way_are_refused_until_the_flag_says(tmp_path):
    """Day-first June dates all at most 12 (a file re-saved in an en-GB/en-IN Excel): never
    read month-first silently. The error names the first date that reads two ways."""
    path = dated(tmp_path, "06/06/2024", "2024-06-07", "10/06/2024", "11/06/2024")
    with pytest.raises(DataError, match="could be day-first or month-first") as err:
        parse(path)
    assert (err.value.line, str(err.value).split(": ", 1)[1].split("\n")[0]) == (
        4, "dates such as '10/06/2024' could be day-first or month-first")
    assert "--date-order mdy for Payoneer's own export" in str(err.value)
    assert dates(path, date_order="dmy") == ["2024-06-06", "2024-06-07", "2024-06-10",
                                              "2024-06-11"]
    assert dates(path, date_order="mdy") == ["2024-06-06", "2024-06-07", "2024-10-06",
                                              "2024-11-06"]
    # the flag is read even where the dates prove the order: a contradiction is refused
    with pytest.raises(DataError, match="'13/05/2024' is not a date") as err:
        parse(dated(tmp_path, "13/05/2024"), date_order="mdy")
    assert err.value.line == 2


def test_a_file_mixing_both_orders_is_refused_at_the_row_that_breaks_it(tmp_path):
    path = dated(tmp_path, "01/02/2024", "13/05/2024", "01/03/2024", "05/14/2024", "05/15/2024")
    with pytest.raises(DataError, match="dates mix day-first and month-first forms: "
                       "'05/14/2024' here, '13/05/2024' on line 3") as err:
        parse(path)
    assert err.value.line == 5


def test_client_payment_is_earning_platform_payout_is_transfer():
    rows = parse(GOLDEN / "transactions-17col.csv").rows
    kinds = {r["ref"]: (r["kind"], r["category"], r["counterparty"])
             for r in rows.iter_rows(named=True)}
    assert kinds["1234567890"] == ("transfer", "receipt", "Upwork Global Inc")
    assert kinds["1234567894"] == ("earning", "payment", "Acme Corp")
    assert kinds["1234567896"][0] == kinds["1234567897"][0] == "fx"


def test_overlapping_exports_give_the_same_ids(tmp_path):
    lines = (GOLDEN / "transactions-17col.csv").read_text().splitlines()
    header, body = lines[0], lines[1:]
    first = tmp_path / "april-may.csv"
    second = tmp_path / "may.csv"
    first.write_text("\n".join([header, *body[:7]]) + "\n")
    second.write_text("\n".join([header, *body[3:]]) + "\n")
    # (the full export's May 12 and 13 prove it month-first; the first part's dates do not)
    a = {r["ref"]: r["id"] for r in parse(first, date_order="mdy").rows.iter_rows(named=True)}
    b = {r["ref"]: r["id"] for r in parse(second).rows.iter_rows(named=True)}
    shared = set(a) & set(b)
    assert shared == {"1234567893", "1234567894", "1234567895", "1234567896"}
    assert all(a[ref] == b[ref] for ref in shared)
    full = {r["ref"]: r["id"] for r in parse(GOLDEN / "transactions-17col.csv").rows
            .iter_rows(named=True)}
    assert {**a, **b} == full


def test_shared_transaction_id_still_gives_unique_ids(tmp_path):
    path = write(
        tmp_path,
        "05/03/2024,10:00:00,UTC,77,Transfer to bank account,,100.00,USD,,,Completed,900.00,,,"
        "Me,Bank,",
        "05/03/2024,10:00:00,UTC,77,Withdrawal fee,,3.00,USD,,,Completed,897.00,,,Me,Payoneer,",
    )
    rows = parse(path, date_order="mdy").rows
    assert rows["id"].n_unique() == 2
    assert rows["related_ref"].to_list() == [None, "77"]


@pytest.mark.parametrize("cells", [
    ["Acme", "Bob Ltd", None, "x"],  # as exported: the column itself, not copied
    ["Acme", " Bob Ltd", None, "x"],  # padded at the start
    ["Acme", "Bob Ltd\t", None, "x"],  # ... at the end
    ["Acme", "", None, "x"],  # empty (blank: null)
    ["Acme", "\u00a0", None, " "],  # only spaces, one of them not ASCII
    ["Line\nbreak", "two\nlines ", None, "x"],  # a line break inside a cell
])
def test_trimmed_text_is_nonblanks_answer_whether_or_not_a_cell_needs_trimming(cells):
    """`trimmed` skips trimming a column none of whose cells needs it: the same values as
    trimming every cell (`nonblank`, or `strip_chars` where blank stays text)."""
    import polars as pl

    from importers.base import nonblank
    from importers.csv_parts import trimmed

    df = pl.DataFrame({"c": pl.Series(cells, dtype=pl.String)})
    assert trimmed(df, pl.col("c"), True).to_list() == \
        df.select(nonblank(pl.col("c")))["c"].to_list()
    assert trimmed(df, pl.col("c"), False).to_list() == \
        df.select(pl.col("c").str.strip_chars())["c"].to_list()


def test_statuses_are_read_without_case_and_an_empty_one_is_refused_at_its_row(tmp_path):
    """Statuses are decided once per distinct value: `COMPLETED` books like `Completed`,
    `pending` is skipped like `Pending`, and an empty status is refused at its own row."""
    rows = ["06/01/2024,10:00:00,UTC,1,Payment from Acme,10.00,,USD,,,COMPLETED,10.00,,,,,",
            "06/02/2024,10:00:00,UTC,2,Payment from Acme,5.00,,USD,,,pending,15.00,,,,,",
            "06/03/2024,10:00:00,UTC,3,Payment from Acme,5.00,,USD,,,Completed,15.00,,,,,"]
    parsed = parse(write(tmp_path, *rows), date_order="mdy")
    assert parsed.rows["ref"].to_list() == ["1", "3"]
    assert parsed.skipped == {"status pending": 1}
    broken = [*rows[:2], rows[2].replace(",Completed,", ",,")]
    with pytest.raises(DataError, match=r":4: unknown Payoneer status '\(empty\)'"):
        parse(write(tmp_path, *broken, name="empty.csv"), date_order="mdy")
