"""Report figures: a hand-computed month, the JSON contract, and the invariants
(conservation, import-order independence, idempotent import)."""

from __future__ import annotations

import itertools
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core import schema
from ledger.core.errors import DataError, UsageError
from ledger.counting.totals import compute_totals
from ledger.reports import report
from tests.conftest import DATA, PAYPAL, UPWORK


def test_hand_computed_june(june):
    data = report.build(june, month="2024-06")
    t = data["totals"]
    # Upwork June: hourly 258 + bonus 40 - refund 20; PayPal: 1250 + 200 - refund 50
    assert t["gross"] == "1678.00"
    # Connects 12.00 + Plus 14.99 + service fees 25.80 + 4.00 + VAT 5.42
    assert t["platform_fees"] == "62.21"
    # Upwork withdrawal fee 0.99 + PayPal 48.13 + 8.10 - 2.03 refunded
    assert t["payment_fees"] == "55.19"
    # 1000 USD sold for 918.40 EUR worth 918.40 * 1.0850 = 996.464 USD
    assert t["fx_cost"] == "3.54"
    assert t["expenses"] == "12.99"
    assert t["other"] == "5.00"
    assert (t["bank_deductions"], t["taxes"], t["subcontractor_payouts"]) == ("0.00",) * 3
    assert t["net"] == "1549.07"
    assert t["hours"] == "14.33"
    assert t["net_hourly"] == "108.07"  # 1549.07 / 14.3333 = 108.0749
    assert data["period"] == {"from": "2024-06-01", "to": "2024-06-30", "label": "June 2024"}
    platforms = {p["platform"]: p for p in data["by_platform"]}
    assert platforms["upwork"]["gross"] == "278.00" and platforms["upwork"]["fees"] == "63.20"
    assert platforms["paypal"]["gross"] == "1400.00" and platforms["paypal"]["fees"] == "54.20"
    clients = {c["client"]: c for c in data["by_client"]}
    assert clients["Acme Corp"] == {"client": "Acme Corp", "gross": "1528.00", "fees": "83.35",
                                    "net": "1444.65", "hours": "14.33",
                                    "net_hourly": "100.79",  # 1444.65 / 14.3333
                                    # no wallet or bank statement: nothing travelled home,
                                    # but the 1000 USD sold for euros were Acme's money
                                    "payout_costs": t["fx_cost"], "net_home": "1441.11"}
    for section in ("by_platform", "by_client"):  # the items' net home is the report's net
        assert sum(Decimal(i["net_home"]) for i in data[section]) == Decimal(t["net"])
    assert clients["Beta LLC"]["net"] == "143.93"
    [rate] = {(r["from"], r["to"], r["rate"], r["provider"]) for r in data["rates"]}
    assert rate == ("EUR", "USD", "1.085", "user")


def test_net_is_the_signed_sum_of_the_months_rows(june):
    """The shown net against one computed here from the stored rows alone: every June row that
    is not a transfer (a conversion's two legs leave its cost), EUR valued at the one rate,
    summed exactly, rounded once."""
    t = report.build(june, month="2024-06")["totals"]
    rows = june.rows().filter(pl.col("date").dt.strftime("%Y-%m") == "2024-06",
                              pl.col("kind") != "transfer")
    rate = {"USD": Decimal(1), "EUR": Decimal("1.0850")}
    exact = sum((Decimal(a) * rate[c] for a, c in rows.select("amount", "currency").iter_rows()),
                Decimal(0))
    assert t["net"] == f"{exact.quantize(Decimal('0.01')):.2f}"


def test_json_contract_keys(june):
    data = report.build(june, month="2024-06")
    assert data["schema"] == "ledger.report/1"
    assert {"schema", "period", "currency", "totals", "by_platform", "by_client", "benchmarks",
            "rates"} <= set(data)
    assert set(data["totals"]) >= {"gross", "platform_fees", "payment_fees", "fx_cost",
                                   "bank_deductions", "taxes", "subcontractor_payouts",
                                   "expenses", "net", "hours", "unpaid_hours", "net_hourly",
                                   "net_hourly_all"}
    assert [s["file"] for s in data["sources"]] and all(s["rows"] for s in data["sources"])


def test_report_currency_conversion_and_missing_rate(june):
    with pytest.raises(DataError) as info:
        report.build(june, month="2024-06", currency="KPW")  # no provider has won rates
    assert "no USD->KPW rate for 2024-06-01" in info.value.message
    assert "2024-06-01,USD,KPW,RATE" in info.value.hint
    june.rates_path.write_text("date,from,to,rate\n2024-06-03,EUR,USD,1.0850\n"
                               "2024-06-03,USD,PKR,278.00\n")
    data = report.build(june, month="2024-06", currency="PKR")
    # the user's rates outrank every bundled one; EUR crosses through USD: 1.0850 * 278.00
    eur = [r for r in data["rates"] if r["from"] == "EUR"]
    assert eur[0]["rate"] == "301.63" and eur[0]["provider"] == "user×user"
    assert data["totals"]["gross"] == f"{Decimal('1678.00') * 278:.2f}"


def test_paypal_spread_against_ecb_reference(ledger, options):
    """Without user rates, the ECB mid rate values the conversion: PayPal's spread shows."""
    import datetime as dt

    from rules.fx_reference import ecb_rates

    ledger.import_files([PAYPAL], options)
    data = report.build(ledger, month="2024-06")
    ecb = ecb_rates({"USD"}, dt.date(2024, 6, 3), dt.date(2024, 6, 3))["rate"][0]
    expected = Decimal("1000.00") - Decimal("918.40") * Decimal(ecb)
    assert data["totals"]["fx_cost"] == f"{expected.quantize(Decimal('0.01'))}"
    [eur] = {(r["from"], r["provider"]) for r in data["rates"] if r["from"] == "EUR"}
    assert eur == ("EUR", "ecb")


def test_implied_rate_when_no_reference_exists(ledger, options):
    from rules.fx import FxChain

    ledger.import_files([PAYPAL], options)
    chain = FxChain.for_ledger(ledger.rows(), ledger.rates_path)
    chain.reference = None  # as for a currency no bundled source covers
    rows = ledger.rows().filter(pl.col("currency") == "EUR")
    conversion = chain.convert(rows, "USD")
    [provider] = conversion.rates["provider"].unique().to_list()
    assert provider == "implied"
    # valued at its own rate, the conversion shows no spread
    fx = conversion.rows.filter(pl.col("kind") == "fx")["value"].sum()
    assert abs(Decimal(fx) - Decimal("1000")) < Decimal("0.0001")


def test_nbp_covers_pkr_with_stated_precision():
    import datetime as dt

    from rules.fx_reference import nbp_rates

    table = nbp_rates({"PKR"}, dt.date(2024, 6, 1), dt.date(2024, 6, 10))
    assert table.height >= 1
    row = table.row(0, named=True)
    assert (row["from"], row["to"], row["provider"]) == ("PKR", "USD", "nbp")
    assert "±0.3" in row["detail"]  # 0.00005 / 0.0142 PLN
    assert Decimal("0.0033") < row["rate"] < Decimal("0.0039")  # about 1/280


def test_default_period_is_latest_month(june):
    assert report.build(june)["period"]["from"] == "2024-06-01"


def test_period_options_are_exclusive(june):
    with pytest.raises(UsageError):
        report.build(june, month="2024-06", year=2024)
    with pytest.raises(UsageError):
        report.build(june, month="2024-13")


def test_empty_ledger_is_a_clear_error(ledger):
    with pytest.raises(DataError, match="empty"):
        report.build(ledger)


# --- invariants ---------------------------------------------------------------------------

KINDS = [k for k in schema.KINDS]
row = st.fixed_dictionaries({
    "kind": st.sampled_from(KINDS),
    "amount": st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=2,
                          allow_nan=False, allow_infinity=False),
    "currency": st.sampled_from(["USD", "EUR"]),
    "day": st.integers(min_value=1, max_value=28),
    "hours": st.one_of(st.none(), st.floats(min_value=0, max_value=60)),
})


def _frame(rows: list[dict]) -> pl.DataFrame:
    import datetime as dt

    df = pl.DataFrame({
        "date": [dt.date(2024, 6, r["day"]) for r in rows],
        "source": ["upwork"] * len(rows), "account": ["upwork"] * len(rows),
        "kind": [r["kind"] for r in rows],
        "amount": pl.Series([r["amount"] for r in rows], dtype=pl.Decimal(38, 4)),
        "currency": [r["currency"] for r in rows],
        "hours": pl.Series([r["hours"] for r in rows], dtype=pl.Float64),
        "description": [f"row {i}" for i in range(len(rows))],
        "ref": [str(i) for i in range(len(rows))],
        "origin": ["source"] * len(rows), "import_id": ["x"] * len(rows),
        "line": list(range(2, len(rows) + 2)),
    })
    return schema.conform(schema.with_ids(df))


@settings(max_examples=60, deadline=None)
@given(st.lists(row, min_size=1, max_size=40),
       st.decimals(min_value=Decimal("0.5"), max_value=Decimal("2"), places=4))
def test_conservation_net_is_signed_sum(rows, eur_usd):
    """net == gross - every cost + other == the signed sum of all non-transfer rows, exactly."""
    from rules.fx import FxChain

    df = _frame(rows)
    rates = pl.DataFrame({"date": [df["date"].min()], "from": ["EUR"], "to": ["USD"],
                          "rate": pl.Series([eur_usd], dtype=pl.Decimal(38, 12)),
                          "provider": ["user"], "detail": ["test"]})
    valued = FxChain([rates], stale_days=100).convert(df, "USD").rows
    valued = valued.filter(~pl.col("kind").is_in(report.NOT_INCOME))
    totals = compute_totals(valued)
    signed = sum((Decimal(v) for v in valued["value"].to_list()), Decimal(0))
    assert totals["net"] == signed
    costs = sum((totals[line] for line, _ in report.COSTS), Decimal(0))
    assert totals["net"] == totals["gross"] - costs + totals["other"]
    shown = report.present_totals(totals, "USD")
    # the shown net foots with the shown (rounded) lines, so it may stray from the exact sum by
    # half a cent per rounded line, never more
    lines = 2 + len(report.COSTS)
    assert abs(Decimal(shown["net"]) - signed) <= Decimal("0.005") * lines


FILES = [UPWORK, PAYPAL, DATA / "upwork" / "report-2024.csv", DATA / "paypal" / "activity-de.csv"]


@settings(max_examples=6, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.permutations(FILES))
def test_import_order_does_not_matter(tmp_path_factory, options, order):
    from ledger.store.directory import Ledger

    reference = Ledger(tmp_path_factory.mktemp("ref"))
    reference.import_files(FILES, options)
    shuffled = Ledger(tmp_path_factory.mktemp("shuffled"))
    for path in order:
        shuffled.import_files([path], options)
    key = ["id"]
    a = reference.rows().drop("import_id").sort(key)
    b = shuffled.rows().drop("import_id").sort(key)
    assert a.equals(b)


@pytest.mark.parametrize("files", list(itertools.combinations(FILES, 2)))
def test_import_is_idempotent(ledger, options, files):
    ledger.import_files(list(files), options)
    once = ledger.rows()
    for path in files:
        [summary] = ledger.import_files([path], options)
        assert summary.added == 0
    assert ledger.rows().equals(once)


@pytest.mark.parametrize(("value", "cell"), [
    ("-5.00", "-5.00"), ("1549.07", "1549.07"), ("-12", "-12"),  # numbers are data
    ("=SUM(A1)", "'=SUM(A1)"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
    ("+1 555", "'+1 555"), ("@x", "'@x"), ("Acme", "Acme"), (None, "")])
def test_csv_cells_escape_formulas_not_numbers(value, cell):
    from ledger.render.report import safe_cell

    assert safe_cell(value) == cell


def test_report_and_payouts_csv_share_one_long_layout(june):
    import csv
    import io

    from ledger.render.payouts import as_csv
    from ledger.render.report import report_csv

    data = report.build(june, month="2024-06")
    rows = list(csv.reader(io.StringIO(report_csv(data))))
    platform = {(r[1], r[2]): r[3] for r in rows if r[0] == "by_platform"}
    assert platform[("upwork", "gross")] == "278.00"
    payouts = {"period": data["period"], "currency": "USD", "workers": [], "contracts": [],
               "value_chain": [{"party": "=evil()", "amount": "-5.00"}],
               "payments": [{"worker": "ali", "amount": "-7.50"}]}
    long = list(csv.reader(io.StringIO(as_csv(payouts))))
    assert long[0] == rows[0] == ["section", "key", "field", "value"]
    assert ["value_chain", "'=evil()", "amount", "-5.00"] in long
    assert ["payments", "1", "amount", "-7.50"] in long
