"""Quotes from experience: a hop the user has moved money over is priced from what their own
ledger shows it cost (reconcile's matched transfers: median spread, fees, days, with the count
and dates), other hops from the published schedules, and each line says which."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path
from statistics import median

import pytest

from ledger.reports.quote_history import from_hops
from tests.test_cli import as_json, import_demo, ok, run

DATE = "2024-07-01"


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> Path:
    """The demo ledger: four Upwork -> Meezan Bank withdrawals converted USD -> PKR, one via
    Payoneer (treat as read-only)."""
    return import_demo(tmp_path_factory.mktemp("demo"))


def quote(ledger: Path, *args: str) -> dict:
    return as_json(run("--ledger", ledger, "quote", "500", "USD", "--to", "PKR", "--date", DATE,
                       "--format", "json", *args, cwd=ledger.parent))


def matched(ledger: Path) -> list[dict]:
    """Upwork -> bank hops USD -> PKR as `ledger reconcile` shows them (its JSON)."""
    data = as_json(run("--ledger", ledger, "reconcile", "--from", "2024-01-01", "--to", DATE,
                       "--as-of", DATE, "--format", "json", cwd=ledger.parent))
    return [h for c in data["chains"] for h in c["hops"] if h["from"] == "upwork"
            and h["to"].startswith("bank:") and h["received"]["currency"] == "PKR"]


def test_a_hop_with_history_is_priced_by_the_users_measured_spread(demo):
    hops = matched(demo)
    assert len(hops) >= 3
    data = quote(demo, "--route", "upwork,bank")
    hop = next(h for h in data["hops"] if h["step"] == "withdraw")
    assert hop["basis"] == "history"
    evidence = hop["evidence"]
    assert evidence["count"] == len(hops)
    assert (evidence["first"], evidence["last"]) == (min(h["sent_on"] for h in hops),
                                                     max(h["sent_on"] for h in hops))
    assert Decimal(evidence["days"]) == median(h["evidence"]["days"] for h in hops)
    spread = next(x for x in hop["lines"] if x["kind"] == "fx")
    assert spread["basis"] == "history" and not spread["unpriced"]
    # the median of the spreads reconcile measured (its JSON rounds them to the cent)
    shown = median(Decimal(h["waterfall"]["fx_spread"]) / Decimal(h["sent"]) for h in hops)
    used = Decimal(spread["what"].split("spread ")[1].split("%")[0]) / 100
    assert abs(used - shown) < Decimal("0.0001"), (used, shown)
    assert f"your last {len(hops)}" in spread["what"]
    assert data["unpriced"] == []
    fee = next(x for x in hop["lines"] if x["kind"] == "payment_fee")
    assert fee["basis"] == "history"
    assert Decimal(fee["amount"]) == median(Decimal(h["waterfall"]["withdrawal_fee"])
                                            for h in hops)
    # the platform's own fee is still the published rule
    receive = data["hops"][0]["lines"][0]
    assert receive["basis"] == "schedule" and receive["rule"].startswith("upwork.service_fee")


def test_without_history_the_schedule_and_a_hop_priced_by_neither_is_marked(demo):
    data = quote(demo, "--route", "upwork,bank", "--history", "0")
    hop = next(h for h in data["hops"] if h["step"] == "withdraw")
    assert "evidence" not in hop
    assert [b["basis"] for b in data["basis"]] == ["none"]
    spread = next(x for x in hop["lines"] if x["kind"] == "fx")
    assert spread["unpriced"] and spread["basis"] == "none"
    with_history = quote(demo, "--route", "upwork,bank")
    assert Decimal(with_history["arrived"]) < Decimal(data["arrived"])  # the spread costs


def test_compare_ranks_on_the_same_basis_and_marks_hops_priced_by_neither(demo):
    data = as_json(run("--ledger", demo, "quote", "500", "USD", "--to", "PKR", "--date", DATE,
                       "--route", "upwork,bank", "--compare", "upwork,wise,bank",
                       "--format", "json", cwd=demo.parent))
    ranking = {r["route"]: r for r in data["ranking"]}
    assert [b["basis"] for b in ranking["upwork,bank"]["basis"]] == ["history"]
    assert ranking["upwork,bank"]["unpriced"] == []
    wise = {b["hop"]: b["basis"] for b in ranking["upwork,wise,bank"]["basis"]}
    assert wise["upwork->wise"] == "schedule"  # no transfers of hers there: the schedule
    arrived = [Decimal(r["arrived"]) for r in data["ranking"]]
    assert arrived == sorted(arrived, reverse=True)
    table = ok(run("--ledger", demo, "quote", "500", "USD", "--to", "PKR", "--date", DATE,
                   "--route", "upwork,bank", "--compare", "upwork,wise,bank",
                   "--history", "0", cwd=demo.parent)).stdout
    assert "upwork,bank *" in table and "upwork->bank: neither" in table
    mine = ok(run("--ledger", demo, "quote", "500", "USD", "--to", "PKR", "--date", DATE,
                  "--route", "upwork,bank", cwd=demo.parent)).stdout
    assert f"upwork->bank: priced from your last {len(matched(demo))} transfers" in mine


def test_only_the_last_n_transfers_count(demo):
    data = quote(demo, "--route", "upwork,bank", "--history", "2")
    hop = next(h for h in data["hops"] if h["step"] == "withdraw")
    latest = sorted(h["sent_on"] for h in matched(demo))[-2:]
    assert hop["evidence"]["count"] == 2
    assert (hop["evidence"]["first"], hop["evidence"]["last"]) == tuple(latest)


def test_history_from_hops_groups_by_place_and_currency():
    class Hop:  # the attributes from_hops reads of reconcile.Hop
        def __init__(self, day: int, out: str, into: str, spread: str, ccy: str = "PKR"):
            self.out = {"out_account": out, "out_ccy": "USD", "out_date": dt.date(2024, 6, day),
                        "out_id": f"o{day}"}
            self.ins = [{"in_account": into, "in_date": dt.date(2024, 6, day + 2)}]
            self.in_ccy = ccy
            self.sent_total = Decimal(100)
            self.costs = {"fx_spread": Decimal(spread), "withdrawal_fee": Decimal("0.99"),
                          "wallet_fees": Decimal(0), "bank_deductions": Decimal(0)}

    found = from_hops([Hop(1, "upwork", "bank:meezan", "1"), Hop(5, "upwork", "bank:hbl", "3"),
                       Hop(9, "upwork", "bank:hbl", "2"), Hop(3, "payoneer", "bank:hbl", "0",
                                                               "USD")])
    mine = found["upwork->bank USD->PKR"]
    assert (mine["count"], mine["first"], mine["last"]) == (3, "2024-06-01", "2024-06-09")
    assert mine["spread"] == Decimal("0.02") and mine["fees"] == Decimal("0.99")
    assert mine["days"] == 2
    assert found["payoneer->bank USD->USD"]["spread"] is None
