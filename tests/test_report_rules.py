"""The report with the fee rules applied: a Fiverr month shows gross, fee and net though the
export shows only net; a Payoneer withdrawal credited in PKR shows its FX spread against the
reference rate; a short credit shows its intermediary deduction; each derived figure names
its rule. Library and real CLI; the statement still foots (net = gross - costs)."""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal

import polars as pl
import pytest

from ledger.reports import report
from tests.conftest import DATA
from tests.test_cli import as_json, ok, run
from tests.test_fee_check import payoneer_csv, upwork_csv

D = Decimal

UPWORK = [
    ("2024-05-01", 800001, "Fixed Price", "Invoice for Milestone 1", "Acme Corp", "600.00"),
    ("2024-05-01", 800002, "Service Fee", "Service Fee - Ref ID 800001", "Acme Corp", "-60.00"),
    ("2024-05-01", 800003, "Withdrawal Fee", "Withdrawal Fee", "", "-2.00"),
    ("2024-05-01", 800004, "Withdrawal", "Withdrawal Request: Payoneer: xxxx-9876", "", "-500.00"),
]
PAYONEER = [
    # 500 sent by Upwork, 490 credited: 10 deducted on the way
    ("2024-05-02", "10:00:00", "5000001", "Payment from Upwork Global Inc", "490.00", "", "",
     "Upwork Global Inc", "Jane Doe"),
    # 400 USD withdrawn to a PKR account: 108,800 PKR delivered (272/USD against 278 mid)
    ("2024-05-03", "14:02:10", "5000002", "Transfer to bank account", "-400.00", "108800.00",
     "PKR", "Jane Doe", "HBL ***1234"),
    ("2024-05-03", "14:02:10", "5000003", "Withdrawal fee", "-3.00", "", "", "Jane Doe",
     "Payoneer"),
]
RATES = "date,from,to,rate\n2024-05-03,USD,PKR,278.00\n"


def write_exports(folder) -> list:
    folder.mkdir(parents=True, exist_ok=True)
    upwork = folder / "statements_2024-05.csv"
    upwork.write_text(upwork_csv(UPWORK))
    payoneer = folder / "payoneer_transactions.csv"
    payoneer.write_text(payoneer_csv(PAYONEER))
    return [upwork, payoneer]


@pytest.fixture
def may(ledger, options, tmp_path):
    ledger.root.mkdir(parents=True)
    ledger.rates_path.write_text(RATES)
    # (Payoneer's own export is month-first, and its May 2 and 3 could be read either way;
    # Upwork's dates are no numbers)
    ledger.import_files(write_exports(tmp_path / "downloads"), replace(options, date_order="mdy"))
    return ledger


def figures(data: dict) -> dict[str, dict]:
    return {r["id"]: r for r in data["rules"]}


def test_payoneer_withdrawal_to_pkr_shows_its_fx_spread(may):
    data = report.build(may, month="2024-05", currency="PKR")
    t = data["totals"]
    assert t["gross"] == f"{600 * 278:.2f}"
    assert t["platform_fees"] == f"{60 * 278:.2f}"
    assert t["payment_fees"] == f"{5 * 278:.2f}"          # Upwork 2.00 + Payoneer 3.00
    assert t["fx_cost"] == "2400.00"                       # 400 x 278 - 108,800
    assert t["bank_deductions"] == f"{10 * 278:.2f}"      # 500 sent, 490 credited
    # what is left: 108,800 PKR in the bank, 87 USD on Payoneer, 38 USD on Upwork
    assert D(t["net"]) == D("108800") + (87 + 38) * 278
    rules = figures(data)
    assert rules["transfers.conversion.delivered"]["figures"] == {"fx_cost": "2400.00"}
    assert rules["deductions.intermediary.measured"]["figures"] == {
        "bank_deductions": "2780.00"}
    assert rules["transfers.conversion.delivered"]["source"].startswith("the export's own")
    pkr = [r for r in data["rates"] if (r["from"], r["to"]) == ("USD", "PKR")]
    assert {(r["rate"], r["provider"]) for r in pkr} == {("278", "user")}
    # the stored rows are what they were: sources and row counts describe the files
    assert data["rows"] == 7


def test_the_same_month_in_usd_values_the_pkr_leg_at_the_reference_rate(may):
    data = report.build(may, month="2024-05", currency="USD")
    spread = D(400) - D(108800) / D(278)
    assert data["totals"]["fx_cost"] == f"{spread.quantize(D('0.01'))}"
    assert data["totals"]["bank_deductions"] == "10.00"
    pkr = [r for r in data["rates"] if r["from"] == "PKR"]
    assert pkr and all(r["provider"] == "user" for r in pkr)


def test_report_statement_foots_with_derived_rows(may):
    data = report.build(may, month="2024-05", currency="PKR")
    t = data["totals"]
    costs = sum(D(t[k]) for k, _ in report.COSTS)
    assert D(t["net"]) == D(t["gross"]) - costs + D(t["other"])


def test_counted_rows_conserve_money_per_currency(may):
    from rules.fees import apply_rules, load_schedule

    rows = may.rows()
    counted = apply_rules(rows, load_schedule())

    def sums(df):
        return dict(df.group_by("currency").agg(pl.col("amount").sum()).iter_rows())

    # every split keeps the money: only a PKR leg in and the same PKR out are added
    assert sums(counted)["USD"] == sums(rows)["USD"]
    assert sums(counted)["PKR"] == 0
    derived = counted.filter(pl.col("origin").str.starts_with("rule:"))
    assert set(derived["origin"]) == {"rule:transfers.conversion.delivered",
                                      "rule:deductions.intermediary.measured"}


def test_fiverr_month_reports_gross_fee_and_net(ledger, options):
    ledger.root.mkdir(parents=True)
    ledger.import_files([DATA / "fiverr" / "earnings.csv"], options)
    data = report.build(ledger, month="2024-06")
    t = data["totals"]
    # net shown: 24 + 8 + 96 = 128, less the cancelled 24 -> orders 30 + 10 + 120 - 30 gross
    assert t["gross"] == "130.00"
    # 20% derived (6 + 2 + 24 - 6 given back) + Seller Plus 29 + Promoted Gigs 15
    assert t["platform_fees"] == "70.00"
    assert t["payment_fees"] == "2.00"
    assert t["net"] == "58.00"  # the export's own net: 128 - 24 - 29 - 15 - 2
    [rule] = data["rules"]
    assert rule["id"] == "fiverr.service_fee.2010-02-01"
    assert rule["figures"] == {"gross": "130.00", "platform_fees": "26.00"}
    assert rule["rule"] == "20%" and rule["source"].startswith("https://")
    fiverr = {p["platform"]: p for p in data["by_platform"]}["fiverr"]
    assert (fiverr["gross"], fiverr["fees"]) == ("130.00", "72.00")


def test_wise_fees_inside_amounts_are_split_out(ledger, options):
    ledger.root.mkdir(parents=True)
    ledger.rates_path.write_text("date,from,to,rate\n2024-06-05,USD,PKR,277.50\n"
                                 "2024-06-07,USD,PKR,278.10\n")
    ledger.import_files([DATA / "wise" / "statement_12345678_USD_2024-06-01_2024-06-30.csv"],
                        options)
    data = report.build(ledger, month="2024-06", currency="USD")
    t = data["totals"]
    assert t["payment_fees"] == "8.00"  # 6.00 in the transfer, 2.00 in the conversion
    # Wise converts at the mid rate: against the same rates no spread is left
    assert t["fx_cost"] == "0.00"
    assert figures(data)["transfers.included_fee"]["figures"] == {"payment_fees": "8.00"}


def test_a_rule_turned_off_in_ledger_toml_is_not_applied(may):
    may.config_path.write_text('[[fees.deductions.intermediary]]\n'
                               'id = "deductions.intermediary.measured"\nenabled = false\n')
    data = report.build(may, month="2024-05", currency="PKR")
    assert data["totals"]["bank_deductions"] == "0.00"
    assert "deductions.intermediary.measured" not in figures(data)


# --- CLI ------------------------------------------------------------------------------------

@pytest.fixture
def cli_may(tmp_path):
    files = write_exports(tmp_path / "downloads")
    (tmp_path / "led").mkdir()
    (tmp_path / "led" / "rates.csv").write_text(RATES)
    ok(run("--ledger", "led", "import", *files, "--date-order", "mdy", cwd=tmp_path))  # (as `may`)
    return tmp_path


def test_cli_report_json_has_fx_cost_rates_and_rules(cli_may):
    data = as_json(run("--ledger", "led", "report", "--month", "2024-05", "--currency", "PKR",
                       "--format", "json", cwd=cli_may))
    assert data["schema"] == "ledger.report/1"
    assert data["totals"]["fx_cost"] == "2400.00"
    assert data["totals"]["bank_deductions"] == "2780.00"
    assert {r["provider"] for r in data["rates"]} == {"user"}
    assert set(figures(data)) == {"transfers.conversion.delivered",
                                  "deductions.intermediary.measured"}


def test_cli_report_table_names_the_rules(cli_may):
    text = ok(run("--ledger", "led", "report", "--month", "2024-05", "--currency", "PKR",
                  cwd=cli_may)).stdout
    assert "FX cost" in text and "2,400.00" in text
    assert "transfers.conversion.delivered" in text
    assert "deductions.intermediary.measured" in text


def test_cli_fiverr_month(tmp_path):
    ok(run("--ledger", "led", "import", DATA / "fiverr" / "earnings.csv", cwd=tmp_path))
    data = as_json(run("--ledger", "led", "report", "--month", "2024-06", "--format", "json",
                       cwd=tmp_path))
    assert (data["totals"]["gross"], data["totals"]["platform_fees"], data["totals"]["net"]) \
        == ("130.00", "70.00", "58.00")
    assert figures(data)["fiverr.service_fee.2010-02-01"]["rows"] == 8
    # transactions still lists the rows as imported
    rows = as_json(run("--ledger", "led", "transactions", "--format", "json", cwd=tmp_path))
    assert {r["origin"] for r in rows} == {"source"}
    assert sum(r["category"] == "net_of_fee" for r in rows) == 3


def test_cli_missing_rate_is_a_clean_data_error(cli_may):
    (cli_may / "led" / "rates.csv").write_text("date,from,to,rate\n")
    result = run("--ledger", "led", "report", "--month", "2024-05", "--currency", "KPW",
                 cwd=cli_may)
    assert result.returncode == 1
    assert "rates.csv: no " in result.stderr and "->KPW rate for 2024-05-" in result.stderr
    assert "hint:" in result.stderr and "Traceback" not in result.stderr


def test_cli_report_csv_lists_the_rules(cli_may):
    text = ok(run("--ledger", "led", "report", "--month", "2024-05", "--currency", "PKR",
                  "--format", "csv", cwd=cli_may)).stdout
    assert "rules,transfers.conversion.delivered,fx_cost,2400.00" in text
    assert "rules,deductions.intermediary.measured,bank_deductions,2780.00" in text


def test_intermediary_deductions_follow_reconcile_and_are_never_guessed(ledger, options,
                                                                       tmp_path):
    """Two same-amount Upwork payouts, each credited 10 short by Payoneer: which credit is
    which is ambiguous (reconcile says so), so no deduction is measured until the user links
    one pair; then reconcile settles the other and the report counts both deductions."""
    from ledger import reconcile

    upwork = [
        ("2024-05-01", 800001, "Fixed Price", "Invoice for Milestone 1", "Acme Corp", "1000.00"),
        ("2024-05-01", 800004, "Withdrawal", "Withdrawal Request: Payoneer: xxxx-9876", "",
         "-500.00"),
        ("2024-05-03", 800005, "Withdrawal", "Withdrawal Request: Payoneer: xxxx-9876", "",
         "-500.00"),
    ]
    payoneer = [
        ("2024-05-02", "10:00:00", "5000001", "Payment from Upwork Global Inc", "490.00", "",
         "", "Upwork Global Inc", "Jane Doe"),
        ("2024-05-04", "10:00:00", "5000002", "Payment from Upwork Global Inc", "490.00", "",
         "", "Upwork Global Inc", "Jane Doe"),
    ]
    ledger.root.mkdir(parents=True)
    ledger.rates_path.write_text(RATES)
    (tmp_path / "upwork.csv").write_text(upwork_csv(upwork))
    (tmp_path / "payoneer.csv").write_text(payoneer_csv(payoneer))
    ledger.import_files([tmp_path / "upwork.csv", tmp_path / "payoneer.csv"],
                        replace(options, date_order="mdy"))  # (May 1-3: either way)

    data = report.build(ledger, month="2024-05", currency="USD")
    assert data["chains"]["ambiguous_count"] == 2 and data["chains"]["matched"] == 0
    assert data["totals"]["bank_deductions"] == "0.00"

    rows = ledger.rows()
    first = rows.filter(pl.col("ref") == "800004")["id"][0]
    credit = rows.filter((pl.col("source") == "payoneer")
                         & (pl.col("date") == pl.date(2024, 5, 2)))["id"][0]
    reconcile.link(ledger, first, credit)
    data = report.build(ledger, month="2024-05", currency="USD")
    assert data["chains"]["matched"] == 2 and data["chains"]["ambiguous_count"] == 0
    assert data["totals"]["bank_deductions"] == "20.00"
    assert figures(data)["deductions.intermediary.measured"]["figures"] == {
        "bank_deductions": "20.00"}
