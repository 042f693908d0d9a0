"""The catalogue of broken inputs, run through the real `ledger` command.

Each case names its files (from tests/data/broken, copied into a temporary directory so paths
in messages are bare names), the arguments, the exit code (1 data, 2 usage) and the exact
stderr: `path:line: message` then `  hint: ...`, pointing at the line that is actually wrong.
No case may print a traceback, and a failed command must leave the ledger byte-identical.
"""

from __future__ import annotations

import re
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import snapshot
from tests.test_cli import BROKEN, demo_files, import_demo, ok, run, sha

ROWS_FOUND = "'Date', 'Ref ID', 'Type', 'Description', 'Agency', 'Freelancer', 'Team', " \
    "'Account Name', 'PO', 'Amount', 'Amount in local currency', 'Currency', 'Balance'"
TRUNCATED = "  hint: the file looks truncated or edited; download the export again\n"
NOT_A_NUMBER = "  hint: amounts must be numbers such as 1,234.56; fix or re-download\n"


@dataclass(frozen=True)
class Case:
    """One broken input: what to run, and exactly what the user must see."""

    id: str
    args: tuple[str, ...]
    code: int
    stderr: str
    """Exact stderr; `{formats}` stands for the registry's format names, `{imports}` for the
    seeded ledger's import id prefixes (both change as formats and demo files are added)."""
    files: tuple[str, ...] = ()
    """Files from tests/data/broken copied into the working directory."""
    into_ledger: tuple[tuple[str, str, str], ...] = ()
    """(broken file, name in the ledger directory, 'copy' or 'append') applied before running."""
    dirs: tuple[str, ...] = ()


def _import(name: str, *options: str, code: int = 1, stderr: str, id: str | None = None
            ) -> Case:
    return Case(id or Path(name).stem, ("import", *options, name), code, stderr, files=(name,))


NO_TABLE = "  hint: formats tried: {formats}. Force one with --source NAME, or run `ledger " \
    "formats` to see what each expects\n"
XML_REFUSED = ": refused: the XML declares a DTD or entities (DTDForbidden)\n  hint: bank " \
    "statements never need these; it may be an XML bomb or an attempt to read local files. " \
    "Export the statement again from the bank\n"

SOURCE_CASES = [
    # one or more per source beyond Upwork and PayPal, through the real command; each
    # importer's own tests hold the rest of its broken files
    _import("payoneer-wrong-columns.csv", stderr="payoneer-wrong-columns.csv:1: column "
            "'status' is missing\n  hint: columns found: 'Transaction Date', 'Transaction "
            "Time', 'Time Zone', 'Transaction ID', 'Description', 'Credit Amount', 'Debit "
            "Amount', 'Currency', 'Running Balance'\n"),
    # June re-saved day-first (en-GB/en-IN Excel), no day above 12: never read month-first
    _import("payoneer-ambiguous-dates.csv", stderr="payoneer-ambiguous-dates.csv:2: dates such "
            "as '03/06/2024' could be day-first or month-first\n  hint: say which: --date-order "
            "mdy for Payoneer's own export (month-first, 06/28/2024), --date-order dmy for a file "
            "re-saved in a day-first locale (28/06/2024)\n"),
    _import("wise-wrong-columns.csv", stderr="wise-wrong-columns.csv:1: column 'amount' is "
            "missing\n  hint: columns found: 'TransferWise ID', 'Date', 'Currency', "
            "'Description', 'Running Balance'\n"),
    _import("wise-history-bad-amount.csv", stderr="wise-history-bad-amount.csv:2: Source "
            "amount (after fees) '495.88 USD?' is not a number\n" + NOT_A_NUMBER),
    _import("fiverr-bad-amount.csv", stderr="fiverr-bad-amount.csv:3: amount '$8.O0' is not a "
            "number\n" + NOT_A_NUMBER),
    _import("freelancer-bad-date.csv", stderr="freelancer-bad-date.csv:3: date '31 Feb 2026 "
            "10:00' is not in the form '06 Jan 2026 23:52'\n  hint: check the file is the "
            "original export, not re-saved\n"),
    _import("ofx-bad-amount.ofx", stderr="ofx-bad-amount.ofx:18: TRNAMT '-12.4O' is not a "
            "number\n" + NOT_A_NUMBER),
    # camt.052 and other XML: not a camt.053 statement, and no bank-profile hint for XML
    _import("camt-billion-laughs.xml", stderr="camt-billion-laughs.xml" + XML_REFUSED),
    _import("camt-xxe.xml", stderr="camt-xxe.xml" + XML_REFUSED),
    _import("mt940-bad-line.sta", stderr="mt940-bad-line.sta:10: statement line "
            "':61:260510D51.57FMSCNONREF' does not follow the MT940 layout\n  hint: expected "
            ":61:YYMMDD[MMDD]C|D amount,decimals type code (e.g. :61:2406030603C250,00NTRFNONREF)"
            "; the file is damaged\n"),
    _import("bank-bad-number.csv", stderr="bank-bad-number.csv:4: Amount(INR) '90,0OO.00' is "
            "not a number\n" + NOT_A_NUMBER),
    # an HDFC statement whose columns were renamed: no profile recognises it...
    _import("bank-wrong-columns.csv", stderr="bank-wrong-columns.csv:1: unknown layout (first "
            "line: 'HDFC BANK Ltd.,,,,,')\n  hint: formats tried: {formats}. Force one with "
            "--source NAME, or run `ledger formats` to see what each expects. A bank statement? "
            "Add a profile: `ledger formats new bank-wrong-columns.csv` drafts one, edit its "
            "TODOs, then import again\n"),
    # ... and forced through the HDFC profile it has the wrong columns
    _import("bank-wrong-columns.csv", "--source", "bank:hdfc", id="bank-wrong-columns-forced",
            stderr="bank-wrong-columns.csv:1: no header row with Date, Narration, Chq./Ref.No., "
            "Value Dt, Withdrawal Amt., Deposit Amt., Closing Balance in the first 50 lines\n"
            "  hint: this is not a HDFC Bank statement (netbanking CSV: Date, Narration, "
            "Chq./Ref.No., ...) export, or the bank changed its layout; run `ledger formats` to "
            "see what each format expects, or edit hdfc.toml\n"),
    # the user's own profile (in led/profiles/) says month-first; the bank writes day-first
    Case("profile-date-misfit", ("import", "profile-date-misfit.csv"), 1,
         "profile-date-misfit.csv:7: date '13/03/2025' is not a date in the expected form "
         "(06/28/2024)\n  hint: sadapay.toml expects date_format %m/%d/%Y; if the bank writes "
         "dates differently, edit the profile\n", files=("profile-date-misfit.csv",),
         into_ledger=(("profile-date-misfit.toml", "profiles/sadapay.toml", "copy"),)),
    # a misspelt key in the user's profile stops every import (usage error) until fixed
    Case("profile-bad-key", ("import", "profile-date-misfit.csv"), 2,
         "led/profiles/sadapay.toml: profile: unknown key 'date_fromat' in [values]\n  hint: see "
         "the profile format at the top of importers/bank.py or a bundled profile in "
         "importers/profiles/\n", files=("profile-date-misfit.csv",),
         into_ledger=(("profile-bad-key.toml", "profiles/sadapay.toml", "copy"),)),
]

LOCALE_HINT = ("  hint: use a language_TERRITORY code, e.g. en_US (123,456.78), en_IN "
               "(1,23,456.78), en_PK (123,456.78), de_DE (123.456,78), fr_FR "
               "(123\u202f456,78)\n")

CASES = [
    _import("empty.csv", stderr="empty.csv: the file is empty\n"
            "  hint: download the export again; it holds no bytes\n"),
    _import("blank-lines.csv", stderr="blank-lines.csv: the file is empty\n"
            "  hint: download the export again; it holds no bytes\n"),
    _import("unknown-layout.csv", stderr="unknown-layout.csv:1: unknown layout (first line: "
            "'name,email,phone')\n  hint: formats tried: {formats}. Force one with --source "
            "NAME, or run `ledger formats` to see what each expects. A bank statement? Add a "
            "profile: `ledger formats new unknown-layout.csv` drafts one, edit its TODOs, then "
            "import again\n"),
    _import("two-formats.csv", stderr="two-formats.csv: the file matches more than one format: "
            "upwork-2024 and paypal\n  hint: choose one with --source (upwork-2024 or paypal)\n"),
    _import("truncated-row-upwork.csv", stderr="truncated-row-upwork.csv:5: row has 4 cells, "
            "fewer than the header's 13\n" + TRUNCATED),
    _import("truncated-quote-upwork.csv", stderr="truncated-quote-upwork.csv:5: row has 1 "
            "cells, fewer than the header's 13\n" + TRUNCATED),
    _import("bad-amount-paypal.csv", stderr="bad-amount-paypal.csv:3: Gross '4O0.00' is not a "
            "number\n" + NOT_A_NUMBER),
    # a quoted description spans lines 3-4, so the bad amount's row starts on physical line 6
    _import("multiline-bad-amount-upwork.csv", stderr="multiline-bad-amount-upwork.csv:6: "
            "amount '-25O.00' is not a number\n" + NOT_A_NUMBER),
    _import("crlf-bad-amount-upwork.csv", stderr="crlf-bad-amount-upwork.csv:6: amount "
            "'-25O.00' is not a number\n" + NOT_A_NUMBER),
    _import("bad-date-upwork.csv", stderr="bad-date-upwork.csv:5: date 'Apr 31, 2024' is not a "
            "date in the expected form (Jun 28, 2024, 2024-06-28, June 28, 2024)\n"
            "  hint: check the file is the original export, not re-saved\n"),
    _import("undecodable-bytes.csv", stderr="undecodable-bytes.csv:3: byte 0x81 cannot be read "
            "as UTF-8, UTF-16 or Windows-1252 text\n  hint: the file may be damaged or not a "
            "CSV export; download it again or save it as UTF-8\n"),
    _import("binary.png", stderr="binary.png: this is a binary file, not a text export\n"
            "  hint: export the statement as CSV and import that\n"),
    _import("binary.png", "--source", "upwork", id="binary-forced-source",
            stderr="binary.png: this is a binary file, not a text export\n  hint: export the "
            "statement as CSV (or XLSX/OFX where supported) and import that\n"),
    _import("bad-date-upwork.csv", "--source", "paypal", id="wrong-forced-source",
            stderr=f"bad-date-upwork.csv:1: column 'gross' is missing\n"
            f"  hint: columns found: {ROWS_FOUND}\n"),
    Case("directory", ("import", "a-folder"), 1, "a-folder: is a directory, not an export "
         "file\n  hint: import the files inside it, e.g. ledger import a-folder/*\n",
         dirs=("a-folder",)),
    Case("missing-path", ("import", "nope.csv"), 1,
         "nope.csv: no such file\n  hint: check the path and try again\n"),
    _import("unknown-status-paypal.csv", stderr="unknown-status-paypal.csv:3: unknown PayPal "
            "status 'Queued For Audit'\n  hint: known statuses: Completed, Pending, Denied, "
            "Refunded, Reversed, Canceled... Please report this status so it can be mapped; "
            "meanwhile remove the row\n"),
    # (the line of the first date that reads two ways: the walkthrough found none named)
    _import("ambiguous-date-paypal.csv", stderr="ambiguous-date-paypal.csv:2: dates such as "
            "'05/06/2024' could be day-first or month-first\n  hint: say which with "
            "--date-order dmy (28/06/2024) or --date-order mdy (06/28/2024)\n"),
    _import("ambiguous-decimal-paypal.csv", stderr="ambiguous-decimal-paypal.csv: numbers "
            "such as '1,500' could use either mark for decimals\n"
            "  hint: say which with --decimal-mark . or --decimal-mark ,\n"),
    # line 4's amount was edited: its balance no longer follows from line 5's
    _import("balance-break-upwork.csv", stderr="balance-break-upwork.csv:4: balance 81.6800 "
            "does not follow from line 5 (expected 72.6800: previous balance + "
            "amount)\n  hint: the file is truncated, edited or misread; download the export "
            "again\n"),
    _import("net-mismatch-paypal.csv", stderr="net-mismatch-paypal.csv:3: Net '392.05' is not "
            "Gross '400.00' + Fee '-17.95'\n  hint: the numbers were misread or edited; if the "
            "file uses a decimal comma, pass --decimal-mark ,\n"),
    # ledger files
    Case("bad-rates", ("report", "--currency", "PKR"), 1, "led/rates.csv:5: bad rate row (date "
         "'22/04/2024', rate '278.30')\n  hint: each row is YYYY-MM-DD,FROM,TO,RATE with a "
         "positive rate, e.g. 2024-06-03,USD,PKR,278.45\n",
         into_ledger=(("bad-rates.csv", "rates.csv", "copy"),)),
    # No bundled reference has the Bhutanese ngultrum; June's first USD rows are the two
    # Jun 3 rows, lines 15-16 of the June Upwork export
    Case("missing-rate", ("report", "--currency", "BTN"), 1, "led/rates.csv: no USD->BTN rate "
         "for 2024-06-03 (needed for 2 row(s), first from upwork line 15)\n  hint: add a line "
         "`2024-06-03,USD,BTN,RATE` to rates.csv in the ledger directory, or report in USD "
         "with --currency USD\n"),
    Case("bad-config", ("report",), 2, "led/ledger.toml: invalid TOML: Invalid value (at line "
         "1, column 17)\n  hint: fix the syntax; see README for the settings\n",
         into_ledger=(("bad-config.toml", "ledger.toml", "copy"),)),
    # the last entry's bytes damaged in place (text appended after a commit is not read at all:
    # no ledger file vouches for it, see Ledger.committed_log)
    Case("damaged-log", ("imports",), 1, f"led/imports.jsonl:{len(demo_files())}: damaged "
         "import log entry\n"
         "  hint: remove the damaged line, then run `ledger rebuild`\n",
         into_ledger=(("damaged-log-line.jsonl", "imports.jsonl", "damage-last-line"),)),
    # usage
    Case("month-13", ("report", "--month", "2024-13"), 2,
         "error: --month '2024-13' is not YYYY-MM\n  hint: e.g. --month 2024-06\n"),
    Case("bad-from", ("report", "--from", "2024-06-31"), 2,
         "error: --from '2024-06-31' is not a date YYYY-MM-DD\n"),
    Case("two-periods", ("report", "--month", "2024-06", "--year", "2024"), 2,
         "error: choose one of --month, --year or --from/--to\n"),
    Case("unknown-currency", ("report", "--currency", "XYZ"), 2,
         "error: unknown currency 'XYZ'\n  hint: use an ISO 4217 code, e.g. PKR\n"),
    Case("bad-report-format", ("report", "--format", "xml"), 2,
         "Usage: ledger report [OPTIONS]\nTry 'ledger report --help' for help.\n\n"
         "Error: Invalid value for '--format': Value error, 'xml' is not one of 'table', "
         "'json', 'csv', 'html'.\n"),
    _import("balance-break-upwork.csv", "--date-order", "xyz", code=2, id="date-order-xyz",
            stderr="error: --date-order must be dmy or mdy, not 'xyz'\n"),
    _import("balance-break-upwork.csv", "--decimal-mark", ";", code=2, id="decimal-mark-semicolon",
            stderr="error: --decimal-mark must be '.' or ',', not ';'\n"),
    _import("balance-break-upwork.csv", "--source", "nosuch", code=2, id="unknown-source",
            stderr="error: unknown source 'nosuch'\n  hint: known sources: {formats}\n"),
    Case("no-paths", ("import",), 2, "Usage: ledger import [OPTIONS] PATHS...\nTry 'ledger "
         "import --help' for help.\n\nError: Missing argument 'PATHS...'.\n"),
    Case("unknown-kind", ("transactions", "--kind", "nosuch"), 2, "error: unknown kind(s) "
         "['nosuch']\n  hint: kinds: earning, refund, platform_fee, payment_fee, fx, bank_fee, "
         "tax, transfer, subcontractor_payout, expense, adjustment, other\n"),
    Case("undo-unknown-id", ("undo", "zzz"), 2, "led/imports.jsonl: 'zzz' is not an import in "
         "effect\n  hint: imports in effect: {imports} (see `ledger imports`)\n"),
    *SOURCE_CASES,
    # --- session 45: exports that went through a spreadsheet before the import ---
    # dates re-saved with two-digit years: a `%Y` read '24' as the year 24 (imported as
    # 0024-06-28, exit 0); now refused as the bank profiles refuse them
    _import("two-digit-year-paypal.csv", stderr="two-digit-year-paypal.csv:2: date '28/06/24' "
            "is not a date in the expected form (28/06/2024)\n  hint: check the file is the "
            "original export, not re-saved\n"),
    _import("two-digit-year-wise.csv", stderr="two-digit-year-wise.csv:2: date '21-02-23' is "
            "not a date in the expected form (28-06-2024)\n  hint: Wise statements write dates "
            "as DD-MM-YYYY; use the original CSV\n"),
    _import("two-digit-year-freelancer.csv", "--source", "freelancer", stderr="two-digit-year-"
            "freelancer.csv:2: date '15 Dec 25 18:09' is not in the form '06 Jan 2026 23:52'\n"
            "  hint: check the file is the original export, not re-saved\n"),
    # two exports pasted into one file (was: date 'Date' is not a date in the expected form)
    _import("two-exports-upwork.csv", stderr="two-exports-upwork.csv:5: this row repeats the "
            "header (line 1): two exports pasted into one file, or a page's header\n  hint: "
            "import each export on its own, as downloaded (rows two exports share are added "
            "once), or delete this line\n"),
    # the rows pasted again without their header: Payoneer numbers a repeated id, and the
    # balances follow (the rows start and end at 0.00), so they were added twice, exit 0
    _import("two-exports-payoneer.csv", stderr="two-exports-payoneer.csv:4: this row repeats "
            "line 2 (Transaction ID 3057719204, 150.00 USD, running balance 150.00): the money "
            "would be counted twice\n  hint: two exports pasted into one file? Import each "
            "export on its own, as downloaded (rows two exports share are added once), or "
            "delete the repeated rows\n"),
    # a spreadsheet's sum under the table (was: date 'Total' is not a date ...)
    _import("total-row-paypal.csv", stderr="total-row-paypal.csv:4: this is a totals row, not a "
            "transaction\n  hint: delete the row (a spreadsheet program or its user added it), "
            "or import the export as downloaded\n"),
    # (were: unknown layout (first line: ''), with a hint to draft a bank profile; a binary
    # file, export the statement as CSV; unknown layout quoting Upwork's own header)
    _import("exports.zip", stderr="exports.zip: this is a zip archive (statements_2024-04-01_"
            "2024-04-30.csv, payoneer_transactions_2024-06.csv), not an export\n  hint: unzip it "
            "and import the files inside, e.g. ledger import folder/*.csv\n"),
    _import("payoneer.csv.gz", stderr="payoneer.csv.gz: this is a compressed (gzip) file, not an "
            "export\n  hint: decompress it (gunzip) and import the file inside\n"),
    _import("resaved-upwork.xlsx", stderr="resaved-upwork.xlsx: a spreadsheet, but its rows are an "
            "Upwork transaction history (classic 13 columns): that format is read from its CSV "
            "file, not from a spreadsheet\n  hint: import the CSV as downloaded (a spreadsheet "
            "program re-writes its dates and numbers when it saves; download it again if "
            "needed)\n"),
    # (were: unknown layout quoting Upwork's header in quotes; a binary file)
    _import("one-cell-rows-upwork.csv", stderr="one-cell-rows-upwork.csv:1: each row is one "
            "quoted cell holding an Upwork transaction history (classic 13 columns) row: a "
            "spreadsheet put every row in one column and saved it\n  hint: import the export as "
            "downloaded (download it again if needed)\n"),
    _import("utf16-no-bom-paypal.csv", stderr="utf16-no-bom-paypal.csv: this is UTF-16 text "
            "without its byte-order mark\n  hint: save it again as CSV UTF-8 (or as Unicode "
            "Text, which writes the mark), or export it again\n"),
    # an HDFC statement re-saved where `1.234,56` is the number format: the flag that reads it
    # is named (was: amounts must be numbers such as 1,234.56; fix or re-download)
    _import("resaved-decimal-comma-hdfc.csv", stderr="resaved-decimal-comma-hdfc.csv:10: "
            "Withdrawal Amt. '15.000,00' is not a number\n  hint: it reads as a number written "
            "with a decimal comma (1.234,56), as a spreadsheet in such a locale re-saves an "
            "export: import the file with --decimal-mark , if all of it is written so, or the "
            "export as downloaded\n"),
    # the same statement with its long references shortened by the spreadsheet: imported, its
    # rows' keys differed from the original's (4 rows added twice over an import of hdfc.csv)
    _import("resaved-refs-hdfc.csv", stderr="resaved-refs-hdfc.csv:10: Chq./Ref.No. "
            "'4.09412E+11' is a long number a spreadsheet shortened: the reference is lost\n"
            "  hint: import the statement as downloaded (a spreadsheet program writes long "
            "numbers as 4.09412E+11 when it saves)\n"),
    # --- issue 24: hostile files ---
    # a device (or a FIFO) is refused before any read: /dev/zero never ends, a FIFO blocks
    Case("import-device", ("import", "/dev/null"), 1, "/dev/null: not a regular file (a pipe, "
         "device or socket): not read\n  hint: give the file itself, saved on disk\n"),
    Case("batch-key-file-device", ("batch", "in", "--out", "out", "--key-file", "/dev/null"), 2,
         "/dev/null: the key file is not a regular file (a pipe, device or socket)\n  hint: "
         "give a file path, e.g. --key-file ./batch.key\n", dirs=("in",)),
    # 1.6 KB with one cell at XFD1048576: fastexcel would allocate 17 billion cells and abort
    _import("sheet-far-cell.xlsx", stderr="sheet-far-cell.xlsx: the sheet is too large: it "
            "reaches column 16,384, more than the 1,000 ledger reads\n  hint: open it in a "
            "spreadsheet program, delete what lies beyond the statement's table and save it "
            "again, or export the statement as CSV\n"),
    # --- issue 16: real exports ---
    _import("mt940-unreadable-field.sta", stderr="mt940-unreadable-field.sta:5: the :61: field "
            "'2406030603D' could not be read\n  hint: the file is damaged or not an MT940 "
            "statement; if your bank wrote it this way, please report it\n"),
    _import("ofx-unclosed-stmttrn.ofx", stderr="ofx-unclosed-stmttrn.ofx:11: <STMTTRN> opened 3 "
            "time(s) but closed 1: the element begun here is not closed\n  hint: the file is "
            "truncated or was edited; an OFX aggregate such as <STMTTRN> needs its </STMTTRN>\n"),
    _import("ofx-server-error.ofx", stderr="ofx-server-error.ofx:6: the bank's server answered "
            "with an error, not a statement: Your password was incorrect\n  hint: download the "
            "statement again from the bank's website\n"),
    _import("ofx-balances-only.ofx", stderr="ofx-balances-only.ofx: the statements in this OFX "
            "file hold balances only, no transaction list\n  hint: download the statement with "
            "its transactions (a date range) instead of the balance\n"),
    _import("ofx-no-currency.ofx", stderr="ofx-no-currency.ofx:10: the transaction's currency is "
            "not given: its statement has no <CURDEF> and the transaction no <CURRENCY>\n  hint: "
            "the exporting program left the currency out; add <CURDEF>USD</CURDEF> (your "
            "account's currency) after <STMTRS>\n"),
    # --- issue 24: paths, amounts, config ---
    _import("huge-amount-upwork.csv", stderr="huge-amount-upwork.csv:3: amount "
            "100000000000000000000000000 is too large: the ledger holds amounts below "
            "1,000,000,000,000,000 (10^15)\n  hint: the value is misread or damaged; fix it in "
            "the file or download the export again\n"),
    Case("year-99999", ("report", "--year", "99999"), 2, "error: --year 99999 is out of range: "
         "years run from 1900 to 9998\n  hint: e.g. --year 2024 or --month 2024-06\n"),
    Case("year-minus-5", ("report", "--year", "-5"), 2, "error: --year -5 is out of range: "
         "years run from 1900 to 9998\n  hint: e.g. --year 2024 or --month 2024-06\n"),
    Case("year-0", ("report", "--year", "0"), 2, "error: --year 0 is out of range: "
         "years run from 1900 to 9998\n  hint: e.g. --year 2024 or --month 2024-06\n"),
    Case("month-9999-12", ("report", "--month", "9999-12"), 2, "error: --month 9999-12 is out "
         "of range: years run from 1900 to 9998\n  hint: e.g. --year 2024 or --month 2024-06\n"),
    Case("to-9999-12-31", ("report", "--from", "2024-01-01", "--to", "9999-12-31"), 2,
         "error: --to 9999-12-31 is out of range: years run from 1900 to 9998\n"
         "  hint: e.g. --year 2024 or --month 2024-06\n"),
    Case("quote-1e308", ("quote", "1e308", "USD", "--route", "upwork,bank", "--to", "PKR"), 2,
         "error: AMOUNT '1e308' is too large: the limit is 10^15 (1,000,000,000,000,000)\n"
         "  hint: e.g. 1000 or 1000.50\n"),
    Case("quote-date-9999", ("quote", "5", "USD", "--route", "upwork,bank", "--to", "PKR",
                             "--date", "9999-12-31"), 2, "error: --date 9999-12-31 is out of "
         "range: years run from 1900 to 9998\n  hint: e.g. --date 2024-06-03\n"),
    Case("home-currency-number", ("report",), 2, "led/ledger.toml: home_currency = 5 is not "
         "text\n  hint: write it in quotes, e.g. home_currency = \"PKR\"\n",
         into_ledger=(("home-currency-number.toml", "ledger.toml", "copy"),)),
    # --- issue 22: the panel for every stats package (ledger batch --also) ---
    Case("batch-also-unknown", ("batch", "in", "--out", "out", "--also", "csv,xlsx"), 2,
         "error: --also 'xlsx': not a format ledger batch writes\n  hint: --also takes a "
         "comma-separated list of: csv, dta (e.g. --also csv,dta); the panel itself is always "
         "Parquet\n", dirs=("in",)),
    # --- issue 22 (engine): the private map stays outside the shared output; no URLs ---
    Case("batch-map-inside-out", ("batch", "in", "--out", "out", "--map", "out/map.csv"), 2,
         "out/map.csv: the map file is inside the output folder\n  hint: write it outside "
         "--out, e.g. --map ./batch-map.csv next to the key: it names every worker's folder "
         "and file\n", dirs=("in",)),
    Case("batch-out-url", ("batch", "in", "--out", "s3://bucket/panel"), 2,
         "s3:/bucket/panel: remote URLs are not read directly\n  hint: mount the storage as "
         "a folder that this machine and every Dask worker see under the same path (NFS, a "
         "mounted bucket)\n", dirs=("in",)),
    # --- issue 19 items 4 and 5: locale, consistent answers ---
    Case("locale-unknown", ("transactions", "--limit", "1"), 2,
         'led/ledger.toml: locale = "xx_YY": not a locale CLDR knows\n' + LOCALE_HINT,
         into_ledger=(("locale-unknown.toml", "ledger.toml", "copy"),)),
    Case("init-locale-unknown", ("init", "--currency", "INR", "--locale", "xx_YY"), 2,
         "error: --locale xx_YY: not a locale CLDR knows\n" + LOCALE_HINT),
    Case("source-unknown", ("transactions", "--source", "Fiverr"), 2, "error: no rows from "
         "source(s) Fiverr in this ledger\n  hint: sources: bank, bank:meezan, payoneer, "
         "paypal, upwork\n"),
    # --- issue 18 item 4: ledger.toml read into a typed config in one pass ---
    Case("config-unknown-key", ("report",), 2, "led/ledger.toml:3: unknown key 'home_curency' "
         "at the top level\n  hint: did you mean 'home_currency'? known keys: benchmarks, "
         "country, fees, home_currency, hours, locale, payouts, reconcile, rules, splits, "
         "workers\n", into_ledger=(("config-unknown-key.toml", "ledger.toml", "copy"),)),
    Case("config-hours-not-array", ("hours", "show"), 2, "led/ledger.toml:3: hours must be an "
         "array of tables\n  hint: write each as [[hours]] client = \"Beta LLC\" month = "
         "\"2024-06\" hours = 12\n",
         into_ledger=(("config-hours-not-array.toml", "ledger.toml", "copy"),)),
    # (session 29: a ledger.toml in another encoding was an internal error)
    Case("config-not-utf8", ("report",), 2, "led/ledger.toml: not UTF-8 text\n  hint: save "
         "ledger.toml as UTF-8 (most editors: Save As, encoding UTF-8)\n",
         into_ledger=(("config-not-utf8.toml", "ledger.toml", "copy"),)),
]


def expected_stderr(case: Case) -> str:
    from importers.registry import formats

    return case.stderr.format(
        formats=", ".join(f.name for f in formats()),
        imports=", ".join(sha(p)[:12] for p in demo_files()),
    )


@pytest.fixture(scope="module")
def seeded(tmp_path_factory) -> Path:
    """A ledger holding the demo exports, without settings: no ledger.toml, no rates.csv."""
    root = import_demo(tmp_path_factory.mktemp("seed"))
    (root / "ledger.toml").unlink()
    (root / "rates.csv").unlink()
    return root


def prepare(case: Case, seeded: Path, cwd: Path) -> Path:
    """The working directory with the case's files, and a copy of the seeded ledger at led/."""
    for name in case.files:
        shutil.copyfile(BROKEN / name, cwd / name)
    for name in case.dirs:
        (cwd / name).mkdir()
    ledger = cwd / "led"
    shutil.copytree(seeded, ledger)
    for source, target, mode in case.into_ledger:
        (ledger / target).parent.mkdir(parents=True, exist_ok=True)
        data = (BROKEN / source).read_bytes()
        if mode == "damage-last-line":  # same length, so the line stays inside the commit
            lines = (ledger / target).read_bytes().split(b"\n")
            lines[-2] = data.strip().ljust(len(lines[-2]))[:len(lines[-2])]
            (ledger / target).write_bytes(b"\n".join(lines))
            continue
        with open(ledger / target, "ab" if mode == "append" else "wb") as handle:
            handle.write(data)
    return ledger


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.id)
def test_broken_input(case: Case, seeded: Path, tmp_path: Path):
    ledger = prepare(case, seeded, tmp_path)
    before = snapshot(ledger)
    # each hint whole, on one line: at 1000 columns none is wrapped (test_hints_wrap_between_words)
    result = run("--ledger", "led", *case.args, cwd=tmp_path, env={"COLUMNS": "1000"})
    assert "Traceback" not in result.stderr
    assert (result.returncode, result.stderr) == (case.code, expected_stderr(case))
    if case.code:
        assert result.stdout == ""
        assert snapshot(ledger) == before


def test_catalogue_files_are_all_used():
    """Every broken file of this catalogue is exercised by some test (others' files aside)."""
    others = ("payoneer-", "wise-", "bank-", "fiverr-", "freelancer-", "ofx-", "camt-",
              "mt940-")
    used = {n for c in CASES for n in c.files} | {s for c in CASES for s, _, _ in c.into_ledger}
    used |= {"rates-trailing-blank-line.csv", "header-only-upwork.csv",
             "cut-in-balance-upwork.csv"}
    mine = {p.name for p in BROKEN.iterdir() if not p.name.startswith(others)}
    assert mine == {n for n in used if not n.startswith(others)}


def test_header_only_adds_nothing(seeded, tmp_path):
    """A header and no rows is a valid (if useless) export: nothing added, exit 0. The issue
    lists "empty export" as broken; empty.csv and blank-lines.csv are that case."""
    prepare(_import("header-only-upwork.csv", stderr=""), seeded, tmp_path)
    listing = ("--ledger", "led", "transactions", "--format", "json")
    before = ok(run(*listing, cwd=tmp_path)).stdout
    result = ok(run("--ledger", "led", "import", "header-only-upwork.csv", cwd=tmp_path))
    assert result.stderr == ""
    assert "header-only-upwork.csv: upwork, 0 rows read, 0 ledger rows added, 0 already in " \
        "the ledger" in result.stdout
    assert ok(run(*listing, cwd=tmp_path)).stdout == before


def test_header_only_paypal_is_not_asked_for_a_date_order(tmp_path):
    """No dates at all are not ambiguous ones: the header-only rule holds for PayPal too."""
    (tmp_path / "pp.csv").write_text('"Date","Time","TimeZone","Name","Type","Status",'
                                     '"Currency","Gross","Fee","Net","Transaction ID",'
                                     '"Balance"\n')
    result = ok(run("--ledger", "led", "import", "pp.csv", cwd=tmp_path))
    assert result.stderr == ""
    assert result.stdout.startswith("pp.csv: paypal, 0 rows read, 0 ledger rows added"), \
        result.stdout


def test_ambiguous_dates_import_with_date_order(tmp_path):
    shutil.copyfile(BROKEN / "ambiguous-date-paypal.csv", tmp_path / "dmy.csv")
    ok(run("--ledger", "led", "import", "dmy.csv", "--date-order", "dmy", cwd=tmp_path))
    rows = ok(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path)).stdout
    import json

    got = sorted((r["date"], r["kind"], r["amount"], r["line"]) for r in json.loads(rows))
    assert got == [
        ("2024-04-12", "earning", "100.0000", 4),
        ("2024-04-12", "payment_fee", "-3.4000", 4),
        ("2024-06-03", "earning", "50.0000", 3),
        ("2024-06-03", "payment_fee", "-1.7000", 3),
        ("2024-06-05", "transfer", "-144.9000", 2),
    ]


def test_bank_statement_resaved_with_decimal_commas_imports_as_the_original_with_the_flag(
        tmp_path):
    """The flag the hint names reads the re-saved statement's rows as the original's."""
    import json

    shutil.copyfile(BROKEN / "resaved-decimal-comma-hdfc.csv", tmp_path / "resaved.csv")
    shutil.copyfile(BROKEN.parent / "bank" / "hdfc.csv", tmp_path / "hdfc.csv")
    ok(run("--ledger", "a", "import", "resaved.csv", "--decimal-mark", ",", cwd=tmp_path))
    ok(run("--ledger", "b", "import", "hdfc.csv", cwd=tmp_path))

    def rows(ledger: str) -> list[tuple]:
        out = ok(run("--ledger", ledger, "transactions", "--format", "json", cwd=tmp_path))
        return sorted((r["date"], r["amount"], r["kind"], r["description"], r["line"])
                      for r in json.loads(out.stdout))

    resaved, original = rows("a"), rows("b")
    assert len(resaved) == 4
    assert resaved == original[:4]


def test_dates_proving_both_orders_are_refused_at_the_row_that_breaks_the_first(tmp_path):
    text = (BROKEN / "ambiguous-date-paypal.csv").read_text()
    text = text.replace('"05/06/2024"', '"13/06/2024"').replace('"03/06/2024"', '"03/14/2024"')
    (tmp_path / "both.csv").write_text(text)
    result = run("--ledger", "led", "import", "both.csv", cwd=tmp_path)
    assert (result.returncode, result.stdout, result.stderr) == (1, "", (
        "both.csv:3: dates mix day-first and month-first forms: '03/14/2024' here, "
        "'13/06/2024' on line 2\n  hint: the file may have been edited; download the export "
        "again\n"))


def test_payoneer_parts_re_saved_day_first_are_refused_until_the_flag_says(tmp_path):
    """June in two Payoneer files re-saved day-first: the first's days (3 and 10 June) prove
    no order, the second's (15 and 20 June) do. Without --date-order nothing is written (the
    walkthrough found 2024-03-06 and 2024-10-06 stored, exit 0); with it, June's dates."""
    import json

    lines = (BROKEN / "payoneer-ambiguous-dates.csv").read_text().splitlines()
    (tmp_path / "part1.csv").write_text("\n".join(lines) + "\n")
    second = [lines[1].replace("03/06/2024", "15/06/2024").replace(",1001,", ",1003,")
              .replace(",100.00,", ",250.00,"),
              lines[2].replace("10/06/2024", "20/06/2024").replace(",1002,", ",1004,")
              .replace(",150.00,", ",300.00,")]
    (tmp_path / "part2.csv").write_text("\n".join([lines[0], *second]) + "\n")
    refused = run("--ledger", "x", "import", "part1.csv", "part2.csv", cwd=tmp_path)
    assert (refused.returncode, refused.stdout) == (1, "")
    assert refused.stderr.startswith("part1.csv:2: dates such as '03/06/2024' could be "
                                     "day-first or month-first\n  hint: say which: ")
    assert not (tmp_path / "x").exists()

    def stored(ledger: str) -> list[tuple[str, str]]:
        rows = ok(run("--ledger", ledger, "transactions", "--format", "json", cwd=tmp_path))
        return sorted((r["date"], r["ref"]) for r in json.loads(rows.stdout))

    alone = ok(run("--ledger", "proven", "import", "part2.csv", cwd=tmp_path))  # no flag
    assert "part2.csv: payoneer, 2 rows read, 2 ledger rows added" in alone.stdout
    assert stored("proven") == [("2024-06-15", "1003"), ("2024-06-20", "1004")]
    ok(run("--ledger", "x", "import", "part1.csv", "part2.csv", "--date-order", "dmy",
           cwd=tmp_path))
    june = [("2024-06-03", "1001"), ("2024-06-10", "1002"), ("2024-06-15", "1003"),
            ("2024-06-20", "1004")]
    assert stored("x") == june
    ok(run("--ledger", "x", "rebuild", cwd=tmp_path))  # the flag is logged with the file
    assert stored("x") == june


@pytest.mark.parametrize(("bad", "bad_first"), [("balance-break-upwork.csv", False),
                                                 ("nope.csv", True), ("binary.png", False)])
def test_one_bad_file_imports_nothing(bad, bad_first, seeded, tmp_path):
    """All or nothing: good files imported together with one bad file add nothing at all."""
    ledger = prepare(Case("mixed", (), 1, ""), seeded, tmp_path)
    for name in ("ambiguous-date-paypal.csv", bad):
        if (BROKEN / name).exists():
            shutil.copyfile(BROKEN / name, tmp_path / name)
    good = ["ambiguous-date-paypal.csv", *(str(p) for p in demo_files())]
    paths = [bad, *good] if bad_first else [*good, bad]
    before = snapshot(ledger)
    result = run("--ledger", "led", "import", "--date-order", "dmy", *paths, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{bad}:")
    assert "Traceback" not in result.stderr
    assert snapshot(ledger) == before
    fresh = run("--ledger", "fresh", "import", "--date-order", "dmy", *paths, cwd=tmp_path)
    assert fresh.returncode == 1
    assert not (tmp_path / "fresh").exists()


def test_file_cut_inside_the_last_balance_names_the_cut_line(seeded, tmp_path):
    prepare(_import("cut-in-balance-upwork.csv", stderr=""), seeded, tmp_path)
    result = run("--ledger", "led", "import", "cut-in-balance-upwork.csv", cwd=tmp_path)
    assert result.returncode == 1
    assert re.search(r"^cut-in-balance-upwork\.csv:7: |\bline 7\b", result.stderr), result.stderr


def test_empty_file_with_forced_source(seeded, tmp_path):
    case = _import("empty.csv", "--source", "upwork", stderr="empty.csv: the file is empty\n"
                   "  hint: download the export again; it holds no bytes\n")
    prepare(case, seeded, tmp_path)
    result = run("--ledger", "led", *case.args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (1, case.stderr)


def test_rates_file_with_a_trailing_blank_line(seeded, tmp_path):
    prepare(Case("blank-rates", (), 0, "",
                 into_ledger=(("rates-trailing-blank-line.csv", "rates.csv", "copy"),)),
            seeded, tmp_path)
    ok(run("--ledger", "led", "report", "--currency", "PKR", cwd=tmp_path))


def test_bad_rates_is_wrong_only_on_line_5(tmp_path):
    """bad-rates.csv with line 5's day-first date written as ISO is a good rates file."""
    from rules.fx import user_rates

    lines = (BROKEN / "bad-rates.csv").read_text("utf-8").splitlines(keepends=True)
    assert lines[4].startswith("22/04/2024,")
    lines[4] = lines[4].replace("22/04/2024", "2024-04-22")
    fixed = tmp_path / "rates.csv"
    fixed.write_text("".join(lines), "utf-8")
    assert user_rates(fixed).height == len(lines) - 1


def test_a_data_row_again_is_not_named_a_repeated_header(tmp_path):
    """Only a copy of the header is named so: a data row that repeats an earlier one (refused
    for its balance, say) keeps the importer's own error; so does a line of XML."""
    from importers import registry
    from ledger.core.errors import DataError

    header = "Date,Ref ID,Amount,Balance"
    row = '"May 30, 2024",612340217,25.00,458.81'
    path = tmp_path / "x.csv"
    path.write_text("\n".join([header, row, '"May 27, 2024",612340210,-13.80,433.81', row,
                               header.upper()]) + "\n")
    raw = registry.read(path)

    def named(line: int) -> str | None:
        found = registry._misplaced_row(raw, DataError("own", path=path, line=line))
        return None if found is None else found.message

    assert named(4) is None
    assert named(5) == "this row repeats the header (line 1): two exports pasted into one " \
        "file, or a page's header"
    xml = tmp_path / "x.xml"
    xml.write_text("<Document>\n<Ntry>\n</Ntry>\n<Ntry>\n</Ntry>\n</Document>\n")
    assert registry._misplaced_row(registry.read(xml), DataError("own", path=xml, line=5)) \
        is None
