"""Seeded generators of large exports in the real layouts, for `make bench`.

Vectorised with polars so a million rows take a second or two; balances are consistent so
the importers' running-balance checks pass, as they must on real files.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

START = dt.date(2024, 1, 1)


def _amounts(rows: int, seed: int, low: int, high: int) -> pl.Series:
    """Random cents in [low, high) as an Int64 series (cents: exact, no float)."""
    import random

    rng = random.Random(seed)
    return pl.Series("cents", [rng.randrange(low, high) for _ in range(rows)], dtype=pl.Int64)


def _fmt_cents(cents: pl.Expr, grouping: bool = False) -> pl.Expr:
    """Cents as a decimal string (`-1,234.56` with grouping)."""
    sign = pl.when(cents < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    absolute = cents.abs()
    units = (absolute // 100).cast(pl.String)
    if grouping:
        units = (units.str.reverse().str.replace_all(r"(\d{3})", "$1,")
                 .str.strip_chars_end(",").str.reverse())
    frac = (absolute % 100).cast(pl.String).str.zfill(2)
    return pl.concat_str([sign, units, pl.lit("."), frac])


def write_paypal(path: Path, rows: int, seed: int = 7, start: dt.date = START,
                 days: int = 366) -> Path:
    """A PayPal Activity download: payments from clients with fees, and periodic withdrawals,
    spread over `days` days from `start` (a year from 2024 unless told)."""
    gross = _amounts(rows, seed, 500, 200_000)
    index = pl.int_range(0, rows, eager=True)
    df = pl.DataFrame({"i": index, "gross": gross})
    withdrawal = (pl.col("i") % 10) == 9
    df = df.with_columns(
        gross=pl.when(withdrawal).then(-pl.col("gross") * 5).otherwise(pl.col("gross")),
        fee=pl.when(withdrawal).then(0).otherwise(-(pl.col("gross") * 44 // 1000 + 30)),
    ).with_columns(net=pl.col("gross") + pl.col("fee"))
    df = df.with_columns(balance=pl.col("net").cum_sum() + 10_000_000_00)
    day = (pl.col("i") * days // rows).cast(pl.Int32)
    out = df.select(
        Date=(pl.lit(start) + pl.duration(days=day)).dt.strftime("%d/%m/%Y"),
        Time=pl.lit("10:00:00"),
        TimeZone=pl.lit("PDT"),
        Name=pl.when(withdrawal).then(pl.lit("")).otherwise(
            pl.lit("Client ") + (pl.col("i") % 997).cast(pl.String)),
        Type=pl.when(withdrawal).then(pl.lit("General Withdrawal"))
        .otherwise(pl.lit("General Payment")),
        Status=pl.lit("Completed"),
        Currency=pl.lit("USD"),
        Gross=_fmt_cents(pl.col("gross"), True),
        Fee=_fmt_cents(pl.col("fee"), True),
        Net=_fmt_cents(pl.col("net"), True),
        **{"From Email Address": pl.lit("client@example.com"),
           "To Email Address": pl.lit("me@example.com"),
           "Transaction ID": pl.lit("T") + pl.col("i").cast(pl.String).str.zfill(16),
           "Reference Txn ID": pl.lit(""),
           "Balance": _fmt_cents(pl.col("balance"), True),
           "Balance Impact": pl.when(withdrawal).then(pl.lit("Debit"))
           .otherwise(pl.lit("Credit"))},
    )
    out.write_csv(path, quote_style="always")
    return path


def write_upwork(path: Path, rows: int, seed: int = 11, start: dt.date = START,
                 days: int = 366) -> Path:
    """An Upwork classic transaction history, newest first: hourly invoices with 10% service
    fees, withdrawals with their fee, over `days` days from `start`."""
    pairs = rows // 2
    amount = _amounts(pairs, seed, 1_000, 100_000)
    index = pl.int_range(0, pairs, eager=True)
    base = pl.DataFrame({"i": index, "amount": amount})
    withdrawal = (pl.col("i") % 8) == 7
    first = base.select(
        "i", pl.lit(0).alias("leg"),
        pl.when(withdrawal).then(-pl.col("amount") * 3).otherwise(pl.col("amount"))
        .alias("cents"),
        pl.when(withdrawal).then(pl.lit("Withdrawal")).otherwise(pl.lit("Hourly")).alias("type"))
    second = base.select(
        "i", pl.lit(1).alias("leg"),
        pl.when(withdrawal).then(pl.lit(-99)).otherwise(-(pl.col("amount") // 10)).alias("cents"),
        pl.when(withdrawal).then(pl.lit("Withdrawal Fee")).otherwise(pl.lit("Service Fee"))
        .alias("type"))
    df = pl.concat([first, second]).sort("i", "leg")
    df = df.with_columns(balance=pl.col("cents").cum_sum() + 5_000_000_00,
                         ref=(pl.int_range(0, pl.len()) + 600_000_000).cast(pl.String))
    day = (pl.col("i") * days // pairs).cast(pl.Int32)
    earning_ref = pl.col("ref").shift(1)
    out = df.select(
        Date=(pl.lit(start) + pl.duration(days=day)).dt.strftime("%b %-d, %Y"),
        **{"Ref ID": pl.col("ref")},
        Type=pl.col("type"),
        Description=pl.when(pl.col("type") == "Hourly")
        .then(pl.lit("Invoice for 01/01/2024-01/07/2024 - 10:30 hrs @ $20.00/hr"))
        .when(pl.col("type") == "Service Fee").then(pl.lit("Service Fee - Ref ID ") + earning_ref)
        .otherwise(pl.col("type")),
        Agency=pl.lit(""),
        Freelancer=pl.lit("Jane Doe"),
        Team=pl.when(pl.col("type").is_in(["Hourly", "Service Fee"]))
        .then(pl.lit("Client ") + (pl.col("i") % 499).cast(pl.String)).otherwise(pl.lit("")),
        **{"Account Name": pl.lit("Jane Doe")},
        PO=pl.lit(""),
        Amount=_fmt_cents(pl.col("cents")),
        **{"Amount in local currency": pl.lit(""), "Currency": pl.lit("")},
        Balance=_fmt_cents(pl.col("balance")),
    ).reverse()
    out.write_csv(path)
    return path
