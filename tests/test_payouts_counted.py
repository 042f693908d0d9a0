"""Payouts are counted like the report (issue 18): the rows `ledger payouts` values go through
the same counting pipeline (ledger.counting: reconcile's matches, then the fee rules) as
`ledger report`'s totals, so a withdrawal only the bank's PKR credit shows arriving converted
is an FX cost in the contracts' payment costs too, not only in the report.

The month, worked by hand (rates.csv: 1 USD = 280 PKR on the days that matter):
  Upwork withdrawal fee 2.00 USD              =   560.00 PKR  (payment fee)
  Payoneer withdrawal fee 3.00 USD            =   840.00 PKR  (payment fee)
  450.00 USD sent to Meezan, 124,000 PKR came: 450 x 280 - 124,000 = 2,000.00 PKR  (FX cost)
So the report's payment fees are 1,400.00 and its FX cost 2,000.00; before this change
`ledger payouts` counted the transfer as a transfer and showed payment costs of 1,400.00 only.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from tests.test_attribution import MEEZAN, PAYONEER, UPWORK, imported
from tests.test_cli import as_json, import_demo, run

WORKERS = """
[[workers]]
name = "Ali"
currency = "PKR"

[[splits]]
worker = "Ali"
platform = "upwork"
percent_of_gross = "10"
"""


def test_payouts_count_the_fx_cost_the_report_counts(tmp_path: Path):
    imported(tmp_path, {"upwork.csv": UPWORK, "payoneer.csv": PAYONEER,
                        "AccountFullStatement.CSV": MEEZAN},
             {"2025-02-20": "280", "2025-02-24": "280", "2025-02-27": "280",
              "2025-03-03": "280", "2025-03-05": "280"})
    (tmp_path / "led" / "ledger.toml").write_text(WORKERS, "utf-8")
    month = ("--month", "2025-03", "--currency", "PKR", "--format", "json")
    report = as_json(run("--ledger", "led", "report", *month, cwd=tmp_path))
    payouts = as_json(run("--ledger", "led", "payouts", *month, cwd=tmp_path))
    totals = report["totals"]
    assert (totals["payment_fees"], totals["fx_cost"], totals["bank_deductions"]) == \
        ("1400.00", "2000.00", "0.00")
    contracts = {c["contract"]: c for c in payouts["contracts"]}
    # the 450.00 USD withdrawal was Acme's 272.00 (bonus 2.00 net + milestone 270.00) and
    # Beta's 178.00, first in, first out; its costs (the two fees and the FX cost, 3,400.00)
    # are theirs as the report's By client charges them (they were all on the untied line)
    assert "(costs not tied to a contract)" not in contracts
    assert {k: (c["payment"], c["margin"]) for k, c in contracts.items()} == {
        "Acme Corp": ("2040.00", "-2040.00"), "Beta LLC": ("1360.00", "-1360.00")}
    assert_same_story(report, payouts)
    chain = {p["party"]: p["amount"] for p in payouts["value_chain"]}
    assert chain["payment providers"] == "3400.00"
    # the report's own per-contract value chains read the same counted rows
    steps = {c["contract"]: {s["step"]: s["amount"] for s in c["steps"]}
             for c in report["value_chains"]}
    assert (steps["Acme Corp"]["payment"], steps["Acme Corp"]["you_kept"]) == \
        ("2040.00", "-2040.00")


UNTIED = "(costs not tied to a contract)"


def assert_same_story(report: dict, payouts: dict) -> None:
    """`ledger report`'s By client and `ledger payouts`' contracts of one period (JSON) tell
    the same story: a contract line named for a client carries that client's fees and payout
    costs (platform + payment + taxes = fees + payout_costs), and every cost the report
    charges to no client is on the untied line (the payments to sub-workers, no cost of a
    contract, aside)."""
    clients = {c["client"]: c for c in report["by_client"]}
    contracts = {c["contract"]: c for c in payouts["contracts"]}
    # each side rounds its lines once so that its own columns foot (largest remainder): a
    # line's three costs may be a cent each apart, never more
    cents = Decimal("0.03")

    def costs(line: dict) -> Decimal:
        return sum((Decimal(line[k]) for k in ("platform", "payment", "taxes")), Decimal(0))

    checked = 0
    for name, line in contracts.items():
        if name in clients:
            client = clients[name]
            charged = Decimal(client["fees"]) + Decimal(client["payout_costs"])
            assert abs(costs(line) - charged) <= cents, (name, costs(line), charged)
            checked += 1
    assert checked
    nobody = clients.get(None)
    if nobody is not None and UNTIED in contracts:
        paid = Decimal(report["totals"]["subcontractor_payouts"]) + Decimal(
            report["totals"]["expenses"])
        charged = Decimal(nobody["fees"]) - paid + Decimal(nobody["payout_costs"])
        assert abs(costs(contracts[UNTIED]) - charged) <= cents


DEMO_WORKER = """
[[workers]]
name = "Faisal"
currency = "PKR"
aliases = ["Faisal Malik"]

[[splits]]
worker = "Faisal"
platform = "upwork"
percent_of_net = "10"
"""


@pytest.mark.parametrize(("period", "untied", "payment"), [
    # before issue 18: untied 2664.33, all contracts 4208.62 (the report said 6391.34);
    # before PayPal's own conversions were charged to the contracts they converted: 4847.05;
    # before the withdrawals' costs were charged to the contracts whose money they moved, as
    # the report's By client charges them: 3997.78 (now only the fee of the 21 June Upwork
    # withdrawal no export shows arriving is no contract's)
    (("--month", "2024-06"), "275.67", "6391.34"),
    # before issue 18: untied 6255.99, all contracts 10782.49 (the report said 14352.70);
    # before PayPal's own conversions were charged to the contracts they converted: 9826.20;
    # before the withdrawals' costs were charged as the report charges them: 6907.05
    (("--year", "2024"), "275.67", "14352.70")])
def test_the_demo_payouts_cost_what_the_report_says(demo_with_worker, period, untied, payment):
    """The demo ledger with a sub-worker paid 10% of her Upwork net: per contract the payouts'
    payment costs add up to the report's payment fees + FX cost + bank deductions, and each
    contract carries what the report's By client charges its client."""
    args = (*period, "--format", "json")
    report = as_json(run("--ledger", demo_with_worker, "report", *args,
                         cwd=demo_with_worker.parent))
    payouts = as_json(run("--ledger", demo_with_worker, "payouts", *args,
                          cwd=demo_with_worker.parent))
    t = report["totals"]
    assert sum(Decimal(t[k]) for k in ("payment_fees", "fx_cost", "bank_deductions")) \
        == Decimal(payment)
    contracts = {c["contract"]: c for c in payouts["contracts"]}
    assert contracts[UNTIED]["payment"] == untied
    assert_same_story(report, payouts)
    # each contract's line rounded once: together within half a cent a line of the report
    shown = sum(Decimal(c["payment"]) for c in contracts.values())
    assert abs(shown - Decimal(payment)) <= Decimal("0.005") * len(contracts)


def demo_ledger_with_worker(folder: Path) -> Path:
    """The demo ledger imported into `folder` with DEMO_WORKER added to its ledger.toml."""
    root = import_demo(folder)
    with (root / "ledger.toml").open("a", encoding="utf-8") as toml:
        toml.write(DEMO_WORKER)
    return root


@pytest.fixture(scope="module")
def demo_with_worker(tmp_path_factory) -> Path:
    return demo_ledger_with_worker(tmp_path_factory.mktemp("demo-worker"))


def test_a_year_report_with_workers_reconciles_once(demo_with_worker, monkeypatch, tmp_path):
    """The payouts' history (the ledger's first day to the year's end) reads the same rows as
    the report's reconcile of 2024 (the demo starts on 2 April 2024): it reuses the report's
    matches instead of reconciling again, and counts exactly what its own reconcile counted.
    (Counted cold: an own cache folder, so no answer kept by another test is read.)"""
    import datetime as dt

    import polars as pl

    from ledger import payouts, reconcile
    from ledger.reports import report
    from ledger.store.directory import Ledger
    from rules.fx import FxChain

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    calls: list[tuple[dt.date, dt.date]] = []
    real = reconcile.reconcile

    def counted(rows, period, *args, **kwargs):
        calls.append(period)
        return real(rows, period, *args, **kwargs)

    monkeypatch.setattr(reconcile, "reconcile", counted)
    ledger = Ledger(demo_with_worker)
    built = report.build(ledger, year=2024)
    assert calls == [(dt.date(2024, 1, 1), dt.date(2024, 12, 31))]  # was also (2 April, 31 Dec)
    payment = sum(Decimal(s["amount"].replace(",", "")) for c in built["value_chains"]
                  for s in c["steps"] if s["step"] == "payment")
    # the report's payment fees + FX cost + deductions, each chain's step rounded once
    chains = len(built["value_chains"])
    assert abs(payment - Decimal("14352.70")) <= Decimal("0.005") * chains
    rows = ledger.rows()
    chain = FxChain.for_ledger(rows, ledger.rates_path)
    end = dt.date(2024, 12, 31)
    # matches itself (counting.matches: reconcile's matcher, not its chains)
    own = payouts.history(ledger, rows, end, chain)
    year = reconcile.for_ledger(ledger, (dt.date(2024, 1, 1), end), rows=rows, chain=chain)
    assert len(calls) == 2
    reused = payouts.history(ledger, rows, end, chain, year)
    assert len(calls) == 2
    assert reused.equals(own) and reused.height == own.height > 0
    # a month's history reads rows the month's reconcile did not: reconciled again
    june = reconcile.for_ledger(ledger, (dt.date(2024, 6, 1), dt.date(2024, 6, 30)), rows=rows,
                                chain=chain)
    assert reconcile.matches_for(june, rows, (rows["date"].min(), dt.date(2024, 6, 30))) is None
    assert rows.filter(pl.col("date") < dt.date(2024, 6, 1)).height > 0


def test_a_worker_paid_in_the_report_currency_got_what_their_statement_says(tmp_path):
    """7.50 USD per Acme job at 278.45 is 2,088.375 PKR, 2,088.38 on each statement line: in
    June's four jobs the worker is owed 8,353.52, and the value chain and the contract table
    say so too (they valued the exact amounts again: 8,353.50, two cents from the workers'
    table and the worker's statement)."""
    root = import_demo(tmp_path)
    with (root / "ledger.toml").open("a", encoding="utf-8") as toml:
        toml.write('\n[[workers]]\nname = "Ali"\ncurrency = "PKR"\n\n[[splits]]\n'
                   'worker = "Ali"\nclient = "Acme*"\nper_job = "7.50"\ncurrency = "USD"\n')
    month = ("--month", "2024-06", "--format", "json")
    payouts = as_json(run("--ledger", root, "payouts", *month, cwd=tmp_path))
    statement = as_json(run("--ledger", root, "payouts", "statement", "Ali", *month,
                            cwd=tmp_path))
    assert [j["owed"] for j in statement["jobs"]] == ["2088.38"] * 4
    assert statement["owed"] == "8353.52"
    assert {w["worker"]: w["owed"] for w in payouts["workers"]} == {"Ali": "8353.52"}
    assert {p["party"]: p["amount"] for p in payouts["value_chain"]}["Ali"] == "8353.52"
    acme = next(c for c in payouts["contracts"] if c["contract"] == "Acme Corp")
    assert acme["owed"] == "8353.52"
    assert sum(Decimal(acme[k]) for k in ("platform", "payment", "taxes", "owed", "margin")) \
        == Decimal(acme["gross"])


WISE_TO_ALI = (
    '"TransferWise ID",Date,"Date Time",Amount,Currency,Description,"Payment Reference",'
    '"Running Balance","Exchange From","Exchange To","Exchange Rate","Payer Name","Payee Name",'
    '"Payee Account Number",Merchant,"Card Last Four Digits","Card Holder Full Name",Attachment,'
    'Note,"Total fees","Exchange To Amount","Transaction Type","Transaction Details Type"\n'
    'TRANSFER-6000000002,21-06-2024,"21-06-2024 10:15:30.123",-41.50,USD,'
    '"Sent money to Ali Raza",June logos,58.50,USD,PKR,278.50000,,"Ali Raza",PK00ALI,,,,,,'
    '1.50,11140.00,DEBIT,TRANSFER\n'
    'TRANSFER-6000000001,20-06-2024,"20-06-2024 16:20:00.000",100.00,USD,'
    '"Received money from Upwork Escrow Inc.",,100.00,,,,"Upwork Escrow Inc.",,,,,,,,0.00,,'
    'CREDIT,TRANSFER\n')


def test_the_fee_for_paying_a_worker_is_no_clients(tmp_path):
    """Wise's fee for sending Ali his money named him as its counterparty, so the report's By
    client listed Ali Raza as a client with 417.75 of fees, while the payouts' contract table
    had the fee on no contract: now both keep it with the costs of no client's money."""
    from tests.test_payouts import contractor

    root = contractor(tmp_path)
    (tmp_path / "statement_1_USD_2024-06-01_2024-06-30.csv").write_text(WISE_TO_ALI, "utf-8")
    run("--ledger", "led", "import", "statement_1_USD_2024-06-01_2024-06-30.csv", cwd=tmp_path)
    month = ("--month", "2024-06", "--format", "json")
    report = as_json(run("--ledger", root, "report", *month, cwd=tmp_path))
    payouts = as_json(run("--ledger", root, "payouts", *month, cwd=tmp_path))
    assert "Ali Raza" not in {c["client"] for c in report["by_client"]}
    assert Decimal(report["totals"]["payment_fees"]) >= Decimal("417.75")  # 1.50 x 278.50
    paid = {(p["worker"], p["amount"], p["currency"]) for p in payouts["payments"]}
    assert ("Ali", "11140.00", "PKR") in paid  # what Wise delivered
    assert_same_story(report, payouts)
