"""`ledger batch` values a chunk's rows in USD with one FxChain lookup (ledger/batch/fx.py):
each worker must get exactly what its own chain (its conversions, then the references) gives.

Figures by hand: ECB's EUR->USD of 2024-03-15 is 1.0892 (rules/data, as FxChain reads it);
its first rate is of 2000-01-03 (1.0090), so a row of 1998 has no reference within the
staleness window and a worker's own conversion rate (1.1000) decides it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl

from ledger.batch.counting import Counted
from ledger.batch.fx import cached_reference, in_local, value_chunk
from rules.fx import FxChain
from rules.fx_reference import _table


def _worker(rows: list[tuple[dt.date, str, str]], own: list[tuple[dt.date, str]]) -> Counted:
    """A counted worker of (date, amount, currency) earnings; `own`: its conversions'
    EUR->USD rates (date, rate)."""
    counted = pl.DataFrame(
        [(d, "earning", Decimal(a), c, "Client", None, "paypal", n)
         for n, (d, a, c) in enumerate(rows, 2)], orient="row",
        schema={"date": pl.Date, "kind": pl.String, "amount": pl.Decimal(38, 2),
                "currency": pl.String, "counterparty": pl.String, "hours": pl.Float64,
                "source": pl.String, "line": pl.Int64})
    implied = _table([{"date": d, "from": "EUR", "to": "USD", "rate": Decimal(r),
                       "provider": "implied", "detail": "own conversion"} for d, r in own])

    def chain() -> FxChain:
        built = FxChain([implied])
        built.reference = cached_reference
        return built

    return Counted(usd=None, counted=counted, sheet=pl.DataFrame(), country="DE", local="EUR",
                   has_local=False, first=rows[0][0], last=rows[-1][0], rows=len(rows),
                   chain=chain, own_rates=bool(own))


def test_each_worker_gets_its_own_chains_values_from_the_shared_lookup():
    march, old = dt.date(2024, 3, 15), dt.date(1998, 6, 1)
    items = [
        _worker([(march, "100.00", "EUR"), (march, "5.00", "USD")], []),
        # its own rate (1.5) ranks below ECB's of the same day: ECB's counts
        _worker([(march, "10.00", "EUR")], [(march, "1.5")]),
        # no reference within 7 days of 1998-06-01: its own rate counts, not ECB's of 2000
        _worker([(old, "10.00", "EUR")], [(old, "1.1")]),
        # no rate of its own: the nearest reference of any age (2000-01-03, 1.0090)
        _worker([(old, "10.00", "EUR")], []),
        _worker([(march, "7.00", "USD")], []),
    ]
    assert value_chunk(items) == {}
    values = [[str(v) for v in item.usd["value"].cast(pl.Decimal(38, 6))] for item in items]
    assert values == [["108.920000", "5.000000"], ["10.892000"], ["11.000000"],
                      ["10.090000"], ["7.000000"]]
    for item in items:  # what each worker's own chain gives
        alone = item.chain().convert(item.counted, "USD", where="worker").rows
        assert alone["value"].cast(pl.Decimal(38, 6)).to_list() == \
            item.usd["value"].cast(pl.Decimal(38, 6)).to_list()
    assert [item.has_local for item in items] == [True] * 5


def test_a_worker_without_any_rate_fails_alone_with_its_row_named():
    items = [_worker([(dt.date(2024, 3, 15), "1.00", "EUR")], []),
             _worker([(dt.date(2024, 3, 15), "1.00", "XQQ")], [])]
    failed = value_chunk(items)
    assert list(failed) == [1]
    assert "no XQQ->USD rate for 2024-03-15" in failed[1].message
    assert "paypal line 2" in failed[1].message
    assert str(items[0].usd["value"][0]) == "1.089200000000"


def test_local_values_take_the_references_usd_rate_nearest_each_date():
    """USD->EUR of 2024-03-15 is 1/1.0892 (the inverse of ECB's EUR->USD), 12 places."""
    usd = pl.DataFrame({"date": [dt.date(2024, 3, 15)] * 2, "currency": ["USD", "EUR"],
                        "amount": [Decimal("10.89"), Decimal("3.00")],
                        "value": [Decimal("10.89"), Decimal("3.2676")]},
                       schema={"date": pl.Date, "currency": pl.String,
                               "amount": pl.Decimal(38, 2), "value": pl.Decimal(38, 12)})
    got = in_local(usd, "EUR")["value"].to_list()
    rate = (Decimal(1) / Decimal("1.0892")).quantize(Decimal("1e-12"))
    assert got == [(Decimal("10.89") * rate).quantize(Decimal("1e-12")), Decimal("3.00")]
