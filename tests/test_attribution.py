"""Charging the costs of getting money home back to platforms and clients
(ledger/counting/attribution.py):
FIFO funding per account, inheritance across hops and conversions, what stays untraced, the
footing property, and the report's by_platform / by_client through the real CLI."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import reconcile as rc
from ledger.counting import attribution as at
from rules.fx import FxChain
from tests.test_cli import as_json, ok, run
from tests.test_reconcile import JUNE, frame, rates, row

D = Decimal


def weights(rows: pl.DataFrame, description: str, pairs: list | None = None) -> dict:
    """{(platform, client): weight} funding the row with this description."""
    target = rows.filter(pl.col("description") == description)["id"][0]
    found = at.shares(rows, pairs or []).filter(pl.col("consumer") == target)
    return {(p, c): round(w, 9) for p, c, w in found.select("platform", "client", "weight")
            .iter_rows()}


def earning(date: str, source: str, amount: str, client: str, ref: str, fee: str = "0"
            ) -> list[dict]:
    items = [row(date, source, "earning", amount, "USD", ref=ref, counterparty=client,
                 description=f"earning {ref}")]
    if fee != "0":
        items.append(row(date, source, "platform_fee", f"-{fee}", "USD", related_ref=ref,
                         ref=f"{ref}F", description=f"fee {ref}"))
    return items


def test_first_in_first_out_per_account():
    rows = frame([
        *earning("2024-06-01", "upwork", "500", "Acme", "E1", fee="50"),
        *earning("2024-06-02", "upwork", "500", "Beta", "E2", fee="50"),
        *earning("2024-06-02", "fiverr", "100", "Gamma", "E3"),
        row("2024-06-03", "upwork", "transfer", "-450", "USD", ref="W1", description="first"),
        row("2024-06-10", "upwork", "transfer", "-300", "USD", ref="W2", description="second"),
    ])
    # fees tied to an earning net its lot: Acme's 450 pays the whole first withdrawal
    assert weights(rows, "first") == {("upwork", "Acme"): 1.0}
    # Fiverr's money is on another account: it never funds an Upwork withdrawal
    assert weights(rows, "second") == {("upwork", "Beta"): 1.0}


def test_a_withdrawal_spanning_two_lots_is_split_by_amount():
    rows = frame([
        *earning("2024-06-01", "upwork", "300", "Acme", "E1"),
        *earning("2024-06-02", "upwork", "100", "Beta", "E2"),
        row("2024-06-03", "upwork", "transfer", "-400", "USD", ref="W1", description="both"),
    ])
    assert weights(rows, "both") == {("upwork", "Acme"): 0.75, ("upwork", "Beta"): 0.25}


def test_money_older_than_the_ledger_is_untraced():
    rows = frame([
        *earning("2024-06-01", "upwork", "100", "Acme", "E1"),
        row("2024-06-03", "upwork", "transfer", "-400", "USD", ref="W1", description="big"),
    ])
    assert weights(rows, "big") == {("upwork", "Acme"): 0.25, (None, None): 0.75}


def pooled() -> pl.DataFrame:
    """Two Upwork payouts land in Payoneer; one Payoneer transfer takes both to the bank
    (its fee on the next line of the statement)."""
    transfer = row("2024-06-08", "payoneer", "transfer", "-400", "USD", ref="P3",
                   description="Transfer to bank [delivered 110000.00 PKR]",
                   delivered=("110000.00", "PKR"))
    fee = row("2024-06-08", "payoneer", "payment_fee", "-3", "USD", category="withdrawal_fee",
              ref="P4", description="Withdrawal fee")
    transfer["line"], fee["line"] = 7, 8
    return frame([
        *earning("2024-06-01", "upwork", "300", "Acme", "E1"),
        row("2024-06-02", "upwork", "transfer", "-300", "USD", ref="W1",
            description="Withdrawal Request: Payoneer"),
        row("2024-06-03", "payoneer", "transfer", "300", "USD", ref="P1",
            description="Payment from Upwork 1"),
        *earning("2024-06-04", "upwork", "100", "Beta", "E2"),
        row("2024-06-05", "upwork", "transfer", "-100", "USD", ref="W2",
            description="Withdrawal Request: Payoneer 2"),
        row("2024-06-06", "payoneer", "transfer", "100", "USD", ref="P2",
            description="Payment from Upwork 2"),
        transfer, fee,
        row("2024-06-10", "bank:meezan", "transfer", "110000", "PKR", ref="B1",
            description="Inward Remittance PAYONEER INC"),
    ])


def charged(rows: pl.DataFrame, result: rc.Result | None, chain: FxChain,
            currency: str = "USD") -> pl.DataFrame:
    """attribution.traced of `rows` counted as the report counts them (the fee rules with
    reconcile's result), valued in `currency`."""
    from ledger.counting.pipeline import count
    from rules.fees import load_schedule

    counted = count(rows, load_schedule(), result, JUNE)
    return at.traced(counted, rows, result, chain, currency)


def per(costs: pl.DataFrame, key: str) -> dict:
    return {k: -D(v) for k, v in costs.group_by(key).agg(pl.col("value").sum()).iter_rows()}


def test_hop_arrivals_inherit_who_earned_the_money():
    rows = pooled()
    chain = rates(("2024-06-08", "USD", "PKR", "280"))
    result = rc.reconcile(rows, JUNE, rc.settings({}), chain, None, dt.date(2024, 7, 1))
    assert len(result.pairs) == 3
    pooled_out = "Transfer to bank [delivered 110000.00 PKR]"
    # without the hops the Payoneer receipts are of unknown origin
    assert weights(rows, pooled_out) == {(None, None): 1.0}
    # the 400 sent is Acme's 300 and Beta's 100 (the $3 fee, a line later, finds nothing)
    assert weights(rows, pooled_out, result.pairs) == {
        ("upwork", "Acme"): 0.75, ("upwork", "Beta"): 0.25}
    assert weights(rows, "Withdrawal fee", result.pairs) == {(None, None): 1.0}
    costs = charged(rows, result, chain)
    # what the transfer cost is what reconcile measured on its hop: the Payoneer fee (tied to
    # the transfer as reconcile ties it) and the spread of the rupees it delivered
    pooled_chain = next(c for c in result.chains if c.hops[0].out["out_account"] == "payoneer")
    cost = sum(pooled_chain.costs.values(), D(0))
    assert abs(-D(costs["value"].sum()) - cost) < D("1e-6")  # the rate of 1/280 to 12 places
    assert set(costs["kind"].to_list()) == {"fx", "payment_fee"}
    clients = per(costs, "client")
    assert clients.keys() == {"Acme", "Beta"}
    assert abs(clients["Acme"] - cost * D("0.75")) < D("1e-6")
    assert set(costs["platform"].to_list()) == {"upwork"}
    sums = at.charges(costs)
    assert sums["attributed"] + sums["booked_at_origin"] + sums["unattributed"] \
        == sums["hop_costs"] == sum(clients.values(), D(0))


def test_conversion_legs_carry_the_earnings_through():
    rows = frame([
        row("2024-06-01", "paypal", "earning", "100", "EUR", ref="E1", counterparty="Müller",
            description="earning"),
        row("2024-06-02", "paypal", "fx", "-100", "EUR", related_ref="C1", ref="X1",
            description="conversion out"),
        row("2024-06-02", "paypal", "fx", "107", "USD", related_ref="C1", ref="X2",
            description="conversion in"),
        row("2024-06-03", "paypal", "transfer", "-107", "USD", ref="W1", description="out"),
    ])
    assert weights(rows, "out") == {("paypal", "Müller"): 1.0}
    # the conversion's own cost is Müller's too: 100 EUR at the mid rate, less 107 USD got
    chain = rates(("2024-06-02", "EUR", "USD", "1.09"))
    costs = charged(rows, None, chain)
    assert costs.height == 2 and set(costs["via"].to_list()) == {"conversion"}
    assert per(costs, "client") == {"Müller": D("2.00")}
    assert per(costs, "platform") == {"paypal": D("2.00")}


def test_a_conversion_of_money_older_than_the_ledger_stays_untraced():
    rows = frame([
        row("2024-06-02", "paypal", "fx", "-100", "EUR", related_ref="C1", ref="X1"),
        row("2024-06-02", "paypal", "fx", "107", "USD", related_ref="C1", ref="X2"),
    ])
    costs = charged(rows, None, rates(("2024-06-02", "EUR", "USD", "1.09")))
    assert costs["client"].to_list() == [None, None] and per(costs, "platform") == {None: 2}
    assert at.charges(costs)["unattributed"] == D(2)


def test_fees_booked_where_the_money_was_earned_are_not_charged_twice():
    rows = frame([
        *earning("2024-06-01", "upwork", "1000", "Acme", "E1"),
        row("2024-06-03", "upwork", "transfer", "-998", "USD", category="withdrawal", ref="U1",
            description="Withdrawal Request: Direct to Local Bank"),
        row("2024-06-03", "upwork", "payment_fee", "-2", "USD", category="withdrawal_fee",
            ref="U2", description="Withdrawal Fee"),
        row("2024-06-07", "bank:meezan", "transfer", "270000", "PKR", ref="B1",
            description="Inward Remittance UPWORK"),
    ])
    chain = rates(("2024-06-03", "USD", "PKR", "275"))
    result = rc.reconcile(rows, JUNE, rc.settings({}), chain, None, dt.date(2024, 7, 1))
    (journey,) = result.chains
    sums = at.charges(charged(rows, result, chain))
    assert sums["booked_at_origin"] == D(2)  # already in Upwork's fees
    assert abs(sums["attributed"] - (sum(journey.costs.values(), D(0)) - 2)) < D("1e-6")
    assert sums["unattributed"] == 0


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 900), st.sampled_from(["A", "B", "C"])),
                min_size=1, max_size=6),
       st.integers(1, 3000), st.integers(0, 30), st.integers(260, 300))
def test_charged_back_plus_origin_plus_untraced_is_the_hop_cost(lots, sent, fee, rate):
    items = []
    for n, (amount, client) in enumerate(lots):
        items += earning("2024-06-01", "upwork", str(amount), client, f"E{n}")
    items += [
        row("2024-06-03", "upwork", "transfer", f"-{sent}", "USD", ref="W",
            description=f"Withdrawal [delivered {sent * 278}.00 PKR]",
            delivered=(f"{sent * 278}.00", "PKR")),
        row("2024-06-03", "upwork", "payment_fee", f"-{fee}", "USD", category="withdrawal_fee",
            ref="WF", description="Withdrawal Fee"),
        row("2024-06-06", "bank:hbl", "transfer", f"{sent * 278 - 500}", "PKR", ref="B",
            description="Inward Remittance UPWORK"),
    ]
    rows = frame(items)
    chain = rates(("2024-06-03", "USD", "PKR", str(rate)))
    result = rc.reconcile(rows, JUNE, rc.settings({}), chain, None, dt.date(2024, 7, 1))
    costs = charged(rows, result, chain)
    sums = at.charges(costs)
    assert sums["attributed"] + sums["booked_at_origin"] + sums["unattributed"] \
        == sums["hop_costs"]
    # each row's parts add up to its value exactly, whatever the float weights
    from ledger.counting.pipeline import count
    from rules.fees import load_schedule

    counted = count(rows, load_schedule(), result, JUNE)
    valued = chain.convert(counted, "USD").rows
    # every conversion leg, and the withdrawal fee when reconcile saw the withdrawal arrive
    moved = valued.filter((pl.col("kind") == "fx") | (
        (pl.col("kind") == "payment_fee") & pl.lit(bool(result.pairs))))
    assert D(costs["value"].sum()) == D(moved["value"].sum())
    assert sum(per(costs, "client").values(), D(0)) == sums["hop_costs"]
    total = D(sum(a for a, _ in lots))
    if result.chains and total >= sent + fee:  # fully funded by the earnings: nothing untraced
        assert sums["unattributed"] == 0
    for _, group in at.shares(rows, result.pairs).group_by("consumer"):
        assert abs(group["weight"].sum() - 1.0) < 1e-9


# --- end to end through the real CLI ------------------------------------------------------

UPWORK = """Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,\
Amount in local currency,Currency,Balance
"Mar 3, 2025",700010,Withdrawal Fee,Withdrawal Fee,,,,Ayesha Malik,,-2.00,,,0.00
"Mar 3, 2025",700009,Withdrawal,Withdrawal Request: Payoneer: xxxx-1111,,,,Ayesha Malik,,\
-450.00,,,2.00
"Feb 27, 2025",700008,Service Fee,Service Fee - Ref ID 700007,,Ayesha Malik,Beta LLC,\
Ayesha Malik,,-20.00,,,452.00
"Feb 27, 2025",700007,Fixed Price,Milestone 1,,Ayesha Malik,Beta LLC,Ayesha Malik,,200.00,,,\
472.00
"Feb 24, 2025",700006,Service Fee,Service Fee - Ref ID 700005,,Ayesha Malik,Acme Corp,\
Ayesha Malik,,-30.00,,,272.00
"Feb 24, 2025",700005,Fixed Price,Milestone 1,,Ayesha Malik,Acme Corp,Ayesha Malik,,300.00,,,\
302.00
"Feb 20, 2025",700004,Service Fee,Service Fee - Ref ID 700003,,Ayesha Malik,Acme Corp,\
Ayesha Malik,,-0.20,,,2.00
"Feb 20, 2025",700003,Bonus,Bonus,,Ayesha Malik,Acme Corp,Ayesha Malik,,2.20,,,2.20
"""

PAYONEER = """Transaction Date,Transaction Time,Time Zone,Transaction ID,Description,\
Credit Amount,Debit Amount,Currency,Status,Running Balance,Additional Description,Store Name
03/04/2025,09:00:00,UTC,990001,Payment from Upwork Global Inc,450.00,,USD,Completed,450.00,,
03/05/2025,10:00:00,UTC,990002,Transfer to bank account,,450.00,USD,Completed,0.00,\
Meezan Bank ***9876,
03/05/2025,10:00:00,UTC,990003,Withdrawal fee,,3.00,USD,Completed,-3.00,,
03/14/2025,08:00:00,UTC,990004,Payment from Beta LLC,180.00,,USD,Pending,,,
"""
"""(The pending payment, not booked, dates the export month-first: March 4 and 5 alone could
be read either way, and `ledger batch`, which reads this file too, cannot be told.)"""

MEEZAN = """Transaction Date ,Description ,Debit ,Credit ,Available Balance ,
"01/03/2025" ,"Opening Balance" , , ,"1000.0" ,
"07/03/2025" ,"Inward Remittance PAYONEER INC  " , ,"124000.0" ,"125000.0" ,
"31/03/2025" ,"Closing Balance" , , ,"125000.0" ,
"""


def imported(tmp_path: Path, files: dict[str, str], rates: dict[str, str]) -> None:
    """Write the exports and a rates.csv (USD->PKR by date), import them all into ./led."""
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    (tmp_path / "led").mkdir()
    (tmp_path / "led" / "rates.csv").write_text(
        "date,from,to,rate\n" + "".join(f"{d},USD,PKR,{r}\n" for d, r in rates.items()),
        "utf-8")
    ok(run("--ledger", "led", "import", *files, cwd=tmp_path))


def test_report_charges_payout_costs_back_to_platform_and_clients(tmp_path: Path):
    imported(tmp_path, {"upwork.csv": UPWORK, "payoneer.csv": PAYONEER,
                        "AccountFullStatement.CSV": MEEZAN},
             {"2025-03-03": "280", "2025-03-05": "280"})
    report = as_json(run("--ledger", "led", "report", "--month", "2025-03", "--currency",
                         "USD", "--format", "json", cwd=tmp_path))
    journeys = as_json(run("--ledger", "led", "reconcile", "--month", "2025-03", "--format",
                           "json", cwd=tmp_path))
    (chain,) = journeys["chains"]
    first_hop_fees = D(chain["hops"][0]["waterfall"]["withdrawal_fee"])
    att = report["payout_costs"]
    t = report["totals"]
    # the month's costs are all its transfers': the two withdrawal fees and the spread, as
    # the totals count them (reconcile's waterfall scales the Payoneer hop to the 450 that
    # came from Upwork, so its chain shows a little less than the rows: 12.08)
    assert D(att["hop_costs"]) == D(t["payment_fees"]) + D(t["fx_cost"]) == D("12.14")
    assert D(chain["sent"]) - D(chain["arrived"]) == D(report["chains"]["hop_costs"]) \
        < D(att["hop_costs"])
    assert D(att["booked_at_origin"]) == first_hop_fees == D("2.00")
    assert D(att["attributed"]) + D(att["booked_at_origin"]) + D(att["unattributed"]) \
        == D(att["hop_costs"])
    platforms = {p["platform"]: p for p in report["by_platform"]}
    assert D(platforms["upwork"]["payout_costs"]) == D(att["attributed"])
    assert D(platforms["upwork"]["net_home"]) == D(platforms["upwork"]["net"]) \
        - D(platforms["upwork"]["payout_costs"])
    clients = {c["client"]: D(c["payout_costs"]) for c in report["by_client"]}
    # Acme's 272 net came first: the $2 Upwork fee, then 270 of the 450; Beta's 180 the rest.
    # The Upwork fee is no client's fee: a payout cost of theirs too
    cost = D(att["attributed"]) + D(att["booked_at_origin"])
    assert clients["Acme Corp"] == (cost * D("0.6")).quantize(D("0.01"))
    assert clients["Beta LLC"] == (cost * D("0.4")).quantize(D("0.01"))
    for section in ("by_platform", "by_client"):  # the items' net home is the report's net
        assert sum(D(i["net_home"]) for i in report[section]) == D(t["net"])
    # the Payoneer transfer says nothing of the rupees it became: only the bank's credit
    # does, so the report counts the spread reconcile measured (126,000 PKR at the mid rate,
    # 124,000 credited) as a conversion by rule transfers.arrival.conversion
    spread = (D(450) - D(124000) / D(280)).quantize(D("0.01"))
    assert report["totals"]["fx_cost"] == str(spread) == chain["hops"][1]["waterfall"][
        "fx_spread"]
    (rule,) = [r for r in report["rules"] if r["id"] == "transfers.arrival.conversion"]
    assert rule["figures"] == {"fx_cost": str(spread)} and "ledger reconcile" in rule["source"]
    assert D(t["net"]) == D(t["gross"]) - sum(D(t[k]) for k in (
        "platform_fees", "payment_fees", "fx_cost", "bank_deductions", "taxes",
        "subcontractor_payouts", "expenses")) + D(t["other"])
    table = ok(run("--ledger", "led", "report", "--month", "2025-03", "--currency", "USD",
                   cwd=tmp_path)).stdout
    assert "Payout costs" in table and "charged back" in table
    html = ok(run("--ledger", "led", "report", "--month", "2025-03", "--format", "html",
                  cwd=tmp_path)).stdout
    assert 'data-field="by_client.0.payout_costs"' in html


FIVERR = """Date,Activity,Description,From,Order,Amount
"Jun 28, 2024",Withdrawal fee,Payoneer withdrawal processing fee,,,-$3.00
"Jun 28, 2024",Withdrawal,Withdrawal to Payoneer,,,-$200.00
"Jun 25, 2024",Earning,Funds cleared,acme_studio,FO81A2B3C4D5,$96.00
"Jun 20, 2024",Earning,Tip for order,bluefox,FO7E9F0A1B2C,$8.00
"Jun 01, 2024",Earning,Revenue for Order Completion,bluefox,FO5A4B3C2D1E,$120.00
"""

PAYONEER_FROM_FIVERR = """Transaction Date,Transaction Time,Time Zone,Transaction ID,\
Description,Credit Amount,Debit Amount,Currency,Status,Running Balance,Additional Description,\
Store Name
06/30/2024,09:00:00,UTC,880001,Payment from Fiverr,200.00,,USD,Completed,200.00,,
07/01/2024,10:00:00,UTC,880002,Transfer to bank account,,200.00,USD,Completed,0.00,\
Meezan Bank ***9876,
07/01/2024,10:00:00,UTC,880003,Withdrawal fee,,3.00,USD,Completed,-3.00,,
"""

MEEZAN_JULY = """Transaction Date ,Description ,Debit ,Credit ,Available Balance ,
"01/07/2024" ,"Opening Balance" , , ,"1000.0" ,
"03/07/2024" ,"Inward Remittance PAYONEER INC  " , ,"54900.0" ,"55900.0" ,
"03/07/2024" ,"WHT 236Y" ,"54.9" , ,"55845.1" ,
"31/07/2024" ,"Closing Balance" , , ,"55845.1" ,
"""


def test_fiverr_payoneer_bank_chain_charged_back_to_the_buyers(tmp_path: Path):
    imported(tmp_path, {"earnings.csv": FIVERR, "payoneer.csv": PAYONEER_FROM_FIVERR,
                        "AccountFullStatement.CSV": MEEZAN_JULY},
             {"2024-06-28": "278", "2024-07-01": "278"})
    journeys = as_json(run("--ledger", "led", "reconcile", "--month", "2024-06", "--as-of",
                           "2024-07-20", "--format", "json", cwd=tmp_path))
    (chain,) = journeys["chains"]
    assert [(h["from"], h["to"]) for h in chain["hops"]] == [
        ("fiverr", "payoneer"), ("payoneer", "bank:meezan")]
    first, second = chain["hops"]
    assert first["waterfall"]["withdrawal_fee"] == "3.00"  # Fiverr's processing fee
    assert first["waterfall"]["arrived"] == "200.00"
    assert second["received"] == {"amount": "54900.00", "currency": "PKR"}
    assert D(second["waterfall"]["tax"]) > 0  # the bank's 0.1% WHT on the credit
    assert chain["arrived_as"] == {"amount": "54845.10", "currency": "PKR",
                                   "account": "bank:meezan"}
    assert sum(D(v) for v in chain["costs"].values()) + D(chain["arrived"]) == D(chain["sent"])
    assert journeys["in_transit"] == [] and journeys["unknown_origin"] == []

    def month(name: str) -> dict:
        return as_json(run("--ledger", "led", "report", "--month", name, "--currency", "USD",
                           "--format", "json", cwd=tmp_path))

    # each month charges the costs its own rows hold: June the Fiverr fee, July the rest of
    # the journey (Payoneer's fee, the spread, the bank's WHT)
    june, july = month("2024-06"), month("2024-07")
    att = june["payout_costs"]
    assert (att["booked_at_origin"], att["attributed"], att["unattributed"]) == (
        "3.00", "0.00", "0.00")
    later = july["payout_costs"]
    assert later["booked_at_origin"] == "0.00" and later["unattributed"] == "0.00"
    t = july["totals"]
    assert D(later["hop_costs"]) == sum(D(t[k]) for k in ("payment_fees", "fx_cost", "taxes"))
    # bluefox's 128 came first: Fiverr's 3 fee, then 125 of the 200; acme_studio's 96 the rest
    for report, cost in ((june, D(att["booked_at_origin"])), (july, D(later["attributed"]))):
        clients = {c["client"]: D(c["payout_costs"]) for c in report["by_client"]}
        assert clients.keys() == {"bluefox", "acme_studio"} and sum(clients.values()) == cost
        # each within the cent the rounding puts where the items' net home add up to net
        assert abs(clients["bluefox"] - cost * D("0.625")) <= D("0.01")
        for section in ("by_platform", "by_client"):
            assert sum(D(i["net_home"]) for i in report[section]) == D(report["totals"]["net"])
    # July's costs are Fiverr's money's: no Payoneer or bank item of their own
    assert [p["platform"] for p in july["by_platform"]] == ["fiverr"]
