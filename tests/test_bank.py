"""Bank statements by TOML profile: broken files with their exact messages, profile checks,
user profiles, the SBI number re-joining, the XLSX reader, the starter profile and stable ids.
The golden rows are in tests/data/bank/ (run by test_golden_imports.py)."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal
from xml.sax.saxutils import escape

import pytest

from importers import bank, bank_profiles, bank_table, registry
from importers.profile_starter import starter_profile
from ledger.core.errors import DataError, UsageError
from tests.conftest import DATA
from tests.golden import assert_refused, parse, rows_as_json

BROKEN = DATA / "broken"
GOLDEN = DATA / "bank"
AMOUNT_HINT = "amounts must be numbers such as 1,234.56; fix or re-download"
BALANCE_HINT = "the file is truncated, edited or misread; download the export again"


# --- a minimal XLSX writer (no xlsx writer library is installed) ---------------------------

XLSX_PARTS = {
    "[Content_Types].xml": (
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/>'
        '<Override PartName="/xl/styles.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>'),
    "_rels/.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'),
    "xl/workbook.xml": (
        '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
        '<sheets><sheet name="OpTransactionHistory" sheetId="1" r:id="rId1"/></sheets>'
        '</workbook>'),
    "xl/_rels/workbook.xml.rels": (
        '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
        '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/worksheet" Target="worksheets/sheet1.xml"/>'
        '<Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/styles" Target="styles.xml"/></Relationships>'),
    "xl/styles.xml": (
        '<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        '<cellXfs count="2"><xf numFmtId="0"/><xf numFmtId="14" applyNumberFormat="1"/>'
        '</cellXfs></styleSheet>'),
}
"""Every part but the sheet: one sheet, and style 1 = a date format (for real date cells)."""


def _cell_ref(row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{letters}{row}"


def xlsx_bytes(rows: list[list]) -> bytes:
    """A one-sheet XLSX: str -> inline text, int/Decimal -> number, date -> date cell.

    Stored uncompressed with fixed timestamps, so the same rows always give the same bytes.
    """
    sheet_rows = []
    for r, row in enumerate(rows, 1):
        cells = []
        for c, value in enumerate(row):
            ref = _cell_ref(r, c)
            if value is None or value == "":
                continue
            if isinstance(value, dt.date):
                serial = (value - dt.date(1899, 12, 30)).days
                cells.append(f'<c r="{ref}" s="1"><v>{serial}</v></c>')
            elif isinstance(value, int | Decimal):
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
            else:
                cells.append(f'<c r="{ref}" t="inlineStr"><is><t xml:space="preserve">'
                             f'{escape(value)}</t></is></c>')
        sheet_rows.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet = ('<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
             f'<sheetData>{"".join(sheet_rows)}</sheetData></worksheet>')
    parts = {**XLSX_PARTS, "xl/worksheets/sheet1.xml": sheet}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, xml in parts.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            archive.writestr(info, '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
                             + xml)
    return buffer.getvalue()


ICICI_HEADER = ["S No.", "Value Date", "Transaction Date", "Cheque Number",
                "Transaction Remarks", "Withdrawal Amount (INR )", "Deposit Amount (INR )",
                "Balance (INR )"]
ICICI_ROWS = [
    [None, "DETAILED STATEMENT"],
    [],
    [None, "Transactions List - ASIF KHAN (INR) - XXXXXXXX1234"],
    [None, "Transaction Date from 01/05/2024 to 31/05/2024"],
    [],
    [None, *ICICI_HEADER],
    [None, 1, "02/05/2024", "02/05/2024", "-", "MMT/IMPS/412312345678/PAYONEER INC/CITI",
     0, Decimal("98500.25"), Decimal("110500.25")],
    [None, 2, "06/05/2024", "06/05/2024", "-",
     "UPI/412698765432/Payment from Ph/zomato@hdfc/HDFC BANK", Decimal("649.5"), 0,
     Decimal("109850.75")],
    [None, 3, dt.date(2024, 5, 11), "10/05/2024", "000123", "CLG/FREELANCE CLIENT LLP/000123",
     0, 15000, Decimal("124850.75")],
    [None, 4, "15/05/2024", "15/05/2024", "-", "ATM/CASH WDL/15-05-24/MUMBAI", 3000, 0,
     Decimal("121850.75")],
    [None, 5, "31/05/2024", "31/05/2024", "-", "Debit Card Annual Fee", 499, 0,
     Decimal("121351.75")],
    [None, 6, "31/05/2024", "31/05/2024", "-", "GST on Debit Card Annual Fee",
     Decimal("89.82"), 0, Decimal("121261.93")],
    [],
    [None, "Legends Used in Account Statement"],
    [None, "BIL - Internet Banking Bill Payment; MMT - IMPS Transfer"],
]
"""The ICICI golden (tests/data/bank/icici.xlsx): a date cell, numbers, a Legends footer."""


def test_icici_golden_xlsx_is_the_generated_one():
    """tests/data/bank/icici.xlsx is exactly what xlsx_bytes(ICICI_ROWS) writes."""
    assert (GOLDEN / "icici.xlsx").read_bytes() == xlsx_bytes(ICICI_ROWS)


# --- broken files ----------------------------------------------------------------------------

BROKEN_CASES = {
    "bank-bad-date.csv": (None,
        "5: date '31/04/24' is not a date in the expected form (28/06/24, 28/06/2024)\n"
        "  hint: hdfc.toml expects date_format %d/%m/%y or %d/%m/%Y; if the bank writes dates "
        "differently, edit the profile"),
    "bank-two-digit-year.csv": (None,
        "4: date '07-Jun-24' is not a date in the expected form (28-Jun-2024)\n"
        "  hint: idfc.toml expects date_format %d-%b-%Y; if the bank writes dates "
        "differently, edit the profile"),
    # (was "date 'Tran Date' is not a date...", with a hint to edit the profile's dates)
    "bank-page-header.csv": (None,
        "5: this row repeats the header (line 3): two exports pasted into one file, or a "
        "page's header\n  hint: import each export on its own, as downloaded (rows two "
        "exports share are added once), or delete this line"),
    "bank-bad-number.csv": (None,
        f"4: Amount(INR) '90,0OO.00' is not a number\n  hint: {AMOUNT_HINT}"),
    "bank-bad-marker.csv": (None,
        "3: DR|CR 'DB' is neither a debit (dr) nor a credit (cr) marker\n"
        "  hint: add it to debit_markers or credit_markers in axis-drcr.toml"),
    "bank-wrong-columns.csv": ("bank:hdfc",
        "1: no header row with Date, Narration, Chq./Ref.No., Value Dt, Withdrawal Amt., "
        "Deposit Amt., Closing Balance in the first 50 lines\n"
        "  hint: this is not a HDFC Bank statement (netbanking CSV: Date, Narration, "
        "Chq./Ref.No., ...) export, or the bank changed its layout; run `ledger formats` to "
        "see what each format expects, or edit hdfc.toml"),
    "bank-balance-break.csv": (None,
        "6: balance 54870.0000 does not follow from line 5 (expected -5130.0000: "
        f"previous balance + amount)\n  hint: {BALANCE_HINT}"),
    "bank-both-amounts.csv": (None,
        "3: both 'Debit' and 'Credit' have an amount\n  hint: a row is either money out or "
        "money in; the columns may be shifted: check the file is the original export"),
    "bank-sbi-ragged.csv": (None,
        "3: row has 9 cells, more than the header's 8\n"
        "  hint: the file looks truncated or edited; download the export again"),
    "bank-split-exceeds.CSV": (None,
        "3: the amounts named in the description add up to more than the row's amount\n"
        "  hint: check [[split]] in meezan.toml"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    source, message = BROKEN_CASES[name]
    assert_refused(name, message, source=source)


def test_every_bank_broken_file_is_tested():
    assert {p.name for p in BROKEN.glob("bank-*")} == set(BROKEN_CASES)


def test_wrong_columns_are_not_detected_as_a_bank():
    with pytest.raises(DataError, match="unknown layout"):
        parse(BROKEN / "bank-wrong-columns.csv")


def test_date_format_that_does_not_fit(tmp_path):
    """A user's profile with month-first dates on a day-first file stops at the first day > 12
    (earlier rows such as 03/02 would have been read as March: check a profile on a month)."""
    text = (bank.PROFILES_DIR / "meezan.toml").read_text()
    (tmp_path / "meezan.toml").write_text(text.replace('date_format = "%d/%m/%Y"',
                                                       'date_format = "%m/%d/%Y"'))
    path = GOLDEN / "AccountFullStatement.CSV"
    with pytest.raises(DataError) as err:
        parse(path, profile_dirs=[tmp_path])
    assert str(err.value) == (
        f"{path}:6: date '20/06/2025' is not a date in the expected form (06/28/2024)\n"
        "  hint: meezan.toml expects date_format %m/%d/%Y; if the bank writes dates "
        "differently, edit the profile")


def test_unreadable_spreadsheet(tmp_path):
    path = tmp_path / "OpTransactionHistory.xlsx"
    path.write_bytes(b"PK\x03\x04" + b"\x00" * 64)
    with pytest.raises(DataError) as err:
        parse(path, source="bank:icici")
    assert str(err.value).startswith(f"{path}: cannot read as a spreadsheet: ")
    assert err.value.hint == ("open it in a spreadsheet program and save it again as .xlsx, "
                              "or export the statement as CSV")


# --- profiles --------------------------------------------------------------------------------

GOOD = """
name = "hbl"
title = "HBL statement"
currency = "PKR"
[detect]
header = ["Date", "Details", "Withdrawals", "Deposits", "Balance"]
preamble = "Habib Bank"
[columns]
date = "Date"
description = "Details"
debit = "Withdrawals"
credit = "Deposits"
balance = "Balance"
[values]
date_format = "%d-%m-%Y"
[[kinds]]
match = "fiverr"
sign = "credit"
kind = "transfer"
category = "receipt"
"""

HBL = """Habib Bank Limited
Account,01234567890123
Date,Details,Withdrawals,Deposits,Balance
01-03-2025,Opening,,,"1,000.00"
05-03-2025,IBFT FIVERR INTL,,"20,000.00","21,000.00"
06-03-2025,Excise Duty,15.00,,"20,985.00"
"""

BAD_PROFILES = {
    'name = "HBL"': "name 'HBL' must be lower-case letters, digits, '-' or '_'",
    'currency = "Rupees"': "currency 'Rupees' is not an ISO 4217 code such as PKR",
    'debit = "Withdrawals"': "[columns] needs either amount (with an optional marker) or both "
                             "debit and credit",
    'description = "Details"': "[columns] description is required",
    'balance = "Balance"': "[columns] balance = 'Saldo' is not in [detect] header",
    'date_format = "%d-%m-%Y"': "[values] date_format lists both '%d-%m-%Y' and '%m-%d-%Y': a "
                                "date such as 03/04/2024 would be read either way; keep the "
                                "bank's one",
    'kind = "transfer"': "[[kinds]] #1 kind 'income' is not one of: earning, refund, "
                         "platform_fee, payment_fee, fx, bank_fee, tax, transfer, "
                         "subcontractor_payout, expense, adjustment, other",
    'match = "fiverr"': "[[kinds]] #1 match '(?<=IBFT )fiverr' is not a usable regex: ",
    'preamble = "Habib Bank"': "unknown key 'preambel' in [detect]",
}
REPLACEMENTS = {
    'name = "HBL"': 'name = "HBL"',
    'currency = "Rupees"': 'currency = "Rupees"',
    'debit = "Withdrawals"': 'amount = "Withdrawals"',
    'description = "Details"': '',
    'balance = "Balance"': 'balance = "Saldo"',
    'date_format = "%d-%m-%Y"': 'date_format = ["%d-%m-%Y", "%m-%d-%Y"]',
    'kind = "transfer"': 'kind = "income"',
    'match = "fiverr"': 'match = "(?<=IBFT )fiverr"',
    'preamble = "Habib Bank"': 'preambel = "Habib Bank"',
}


@pytest.mark.parametrize("key", sorted(BAD_PROFILES))
def test_bad_profile_is_a_usage_error(tmp_path, key):
    text = GOOD.replace('name = "hbl"', 'name = "HBL"') if key == 'name = "HBL"' else GOOD
    text = text.replace('currency = "PKR"', REPLACEMENTS[key]) if "Rupees" in key else \
        text.replace(key, REPLACEMENTS[key])
    path = tmp_path / "hbl.toml"
    path.write_text(text)
    with pytest.raises(UsageError) as err:
        bank.load_profile(path)
    assert err.value.message.startswith("profile: " + BAD_PROFILES[key])
    assert err.value.path == str(path)
    assert err.value.exit_code == 2


def test_profile_that_is_not_toml(tmp_path):
    path = tmp_path / "broken.toml"
    path.write_text('name = "x"\ntitle = \n')
    with pytest.raises(UsageError) as err:
        bank.load_profile(path)
    assert err.value.line == 2
    assert str(err.value).startswith(f"{path}:2: profile is not valid TOML: ")


def test_every_bundled_profile_has_a_golden():
    detected = set()
    for path in GOLDEN.iterdir():
        if path.name.endswith(".json"):
            continue
        raw = registry.read(path)
        names = [f.name for f in registry.formats() if f.detect(raw)]
        assert len(names) == 1, (path.name, names)
        detected.add(names[0])
    assert detected == {f.name for f in bank.FORMATS}


# --- user profiles ---------------------------------------------------------------------------


def test_user_profile_is_detected_and_parsed(tmp_path):
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "hbl.toml").write_text(GOOD.replace("[read]", "") + "\n[read]\n"
                                       "skip_rows_matching = ['^opening$']\n")
    statement = tmp_path / "hbl-march.csv"
    statement.write_text(HBL)
    with pytest.raises(DataError, match="unknown layout"):
        parse(statement)
    parsed = parse(statement, profile_dirs=[profiles])
    assert parsed.format == "bank:hbl"
    got = [(r["date"], r["kind"], r["category"], r["amount"], r["account"], r["line"])
           for r in rows_as_json(parsed.rows)]
    assert got == [
        ("2025-03-05", "transfer", "receipt", "20000.0000", "bank:hbl", 5),
        ("2025-03-06", "tax", "gst", "-15.0000", "bank:hbl", 6),
    ]
    assert parsed.skipped == {
        "pseudo-rows such as opening/closing balance (skip_rows_matching)": 1}
    assert [f.name for f in bank.formats_from_dir(profiles)] == ["bank:hbl"]
    assert registry.by_name("bank:hbl", [profiles]).title == "HBL statement"


def test_user_profile_replaces_the_bundled_one(tmp_path):
    text = (bank.PROFILES_DIR / "hdfc.toml").read_text()
    (tmp_path / "my-hdfc.toml").write_text(text.replace('account = "bank:hdfc"',
                                                        'account = "bank:hdfc-joint"'))
    parsed = parse(GOLDEN / "hdfc.csv", profile_dirs=[tmp_path])
    assert set(parsed.rows["account"]) == {"bank:hdfc-joint"}
    assert [f.name for f in registry.formats([tmp_path])].count("bank:hdfc") == 1


def test_two_user_profiles_with_one_name(tmp_path):
    (tmp_path / "a.toml").write_text(GOOD)
    (tmp_path / "b.toml").write_text(GOOD)
    with pytest.raises(UsageError) as err:
        bank.formats_from_dir(tmp_path)
    assert str(err.value) == (f"{tmp_path / 'b.toml'}: profile name 'hbl' is also used by "
                              f"{tmp_path / 'a.toml'}\n  hint: give each profile its own name")


def test_missing_profiles_dir_adds_nothing(tmp_path):
    assert bank.formats_from_dir(tmp_path / "profiles") == []
    assert registry.formats([tmp_path / "profiles"]) == registry.formats()


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("cells", "joined"), [
    (["400.00", " ", "12", "857.63"], ["400.00", " ", "12,857.63"]),
    ([" ", "4", "912.50", "17", "750.13"], [" ", "4,912.50", "17,750.13"]),
    (["1", "770.00", " ", "15", "471.13"], ["1,770.00", " ", "15,471.13"]),
    ([" ", "1", "23", "456.78", "1", "84", "675.78"], [" ", "1,23,456.78", "1,84,675.78"]),
    (["1", "000.00", " ", "99", "000.00"], ["1,000.00", " ", "99,000.00"]),
])
def test_sbi_fragments_are_rejoined(cells, joined):
    fixed = ["5 Apr 2024", "5 Apr 2024", "TO TRANSFER", "REF", "99922"]
    width = len(fixed) + 3
    assert bank_table.rejoin(fixed + cells, width, len(fixed)) == fixed + joined


def test_spreadsheet_lines_are_sheet_rows():
    parsed = parse(GOLDEN / "icici.xlsx")
    assert parsed.rows["line"].to_list() == [7, 8, 9, 10, 11, 12]
    assert parsed.skipped == {"footer lines after the last transaction": 2}


def test_account_option_overrides_the_profile():
    parsed = parse(GOLDEN / "kotak.csv", account="bank:kotak-business")
    assert set(parsed.rows["account"]) == {"bank:kotak-business"}
    assert set(parsed.rows["source"]) == {"bank:kotak"}


def test_ids_are_stable_across_overlapping_exports(tmp_path):
    """The first rows of a statement, exported again on their own, get the same ids."""
    full = parse(GOLDEN / "AccountFullStatement.CSV").rows
    lines = (GOLDEN / "AccountFullStatement.CSV").read_text().splitlines(keepends=True)
    part = tmp_path / "AccountFullStatement.CSV"
    part.write_text("".join(lines[:8]))
    head = parse(part).rows
    assert head.height == 7
    assert head["id"].to_list() == full["id"].head(7).to_list()
    assert parse(GOLDEN / "AccountFullStatement.CSV").rows["id"].to_list() == \
        full["id"].to_list()


def test_meezan_charges_are_split_into_fee_and_tax():
    rows = rows_as_json(parse(GOLDEN / "AccountFullStatement.CSV").rows)
    line7 = [(r["kind"], r["category"], r["amount"], r["ref"], r["related_ref"])
             for r in rows if r["line"] == 7]
    assert line7 == [("bank_fee", "bank_charge", "-68.6900", None, "447959"),
                     ("tax", "wht_fbr", "-85.8600", None, "447959")]
    assert sum(Decimal(r["amount"]) for r in rows if r["line"] == 10) == Decimal("-40")


def test_meezan_charges_on_a_remittance_are_a_bank_charge_like_the_others():
    """The demo's PayPal remittance (28 June) comes with `CHG:PKR150.00 FBRTax:...`: the
    charge is the bank's (bank_charge, as the correspondent bank's charge of 28 May and every
    bank charge the common rules find), not a card's; nothing the parts leave is left over."""
    from ledger.core.demo import demo_dir

    rows = rows_as_json(parse(demo_dir() / "AccountFullStatement.CSV").rows)
    charged = [(r["kind"], r["category"], r["amount"], r["related_ref"])
               for r in rows if r["line"] == 16]
    assert charged == [("bank_fee", "bank_charge", "-150.0000", "583920"),
                       ("tax", "wht_fbr", "-213.1700", "583920")]
    (correspondent,) = [(r["kind"], r["category"]) for r in rows if r["line"] == 11]
    assert correspondent == ("bank_fee", "bank_charge")


# --- starter profile -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["idfc.csv", "kotak.csv", "axis.csv", "icici.xlsx"])
def test_starter_profile_parses_like_the_shipped_one(tmp_path, name):
    """The draft for a golden file, with only its name changed, gives the shipped rows."""
    shipped = parse(GOLDEN / name)
    draft = starter_profile(registry.read(GOLDEN / name))
    short = shipped.format.removeprefix("bank:")
    draft = re.sub(r'^name = "[^"]*"', f'name = "{short}"', draft, count=1, flags=re.M)
    (tmp_path / f"{short}.toml").write_text(draft)
    mine = parse(GOLDEN / name, profile_dirs=[tmp_path])
    assert rows_as_json(mine.rows) == rows_as_json(shipped.rows)


def test_starter_marks_what_it_cannot_tell(tmp_path):
    path = tmp_path / "statement.csv"
    path.write_text("Posting Date,Details,Debit,Credit,Balance\n"
                    "03/04/2024,Opening Balance,,,100.00\n"
                    "05/04/2024,CLIENT,,50.00,150.00\n")
    draft = starter_profile(registry.read(path))
    assert ('date_format = ["%d/%m/%Y"]  # TODO: dates such as \'03/04/2024\' could be '
            "day-first (%d/%m/%Y) or month-first (%m/%d/%Y); keep the bank's one") in draft
    assert 'currency = "USD"  # TODO: the account\'s currency' in draft
    assert "skip_rows_matching = ['opening balance']" in draft
    profile = bank_profiles.profile_from_data(__import__("tomllib").loads(draft), path)
    assert profile.col("description") == "details"


def test_starter_without_a_table(tmp_path):
    path = tmp_path / "notes.csv"
    path.write_text("just,some,text\n")
    with pytest.raises(DataError) as err:
        starter_profile(registry.read(path))
    assert str(err.value) == (
        f"{path}:1: no header row with a date column and amount, debit or credit columns in "
        "the first 50 lines\n  hint: open the file and check it is a statement table; the "
        "profile format is described at the top of importers/bank.py")


def test_value_dates_are_checked_where_they_differ_from_the_date(tmp_path):
    """A value date written as its row's date is not parsed again (it parsed as the date);
    one that differs is, and a bad one is refused at its line."""
    lines = (DATA / "bank" / "hdfc.csv").read_text().splitlines()
    body = lines.index(next(line for line in lines if line.startswith("Date,")))
    moved = lines[body + 2].replace(",03/04/24,", ",04/04/24,")
    good = tmp_path / "good.csv"
    good.write_text("\n".join([*lines[:body + 2], moved, *lines[body + 3:]]) + "\n")
    assert parse(good).rows.height == parse(DATA / "bank" / "hdfc.csv").rows.height
    bad = tmp_path / "bad.csv"
    bad.write_text("\n".join([*lines[:body + 2], moved.replace(",04/04/24,", ",31/04/24,"),
                              *lines[body + 3:]]) + "\n")
    with pytest.raises(DataError, match=rf":{body + 3}: value date '31/04/24' is not a date"):
        parse(bad)
