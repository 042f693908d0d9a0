"""Consistent answers (issue 19 item 5): filters refuse what they cannot match instead of
answering with an empty table, `ledger fees` never says "every fee matches" of fees it did not
check, its figures are the report's, and import lines count file rows and ledger rows apart."""

from __future__ import annotations

import pytest

from ledger.core.errors import UsageError


def test_source_filter_ignores_case_and_refuses_an_unknown_source(june):
    from ledger.reports.report import transactions

    upwork = transactions(june, sources=["upwork"])
    assert upwork.height > 0 and set(upwork["source"]) == {"upwork"}
    assert transactions(june, sources=["Upwork"]).equals(upwork)
    assert transactions(june, sources=[" UPWORK "]).equals(upwork)
    assert transactions(june, kinds=["Earning"]).height == \
        transactions(june, kinds=["earning"]).height > 0
    with pytest.raises(UsageError) as caught:
        transactions(june, sources=["Fiverr"])
    assert caught.value.message == "no rows from source(s) Fiverr in this ledger"
    assert caught.value.hint == "sources: paypal, upwork"


def test_import_source_names_a_format_in_any_case():
    from importers.registry import by_name

    assert by_name("Upwork").name == "upwork"
    with pytest.raises(UsageError, match="unknown source 'upwrk'"):
        by_name("upwrk")


def _data(checks: list[str], withdrawals: list[str] = (), flagged: int = 0) -> dict:
    from ledger.reports.fee_check import CHECKED_STATUSES

    statuses = [*checks, *withdrawals]
    unchecked: dict[str, int] = {}
    for s in sorted(statuses):
        if s not in CHECKED_STATUSES:
            unchecked[s] = unchecked.get(s, 0) + 1
    return {"checks": [{"status": s} for s in checks],
            "withdrawals": [{"status": s} for s in withdrawals], "flagged": flagged,
            "withdrawals_flagged": 0, "tolerance": "0.01",
            "checked": sum(s in CHECKED_STATUSES for s in statuses), "unchecked": unchecked}


def test_fees_verdict_names_what_it_did_not_check():
    from ledger.reports.fee_check import verdict

    # 2024-06 of the demo: five Upwork fees and two withdrawal fees match, PayPal not served
    assert verdict(_data(["ok"] * 4 + ["not_served"], ["ok", "ok"])) == [
        "the 6 checked fee(s) match their schedule (within 0.01)",
        "1 not checked (not_served): the schedule says the service is not offered there"]
    assert verdict(_data([])) == [
        "no earnings or withdrawals to check in this period: nothing was compared"]
    assert verdict(_data(["no_rule", "derived"])) == [
        "no fee could be checked against a schedule",
        "1 not checked (derived): their fee was worked out from the schedule (the export "
        "shows only the net)",
        "1 not checked (no_rule): no fee rule for them"]
    assert verdict(_data(["ok", "overcharged"], flagged=1)) == [
        "1 of 2 checked fee(s) differ from the schedule by more than 0.01"]
    for data in (_data(["not_served"]), _data([]), _data(["ok", "no_rule"])):
        assert not any("every fee" in line for line in verdict(data))


def test_fee_check_counts_what_it_checked(june):
    from ledger.cli.rules import check_for_ledger
    from rules.fees import Schedule

    data = check_for_ledger(june, Schedule.for_ledger(june), month="2024-06")
    statuses = [c["status"] for c in data["checks"] + data["withdrawals"]]
    assert data["checked"] + sum(data["unchecked"].values()) == len(statuses) > 0
    for status, n in data["unchecked"].items():
        assert statuses.count(status) == n


def test_fees_summary_is_the_reports(june):
    """Both commands count the period's rows the same way, so every cost figure agrees."""
    from ledger.cli.rules import check_for_ledger
    from ledger.reports.report import build
    from rules.fees import Schedule

    fees = check_for_ledger(june, Schedule.for_ledger(june), month="2024-06",
                            currency="USD")["summary"]["overall"]
    totals = build(june, month="2024-06", currency="USD")["totals"]
    for key in ("gross", "platform_fees", "payment_fees", "fx_cost", "bank_deductions",
                "taxes"):
        assert fees[key] == totals[key], key


def test_import_line_counts_file_rows_and_ledger_rows_apart():
    from ledger.render.ledger_dir import import_line
    from ledger.store.directory import ImportSummary

    paypal = ImportSummary(path="Download.CSV", import_id="x", format="paypal", rows_read=11,
                           rows=13, added=13, duplicates=0)
    assert import_line(paypal, "Download.CSV") == (
        "Download.CSV: paypal, 11 rows read, [bold]13 ledger rows added[/] (fees become their "
        "own rows), 0 already in the ledger")
    again = ImportSummary(path="u.csv", import_id="y", format="upwork", rows_read=5, rows=5,
                          added=0, duplicates=5, skipped={"pending": 1})
    assert import_line(again, "u.csv") == (
        "u.csv: upwork, 5 rows read, [bold]0 ledger rows added[/], 5 already in the ledger, "
        "skipped 1 pending")
