"""Wise importers (balance statement and transaction history): broken files with their exact
messages, fees inside vs shown separately, conversions across statements, history legs and
stable ids across overlapping exports. The golden rows are in tests/data/wise/."""

from __future__ import annotations

from decimal import Decimal

import pytest

from importers import registry
from tests.conftest import DATA
from tests.golden import assert_refused, parse

BROKEN = DATA / "broken"
GOLDEN = DATA / "wise"
USD = GOLDEN / "statement_12345678_USD_2024-06-01_2024-06-30.csv"
EUR = GOLDEN / "statement_12345678_EUR_2023-02-01_2023-02-28.csv"
HISTORY = GOLDEN / "transaction-history.csv"
AMOUNT_HINT = "amounts must be numbers such as 1,234.56; fix or re-download"
HISTORY_HINT = ("the row does not add up as a Wise transfer; the file may be edited: download "
                "transaction-history.csv again")


BROKEN_CASES = {
    "wise-wrong-columns.csv": (
        "1: column 'amount' is missing\n  hint: columns found: 'TransferWise ID', 'Date', "
        "'Currency', 'Description', 'Running Balance'"),
    "wise-bad-amount.csv": f"2: Amount '-23.6O' is not a number\n  hint: {AMOUNT_HINT}",
    "wise-balance-break.csv": (
        "2: balance 1476.4000 does not follow from line 3 (expected 1467.4000: previous "
        "balance + amount)\n  hint: the file is truncated, edited or misread; download the "
        "export again"),
    "wise-bad-date.csv": (
        "2: date '2024-06-01' is not a date in the expected form (28-06-2024)\n  hint: Wise "
        "statements write dates as DD-MM-YYYY; use the original CSV"),
    "wise-history-unknown-status.csv": (
        "3: unknown Wise status 'ON_HOLD'\n  hint: known statuses: COMPLETED (booked); "
        "CANCELLED, REFUNDED, PENDING... (not booked). Please report this status; meanwhile "
        "remove the row"),
    "wise-history-bad-direction.csv": (
        "2: unknown Wise direction 'SIDEWAYS'\n  hint: Direction is IN, OUT or NEUTRAL; the "
        "file may be edited"),
    "wise-history-bad-amount.csv": (
        f"2: Source amount (after fees) '495.88 USD?' is not a number\n  hint: {AMOUNT_HINT}"),
    "wise-history-fee-currency.csv": (
        f"2: Source fee currency differs from Source currency\n  hint: {HISTORY_HINT}"),
    "wise-history-truncated.csv": (
        "2: row has 19 cells, fewer than the header's 21\n  hint: the file looks truncated or "
        "edited; download the export again"),
}


@pytest.mark.parametrize("name", sorted(BROKEN_CASES))
def test_broken_file_message(name):
    assert_refused(name, BROKEN_CASES[name])


def test_detection():
    assert registry.detect(registry.read(USD)).name == "wise"
    assert registry.detect(registry.read(EUR)).name == "wise"
    assert registry.detect(registry.read(HISTORY)).name == "wise-history"


def by_ref(rows):
    return {(r["ref"], str(r["amount"])): r for r in rows.iter_rows(named=True)}


def test_fee_inside_amount_is_noted_not_split():
    rows = parse(USD).rows
    assert "payment_fee" not in rows["kind"].to_list()
    sent = rows.filter(rows["ref"] == "TRANSFER-4000000004").row(0, named=True)
    assert str(sent["amount"]) == "-1000.0000"
    assert sent["description"].endswith(
        "[fx USD->PKR rate 278.10000] [delivered 276431.40 PKR] [fee 6.00 USD included]")


def test_fees_shown_separately_are_linked_not_noted():
    rows = by_ref(parse(EUR).rows)
    fee = rows[("FEE-TRANSFER-300000002", "-1.5000")]
    assert (fee["kind"], fee["related_ref"]) == ("payment_fee", "TRANSFER-300000002")
    assert "[fee" not in rows[("TRANSFER-300000002", "-400.0000")]["description"]
    conversion_fee = rows[("BALANCE-300000003", "-0.3800")]
    assert (conversion_fee["kind"], conversion_fee["related_ref"]) == (
        "payment_fee", "BALANCE-300000003")


def test_conversion_legs_from_two_statements_link_with_distinct_ids(tmp_path):
    header = USD.read_text().splitlines()[0]
    pkr = tmp_path / "statement_12345678_PKR_2024-06-01_2024-06-30.csv"
    pkr.write_text(header + "\n" + ','.join([
        "BALANCE-4000000003", "05-06-2024", '"05-06-2024 08:00:00.000"', "138195.00", "PKR",
        '"Converted 500.00 USD to 138,195.00 PKR"', "", "138195.00", "USD", "PKR", "277.50000",
        "", "", "", "", "", "", "", "", "0.00", "138195.00", "CREDIT", "CONVERSION"]) + "\n")
    usd_rows = parse(USD).rows
    usd_leg = usd_rows.filter(usd_rows["ref"] == "BALANCE-4000000003").row(0, named=True)
    pkr_leg = parse(pkr).rows.row(0, named=True)
    assert usd_leg["kind"] == pkr_leg["kind"] == "fx"
    assert usd_leg["related_ref"] == pkr_leg["related_ref"] == "BALANCE-4000000003"
    assert usd_leg["id"] != pkr_leg["id"]
    assert pkr_leg["amount"] == Decimal("138195") and pkr_leg["currency"] == "PKR"


def test_overlapping_statements_give_the_same_ids(tmp_path):
    lines = EUR.read_text().splitlines()
    header, body = lines[0], lines[1:]
    newer, older = tmp_path / "newer.csv", tmp_path / "older.csv"
    newer.write_text("\n".join([header, *body[:5]]) + "\n")
    older.write_text("\n".join([header, *body[2:]]) + "\n")
    a = {(r["ref"], str(r["amount"])): r["id"] for r in parse(newer).rows.iter_rows(named=True)}
    b = {(r["ref"], str(r["amount"])): r["id"] for r in parse(older).rows.iter_rows(named=True)}
    shared = set(a) & set(b)
    assert len(shared) == 3
    assert all(a[k] == b[k] for k in shared)
    full = {(r["ref"], str(r["amount"])): r["id"] for r in parse(EUR).rows.iter_rows(named=True)}
    assert {**a, **b} == full


def test_history_money_out_is_source_amount_plus_fee():
    rows = parse(HISTORY).rows
    sent = rows.filter(rows["ref"] == "TRANSFER-1001")
    assert sent["kind"].to_list() == ["transfer", "payment_fee"]
    assert sum(sent["amount"].to_list()) == Decimal("-500.00")
    received = rows.filter(rows["ref"] == "TRANSFER-1002")
    assert [str(a) for a in received["amount"]] == ["2505.0000", "-5.0000"]
    assert sum(received["amount"].to_list()) == Decimal("2500.00")


def test_history_conversion_is_two_fx_legs_and_a_fee():
    rows = parse(HISTORY).rows
    legs = rows.filter(rows["ref"] == "BALANCE-1003")
    assert [(r["kind"], str(r["amount"]), r["currency"]) for r in legs.iter_rows(named=True)] == [
        ("fx", "-498.8000", "GBP"), ("fx", "632.4800", "USD"), ("payment_fee", "-1.2000", "GBP")]
    assert set(legs["related_ref"]) == {"BALANCE-1003"}


def test_history_skips_what_did_not_complete():
    parsed = parse(HISTORY)
    assert parsed.rows_read == 9
    assert parsed.skipped == {"status REFUNDED": 1, "status CANCELLED": 1}
    assert not {"TRANSFER-1005", "TRANSFER-1007"} & set(parsed.rows["ref"])


def test_history_card_split_over_two_balances_keeps_both_rows():
    rows = parse(HISTORY).rows
    card = rows.filter(rows["ref"] == "CARD-1008")
    assert sorted(card["currency"]) == ["EUR", "USD"]
    assert card["id"].n_unique() == 2


def test_overlapping_histories_give_the_same_ids(tmp_path):
    lines = HISTORY.read_text().splitlines()
    header, body = lines[0], lines[1:]
    newer, older = tmp_path / "newer.csv", tmp_path / "older.csv"
    newer.write_text("\n".join([header, *body[:7]]) + "\n")
    older.write_text("\n".join([header, *body[5:]]) + "\n")
    ids_newer = set(parse(newer).rows["id"])
    ids_older = set(parse(older).rows["id"])
    full = set(parse(HISTORY).rows["id"])
    assert ids_newer & ids_older  # CARD-1004 and TRANSFER-1001 (with its fee) in both
    assert ids_newer | ids_older == full


def test_names_fall_back_to_the_english_description(tmp_path):
    header = EUR.read_text().splitlines()[0]
    path = tmp_path / "statement.csv"
    path.write_text("\n".join([
        header,
        'TRANSFER-2,02-02-2023,-10.00,EUR,"Sent money to Ali Khan",,90.00' + "," * 12,
        'TRANSFER-1,01-02-2023,100.00,EUR,"Received money from Zed Ltd",,100.00' + "," * 12,
    ]) + "\n")
    rows = parse(path).rows
    assert [(r["kind"], r["counterparty"]) for r in rows.iter_rows(named=True)] == [
        ("transfer", "Ali Khan"), ("earning", "Zed Ltd")]
