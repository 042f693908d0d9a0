"""The tax year (`ledger report --tax-year`, ledger/core/fiscal.py) and the remittance register
(`ledger tax-register`, ledger/reports/tax_register.py): each country's fiscal year, one
register line per bank credit with its reference and chain, and totals that foot to the
report's figures,
on the demo and on a generated two-year ledger crossing fiscal years."""

from __future__ import annotations

import csv
import datetime as dt
import io
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger.core import fiscal
from tests.test_cli import as_json, import_demo, ok, run

D = Decimal


# --- the fiscal year ------------------------------------------------------------------------


@pytest.mark.parametrize(("country", "start", "end", "label"), [
    ("PK", "2023-07-01", "2024-06-30", "tax year 2024"),
    ("BD", "2023-07-01", "2024-06-30", "income year 2023-24 (assessment year 2024-25)"),
    ("IN", "2023-04-01", "2024-03-31", "FY 2023-24 (AY 2024-25)"),
    ("PH", "2024-01-01", "2024-12-31", "taxable year 2024"),
    ("KE", "2024-01-01", "2024-12-31", "year of income 2024"),
    ("NG", "2024-01-01", "2024-12-31", "year of assessment 2024"),
    ("US", "2024-01-01", "2024-12-31", "calendar year 2024"),
    (None, "2024-01-01", "2024-12-31", "calendar year 2024"),
])
def test_tax_year_of_each_country(country, start, end, label):
    period = fiscal.tax_year(country, 2024)
    assert (period.start.isoformat(), period.end.isoformat()) == (start, end)
    assert label in period.label


def test_year_expr_agrees_with_tax_year_on_every_day():
    days = pl.date_range(dt.date(2022, 12, 25), dt.date(2025, 1, 5), eager=True)
    codes = ["PK", "IN", "BD", "KE", "NG", "PH", "XX"]
    frame = pl.DataFrame({"date": days}).join(pl.DataFrame({"country": codes}), how="cross")
    got = frame.with_columns(fiscal.year_expr(pl.col("date"), pl.col("country")).alias("fy"))
    for code in codes:
        for year in (2023, 2024, 2025):
            p = fiscal.tax_year(code, year)
            inside = got.filter((pl.col("country") == code)
                                & pl.col("date").is_between(p.start, p.end))
            assert inside["fy"].unique().to_list() == [year], (code, year)


# --- the demo (Pakistan, April-June 2024) ---------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return import_demo(tmp_path_factory.mktemp("taxdemo"))


def cli(root: Path, *args: str):
    return run("--ledger", root, *args, cwd=root.parent)


@pytest.fixture(scope="module")
def demo_json(demo) -> dict:
    """`report` and `tax-register` of tax year 2024 on the demo, as JSON (read-only)."""
    return {name: as_json(cli(demo, name, "--tax-year", "2024", "--format", "json"))
            for name in ("report", "tax-register")}


def test_report_tax_year_is_pakistans_july_to_june(demo, demo_json):
    data = demo_json["report"]
    assert data["period"]["from"] == "2023-07-01" and data["period"]["to"] == "2024-06-30"
    assert "tax year 2024" in data["period"]["label"]
    assert [m["month"] for m in data["months"]] == ["2024-04", "2024-05", "2024-06"]
    same = as_json(cli(demo, "report", "--from", "2023-07-01", "--to", "2024-06-30",
                       "--format", "json"))
    assert data["totals"] == same["totals"] and data["months"] == same["months"]


def test_tax_year_with_another_period_is_a_usage_error(demo):
    result = cli(demo, "report", "--tax-year", "2024", "--month", "2024-06")
    assert result.returncode == 2 and "--tax-year" in result.stderr
    assert "Traceback" not in result.stderr


def bank_rows(root: Path, kind: str) -> list[dict]:
    rows = as_json(cli(root, "transactions", "--kind", kind, "--format", "json"))
    return [r for r in rows if r["source"].startswith("bank:")]


def test_register_lists_each_rupee_credit_with_its_reference_and_chain(demo, demo_json):
    data = demo_json["tax-register"]
    credits = [r for r in bank_rows(demo, "transfer") if D(r["amount"]) > 0]
    listed = {i["id"]: i for i in data["remittances"] + data["untraced"]}
    assert sorted(listed) == sorted(r["id"] for r in credits)
    for r in credits:
        item = listed[r["id"]]
        assert D(item["amount"]) == D(r["amount"]) and item["bank_ref"] == r["ref"]
    paypal = next(i for i in data["remittances"] if i["bank_ref"] == "583920")
    assert paypal["chain"].startswith("paypal ") and paypal["foreign_currency"] == "USD"
    assert (D(paypal["charges"]), D(paypal["tax"])) == (D("150.00"), D("213.17"))
    assert paypal["carried"][0]["client"] == "Müller Design GmbH"
    # the rate withheld beside the rule's rate for the ledger's status (filer by default)
    assert D(paypal["tax_rate"]) == (D("213.17") / D("85267.29")).quantize(D("0.000001"))
    from rules.fees import load_schedule

    rule = next(r for r in load_schedule().rules if r.id == paypal["tax_rule"])
    assert D(paypal["tax_rule_rate"]) == rule.rates["filer"]
    payoneer = next(i for i in data["remittances"] if i["from"] == "payoneer")
    assert payoneer["chain"].split(" → ")[0].startswith("upwork")  # the chain behind it
    assert data["untraced"] == []
    assert "not tax advice" in data["notice"]
    assert "deductions.export_wht.PK.2022-07-01" in {r["id"] for r in data["rules"]}


def assert_foots(register: dict, report: dict, root: Path) -> None:
    """The register's months add up to its year; its tax and net income are the report's;
    the reconciliation lines add up as printed."""
    traced = register["totals"]["traced"]
    for field in ("local", "charges", "tax", "net"):
        assert sum(D(m[field]) for m in register["months"]) == D(traced[field])
        assert sum(D(i[field if field != "local" else "value"]) for i in
                   register["remittances"]) == D(traced[field])
    start, end = register["period"]["from"], register["period"]["to"]
    taxes = [r for r in bank_rows(root, "tax") if start <= r["date"] <= end]
    assert D(register["totals"]["all"]["tax"]) == -sum(D(r["amount"]) for r in taxes)
    assert D(register["totals"]["all"]["tax"]) == D(report["totals"]["taxes"])
    lines = {line["key"]: D(line["amount"]) for line in register["reconciliation"]["lines"]}
    assert lines["net_income"] == D(report["totals"]["net"])
    assert lines["expected_home"] == (lines["net_income"] + lines["abroad_at_start"]
                                      + lines["abroad_at_end"])
    assert lines["remitted"] == lines["remitted_traced"] + lines["remitted_untraced"]
    assert lines["difference"] == lines["remitted"] - lines["expected_home"]
    assert lines["abroad_at_end"] == -D(register["not_home"]["end"]["total"])


def test_register_foots_to_the_report_on_the_demo(demo, demo_json):
    register, report = demo_json["tax-register"], demo_json["report"]
    assert_foots(register, report, demo)
    end = register["not_home"]["end"]["items"]
    assert any(i["what"].startswith("sent, never arrived") for i in end)  # the 200 USD
    assert {i["account"] for i in end if i["what"] == "balance"} >= {"upwork"}


def test_money_not_home_is_valued_at_a_rate_from_on_or_before_the_day(demo, demo_json):
    """"Not in a local bank on 2024-06-30 (valued that day)" never takes a rate published
    after the day: the demo's rates.csv has USD on 2024-06-24 and 2024-07-01 (the nearer), and
    the year-end balances take 2024-06-24's, the date named beside the rate."""
    register = demo_json["tax-register"]
    for side in ("start", "end"):
        day = register["not_home"][side]["date"]
        for item in register["not_home"][side]["items"]:
            if item["rate"] is not None:
                rate_date = item["rate_source"].rsplit(" ", 1)[1]
                assert rate_date <= day, (side, item)
    end = register["not_home"]["end"]["items"]
    assert {(i["rate"], i["rate_source"]) for i in end} == {("278.45", "user 2024-06-24")}
    total = sum(D(i["amount"]) for i in end) * D("278.45")
    assert D(register["not_home"]["end"]["total"]) == total.quantize(D("0.01"))
    table = ok(cli(demo, "--width", "200", "tax-register", "--tax-year", "2024")).stdout
    assert "Not in a local bank on 2024-06-30 (valued that day, at the last rate on or " \
        "before it)" in table
    assert "user 2024-07-01" not in table


def test_register_csv_html_and_table(demo, tmp_path):
    text = ok(cli(demo, "tax-register", "--tax-year", "2024", "--format", "csv")).stdout
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["section", "key", "field", "value"]
    refs = [r[3] for r in rows if r[0] == "remittance" and r[2] == "bank_ref"]
    assert "583920" in refs and len(refs) == 6
    page = tmp_path / "register.html"
    ok(cli(demo, "tax-register", "--tax-year", "2024", "--format", "html", "-o", str(page)))
    html = page.read_text("utf-8")
    assert "size:A4" in html and "not tax advice" in html and "583920" in html
    table = ok(cli(demo, "tax-register", "--tax-year", "2024")).stdout
    assert "583920" in table and "paypal 2024-06-25 → bank:meezan 2024-06-28" in table
    empty = ok(cli(demo, "tax-register", "--tax-year", "2023")).stdout
    assert "No credits into a local bank in this tax year" in empty
    assert "2024-04-02 to 2024-06-28" in empty


# --- a generated two-year ledger (January 2023 to December 2024) ----------------------------

BANK_RATE = D("276")
"""PKR credited per USD; the reference in rates.csv is 278."""


def _upwork_csv(months: list[dt.date]) -> tuple[str, list[tuple[dt.date, D]]]:
    """An Upwork statement: 200 USD hourly from Acme on the 5th (10% fee), a 150 USD withdrawal
    to the local bank on the 20th (28th in June, so it lands in July). Newest first."""
    events = []
    for n, first in enumerate(months):
        ref = 700000 + 10 * n
        events.append((first.replace(day=5), ref, "Hourly", "Invoice - 25:00 hrs @ $8.00/hr",
                       "Acme Corp", D("200.00")))
        events.append((first.replace(day=5), ref + 1, "Service Fee",
                       f"Service Fee - Ref ID {ref}", "Acme Corp", D("-20.00")))
        day = first.replace(day=28 if first.month == 6 else 20)
        events.append((day, ref + 2, "Withdrawal Fee", "Withdrawal Fee", "", D("-0.99")))
        events.append((day, ref + 3, "Withdrawal",
                       "Withdrawal Request: Direct to Local Bank: xxxx-4417", "", D("-150.00")))
    balance = D(0)
    lines = []
    withdrawals = []
    for date, ref, kind, text, team, amount in events:
        balance += amount
        lines.append(f'"{date:%b %d, %Y}",{ref},{kind},{text},,Ayesha Malik,{team},'
                     f"Ayesha Malik,,{amount:.2f},,,{balance:.2f}")
        if kind == "Withdrawal":
            withdrawals.append((date, -amount))
    head = ("Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,"
            "Amount in local currency,Currency,Balance")
    return "\n".join([head, *reversed(lines)]) + "\n", withdrawals


def _bank_csv(withdrawals: list[tuple[dt.date, D]], start: dt.date, end: dt.date) -> str:
    """A Meezan statement: each withdrawal credited 4 days later in PKR with its STAN, the
    bank's charge and 0.25% tax on the next line; one credit no withdrawal explains (its
    description looks like a formula)."""
    items = []
    for n, (date, usd) in enumerate(withdrawals):
        pkr = usd * BANK_RATE
        stan = 500100 + n
        day = date + dt.timedelta(days=4)
        items.append((day, f"Inward Remittance UPWORK GLOBAL INC-STAN ({stan})", None, pkr))
        tax = (pkr * D("0.0025")).quantize(D("0.01"))
        items.append((day, f"CHG:PKR100.00 FBRTax:PKR{tax}-STAN ({stan})", D(100) + tax,
                      None))
    items.append((dt.date(2024, 2, 14), "=HYPERLINK(1) Inward Remittance PAYONEER INC", None,
                  D("5000.00")))
    items.sort(key=lambda i: i[0])
    balance = D("10000.00")
    out = ["Transaction Date ,Description ,Debit ,Credit ,Available Balance ,",
           f'"{start:%d/%m/%Y}" ,"Opening Balance" , , ,"{balance}" ,']
    for day, text, debit, credit in items:
        balance += (credit or 0) - (debit or 0)
        out.append(f'"{day:%d/%m/%Y}" ,"{text}  " ,{"" if debit is None else debit} ,'
                   f'{"" if credit is None else credit} ,"{balance}" ,')
    out.append(f'"{end:%d/%m/%Y}" ,"Closing Balance" , , ,"{balance}" ,')
    return "\n".join(out) + "\n"


@pytest.fixture(scope="module")
def two_years(tmp_path_factory) -> Path:
    cwd = tmp_path_factory.mktemp("twoyears")
    root = cwd / "led"
    root.mkdir()
    (root / "ledger.toml").write_text('home_currency = "PKR"\ncountry = "PK"\n', "utf-8")
    days = pl.date_range(dt.date(2022, 12, 1), dt.date(2025, 7, 31), eager=True)
    (root / "rates.csv").write_text("date,from,to,rate\n" + "".join(
        f"{d},USD,PKR,278.00\n" for d in days), "utf-8")
    months = [dt.date(2023 + m // 12, m % 12 + 1, 1) for m in range(24)]
    upwork, withdrawals = _upwork_csv(months)
    (cwd / "statements_2023-01-01_2024-12-31.csv").write_text(upwork, "utf-8")
    (cwd / "AccountFullStatement.CSV").write_text(
        _bank_csv(withdrawals, dt.date(2023, 1, 1), dt.date(2024, 12, 31)), "utf-8")
    ok(run("--ledger", root, "import", cwd / "statements_2023-01-01_2024-12-31.csv",
           cwd / "AccountFullStatement.CSV", cwd=cwd))
    return root


@pytest.mark.parametrize(("year", "credits"), [(2023, 5), (2024, 12), (2025, 7)])
def test_register_foots_to_the_report_across_fiscal_years(two_years, year, credits):
    """Data runs January 2023 to December 2024: tax years 2023 and 2025 are partial."""
    register = as_json(cli(two_years, "tax-register", "--tax-year", str(year),
                           "--format", "json"))
    report = as_json(cli(two_years, "report", "--tax-year", str(year), "--format", "json"))
    assert register["period"]["from"] == f"{year - 1}-07-01"
    assert_foots(register, report, two_years)
    assert len(register["remittances"]) == credits
    # one rate all along, so nothing is revalued: the year's income, less what stayed abroad,
    # is exactly what came home traced; only the untraced credit is left over
    lines = {line["key"]: D(line["amount"]) for line in register["reconciliation"]["lines"]}
    assert lines["expected_home"] == lines["remitted_traced"]
    assert lines["difference"] == lines["remitted_untraced"] == D(
        register["totals"]["untraced"]["net"])
    assert sum(m["count"] for m in register["months"]) == credits
    transit = {side: [i["since"] for i in register["not_home"][side]["items"]
                      if i["what"] == "in transit"] for side in ("start", "end")}
    # June's withdrawal (28 June) lands on 2 July: in transit at the old year's end, the
    # first line of the new tax year with its chain leaving Upwork in the year before
    assert transit["end"] == ([f"{year}-06-28"] if year < 2025 else [])
    assert transit["start"] == ([f"{year - 1}-06-28"] if year > 2023 else [])
    if year > 2023:
        first = register["remittances"][0]
        assert first["date"] == f"{year - 1}-07-02"
        assert first["chain"].startswith(f"upwork {year - 1}-06-28")
        assert first["bank_ref"] and D(first["tax"]) == D("103.50")
        assert register["months"][0]["count"] == 2  # July: June's and July's


def test_untraced_credit_listed_apart_and_csv_is_formula_safe(two_years):
    register = as_json(cli(two_years, "tax-register", "--tax-year", "2024", "--format",
                           "json"))
    assert [i["date"] for i in register["untraced"]] == ["2024-02-14"]
    assert register["totals"]["untraced"]["local"] == "5000.00"
    text = ok(cli(two_years, "tax-register", "--tax-year", "2024", "--format", "csv")).stdout
    cells = [c for row in csv.reader(io.StringIO(text)) for c in row]
    assert any("HYPERLINK" in c for c in cells)
    assert not [c for c in cells if c[:1] in "=+@" and c]


def test_an_indian_ledger_gets_april_to_march(two_years, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(two_years, root)
    (root / "ledger.toml").write_text('home_currency = "PKR"\ncountry = "IN"\n', "utf-8")
    with (root / "rates.csv").open("a", encoding="utf-8") as rates:  # India's benchmarks
        rates.write("2024-03-31,INR,PKR,3.35\n")
    register = as_json(cli(root, "tax-register", "--tax-year", "2024", "--format", "json"))
    assert (register["period"]["from"], register["period"]["to"]) == ("2023-04-01",
                                                                      "2024-03-31")
    assert "FY 2023-24" in register["period"]["label"]
    months = [f"2023-{m:02d}" for m in range(4, 13)] + ["2024-01", "2024-02", "2024-03"]
    assert len(register["remittances"]) == 12  # June's credit lands on 2 July
    assert {i["date"][:7] for i in register["remittances"]} == set(months) - {"2023-06"}
    report = as_json(cli(root, "report", "--tax-year", "2024", "--format", "json"))
    assert report["period"]["from"] == "2023-04-01"
    assert_foots(register, report, root)


# --- the research batch ---------------------------------------------------------------------


def test_batch_period_fiscal_adds_each_workers_tax_year(tmp_path):
    months = [dt.date(2023 + m // 12, m % 12 + 1, 1) for m in range(24)]
    upwork, _ = _upwork_csv(months)
    for country in ("PK", "IN", "PH"):
        folder = tmp_path / "donations" / f"worker-{country}"
        folder.mkdir(parents=True)
        (folder / "statements_2023-01-01_2024-12-31.csv").write_text(upwork, "utf-8")
        (folder / "country.txt").write_text(country + "\n")
    ok(run("batch", "donations", "--out", "fiscal", "--period", "fiscal", "--jobs", "1",
           "--k", "1", cwd=tmp_path))
    panel = pl.read_parquet(tmp_path / "fiscal" / "panel" / "**" / "*.parquet",
                            hive_partitioning=True)
    assert panel.height == 3 * 24
    starts = {"PK": 7, "IN": 4, "PH": 1}
    for country, month, tax_year in panel.select("country", "month", "tax_year").iter_rows():
        year, number = int(month[:4]), int(month[5:])
        later = starts[country] > 1 and number >= starts[country]
        assert tax_year == year + later, (country, month, tax_year)
    assert "`tax_year`" in (tmp_path / "fiscal" / "README.md").read_text("utf-8")
    ok(run("batch", "donations", "--out", "plain", "--jobs", "1", "--k", "1", cwd=tmp_path))
    plain = pl.read_parquet(tmp_path / "plain" / "panel" / "**" / "*.parquet",
                            hive_partitioning=True)
    assert "tax_year" not in plain.columns
    bad = run("batch", "donations", "--out", "x", "--period", "quarter", cwd=tmp_path)
    assert bad.returncode == 2 and "--period" in bad.stderr


def test_no_country_gets_the_calendar_year_and_says_so(two_years, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(two_years, root)
    (root / "ledger.toml").write_text('home_currency = "PKR"\n', "utf-8")
    register = as_json(cli(root, "tax-register", "--tax-year", "2024", "--format", "json"))
    assert (register["period"]["from"], register["period"]["to"]) == ("2024-01-01",
                                                                      "2024-12-31")
    assert "calendar year 2024" in register["period"]["label"]
    assert any("no tax year is known" in w for w in register["warnings"])
    assert [r["id"] for r in register["rules"]] == []  # no country: no withholding rule


def test_home_remittance_status_names_its_own_rule(demo, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(demo, root)
    with (root / "ledger.toml").open("a", encoding="utf-8") as config:
        config.write('\n[fees.options]\ntax_status = "home_remittance"\n')
    register = as_json(cli(root, "tax-register", "--tax-year", "2024", "--format", "json"))
    assert {i["tax_rule"] for i in register["remittances"]} == {
        "deductions.export_wht.PK.home_remittance"}
    assert {D(i["tax_rule_rate"]) for i in register["remittances"]} == {D(0)}
