"""Freelancer.com importer (columns by position): detection, holds, fee links, GST or balance in
the fifth column, conversions, stable ids. Goldens: tests/data/freelancer/."""

from __future__ import annotations

import pytest

from importers import registry
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "freelancer"

BROKEN_CASES = {
    "freelancer-bad-date.csv": "3: date '31 Feb 2026 10:00' is not in the form '06 Jan 2026 "
    "23:52'\n  hint: check the file is the original export, not re-saved",
    "freelancer-balance-break.csv": "4: balance 480.0000 does not follow from line 5 "
    "(expected 500.0000: previous balance + amount)\n  hint: the file is truncated, edited or "
    "misread; download the export again",
}


def write(tmp_path, *rows: str, header: str = "Date,Description,Currency,Amount",
          name: str = "history.csv"):
    path = tmp_path / name
    path.write_text("\n".join([header, *rows]) + "\n")
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_detection_checks_the_data_rows_not_only_the_header(tmp_path):
    fmt = registry.by_name("freelancer")
    iso = write(tmp_path, '2026-01-06 23:52,"Done milestone payment",USD,+5.00', name="iso.csv")
    assert not fmt.detect(registry.read(iso))
    unsigned = write(tmp_path, '"06 Jan 2026 23:52","Coffee",USD,5.00', name="unsigned.csv")
    assert not fmt.detect(registry.read(unsigned))
    withdrawal = write(tmp_path, '"06 Jan 2026 23:52","Express withdrawal  (USD)",USD,-5.00',
                       name="withdrawal.csv")
    assert fmt.detect(registry.read(withdrawal))


def test_holds_are_skipped_in_pairs_and_an_open_hold_is_warned(tmp_path):
    parsed = parse(GOLDEN / "history-multi.csv")
    assert parsed.skipped == {"temporary hold or its release (nets to zero)": 2}
    assert parsed.warnings == []
    path = write(tmp_path, '"09 Feb 2026 10:04","Locked due to process Express withdrawal (USD)",'
                 'USD,"-450.00"')
    open_hold = parse(path)
    assert open_hold.rows.height == 0
    assert "1 hold(s) but 0 release(s)" in open_hold.warnings[0]


def test_project_fees_cite_the_payment_they_were_taken_on():
    rows = parse(GOLDEN / "history-multi.csv").rows
    fees = rows.filter(rows["category"] == "hourly_project_fee")
    shopify = rows.filter(rows["contract"] == "Shopify Fixes")
    payments = shopify.filter(shopify["kind"] == "earning")
    assert fees["related_ref"].to_list() == payments["ref"].to_list()
    assert [str(a) for a in payments["amount"]] == ["87.5000", "12.5000"]
    logo = rows.filter(rows["contract"] == "Logo Design & Branding")
    assert logo["related_ref"][1] == logo["ref"][0] == "#39876543@2026-01-07T09:30"


def test_payment_to_someone_hired_is_a_subcontractor_payout():
    rows = parse(GOLDEN / "history-multi.csv").rows
    payout = rows.filter(rows["kind"] == "subcontractor_payout").row(0, named=True)
    assert (payout["counterparty"], payout["contract"], str(payout["amount"])) == (
        "Ravi P.", "Podcast Transcripts Batch 3", "-45.0000")


def test_conversion_legs_are_linked():
    rows = parse(GOLDEN / "history-multi.csv").rows
    fx = rows.filter(rows["kind"] == "fx")
    assert fx["related_ref"].to_list() == list(reversed(fx["ref"].to_list()))


def test_fifth_column_is_a_balance_when_it_chains(tmp_path):
    path = write(tmp_path,
                 '"02 Jan 2026 10:00","Express withdrawal  (USD)",USD,"-100.00","50.00"',
                 '"01 Jan 2026 10:00","Done milestone payment from A B. for project X (USD)",'
                 'USD,"+150.00","150.00"',
                 header="Date,Description,Currency,Amount,")
    parsed = parse(path)
    assert parsed.rows.height == 2
    assert "gst" not in parsed.rows["category"].to_list()


def test_gst_rows_follow_their_row():
    rows = parse(GOLDEN / "history-gst.csv").rows
    gst = rows.filter(rows["category"] == "gst")
    assert [str(a) for a in gst["amount"]] == ["-450.0000", "-71.8200"]
    assert set(gst["kind"].cast(str)) == {"platform_fee"}
    assert gst["related_ref"][0] == "Mobile App UI@2026-03-12T13:14"


def test_ids_are_stable_across_overlapping_exports(tmp_path):
    row = '"07 Jan 2026 09:30","Done milestone payment from J D. for project Logo (USD)",USD,+5.00'
    newer = '"08 Jan 2026 09:30","Express withdrawal  (USD)",USD,-5.00'
    a = parse(write(tmp_path, row, name="a.csv")).rows
    b = parse(write(tmp_path, newer, row, name="b.csv")).rows
    assert a["id"][0] == b["id"][1]
