"""`ledger quote`: a payment's waterfall from client to local bank, each line naming its rule
and source; arrived = gross - every hop, to the paisa (hypothesis); route comparison; the
hourly rate that nets a monthly target; clean errors. Library and the real CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core.errors import DataError, UsageError
from rules import quote as quotes
from rules.fees import load_schedule
from tests.test_cli import as_json, ok, run

D = Decimal
SCHEDULE = load_schedule()
JUNE = dt.date(2024, 6, 3)


class Mid:
    """A fixed mid rate per pair (and its inverse), as the ledger's FX chain gives one."""

    def __init__(self, rates: dict[tuple[str, str], str] | None = None,
                 rate_date: dt.date | None = None) -> None:
        self.rates = {k: D(v) for k, v in (rates or {("USD", "PKR"): "278.45",
                                                      ("USD", "PHP"): "58.60",
                                                      ("USD", "INR"): "83.40",
                                                      ("EUR", "PKR"): "301.20"}).items()}
        self.rate_date = rate_date
        self.calls = 0

    def mid(self, date, source, target):
        self.calls += 1
        if (source, target) not in self.rates:
            raise DataError(f"no {source}->{target} rate for {date}")
        return self.rates[(source, target)], "test rates", self.rate_date or date


def q(amount: str, route: str, to: str = "PKR", date: dt.date = JUNE, **options):
    return quotes.quote(D(amount), "USD", route, to, date, Mid(), schedule=SCHEDULE, **options)


def lines(data: dict) -> list[dict]:
    return [line for hop in data["hops"] for line in hop["lines"]]


def foots(data: dict) -> None:
    """gross (at the mid rate) - every line's value == arrived, exactly."""
    total = sum((D(line["value"]) for line in lines(data)), D(0))
    assert D(data["gross_value"]) - total == D(data["arrived"])
    assert D(data["total_cost"]) == total
    if data["to_currency"] == data["currency"]:
        assert D(data["gross"]) - sum((D(line["amount"]) for line in lines(data)), D(0)) \
            == D(data["arrived"])


# --- the waterfall ----------------------------------------------------------------------------

def test_upwork_payoneer_bank_to_pkr():
    data = q("500", "upwork,payoneer,bank")
    foots(data)
    got = [(line["rule"], line["amount"], line["currency"]) for line in lines(data)]
    assert got == [
        ("upwork.service_fee.2023-05-03", "50.00", "USD"),
        ("upwork.withdrawal_fee.payoneer", "2.00", "USD"),
        ("payoneer.receive_fee.marketplace", "0.00", "USD"),
        ("payoneer.withdrawal_fee.local_currency", "0.00", "USD"),
        # 448 USD at 278.45 = 124,745.60; Payoneer's 2% under the mid rate keeps 2,494.91
        ("payoneer.fx_margin.withdraw_local", "2494.91", "PKR"),
        # a home remittance reaches a Pakistani account free (SBP pays the TT charges)
        ("bank.inward_fee.PK", "0.00", "PKR"),
        # s.154A: 1% of the 122,250.69 PKR credited (filer, FY2022-25)
        ("deductions.export_wht.PK.2022-07-01", "1222.51", "PKR"),
    ]
    assert (data["gross_value"], data["arrived"], data["arrived_currency"]) == (
        "139225.00", "121028.18", "PKR")
    assert data["country"] == "PK"  # from --to PKR
    fx = next(line for line in lines(data) if line["kind"] == "fx")
    assert "vs mid 278.45" in fx["what"] and fx["source"].startswith("https://")
    assert {r["id"] for r in data["rules"]} >= {"payoneer.fx_margin.withdraw_local"}


def test_2022_quote_uses_the_sliding_fee_and_2024_the_flat_one():
    old = q("600", "upwork,bank", date=dt.date(2022, 3, 1))
    [fee] = [line for line in lines(old) if line["kind"] == "platform_fee"]
    assert (fee["rule"], fee["amount"]) == ("upwork.service_fee.2016-06-21", "110.00")
    later = q("600", "upwork,bank", date=dt.date(2022, 3, 1), client_billings=D("10000"))
    assert lines(later)[0]["amount"] == "30.00"  # 5% above $10,000
    new = q("600", "upwork,bank")
    assert (lines(new)[0]["rule"], lines(new)[0]["amount"]) == (
        "upwork.service_fee.2023-05-03", "60.00")
    variable = q("600", "upwork,bank", date=dt.date(2025, 8, 1), contract_rate=D("0.12"))
    assert (lines(variable)[0]["rule"], lines(variable)[0]["amount"]) == (
        "upwork.service_fee.2025-05-01", "72.00")


def test_tax_status_and_country_change_the_bank_hop():
    pseb = q("1000", "upwork,payoneer,bank", tax_status="pseb")
    assert lines(pseb)[-1]["what"].startswith("Tax withheld on export proceeds 0.25%")
    home = q("1000", "upwork,payoneer,bank", tax_status="home_remittance")
    assert lines(home)[-1]["amount"] == "0.00"
    bd = quotes.quote(D("1000"), "USD", "upwork,payoneer,bank", "BDT", JUNE,
                      Mid({("USD", "BDT"): "117.50"}), schedule=SCHEDULE)
    assert bd["country"] == "BD"
    assert (lines(bd)[-1]["rule"], lines(bd)[-1]["amount"]) == (
        "deductions.export_wht.BD.2011-07-01", "0.00")
    philippines = q("1000", "upwork,paypal,bank", to="PHP")
    assert philippines["country"] == "PH"
    assert [line["rule"] for line in lines(philippines)][-2:] == [
        "paypal.fx_margin.APAC.2012-06-12", "paypal.withdrawal_fee.PH.2009-03-01"]
    foots(philippines)


def test_a_bank_inward_fee_from_ledger_toml_is_a_hop():
    schedule = load_schedule({"fees": {"bank": {"inward_fee": [
        {"id": "bank.inward_fee.PH.mine", "country": "PH", "fixed": {"PHP": "150.00"},
         "source": "my BDO statement"}]}}})
    data = quotes.quote(D("500"), "USD", "upwork,bank", "PHP", JUNE, Mid(), schedule=schedule)
    fee = next(line for line in lines(data) if line["kind"] == "bank_fee")
    assert (fee["rule"], fee["amount"], fee["source"]) == ("bank.inward_fee.PH.mine", "150.00",
                                                           "my BDO statement")
    foots(data)


def test_a_route_without_conversion_foots_in_its_own_currency():
    data = q("250", "fiverr,payoneer", to="USD")
    foots(data)
    assert data["rate"] is None
    assert [line["amount"] for line in lines(data)] == ["50.00", "3.00", "0.00"]
    assert data["arrived"] == "197.00"


def test_an_unpublished_spread_is_marked_and_a_distant_rate_noted():
    data = quotes.quote(D("500"), "USD", "upwork,bank", "PKR", JUNE,
                        Mid(rate_date=dt.date(2024, 5, 1)), schedule=SCHEDULE)
    assert data["unpriced"] == ["upwork.fx_margin.direct_to_local_bank"]
    assert any("unpublished rate" in n for n in data["notes"])
    assert any("mid rate is from 2024-05-01, 33 days from 2024-06-03" in n
               for n in data["notes"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(amount=st.decimals(min_value=D("0.01"), max_value=D("250000"), places=2),
       route=st.sampled_from(quotes.EXAMPLES),
       to=st.sampled_from(["PKR", "PHP", "INR", "USD"]),
       day=st.dates(min_value=dt.date(2015, 1, 1), max_value=dt.date(2026, 12, 31)),
       status=st.sampled_from(["pseb", "filer", "non_filer", "home_remittance"]),
       billed=st.decimals(min_value=D("0"), max_value=D("20000"), places=2),
       project=st.sampled_from(["fixed_price", "hourly", "recruiter", "contest"]))
def test_property_hops_plus_arrived_equal_gross(amount, route, to, day, status, billed,
                                                project):
    """Whatever the amount, route, date and options: the sum of every hop's lines plus what
    arrives is the gross, to the minor unit (valued at the quote's mid rate)."""
    if "paypal" in route and to == "PKR":
        to = "PHP"  # PayPal does not serve Pakistan (tested below)
    if not route.endswith("bank"):
        to = "USD"
    try:
        data = quotes.quote(amount, "USD", route, to, day, Mid(), schedule=SCHEDULE,
                            tax_status=status, client_billings=billed, project_type=project)
    except DataError as exc:  # a date before a rule existed is an error, never a wrong figure
        assert "rule for" in exc.message
        return
    foots(data)
    values = [D(line["value"]) for line in lines(data)]
    assert sum(values, D(0)) + D(data["arrived"]) == D(data["gross_value"])
    assert all(v == v.quantize(D("0.01")) for v in values)


def test_compare_ranks_routes_by_what_arrives_and_asks_for_the_rate_once():
    fx = Mid()
    data = quotes.compare(D("500"), "USD", ["upwork,payoneer,bank", "upwork,wise,bank",
                                            "fiverr,payoneer,bank"], "PKR", JUNE, fx,
                          schedule=SCHEDULE)
    assert data["schema"] == "ledger.quote-compare/1"
    arrived = [D(r["arrived"]) for r in data["ranking"]]
    assert arrived == sorted(arrived, reverse=True)
    assert data["best"] == data["ranking"][0]["route"]
    assert data["ranking"][-1]["route"] == "fiverr,payoneer,bank"  # Fiverr's 20%
    assert D(data["ranking"][-1]["behind_best"]) == arrived[0] - arrived[-1]
    assert fx.calls == 1


def test_hourly_rate_for_a_monthly_target():
    data = quotes.hourly_target(D("100000"), D("120"), "USD", "upwork,payoneer,bank", "PKR",
                                JUNE, Mid(), schedule=SCHEDULE)
    assert data["schema"] == "ledger.quote-target/1"
    hourly = D(data["hourly_rate"])
    assert D(data["quote"]["arrived"]) >= D("100000")
    foots(data["quote"])
    # one cent an hour less falls short
    short = q(f"{(hourly - D('0.01')) * 120:.2f}", "upwork,payoneer,bank")
    assert D(short["arrived"]) < D("100000")
    # the minimum monthly gross is exact to the cent
    minimum = D(data["minimum_monthly_gross"])
    assert D(q(f"{minimum}", "upwork,payoneer,bank")["arrived"]) >= D("100000")
    assert D(q(f"{minimum - D('0.01')}", "upwork,payoneer,bank")["arrived"]) < D("100000")


@pytest.mark.parametrize(("route", "to", "error", "message"), [
    ("upwork,foo,bank", "PKR", UsageError, "unknown route place(s) ['foo']"),
    ("payoneer,upwork", "USD", UsageError, "no known hop payoneer->upwork"),
    ("bank,upwork", "USD", UsageError, "a route starts where the client pays"),
    ("", "USD", UsageError, "unknown route place(s) ['(empty)']"),
    ("upwork,payoneer", "PKR", UsageError, "the route ends at payoneer, which holds USD"),
    ("paypal,bank", "PKR", DataError, "PayPal is not available in PK"),
    ("upwork,bank", "KPW", DataError, "no USD->KPW rate for 2024-06-03"),
    ("upwork,bank", "XYZ", UsageError, "unknown currency 'XYZ'"),
])
def test_errors_name_the_problem(route, to, error, message):
    with pytest.raises(error) as info:
        q("500", route, to=to)
    assert message in info.value.message
    if "route place" in message or "known hop" in message:
        assert "upwork,payoneer,bank" in info.value.hint


def test_amounts_are_checked():
    with pytest.raises(UsageError, match="must be positive"):
        q("0", "upwork,bank", to="USD")
    with pytest.raises(UsageError, match="more decimals than USD has"):
        q("10.001", "upwork,bank", to="USD")


# --- CLI ------------------------------------------------------------------------------------

@pytest.fixture
def rates_ledger(tmp_path):
    (tmp_path / "led").mkdir()
    (tmp_path / "led" / "rates.csv").write_text("date,from,to,rate\n2024-06-03,USD,PKR,278.45\n")
    return tmp_path


def test_cli_quote_json_arrived_is_gross_minus_every_hop(rates_ledger):
    data = as_json(run("--ledger", "led", "quote", "500", "USD", "--route",
                       "upwork,payoneer,bank", "--to", "PKR", "--date", "2024-06-03",
                       "--format", "json", cwd=rates_ledger))
    assert data["schema"] == "ledger.quote/1"
    foots(data)
    assert data["arrived"] == "121028.18"
    assert data["rate"]["rate"] == "278.45" and data["rate"]["provenance"].startswith("user:")
    assert all(line["source"] for line in lines(data))


def test_cli_quote_table_shows_each_rule_and_source(rates_ledger):
    text = ok(run("--ledger", "led", "quote", "500", "USD", "--route", "upwork,payoneer,bank",
                  "--to", "PKR", "--date", "2024-06-03", cwd=rates_ledger,
                  env={"COLUMNS": "200"})).stdout
    for rule in ("upwork.service_fee.2023-05-03", "upwork.withdrawal_fee.payoneer",
                 "payoneer.fx_margin.withdraw_local", "deductions.export_wht.PK.2022-07-01"):
        assert rule in text
    assert "Arrives: 121,028.18 PKR" in text
    assert "https://kolabtree.freshdesk.com/" in text


def test_cli_compare_and_target(rates_ledger):
    data = as_json(run("--ledger", "led", "quote", "500", "USD", "--route", "upwork,bank",
                       "--compare", "upwork,payoneer,bank", "--to", "PKR", "--date",
                       "2024-06-03", "--format", "json", cwd=rates_ledger))
    assert [r["route"] for r in data["ranking"]] == ["upwork,bank", "upwork,payoneer,bank"]
    assert data["ranking"][0]["unpriced"] == ["upwork.fx_margin.direct_to_local_bank"]
    text = ok(run("--ledger", "led", "quote", "500", "USD", "--route", "upwork,bank",
                  "--compare", "upwork,payoneer,bank", "--to", "PKR", "--date", "2024-06-03",
                  cwd=rates_ledger)).stdout
    assert "Routes, best first" in text and "upwork,bank *" in text
    target = as_json(run("--ledger", "led", "quote", "--route", "upwork,payoneer,bank", "--to",
                         "PKR", "--date", "2024-06-03", "--target", "100000", "--hours", "120",
                         "--format", "json", cwd=rates_ledger))
    assert target["schema"] == "ledger.quote-target/1"
    assert (target["hourly_rate"], target["currency"]) == ("3.45", "USD")
    assert D(target["quote"]["arrived"]) >= 100000
    text = ok(run("--ledger", "led", "quote", "--route", "upwork,payoneer,bank", "--to", "PKR",
                  "--date", "2024-06-03", "--target", "100000", "--hours", "120",
                  cwd=rates_ledger)).stdout
    assert "charge 3.45 USD an hour" in text


@pytest.mark.parametrize(("args", "code", "message"), [
    (("500", "USD", "--route", "upwork,foo,bank", "--to", "PKR"), 2,
     "error: unknown route place(s) ['foo']"),
    (("500", "USD", "--to", "PKR"), 2, "error: say which way the money goes with --route"),
    (("abc", "USD", "--route", "upwork,bank"), 2, "error: AMOUNT 'abc' is not a number"),
    (("500", "USD", "--route", "upwork,bank", "--date", "2024-13-01"), 2,
     "error: --date '2024-13-01' is not a date YYYY-MM-DD"),
    (("500", "USD", "--route", "upwork,bank", "--target", "1000"), 2,
     "error: --target and --hours go together"),
    (("--route", "upwork,bank"), 2, "error: say how much the client pays"),
    (("500", "USD", "--route", "upwork,bank", "--to", "KPW", "--date", "2024-06-03"), 1,
     "rates.csv: no USD->KPW rate for 2024-06-03"),
    (("500", "USD", "--route", "paypal,bank", "--to", "PKR", "--date", "2024-06-03"), 1,
     "error: PayPal is not available in PK"),
])
def test_cli_errors(rates_ledger, args, code, message):
    result = run("--ledger", "led", "quote", *args, cwd=rates_ledger)
    assert result.returncode == code, result.stderr
    assert message in result.stderr
    assert "hint:" in result.stderr or code == 2
    assert "Traceback" not in result.stderr


def test_cli_help_has_examples(tmp_path):
    for command in ("quote", "fees"):
        text = ok(run(command, "--help", cwd=tmp_path)).stdout
        assert "Examples:" in text and f"ledger {command}" in text
