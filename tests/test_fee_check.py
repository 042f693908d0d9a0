"""`ledger fees`: each earning's fee charged against the schedule (Upwork's 2016-2023 sliding
fee from the client's lifetime billings, the flat 10% after), withdrawal fees by method, the
effective rate per platform and route; through the library and the real CLI.

The made-up exports here use the real layouts (Upwork's classic transaction history, Payoneer's
17-column transactions CSV) with consistent running balances; `upwork_csv` and `payoneer_csv`
are shared with the report and quote tests.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path

import pytest

from ledger.core.errors import UsageError
from tests.test_cli import as_json, ok, run

D = Decimal

UPWORK_HEADER = ("Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,"
                 "Amount in local currency,Currency,Balance")


def upwork_csv(rows: list[tuple[str, int, str, str, str, str]], opening: str = "0") -> str:
    """An Upwork classic transaction history (newest first, running balance) from
    (date, ref, type, description, client team, amount) rows."""
    balance = D(opening)
    lines = []
    for date, ref, kind, text, team, amount in sorted(rows, key=lambda r: (r[0], r[1])):
        balance += D(amount)
        day = dt.date.fromisoformat(date)
        lines.append(f'"{day:%b} {day.day}, {day.year}",{ref},{kind},{text},,Jane Doe,{team},'
                     f"Jane Doe,,{amount},,,{balance}")
    return "\n".join([UPWORK_HEADER, *reversed(lines)]) + "\n"


PAYONEER_HEADER = ("Transaction Date,Transaction Time,Time Zone,Transaction ID,Description,"
                   "Credit Amount,Debit Amount,Currency,Transfer Amount,"
                   "Transfer Amount Currency,Status,Running Balance,Additional Description,"
                   "Store Name,Source,Target,Reference ID")


def payoneer_csv(rows: list[tuple], opening: str = "0") -> str:
    """A Payoneer 17-column transactions CSV (oldest first, USD balance) from
    (date, time, id, description, signed USD amount, transfer amount, transfer currency,
    source, target) rows."""
    balance = D(opening)
    lines = [PAYONEER_HEADER]
    for date, time, ref, text, amount, moved, moved_cur, source, target in rows:
        amount = D(amount)
        balance += amount
        day = dt.date.fromisoformat(date)
        credit, debit = (f"{amount:.2f}", "") if amount > 0 else ("", f"{-amount:.2f}")
        lines.append(f"{day:%m/%d/%Y},{time},UTC,{ref},{text},{credit},{debit},USD,{moved},"
                     f"{moved_cur},Completed,{balance:.2f},,,{source},{target},")
    return "\n".join(lines) + "\n"


UPWORK_ROWS = [
    # 2022, sliding fee: Acme's first $600 -> 20% of 500 + 10% of 100 = 110
    ("2022-02-10", 700001, "Fixed Price", "Invoice for Milestone 1", "Acme Corp", "600.00"),
    ("2022-02-10", 700002, "Service Fee", "Service Fee - Ref ID 700001", "Acme Corp", "-110.00"),
    # Acme past $500: 10%
    ("2022-03-05", 700010, "Hourly", "Invoice for 02/28/2022-03/06/2022 - 20:00 hrs @ $20.00/hr",
     "Acme Corp", "400.00"),
    ("2022-03-05", 700011, "Service Fee", "Service Fee - Ref ID 700010", "Acme Corp", "-40.00"),
    # a new client: 20% on the first $500
    ("2022-03-10", 700020, "Fixed Price", "Invoice for Logo", "Beta LLC", "300.00"),
    ("2022-03-10", 700021, "Service Fee", "Service Fee - Ref ID 700020", "Beta LLC", "-60.00"),
    # Beta's next 300 straddles $500: 200 at 20% + 100 at 10% = 50, charged 60
    ("2022-03-20", 700030, "Fixed Price", "Invoice for Banner", "Beta LLC", "300.00"),
    ("2022-03-20", 700031, "Service Fee", "Service Fee - Ref ID 700030", "Beta LLC", "-60.00"),
    # 2024, flat 10%
    ("2024-06-03", 900001, "Hourly", "Invoice for 05/27/2024-06/02/2024 - 14:20 hrs @ $18.00/hr",
     "Acme Corp", "258.00"),
    ("2024-06-03", 900002, "Service Fee", "Service Fee - Ref ID 900001", "Acme Corp", "-25.80"),
    ("2024-06-05", 900010, "Withdrawal Fee", "Withdrawal Fee", "", "-0.99"),
    ("2024-06-05", 900011, "Withdrawal", "Withdrawal Request: Direct to Local Bank: xxxx-1234", "",
     "-500.00"),
    ("2024-06-12", 900020, "Withdrawal Fee", "Withdrawal Fee", "", "-3.00"),
    ("2024-06-12", 900021, "Withdrawal", "Withdrawal Request: Payoneer: xxxx-9876", "",
     "-100.00"),
]


@pytest.fixture
def upwork_ledger(ledger, options, tmp_path):
    ledger.root.mkdir(parents=True)
    export = tmp_path / "statements_upwork.csv"
    export.write_text(upwork_csv(UPWORK_ROWS))
    ledger.import_files([export], options)
    return ledger


def check(ledger, **period):
    from ledger.cli.rules import check_for_ledger
    from rules.fees import Schedule

    return check_for_ledger(ledger, Schedule.for_ledger(ledger), **period)


# --- library ------------------------------------------------------------------------------

def test_2022_uses_the_sliding_fee_from_lifetime_billings(upwork_ledger):
    data = check(upwork_ledger, month="2022-03")
    rows = {(c["client"], c["gross"]): c for c in data["checks"]}
    assert [c["rule"] for c in data["checks"]] == ["upwork.service_fee.2016-06-21"] * 3
    acme = rows[("Acme Corp", "400.00")]
    assert (acme["charged"], acme["expected"], acme["status"]) == ("40.00", "40.00", "ok")
    first, second = (c for c in data["checks"] if c["client"] == "Beta LLC")
    assert (first["expected"], first["status"]) == ("60.00", "ok")
    assert (second["charged"], second["expected"], second["difference"], second["status"],
            second["flag"]) == ("60.00", "50.00", "10.00", "overcharged", True)
    assert data["flagged"] == 1
    [rule] = data["rules"]
    assert rule["id"] == "upwork.service_fee.2016-06-21" and "client lifetime" in rule["rule"]
    assert rule["source"].startswith("https://support.upwork.com/")
    # the history before the month counts: February's $600 put Acme past $500
    assert data["period"] == {"from": "2022-03-01", "to": "2022-03-31", "label": "March 2022"}


def test_2024_uses_the_flat_fee_and_checks_withdrawals_by_method(upwork_ledger):
    data = check(upwork_ledger, month="2024-06")
    [earning] = data["checks"]
    assert (earning["rule"], earning["expected"], earning["status"]) == (
        "upwork.service_fee.2023-05-03", "25.80", "ok")
    local, payoneer = data["withdrawals"]
    assert (local["method"], local["charged"], local["expected"], local["rule"],
            local["status"]) == ("direct_to_local_bank", "0.99", "0.99",
                                 "upwork.withdrawal_fee.direct_to_local_bank", "ok")
    assert (payoneer["method"], payoneer["charged"], payoneer["expected"],
            payoneer["status"]) == ("payoneer", "3.00", "2.00", "overcharged")
    assert data["withdrawals_flagged"] == 1
    overall = data["summary"]["overall"]
    # 25.80 service fee + 0.99 + 3.00 withdrawal fees on 258.00 gross
    assert (overall["gross"], overall["platform_fees"], overall["payment_fees"]) == (
        "258.00", "25.80", "3.99")
    assert overall["effective_rate"] == f"{D('29.79') / D('258'):.4f}"
    assert {r["id"] for r in data["rules"]} == {
        "upwork.service_fee.2023-05-03", "upwork.withdrawal_fee.direct_to_local_bank",
        "upwork.withdrawal_fee.payoneer"}


def test_prior_billings_in_ledger_toml_move_a_client_up_the_tiers(upwork_ledger):
    upwork_ledger.config_path.write_text(
        '[fees.options]\nprior_billings = { "Beta LLC" = "10000" }\n')
    data = check(upwork_ledger, month="2022-03")
    beta = [c for c in data["checks"] if c["client"] == "Beta LLC"]
    assert [c["expected"] for c in beta] == ["15.00", "15.00"]  # 5% above $10,000
    assert all(c["status"] == "overcharged" for c in beta)


def test_a_tolerance_absorbs_small_differences(upwork_ledger):
    from decimal import Decimal as Dec

    data = check(upwork_ledger, month="2022-03", tolerance=Dec("10.00"))
    assert data["flagged"] == 0


def test_fiverr_fees_are_derived_and_paypal_in_pakistan_is_not_served(ledger, options):
    from tests.conftest import DATA

    ledger.root.mkdir(parents=True)
    ledger.config_path.write_text('country = "PK"\n')
    ledger.rates_path.write_text("date,from,to,rate\n2024-06-03,EUR,USD,1.0850\n")
    ledger.import_files([DATA / "fiverr" / "earnings.csv", DATA / "paypal" / "activity-en.csv"],
                        options)
    data = check(ledger, month="2024-06", currency="USD")
    fiverr = [c for c in data["checks"] if c["platform"] == "fiverr"]
    assert {(c["gross"], c["charged"], c["status"]) for c in fiverr} == {
        ("30.00", "6.00", "derived"), ("10.00", "2.00", "derived"),
        ("120.00", "24.00", "derived")}
    paypal = [c for c in data["checks"] if c["platform"] == "paypal"]
    assert paypal and {c["status"] for c in paypal} == {"not_served"}
    assert not any(c["flag"] for c in paypal)
    [withdrawal] = data["withdrawals"]
    assert (withdrawal["method"], withdrawal["expected"]) == ("paypal", "1.00")


# --- CLI ----------------------------------------------------------------------------------

@pytest.fixture
def cli_ledger(tmp_path) -> Path:
    export = tmp_path / "statements_upwork.csv"
    export.write_text(upwork_csv(UPWORK_ROWS))
    ok(run("--ledger", "led", "import", export, cwd=tmp_path))
    return tmp_path


def test_cli_names_the_tiered_rule_in_2022_and_the_flat_rule_in_2024(cli_ledger):
    march = as_json(run("--ledger", "led", "fees", "--month", "2022-03", "--format", "json",
                        cwd=cli_ledger))
    assert march["schema"] == "ledger.fees/1"
    assert {c["rule"] for c in march["checks"]} == {"upwork.service_fee.2016-06-21"}
    assert march["flagged"] == 1
    june = as_json(run("--ledger", "led", "fees", "--month", "2024-06", "--format", "json",
                       cwd=cli_ledger))
    assert {c["rule"] for c in june["checks"]} == {"upwork.service_fee.2023-05-03"}
    table = ok(run("--ledger", "led", "fees", "--month", "2022-03", cwd=cli_ledger)).stdout
    assert "upwork.service_fee.2016-06-21" in table and "overcharged" in table
    assert "Effective fee rate" in table
    assert "upwork.service_fee.2023-05-03" in ok(
        run("--ledger", "led", "fees", "--month", "2024-06", cwd=cli_ledger)).stdout


def test_cli_lists_the_rules_with_user_overrides(cli_ledger):
    (cli_ledger / "led" / "ledger.toml").write_text(
        '[[fees.payoneer.fx_margin]]\nid = "payoneer.fx_margin.withdraw_local"\nrate = "0.025"\n')
    listing = as_json(run("--ledger", "led", "fees", "--rules", "--format", "json",
                          cwd=cli_ledger))
    rules = {r["id"]: r for r in listing["rules"]}
    assert rules["payoneer.fx_margin.withdraw_local"]["rule"] == "2.5%"
    assert rules["payoneer.fx_margin.withdraw_local"]["origin"] == "ledger.toml"
    assert rules["upwork.service_fee.2016-06-21"]["from"] == "2016-06-21"
    text = ok(run("--ledger", "led", "fees", "--rules", cwd=cli_ledger)).stdout
    assert "deductions.export_wht.PK.2022-07-01" in text


@pytest.mark.parametrize(("args", "toml", "code", "message"), [
    (("--tolerance", "abc"), None, 2, "error: --tolerance 'abc' is not a number"),
    (("--month", "2022-13"), None, 2, "error: --month '2022-13' is not YYYY-MM"),
    ((), '[[fees.upwork.service_fee]]\nid = "x"\nrate = "10"\n', 2,
     "ledger.toml: rule x.rate = '10' is not a rate between 0 and 1"),
])
def test_cli_errors_are_clean(cli_ledger, args, toml, code, message):
    if toml:
        (cli_ledger / "led" / "ledger.toml").write_text(toml)
    result = run("--ledger", "led", "fees", *args, cwd=cli_ledger)
    assert result.returncode == code
    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_cli_fees_on_an_empty_ledger(tmp_path):
    (tmp_path / "led").mkdir()
    result = run("--ledger", "led", "fees", cwd=tmp_path)
    assert result.returncode == 1
    assert "the ledger is empty" in result.stderr


def test_bad_tolerance_is_a_usage_error():
    from ledger.cli.rules import _decimal

    with pytest.raises(UsageError):
        _decimal("1,2,x", "--tolerance")


def test_json_is_valid_and_stable(cli_ledger):
    text = ok(run("--ledger", "led", "fees", "--month", "2022-03", "--format", "json",
                  cwd=cli_ledger)).stdout
    data = json.loads(text)
    assert set(data) >= {"schema", "period", "tolerance", "checks", "flagged", "withdrawals",
                         "rules", "summary", "warnings"}
