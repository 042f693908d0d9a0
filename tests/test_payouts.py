"""Sub-worker payouts (ledger/payouts/, `ledger payouts`): split rules, owed vs paid, balances,
the value chain and statements.

Golden cases for the three field patterns (10% of a $75 job; $12 per audio hour of a $30 per
audio hour contract with a units file; siblings sharing equally) with exact Decimals; hypothesis
properties (owed + margin + costs = gross exactly; a statement names no other worker and no
client); and the real CLI end to end on made-up exports in the real Upwork and NayaPay layouts
(tests/data/payouts/), with the bad-rule messages and exit codes.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger import payouts
from ledger.core import schema
from ledger.core.errors import UsageError
from ledger.payouts import statement as stmt
from ledger.render import statement as statement_render
from ledger.reports.report import Period
from ledger.store.directory import Ledger
from rules.fx import FxChain
from tests.test_cli import as_json, ok, run

DATA = Path(__file__).parent / "data" / "payouts"
JUNE = Period(dt.date(2024, 6, 1), dt.date(2024, 6, 30), "June 2024")
D = Decimal


# --- helpers ---------------------------------------------------------------------------------


def rows(*items: dict) -> pl.DataFrame:
    """Canonical rows from short dicts (date, kind, amount; USD on upwork by default)."""
    records = []
    for n, item in enumerate(items, 1):
        record = {"id": f"r{n}", "date": dt.date(2024, 6, 3), "source": "upwork",
                  "account": "upwork", "kind": "earning", "category": None,
                  "amount": D(0), "currency": "USD", "counterparty": None, "contract": None,
                  "hours": None, "description": "row", "ref": None, "related_ref": None,
                  "origin": "source", "import_id": "test", "line": n}
        record.update(item)
        record["amount"] = D(str(record["amount"]))
        records.append(record)
    return schema.validate(pl.DataFrame(records, schema=schema.columns()), "test")


def job(n: int, amount: str, client: str, *, fee_rate: str = "0.10", day: int = 3,
        description: str = "Invoice for Milestone", category: str = "fixed_price",
        hours: float | None = None) -> list[dict]:
    """An earning and its platform fee (related_ref = the earning's ref)."""
    gross = D(amount)
    return [{"date": dt.date(2024, 6, day), "kind": "earning", "amount": gross,
             "counterparty": client, "ref": f"e{n}", "description": description,
             "category": category, "hours": hours},
            {"date": dt.date(2024, 6, day), "kind": "platform_fee", "category": "service_fee",
             "amount": -(gross * D(fee_rate)), "counterparty": client, "ref": f"f{n}",
             "related_ref": f"e{n}", "description": f"Service Fee - Ref ID e{n}"}]


def rules_from(tmp_path: Path, toml: str) -> payouts.Rules:
    root = tmp_path / "led"
    root.mkdir(exist_ok=True)
    (root / "ledger.toml").write_text(toml, "utf-8")
    return payouts.load_rules(Ledger(root))


def valued(frame: pl.DataFrame, currency: str = "USD") -> pl.DataFrame:
    return FxChain([]).convert(frame, currency).rows


def owed_by_worker(items: pl.DataFrame) -> dict[str, Decimal]:
    return {w: D(v) for w, v in items.group_by("worker").agg(pl.col("amount").sum()).iter_rows()}


def summary_of(rules: payouts.Rules, frame: pl.DataFrame, **kw) -> payouts.Summary:
    return payouts.compute(rules, frame, JUNE, "USD", FxChain([]), **kw)


# --- golden: the three patterns --------------------------------------------------------------

TEN_PERCENT = """
[[workers]]
name = "Ali"
currency = "USD"
aliases = ["Ali Raza"]

[[splits]]
worker = "Ali"
client = "Acme*"
percent_of_gross = "10"
"""


def test_ten_percent_of_a_75_dollar_job(tmp_path):
    rules = rules_from(tmp_path, TEN_PERCENT)
    frame = rows(*job(1, "75.00", "Acme Corp"), *job(2, "50.00", "Other Client"))
    items = payouts.owed_items(rules, frame)
    assert items.height == 1
    item = items.row(0, named=True)
    assert (item["worker"], D(item["amount"]), item["currency"]) == ("Ali", D("7.5"), "USD")
    assert (D(item["base"]), item["rate"], item["key"]) == (D(75), "10% of gross", "Acme Corp")
    summary = summary_of(rules, frame)
    acme = next(c for c in summary.contracts if c["contract"] == "Acme Corp")
    assert (acme["gross"], acme["platform"], acme["owed"], acme["margin"]) == (
        D(75), D("7.5"), D("7.5"), D(60))
    assert summary.balances[0]["owed"] == D("7.5")


def test_percent_of_net_counts_the_fees(tmp_path):
    rules = rules_from(tmp_path, TEN_PERCENT.replace("percent_of_gross", "percent_of_net"))
    items = payouts.owed_items(rules, rows(*job(1, "75.00", "Acme Corp")))
    assert D(items["amount"][0]) == D("6.75")  # 10% of 75.00 - 7.50
    assert D(items["base"][0]) == D("67.5")


def test_percent_of_net_uses_fees_the_rules_derive(tmp_path):
    """A net-of-fee export: the report's counted rows (rules.fees.apply_rules) derive gross and
    fee; the rule's net is the net shown, its gross the derived one."""
    from ledger.counting import pipeline as counting
    from rules.fees import Schedule

    ledger = Ledger(tmp_path / "led")
    rules = rules_from(tmp_path, TEN_PERCENT.replace("percent_of_gross", "percent_of_net"))
    frame = rows({"kind": "earning", "category": "net_of_fee", "amount": "67.50",
                  "counterparty": "Acme Corp", "ref": "o1", "source": "fiverr",
                  "account": "fiverr", "date": dt.date(2024, 6, 3)})
    counted = counting.count(frame, Schedule.for_ledger(ledger), None, (JUNE.start, JUNE.end))
    if counted.filter(pl.col("kind") == "platform_fee").is_empty():
        pytest.skip("no fee rule derives this row's gross")
    item = payouts.owed_items(rules, counted).row(0, named=True)
    assert D(item["base"]) == D("67.5")
    assert D(item["amount"]) == D("6.75")


TRANSCRIPTION = """
[[workers]]
name = "Bilal"
currency = "USD"

[[workers]]
name = "Chandni"
currency = "USD"

[[splits]]
worker = "Bilal"
contract = "*transcription*"
per_unit = "12"
unit = "audio_hour"
currency = "USD"

[[splits]]
worker = "Chandni"
contract = "*transcription*"
per_unit = "15"
unit = "audio_hour"
currency = "USD"
"""


def test_twelve_dollars_per_audio_hour_from_a_units_file(tmp_path):
    rules = rules_from(tmp_path, TRANSCRIPTION)
    (tmp_path / "led" / "units.csv").write_text(
        "date,contract,worker,unit,quantity\n"
        "2024-06-08,Podcast transcription,Bilal,audio_hour,2.5\n"
        "2024-06-09,Podcast transcription,chandni,audio_hour,1.5\n"
        "2024-06-09,Other job,Bilal,word,300\n", "utf-8")
    frame = rows(*job(1, "120.00", "Delta Media", day=10,
                      description="Invoice for Milestone 2 - Podcast transcription"))
    units = payouts.read_units(rules)
    items = payouts.owed_items(rules, frame, units)
    assert owed_by_worker(items) == {"Bilal": D(30), "Chandni": D("22.5")}
    bilal = items.filter(pl.col("worker") == "Bilal").row(0, named=True)
    assert (D(bilal["quantity"]), bilal["unit"], bilal["key"], bilal["line"]) == (
        D("2.5"), "audio_hour", "Delta Media", 2)
    summary = summary_of(rules, frame, units=units)
    # the words are no rule's: owed nothing, and said so
    assert summary.warnings == [
        "1 units.csv line(s) no per_unit rule pays, so nothing is owed for them (first: line "
        "4, Bilal's 300 word on 'Other job', 2024-06-09; split #1 (ledger.toml:10) pays "
        "audio_hour on contracts '*transcription*'); fix the line's unit, contract or worker, "
        "or add a [[splits]] rule that pays it"]
    delta = next(c for c in summary.contracts if c["contract"] == "Delta Media")
    assert (delta["gross"], delta["platform"], delta["owed"], delta["margin"]) == (
        D(120), D(12), D("52.5"), D("55.5"))


def test_per_hour_from_the_rows_hours_to_the_minute(tmp_path):
    rules = rules_from(tmp_path, TEN_PERCENT.replace(
        'percent_of_gross = "10"', 'per_unit = "5"\nunit = "hour"'))
    frame = rows(*job(1, "258.00", "Acme Corp", hours=14 + 20 / 60, category="hourly"))
    item = payouts.owed_items(rules, frame).row(0, named=True)
    assert D(item["amount"]) == D("71.666666666666")  # 860 minutes x 5 / 60, WORK places
    assert D(item["quantity"]).quantize(D("0.01")) == D("14.33")


def test_a_per_hour_rule_on_work_without_hours_is_a_warning(tmp_path):
    """A per-hour rule (hours from the rows) that matches a fixed-price milestone owes
    nothing for it: said, with the rule's line, instead of passed over."""
    rules = rules_from(tmp_path, TEN_PERCENT.replace(
        'percent_of_gross = "10"', 'per_unit = "5"\nunit = "hour"'))
    frame = rows(*job(1, "258.00", "Acme Corp", hours=14 + 20 / 60, category="hourly"),
                 *job(2, "75.00", "Acme Corp", day=5))
    summary = summary_of(rules, frame)
    assert owed_by_worker(summary.items) == {"Ali": D("71.666666666666")}  # the hours only
    assert summary.warnings == [
        "split #1 (ledger.toml:7) pays per hour, but 1 earning(s) it matches bill no hours, "
        "so nothing is owed for them (first: 2024-06-05, 75 USD, upwork line 3); narrow the "
        'rule (e.g. category = "hourly"), or count its hours in units.csv (units = "file")']
    narrowed = rules_from(tmp_path, TEN_PERCENT.replace(
        'percent_of_gross = "10"', 'per_unit = "5"\nunit = "hour"\ncategory = "hourly"'))
    assert summary_of(narrowed, frame).warnings == []


SIBLINGS = """
[[workers]]
name = "Sara"
currency = "USD"

[[workers]]
name = "Omar"
currency = "USD"

[[splits]]
id = "family-pool"
workers = ["Sara", "Omar"]
equal_share = true
"""


def test_siblings_share_equally(tmp_path):
    rules = rules_from(tmp_path, SIBLINGS)
    frame = rows(*job(1, "100.00", "Acme Corp"), *job(2, "200.00", "Beta LLC", day=5))
    items = payouts.owed_items(rules, frame)
    assert owed_by_worker(items) == {"Sara": D(90), "Omar": D(90)}  # net 270 / 3
    summary = summary_of(rules, frame)
    chain = {p["party"]: p["amount"] for p in summary.chain}
    assert chain == {"platform": D(30), "payment providers": D(0), "taxes": D(0),
                     "Sara": D(90), "Omar": D(90), "you (contractor)": D(90)}


def test_an_uneven_share_leaves_the_fraction_with_you_exactly(tmp_path):
    rules = rules_from(tmp_path, SIBLINGS)
    frame = rows(*job(1, "100.00", "Acme Corp", fee_rate="0"))
    items = payouts.owed_items(rules, frame)
    assert owed_by_worker(items) == {"Sara": D("33.333333333333"), "Omar": D("33.333333333333")}
    summary = summary_of(rules, frame)
    total = sum((p["amount"] for p in summary.chain), D(0))
    assert total == D(100)
    # each sibling is owed their statement's 33.33: the fraction and the rounding stay with you
    # (the chain said 33.333333333334, the workers' 33.333333333333 each, exactly)
    assert [p["amount"] for p in summary.chain[-3:]] == [D("33.33"), D("33.33"), D("33.34")]
    shown = payouts.as_json(summary)["value_chain"]
    assert sum(D(p["amount"]) for p in shown) == D("100.00")


def test_ordered_rules_stack_and_final_keeps_later_ones_off(tmp_path):
    toml = TEN_PERCENT + """
[[workers]]
name = "Hina"
currency = "USD"

[[splits]]
worker = "Hina"
per_job = "5"
order = 2
"""
    frame = rows(*job(1, "75.00", "Acme Corp"), *job(2, "40.00", "Beta LLC"))
    stacked = rules_from(tmp_path, toml.replace('percent_of_gross = "10"',
                                                'percent_of_gross = "10"\norder = 1'))
    assert owed_by_worker(payouts.owed_items(stacked, frame)) == {"Ali": D("7.5"),
                                                                   "Hina": D(10)}
    final = rules_from(tmp_path, toml.replace('percent_of_gross = "10"',
                                              'percent_of_gross = "10"\norder = 1\nfinal = true'))
    assert owed_by_worker(payouts.owed_items(final, frame)) == {"Ali": D("7.5"), "Hina": D(5)}


# --- paid and balances -----------------------------------------------------------------------


def test_payments_are_matched_by_kind_counterparty_or_description(tmp_path):
    rules = rules_from(tmp_path, TEN_PERCENT + '\n[[workers]]\nname = "Hina"\n'
                       'currency = "USD"\naliases = ["hina@wallet"]\n')
    frame = rows(
        {"kind": "transfer", "amount": "-5.00", "counterparty": "ALI RAZA", "source": "bank:x",
         "account": "bank:x", "description": "Money sent to ALI RAZA"},
        {"kind": "other", "amount": "-2.00", "source": "bank:x", "account": "bank:x",
         "description": "IBFT to hina@wallet ref 1"},
        {"kind": "subcontractor_payout", "amount": "-3.00", "counterparty": "Ali Raza",
         "source": "freelancer", "account": "freelancer"},
        {"kind": "subcontractor_payout", "amount": "-4.00", "counterparty": "Someone",
         "source": "freelancer", "account": "freelancer"},
        {"kind": "transfer", "amount": "-9.00", "counterparty": "Alina",
         "description": "Money sent to Alina", "source": "bank:x", "account": "bank:x"},
        {"kind": "transfer", "amount": "7.00", "counterparty": "Ali Raza",
         "description": "Received money from Ali Raza", "source": "bank:x",
         "account": "bank:x"})
    paid = payouts.payments(frame, rules)
    assert [(r["worker"], r["paid"], r["matched_by"]) for r in paid.iter_rows(named=True)] == [
        ("Ali", D(5), "counterparty"), ("Hina", D(2), "description"),
        ("Ali", D(3), "kind, counterparty"), (None, D(4), "unknown")]
    reclassified = payouts.reclassify(frame, rules)
    assert reclassified["kind"].to_list() == ["subcontractor_payout"] * 4 + ["transfer"] * 2
    summary = summary_of(rules, frame)
    assert summary.warnings == ["1 payout row(s) names no known worker (first: 2024-06-03 4 "
                                "USD, freelancer line 4); add the payee to one worker's aliases "
                                "in ledger.toml"]


def test_balances_carry_forward(tmp_path):
    rules = rules_from(tmp_path, TEN_PERCENT)
    may = [{**r, "date": dt.date(2024, 5, 20), "ref": r["ref"] + "m",
            "related_ref": r.get("related_ref") and r["related_ref"] + "m"}
           for r in job(1, "75.00", "Acme Corp")]
    frame = rows(*may, *job(2, "150.00", "Acme Corp"),
                 {"kind": "transfer", "amount": "-5.00", "counterparty": "Ali Raza",
                  "date": dt.date(2024, 5, 30)},
                 {"kind": "transfer", "amount": "-12.00", "counterparty": "Ali Raza",
                  "date": dt.date(2024, 6, 20)},
                 {"kind": "transfer", "amount": "-50.00", "counterparty": "Ali Raza",
                  "date": dt.date(2024, 7, 2)})
    ali = summary_of(rules, frame).balances[0]
    assert {k: ali[k] for k in ("opening", "owed", "paid", "closing")} == {
        "opening": D("2.5"), "owed": D(15), "paid": D(12), "closing": D("5.5")}


def test_worker_currency_at_the_earning_or_the_payout_date(tmp_path):
    toml = TEN_PERCENT.replace('currency = "USD"', 'currency = "PKR"')
    frame = rows(*job(1, "75.00", "Acme Corp"),
                 {"kind": "transfer", "amount": "-1000", "currency": "PKR",
                  "counterparty": "Ali Raza", "date": dt.date(2024, 6, 20)})
    chain = FxChain([pl.DataFrame({
        "date": [dt.date(2024, 6, 3), dt.date(2024, 6, 20), dt.date(2024, 6, 30)],
        "from": ["USD"] * 3, "to": ["PKR"] * 3, "rate": [D(278), D(280), D(281)],
        "provider": ["user"] * 3, "detail": ["test"] * 3})])
    for fx, rate, when in (("earning", 278, "2024-06-03"), ("payout", 280, "2024-06-20")):
        rules = rules_from(tmp_path, toml.replace('percent_of_gross = "10"',
                                                  f'percent_of_gross = "10"\nfx = "{fx}"'))
        summary = payouts.compute(rules, frame, JUNE, "PKR", chain)
        assert summary.balances[0]["owed"] == D("7.5") * rate
        assert summary.balances[0]["paid"] == D(1000)
        data = stmt.statement(summary, "ali")
        assert data["jobs"][0]["rate_date"] == when
        assert data["jobs"][0]["owed"] == f"{D('7.5') * rate:.2f}"
    unpaid = frame.filter(pl.col("kind") == "earning")
    summary = payouts.compute(rules, unpaid, JUNE, "PKR", chain)
    assert summary.balances[0]["owed"] == D("7.5") * 281  # not paid yet: rate of the last day


# --- properties ------------------------------------------------------------------------------

MONEY = st.decimals(min_value=D("0.01"), max_value=D("5000"), places=2)
RATE = st.sampled_from(["0", "0.05", "0.10", "0.20", "0.125"])


@st.composite
def books(draw):
    """Earnings with fees for three clients, unrelated costs, and four ordered rules."""
    jobs = draw(st.lists(st.tuples(MONEY, st.sampled_from(["Acme", "Beta", "Gamma"]), RATE,
                                   st.sampled_from(["fixed_price", "hourly", "bonus"])),
                         min_size=1, max_size=12))
    items = []
    for n, (amount, client, rate, category) in enumerate(jobs):
        items += job(n, str(amount), client, fee_rate=rate, day=1 + n % 28, category=category)
    extra = draw(st.lists(st.tuples(st.sampled_from(["payment_fee", "bank_fee", "tax", "fx"]),
                                    MONEY), max_size=4))
    items += [{"kind": kind, "amount": -amount, "ref": f"x{n}"}
              for n, (kind, amount) in enumerate(extra)]
    a = draw(st.integers(0, 60))
    b = draw(st.decimals(min_value=0, max_value=40, places=3))
    fixed = draw(MONEY)
    toml = f"""
[[workers]]
name = "W1"
currency = "USD"
[[workers]]
name = "W2"
currency = "USD"
[[workers]]
name = "W3"
currency = "USD"
[[splits]]
worker = "W1"
client = "Acme"
percent_of_gross = "{a}"
order = 1
[[splits]]
worker = "W2"
client = "A*"
percent_of_net = "{b}"
order = 2
[[splits]]
worker = "W3"
per_job = "{fixed}"
category = "fixed_price"
order = 3
[[splits]]
workers = ["W2", "W3"]
client = "Gamma"
equal_share = true
basis = "{draw(st.sampled_from(['gross', 'net']))}"
order = 4
"""
    return rows(*items), toml


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(books())
def test_owed_plus_margin_plus_costs_is_gross_exactly(tmp_path, book):
    frame, toml = book
    rules = rules_from(tmp_path, toml)
    summary = summary_of(rules, frame)
    gross = sum((c["gross"] for c in summary.contracts), D(0))
    assert gross == sum((D(v) for v in frame.filter(pl.col("kind") == "earning")["amount"]),
                        D(0))
    for c in summary.contracts:
        assert c["owed"] + c["margin"] + c["platform"] + c["payment"] + c["taxes"] == c["gross"]
    owed = sum((c["owed"] for c in summary.contracts), D(0))
    # a worker is owed each line rounded once to the cent: within half a cent a line of exact;
    # paid in the report currency (all of them here), the contracts' owed is those lines
    lines = [D(v) for v in summary.items["value"]]
    assert all(v == v.quantize(D("0.01")) for v in lines)
    balance = sum((b["owed"] for b in summary.balances), D(0))
    assert balance == sum(lines, D(0)) == owed
    exact = sum((D(v) for v in summary.items["amount"]), D(0))
    assert abs(balance - exact) <= D("0.005") * len(lines)
    assert sum((p["amount"] for p in summary.chain), D(0)) == gross
    costs = sum((p["amount"] for p in summary.chain if p["role"] in (
        "platform", "payment", "taxes")), D(0))
    margin = next(p["amount"] for p in summary.chain if p["role"] == "contractor")
    assert owed + margin + costs == gross
    shown = payouts.as_json(summary)["value_chain"]
    assert sum(D(p["amount"]) for p in shown) == D(gross).quantize(D("0.01"))


NAME = st.text(alphabet="ABCDEFGHJKLMNPQRSTUVWXYZ", min_size=6, max_size=10)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                  HealthCheck.function_scoped_fixture])
@given(st.lists(NAME, min_size=5, max_size=5, unique=True), st.data())
def test_a_statement_never_names_another_worker_or_a_client(tmp_path, names, data):
    from hypothesis import assume

    assume(not any(a != b and a in b for a in names for b in names))
    workers, clients = names[:3], names[3:]
    toml = "".join(f'\n[[workers]]\nname = "{w}"\ncurrency = "USD"\naliases = ["{w} X"]\n'
                   for w in workers)
    toml += f'\n[[splits]]\nworker = "{workers[0]}"\npercent_of_gross = "10"\norder = 1\n'
    toml += (f'\n[[splits]]\nworker = "{workers[1]}"\nclient = "{clients[0]}"\n'
             'percent_of_net = "20"\norder = 2\n')
    toml += (f'\n[[splits]]\nworkers = ["{workers[1]}", "{workers[2]}"]\nequal_share = true\n'
             f'client = "{clients[1]}"\norder = 3\n')
    items = []
    for n in range(data.draw(st.integers(1, 6))):
        client = data.draw(st.sampled_from(clients))
        items += job(n, str(data.draw(MONEY)), client, day=1 + n,
                     description=f"Invoice for {client} work")
    for n, worker in enumerate(workers):
        items.append({"kind": "transfer", "amount": "-1.00", "counterparty": f"{worker} X",
                      "description": f"Money sent to {worker} X for {clients[n % 2]}",
                      "source": "bank:nayapay", "account": "bank:nayapay", "ref": f"t{n}",
                      "date": dt.date(2024, 6, 20)})
    rules = rules_from(tmp_path, toml)
    summary = summary_of(rules, rows(*items), detail=False)
    for me in workers:
        statement = stmt.statement(summary, me)
        for fmt in ("text", "csv", "html"):
            text = statement_render.render(statement, fmt)
            assert me in text
            for other in [*workers, *clients]:
                if other != me:
                    assert other not in text, (fmt, other)


# --- bad rules -------------------------------------------------------------------------------


@pytest.mark.parametrize(("change", "message"), [
    (('worker = "Ali"', 'worker = "Zed"'),
     "split #1: unknown worker 'Zed'"),
    (('percent_of_gross = "10"', 'percent_of_gross = "120"'),
     "split #1: takes 120%, more than 100% of an earning"),
    (('percent_of_gross = "10"', 'percent_of_gross = "10"\nper_job = "5"'),
     "split #1: needs exactly one share, not percent_of_gross and per_job"),
    (('percent_of_gross = "10"', 'per_unit = "5"'),
     "split #1: per_unit needs a unit"),
    (('percent_of_gross = "10"', 'percent_of_gross = "ten"'),
     "split #1: percent_of_gross 'ten' is not a number"),
    (('client = "Acme*"', 'clients = "Acme*"'),
     "split #1: unknown key(s) clients"),
    (('percent_of_gross = "10"', 'percent_of_gross = "10"\nfx = "today"'),
     "split #1: fx = 'today'"),
])
def test_bad_rules_name_ledger_toml_and_the_rule(tmp_path, change, message):
    with pytest.raises(UsageError) as caught:
        rules_from(tmp_path, TEN_PERCENT.replace(*change))
    assert caught.value.message == message
    assert caught.value.path == str(tmp_path / "led" / "ledger.toml")
    assert caught.value.line == 7  # TEN_PERCENT's [[splits]] header
    assert caught.value.exit_code == 2


@pytest.mark.parametrize(("change", "message"), [
    (('currency = "USD"', 'currency = "XYZ"'), "worker 'Ali': unknown currency 'XYZ'"),
    (('aliases = ["Ali Raza"]', 'aliases = "x"\nrate = 5'), "worker 'Ali': unknown key(s) rate"),
    (('name = "Ali"', 'name = ""'), "worker #2 needs a name"),
])
def test_a_bad_worker_names_the_line_of_its_own_workers_table(tmp_path, change, message):
    """As a split's: the line of the worker's own [[workers]] header (a second worker first,
    so the line is not the first table's)."""
    toml = '[[workers]]\nname = "Bilal"\n\n' + TEN_PERCENT.replace(*change)
    with pytest.raises(UsageError) as caught:
        rules_from(tmp_path, toml)
    assert str(caught.value).splitlines()[0] == (
        f"{tmp_path / 'led' / 'ledger.toml'}:5: {message}")


def test_a_bad_rule_names_the_line_of_its_own_splits_table(tmp_path):
    toml = (TEN_PERCENT + '\n[[splits]]   # a comment after the header\nworker = "Ali"\n'
            'client = "Beta*"\npercent_of_gross = "abc"\n')
    with pytest.raises(UsageError) as caught:
        rules_from(tmp_path, toml)
    assert str(caught.value).splitlines()[0] == (
        f"{tmp_path / 'led' / 'ledger.toml'}:12: split #2: percent_of_gross 'abc' is not a "
        "number")


def test_two_rules_on_one_earning_need_orders(tmp_path):
    toml = TEN_PERCENT + '\n[[splits]]\nid = "also"\nworker = "Ali"\npercent_of_net = "5"\n'
    with pytest.raises(UsageError) as caught:
        payouts.owed_items(rules_from(tmp_path, toml), rows(*job(1, "75.00", "Acme Corp")))
    assert caught.value.message == (
        'split #1 and split "also" both claim the earning of 2024-06-03 (75 USD, upwork line 1)'
        " without an order each")
    assert caught.value.line == 7


def test_shares_above_100_percent_name_only_the_rules_that_take_a_share(tmp_path):
    """A fixed amount on the same earning takes no share: it was listed as "(0%)" and its
    line named, as if it were one of the rules to fix."""
    toml = TEN_PERCENT.replace('percent_of_gross = "10"', 'per_job = "5"\norder = 1')
    toml += ('\n[[splits]]\nworker = "Ali"\npercent_of_gross = "60"\norder = 2\n'
             '\n[[splits]]\nworker = "Ali"\npercent_of_net = "50"\norder = 3\n')
    with pytest.raises(UsageError) as caught:
        payouts.owed_items(rules_from(tmp_path, toml), rows(*job(1, "75.00", "Acme Corp")))
    assert caught.value.message == (
        "split #2 (60%) and split #3 (50%) take 110% of the earning of 2024-06-03 (75 USD, "
        "upwork line 1): more than 100%")
    assert caught.value.line == toml.splitlines().index("[[splits]]", 7) + 1


def test_shares_of_one_earning_above_100_percent(tmp_path):
    toml = TEN_PERCENT.replace('percent_of_gross = "10"', 'percent_of_gross = "60"\norder = 1')
    toml += '\n[[splits]]\nworker = "Ali"\npercent_of_net = "50"\norder = 2\n'
    with pytest.raises(UsageError) as caught:
        payouts.owed_items(rules_from(tmp_path, toml), rows(*job(1, "75.00", "Acme Corp")))
    assert caught.value.message == (
        "split #1 (60%) and split #2 (50%) take 110% of the earning of 2024-06-03 (75 USD, "
        "upwork line 1): more than 100%")
    assert caught.value.line == 7


# --- end to end through the real CLI ---------------------------------------------------------


def contractor(tmp_path: Path) -> Path:
    """A contractor (Zara) with three sub-workers and two clients: May and June imported from
    an Upwork transaction history and a NayaPay wallet statement, units.csv and rates.csv."""
    root = tmp_path / "led"
    root.mkdir()
    for name in ("ledger.toml", "rates.csv", "units.csv"):
        shutil.copyfile(DATA / name, root / name)
    ok(run("--ledger", "led", "import", DATA / "upwork.csv", DATA / "nayapay.csv",
           cwd=tmp_path))
    return root


@pytest.fixture(scope="module")
def books_dir(tmp_path_factory) -> Path:
    """The contractor's ledger after recording a cash payout to Hina (treat as read-only)."""
    cwd = tmp_path_factory.mktemp("payouts")
    root = contractor(cwd)
    result = ok(run("--ledger", "led", "payouts", "record", "Hina", "3000", "PKR", "--date",
                    "2024-06-28", "--note", "cash at home", cwd=cwd))
    assert re.fullmatch(r"recorded 3000 PKR paid to Hina on 2024-06-28 as [0-9a-f]{8} "
                        r"\(payouts.csv line 2\)", result.stdout.strip())
    return root


def test_cli_balances_per_worker(books_dir):
    june = as_json(run("--ledger", books_dir, "payouts", "--month", "2024-06", "--format",
                       "json", cwd=books_dir.parent))
    assert june["schema"] == "ledger.payouts/1"
    balances = {w["worker"]: (w["opening"], w["owed"], w["paid"], w["closing"])
                for w in june["workers"]}
    assert balances == {
        # 10% of 75.00 and of a 20.00 bonus at 278.50; May's 2085.00 was paid in May
        "Ali": ("0.00", "2645.75", "2000.00", "645.75"),
        # 3 audio hours x $12 at 278.00 in May (8000 paid); 4 x $12 at 278.50 in June
        "Bilal": ("2008.00", "13368.00", "15000.00", "376.00"),
        # PKR 1500 per fixed-price Acme milestone (May and June), paid 3000 cash
        "Hina": ("1500.00", "1500.00", "3000.00", "0.00")}
    assert {(p["worker"], p["amount"], p["matched_by"]) for p in june["payments"]} == {
        ("Ali", "2000.00", "counterparty"), ("Bilal", "15000.00", "counterparty"),
        ("Hina", "3000.00", "manual")}  # the 1000 to Sara Ahmed is no worker's
    contracts = {c["contract"]: c for c in june["contracts"]}
    # the 20 June withdrawal's costs (its 0.99 USD fee, 275.72, and the FX cost of NayaPay's
    # PKR credit, 100.00) are charged to the money it moved, first in, first out, as the
    # report's By client charges them: Acme's and Delta Media's (they were on the untied line)
    assert contracts["Acme Corp"] == {"contract": "Acme Corp", "gross": "26457.50",
                                      "platform": "2645.75", "payment": "160.58",
                                      "taxes": "0.00", "owed": "4145.75", "margin": "19505.42"}
    assert contracts["Delta Media"]["owed"] == "13368.00"
    assert (contracts["Delta Media"]["payment"], contracts["Delta Media"]["margin"]) == (
        "215.14", "16494.86")
    assert "(costs not tied to a contract)" not in contracts
    chain = {p["party"]: p["amount"] for p in june["value_chain"]}
    # payment providers: the fees (275.72) and, counted as the report counts it (issue 18),
    # the FX cost of the 200.00 USD withdrawal NayaPay credited as 55,600 PKR:
    # 200 x 278.50 - 55,600 = 100.00 (before issue 18 payouts left it out: 275.72, 36100.28)
    assert chain == {"platform": "5987.75", "payment providers": "375.72", "taxes": "0.00",
                     "Ali": "2645.75", "Bilal": "13368.00", "Hina": "1500.00",
                     "you (contractor)": "36000.28"}
    assert sum(Decimal(v) for v in chain.values()) == Decimal("59877.50")
    may = as_json(run("--ledger", books_dir, "payouts", "--month", "2024-05", "--format",
                      "json", cwd=books_dir.parent))
    assert {w["worker"]: w["closing"] for w in may["workers"]} == {
        "Ali": "0.00", "Bilal": "2008.00", "Hina": "1500.00"}


def test_cli_table_and_csv(books_dir):
    table = ok(run("--ledger", books_dir, "payouts", "--month", "2024-06",
                   cwd=books_dir.parent)).stdout
    for text in ("Sub-workers", "Bilal", "13,368.00", "Value chain by contract", "40.0%",
                 "Where the clients' money"):
        assert text in table
    rows_ = list(csv.reader(io.StringIO(ok(run(
        "--ledger", books_dir, "payouts", "--month", "2024-06", "--format", "csv",
        cwd=books_dir.parent)).stdout)))
    assert ["workers", "Ali", "closing", "645.75"] in rows_


def test_cli_report_counts_what_was_paid_and_shows_what_is_owed(books_dir):
    report = as_json(run("--ledger", books_dir, "report", "--month", "2024-06", "--format",
                         "json", cwd=books_dir.parent))
    totals = {k: Decimal(v) for k, v in report["totals"].items()
              if k in ("gross", "platform_fees", "payment_fees", "fx_cost", "bank_deductions",
                       "taxes", "subcontractor_payouts", "expenses", "other", "net")}
    assert totals["subcontractor_payouts"] == Decimal("20000.00")  # 2000 + 15000 + 3000 cash
    assert totals["net"] == totals["gross"] - sum(
        v for k, v in totals.items() if k not in ("gross", "other", "net")) + totals["other"]
    assert report["payouts_owed_unpaid"] == "1021.75"  # 645.75 (Ali) + 376.00 (Bilal)
    table = ok(run("--ledger", books_dir, "report", "--month", "2024-06",
                   cwd=books_dir.parent)).stdout
    assert "owed to sub-workers, unpaid" in table and "1,021.75" in table


def _ledger_without_workers(tmp_path: Path) -> Path:
    """`tmp_path/led`: Upwork and NayaPay rows in PKR, no [[workers]]."""
    root = tmp_path / "led"
    root.mkdir()
    shutil.copyfile(DATA / "rates.csv", root / "rates.csv")
    (root / "ledger.toml").write_text('home_currency = "PKR"\n', "utf-8")
    ok(run("--ledger", "led", "import", DATA / "upwork.csv", DATA / "nayapay.csv",
           cwd=tmp_path))
    return root


def test_cli_report_without_workers_has_no_liability(tmp_path):
    _ledger_without_workers(tmp_path)
    report = as_json(run("--ledger", "led", "report", "--month", "2024-06", "--format",
                         "json", cwd=tmp_path))
    assert report["payouts_owed_unpaid"] is None
    assert report["totals"]["subcontractor_payouts"] == "0.00"


def test_cli_table_without_workers_skips_the_counting_but_not_the_checks(tmp_path):
    """Without [[workers]] the people's table counts nothing (summarize(workers_only=True)):
    it must print what the full summary prints, and the same mistakes must stop it."""
    from rich.console import Console

    from ledger.render import payouts as payouts_render

    root = _ledger_without_workers(tmp_path)
    ledger = Ledger(root)
    full = payouts.summarize(ledger, month="2024-06")
    fast = payouts.summarize(ledger, month="2024-06", workers_only=True)
    assert full.contracts and not fast.contracts  # the fast path really skipped the counting
    printed = []
    for summary in (full, fast):
        console = Console(width=200, no_color=True)
        with console.capture() as capture:
            payouts_render.print_summary(payouts.as_json(summary), console)
        printed.append(capture.get())
    assert printed[0] == printed[1] == (
        "No [[workers]] in ledger.toml yet: see `ledger payouts --help`.\n")
    assert ok(run("--ledger", "led", "payouts", "--month", "2024-06", cwd=tmp_path)
              ).stdout == printed[0]
    for args in (("--month", "2024-13"), ("--currency", "XYZ")):
        table, as_csv = (run("--ledger", "led", "payouts", *args, *more, cwd=tmp_path)
                         for more in ((), ("--format", "csv")))
        assert (table.returncode, table.stderr) == (as_csv.returncode, as_csv.stderr)
        assert table.stderr.startswith("error:"), table.stderr


@pytest.mark.parametrize("worker", ["Ali", "Bilal", "Hina"])
def test_cli_statement_shows_only_that_workers_work(books_dir, tmp_path, worker):
    others = {"Ali", "Bilal", "Hina", "Ali Raza", "Bilal Ahmed", "Sara"} - {worker}
    private = {"Acme", "Delta", "Zara", "Logo", "Podcast", "Payoneer", "cash at home"}
    for name in ("s.html", "s.csv", "s.txt"):
        ok(run("--ledger", books_dir, "payouts", "statement", worker, "--month", "2024-06",
               "-o", tmp_path / name, cwd=tmp_path))
        text = (tmp_path / name).read_text("utf-8")
        assert worker in text
        for other in others | private:
            assert other not in text, (name, other)
    text = (tmp_path / "s.txt").read_text("utf-8")
    # within 80 columns: a job's date, number and what is owed, then how it is worked out
    expected = {"Ali": ["Brought forward: 0.00 PKR",
                        "  2024-06-03  Job 2" + " " * 42 + "owed 2,088.75 PKR\n"
                        "      10% of gross 75.00 USD = 7.50 USD × 278.5 (rate of 2024-06-03)",
                        "  2024-06-12  Job 3" + " " * 44 + "owed 557.00 PKR\n"
                        "      10% of gross 20.00 USD = 2.00 USD × 278.5 (rate of 2024-06-12)",
                        "  2024-06-22  transfer from bank:nayapay, ref 7a0005" + " " * 14
                        + "2,000.00 PKR",
                        "Brought forward 0.00 + owed 2,645.75 - paid 2,000.00 = 645.75 PKR",
                        "You are owed 645.75 PKR"],
                "Bilal": ["Brought forward: 2,008.00 PKR",
                          "  2024-06-08  Job 2" + " " * 42 + "owed 8,355.00 PKR\n"
                          "      2.5 audio_hour × 12 USD = 30.00 USD × 278.5 (rate of "
                          "2024-06-08)",
                          "Total owed: 13,368.00 PKR", "Total paid: 15,000.00 PKR",
                          "You are owed 376.00 PKR"],
                "Hina": ["Brought forward: 1,500.00 PKR",
                         "  2024-06-03  Job 2" + " " * 42 + "owed 1,500.00 PKR\n"
                         "      1 job × 1,500 PKR\n",
                         "  2024-06-28  cash / wallet (recorded)" + " " * 28 + "3,000.00 PKR",
                         "Settled: 0 PKR owed either way"]}[worker]
    for line in expected:
        assert line in text
    assert max(len(line) for line in text.splitlines()) <= 80
    data = list(csv.reader(io.StringIO((tmp_path / "s.csv").read_text("utf-8"))))
    assert data[0] == ["section", "date", "item", "detail", "amount", "currency"]
    assert data[1] == ["statement", "2024-06-30", worker, "June 2024", "", "PKR"]
    assert data[-1][0] == "closing"


def test_cli_statement_show_contract(books_dir, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    toml = (root / "ledger.toml").read_text("utf-8").replace(
        'name = "Bilal"', 'name = "Bilal"\nshow_contract = true')
    (root / "ledger.toml").write_text(toml, "utf-8")
    text = ok(run("--ledger", "led", "payouts", "statement", "Bilal", "--month", "2024-06",
                  cwd=tmp_path)).stdout
    assert "Job 2 · Podcast transcription" in text  # the title units.csv gives


def test_cli_record_writes_payouts_csv_atomically(tmp_path):
    root = contractor(tmp_path)
    ok(run("--ledger", "led", "payouts", "record", "ali", "1,500", "pkr", "--date",
           "2024-06-29", cwd=tmp_path))
    ok(run("--ledger", "led", "payouts", "record", "Bilal", "10", "USD", "--date",
           "2024-06-30", "--note", "=SUM(A1)", cwd=tmp_path))
    lines = list(csv.DictReader(io.StringIO((root / "payouts.csv").read_text("utf-8"))))
    assert [(r["date"], r["worker"], r["amount"], r["currency"], r["note"]) for r in lines] == [
        ("2024-06-29", "Ali", "1500", "PKR", ""), ("2024-06-30", "Bilal", "10", "USD", "=SUM(A1)")]
    assert len({r["id"] for r in lines}) == 2
    assert not list(root.glob(".*.tmp"))
    june = as_json(run("--ledger", "led", "payouts", "--month", "2024-06", "--format", "json",
                       cwd=tmp_path))
    paid = {w["worker"]: w["paid"] for w in june["workers"]}
    assert paid["Ali"] == "3500.00"
    assert paid["Bilal"] == "17785.00"  # 15000 + 10 USD at 278.50


@pytest.mark.parametrize(("args", "code", "stderr"), [
    (("payouts", "record", "Zed", "5", "PKR", "--date", "2024-06-01"), 2,
     "led/ledger.toml: unknown worker 'Zed'\n"
     '  hint: workers in ledger.toml: Ali, Bilal, Hina; add one with [[workers]] name = "Zed"\n'),
    (("payouts", "record", "Ali", "0", "PKR", "--date", "2024-06-01"), 2,
     "error: amount '0' must be positive\n  hint: record what you paid, e.g. 5000\n"),
    (("payouts", "record", "Ali", "5", "XYZ", "--date", "2024-06-01"), 2,
     "error: unknown currency 'XYZ'\n  hint: use an ISO 4217 code, e.g. PKR\n"),
    (("payouts", "record", "Ali", "5", "PKR", "--date", "01/06/2024"), 2,
     "error: --date '01/06/2024' is not a date YYYY-MM-DD\n  hint: e.g. --date 2024-06-20\n"),
    (("payouts", "statement", "Ali", "--month", "2024-06", "-o", "ali.pdf"), 2,
     "error: cannot tell the format of ali.pdf\n"
     "  hint: name it .html, .csv, .json or .txt, or add --format html|csv|json|text\n"),
    (("payouts", "statement", "Nobody", "--month", "2024-06"), 2,
     "led/ledger.toml: unknown worker 'Nobody'\n"
     '  hint: workers in ledger.toml: Ali, Bilal, Hina; add one with [[workers]] name = '
     '"Nobody"\n'),
])
def test_cli_usage_errors(books_dir, tmp_path, args, code, stderr):
    shutil.copytree(books_dir, tmp_path / "led")
    result = run("--ledger", "led", *args, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (code, stderr)
    assert "Traceback" not in result.stderr


BAD_RULES = [
    ("unknown-worker", ('worker = "Hina"', 'worker = "Hinaa"'),
     'led/ledger.toml:26: split "hina-per-milestone": unknown worker \'Hinaa\'\n'
     "  hint: workers in ledger.toml: Ali, Bilal, Hina; add one with [[workers]] name = "
     '"Hinaa"\n'),
    ("no-order", ("order = 2\n", ""),
     'led/ledger.toml:26: split "hina-per-milestone" and split "ali-logos" both claim the '
     "earning of 2024-05-20 (75 USD, upwork line 15) without an order each\n"
     "  hint: give each its own order (all apply, lowest first; final = true keeps later "
     "rules off), or narrow their platform, client, contract or dates\n"),
    ("over-100", ('per_job = "1500"', 'percent_of_net = "95"'),
     'led/ledger.toml:18: split "ali-logos" (10%) and split "hina-per-milestone" (95%) take '
     "105% of the earning of 2024-05-20 (75 USD, upwork line 15): more than 100%\n"
     "  hint: the shares of one earning may add up to at most 100%\n"),
    ("over-100-alone", ('percent_of_gross = "10"', 'percent_of_gross = "110"'),
     'led/ledger.toml:18: split "ali-logos": takes 110%, more than 100% of an earning\n'
     "  hint: a share is at most 100 (percent)\n"),
]


@pytest.mark.parametrize(("change", "stderr"), [(c, s) for _, c, s in BAD_RULES],
                         ids=[i for i, _, _ in BAD_RULES])
@pytest.mark.parametrize("command", [("payouts", "--month", "2024-06"),
                                     ("report", "--month", "2024-06")])
def test_cli_bad_rules_are_usage_errors(books_dir, tmp_path, change, stderr, command):
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    toml = (root / "ledger.toml").read_text("utf-8")
    assert change[0] in toml
    (root / "ledger.toml").write_text(toml.replace(*change), "utf-8")
    result = run("--ledger", "led", *command, cwd=tmp_path)
    assert (result.returncode, result.stderr) == (2, stderr)


def test_cli_units_file_errors_name_the_line(books_dir, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    with open(root / "units.csv", "a", encoding="utf-8") as handle:
        handle.write("2024-06-10,Podcast transcription,Bilal,audio_hour,1:30\n")
    result = run("--ledger", "led", "payouts", "--month", "2024-06", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (
        1, "led/units.csv:5: bad units row (date '2024-06-10', quantity '1:30')\n"
        "  hint: each row is YYYY-MM-DD,CONTRACT,WORKER,UNIT,QUANTITY with a quantity such as "
        "2.5 (write 1:30 as 1.5)\n")


def test_payouts_json_is_stable(books_dir):
    first = run("--ledger", books_dir, "payouts", "--month", "2024-06", "--format", "json",
                cwd=books_dir.parent).stdout
    assert json.loads(first) == json.loads(run(
        "--ledger", books_dir, "payouts", "--month", "2024-06", "--format", "json",
        cwd=books_dir.parent).stdout)


def readme_splits() -> str:
    """README's [[workers]]/[[splits]] example, as a new user pastes it."""
    text = (Path(__file__).parent.parent / "README.md").read_text("utf-8")
    section = text.split("## Paying sub-workers", 1)[1]
    block = section.split("```toml\n", 1)[1].split("```", 1)[0]
    assert "per_unit" in block and 'unit = "audio_hour"' in block
    return block


def test_readme_example_needs_no_units_file_until_a_per_unit_earning(tmp_path):
    """A per_unit rule reading units.csv needs the file only when an earning it matches is to
    be valued; then the error names the line of its [[splits]] table."""
    toml = readme_splits()
    rules = rules_from(tmp_path, toml)
    assert not rules.units_path.exists()
    items = payouts.owed_items(rules, rows(*job(1, "75.00", "Acme Corp")))
    assert owed_by_worker(items) == {"Ali": D("7.5")}
    with pytest.raises(UsageError) as caught:
        payouts.owed_items(rules, rows(*job(1, "75.00", "Acme Corp"), *job(
            2, "120.00", "Delta Media", description="Invoice for Milestone 2 - Podcast "
            "transcription")))
    line = [n for n, x in enumerate(toml.splitlines(), 1) if x.startswith("[[splits]]")][1]
    assert (caught.value.message, caught.value.line) == (
        "split #2: per_unit audio_hour needs units from units.csv, which does not exist", line)


def test_cli_readme_example_pasted_into_a_ledger(tmp_path):
    ok(run("--ledger", "led", "import", DATA / "nayapay.csv", cwd=tmp_path))
    (tmp_path / "led" / "ledger.toml").write_text('home_currency = "PKR"\n' + readme_splits(),
                                                  "utf-8")
    result = run("--ledger", "led", "payouts", "--month", "2024-06", cwd=tmp_path)
    assert (result.returncode, result.stderr) == (0, "")
    assert "Bilal" in result.stdout


def test_cli_units_file_missing_names_the_rule_line(books_dir, tmp_path):
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    (root / "units.csv").unlink()
    result = run("--ledger", "led", "payouts", "--month", "2024-06", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == (
        'led/ledger.toml:34: split "bilal-transcription": per_unit audio_hour needs units from '
        "units.csv, which does not exist")


@pytest.mark.parametrize("command", [("payouts", "--month", "2024-06"),
                                     ("payouts", "statement", "Hina", "--month", "2024-06"),
                                     ("report", "--month", "2024-06")])
def test_cli_a_worker_currency_no_offline_rate_converts_names_the_worker(books_dir, tmp_path,
                                                                        command):
    """A worker paid in a currency no offline source has (Bhutan's ngultrum): the error names
    the worker's [[workers]] line in ledger.toml and how to add the rate; the rate error's own
    hint (report in another --currency) would not help, as the worker is paid in it."""
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    toml = (root / "ledger.toml").read_text("utf-8")
    assert 'name = "Hina"\ncurrency = "PKR"' in toml
    (root / "ledger.toml").write_text(toml.replace('name = "Hina"\ncurrency = "PKR"',
                                                   'name = "Hina"\ncurrency = "BTN"'), "utf-8")
    line = toml.splitlines().index('name = "Hina"')  # its [[workers]] header's line number
    result = run("--ledger", "led", *command, cwd=tmp_path)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    first, *hint = result.stderr.splitlines()
    assert first.startswith(f"led/ledger.toml:{line}: worker 'Hina' is paid in BTN: no "
                            "PKR->BTN rate for 2024-06-28")  # the cash paid to her in PKR
    hint = " ".join(h.strip() for h in hint)
    assert hint.startswith("hint: add a line `2024-06-28,PKR,BTN,RATE` to rates.csv")
    assert "--currency" not in hint and "--online" in hint


@pytest.mark.parametrize(("added", "warning"), [
    ("2024-06-10,Podcast transcription,bilal,minutes,30\n",
     "1 units.csv line(s) no per_unit rule pays, so nothing is owed for them (first: line 5, "
     "Bilal's 30 minutes on 'Podcast transcription', 2024-06-10; split "
     "\"bilal-transcription\" (ledger.toml:34) pays audio_hour on contracts "
     "'*transcription*'); fix the line's unit, contract or worker, or add a [[splits]] rule "
     "that pays it"),
    ("2024-06-10,Logo design,Ali,item,2\n",
     "1 units.csv line(s) no per_unit rule pays, so nothing is owed for them (first: line 5, "
     "Ali's 2 item on 'Logo design', 2024-06-10; no rule pays Ali per unit); fix the line's "
     "unit, contract or worker, or add a [[splits]] rule that pays it"),
])
def test_cli_a_units_line_no_rule_pays_is_a_warning(books_dir, tmp_path, added, warning):
    """A units.csv line no per_unit rule pays (another unit, a worker without such a rule)
    owed nothing, silently; now `ledger payouts` warns, naming the line and the worker's
    rules (a warning: the file may log work paid otherwise). Nothing else changes."""
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    month = ("payouts", "--month", "2024-06", "--format", "json")
    before = as_json(run("--ledger", "led", *month, cwd=tmp_path))
    assert before["warnings"] == []
    with open(root / "units.csv", "a", encoding="utf-8") as handle:
        handle.write(added)
    after = as_json(run("--ledger", "led", *month, cwd=tmp_path))
    assert after["warnings"] == [warning]
    assert after["workers"] == before["workers"]
    table = ok(run("--ledger", "led", "payouts", "--month", "2024-06", cwd=tmp_path))
    assert "units.csv line(s) no per_unit rule pays" in " ".join(
        (table.stdout + table.stderr).split())
    # a month before the line does not mention it
    may = as_json(run("--ledger", "led", "payouts", "--month", "2024-05", "--format", "json",
                      cwd=tmp_path))
    assert may["warnings"] == []


def test_cli_a_worker_line_valued_at_a_coarse_rate_is_warned_about(books_dir, tmp_path):
    """Bilal's 8 June audio hours in USD, with no USD->PKR rate in rates.csv nearer than 28
    May: valued at the bundled NBP rate of the day (about 3 significant digits), which the
    statement names, and `ledger payouts` says so, as the report does for its own rows (the
    FX chain's warning was dropped)."""
    root = tmp_path / "led"
    shutil.copytree(books_dir, root)
    rates = (root / "rates.csv").read_text("utf-8").splitlines()
    kept = [line for line in rates if not line.startswith(("2024-06-0", "2024-06-1"))]
    assert len(kept) < len(rates)
    month = ("--month", "2024-06", "--format", "json")
    before = as_json(run("--ledger", "led", "payouts", *month, cwd=tmp_path))
    assert before["warnings"] == []
    (root / "rates.csv").write_text("\n".join(kept) + "\n", "utf-8")
    june = as_json(run("--ledger", "led", "payouts", *month, cwd=tmp_path))
    assert june["warnings"] == [
        "USD valued with NBP reference rates published to about 3 significant digits (see "
        "each rate's ±); for exact FX costs add your central bank's rates to rates.csv"]
    jobs = as_json(run("--ledger", "led", "payouts", "statement", "Bilal", *month,
                       cwd=tmp_path))["jobs"]
    job = next(j for j in jobs if j["date"] == "2024-06-08")
    assert (job["rate_source"], job["rate_date"]) == ("nbp", "2024-06-08")
