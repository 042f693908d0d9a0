"""camt.053 importer: XML bombs refused, non-camt.053 XML not detected, charges split without
double counting, balances checked, every namespace version read. Goldens: tests/data/camt053/."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from importers import registry
from importers.base import ImportOptions
from ledger.core.errors import DataError
from tests.conftest import DATA, TODAY
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "camt053"
REFUSED = (" refused: the XML declares a DTD or entities (DTDForbidden)\n  hint: bank "
           "statements never need these; it may be an XML bomb or an attempt to read local "
           "files. Export the statement again from the bank")

BROKEN_CASES = {
    "camt-billion-laughs.xml": REFUSED,
    "camt-xxe.xml": REFUSED,
    "camt-balance-break.xml": "23: closing balance 2743.35 is not the opening balance 1000.00 "
    "plus the booked entries (+1734.35)\n  hint: the statement is truncated, edited or misread; "
    "export it again",
    "camt-truncated.xml": "57: not well-formed XML: no element found: line 57, column 7\n  hint: "
    "the file is truncated or damaged; download it again",
}


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_xml_bombs_are_refused_quickly_and_read_nothing():
    for name in ("camt-billion-laughs.xml", "camt-xxe.xml"):
        raw = registry.read(BROKEN / name)
        assert registry.detect(raw).name == "camt053"
        start = time.perf_counter()
        with pytest.raises(DataError) as err:
            registry.parse(raw, ImportOptions(today=TODAY))
        assert time.perf_counter() - start < 2
        assert "root:" not in str(err.value)


def test_camt054_notifications_and_camt052_reports_import():
    """Issue 16: the same entries in a notification (camt.054) or report (camt.052) import
    like a statement's; an entry keeps its account and id whichever message brought it."""
    rows = parse(BROKEN / "camt-not-camt053.xml").rows
    assert [str(a) for a in rows["amount"]] == ["1200.0000"]
    assert rows["date"].cast(str).to_list() == ["2024-06-03"]
    statement = parse(GOLDEN / "statement-v02.xml").rows
    assert rows["account"][0] == statement["account"][0]  # DE89...3000 in both


@pytest.mark.parametrize("name", ["statement-v02.xml", "statement-v08.xml",
                                  "two-statements-v04.xml"])
def test_rows_sum_to_the_booked_movement(name):
    # Included charges are split out of the entry, never subtracted twice: the signed rows of
    # each file add up to closing minus opening balance.
    movement = {"statement-v02.xml": Decimal("1743.35"), "statement-v08.xml": Decimal("30095"),
                "two-statements-v04.xml": Decimal("150")}
    rows = parse(GOLDEN / name).rows
    assert sum(rows["amount"], Decimal(0)) == movement[name]


def test_included_charge_is_split_out_and_linked():
    rows = parse(GOLDEN / "statement-v08.xml").rows
    entry = rows.filter(rows["ref"] == "FT24184AB12C").row(0, named=True)
    fee = rows.filter(rows["related_ref"] == "FT24184AB12C").row(0, named=True)
    assert (str(entry["amount"]), entry["kind"]) == ("29000.0000", "earning")
    assert (str(fee["amount"]), fee["kind"], fee["line"]) == ("-1355.0000", "bank_fee",
                                                              entry["line"])


def test_excluded_charge_is_counted_not_booked():
    parsed = parse(GOLDEN / "statement-v08.xml")
    assert parsed.skipped == {"status INFO (not booked)": 1,
                              "charges not included in the entry amount": 1}
    assert "ChrgInclInd false" in parsed.warnings[0]


def test_reversals_keep_the_booked_sign():
    rows = parse(GOLDEN / "statement-v02.xml").rows
    reversal = rows.filter(rows["ref"] == "2024062100008").row(0, named=True)
    assert (str(reversal["amount"]), reversal["kind"], reversal["counterparty"]) == (
        "-100.0000", "refund", "Quick Gig Co")
    rows = parse(GOLDEN / "two-statements-v04.xml").rows
    assert rows.filter(rows["ref"] == "REV-0902-1")["kind"].cast(str).to_list() == ["adjustment"]


def test_ids_are_stable_and_unique_across_reimports():
    first = parse(GOLDEN / "statement-v02.xml").rows["id"].to_list()
    again = parse(GOLDEN / "statement-v02.xml").rows["id"].to_list()
    assert first == again and len(set(first)) == len(first)


def test_dbit_reversal_line_and_pending_status_counted():
    parsed = parse(GOLDEN / "statement-v02.xml")
    assert parsed.rows_read == 7
    assert parsed.skipped == {"status PDNG (not booked)": 1}


def test_bad_indicator_names_the_entry_line(tmp_path):
    text = (GOLDEN / "two-statements-v04.xml").read_text()
    path = tmp_path / "bad.xml"
    path.write_text(text.replace("<CdtDbtInd>DBIT</CdtDbtInd>\n        <Sts>",
                                 "<CdtDbtInd>DEBIT</CdtDbtInd>\n        <Sts>"))
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.message, err.value.line) == ("CdtDbtInd 'DEBIT' is not CRDT or DBIT", 34)


def test_statement_without_entries_is_refused_not_read_as_nothing(tmp_path):
    """Balances only: nothing to import is said, never a silent '0 read'."""
    path = tmp_path / "balances.xml"
    path.write_text('<?xml version="1.0"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:'
                    'camt.053.001.02"><BkToCstmrStmt><Stmt><Id>1</Id><Bal><Amt Ccy="EUR">5'
                    '</Amt><CdtDbtInd>CRDT</CdtDbtInd></Bal></Stmt></BkToCstmrStmt></Document>')
    with pytest.raises(DataError, match=r"hold no entries \(<Ntry>\), balances only"):
        parse(path)
