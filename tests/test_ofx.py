"""OFX/QFX importer: broken files with exact messages, signs, kinds, dates, FITID fallbacks,
several statements in one file. The golden rows are in tests/data/ofx/."""

from __future__ import annotations

import pytest

from importers import registry
from ledger.core.errors import DataError
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "ofx"

BROKEN_CASES = {
    "ofx-bad-amount.ofx": "18: TRNAMT '-12.4O' is not a number\n  hint: amounts must be "
    "numbers such as 1,234.56; fix or re-download",
    "ofx-bad-trntype.ofx": "21: TRNTYPE 'PURCHASE' is not an OFX transaction type\n  hint: "
    "known types: CREDIT, DEBIT, INT, DIV, FEE, SRVCHG, DEP, ATM, POS, XFER, CHECK, PAYMENT, "
    "CASH, DIRECTDEP, DIRECTDEBIT, REPEATPMT, HOLD, OTHER",
    "ofx-truncated.ofx": "23: the file ends before </OFX>: it is truncated\n  hint: download "
    "the statement again",
}

HEADER = """OFXHEADER:100
DATA:OFXSGML
VERSION:102
SECURITY:NONE
ENCODING:USASCII
CHARSET:1252
COMPRESSION:NONE
OLDFILEUID:NONE
NEWFILEUID:NONE

<OFX><SIGNONMSGSRSV1><SONRS><STATUS><CODE>0<SEVERITY>INFO</STATUS><DTSERVER>20240701
<LANGUAGE>ENG</SONRS></SIGNONMSGSRSV1>
"""


def statement(acctid: str, *transactions: str, card: bool = False) -> str:
    if card:
        head = f"<CCSTMTRS><CURDEF>USD<CCACCTFROM><ACCTID>{acctid}</CCACCTFROM>"
        tail = "</CCSTMTRS>"
    else:
        head = (f"<STMTRS><CURDEF>USD<BANKACCTFROM><BANKID>1<ACCTID>{acctid}<ACCTTYPE>CHECKING"
                "</BANKACCTFROM>")
        tail = "</STMTRS>"
    body = "\n".join(f"<STMTTRN>{t}</STMTTRN>" for t in transactions)
    return (f"{head}\n<BANKTRANLIST><DTSTART>20240601<DTEND>20240630\n{body}\n</BANKTRANLIST>"
            f"\n<LEDGERBAL><BALAMT>0<DTASOF>20240630</LEDGERBAL>{tail}")


def ofx_file(tmp_path, *parts: str, name: str = "stmt.ofx", bank: str = "", card: str = ""):
    bank_set = f"<BANKMSGSRSV1><STMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>" \
        f"{bank}</STMTTRNRS></BANKMSGSRSV1>\n" if bank else ""
    card_set = f"<CREDITCARDMSGSRSV1><CCSTMTTRNRS><TRNUID>2<STATUS><CODE>0<SEVERITY>INFO" \
        f"</STATUS>{card}</CCSTMTTRNRS></CREDITCARDMSGSRSV1>\n" if card else ""
    path = tmp_path / name
    path.write_text(HEADER + bank_set + card_set + "".join(parts) + "</OFX>\n")
    return path


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_unlisted_account_type_and_stray_text_lose_no_money():
    """A validating parser refused these; nothing in them is unreadable (issue 16)."""
    for name in ("ofx-bad-accttype.ofx", "ofx-stray-text.ofx"):
        rows = parse(BROKEN / name).rows
        assert rows.height >= 1 and rows["amount"].is_not_null().all()


def test_sgml_and_xml_are_detected_as_ofx():
    for name in ("checking-sgml.ofx", "creditcard-v2.qfx"):
        assert registry.detect(registry.read(GOLDEN / name)).name == "ofx"


def test_signs_kinds_and_bank_day(tmp_path):
    # A posting at 23:30 New York time stays on its day (ofxtools would move it to UTC).
    path = ofx_file(tmp_path, bank=statement(
        "99991234",
        "<TRNTYPE>CREDIT<DTPOSTED>20240630233000[-5:EST]<TRNAMT>100.00<FITID>1<NAME>WISE",
        "<TRNTYPE>DEBIT<DTPOSTED>20240601<TRNAMT>-3.00<FITID>2<NAME>Service charge",
        "<TRNTYPE>FEE<DTPOSTED>20240601<TRNAMT>-1.00<FITID>3<NAME>Wire fee",
        "<TRNTYPE>CREDIT<DTPOSTED>20240602<TRNAMT>5.50<FITID>4<NAME>Client",
    ))
    rows = parse(path).rows
    assert rows["date"].cast(str).to_list() == ["2024-06-30", "2024-06-01", "2024-06-01",
                                                 "2024-06-02"]
    assert rows["kind"].cast(str).to_list() == ["transfer", "expense", "bank_fee", "earning"]
    assert [str(a) for a in rows["amount"]] == ["100.0000", "-3.0000", "-1.0000", "5.5000"]
    assert set(rows["account"]) == {"ofx:1234-932204"}


def test_decimal_comma_is_read_and_never_mixed(tmp_path):
    comma = ofx_file(tmp_path, bank=statement(
        "1234", "<TRNTYPE>CREDIT<DTPOSTED>20240602<TRNAMT>1234,50<FITID>4<NAME>Client"),
        name="comma.ofx")
    assert [str(a) for a in parse(comma).rows["amount"]] == ["1234.5000"]
    mixed = ofx_file(tmp_path, bank=statement(
        "1234", "<TRNTYPE>CREDIT<DTPOSTED>20240601<TRNAMT>100.00<FITID>3<NAME>Client",
        "<TRNTYPE>CREDIT<DTPOSTED>20240602<TRNAMT>5,50<FITID>4<NAME>Client"), name="mixed.ofx")
    with pytest.raises(DataError) as err:
        parse(mixed)
    assert str(err.value) == (f"{mixed}:16: TRNAMT '5,50' uses a decimal comma where others use "
                              "a point\n  hint: say which with --decimal-mark . or "
                              "--decimal-mark ,")


def test_fitid_fallback_gives_stable_ids_across_downloads(tmp_path):
    no_fitid = "<TRNTYPE>DEBIT<DTPOSTED>20240625<TRNAMT>-9.99<NAME>FIGMA.COM"
    other = "<TRNTYPE>DEBIT<DTPOSTED>20240626<TRNAMT>-1.00<FITID>X1<NAME>Shop"
    first = parse(ofx_file(tmp_path, bank=statement("1234", no_fitid), name="a.ofx")).rows
    second = parse(ofx_file(tmp_path, bank=statement("1234", other, no_fitid),
                            name="b.ofx")).rows
    figma = second.filter(second["counterparty"] == "FIGMA.COM")
    assert figma["id"].to_list() == first["id"].to_list()


def test_repeated_fitid_within_a_file_keeps_rows_apart(tmp_path):
    one = "<TRNTYPE>DEBIT<DTPOSTED>20240625<TRNAMT>-9.99<FITID>SAME<NAME>A"
    two = "<TRNTYPE>DEBIT<DTPOSTED>20240626<TRNAMT>-4.00<FITID>SAME<NAME>B"
    rows = parse(ofx_file(tmp_path, bank=statement("1234", one, two))).rows
    assert rows.height == 2 and rows["id"].n_unique() == 2


def test_bank_and_card_statements_in_one_file(tmp_path):
    path = ofx_file(
        tmp_path,
        bank=statement("11110001", "<TRNTYPE>DEBIT<DTPOSTED>20240603<TRNAMT>-5<FITID>B1<NAME>X"),
        card=statement("22220002",
                       "<TRNTYPE>PAYMENT<DTPOSTED>20240604<TRNAMT>50<FITID>C1<NAME>THANK YOU",
                       "<TRNTYPE>CREDIT<DTPOSTED>20240605<TRNAMT>7<FITID>C2<NAME>Shop refund",
                       card=True),
    )
    rows = parse(path).rows
    assert rows["account"].to_list() == ["ofx:0001-ef0587", "ofx:0002-0263a6", "ofx:0002-0263a6"]
    assert rows["kind"].cast(str).to_list() == ["expense", "transfer", "expense"]
    assert rows["category"].to_list() == ["debit", "card_payment", "merchant_refund"]
    assert parse(path, account="bank:mine").rows["account"].unique().to_list() == ["bank:mine"]


def test_bare_ampersand_and_entities_are_read(tmp_path):
    path = ofx_file(tmp_path, bank=statement(
        "1234", "<TRNTYPE>DEBIT<DTPOSTED>20240603<TRNAMT>-5<FITID>1<NAME>AT&T<MEMO>A &amp; B"))
    row = parse(path).rows.row(0, named=True)
    assert (row["counterparty"], row["description"]) == ("AT&T", "AT&T - A & B")


def test_missing_amount_names_the_line(tmp_path):
    path = ofx_file(tmp_path, bank=statement(
        "1234", "<TRNTYPE>DEBIT<DTPOSTED>20240603<FITID>1<NAME>X"))
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.message, err.value.line) == ("transaction has no TRNAMT", 15)


def test_commented_out_elements_are_not_data_and_lines_still_count(tmp_path):
    """`<!-- <TRNAMT>-9 -->` is no amount; the comment's lines still count for the message."""
    path = ofx_file(tmp_path, bank=statement(
        "1234", "<TRNTYPE>DEBIT<DTPOSTED>20240603<FITID>1<NAME>X<!--\n<TRNAMT>-9\n-->"
        "\n<MEMO>m"))
    with pytest.raises(DataError) as err:
        parse(path)
    assert (err.value.message, err.value.line) == ("transaction has no TRNAMT", 15)


def test_investment_statement_with_positions_only_is_refused(tmp_path):
    """Holdings and balances, an empty INVTRANLIST: said, never a silent '0 read'."""
    invest = ("<INVSTMTMSGSRSV1><INVSTMTTRNRS><TRNUID>1<STATUS><CODE>0<SEVERITY>INFO</STATUS>"
              "<INVSTMTRS><DTASOF>20240630<CURDEF>USD<INVACCTFROM><BROKERID>b<ACCTID>9"
              "</INVACCTFROM><INVTRANLIST><DTSTART>20240601<DTEND>20240630</INVTRANLIST>"
              "<INVPOSLIST></INVPOSLIST><INVBAL><AVAILCASH>5</INVBAL></INVSTMTRS>"
              "</INVSTMTTRNRS></INVSTMTMSGSRSV1>\n")
    with pytest.raises(DataError, match="hold positions and balances only, no transaction"):
        parse(ofx_file(tmp_path, invest))
