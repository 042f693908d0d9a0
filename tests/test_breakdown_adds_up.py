"""The report's breakdowns are a partition of its net: per platform and per client, the items'
Net home add up to the report's Net exactly (Decimal, as shown), each item foots (net = gross -
fees, net home = net - payout costs), and the costs of moving and converting money sit with
whose money it was (ledger/counting/attribution.py `traced`, ledger/reports/breakdown.py).

On the demo ledger through the real CLI (PayPal's EUR->USD conversion of 14 June 2024 is
PayPal's and Müller's, in the report and in `ledger payouts`), and on generated ledgers:
Upwork, PayPal (EUR payments, conversions, withdrawals arriving in rupees), Payoneer and a
bank, with Connects, withdrawal fees, bank charges, tax, expenses, other income and money
older than the ledger, at rates that change from day to day."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.test_cli import as_json, import_demo, ok, run
from tests.test_reconcile import frame, row

D = Decimal


def assert_adds_up(report: dict) -> None:
    """Each breakdown's items foot and their net home and gross add up to the report's net
    and gross, as shown; the payout costs section foots."""
    net, gross = D(report["totals"]["net"]), D(report["totals"]["gross"])
    for section in ("by_platform", "by_client"):
        items = report[section]
        for item in items:
            assert D(item["net"]) == D(item["gross"]) - D(item["fees"]), (section, item)
            assert D(item["net_home"]) == D(item["net"]) - D(item["payout_costs"]), item
        assert sum((D(i["net_home"]) for i in items), D(0)) == net, (section, items, net)
        assert sum((D(i["gross"]) for i in items), D(0)) == gross, (section, items, gross)
        key = "platform" if section == "by_platform" else "client"
        names = [i[key] for i in items]
        assert len(set(names)) == len(names) and None not in names[:-1]  # (none) last, once
    costs = report["payout_costs"]
    assert D(costs["attributed"]) + D(costs["booked_at_origin"]) + D(costs["unattributed"]) \
        == D(costs["hop_costs"])


# --- the demo, through the real CLI -------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    return import_demo(tmp_path_factory.mktemp("adds-up"))


def report(root: Path, *args: str) -> dict:
    return as_json(run("--ledger", root, "report", *args, "--format", "json", cwd=root.parent))


@pytest.mark.parametrize("period", [
    ("--month", "2024-04"), ("--month", "2024-05"), ("--month", "2024-06"),
    ("--year", "2024"), ("--year", "2024", "--currency", "USD"), ("--tax-year", "2024")])
def test_the_demos_breakdowns_add_up_to_its_net(demo, period):
    assert_adds_up(report(demo, *period))


def conversion_cost(data: dict) -> Decimal:
    """The FX cost of the conversions the exports show: the report's FX cost less what the
    rules derived (withdrawals that delivered or arrived in another currency)."""
    derived = sum((D(r["figures"].get("fx_cost", "0")) for r in data["rules"]), D(0))
    return D(data["totals"]["fx_cost"]) - derived


def test_paypals_conversion_sits_with_paypal_and_mueller(demo):
    june = report(demo, "--month", "2024-06")
    converted = conversion_cost(june)
    assert converted > 0  # PayPal's EUR->USD of 14 June
    arrival = next(r for r in june["rules"] if r["id"] == "transfers.arrival.conversion")
    t = june["totals"]
    # PayPal's money: the conversion, the spread of its withdrawal arriving in rupees and the
    # bank's charge and tax on that credit (June's only bank charges); a cent of rounding
    # may sit on any item so that the items add up to the net
    paypal_money = converted + D(arrival["figures"]["fx_cost"]) + D(t["bank_deductions"]) \
        + D(t["taxes"])
    [paypal] = [p for p in june["by_platform"] if p["platform"] == "paypal"]
    [mueller] = [c for c in june["by_client"] if c["client"] == "Müller Design GmbH"]
    for item in (paypal, mueller):
        assert abs(D(item["payout_costs"]) - paypal_money) <= D("0.01"), item
        assert D(item["fees"]) == D(paypal["fees"])  # PayPal's fee on her payment
    # the bank's charges are PayPal's money's: no item of the bank's own
    assert {p["platform"] for p in june["by_platform"]} == {"upwork", "paypal"}
    # Connects and the fee of the withdrawal still on its way are no client's
    [none] = [c for c in june["by_client"] if c["client"] is None]
    assert D(none["gross"]) == 0 and D(none["fees"]) > 0
    table = ok(run("--ledger", demo, "--width", "160", "report", "--month", "2024-06",
                   cwd=demo.parent)).stdout
    assert "(none)" in table and "Net home add up to Net" in table


def test_ledger_fees_rate_and_the_reports_fee_rate_are_two_measures_each_labelled(demo):
    """PayPal's June: 4.7% in the report, 14.0% in `ledger fees`. The report's Fee rate is its
    Fees (platform and payment fees) over its gross; `ledger fees` counts every cost booked on
    PayPal's own rows: its fee, its conversion's FX and its withdrawal's spread (the bank's
    charge and tax on the credit are booked at the bank: `via bank`). Both add up from the
    report's own figures, and the fees table says which it is."""
    june = report(demo, "--month", "2024-06")
    fees = as_json(run("--ledger", demo, "fees", "--month", "2024-06", "--format", "json",
                       cwd=demo.parent))
    [booked] = [p for p in fees["summary"]["by_platform"] if p["platform"] == "paypal"]
    [paypal] = [p for p in june["by_platform"] if p["platform"] == "paypal"]
    t = june["totals"]
    assert D(paypal["fee_rate"]) == (D(paypal["fees"]) / D(paypal["gross"])).quantize(
        D("0.0001"))
    on_its_rows = D(paypal["fees"]) + D(paypal["payout_costs"]) - D(t["bank_deductions"]) \
        - D(t["taxes"])
    assert abs(D(booked["total_fees"]) - on_its_rows) <= D("0.01")
    assert D(booked["effective_rate"]) > D(paypal["fee_rate"])
    table = ok(run("--ledger", demo, "--width", "120", "fees", "--month", "2024-06",
                   cwd=demo.parent)).stdout
    header = next(line for line in table.splitlines() if "Platform / route" in line)
    assert "Costs booked there" in header and "Fees" not in header
    assert "Costs booked on its own rows (fees, FX, bank, taxes)" in table


def test_payouts_charge_the_conversion_to_muellers_contract(demo, tmp_path):
    import shutil

    root = tmp_path / "led"
    shutil.copytree(demo, root)
    with (root / "ledger.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[[workers]]\nname = "Faisal"\ncurrency = "PKR"\n'
                   'aliases = ["Faisal Malik"]\n\n[[splits]]\nworker = "Faisal"\n'
                   'platform = "upwork"\npercent_of_net = "10"\n')
    june = report(root, "--month", "2024-06")
    assert_adds_up(june)
    payouts = as_json(run("--ledger", root, "payouts", "--month", "2024-06", "--format",
                          "json", cwd=tmp_path))
    contracts = {c["contract"]: c for c in payouts["contracts"]}
    [mueller] = [c for c in june["by_client"] if c["client"] == "Müller Design GmbH"]
    # her PayPal fee and the conversion of her euros, and (as the report's By client charges
    # them) the costs of the PayPal withdrawal her money paid for: its FX spread and bank
    # charge as payment costs, the tax on its arrival as taxes (they were untied)
    line = contracts["Müller Design GmbH"]
    assert D(line["payment"]) > D(mueller["fees"]) + conversion_cost(june)
    expected = D(mueller["fees"]) + D(mueller["payout_costs"])
    assert abs(D(line["payment"]) + D(line["taxes"]) - expected) <= D("0.02")
    assert D(line["taxes"]) == D(june["totals"]["taxes"]) > 0  # June's one tax: on arrival
    t = june["totals"]
    assert sum(D(c["payment"]) for c in contracts.values()) == sum(
        D(t[k]) for k in ("payment_fees", "fx_cost", "bank_deductions"))
    # as shown: each contract's margin is what is left of its gross, the lines add up to the
    # value chain's totals (June's Acme margin and Faisal's owed were a cent off), and what
    # the clients paid is the report's gross
    columns = ("gross", "platform", "payment", "taxes", "owed", "margin")
    for c in contracts.values():
        assert D(c["margin"]) == D(c["gross"]) - sum(D(c[k]) for k in columns[1:-1]), c
    added = {k: sum(D(c[k]) for c in contracts.values()) for k in columns}
    chain = {p["role"]: D(p["amount"]) for p in payouts["value_chain"]}
    assert (added["gross"], added["platform"], added["payment"], added["taxes"],
            added["owed"], added["margin"]) == (
        D(t["gross"]), chain["platform"], chain["payment"], chain["taxes"],
        chain["sub-worker"], chain["contractor"])
    assert sum(chain.values()) == D(t["gross"])
    for each in payouts["value_chains"]:
        kept = next(s for s in each["steps"] if s["step"] == "you_kept")
        assert D(kept["amount"]) == D(contracts[each["contract"]]["margin"])


# --- generated ledgers --------------------------------------------------------------------

JUNE = (dt.date(2024, 6, 1), dt.date(2024, 6, 30))
MONEY = st.integers(500, 90000).map(lambda cents: D(cents) / 100)


def _day(n: int) -> str:
    return (dt.date(2024, 5, 1) + dt.timedelta(days=n)).isoformat()


@st.composite
def ledgers(draw) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Rows of May and June 2024 over Upwork, PayPal, Payoneer and a bank, and rates.csv
    rows (USD->PKR and EUR->USD, one per day, changing)."""
    items: list[dict] = []
    serial = iter(range(10_000))

    def ref() -> str:
        return f"R{next(serial)}"

    for _ in range(draw(st.integers(0, 6))):  # Upwork work and its 10% fee
        day, amount = draw(st.integers(0, 55)), draw(MONEY)
        client = draw(st.sampled_from(["Acme", "Beta", None]))
        r = ref()
        items += [row(_day(day), "upwork", "earning", str(amount), "USD", ref=r,
                      counterparty=client, category="hourly"),
                  row(_day(day), "upwork", "platform_fee", str(-(amount / 10).quantize(
                      D("0.01"))), "USD", ref=ref(), related_ref=r, counterparty=client)]
    if draw(st.booleans()):  # Connects: no client's
        items.append(row(_day(draw(st.integers(0, 55))), "upwork", "platform_fee", "-9",
                         "USD", ref=ref(), category="connects"))
    for _ in range(draw(st.integers(0, 2))):  # Upwork -> Payoneer -> bank
        day, sent = draw(st.integers(0, 50)), draw(MONEY)
        rupees = (sent * draw(st.integers(268, 285))).quantize(D("0.01"))
        taken = draw(st.sampled_from([D(0), D(0), D(250)]))
        items += [
            row(_day(day), "upwork", "transfer", str(-sent), "USD", ref=ref(),
                category="withdrawal", description="Withdrawal Request: Payoneer"),
            row(_day(day), "upwork", "payment_fee", "-2", "USD", ref=ref(),
                category="withdrawal_fee", description="Withdrawal Fee"),
            row(_day(day + 1), "payoneer", "transfer", str(sent), "USD", ref=ref(),
                description="Payment from Upwork Global Inc"),
            row(_day(day + 2), "payoneer", "transfer", str(-sent), "USD", ref=ref(),
                description=f"Transfer to bank account [delivered {rupees} PKR]",
                delivered=(str(rupees), "PKR")),
            row(_day(day + 2), "payoneer", "payment_fee", "-3", "USD", ref=ref(),
                category="withdrawal_fee", description="Withdrawal fee"),
            row(_day(day + 3), "bank:meezan", "transfer", str(rupees - taken), "PKR",
                ref=ref(), description="Inward Remittance PAYONEER INC")]
    for _ in range(draw(st.integers(0, 3))):  # PayPal: a EUR payment, converted, withdrawn
        day, amount = draw(st.integers(0, 50)), draw(MONEY)
        client = draw(st.sampled_from(["Müller", "Lux", None]))
        r, conversion = ref(), ref()
        fee = (amount * D("0.047")).quantize(D("0.01"))
        converted = draw(st.sampled_from([amount - fee, amount]))  # all, or more than it got
        dollars = (converted * draw(st.sampled_from([D("1.04"), D("1.06")]))).quantize(
            D("0.01"))
        items += [
            row(_day(day), "paypal", "earning", str(amount), "EUR", ref=r,
                counterparty=client),
            row(_day(day), "paypal", "payment_fee", str(-fee), "EUR", ref=ref(),
                related_ref=r, counterparty=client),
            row(_day(day), "paypal", "fx", str(-converted), "EUR", ref=ref(),
                related_ref=conversion, category="conversion"),
            row(_day(day), "paypal", "fx", str(dollars), "USD", ref=ref(),
                related_ref=conversion, category="conversion")]
        if draw(st.booleans()):
            out = ref()
            rupees = (dollars * D(draw(st.integers(268, 282)))).quantize(D("0.01"))
            items += [
                row(_day(day + 2), "paypal", "transfer", str(-dollars), "USD", ref=out,
                    category="withdrawal", description="General Withdrawal"),
                row(_day(day + 5), "bank:meezan", "transfer", str(rupees), "PKR",
                    ref=(stan := ref()), description="Inward Remittance PAYPAL PTE LTD"),
                row(_day(day + 5), "bank:meezan", "bank_fee", "-150", "PKR",
                    related_ref=stan, description="CHG"),
                row(_day(day + 5), "bank:meezan", "tax", str(-(rupees / 400).quantize(
                    D("0.01"))), "PKR", related_ref=stan, description="FBR tax")]
    for kind, amount in draw(st.lists(st.tuples(  # the bank's own rows
            st.sampled_from(["expense", "other", "bank_fee", "adjustment"]),
            st.integers(-5000, 5000).filter(bool)), max_size=3)):
        items.append(row(_day(draw(st.integers(0, 60))), "bank:meezan", kind, str(amount),
                         "PKR", ref=ref(), description=f"{kind} {amount}"))
    if not items:
        items.append(row(_day(35), "upwork", "earning", "10", "USD", ref=ref()))
    for n, item in enumerate(items):
        item["line"] = n + 2
    days = [dt.date(2024, 4, 20) + dt.timedelta(days=n) for n in range(90)]
    usd = draw(st.lists(st.integers(27000, 28600), min_size=90, max_size=90))
    eur = draw(st.lists(st.integers(1050, 1120), min_size=90, max_size=90))
    rates = pl.DataFrame({
        "date": days * 2, "from": ["USD"] * 90 + ["EUR"] * 90,
        "to": ["PKR"] * 90 + ["USD"] * 90,
        "rate": [str(D(u) / 100) for u in usd] + [str(D(e) / 1000) for e in eur],
        "provider": "user", "detail": [f"rates.csv:{n + 2}" for n in range(180)]},
    ).with_columns(pl.col("rate").cast(pl.Decimal(38, 12)))
    return frame(items), rates


@pytest.fixture(scope="module")
def empty_ledger(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "led"
    root.mkdir()
    (root / "ledger.toml").write_text('home_currency = "PKR"\ncountry = "PK"\n', "utf-8")
    return root


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(ledgers(), st.sampled_from([("PKR", {"month": "2024-06"}),
                                   ("USD", {"month": "2024-06"}),
                                   ("PKR", {"start": "2024-05-01", "end": "2024-06-30"}),
                                   ("EUR", {"start": "2024-05-01", "end": "2024-06-30"})]))
def test_generated_ledgers_breakdowns_add_up_to_their_net(empty_ledger, book, asked):
    from ledger.reports.report import build
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    rows, rates = book
    currency, period = asked
    data = build(Ledger(empty_ledger), rows=rows, chain=FxChain([rates]), currency=currency,
                 **period)
    assert_adds_up(data)
