"""The reading locale (`locale` in ledger.toml, `ledger init --locale`) end to end: every
output people read writes money, percentages and hours as the locale does, and an unknown
locale is a config error, not an internal one.

Each renderer gets a small figure set whose readings are worked out by hand:
123456.78 is `1,23,456.78` in en_IN (groups of two after the first three) and `123.456,78` in
de_DE; 15432.10 of 123456.78 is 0.12500002, `12.5%` and `12,5 %` (CLDR's de_DE pattern puts
a no-break space before the sign); 1234.5 hours is `1,234.50` and `1.234,50`.
"""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from ledger.core.money import (
    check_locale,
    group_for_reading,
    number_for_reading,
    percent_for_reading,
)

NB = "\u00a0"  # CLDR's no-break space between a German number and its % sign

LOCALES = {
    "en_IN": {"gross": "1,23,456.78", "fees": "15,432.10", "net": "1,08,024.68",
              "share": "12.5%", "kept": "87.5%", "hours": "1,234.50", "big": "12,34,56,789.00",
              "small": "987.65"},
    "de_DE": {"gross": "123.456,78", "fees": "15.432,10", "net": "108.024,68",
              "share": f"12,5{NB}%", "kept": f"87,5{NB}%", "hours": "1.234,50",
              "big": "123.456.789,00", "small": "987,65"},
}


def _console(width: int = 140):
    from rich.console import Console

    return Console(file=io.StringIO(), width=width, color_system=None, highlight=False,
                   soft_wrap=False, emoji=False)


def _text(console) -> str:
    return console.file.getvalue()


# --- the core helpers -------------------------------------------------------------------------


def test_grouping_percent_and_hours_per_locale():
    assert group_for_reading(Decimal("123456.78"), "en_IN") == "1,23,456.78"
    assert group_for_reading(Decimal("123456.78"), "de_DE") == "123.456,78"
    assert group_for_reading(Decimal("-1234567.5"), "en_IN") == "-12,34,567.5"
    assert percent_for_reading(Decimal("0.125"), "de_DE") == f"12,5{NB}%"
    assert percent_for_reading(Decimal("0.125"), "en_IN") == "12.5%"
    assert percent_for_reading(Decimal("0.125"), None) == "12.5%"
    # half-even, only when presenting: 0.12345 -> 12.3% (the 4 stays), 0.12355 -> 12.4%
    assert percent_for_reading(Decimal("0.12345"), "de_DE") == f"12,3{NB}%"
    assert percent_for_reading(Decimal("0.12355"), "de_DE") == f"12,4{NB}%"
    assert percent_for_reading(Decimal("0.052"), "de_DE", signed=True) == f"+5,2{NB}%"
    assert percent_for_reading(Decimal("-0.052"), None, signed=True) == "-5.2%"
    assert number_for_reading(Decimal("1234.5"), "de_DE") == "1.234,50"
    assert number_for_reading(Decimal("1234.5"), "en_IN") == "1,234.50"
    assert number_for_reading(Decimal("0.125"), "en_IN") == "0.12"  # half-even


def test_locale_names_are_checked_and_spelled_as_babel_does():
    assert check_locale("de-DE") == "de_DE"
    assert check_locale("en_IN") == "en_IN"
    for bad in ("xx_YY", "", "english"):
        with pytest.raises(ValueError, match="not a locale"):
            check_locale(bad)


# --- the outputs ------------------------------------------------------------------------------


def _report(locale: str) -> dict:
    """A `ledger.report/1` dict with the figures of the module docstring."""
    totals = {"gross": "123456.78", "platform_fees": "15432.10", "payment_fees": "0.00",
              "fx_cost": "0.00", "bank_deductions": "0.00", "taxes": "0.00",
              "subcontractor_payouts": "0.00", "expenses": "0.00", "other": "0.00",
              "net": "108024.68", "hours": "1234.50", "unpaid_hours": "0.00",
              "net_hourly": "87.50", "net_hourly_all": "87.50"}
    return {"schema": "ledger.report/1", "currency": "INR", "locale": locale,
            "period": {"from": "2024-06-01", "to": "2024-06-30", "label": "June 2024"},
            "totals": totals, "gross_without_hours": "0.00",
            "by_platform": [{"platform": "upwork", "gross": "123456.78", "fees": "15432.10",
                             "fee_rate": "0.1250", "net": "108024.68", "hours": "1234.50",
                             "net_hourly": "87.50"}],
            "by_client": [], "payout_costs": {}, "benchmarks": [], "months": [], "rates": [],
            "rules": [], "sources": [], "payouts_owed_unpaid": None, "value_chains": [],
            "chains": {}, "rows": 2, "warnings": []}


@pytest.mark.parametrize("locale", LOCALES)
def test_terminal_report(locale):
    from ledger.render.report import print_report

    want = LOCALES[locale]
    console = _console()
    print_report(_report(locale), console)
    text = _text(console)
    for key in ("gross", "fees", "net", "share", "kept"):
        assert f" {want[key]} " in text, (key, text)
    assert f"Paid hours {want['hours']}" in text
    assert "123456.78" not in text and "12.5%" not in text.replace(want["share"], "")
    platform = next(line for line in text.splitlines() if "upwork" in line)
    for key in ("gross", "fees", "share", "net", "hours"):
        assert f" {want[key]} " in platform, (key, platform)


@pytest.mark.parametrize("locale", LOCALES)
def test_html_report(locale):
    from ledger.render.html import render

    want = LOCALES[locale]
    page = render(_report(locale))
    assert f'data-field="totals.gross" data-value="123456.78">{want["gross"]}<' in page
    assert f'data-field="totals.net" data-value="108024.68">{want["net"]} INR<' in page
    assert f'data-field="totals.hours" data-value="1234.50">{want["hours"]}<' in page
    assert f'data-field="by_platform.0.fee_rate" data-value="0.1250">{want["share"]}<' in page
    assert f'<td class="n">{want["kept"]}</td>' in page  # net's share of gross
    assert f"You kept {want['kept']} of {want['gross']} gross." in page
    assert ">123456.78<" not in page and ">123,456.78<" not in page


@pytest.mark.parametrize("locale", LOCALES)
def test_statement(locale):
    from ledger.render.statement import render

    want = LOCALES[locale]
    data = {"worker": "Ali", "currency": "INR", "locale": locale,
            "period": {"from": "2024-06-01", "to": "2024-06-30", "label": "June 2024"},
            "opening": "0.00", "owed": "15432.10", "paid": "0.00", "closing": "15432.10",
            "jobs": [{"date": "2024-06-03", "job": "Job 1", "quantity": None,
                      "rule": "12.5% of gross", "base": "123456.78", "currency": "INR",
                      "rate": None, "rate_date": None, "amount": "15432.0975",
                      "owed": "15432.10"}],
            "payments": [], "notes": []}
    text = render(data, "text")
    formula = f"{want['share']} of gross {want['gross']} INR = " + \
        group_for_reading(Decimal("15432.0975"), locale) + " INR"
    owed = f"owed {want['fees']} INR"
    assert f"  2024-06-03  Job 1{' ' * (78 - 19 - len(owed))}{owed}\n      {formula}\n" in text
    assert f"You are owed {want['fees']} INR" in text
    assert f"<td class=\"n\">{want['fees']}</td>" in render(data, "html")


@pytest.mark.parametrize("locale", LOCALES)
def test_fees(locale):
    from ledger.render.fees import print_check

    want = LOCALES[locale]
    check = {"date": "2024-06-03", "client": "Acme", "currency": "INR", "gross": "123456.78",
             "charged": "15432.10", "expected": "15432.10", "rule": "upwork.service_fee",
             "status": "ok", "flag": False}
    overall = {"effective_rate": "0.1250", "gross": "123456.78", "platform_fees": "15432.10",
               "payment_fees": "0.00", "fx_cost": "987.65", "bank_deductions": "0.00",
               "taxes": "0.00"}
    data = {"period": {"from": "2024-06-01", "to": "2024-06-30", "label": "June 2024"},
            "checks": [check], "withdrawals": [], "flagged": 0, "withdrawals_flagged": 0,
            "checked": 1, "unchecked": {}, "tolerance": "0.01", "rules": [], "warnings": [],
            "summary": {"currency": "INR", "overall": overall, "by_route": [],
                        "by_platform": [{"platform": "upwork", "gross": "123456.78",
                                         "total_fees": "15432.10", "effective_rate": "0.1250"}],
                        "benchmark": {"text": "10%", "source": "a study"}}}
    console = _console()
    print_check(data, console, locale)
    text = _text(console)
    row = next(line for line in text.splitlines() if "Acme" in line)
    assert f" {want['gross']} " in row and row.count(f" {want['fees']} ") == 2
    assert " INR " in row  # each check names its currency (ledger.fees/1 has it per check)
    assert (f"Effective fee rate: {want['share']} of {want['gross']} INR gross (platform "
            f"{want['fees']}, payment 0{',' if locale == 'de_DE' else '.'}00, FX "
            f"{want['small']},") in text.replace("\n", " ")
    assert f"{want['gross']} gross" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_quote(locale):
    from ledger.render.quote import print_one

    want = LOCALES[locale]
    q = {"rate": None, "gross": "123456.78", "currency": "INR", "route": ["upwork", "bank"],
         "date": "2024-06-03", "to_currency": "INR", "arrived": "108024.68",
         "arrived_currency": "INR", "total_cost": "15432.10", "effective_rate": "0.1250",
         "hops": [{"at": "upwork", "to": "bank", "step": "receive", "amount_out": "108024.68",
                   "currency_out": "INR",
                   "lines": [{"rule": "upwork.service_fee", "confidence": "confirmed",
                              "what": "service fee", "amount": "15432.10", "currency": "INR",
                              "value": "15432.10"}]}],
         "basis": [], "rules": [], "notes": []}
    console = _console()
    print_one(q, console, locale)
    text = _text(console)
    assert f"{want['gross']} INR via upwork -> bank on 2024-06-03" in text
    assert f"-{want['fees']} INR" in text
    assert (f"Arrives: {want['net']} INR (costs {want['fees']} INR, {want['share']} of "
            "gross)") in text


@pytest.mark.parametrize("locale", LOCALES)
def test_reconcile(locale):
    from ledger.render.reconcile import print_chains

    want = LOCALES[locale]
    data = {"chains": [], "in_transit": [{"status": "overdue", "date": "2024-06-21",
                                          "account": "upwork", "amount": "123456789.00",
                                          "currency": "INR", "age_days": 9, "usual_days": 3,
                                          "id": "abcdef0123456789", "ref": None}],
            "totals": [{"currency": "INR", "chains": 1, "sent": "123456.78",
                        "total_costs": "15432.10", "arrived": "108024.68",
                        "in_transit": "987.65", "in_transit_count": 1}],
            "unknown_origin": [], "ambiguous": [], "warnings": []}
    console = _console()
    print_chains(data, "June 2024", console, locale)
    text = _text(console)
    assert (f"Total INR: 1 chain(s), sent {want['gross']}, costs {want['fees']}, arrived "
            f"{want['net']}; in transit {want['small']} (1)") in text
    assert f"  2024-06-21 upwork {want['big']} INR · 9 days" in text


@pytest.mark.parametrize("locale", LOCALES)
def test_payouts(locale):
    from ledger.render.payouts import print_summary as _print

    want = LOCALES[locale]
    data = {"currency": "INR", "period": {"label": "June 2024"},
            "workers": [{"worker": "Ali", "currency": "INR", "opening": "0.00",
                         "owed": "15432.10", "paid": "987.65", "closing": "108024.68"}],
            "value_chains": [],
            "value_chain": [{"role": "contractor", "party": "you", "amount": "123456.78",
                             "share": "0.1250"}],
            "payments": [{"date": "2024-06-05", "worker": "Ali", "amount": "987.65",
                          "currency": "INR", "matched_by": "payouts.csv", "source": "bank",
                          "line": 4}],
            "warnings": []}
    console = _console()
    _print(data, console, locale)
    text = _text(console)
    ali = next(line for line in text.splitlines() if "Ali" in line and "INR" in line)
    assert f" {want['fees']} " in ali and f" {want['small']} " in ali
    assert f"you owe {want['net']}" in ali
    you = next(line for line in text.splitlines() if "you " in line and "owe" not in line)
    assert f" {want['gross']} " in you and f" {want['share']} " in you
    assert f" {want['small']} INR " in text


# --- an unknown locale is a config error --------------------------------------------------------


def test_unknown_locale_in_ledger_toml_is_a_config_error(tmp_path):
    from ledger.core.config import reading_locale
    from ledger.core.errors import UsageError
    from ledger.store.directory import Ledger

    book = Ledger(tmp_path)
    book.config_path.write_text('home_currency = "INR"\nlocale = "xx_YY"\n', "utf-8")
    with pytest.raises(UsageError) as caught:
        reading_locale(book)
    error = caught.value
    assert error.exit_code == 2 and error.path == str(book.config_path)
    assert error.message == 'locale = "xx_YY": not a locale CLDR knows'
    assert "en_IN (1,23,456.78)" in error.hint and "de_DE (123.456,78)" in error.hint
    book.config_path.write_text('locale = "de-DE"\n', "utf-8")
    assert reading_locale(book) == "de_DE"


def test_init_locale_is_checked_and_written(tmp_path):
    from tests.test_cli import ok, run

    bad = run("--ledger", tmp_path / "a", "init", "--currency", "INR", "--locale", "xx_YY",
              cwd=tmp_path)
    assert bad.returncode == 2, bad.stderr
    assert bad.stderr.startswith("error: --locale xx_YY: not a locale CLDR knows\n  hint: use "
                                 "a language_TERRITORY code, e.g. en_US (123,456.78), en_IN "
                                 "(1,23,456.78)"), bad.stderr
    assert not (tmp_path / "a").exists()
    ok(run("--ledger", tmp_path / "b", "init", "--currency", "EUR", "--locale", "de-DE",
           cwd=tmp_path))
    assert (tmp_path / "b" / "ledger.toml").read_text("utf-8") == \
        'home_currency = "EUR"\nlocale = "de_DE"\n'
