"""Crossing through a pivot: a currency ECB quotes against EUR reaches USD via EUR."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl

from ledger.core import schema
from rules.fx import FxChain


def test_inr_to_usd_crosses_through_eur_although_usd_is_itself_a_pivot(tmp_path: Path):
    chain = FxChain.for_ledger(schema.empty(), tmp_path / "rates.csv")
    needs = pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["INR"]})
    found = chain.lookup(needs, "USD").row(0, named=True)
    eur_usd = chain.lookup(pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["EUR"]}),
                           "USD").row(0, named=True)["rate"]
    eur_inr = chain.lookup(pl.DataFrame({"date": [dt.date(2024, 6, 3)], "currency": ["EUR"]}),
                           "INR").row(0, named=True)["rate"]
    assert found["provider"] == "ecb×ecb"
    assert abs(Decimal(found["rate"]) - Decimal(eur_usd) / Decimal(eur_inr)) < Decimal("1e-9")


def test_rates_for_gives_one_for_the_target_a_crossed_rate_and_leaves_out_the_unknown():
    day = dt.date(2024, 6, 3)
    table = pl.DataFrame(
        {"date": [day, day], "from": ["PKR", "USD"], "to": ["USD", "EUR"],
         "rate": [Decimal("0.0036"), Decimal("0.92")], "provider": ["user", "user"],
         "detail": ["rates.csv:2", "rates.csv:3"]},
        schema={"date": pl.Date, "from": pl.String, "to": pl.String,
                "rate": pl.Decimal(38, 12), "provider": pl.String, "detail": pl.String})
    rates = FxChain([table]).rates_for({(day, "EUR"), (day, "PKR"), (day, "XOF")}, "EUR")
    # PKR->EUR crosses USD: 0.0036 × 0.92; XOF has no rate and is left out
    assert rates == {(day, "EUR"): Decimal(1), (day, "PKR"): Decimal("0.003312")}


def test_one_lookup_mixes_direct_both_pivots_and_missing():
    """Each need gets the first of: its direct rate, crossed through USD, through EUR; a need
    no tier has stays with a null rate. The rates are indexed once, when first looked up."""
    day = dt.date(2024, 6, 3)
    rows = [("GBP", "PKR", "350"),  # direct
            ("CHF", "USD", "1.1"), ("USD", "PKR", "278"),  # CHF crosses USD
            ("SEK", "EUR", "0.09"), ("EUR", "PKR", "300")]  # SEK crosses EUR (no SEK->USD)
    table = pl.DataFrame(
        {"date": [day] * len(rows), "from": [f for f, _, _ in rows],
         "to": [t for _, t, _ in rows], "rate": [r for _, _, r in rows],
         "provider": ["user"] * len(rows), "detail": [f"rates.csv:{i + 2}" for i in range(5)]}
    ).with_columns(pl.col("rate").cast(pl.Decimal(38, 12)))
    chain = FxChain([table])
    needs = pl.DataFrame({"date": [day] * 4, "currency": ["GBP", "CHF", "SEK", "XOF"]})
    found = {r["currency"]: r for r in chain.lookup(needs, "PKR").iter_rows(named=True)}
    assert chain.rates is chain.rates  # built once, kept until a table is added
    assert {c: (found[c]["rate"], found[c]["provider"]) for c in found} == {
        "GBP": (Decimal("350"), "user"),
        "CHF": (Decimal("305.8"), "user×user"),  # 1.1 × 278
        "SEK": (Decimal("27"), "user×user"),  # 0.09 × 300
        "XOF": (None, None)}
    assert found["SEK"]["detail"] == "rates.csv:5 × rates.csv:6"


def test_the_ecb_text_is_kept_unzipped_and_a_damaged_copy_is_passed_over(tmp_path: Path,
                                                                         monkeypatch):
    from rules import fx_reference as fx

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    fx._ecb_csv.cache_clear()
    try:
        text = fx._ecb_csv()
        assert text.startswith(b"Date,USD,") and b"2024-06-03," in text
        kept = list((tmp_path / "freelance-ledger").iterdir())
        assert len(kept) == 1 and kept[0].read_bytes() == text
        kept[0].write_bytes(text.replace(b"2024-06-03", b"2024-06-04", 1))  # same size
        fx._ecb_csv.cache_clear()
        assert fx._ecb_csv() == text  # the CRC differs: unzipped again, and kept again
        assert kept[0].read_bytes() == text
    finally:
        fx._ecb_csv.cache_clear()


def test_money_in_transit_is_valued_in_one_lookup_exactly_and_names_each_unvalued_row():
    """The report's chains summary values a year's withdrawals in transit as columns
    (ledger.reconcile._transit_value), with the old item-by-item result: each amount times
    its date's rate, exact to the last digit, and one warning per withdrawal without a rate,
    in the withdrawals' (date, id) order however the columns are ordered (a report's are
    not sorted). A Result made by hand (no columns) gives the same."""
    from ledger.reconcile import Result, _transit_frame, _transit_value
    from ledger.reconcile import settings as reconcile_settings

    day, later = dt.date(2024, 6, 3), dt.date(2024, 6, 4)
    table = pl.DataFrame(
        {"date": [day, later], "from": ["PKR", "PKR"], "to": ["USD", "USD"],
         "rate": ["0.003591234567", "0.003587654321"], "provider": ["user"] * 2,
         "detail": ["rates.csv:2", "rates.csv:3"]}).with_columns(
        pl.col("rate").cast(pl.Decimal(38, 12)))
    chain = FxChain([table])
    items = [(day, "PKR", "278512.3456"), (later, "XOF", "5000"), (later, "USD", "12.5"),
             (later, "PKR", "1000.0001"), (day, "XOF", "1")]
    result = Result((day, later), later, [], [
        {"date": d.isoformat(), "currency": c, "amount": Decimal(a), "status": "in_transit",
         "id": f"w{i}"} for i, (d, c, a) in enumerate(items)], [], [], reconcile_settings({}))
    expected = (Decimal("278512.3456") * Decimal("0.003591234567") + Decimal("12.5")
                + Decimal("1000.0001") * Decimal("0.003587654321"))
    total, unvalued = _transit_value(_transit_frame(result), "USD", chain)
    assert total == expected  # 1000.2057... exact: no digit of the products rounded
    assert unvalued == [(day, "XOF"), (later, "XOF")]
    assert _transit_value(_transit_frame(result).reverse(), "USD", chain) == (total, unvalued)
    assert _transit_value(_transit_frame(result).head(0), "USD", chain) == (Decimal(0), [])


# --- h31report: lookups load only new days and answer repeated pairs from memory ------------


def _user_table(rows: list[tuple[dt.date, str, str, str]], provider: str = "user"
                ) -> pl.DataFrame:
    return pl.DataFrame(
        {"date": [d for d, *_ in rows], "from": [f for _, f, _, _ in rows],
         "to": [t for _, _, t, _ in rows], "rate": [r for *_, r in rows],
         "provider": [provider] * len(rows), "detail": [f"t:{i}" for i in range(len(rows))]},
        schema={"date": pl.Date, "from": pl.String, "to": pl.String, "rate": pl.String,
                "provider": pl.String, "detail": pl.String}
    ).with_columns(pl.col("rate").cast(pl.Decimal(38, 12)))


def test_spans_left_to_load_and_spans_merged():
    from rules.fx import _gaps, _merged

    d = dt.date
    assert _gaps([], d(2024, 1, 1), d(2024, 1, 10)) == [(d(2024, 1, 1), d(2024, 1, 10))]
    assert _gaps([(d(2024, 1, 3), d(2024, 1, 5))], d(2024, 1, 1), d(2024, 1, 10)) == [
        (d(2024, 1, 1), d(2024, 1, 2)), (d(2024, 1, 6), d(2024, 1, 10))]
    assert _gaps([(d(2023, 12, 1), d(2024, 1, 10))], d(2024, 1, 1), d(2024, 1, 10)) == []
    assert _merged([(d(2024, 1, 8), d(2024, 2, 1)), (d(2023, 1, 3), d(2024, 1, 7)),
                    (d(2025, 1, 1), d(2025, 1, 2))]) == [
        (d(2023, 1, 3), d(2024, 2, 1)), (d(2025, 1, 1), d(2025, 1, 2))]


def test_a_lookup_loads_only_the_years_earlier_ones_did_not_and_a_new_rate_is_seen():
    """Reference rates are loaded for the calendar years of a lookup's days +- stale_days,
    less what is loaded already, so later lookups of the same year load nothing; a pair asked
    again is answered from memory until a load adds rates: then it is asked of the rates
    again. Here 2024-12-20 first finds the ECB rate of 2024-06-09 (stale, but more trusted
    than the implied one); the load for 2024-12-30 reaches into 2025, brings the rate of
    2025-01-02, and 2024-12-20 is then valued with that nearer one."""
    calls: list[tuple[frozenset, dt.date, dt.date]] = []
    ecb = {dt.date(2024, 6, 9): "2.5", dt.date(2025, 1, 2): "3"}

    def reference(currencies: set[str], start: dt.date, end: dt.date) -> pl.DataFrame:
        calls.append((frozenset(currencies), start, end))
        return _user_table([(d, "GBP", "USD", r) for d, r in ecb.items() if start <= d <= end],
                           provider="ecb")

    chain = FxChain([_user_table([(dt.date(2024, 5, 20), "GBP", "USD", "1.4")],
                                 provider="implied")])
    chain.reference = reference
    december_20 = pl.DataFrame({"date": [dt.date(2024, 12, 20)], "currency": ["GBP"]})
    first = chain.lookup(december_20, "USD").row(0, named=True)
    assert calls == [(frozenset({"GBP", "USD", "EUR"}), dt.date(2024, 1, 1),
                      dt.date(2024, 12, 31))]
    assert (first["rate"], first["provider"], first["rate_date"]) == (
        Decimal("2.5"), "ecb", dt.date(2024, 6, 9))
    june_1 = pl.DataFrame({"date": [dt.date(2024, 6, 1)], "currency": ["GBP"]})
    assert chain.lookup(june_1, "USD")["rate"][0] == Decimal("2.5")  # in the year loaded
    assert chain.lookup(december_20, "USD").row(0, named=True) == first and len(calls) == 1
    later = chain.lookup(pl.DataFrame({"date": [dt.date(2024, 12, 30)], "currency": ["GBP"]}),
                         "USD")
    # only the year the first load did not cover: 2025
    assert calls[1] == (frozenset({"GBP", "USD", "EUR"}), dt.date(2025, 1, 1),
                        dt.date(2025, 12, 31))
    assert (later["rate"][0], later["provider"][0]) == (Decimal("3"), "ecb")
    again = chain.lookup(december_20, "USD").row(0, named=True)
    assert len(calls) == 2
    assert (again["rate"], again["provider"], again["rate_date"]) == (
        Decimal("3"), "ecb", dt.date(2025, 1, 2))


def test_on_or_before_takes_the_last_rate_not_a_later_nearer_one():
    """A value "on that day" (the tax register's year end) takes the latest rate dated on or
    before the day, even when a later one is nearer; crossed legs too. The nearest-date
    lookup of the same chain is unchanged, and neither answer is remembered for the other."""
    before, day, after = dt.date(2024, 6, 24), dt.date(2024, 6, 30), dt.date(2024, 7, 1)
    rows = [(before, "USD", "PKR", "278.45"), (after, "USD", "PKR", "278.40"),
            (before, "CHF", "USD", "1.10"), (after, "CHF", "USD", "1.20")]
    table = pl.DataFrame(
        {"date": [d for d, *_ in rows], "from": [f for _, f, _, _ in rows],
         "to": [t for _, _, t, _ in rows], "rate": [r for *_, r in rows],
         "provider": ["user"] * len(rows), "detail": [f"rates.csv:{i + 2}" for i in range(4)]}
    ).with_columns(pl.col("rate").cast(pl.Decimal(38, 12)))
    chain = FxChain([table])
    needs = pl.DataFrame({"date": [day, day], "currency": ["USD", "CHF"]})

    def answers(**kw: bool) -> dict:
        return {r["currency"]: (r["rate"], r["rate_date"])
                for r in chain.lookup(needs, "PKR", **kw).iter_rows(named=True)}

    nearest = answers()
    assert nearest == {"USD": (Decimal("278.40"), after),
                       "CHF": (Decimal("1.2") * Decimal("278.4"), after)}
    assert answers(on_or_before=True) == {
        "USD": (Decimal("278.45"), before), "CHF": (Decimal("1.1") * Decimal("278.45"), before)}
    assert answers() == nearest
    # a day with its own rate takes it
    own = chain.lookup(pl.DataFrame({"date": [after], "currency": ["USD"]}), "PKR",
                       on_or_before=True).row(0, named=True)
    assert (own["rate"], own["rate_date"]) == (Decimal("278.40"), after)


def _implied(*rows: tuple[dt.date, str, str, str], provider: str = "implied") -> pl.DataFrame:
    return pl.DataFrame(
        {"date": [r[0] for r in rows], "from": [r[1] for r in rows],
         "to": [r[2] for r in rows], "rate": [Decimal(r[3]) for r in rows],
         "provider": [provider] * len(rows), "detail": ["wise conversion"] * len(rows)},
        schema={"date": pl.Date, "from": pl.String, "to": pl.String,
                "rate": pl.Decimal(38, 12), "provider": pl.String, "detail": pl.String})


def test_a_reference_cross_beats_a_rate_the_users_own_conversions_imply(tmp_path: Path):
    """USD->PHP: the ECB has only EUR->USD and EUR->PHP. A Philippine freelancer's own
    USD->PHP conversion (55.00, a spread below the mid) was taken as the mid rate for its own
    day, hiding the spread, and for days 90 away; the reference cross is taken, as for a pair
    the ECB has directly. Where no reference has the pair, the implied rate still serves, and
    a rate of the user's own rates.csv still beats every other."""
    chain = FxChain.for_ledger(schema.empty(), tmp_path / "rates.csv")
    june, march = dt.date(2024, 6, 3), dt.date(2024, 3, 5)
    chain.tables.append(_implied((june, "USD", "PHP", "55.00"), (june, "USD", "XTS", "600")))
    chain._index()
    needs = pl.DataFrame({"date": [june, march], "currency": ["USD", "USD"]})
    for got in chain.lookup(needs, "PHP").to_dicts():
        assert got["provider"] == "ecb×ecb" and got["rate_date"] == got["date"], got
        assert Decimal("55.5") < got["rate"] < Decimal("60"), got  # the mid, not 55.00
    # XTS (ISO's code for testing): no reference has it, so its implied rate serves
    usd = chain.lookup(pl.DataFrame({"date": [june], "currency": ["USD"]}), "XTS")
    assert usd.row(0, named=True)["provider"] == "implied"
    chain.tables.append(_implied((june, "USD", "PHP", "56.10"), provider="user"))
    chain._index()
    mine = chain.lookup(pl.DataFrame({"date": [june], "currency": ["USD"]}), "PHP")
    assert mine.row(0, named=True)["rate"] == Decimal("56.10")  # rates.csv
