"""MT940 importer: damaged lines and balance breaks with exact messages, several statements,
CRLF and Windows-1252, SWIFT envelopes, reversals, Wise's /EXCH/. Goldens: tests/data/mt940/."""

from __future__ import annotations

import pytest

from ledger.core.errors import DataError
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "mt940"

BROKEN_CASES = {
    "mt940-bad-line.sta": "10: statement line ':61:260510D51.57FMSCNONREF' does not follow the "
    "MT940 layout\n  hint: expected :61:YYMMDD[MMDD]C|D amount,decimals type code (e.g. "
    ":61:2406030603C250,00NTRFNONREF); the file is damaged",
    "mt940-balance-break.sta": "14: closing balance 717.93 is not the opening balance 0 plus "
    "the entries (+753.93)\n  hint: the statement is truncated, edited or misread; download it "
    "again",
}

STATEMENT = """:20:S1
:25:PK36SCBL0000001123456702
:28C:1/1
:60F:C240101PKR1000,00
{lines}
:62F:C240131PKR{closing}
"""


def write(tmp_path, lines: str, closing: str, name: str = "s.sta"):
    path = tmp_path / name
    path.write_text(STATEMENT.format(lines=lines, closing=closing))
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_crlf_cp1252_envelopes_and_two_statements():
    path = GOLDEN / "two-statements.sta"
    assert b"\r\n" in path.read_bytes() and b"\xfc" in path.read_bytes()
    rows = parse(path).rows
    assert rows.height == 5
    assert rows["counterparty"][0] == "Müller Design GmbH"
    assert rows["description"][1] == "ENTGELT - Kontoführung Dezember"
    # value date 31 Dec 2023, entry date 0102: booked on 2 January 2024
    assert str(rows["date"][1]) == "2024-01-02"


def test_reversal_of_credit_is_negative_refund():
    rows = parse(GOLDEN / "two-statements.sta").rows
    assert (str(rows["amount"][2]), rows["kind"][2], rows["category"][2]) == (
        "-100.0000", "refund", "reversal")


def test_wise_exchange_rows_are_fx_and_ids_come_from_wise():
    rows = parse(GOLDEN / "wise-usd.mt940").rows
    fx = rows.filter(rows["kind"] == "fx").row(0, named=True)
    assert (fx["ref"], fx["description"]) == ("TRANSFER-3100000002",
                                              "FTRF TRANSFER-3100000002 /EXCH/0,9231/")
    assert set(rows["account"]) == {"mt940:0123-d23680"}


def test_charges_are_bank_fees_and_balance_is_checked(tmp_path):
    path = write(tmp_path, ":61:240105D25,00NCHGNONREF\n:86:SMS alert charges\n"
                 ":61:240106C100,00NTRFINV7\n:86:UPWORK ESCROW INC", "1075,00")
    rows = parse(path).rows
    assert rows["kind"].cast(str).to_list() == ["bank_fee", "transfer"]
    assert rows["ref"].to_list() == [None, "INV7"]
    assert set(rows["account"]) == {"mt940:6702-dfba99"}
    broken = write(tmp_path, ":61:240105D25,00NCHGNONREF", "1000,00", name="b.sta")
    with pytest.raises(DataError, match=r"closing balance 1000.00 is not the opening") as err:
        parse(broken)
    assert err.value.line == 6


def test_bad_balance_line_names_its_line(tmp_path):
    path = write(tmp_path, ":61:240105D25,00NCHGNONREF", "975.00")
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.line, err.value.message) == (
        6, "balance line ':62F:C240131PKR975.00' does not follow the MT940 layout")


def test_ids_stable_when_a_later_export_overlaps(tmp_path):
    a = write(tmp_path, ":61:240105D25,00NCHGNONREF\n:86:fee", "975,00", name="a.sta")
    b = write(tmp_path, ":61:240105D25,00NCHGNONREF\n:86:fee\n:61:240107C5,00NTRFNONREF\n:86:x",
              "980,00", name="b.sta")
    assert parse(a).rows["id"][0] == parse(b).rows["id"][0]


def test_ing_wrapped_fields_are_read_and_lines_kept(tmp_path):
    """ING NL wraps at a fixed width: `:28C:0000` / `0`, a :61: bank reference and its
    `/TRCD/` details over several lines; rows keep the lines of the file as written."""
    path = tmp_path / "ing.940"
    path.write_text(STATEMENT.replace(":28C:1/1", ":28C:0000\n0").format(
        lines=":61:2401050105C1,56NTRFEREF//00000000001\n005\n/TRCD/010\n16\n/\n:86:X",
        closing="1001,56"))
    rows = parse(path).rows
    assert (rows["ref"].to_list(), rows["line"].to_list()) == (["00000000001005"], [6])


def test_unreadable_field_names_its_own_line(tmp_path):
    """The library's complaint points at the field's line, not at the first line that happens
    to hold the same text (here `S1` of the :20: line)."""
    path = tmp_path / "s.sta"
    path.write_text(STATEMENT.replace(":28C:1/1", ":28C:S1").format(
        lines=":61:240105D25,00NCHGNONREF", closing="975,00"))
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.line, err.value.message) == (3, "the :28: field 'S1' could not be read")
