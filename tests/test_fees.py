"""Fee schedules: the bundled rules, lookups by date and case, expected fees (scalar and
vectorised agree), ledger.toml overrides, and fees derived from net amounts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from importers import registry
from ledger.core import schema
from ledger.core.errors import DataError, UsageError
from rules.fees import (
    CONFIDENCE,
    apply_rules,
    derive_fees,
    expected_fee,
    fee_expr,
    load_schedule,
    rule_for,
)
from tests.conftest import DATA

D = Decimal
BUNDLED = load_schedule()


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


# --- the bundled schedule -----------------------------------------------------------------

def test_every_bundled_rule_has_id_source_and_confidence():
    ids = [r.id for r in BUNDLED.rules]
    assert len(ids) == len(set(ids))
    for rule in BUNDLED.rules:
        assert rule.id.startswith(f"{rule.provider}.{rule.kind}"), rule.id
        assert rule.source and rule.confidence in CONFIDENCE[:2], rule.id
        assert rule.origin == "bundled"


@pytest.mark.parametrize(("date", "expected"), [
    ("2015-03-01", "upwork.service_fee.pre-2016"),
    ("2016-06-20", "upwork.service_fee.pre-2016"),
    ("2016-06-21", "upwork.service_fee.2016-06-21"),
    ("2022-03-01", "upwork.service_fee.2016-06-21"),
    ("2023-05-02", "upwork.service_fee.2016-06-21"),
    ("2023-05-03", "upwork.service_fee.2023-05-03"),
    ("2024-06-03", "upwork.service_fee.2023-05-03"),
    ("2025-06-01", "upwork.service_fee.2025-05-01"),
])
def test_upwork_service_fee_history(date, expected):
    assert BUNDLED.rule_for("upwork", "service_fee", day(date)).id == expected


def test_legacy_five_percent_needs_billings_over_10000_before_2023_05_03():
    def big(_start):
        return D("12000")

    def small(_start):
        return D("9000")

    when = day("2023-08-01")
    assert BUNDLED.rule_for("upwork", "service_fee", when, billings_before=big).id == \
        "upwork.service_fee.2023-05-03.legacy-5"
    assert BUNDLED.rule_for("upwork", "service_fee", when, billings_before=small).id == \
        "upwork.service_fee.2023-05-03"
    assert BUNDLED.rule_for("upwork", "service_fee", day("2024-01-01"),
                            billings_before=big).id == "upwork.service_fee.2023-05-03"


def test_most_specific_rule_wins_and_aliases():
    assert rule_for("paypal", "fx_margin", day("2024-01-01"), country="PH",
                    into="USD").id == "paypal.fx_margin.APAC.2012-06-12.into-usd-cad"
    assert rule_for("paypal", "fx_margin", day("2024-01-01"), country="ph",
                    into="PHP").id == "paypal.fx_margin.APAC.2012-06-12"
    assert BUNDLED.rule_for("payoneer", "withdrawal_fee", day("2025-03-01"), country="PK",
                            method="fcy_account").id \
        == "payoneer.withdrawal_fee.PK.2025.fcy_account"
    assert BUNDLED.rule_for("freelancer_com", "project_fee", day("2024-01-01"),
                            project_type="hourly").id == "freelancer.project_fee.hourly"


def test_no_rule_is_an_error_listing_the_known_ones():
    with pytest.raises(DataError) as info:
        BUNDLED.rule_for("paypal", "receive_fee", day("2024-03-01"), country="NG",
                         scope="international")
    text = str(info.value)
    assert text.startswith("no paypal receive_fee rule for 2024-03-01 (country=NG, "
                           "scope=international)")
    assert "paypal.receive_fee.PH.2013-09-10 [2013-09-10, …)" in text
    assert "[[fees.paypal.receive_fee]]" in text


# --- expected fees ------------------------------------------------------------------------

SLIDING = BUNDLED.get("upwork.service_fee.2016-06-21")


@pytest.mark.parametrize(("prior", "amount", "fee"), [
    ("0", "600", "110.00"),        # 2016 sliding fee: $500 at 20% + $100 at 10% = $110
    ("0", "500", "100.00"),
    ("400", "200", "30.00"),       # 100 at 20% + 100 at 10%
    ("9900", "200", "15.00"),      # 100 at 10% + 100 at 5%
    ("20000", "100", "5.00"),
    ("0", "10500", "1075.00"),     # 100 + 950 + 25
    ("0", "33.33", "6.67"),        # 6.666 rounds to the cent
])
def test_sliding_fee_is_marginal_on_lifetime_billings(prior, amount, fee):
    assert expected_fee(SLIDING, D(amount), {"prior": D(prior)}) == D(fee)


def test_clients_billed_before_the_switch_kept_10_then_5_percent():
    assert expected_fee(SLIDING, D("600"), {"prior": D("0"), "legacy": True}) == D("60.00")
    assert expected_fee(SLIDING, D("600"), {"prior": D("9800"), "legacy": True}) == D("40.00")


def test_upwork_rounds_each_fee_to_the_cent():
    flat = BUNDLED.get("upwork.service_fee.2023-05-03")
    assert expected_fee(flat, D("266.64")) == D("26.66")   # $26.664 -> $26.66
    assert expected_fee(flat, D("333.36")) == D("33.34")   # $33.336 -> $33.34


@pytest.mark.parametrize(("rule_id", "amount", "context", "fee"), [
    ("fiverr.withdrawal_fee.paypal", "30", {}, "0.60"),
    ("fiverr.withdrawal_fee.paypal", "80", {}, "1.00"),
    ("freelancer.project_fee.fixed_price", "30", {}, "5.00"),
    ("freelancer.project_fee.fixed_price", "120", {}, "12.00"),
    ("paypal.receive_fee.PH.2013-09-10", "100", {"currency": "USD"}, "4.70"),
    ("paypal.receive_fee.PH.2013-09-10", "1000", {"currency": "PHP"}, "59.00"),
    ("paypal.receive_fee.PH.2013-09-10.domestic", "1000", {"currency": "PHP"}, "54.00"),
    ("paypal.receive_fee.IN", "100", {"currency": "USD"}, "5.55"),  # 4.70 + 18% GST 0.85
    ("paypal.withdrawal_fee.PH.2009-03-01", "6999.99", {"currency": "PHP"}, "50.00"),
    ("paypal.withdrawal_fee.PH.2009-03-01", "7000", {"currency": "PHP"}, "0.00"),
    ("payoneer.receive_fee.PK.2025", "50", {}, "1.00"),
    ("payoneer.receive_fee.PK.2025", "250", {}, "2.50"),
    ("deductions.export_wht.PK.2022-07-01", "100000", {"currency": "PKR"}, "1000.00"),
    ("deductions.export_wht.PK.2022-07-01", "100000", {"currency": "PKR", "status": "pseb"},
     "250.00"),
    ("deductions.export_wht.PK.2025-07-01", "100000",
     {"currency": "PKR", "status": "non_filer"}, "500.00"),
    ("upwork.service_fee.2025-05-01", "200", {}, "20.00"),
    ("upwork.service_fee.2025-05-01", "200", {"contract_rate": D("0.12")}, "24.00"),
])
def test_expected_fees(rule_id, amount, context, fee):
    assert expected_fee(BUNDLED.get(rule_id), D(amount), context) == D(fee)


def test_fees_that_cannot_be_computed_say_why():
    with pytest.raises(DataError, match="PayPal does not serve Pakistan residents"):
        expected_fee(BUNDLED.get("paypal.receive_fee.PK"), D("100"))
    with pytest.raises(DataError, match="has no published rate"):
        expected_fee(BUNDLED.get("upwork.fx_margin.direct_to_local_bank"), D("100"))
    with pytest.raises(DataError, match="has no fixed amount in EUR"):
        expected_fee(BUNDLED.get("paypal.receive_fee.PH.2013-09-10"), D("100"),
                     {"currency": "EUR"})
    with pytest.raises(UsageError, match="no rate for status 'atl'"):
        expected_fee(BUNDLED.get("deductions.export_wht.PK.2022-07-01"), D("1"),
                     {"status": "atl"})


VECTOR_RULES = ["upwork.service_fee.2016-06-21", "upwork.service_fee.2023-05-03",
                "fiverr.withdrawal_fee.paypal", "freelancer.project_fee.fixed_price",
                "paypal.receive_fee.IN", "paypal.withdrawal_fee.PH.2009-03-01",
                "payoneer.receive_fee.PK.2025"]
amounts = st.decimals(min_value=D("0.01"), max_value=D("50000"), places=2)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(VECTOR_RULES), st.lists(st.tuples(amounts, amounts), min_size=1,
                                                max_size=20), st.booleans())
def test_vectorised_fee_equals_scalar_fee(rule_id, pairs, legacy):
    rule = BUNDLED.get(rule_id)
    currency = "PHP" if rule.currency == "PHP" else "USD"
    df = pl.DataFrame({"amount": [a for a, _ in pairs], "prior": [p for _, p in pairs]},
                      schema={"amount": pl.Decimal(38, 4), "prior": pl.Decimal(38, 4)})
    got = df.select(fee_expr(rule, pl.col("amount"), currency, prior=pl.col("prior"),
                             legacy=pl.lit(legacy)).alias("fee"))["fee"].to_list()
    want = [expected_fee(rule, a, {"currency": currency, "prior": p, "legacy": legacy})
            for a, p in pairs]
    assert got == want


# --- ledger.toml overrides ----------------------------------------------------------------

def test_a_user_rule_replaces_the_bundled_one_by_id_keeping_other_fields():
    schedule = load_schedule({"fees": {"upwork": {"service_fee": [
        {"id": "upwork.service_fee.2025-05-01", "default_rate": "0.12"}]}}})
    rule = schedule.get("upwork.service_fee.2025-05-01")
    assert (rule.default_rate, rule.max_rate, rule.type) == (D("0.12"), D("0.15"),
                                                             "per_contract")
    assert (rule.source, rule.confidence, rule.origin) == ("ledger.toml", "user",
                                                           "ledger.toml")
    assert rule.start == day("2025-05-01")
    assert expected_fee(rule, D("100")) == D("12.00")


def test_a_user_rule_with_a_new_id_is_added_and_enabled_false_removes_one():
    schedule = load_schedule({"country": "pk", "fees": {
        "payoneer": {"fx_margin": [{"id": "payoneer.fx_margin.mine", "from": day("2024-01-01"),
                                    "rate": 0.015, "source": "my statements"}]},
        "upwork": {"service_fee": [{"id": "upwork.service_fee.2023-05-03.legacy-5",
                                    "enabled": False}]},
        "options": {"prior_billings": {"Acme Corp": "12500"}, "tax_status": "pseb"}}})
    mine = schedule.rule_for("payoneer", "fx_margin", day("2024-06-01"))
    assert (mine.id, mine.rate, mine.source) == ("payoneer.fx_margin.mine", D("0.015"),
                                                 "my statements")
    assert schedule.rule_for("payoneer", "fx_margin", day("2023-06-01")).id == \
        "payoneer.fx_margin.withdraw_local"
    assert "upwork.service_fee.2023-05-03.legacy-5" not in {r.id for r in schedule.rules}
    assert schedule.options.prior_billings == {"Acme Corp": D("12500")}
    assert schedule.options.tax_status == "pseb"
    assert schedule.country == "PK"


@pytest.mark.parametrize(("fees", "message"), [
    ({"upwork": {"service_fee": [{"rate": "0.10"}]}}, "a rule in fees.upwork.service_fee has "
     "no id"),
    ({"upwork": {"service_fee": [{"id": "x", "rate": "10"}]}}, "rule x.rate = '10' is not a "
     "rate between 0 and 1"),
    ({"upwork": {"service_fee": [{"id": "x", "rates": "0.1"}]}}, "rule x: rates must be a "
     "table"),
    ({"upwork": {"service_fee": [{"id": "x", "ratee": "0.1"}]}}, "rule x: unknown field(s) "
     "['ratee']"),
    ({"upwork": {"service_fee": [{"id": "x", "rate": "0.1", "from": "2024-13-01"}]}},
     "rule x.from = '2024-13-01' is not a date"),
    ({"upwork": {"service_fee": [{"id": "x", "type": "tiered"}]}}, "rule x: a tiered rule "
     "needs tiers"),
    ({"upwork": {"service_fee": [{"id": "x", "rate": "abc"}]}}, "rule x.rate = 'abc' is not a "
     "number"),
    ({"upwork": {"service_fee": [{"id": "x", "type": "tiered", "tiers": [
        {"upto": "500", "rate": "0.2"}, {"upto": "100", "rate": "0.1"}, {"rate": "0.05"}]}]}},
     "rule x.tiers: each tier but the last needs a rising `upto`, the last none"),
    ({"options": {"tax_status": "atl"}}, "unknown tax_status 'atl'"),
    ({"options": {"prior": {}}}, "unknown setting(s) ['prior'] in [fees.options]"),
    ({"upwork": "0.1"}, "[fees.upwork] must be a table of rule lists"),
])
def test_bad_user_rules_are_usage_errors_naming_the_file(fees, message):
    with pytest.raises(UsageError) as info:
        load_schedule({"fees": fees}, where="/x/ledger.toml")
    assert str(info.value).startswith(f"/x/ledger.toml: {message}")
    assert info.value.exit_code == 2


def test_schedule_for_a_ledger_reads_its_ledger_toml(ledger):
    from rules.fees import Schedule

    ledger.root.mkdir(parents=True)
    ledger.config_path.write_text('country = "PH"\n\n[[fees.fiverr.service_fee]]\n'
                                  'id = "fiverr.service_fee.2010-02-01"\nrate = "0.25"\n')
    schedule = Schedule.for_ledger(ledger)
    assert schedule.country == "PH"
    assert schedule.rule_for("fiverr", "service_fee", day("2024-01-01")).rate == D("0.25")


# --- derived fees -------------------------------------------------------------------------

def fiverr_rows() -> pl.DataFrame:
    from importers.base import ImportOptions

    raw = registry.read(DATA / "fiverr" / "earnings.csv")
    return registry.parse(raw, ImportOptions(today=day("2026-11-23"))).rows


def test_net_of_fee_earnings_become_gross_plus_fee():
    rows = fiverr_rows()
    net = rows.filter(pl.col("category") == "net_of_fee")
    assert net.height
    refunds = rows.filter(pl.col("kind") == "refund")
    assert refunds.height == 1  # a cancellation takes back the net credited: net as well
    out = apply_rules(rows, BUNDLED)
    schema.validate(out, "derived")
    assert out.filter(pl.col("category") == "net_of_fee").is_empty()
    assert out.height == rows.height + net.height + refunds.height
    derived = out.filter(pl.col("origin") == "rule:fiverr.service_fee.2010-02-01")
    assert derived.height == 2 * (net.height + refunds.height)
    # every original net amount is exactly the sum of its two rows, same date/line/import
    sums = derived.group_by("import_id", "line", "date").agg(pl.col("amount").sum())
    joined = pl.concat([net, refunds]).join(sums, on=["import_id", "line", "date"],
                                            suffix="_derived")
    assert joined.height == net.height + refunds.height
    assert (joined["amount"] == joined["amount_derived"]).all()
    first = net.row(0, named=True)
    pair = derived.filter(pl.col("line") == first["line"]).sort("kind")
    gross, fee = pair.row(0, named=True), pair.row(1, named=True)
    assert (gross["kind"], gross["category"], gross["ref"]) == ("earning", "gross", first["ref"])
    assert gross["amount"] == first["amount"] / D("0.8")
    assert (fee["kind"], fee["category"], fee["related_ref"]) == ("platform_fee",
                                                                  "service_fee", first["ref"])
    assert fee["description"] == "Fiverr service fee 20% (derived by rule " \
        "fiverr.service_fee.2010-02-01)"
    assert {gross["id"], fee["id"]}.isdisjoint(set(rows["id"].to_list()))


def test_deriving_is_stable_and_idempotent():
    rows = fiverr_rows()
    once = apply_rules(rows, BUNDLED)
    assert apply_rules(once, BUNDLED).equals(once)
    assert apply_rules(rows, BUNDLED).equals(once)
    assert apply_rules(rows.filter(pl.col("category") != "net_of_fee"), BUNDLED).equals(
        rows.filter(pl.col("category") != "net_of_fee"))


def make_net(amounts_: list[Decimal], currency: str = "USD") -> pl.DataFrame:
    n = len(amounts_)
    df = pl.DataFrame({
        "date": [dt.date(2024, 6, 1)] * n, "source": ["fiverr"] * n, "account": ["fiverr"] * n,
        "kind": ["earning"] * n, "category": ["net_of_fee"] * n, "amount": amounts_,
        "currency": [currency] * n, "description": ["Revenue"] * n,
        "ref": [f"FO{i:08d}" for i in range(n)], "origin": ["source"] * n,
        "import_id": ["t" * 64] * n, "line": list(range(2, n + 2))},
        schema_overrides={"amount": pl.Decimal(38, 4)})
    return schema.with_ids(schema.conform(df))


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
                min_size=1, max_size=25),
       st.decimals(min_value=D("0.0001"), max_value=D("0.4999"), places=4))
def test_property_derived_rows_sum_to_the_net_and_gross_rounds_back(nets, rate):
    schedule = load_schedule({"fees": {"fiverr": {"service_fee": [
        {"id": "fiverr.service_fee.2010-02-01", "rate": str(rate)}]}}})
    rows = make_net(nets)
    derived = derive_fees(rows, schedule)
    gross = derived.filter(pl.col("kind") == "earning").sort("line")["amount"].to_list()
    fees = derived.filter(pl.col("kind") == "platform_fee").sort("line")["amount"].to_list()
    for net, g, f in zip(nets, gross, fees, strict=True):
        assert g + f == net
        assert (g * (1 - rate)).quantize(D("0.01")) == net
        assert g == g.quantize(D("0.01")) and f <= 0


def test_deriving_without_a_rule_or_from_a_non_invertible_rule_fails():
    rows = make_net([D("4.00")]).with_columns(pl.lit(dt.date(2009, 1, 1)).alias("date"))
    with pytest.raises(DataError) as info:
        derive_fees(rows, BUNDLED)
    assert "no fiverr service fee rule for 2009-01-01 to derive the gross" in str(info.value)
    fixed = load_schedule({"fees": {"fiverr": {"service_fee": [
        {"id": "fiverr.service_fee.2010-02-01", "fixed": "0.50"}]}}})
    with pytest.raises(DataError, match="only a plain rate can be inverted"):
        derive_fees(make_net([D("4.00")]), fixed)


def test_zero_decimal_currency_rounds_the_gross_to_whole_units():
    out = derive_fees(make_net([D("1001")], currency="JPY"), BUNDLED)
    assert sorted(out["amount"].to_list()) == [D("-250"), D("1251")]


def test_a_refund_of_a_net_order_gives_back_the_gross_and_the_fee():
    out = apply_rules(fiverr_rows(), BUNDLED)
    refund = out.filter(pl.col("date") == day("2024-06-15")).sort("amount")
    assert [(r["kind"], r["amount"]) for r in refund.iter_rows(named=True)] == [
        ("refund", D("-30.0000")), ("platform_fee", D("6.0000"))]
    assert "given back with a refund" in refund.filter(
        pl.col("kind") == "platform_fee")["description"][0]


# --- rows measured from the exports: fees inside amounts, conversions, deductions ---------

def parse(path) -> pl.DataFrame:
    from importers.base import ImportOptions

    return registry.parse(registry.read(path), ImportOptions(today=day("2026-11-23"))).rows


def sums(df: pl.DataFrame) -> dict:
    return dict(df.group_by("currency").agg(pl.col("amount").sum()).iter_rows())


def test_measured_rules_are_in_the_schedule():
    ids = {r.id: r for r in BUNDLED.rules if r.type == "measured"}
    assert set(ids) == {"transfers.included_fee", "transfers.conversion.delivered",
                        "transfers.arrival.conversion", "deductions.intermediary.measured"}
    with pytest.raises(DataError, match="is measured from your rows"):
        expected_fee(ids["transfers.included_fee"], D("1"))
    assert ids["deductions.intermediary.measured"].describe() == "measured from your own rows"


def test_wise_fee_inside_a_transfer_and_its_conversion_are_split_out():
    rows = parse(DATA / "wise" / "statement_12345678_USD_2024-06-01_2024-06-30.csv")
    out = apply_rules(rows, BUNDLED)
    schema.validate(out, "measured")
    fees = out.filter(pl.col("category") == "included_fee")
    assert sorted(fees["amount"].to_list()) == [D("-6"), D("-2")]
    june7 = out.filter(pl.col("date") == day("2024-06-07")).sort("kind", "currency")
    assert [(r["kind"], r["amount"], r["currency"]) for r in june7.iter_rows(named=True)] == [
        ("payment_fee", D("-6"), "USD"), ("fx", D("276431.40"), "PKR"),
        ("fx", D("-994"), "USD"), ("transfer", D("-276431.40"), "PKR")]
    # the lone conversion leg (the PKR statement is not imported) gets its other leg
    legs = out.filter(pl.col("related_ref") == "BALANCE-4000000003").filter(
        pl.col("kind") == "fx")
    assert sorted((r["currency"], r["amount"]) for r in legs.iter_rows(named=True)) == [
        ("PKR", D("138195")), ("USD", D("-498"))]
    assert sums(out)["USD"] == sums(rows)["USD"]
    assert apply_rules(out, BUNDLED).equals(out)


def test_payoneer_withdrawal_in_pkr_is_a_conversion_and_paired_legs_stay():
    rows = parse(DATA / "payoneer" / "transactions-17col.csv")
    out = apply_rules(rows, BUNDLED)
    made = out.filter(pl.col("origin") == "rule:transfers.conversion.delivered").sort("amount")
    assert [(r["kind"], r["amount"], r["currency"]) for r in made.iter_rows(named=True)] == [
        ("transfer", D("-278500"), "PKR"), ("fx", D("-1000"), "USD"),
        ("fx", D("278500"), "PKR")]
    # the USD->EUR conversion's legs point at each other: they are a pair, nothing added
    assert out.filter(pl.col("currency") == "EUR").height == 2
    assert sums(out)["USD"] == sums(rows)["USD"] and sums(out)["PKR"] == 0


def transfer_rows(sent: str, got: str, named: str = "Upwork Global Inc",
                  days: int = 1, currency: str = "USD") -> pl.DataFrame:
    df = pl.DataFrame({
        "date": [day("2024-05-01"), day("2024-05-01") + dt.timedelta(days=days)],
        "source": ["upwork", "payoneer"], "account": ["upwork", "payoneer"],
        "kind": ["transfer", "transfer"], "category": ["withdrawal", "receipt"],
        "amount": [D(f"-{sent}"), D(got)], "currency": [currency, currency],
        "counterparty": [None, named], "description": ["Withdrawal", f"Payment from {named}"],
        "ref": ["W1", "R1"], "origin": ["source", "source"], "import_id": ["a" * 64, "b" * 64],
        "line": [2, 3]}, schema_overrides={"amount": pl.Decimal(38, 4)})
    return schema.with_ids(schema.conform(df))


@pytest.mark.parametrize(("sent", "got", "named", "days", "deducted"), [
    ("500", "490", "Upwork Global Inc", 1, D("-10")),
    ("500", "500", "Upwork Global Inc", 1, None),      # nothing lost
    ("500", "490", "ACME LLC", 1, None),               # the credit is not from the sender
    ("500", "490", "Upwork Global Inc", 9, None),      # too late to be the same money
    ("500", "440", "Upwork Global Inc", 1, None),      # more than $50 and 5%: another payment
    ("2000", "1920", "Upwork Global Inc", 0, D("-80")),  # 4% of a larger amount
])
def test_intermediary_deductions_are_measured(sent, got, named, days, deducted):
    from rules.fees import match_intermediary

    rows = transfer_rows(sent, got, named, days)
    out = match_intermediary(rows, BUNDLED)
    fees = out.filter(pl.col("kind") == "bank_fee")
    if deducted is None:
        assert out.equals(rows)
        return
    [fee] = fees.iter_rows(named=True)
    assert (fee["amount"], fee["category"], fee["related_ref"], fee["origin"]) == (
        deducted, "intermediary_deduction", "W1", "rule:deductions.intermediary.measured")
    assert out.filter(pl.col("kind") == "transfer")["amount"].sum() == 0
    assert sums(out) == sums(rows)


def test_measured_rules_can_be_turned_off():
    off = load_schedule({"fees": {
        "deductions": {"intermediary": [{"id": "deductions.intermediary.measured",
                                         "enabled": False}]},
        "transfers": {"conversion": [{"id": "transfers.conversion.delivered",
                                      "enabled": False}]}}})
    rows = transfer_rows("500", "490")
    assert apply_rules(rows, off).equals(rows)
    payoneer = parse(DATA / "payoneer" / "transactions-17col.csv")
    assert apply_rules(payoneer, off).equals(payoneer)


def test_implied_rates_from_delivered_amounts_and_pointing_legs():
    from rules.fx import implied_rates

    rates = implied_rates(parse(DATA / "payoneer" / "transactions-17col.csv"))
    got = {(r["from"], r["to"], r["rate"]) for r in rates.iter_rows(named=True)}
    assert got == {("USD", "PKR", D("278.5")), ("USD", "EUR", D("0.925"))}
    wise = implied_rates(parse(DATA / "wise" / "statement_12345678_USD_2024-06-01_2024-06-30.csv"))
    # the fee inside the amount is left out: 276,431.40 PKR for 994 USD
    assert {(r["date"], r["rate"]) for r in wise.iter_rows(named=True)} == {
        (day("2024-06-07"), D("278.1")), (day("2024-06-05"), D("277.5"))}


def test_bangladesh_exempts_it_freelancers_from_tax_at_source():
    rule = BUNDLED.rule_for("deductions", "export_wht", day("2024-01-01"), country="BD",
                            booked_as="it_export")
    assert (rule.id, rule.rate) == ("deductions.export_wht.BD.2011-07-01", D("0"))
