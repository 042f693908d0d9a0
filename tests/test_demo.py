"""The bundled demo as a new user meets it: `ledger reconcile` on the demo ledger follows each
withdrawal from Upwork, Payoneer and PayPal to her Meezan Bank account, flags the one that never
arrived, and every chain foots.

Expected figures are read from the demo exports themselves with the csv module (not through the
importers) and recomputed here with Decimal, so a change to the data or to the arithmetic shows.
"""

from __future__ import annotations

import csv
import datetime as dt
import re
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

import pytest

from ledger.core.demo import AS_OF, EXPORTS
from tests.test_cli import DEMO, as_json, import_demo, ok, run

D = Decimal
CENT = D("0.01")
BANK = DEMO / "AccountFullStatement.CSV"
UPWORK = [DEMO / n for n in EXPORTS[:3]]
COSTS = ("platform_fee", "withdrawal_fee", "wallet_fees", "fx_spread", "bank_deductions", "tax")


@pytest.fixture(scope="module")
def demo_ledger(tmp_path_factory) -> Path:
    """The demo exports imported once through the CLI (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


def reconcile(ledger: Path, *period: str) -> dict:
    return as_json(run("--ledger", ledger, "reconcile", *period, "--as-of", AS_OF.isoformat(),
                       "--format", "json", cwd=ledger.parent))


# --- the demo exports, read independently --------------------------------------------------


def bank_statement() -> tuple[list[dict], dict[dt.date, D], dict[dt.date, D]]:
    """Meezan credits from a platform or wallet, and the bank's charges and FBR tax per day."""
    credits, charges, taxes = [], {}, {}
    with BANK.open(encoding="utf-8", newline="") as f:
        rows = [[c.strip() for c in r] for r in csv.reader(f)][1:]
    for date, text, debit, credit, *_ in rows:
        if text in ("Opening Balance", "Closing Balance"):
            continue
        day = dt.datetime.strptime(date, "%d/%m/%Y").date()
        if credit and re.search("UPWORK|PAYONEER|PAYPAL", text):
            credits.append({"date": day, "amount": D(credit), "text": text})
        elif split := re.match(r"CHG:PKR([\d.]+) FBRTax:PKR([\d.]+)", text):
            charges[day] = charges.get(day, D(0)) + D(split[1])
            taxes[day] = taxes.get(day, D(0)) + D(split[2])
            assert D(split[1]) + D(split[2]) == D(debit)
        elif "Charges" in text:
            charges[day] = charges.get(day, D(0)) + D(debit)
    return credits, charges, taxes


def upwork_withdrawals() -> list[dict]:
    """Each Upwork withdrawal with its fee (same day), from the classic and 2024 layouts."""
    found: dict[dt.date, dict] = {}
    for path in UPWORK:
        with path.open(encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                kind = row.get("Type") or row["Transaction type"]
                amount = D(row.get("Amount") or row["Amount $"])
                day = dt.datetime.strptime(row["Date"], "%b %d, %Y").date()
                text = row.get("Description") or row["Transaction summary"]
                if kind == "Withdrawal":
                    found.setdefault(day, {})
                    found[day].update(date=day, amount=-amount, to=text.split(": ")[1])
                elif kind == "Withdrawal Fee":
                    found.setdefault(day, {})["fee"] = -amount
    return sorted(found.values(), key=lambda w: w["date"])


def usd_pkr(day: dt.date) -> D:
    """rates.csv: the latest USD->PKR rate on or before `day`."""
    with (DEMO / "rates.csv").open(encoding="utf-8") as f:
        rates = [(dt.date.fromisoformat(r["date"]), D(r["rate"])) for r in csv.DictReader(f)]
    return max((d, r) for d, r in rates if d <= day)[1]


def cents(x: D) -> D:
    return x.quantize(CENT, rounding=ROUND_HALF_EVEN)


# --- reconcile on the demo ledger ----------------------------------------------------------


def test_reconcile_shows_every_journey_and_the_one_that_never_arrived(demo_ledger):
    data = reconcile(demo_ledger, "--from", "2024-04-01", "--to", "2024-06-30")
    credits, charges, taxes = bank_statement()
    withdrawals = upwork_withdrawals()
    assert [w["to"] for w in withdrawals].count("Payoneer") == 1
    lost = [w for w in withdrawals if w["date"] == dt.date(2024, 6, 21)]
    assert len(withdrawals) == 6 and len(lost) == 1

    # every platform/wallet credit in the bank statement ends a chain; nothing unexplained
    assert data["unknown_origin"] == [] and data["ambiguous"] == [] and data["warnings"] == []
    chains = data["chains"]
    assert len(chains) == len(credits) == 6
    assert [len(c["hops"]) for c in chains] == [1, 1, 1, 1, 2, 1]
    routes = [[(h["from"], h["to"]) for h in c["hops"]] for c in chains]
    assert routes == [[("upwork", "bank:meezan")]] * 4 + [
        [("upwork", "payoneer"), ("payoneer", "bank:meezan")], [("paypal", "bank:meezan")]]
    for chain, credit in zip(chains, credits, strict=True):
        last = chain["hops"][-1]
        assert last["arrived_on"] == credit["date"].isoformat()
        assert D(last["received"]["amount"]) == credit["amount"]
        landed = credit["amount"] - charges.get(credit["date"], 0) - taxes.get(credit["date"], 0)
        assert chain["arrived_as"] == {"amount": f"{landed:.2f}", "currency": "PKR",
                                       "account": "bank:meezan"}

    # what left Upwork: the withdrawal plus its fee, as the Upwork exports say
    arrived = [w for w in withdrawals if w is not lost[0]]
    assert [D(c["sent"]) for c in chains[:5]] == [w["amount"] + w["fee"] for w in arrived]
    assert [D(c["costs"]["withdrawal_fee"]) for c in chains[:5]] == [w["fee"] for w in arrived]

    # the direct-to-bank hops: the spread against rates.csv, the bank's charges at that rate
    for chain, w, credit in zip(chains[:4], arrived[:4], credits[:4], strict=True):
        (hop,) = chain["hops"]
        rate = usd_pkr(w["date"])
        assert D(hop["rate"]) == rate
        fx = w["amount"] - credit["amount"] / rate
        assert hop["waterfall"]["fx_spread"] == f"{cents(fx)}"
        deducted = charges.get(credit["date"], D(0)) / rate
        assert hop["waterfall"]["bank_deductions"] == f"{cents(deducted)}"
    assert D(chains[3]["costs"]["bank_deductions"]) > 0  # May's correspondent bank charge

    # PayPal -> bank in June: the bank's charge and the FBR tax on arrival
    paypal = chains[5]["hops"][0]
    assert D(paypal["waterfall"]["bank_deductions"]) > 0 and D(paypal["waterfall"]["tax"]) > 0
    assert paypal["evidence"]["days"] == 3

    # every hop and every chain foots to the cent, as printed
    for chain in chains:
        assert sum(D(chain["costs"][k]) for k in COSTS) + D(chain["arrived"]) == D(chain["sent"])
        for hop in chain["hops"]:
            w = hop["waterfall"]
            assert sum(D(w[k]) for k in COSTS) + D(w["arrived"]) == D(hop["sent"]), hop
    (total,) = data["totals"]
    assert D(total["sent"]) == sum(D(c["sent"]) for c in chains)
    assert D(total["arrived"]) + D(total["total_costs"]) == D(total["sent"])
    assert D(total["arrived"]) == sum(D(c["arrived"]) for c in chains)

    # the one that never arrived: Jun 21, $200 direct to local bank, overdue on 1 July
    (missing,) = data["in_transit"]
    assert (missing["date"], missing["account"], D(missing["amount"]), missing["currency"]) == (
        "2024-06-21", "upwork", lost[0]["amount"], "USD")
    assert missing["status"] == "overdue"
    assert missing["age_days"] == (AS_OF - lost[0]["date"]).days > missing["usual_days"]
    assert [loss["id"] for loss in data["possible_losses"]] == [missing["id"]]
    # chased with what Upwork's support can look up: the export's own Ref ID of that row
    with (DEMO / "2024-06-30_transaction_report.csv").open(encoding="utf-8-sig", newline="") as f:
        (row,) = [r for r in csv.DictReader(f)
                  if (r["Date"], r["Amount $"]) == ("Jun 21, 2024", "-200.00")]
    assert (missing["ref"], missing["description"]) == (row["Ref ID"], row["Transaction summary"])
    assert (total["in_transit"], total["in_transit_count"]) == ("200.00", 1)


def test_the_wallet_hop_continues_the_chain(demo_ledger):
    (chain,) = [c for c in reconcile(demo_ledger, "--month", "2024-06")["chains"]
                if len(c["hops"]) == 2]
    first, second = chain["hops"]
    # what Payoneer received from Upwork is exactly what it sent on to the bank
    assert first["received"] == {"amount": second["sent"], "currency": "USD"}
    assert first["waterfall"]["arrived"] == second["sent"] == "150.00"
    assert first["evidence"]["rule"] == "same_currency"
    assert second["evidence"]["rule"] == "delivered_amount"  # Payoneer's Transfer Amount
    assert second["received"] == {"amount": "40935.00", "currency": "PKR"}
    spread = D(150) - D(40935) / usd_pkr(dt.date(2024, 6, 10))
    assert chain["costs"]["fx_spread"] == f"{cents(spread)}"


def test_june_reconcile_has_two_chains_and_the_overdue_withdrawal(demo_ledger):
    data = reconcile(demo_ledger, "--month", "2024-06")
    assert [c["hops"][0]["sent_on"] for c in data["chains"]] == ["2024-06-07", "2024-06-25"]
    assert [(t["date"], t["status"]) for t in data["in_transit"]] == [("2024-06-21", "overdue")]


def test_june_report_bank_lines_are_the_statement_rows(demo_ledger):
    report = as_json(run("--ledger", demo_ledger, "report", "--month", "2024-06", "--format",
                         "json", cwd=demo_ledger.parent))
    rows = as_json(run("--ledger", demo_ledger, "transactions", "--month", "2024-06",
                       "--format", "json", cwd=demo_ledger.parent))
    _, charges, taxes = bank_statement()
    june = [r for r in rows if r["currency"] == "PKR"]
    assert {r["currency"] for r in rows if r["kind"] in ("bank_fee", "tax")} == {"PKR"}
    fees = -sum(D(r["amount"]) for r in june if r["kind"] == "bank_fee")
    tax = -sum(D(r["amount"]) for r in june if r["kind"] == "tax")
    assert fees == sum(v for d, v in charges.items() if d.month == 6) > 0
    assert tax == sum(v for d, v in taxes.items() if d.month == 6) > 0
    assert D(report["totals"]["bank_deductions"]) == fees
    assert D(report["totals"]["taxes"]) == tax


# --- ledger demo -----------------------------------------------------------------------------


def test_demo_prints_the_report_then_the_journeys(tmp_path):
    out = ok(run("demo", cwd=tmp_path, env={"COLUMNS": "80"})).stdout
    report, _, journeys = out.partition("Payout journeys, June 2024")
    assert "= Net" in report and "Gross earned" in report
    # one column per hop, headed "N. from" over "-> to"; the waterfall reads downwards
    for hop in ("1. upwork", "-> payoneer", "2. payoneer", "-> bank:meezan", "1. paypal"):
        assert hop in journeys
    assert re.search(r"- FX spread +0\.00 +2\.99 +2\.99", journeys)
    assert re.search(r"= Arrived +150\.00 +147\.01 +147\.01", journeys)
    assert max(len(line) for line in journeys.splitlines()) <= 80  # fits a terminal
    flowing = " ".join(journeys.split())  # the terminal's line breaks aside
    assert "arrived 40,935.00 PKR in bank:meezan" in flowing
    # PayPal's credit is shown as credited; what arrived is after the bank's charge and tax
    assert "arrived 84,904.12 PKR in bank:meezan" in flowing
    assert re.search(r"Credited +85,267\.29 PKR", journeys)
    assert "Received " not in journeys.replace("Received, origin", "")
    assert re.search(r"2024-06-21 upwork 200\.00 USD · 10 days \(usually 7\) · overdue: chase "
                     r"it · ref 612340308 \(row [0-9a-f]{8}\)", flowing)
    assert "Received, origin unknown" not in journeys and "Ambiguous" not in journeys
