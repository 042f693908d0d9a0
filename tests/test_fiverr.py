"""Fiverr importer (header unconfirmed: an alias table): net-of-fee earnings, no invented fees,
pending clearance skipped, signs, aliases, detection. Goldens: tests/data/fiverr/."""

from __future__ import annotations

import pytest

from importers import registry
from ledger.core.errors import DataError
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "fiverr"

BROKEN_CASES = {
    "fiverr-bad-amount.csv": "3: amount '$8.O0' is not a number\n  hint: amounts must be "
    "numbers such as 1,234.56; fix or re-download",
    "fiverr-bad-date.csv": "3: date 'Juni 20, 2024' is not a date in the expected form (Jun 28, "
    "2024, June 28, 2024, 28 Jun 2024, 28 June 2024, Jun 28 2024)\n  hint: check the file is "
    "the original export, not re-saved",
}


def write(tmp_path, text: str, name: str = "fiverr.csv"):
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_earnings_are_net_of_fee_and_no_fee_is_invented():
    for name in ("earnings.csv", "earnings-unsigned.csv"):
        rows = parse(GOLDEN / name).rows
        earnings = rows.filter(rows["kind"] == "earning")
        assert earnings.height and set(earnings["category"]) == {"net_of_fee"}
        # the only fees are the ones the file shows (withdrawal fee, Promoted Gigs, Seller Plus)
        fees = rows.filter(rows["kind"].is_in(["platform_fee", "payment_fee"]))
        assert set(fees["category"]) <= {"withdrawal_fee", "promoted_gigs", "seller_plus"}
        assert set(rows["origin"]) == {"source"}


def test_pending_clearance_is_counted_not_booked():
    parsed = parse(GOLDEN / "earnings-unsigned.csv")
    assert parsed.skipped == {"pending clearance (booked when it clears)": 1}
    assert "FO9B8A7C6D5E" not in parsed.rows["ref"].to_list()


def test_unsigned_amounts_take_their_sign_from_the_kind():
    rows = parse(GOLDEN / "earnings-unsigned.csv").rows
    signs = dict(zip(rows["kind"].cast(str), (str(a) for a in rows["amount"]), strict=False))
    assert signs["transfer"] == "-150.0000"
    assert signs["payment_fee"] == "-3.0000"
    assert signs["refund"] == "-20.0000"


def test_aliases_and_unknown_activity(tmp_path):
    path = write(tmp_path, "Order Number,Transaction Date,Details,Buyer,Total\n"
                 "FO123ABC456,2024-05-02,Revenue for order,kim,50.00\n"
                 "FO123ABC457,2024-05-03,Mystery adjustment,kim,1.00\n")
    parsed = parse(path)
    assert parsed.format == "fiverr"
    assert parsed.rows["kind"].cast(str).to_list() == ["earning", "other"]
    assert parsed.rows["counterparty"].to_list() == ["kim", "kim"]
    assert "Mystery adjustment" in parsed.warnings[0]


def test_generic_order_csv_without_fiverr_wording_is_not_fiverr(tmp_path):
    path = write(tmp_path, "Date,Description,Order,Amount\n2024-05-02,Widget,1001,5.00\n")
    raw = registry.read(path)
    assert not registry.by_name("fiverr").detect(raw)


def test_ids_are_stable_across_overlapping_exports(tmp_path):
    header = "Date,Activity,Description,From,Order,Amount\n"
    one = '"Jun 25, 2024",Earning,Funds cleared,acme,FO81A2B3C4D5,$96.00\n'
    two = '"Jun 26, 2024",Earning,Funds cleared,acme,FO81A2B3C4D6,$10.00\n'
    a = parse(write(tmp_path, header + one, "a.csv")).rows
    b = parse(write(tmp_path, header + two + one, "b.csv")).rows
    assert a["id"][0] == b["id"][1]


def test_balance_column_is_checked(tmp_path):
    path = write(tmp_path, "Date,Activity,Order,Amount,Balance\n"
                 "2024-06-03,Withdrawal,,-50.00,40.00\n"
                 "2024-06-02,Revenue for order completion,FO1A2B3C4D5E,80.00,100.00\n"
                 "2024-06-01,Revenue for order completion,FO1A2B3C4D5F,20.00,20.00\n")
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.line, err.value.message) == (
        2, "balance 40.0000 does not follow from line 3 (expected 50.0000: previous "
        "balance + amount)")


def test_numeric_dates_are_settled_by_the_whole_file_and_refused_at_a_line_if_not(tmp_path):
    """A re-saved earnings file with numeric dates: every date is looked at (not the first
    500), and one that could be read either way is refused at its line until the flag."""
    head = "Date,Activity,Description,From,Order,Amount\n"
    row = "{d},Earning,Funds cleared,acme_studio,FO{n:010d},$10.00\n"
    early = "".join(row.format(d="06/03/2024", n=n) for n in range(600))
    proven = write(tmp_path, head + early + row.format(d="06/13/2024", n=600), "proven.csv")
    assert set(parse(proven).rows["date"].cast(str)) == {"2024-06-03", "2024-06-13"}
    unproven = write(tmp_path, head + row.format(d="06/06/2024", n=1) + early, "unproven.csv")
    with pytest.raises(DataError, match="dates such as '06/03/2024' could be day-first or "
                       "month-first") as err:
        parse(unproven)
    assert err.value.line == 3
    assert set(parse(unproven, date_order="dmy").rows["date"].cast(str)) == {
        "2024-06-06", "2024-03-06"}
