"""Income benchmarks: the right figure for the year, put on a monthly basis, set against net."""

from __future__ import annotations

from decimal import Decimal

import pytest

from ledger.core.errors import UsageError
from ledger.reports import benchmarks, report
from tests.conftest import DATA


def test_pick_takes_latest_year_at_or_before():
    table = benchmarks.table()
    rows = {r["benchmark"]: r for r in benchmarks.pick(table, "PK", 2024)}
    assert rows["minimum_wage"]["year"] == 2024 and rows["minimum_wage"]["amount"] == "37000"
    earlier = {r["benchmark"]: r for r in benchmarks.pick(table, "PK", 2016)}
    assert earlier["minimum_wage"]["amount"] == "14000"
    # 2016 GDP per head exists per year and per month (derived): the monthly row is kept
    assert earlier["gdp_per_capita"]["period"] == "month"


def test_monthly_derivations():
    row = {"benchmark": "minimum_wage", "country_iso2": "PH", "currency": "PHP",
           "amount": "645", "period": "day"}
    assert benchmarks.monthly(row) == (Decimal(645) * 26, "per day x 26")
    assert benchmarks.monthly({**row, "period": "year", "amount": "1200"})[0] == Decimal(100)
    assert benchmarks.monthly({**row, "period": "hour", "amount": "10"})[0] == Decimal(2080)
    assert benchmarks.monthly({**row, "country_iso2": "US", "period": "hour",
                               "amount": "7.25"})[0] == Decimal("7.25") * Decimal("173.33")
    assert benchmarks.monthly({**row, "currency": "PPP_USD_2021"}) is None


def test_user_benchmarks_need_their_fields():
    with pytest.raises(UsageError, match="lacks"):
        benchmarks.table([{"name": "living", "amount": "1"}], "PK")


@pytest.fixture
def pk_ledger(ledger, options):
    ledger.root.mkdir(parents=True)
    ledger.config_path.write_text('home_currency = "PKR"\ncountry = "PK"\n'
                                  '[[benchmarks]]\nname = "my_living_wage"\namount = "60000"\n'
                                  'currency = "PKR"\nperiod = "month"\nsource = "household"\n')
    ledger.rates_path.write_text("date,from,to,rate\n2024-06-03,USD,PKR,278.00\n"
                                 "2024-06-30,USD,PKR,278.50\n")
    ledger.import_files([DATA / "upwork" / "classic.csv"], options)
    return ledger


def test_report_sets_net_against_benchmarks(pk_ledger):
    data = report.build(pk_ledger, month="2024-06")
    found = {b["name"]: b for b in data["benchmarks"]}
    net = Decimal(data["totals"]["net"])
    wage = found["minimum_wage"]
    assert wage["year"] == 2024 and wage["monthly"] == "37000.00" and wage["currency"] == "PKR"
    assert wage["ratio"] == f"{net / Decimal(37000):.2f}"
    assert wage["hourly"] == f"{Decimal(37000) / 208:.2f}"
    mine = found["my_living_wage"]
    assert mine["ratio"] == f"{net / Decimal(60000):.2f}" and mine["source"] == "household"
    gdp = found["gdp_per_capita"]  # USD per year, valued at the rate nearest the month's end
    assert gdp["year"] == 2023 and "nearest available" in gdp["picked"]
    assert gdp["monthly"] == f"{Decimal('1365.28') / 12 * Decimal('278.50'):.2f}"


def test_no_country_no_benchmarks(ledger, options):
    ledger.import_files([DATA / "upwork" / "classic.csv"], options)
    assert report.build(ledger)["benchmarks"] == []
