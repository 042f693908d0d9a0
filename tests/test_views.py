"""Longer periods: the month-by-month view agrees with each month's own report."""

from __future__ import annotations

from decimal import Decimal

import pytest

from tests.test_cli import as_json, ok, run


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("views")
    ok(run("demo", "--keep", "led", cwd=cwd))
    return cwd


def report(cwd, *period):
    return as_json(run("--ledger", "led", "report", *period, "--format", "json", cwd=cwd))


def test_each_month_of_the_year_equals_that_months_report(demo):
    year = report(demo, "--year", "2024")
    assert [m["month"] for m in year["months"]] == ["2024-04", "2024-05", "2024-06"]
    for month in year["months"]:
        alone = report(demo, "--month", month["month"])["totals"]
        assert {k: month[k] for k in alone} == alone
    # each line rounded once per month: the months add up to the year within a cent per month
    total = sum(Decimal(m["net"]) for m in year["months"])
    assert abs(total - Decimal(year["totals"]["net"])) <= Decimal("0.01") * len(year["months"])


def test_change_and_benchmark_ratio_per_month(demo):
    year = report(demo, "--year", "2024")
    minimum = next(b for b in year["benchmarks"] if b["name"] == "minimum_wage")
    previous = None
    for month in year["months"]:
        net = Decimal(month["net"])
        assert month["benchmark"] == "minimum_wage"
        assert month["benchmark_ratio"] == f"{net / Decimal(minimum['monthly']):.2f}"
        expected = None if previous is None else f"{(net - previous) / abs(previous):.4f}"
        assert month["net_change"] == expected
        previous = net


def test_a_single_month_has_no_month_table(demo):
    assert report(demo, "--month", "2024-06")["months"] == []
    table = ok(run("--ledger", "led", "report", "--year", "2024", cwd=demo)).stdout
    assert "Month by month" in table and "2024-05" in table


def test_locale_in_ledger_toml_sets_grouping_and_symbol(demo):
    config = demo / "led" / "ledger.toml"
    original = config.read_text()
    try:
        config.write_text(original.replace('locale = "en_PK"', 'locale = "en_IN"'))
        net = report(demo, "--month", "2024-06")["totals"]["net"]
        whole, fraction = net.split(".")
        assert len(whole) == 6  # lakhs: 1,71,795.31 where the West writes 171,795.31
        expected = f"{whole[0]},{whole[1:3]},{whole[3:]}.{fraction}"
        table = ok(run("--ledger", "led", "report", "--month", "2024-06", cwd=demo)).stdout
        assert expected in table
        config.write_text(original)
        table = ok(run("--ledger", "led", "report", "--month", "2024-06", cwd=demo)).stdout
        assert "PKR (Rs)" in table and f"{int(whole):,}.{fraction}" in table
    finally:
        config.write_text(original)


def test_months_of_slices_sorted_rows_and_splits_unsorted_ones_alike():
    """A month's rows are the same rows in the same order whether the dates are sorted (sliced
    where each month starts) or not (split by a month column); a month with none is empty,
    and a month across a year's end is found by its own label."""
    import datetime as dt

    import polars as pl

    from ledger.reports.views import _months_of

    days = [dt.date(2023, 12, 31), dt.date(2024, 1, 1), dt.date(2024, 1, 31),
            dt.date(2024, 3, 1), dt.date(2024, 3, 1)]
    rows = pl.DataFrame({"date": days, "hours": [1.0, 2.0, 3.0, 4.0, 5.0]})
    labels = ["2023-12", "2024-01", "2024-02", "2024-03"]
    expected = {"2023-12": [1.0], "2024-01": [2.0, 3.0], "2024-02": [], "2024-03": [4.0, 5.0]}
    sliced = _months_of(rows, labels)
    split = _months_of(rows.reverse(), labels)  # not sorted: split by month
    for label, hours in expected.items():
        assert sliced(label)["hours"].to_list() == hours
        assert split(label)["hours"].to_list() == hours[::-1]


def test_months_with_and_without_timesheet_rows_count_hours_as_combine_does():
    """March has only platform-billed hours (2.5 + 1.25 for Acme, 4 for a row without a
    client); April adds timesheet hours: paid for a client the platform billed nothing
    (counted), and bidding (unpaid). Each month's hours are hours.combine's of its rows."""
    import datetime as dt

    import polars as pl

    from ledger.core.schema import KINDS
    from ledger.reports.views import monthly

    billed = pl.DataFrame({"date": [dt.date(2024, 3, 2), dt.date(2024, 3, 9),
                                    dt.date(2024, 3, 20), dt.date(2024, 4, 5)],
                           "kind": ["earning"] * 4,
                           "counterparty": ["Acme", "Acme", None, "Acme"],
                           "hours": [2.5, 1.25, 4.0, 3.0]})
    sheet = pl.DataFrame({"date": [dt.date(2024, 4, 8), dt.date(2024, 4, 9)],
                          "hours": [6.0, 1.5], "kind": ["paid", "bidding"],
                          "client": ["Beta", None], "origin": ["source", "source"]})
    sums = {m: {k: Decimal(100) if k == "earning" else Decimal(0) for k in KINDS}
            for m in ("2024-03", "2024-04")}
    months = monthly(sums, billed, sheet, "USD", [])
    assert [(m["month"], m["hours"], m["unpaid_hours"]) for m in months] == [
        ("2024-03", "7.75", "0.00"), ("2024-04", "9.00", "1.50")]
