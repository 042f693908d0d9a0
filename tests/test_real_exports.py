"""Issue 16: exports as banks, wallets and tools really write them, not only the layouts our
golden files assumed. Each test builds a small file with the shape a public sample export
has (PayPal downloads, the mt-940 library's and ofxparse's fixtures, csv2ofx output, camt.053
with UTC offsets, NayaPay's current app export) and fails without its fix."""

from __future__ import annotations

import re
import time

import pytest

from importers import registry
from importers.base import Format, ImportOptions, Parsed
from ledger.core.errors import DataError
from tests.golden import parse
from tests.test_cli import run

# --- PayPal -------------------------------------------------------------------------------

ACTIVITY = ('"Date","Time","TimeZone","Name","Type","Status","Currency","Gross","Fee","Net",'
            '"From Email Address","To Email Address","Transaction ID","Reference Txn ID",'
            '"Balance"{impact}\n')
PENDING_ROWS = [  # (row, Balance Impact)
    ('"01/06/2024","09:00:00","PDT","Client A","Express Checkout Payment","Completed","USD",'
     '"100.00","-3.00","97.00","a@a.example","me@example.com","T1","","97.00"', "Credit"),
    ('"02/06/2024","09:00:00","PDT","","General Withdrawal","Pending","USD","-50.00","0.00",'
     '"-50.00","me@example.com","","T2","","47.00"', "Debit"),
    ('"03/06/2024","09:00:00","PDT","Client B","Express Checkout Payment","Pending","USD",'
     '"20.00","0.00","20.00","b@b.example","me@example.com","T3","","47.00"', "Memo"),
    ('"14/06/2024","09:00:00","PDT","","Bank Deposit to PP Account ","Pending","USD","10.00",'
     '"0.00","10.00","","me@example.com","T4","","57.00"', "Credit"),
    ('"15/06/2024","09:00:00","PDT","Client C","Express Checkout Payment","Completed","USD",'
     '"5.00","0.00","5.00","c@c.example","me@example.com","T5","","62.00"', "Credit"),
]


@pytest.mark.parametrize("impact", [False, True], ids=["running-balance", "balance-impact"])
def test_paypal_pending_rows_that_moved_the_balance_are_booked(tmp_path, impact):
    path = tmp_path / "Download.CSV"
    head = ACTIVITY.format(impact=',"Balance Impact"' if impact else "")
    path.write_text(head + "".join(row + (f',"{imp}"' if impact else "") + "\n"
                                   for row, imp in PENDING_ROWS))
    parsed = parse(path)
    gross = parsed.rows.filter(parsed.rows["kind"] != "payment_fee")
    assert gross["ref"].to_list() == ["T1", "T2", "T4", "T5"]  # T3 did not move: skipped
    assert [str(a) for a in gross["amount"]] == ["100.0000", "-50.0000", "10.0000", "5.0000"]
    assert gross["kind"].cast(str).to_list()[1:3] == ["transfer", "transfer"]
    assert sum(parsed.skipped.values()) == 1  # as memo or as pending


def test_paypal_pending_row_that_breaks_the_balance_is_still_refused(tmp_path):
    rows = [r for r, _ in PENDING_ROWS]
    rows[1] = rows[1].replace('"47.00"', '"46.00"')  # neither moved by -50 nor unchanged
    path = tmp_path / "Download.CSV"
    path.write_text(ACTIVITY.format(impact="") + "\n".join(rows) + "\n")
    with pytest.raises(DataError, match="does not follow from line"):
        parse(path)


def test_paypal_statement_header_ending_in_blank_cells(tmp_path):
    header = ('"Date","Time","Time Zone","Description","Currency","Gross","Fee","Net","Balance",'
              '"Transaction ID","From Email Address","Name","Bank Name","Bank Account",'
              '"Shipping and Handling Amount","Sales Tax","Invoice ID","Reference Txn ID"'
              ",,,,,,\n")
    rows = ('"28/06/2024","10:00:00","America/Los_Angeles","Express Checkout Payment","USD",'
            '"100.00","-3.00","97.00","97.00","T1","a@client.example","Client A","","","0.00",'
            '"0.00","",""\n'
            '"29/06/2024","10:00:00","America/Los_Angeles","General Withdrawal - Bank Account",'
            '"USD","-90.00","0.00","-90.00","7.00","T2","","","Bank A","6491","0.00","0.00",'
            '"",""' + ",,,,,," + "\n")  # a row may also carry the blank cells
    path = tmp_path / "statement.csv"
    path.write_text(header + rows)
    rows_read = parse(path).rows
    assert rows_read.filter(rows_read["kind"] != "payment_fee")["ref"].to_list() == ["T1", "T2"]


# --- MT940 --------------------------------------------------------------------------------


def mt940(statements: list[tuple[str, str]]) -> str:
    """Statements of (account, :61:/:86: lines), balances made to add up."""
    out = []
    for number, (account, lines) in enumerate(statements, start=1):
        total = 0
        for mark, amount in re.findall(r"^:61:\d{6}(?:\d{4})?[A-Z]?([CD])(\d+)", lines,
                                       re.M):
            total += int(amount) if mark == "C" else -int(amount)
        closing = 1000 + total
        out.append(f":20:STMT{number}\n:25:{account}\n:28C:{number}/1\n:60F:C240601EUR1000,00\n"
                   f"{lines}\n:62F:C240630EUR{closing},00\n-")
    return "\n".join(out) + "\n"


def test_mt940_many_accounts_stay_apart(tmp_path):
    # 20 accounts of one file ended in two last-four groups; a transfer between two of them
    # carries one bank reference on both sides (the import died with "a bug in an importer")
    accounts = [f"NL{10 + i}ABNA04171{i:02d}0001" for i in range(20)]
    statements = [(a, ":61:2406030603D50,00NTRFNONREF//B1\n:86:to savings" if i % 2 == 0
                   else ":61:2406030603C50,00NTRFNONREF//B1\n:86:from current")
                  for i, a in enumerate(accounts)]
    path = tmp_path / "all.sta"
    path.write_text(mt940(statements))
    rows = parse(path).rows
    assert rows["account"].n_unique() == 20 and rows["id"].n_unique() == 20
    assert all(a.startswith("mt940:0001-") for a in rows["account"])


def test_mt940_type_code_with_spaces_and_amount_without_comma(tmp_path):
    path = tmp_path / "bank.sta"
    path.write_text(mt940([("123456789", ":61:2406030603D12,00S   NONREF\n:86:card\n"
                                         ":61:2406040604C500NTRF29-07-2014 10:05//B4G29\n"
                                         ":86:Knab style")]))
    rows = parse(path).rows
    assert [str(a) for a in rows["amount"]] == ["-12.0000", "500.0000"]


def test_mt940_asn_bank_statement_lines(tmp_path):
    # ASN Bank (the mt-940 library's StatementASNB): an IBAN as customer reference, longer
    # than the standard layout's 16 characters
    path = tmp_path / "asn.sta"
    path.write_text(mt940([("NL81ASNB9999999999", ":61:2406030603D65,00NOVBNL47INGB9999999999\n"
                                                   "hr gjlm paulissen\n:86:Betaling sieraden")]))
    rows = parse(path).rows
    assert [str(a) for a in rows["amount"]] == ["-65.0000"]
    assert rows["description"][0] == "Betaling sieraden"


def test_mt940_library_internals_never_reach_the_user(tmp_path):
    # a :61: the library cannot read (no amount digits after the mark): its logger dumps
    # its regex to stderr and its error holds `<mt940.tags.Statement object at 0x...>`
    path = tmp_path / "bad.sta"
    path.write_text(mt940([("123456789", ":61:2406030603D\n:86:nothing")]))
    result = run("--ledger", "led", "import", path.name, cwd=tmp_path)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "object at 0x" not in result.stderr and "mt940.tags" not in result.stderr
    assert "(?P<" not in result.stderr and "Traceback" not in result.stderr
    assert result.stderr.startswith("bad.sta:5: the :61: field")


def test_envelope_of_braces_is_detected_in_linear_time(tmp_path):
    path = tmp_path / "braces.sta"
    path.write_text("{1:" + "{{}" * 30 + "\n")  # 94 bytes: minutes with the old pattern
    assert path.stat().st_size == 94
    start = time.monotonic()  # in-process: a CLI start-up on a busy machine is no measure
    with pytest.raises(DataError, match="unknown layout"):
        registry.detect(registry.read(path))  # every import and batch runs this
    assert time.monotonic() - start < 5


# --- camt.053 -----------------------------------------------------------------------------

CAMT = """<?xml version="1.0" encoding="UTF-8"?>
<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>
<GrpHdr><MsgId>1</MsgId><CreDtTm>2017-04-02T10:00:00+02:00</CreDtTm></GrpHdr>
{statements}
</BkToCstmrStmt></Document>
"""
CAMT_STMT = """<Stmt><Id>{n}</Id><CreDtTm>2017-04-02T10:00:00+02:00</CreDtTm>
<Acct><Id><Othr><Id>{account}</Id></Othr></Id><Ccy>EUR</Ccy></Acct>
<Ntry><Amt Ccy="EUR">12.50</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>
<BookgDt><Dt>2017-04-01+02:00</Dt></BookgDt><ValDt><Dt>2017-04-01+02:00</Dt></ValDt>
<AcctSvcrRef>R{n}</AcctSvcrRef></Ntry>
</Stmt>"""


def test_camt053_dates_with_utc_offset_and_accounts_apart(tmp_path):
    path = tmp_path / "camt.xml"
    path.write_text(CAMT.format(statements="\n".join(
        CAMT_STMT.format(n=n, account=account) for n, account in
        enumerate(["1234567-000", "7654321-000"]))))
    rows = parse(path).rows
    assert rows["date"].cast(str).to_list() == ["2017-04-01", "2017-04-01"]
    assert rows["account"].n_unique() == 2


# --- OFX ----------------------------------------------------------------------------------

CSV2OFX = """<OFX>
<SIGNONMSGSRSV1><SONRS><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY></STATUS>
<DTSERVER>20240701</DTSERVER><LANGUAGE>ENG</LANGUAGE></SONRS></SIGNONMSGSRSV1>
<BANKMSGSRSV1><STMTTRNRS><TRNUID>1</TRNUID><STATUS><CODE>0</CODE><SEVERITY>INFO</SEVERITY>
</STATUS><STMTRS><BANKACCTFROM><ACCTTYPE>CHEQUING</ACCTTYPE><ACCTID>{acct}</ACCTID>
<BANKID>5472369148</BANKID></BANKACCTFROM><CURDEF>USD</CURDEF>
<BANKTRANLIST>
<STMTTRN><TRNAMT>-9.99</TRNAMT><TRNTYPE>DEBIT</TRNTYPE><DTPOSTED>20240625</DTPOSTED>
<NAME><![CDATA[FIGMA & CO <design>]]></NAME><MEMO><![CDATA[Plan: pro]]></MEMO>
<FITID>F1</FITID></STMTTRN>
{more}</BANKTRANLIST>
</STMTRS></STMTTRNRS></BANKMSGSRSV1>
</OFX>
"""


def test_ofx_as_tools_write_it(tmp_path):
    # no OFXHEADER (csv2ofx), a 10-digit bank id, no LEDGERBAL, elements out of order, an
    # account type the spec does not list, NAME and MEMO in CDATA
    path = tmp_path / "csv2ofx.ofx"
    path.write_text(CSV2OFX.format(acct="000123456789", more=""))
    rows = parse(path).rows
    assert [str(a) for a in rows["amount"]] == ["-9.9900"]
    assert rows["description"][0] == "FIGMA & CO <design> - Plan: pro"
    assert rows["counterparty"][0] == "FIGMA & CO <design>"


def test_ofx_transaction_list_left_open_ends_with_its_statement(tmp_path):
    # Nubank (Brazil) never writes </BANKTRANLIST>; ofxtools keeps such a file in its tests
    path = tmp_path / "nubank.ofx"
    path.write_text(CSV2OFX.format(acct="1", more="").replace("</BANKTRANLIST>", ""))
    assert [str(a) for a in parse(path).rows["amount"]] == ["-9.9900"]


INVESTMENT = """OFXHEADER:100
DATA:OFXSGML
VERSION:102

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240701
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
<INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>0<STATUS><CODE>0<SEVERITY>INFO</STATUS>
<INVSTMTRS><DTASOF>20240630<CURDEF>USD<INVACCTFROM><BROKERID>broker.example<ACCTID>X0001
</INVACCTFROM><INVTRANLIST><DTSTART>20240601<DTEND>20240630
<INVBANKTRAN><STMTTRN><TRNTYPE>CREDIT<DTPOSTED>20240603<TRNAMT>500.00<FITID>C1
<NAME>Deposit</STMTTRN><SUBACCTFUND>CASH</INVBANKTRAN>
<INCOME><INVTRAN><FITID>I1<DTTRADE>20240615<MEMO>Dividend</INVTRAN>
<SECID><UNIQUEID>123456789<UNIQUEIDTYPE>CUSIP</SECID><INCOMETYPE>DIV<TOTAL>12.34
<SUBACCTSEC>CASH<SUBACCTFUND>CASH</INCOME>
<BUYSTOCK><INVBUY><INVTRAN><FITID>B1<DTTRADE>20240610</INVTRAN><SECID><UNIQUEID>123456789
<UNIQUEIDTYPE>CUSIP</SECID><UNITS>2<UNITPRICE>100<TOTAL>-200.00<SUBACCTSEC>CASH
<SUBACCTFUND>CASH</INVBUY><BUYTYPE>BUY</BUYSTOCK>
<REINVEST><INVTRAN><FITID>R1<DTTRADE>20240620</INVTRAN><SECID><UNIQUEID>123456789
<UNIQUEIDTYPE>CUSIP</SECID><INCOMETYPE>DIV<TOTAL>-1.00<SUBACCTSEC>CASH<UNITS>0.01
<UNITPRICE>100</REINVEST>
</INVTRANLIST></INVSTMTRS></INVSTMTTRNRS></INVSTMTMSGSRSV1></OFX>
"""


def test_ofx_investment_statement_imports_its_cash(tmp_path):
    path = tmp_path / "broker.qfx"
    path.write_text(INVESTMENT)
    parsed = parse(path)
    rows = parsed.rows
    assert [str(a) for a in rows["amount"]] == ["500.0000", "12.3400", "-200.0000"]
    assert rows["category"].to_list()[1:] == ["investment_div", "investment_buy"]
    assert rows["kind"].cast(str).to_list()[1:] == ["other", "transfer"]
    assert parsed.skipped == {"reinvested income (no cash movement)": 1}


def test_ofx_thousands_of_unclosed_transactions_are_refused_quickly(tmp_path):
    path = tmp_path / "unclosed.ofx"
    path.write_text(CSV2OFX.format(acct="1", more="<STMTTRN><TRNTYPE>DEBIT\n" * 20_000))
    start = time.monotonic()
    with pytest.raises(DataError) as err:
        parse(path)
    assert time.monotonic() - start < 5
    assert err.value.line == 11  # the first <STMTTRN> that is never closed
    assert "<STMTTRN> opened 20001 time(s) but closed 1" in err.value.message


def test_ofx_server_error_instead_of_a_statement(tmp_path):
    path = tmp_path / "error.ofx"
    path.write_text("<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>15500</CODE><SEVERITY>ERROR"
                    "</SEVERITY><MESSAGE>Your password was incorrect</MESSAGE></STATUS>"
                    "</SONRS></SIGNONMSGSRSV1></OFX>\n")
    with pytest.raises(DataError, match="the bank's server answered with an error, not a "
                       "statement: Your password was incorrect"):
        parse(path)


# --- every format: never a silent nothing ------------------------------------------------


def test_nothing_read_from_a_file_with_transactions_is_refused(tmp_path):
    """The general check at the import boundary, whatever the importer: a format that reads
    nothing from a file holding transactions (an investment OFX once gave "0 read, 0 added",
    exit 0) is refused; a header-only export still imports nothing, quietly."""
    import polars as pl

    def reads_nothing(raw, options):
        return Parsed(rows=pl.DataFrame(), format="x", rows_read=0)

    fmt = Format(name="x", title="X export", fingerprint="", detect=lambda raw: True,
                 parse=reads_nothing)
    table = tmp_path / "x.csv"
    table.write_text("Date,Description,Amount\n2024-06-03,Client,100.00\n")
    with pytest.raises(DataError) as err:
        registry.parse(registry.read(table), ImportOptions(), fmt=fmt)
    assert (err.value.line, err.value.message) == (
        2, "no transactions were read as X export, yet this line looks like one")
    header_only = tmp_path / "h.csv"
    header_only.write_text("Date,Description,Amount\n")
    assert registry.parse(registry.read(header_only), ImportOptions(), fmt=fmt).rows_read == 0


# --- bank profiles ------------------------------------------------------------------------


def test_nayapay_dates_as_the_app_exports_them(tmp_path):
    path = tmp_path / "m-02-2025.csv"
    path.write_text(
        "Customer Name,JOHN SMITH\nNayaPay ID,sampleuser123\nNayaPay Account Number,"
        "03141234567\n\nOpening Balance,\"85,000.00\",Closing Balance,\"109,750.40\"\n\n"
        "TIMESTAMP,TYPE,DESCRIPTION,AMOUNT,BALANCE\n"
        '01 Feb 2025 08:15 AM,Raast In,"Incoming fund transfer from Jane Doe Askari Bank-1234'
        '|Transaction ID 12345a09",85000,"85,000.40"\n'
        '01 Feb 2025 12:30 PM,Card Payment,"Cheezious|Transaction ID 87654321",-250,'
        '"84,750.40"\n'
        '02 Feb 2025 09:45 AM,IBFT In,"Incoming fund transfer from Mike Johnson|Transaction '
        'ID 887222",25000,"109,750.40"\n')
    rows = parse(path).rows
    assert rows["date"].cast(str).to_list() == ["2025-02-01", "2025-02-01", "2025-02-02"]
