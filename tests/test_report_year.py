"""A year's report counts its months in one pass (issue 23): each month of `--year` equals that
month's own report figure by figure, on a ledger with rows in all twelve months; equal gross is
ordered by name; the fee owners' hashed join gives the owners the strings give."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from ledger.reports import breakdown, report
from tests.conftest import TODAY


@pytest.fixture(scope="module")
def year_ledger(tmp_path_factory):
    """Generated PayPal (payments from clients, fees, withdrawals) and Upwork (hourly invoices
    with service fees, withdrawals) exports spread over every day of 2024."""
    from bench.generate import write_paypal, write_upwork
    from importers.base import ImportOptions
    from ledger.store.directory import Ledger

    root = tmp_path_factory.mktemp("year")
    files = [write_paypal(root / "paypal.csv", 240), write_upwork(root / "upwork.csv", 240)]
    ledger = Ledger(root / "ledger")
    ledger.import_files(files, ImportOptions(today=TODAY))
    return ledger


def test_each_month_of_the_year_is_that_months_report(year_ledger):
    from rules.fx import FxChain

    rows = year_ledger.rows()
    chain = FxChain.for_ledger(rows, year_ledger.rates_path)
    year = report.build(year_ledger, year=2024, rows=rows, chain=chain)
    labels = [f"2024-{m:02d}" for m in range(1, 13)]
    assert [m["month"] for m in year["months"]] == labels
    for month in year["months"]:
        alone = report.build(year_ledger, month=month["month"], rows=rows, chain=chain)
        assert alone["months"] == []
        assert {k: month[k] for k in alone["totals"]} == alone["totals"]
        assert month["hours"] != "0.00"  # Upwork bills hours every month


def test_the_months_nets_are_the_signed_sums_of_their_rows(year_ledger):
    """Independently of the report: every month's net is the exact sum of its stored rows
    that are not transfers (all USD, no fee rule adds or removes money), rounded once per
    line, so within half a cent per line."""
    year = report.build(year_ledger, year=2024)
    rows = year_ledger.rows().filter(pl.col("kind") != "transfer")
    exact = {m: Decimal(0) for m in (f"2024-{i:02d}" for i in range(1, 13))}
    for day, amount in rows.select("date", "amount").iter_rows():
        exact[day.strftime("%Y-%m")] += amount
    lines = 2 + len(report.COSTS)
    for month in year["months"]:
        assert abs(Decimal(month["net"]) - exact[month["month"]]) <= Decimal("0.005") * lines
    assert year["rows"] == year_ledger.rows().height
    assert sum(s["rows"] for s in year["sources"]) == year["rows"]


def _valued(clients: list[str], gross: str, fees: dict[str, str] | None = None
            ) -> pl.DataFrame:
    """Valued rows: one earning of `gross` per client (ref `r<i>`), and per client in `fees`
    a fee row without a counterparty that names the client's earning by its ref."""
    earnings = [(f"r{i}", None, c, gross, "earning") for i, c in enumerate(clients)]
    charged = [(None, f"r{clients.index(c)}", None, f"-{fee}", "platform_fee")
               for c, fee in (fees or {}).items()]
    return pl.DataFrame(
        [(dt.date(2024, 3, 1), "upwork", "upwork", kind, Decimal(value), None, client, ref,
          related, "source") for ref, related, client, value, kind in earnings + charged],
        schema={"date": pl.Date, "source": pl.String, "account": pl.String,
                "kind": pl.String, "value": pl.Decimal(38, 12), "hours": pl.Float64,
                "counterparty": pl.String, "ref": pl.String, "related_ref": pl.String,
                "origin": pl.String}, orient="row")


def test_equal_gross_is_ordered_by_name():
    names = [f"Client {i}" for i in (7, 3, 12, 1, 30, 22, 5, 18, 9, 2, 40, 11)]
    clients = breakdown.by_client(_valued(names, "100"), "USD")
    assert [c["client"] for c in clients] == sorted(names)
    valued = pl.concat([_valued(["a"], "50").with_columns(pl.lit(p).alias("source"))
                        for p in ("wise", "payoneer", "bank:meezan", "upwork", "paypal")])
    platforms = breakdown.by_platform(valued, "USD")
    assert [p["platform"] for p in platforms] == ["bank", "payoneer", "paypal", "upwork", "wise"]


def test_fee_owners_are_exact_when_every_hash_collides(monkeypatch):
    """A fee without a counterparty is charged to the client whose earning its related_ref
    names; with every (account, ref) hashed alike the strings decide, and the figures are
    the same."""
    valued = _valued(["Acme", "Beta", "Cato"], "100", {"Acme": "10", "Beta": "2.5"})
    expected = {"Acme": ("100.00", "10.00", "90.00"), "Beta": ("100.00", "2.50", "97.50"),
                "Cato": ("100.00", "0.00", "100.00")}

    def figures() -> dict:
        return {c["client"]: (c["gross"], c["fees"], c["net"])
                for c in breakdown.by_client(valued, "USD")}

    assert figures() == expected
    monkeypatch.setattr(breakdown, "_ref_key", lambda ref: pl.when(
        pl.col(ref).is_not_null()).then(pl.lit(1, dtype=pl.UInt64)).alias("_key"))
    assert figures() == expected


def _rows(items: list[tuple[str, str | None, str | None, str | None, str]]) -> pl.DataFrame:
    """Valued rows from (kind, ref, related_ref, counterparty, value), in that order."""
    return pl.DataFrame(
        [(dt.date(2024, 3, 1), "upwork", "upwork", kind, Decimal(value), None, client, ref,
          related, "source") for kind, ref, related, client, value in items],
        schema={"date": pl.Date, "source": pl.String, "account": pl.String,
                "kind": pl.String, "value": pl.Decimal(38, 12), "hours": pl.Float64,
                "counterparty": pl.String, "ref": pl.String, "related_ref": pl.String,
                "origin": pl.String}, orient="row")


def _owners_and_fees(valued: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """by_client's earnings with a ref, fees naming a ref and fees naming none."""
    fees = valued.filter(pl.col("kind") != "earning")
    named = pl.col("related_ref").is_not_null()
    return (valued.filter(pl.col("kind") == "earning").select("account", "ref", "counterparty"),
            fees.filter(named).select("account", "related_ref", "counterparty", "value"),
            fees.filter(~named).select("counterparty", "value"))


def _fees_by_client(valued: pl.DataFrame) -> dict[str, str]:
    return {c["client"]: c["fees"] for c in breakdown.by_client(valued, "USD")}


def test_fees_listed_beside_their_earnings_are_charged_without_a_join():
    """Each fee right after the earning it names (as PayPal and Upwork list them), one
    without a ref among them: charged to the earning's client, the fee without a ref to its
    own counterparty, as the join would."""
    valued = _rows([("earning", "r1", None, "Acme", "100"),
                    ("platform_fee", "f1", "r1", None, "-10"),
                    ("payment_fee", "p1", None, "Cato", "-1.50"),
                    ("earning", "r2", None, "Beta", "100"),
                    ("platform_fee", "f2", "r2", "Someone else", "-2.50")])
    owners, named, unnamed = _owners_and_fees(valued)
    assert breakdown._listed_together(owners, named)
    clients = breakdown._fee_clients(owners, named, unnamed)
    assert clients["client"].to_list() == ["Acme", "Beta", "Cato"]
    assert _fees_by_client(valued) == {"Acme": "10.00", "Beta": "2.50", "Cato": "1.50"}


def test_a_repeated_ref_charges_its_first_earning_as_the_join_does():
    """Two earnings with one ref and a fee after each naming it: both fees belong to the first
    earning (the join keeps the first), not one each as the order alone would say."""
    valued = _rows([("earning", "r1", None, "Acme", "100"),
                    ("platform_fee", "f1", "r1", None, "-10"),
                    ("earning", "r1", None, "Beta", "100"),
                    ("platform_fee", "f2", "r1", None, "-3")])
    owners, named, _ = _owners_and_fees(valued)
    assert not breakdown._listed_together(owners, named)
    assert _fees_by_client(valued) == {"Acme": "13.00", "Beta": "0.00"}


def test_increasing_refs_are_unique_without_hashing_them(monkeypatch):
    """Refs that strictly increase (an export numbering its rows) need no hash to be known
    unique; a ref repeated beside itself, or refs out of order, are still counted by hash."""
    assert breakdown._refs_increase(pl.Series(["r1", "r2", "r3"]))
    assert breakdown._refs_increase(pl.Series(["r1"]))
    assert not breakdown._refs_increase(pl.Series(["r1", "r1", "r2"]))
    assert not breakdown._refs_increase(pl.Series(["r2", "r1", "r3"]))
    valued = _rows([("earning", "r1", None, "Acme", "100"),
                    ("platform_fee", "f1", "r1", None, "-10"),
                    ("earning", "r2", None, "Beta", "100"),
                    ("platform_fee", "f2", "r2", None, "-3")])
    owners, named, unnamed = _owners_and_fees(valued)

    def no_hash(ref: str) -> pl.Expr:
        raise AssertionError("hashed refs that increase")

    monkeypatch.setattr(breakdown, "_ref_key", no_hash)
    assert breakdown._listed_together(owners, named)
    assert breakdown._fee_clients(owners, named, unnamed)["client"].to_list() == ["Acme", "Beta"]


def test_client_sums_given_or_not_the_clients_and_platforms_are_the_same():
    """by_client and by_platform read the same figures from `client_sums` handed to them (as
    the report does) as when they sum the rows themselves: gross net of a refund, hours, and
    the home platform of a client paid on two (most of their gross on wise)."""
    valued = _rows([("earning", "r1", None, "Acme", "100"),
                    ("refund", "r2", None, "Acme", "-30"),
                    ("earning", "r3", None, "Beta", "40")]).with_columns(
        pl.Series("hours", [2.0, None, 1.5]))
    valued = pl.concat([valued, _rows([("earning", "w1", None, "Acme", "500")]).with_columns(
        pl.lit("wise").alias("source"), pl.lit(3.0).alias("hours"))])
    sums = breakdown.client_sums(valued).collect()
    clients = breakdown.by_client(valued, "USD")
    assert [(c["client"], c["gross"], c["hours"]) for c in clients] == [
        ("Acme", "570.00", "5.00"), ("Beta", "40.00", "1.50")]
    assert breakdown.by_client(valued, "USD", clients=sums) == clients
    hours = {"Acme": 5.0, "Beta": 1.5}
    platforms = breakdown.by_platform(valued, "USD", hours)
    assert [(p["platform"], p["gross"], p["hours"]) for p in platforms] == [
        ("wise", "500.00", "5.00"), ("upwork", "110.00", "1.50")]
    assert breakdown.by_platform(valued, "USD", hours, clients=sums) == platforms


def test_counting_reconciles_the_same_hops_without_listing_money_in_transit():
    """What counting asks reconcile for (not itemised, the matched hops' fees only) is what
    `ledger reconcile` finds: the same chain and costs (the withdrawal fee of 2 on the
    matched withdrawal, not the 5 on the one still in transit), and the withdrawal in transit
    as a row of `transit` rather than a listed dict."""
    from ledger import reconcile as rc
    from ledger.reconcile.chains import hop_fees
    from rules.transfers import legs
    from tests.test_reconcile import JUNE, frame, row, upwork_to_payoneer

    rows = frame([
        *upwork_to_payoneer(),
        row("2024-06-20", "upwork", "transfer", "-400", "USD", category="withdrawal",
            ref="U3", description="Withdrawal Request: Payoneer"),
        row("2024-06-20", "upwork", "payment_fee", "-5", "USD", category="withdrawal_fee",
            ref="U4", description="Withdrawal Fee")])
    as_of = dt.date(2024, 7, 1)
    listed = rc.reconcile(rows, JUNE, rc.settings({}), as_of=as_of)
    counted = rc.reconcile(rows, JUNE, rc.settings({}), as_of=as_of, itemised=False)
    assert [c.costs for c in counted.chains] == [c.costs for c in listed.chains]
    assert counted.chains[0].costs["withdrawal_fee"] == Decimal("2")
    assert counted.pairs == listed.pairs and len(counted.pairs) == 1
    assert [t["amount"] for t in listed.in_transit] == [Decimal("400")]
    assert counted.in_transit == [] and counted.transit.sort("date", "id").equals(listed.transit)
    outs, ins = legs(rows, rc.settings({}))
    hopped = pl.Series([counted.pairs[0][0], counted.pairs[0][1]])
    every = hop_fees(rows, outs, ins)
    assert sorted(every["fee"].to_list()) == [Decimal("2"), Decimal("5")]
    assert hop_fees(rows, outs, ins, only=hopped).equals(
        every.filter(pl.col("anchor").is_in(hopped.implode())))
    assert hop_fees(rows, outs, ins, only=hopped.clear()).is_empty()


def test_withdrawals_with_no_credit_anywhere_are_all_unmatched():
    """No credit in the ledger (a platform's export alone): nothing is matched, every
    withdrawal is left unmatched, and the frames have the columns a search that found
    nothing gives (here: a credit too small for either withdrawal)."""
    from ledger import reconcile as rc
    from rules.transfers import legs, match
    from tests.test_reconcile import frame, row

    outs_only = frame([
        row("2024-06-03", "upwork", "transfer", "-1000", "USD", category="withdrawal",
            ref="U1", description="Withdrawal Request: Payoneer"),
        row("2024-06-20", "upwork", "transfer", "-400", "USD", category="withdrawal",
            ref="U3", description="Withdrawal Request: Payoneer")])
    with_credit = pl.concat([outs_only, frame([row("2024-06-21", "payoneer", "transfer", "3",
                                                   "USD", ref="P9", description="Refund")])])
    none = match(outs_only, rc.settings({}))
    searched = match(with_credit, rc.settings({}))
    assert none.hops.is_empty() and none.ambiguous.is_empty() and none.warnings == []
    assert none.hops.schema == searched.hops.schema
    assert none.ambiguous.schema == searched.ambiguous.schema
    outs, _ = legs(outs_only, rc.settings({}))
    assert none.unmatched_out.equals(outs) and none.unmatched_in.is_empty()
    assert searched.unmatched_out.sort("out_id").equals(none.unmatched_out.sort("out_id"))


def test_the_streaming_engine_counts_what_the_in_memory_one_does(year_ledger, monkeypatch):
    """Large plans run on the streaming engine (schema.engine_for): on every plan it takes,
    a year's report is the in-memory engine's, figure for figure."""
    from ledger.core import schema

    monkeypatch.setattr(schema, "STREAM_IDS_FROM", 10**12)
    assert schema.engine_for(10**6) == "in-memory"
    in_memory = report.build(year_ledger, year=2024)
    monkeypatch.setattr(schema, "STREAM_IDS_FROM", 0)
    assert schema.engine_for(1) == "streaming"
    assert report.build(year_ledger, year=2024) == in_memory


def test_fees_matched_row_for_row_are_charged_as_the_join_charges_them(monkeypatch):
    """by_client's fees per client are the same whether the fees listed beside their earnings
    are matched row for row or joined (`_listed_together` refused): a fee with a ref, one
    naming no ref, one naming a ref no earning has, a fee with its own counterparty."""
    valued = _rows([("earning", "r1", None, "Acme", "100"),
                    ("platform_fee", "f1", "r1", "Someone else", "-10"),
                    ("payment_fee", "p1", None, "Cato", "-1.50"),
                    ("tax", "t1", None, None, "-0.25"),
                    ("earning", "r2", None, "Beta", "100"),
                    ("platform_fee", "f2", "r2", None, "-2.50")])
    owners, named, _ = _owners_and_fees(valued)
    assert breakdown._listed_together(owners, named)
    fast = breakdown.by_client(valued, "USD")
    monkeypatch.setattr(breakdown, "_listed_together", lambda owners, named: False)
    assert breakdown.by_client(valued, "USD") == fast
    orphan = _rows([("earning", "r1", None, "Acme", "100"),
                    ("platform_fee", "f1", "r9", "Dora", "-4")])
    assert {c["client"]: c["fees"] for c in breakdown.by_client(orphan, "USD")} == {
        "Acme": "0.00", "Dora": "4.00"}


def test_refs_in_falling_runs_that_do_not_overlap_are_unique_without_hashing_them():
    """Each day's refs newest first (Upwork's order): runs of falling refs whose ranges do not
    overlap are unique; a ref repeated in another run, a run reaching into the next one's
    range, or a ref repeated beside itself are not proven so (counted by hash)."""
    def unique(refs: list[str]) -> bool:
        return breakdown._refs_unique(pl.Series(refs))

    assert unique(["r3", "r2", "r1", "r6", "r5", "r4", "r9", "r8"])
    assert unique(["r6", "r5", "r4", "r3", "r2", "r1"]) and unique(["r1"])
    assert unique(["r1", "r2", "r3"])  # increasing: one check
    assert not unique(["r3", "r2", "r1", "r6", "r2", "r0"])  # r2 twice
    assert not unique(["r3", "r2", "r1", "r4", "r3"])  # r3 twice, ranges overlap
    assert not unique(["r5", "r2", "r4", "r3"])  # ranges overlap, no repeat: not proven
    assert not unique(["r3", "r3", "r2"])
    assert not unique(["r2", "r2"])
    many = [f"r{i:03d}" for i in range(64)]  # a run per ref: given up on, hashed instead
    assert not unique(many[::2] + many[1::2])  # unique, but not proven by order
