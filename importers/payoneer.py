"""Payoneer transactions CSV: the current 17-column layout and the older 12-column one.

Amounts come split into unsigned `Credit Amount` / `Debit Amount` (signed = credit - debit) and
one file may mix currency balances, so the running balance is checked per currency. Rows are
classified from the description:
- fees (`Withdrawal fee`, `Annual account fee`, `Receiving fee`, `... charge`) are
  `payment_fee`, linked to the row they were charged on when the export shows it: a Reference ID
  naming it, or the one other row with the same date and time;
- card rows (`Card charge ...`, or a Store Name) are `expense`;
- currency moves (`USD to EUR` with two known codes, `currency conversion`) are `fx` legs, and the
  two legs of one conversion (same date and time, opposite signs) point at each other;
- withdrawals to a bank are `transfer` out (category `withdrawal`);
- receipts (`Payment from X`) are `transfer` in (category `receipt`) when X is a platform whose
  own export this ledger imports (Upwork, Fiverr, Freelancer) or the user's own wallet (PayPal,
  Wise, Payoneer): the earning and its fees are booked from that export. From anyone else
  (a client paying through Payoneer) the receipt is an `earning` with X as counterparty.
Anything else imports as `other`, with a warning.

`Transfer Amount` / `Transfer Amount Currency` (e.g. PKR delivered for a USD withdrawal) never
touch the balance; they stay in the description as `[delivered 278500.00 PKR]` on debits and
`[sent 12.00 EUR]` on credits (regex `\\[(delivered|sent) (\\S+) ([A-Z]{3})\\]`) so reconciliation
can read them. A Reference ID no other row explains is kept as `[reference R]`.

Only `Completed` rows are booked; other known statuses are counted as skipped, an unknown one is
an error (so a status that did move money is never silently dropped).

Assumptions (the layout is confirmed, these values are not): dates are month-first as in the
public mapping (a first part above 12 proves day-first; `--date-order dmy` forces it; ISO dates
from re-saved files are accepted); status words other than `Completed`; description wording of
fees, card rows and conversions; fee rows carrying the time (or Reference ID) of what they
charged. A Transaction ID may in principle be shared by a transaction and its fee, so the row
key is (Transaction ID, currency, amount), numbered if that still repeats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    finalize,
    nonblank,
    parse_dates,
    parse_money,
)
from importers.readers import LINE, RawFile, read_table
from ledger.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "payoneer"

HEADER = {"transaction date", "transaction time", "credit amount", "debit amount",
          "running balance"}

BOOKED = {"completed"}
NOT_BOOKED = {"pending", "in process", "in progress", "processing", "scheduled", "on hold",
              "cancelled", "canceled", "failed", "declined", "rejected", "returned"}
"""Statuses of rows that did not (yet) move money: counted as skipped, not booked."""

PLATFORMS = (r"(?i)\b(upwork|elance|odesk|fiverr|freelancer|payoneer|paypal|transferwise"
             r"|wise (payments|us|europe))\b")
"""Payers whose receipts are the user's own money arriving (see the module docstring)."""

FEE_CATEGORIES: list[tuple[str, str]] = [
    (r"withdraw", "withdrawal_fee"),
    (r"annual|yearly|maintenance|inactiv|account fee", "account_fee"),
    (r"receiv|incoming|load", "receiving_fee"),
    (r"conversion|currency|exchange", "conversion_fee"),
    (r"\batm\b", "atm_fee"),
    (r"\bcard\b", "card_fee"),
    (r"transfer|payment", "transfer_fee"),
]
"""Lower-cased fee description -> category; first match wins, else `payoneer_fee`."""

FEE = r"\bfees?\b"
CARD = r"\bcard\b|\bpos\b|\bpurchase\b"
ATM = r"\batm\b|cash withdrawal"
CHARGE = r"\bcharges?\b"
CONVERSION = r"currency conversion|\bconver(ted|sion)\b|\bexchange\b"
PAIR = r"\b([A-Z]{3}) to ([A-Z]{3})\b"
WITHDRAWAL = r"to bank|bank account|withdraw|bank transfer|to local bank"
RECEIPT = r"payments? from|received from|transfer from|funds from|payout from|deposit from"
SENT = r"payment to|sent to|transfer to"


def _is_payoneer(cells: set[str]) -> bool:
    return cells >= HEADER


def detect(raw: RawFile) -> bool:
    return raw.header_index(_is_payoneer) == 0


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    table = read_table(raw, 0)
    table.require("transaction date", "transaction time", "description", "credit amount",
                  "debit amount", "currency", "status", "running balance")
    path = raw.path
    df = table.df
    rows_read = df.height
    df = df.with_columns(
        date=parse_dates(df, pl.col("transaction date"), _date_formats(df, options), path=path,
                         what="Transaction Date",
                         hint="Payoneer writes dates month-first (06/28/2024); if this file is "
                         "day-first, pass --date-order dmy"),
        credit=parse_money(df, pl.col("credit amount"), path=path, what="Credit Amount",
                           required=False),
        debit=parse_money(df, pl.col("debit amount"), path=path, what="Debit Amount",
                          required=False),
        balance=parse_money(df, pl.col("running balance"), path=path, what="Running Balance",
                            required=False),
        transfer=parse_money(df, table.col("transfer amount"), path=path,
                             what="Transfer Amount", required=False),
        currency=pl.col("currency").str.strip_chars().str.to_uppercase(),
        status=pl.col("status").str.strip_chars(),
        text=pl.coalesce(nonblank(pl.col("description")), pl.lit("")),
        ref=nonblank(table.col("transaction id")),
        reference_id=nonblank(table.col("reference id")),
        _ts=pl.concat_str([pl.col("transaction date").str.strip_chars(),
                           pl.col("transaction time").str.strip_chars()], separator=" "),
    )
    _check_statuses(df, path)
    booked = pl.col("status").str.to_lowercase().is_in(sorted(BOOKED))
    skipped = {f"status {k}": int(v) for k, v in
               df.filter(~booked)["status"].value_counts(sort=True).iter_rows()}
    df = df.filter(booked)
    _check_amounts(df, path)
    df = df.with_columns(amount=pl.col("credit").fill_null(0) - pl.col("debit").fill_null(0))
    check_running_balance(df, path=path, group=["currency"])
    df = _transfer_tag(df, table, path)

    kind, category = _classify(table)
    df = df.with_columns(kind=kind, category=category)
    df = _link(df)
    warnings = []
    unknown = df.filter(pl.col("kind") == "other")
    if unknown.height:
        texts = sorted(set(unknown["text"].to_list()))[:5]
        warnings.append(f"{unknown.height} row(s) with unrecognised descriptions {texts} imported "
                        "as kind 'other'; check them with `ledger transactions --kind other`")

    tags = [pl.col("_transfer_tag"),
            pl.when(pl.col("_reference_used")).then(None)
            .otherwise(pl.lit("[reference ") + pl.col("reference_id") + pl.lit("]"))]
    text = pl.concat_str([pl.col("text"), nonblank(table.col("additional description"))],
                         separator=" - ", ignore_nulls=True)
    df = df.with_columns(
        description=pl.concat_str([text, *tags], separator=" ", ignore_nulls=True),
        counterparty=_counterparty(table),
        contract=pl.lit(None, dtype=pl.String),
        hours=pl.lit(None, dtype=pl.Float64),
    ).sort(LINE)
    key = stable_key(pl.col("ref"), [pl.col("currency"), pl.col("amount").cast(pl.String)])
    rows = finalize(df, raw, source=SOURCE, account=options.account or SOURCE, key=key)
    return Parsed(rows=rows, format="payoneer", rows_read=rows_read, skipped=skipped,
                  warnings=warnings)


def stable_key(ref: pl.Expr, parts: list[pl.Expr]) -> pl.Expr:
    """Row key from the source id and `parts`, numbered where that repeats in one file; rows
    without an id fall back to their content (date, amount, currency, description, n-th).

    Numbering follows file order, so rows must be in line order when this is evaluated.
    """
    import polars as pl

    keyed = pl.concat_str([ref, *parts], separator="|")
    nth = pl.int_range(pl.len()).over(keyed).cast(pl.String)
    content = ["date", "amount", "currency", "description"]
    fallback = pl.concat_str([pl.col(c).cast(pl.String) for c in content]
                             + [pl.int_range(pl.len()).over(content).cast(pl.String)],
                             separator="|")
    return pl.coalesce(pl.concat_str([keyed, nth], separator="#"), fallback)


def is_platform(expr: pl.Expr) -> pl.Expr:
    """True where a payer name or text names a platform or wallet the ledger imports itself."""
    return expr.str.contains(PLATFORMS).fill_null(False)


def _date_formats(df: pl.DataFrame, options: ImportOptions) -> list[str]:
    import polars as pl

    order = options.date_order
    if order is None:
        first = pl.col("transaction date").str.extract(r"^\s*(\d{1,2})/", 1).cast(pl.Int32)
        order = "dmy" if df.select((first > 12).any()).item() else "mdy"
    day_month = "%d/%m/%Y" if order == "dmy" else "%m/%d/%Y"
    return [day_month, "%Y-%m-%d"]


def _check_statuses(df: pl.DataFrame, path: object) -> None:
    import polars as pl

    known = sorted(BOOKED | NOT_BOOKED)
    bad = df.filter(~pl.col("status").str.to_lowercase().is_in(known)
                    | pl.col("status").is_null()).head(1)
    if bad.height:
        raise DataError(
            f"unknown Payoneer status {bad['status'][0] or '(empty)'!r}", path=path,
            line=int(bad[LINE][0]),
            hint="known statuses: Completed (booked); Pending, In Process, Cancelled, Failed, "
            "Declined, Rejected, Returned (not booked). Please report this status so it can be "
            "mapped; meanwhile remove the row",
        )


def _check_amounts(df: pl.DataFrame, path: object) -> None:
    import polars as pl

    credit, debit = pl.col("credit"), pl.col("debit")
    checks = [
        (credit.is_null() & debit.is_null(), "neither Credit Amount nor Debit Amount is filled"),
        (credit.is_not_null() & debit.is_not_null(),
         "both Credit Amount and Debit Amount are filled"),
        ((credit < 0) | (debit < 0), "Credit Amount or Debit Amount is negative"),
    ]
    for bad, message in checks:
        hit = df.filter(bad.fill_null(False)).head(1)
        if hit.height:
            raise DataError(message, path=path, line=int(hit[LINE][0]),
                            hint="a Payoneer row has exactly one unsigned amount, in Credit "
                            "(money in) or Debit (money out); the file may be edited")


def _transfer_tag(df: pl.DataFrame, table, path: object) -> pl.DataFrame:
    """Add `_transfer_tag`: `[delivered A CUR]` / `[sent A CUR]` from Transfer Amount*."""
    import polars as pl

    from ledger.money import known_currencies

    amount = nonblank(table.col("transfer amount")).str.replace_all(",", "")
    currency = table.col("transfer amount currency").str.strip_chars().str.to_uppercase()
    df = df.with_columns(_t_amount=amount, _t_currency=nonblank(currency))
    bad = df.filter(pl.col("_t_amount").is_not_null()
                    & ~pl.col("_t_currency").is_in(sorted(known_currencies())).fill_null(False))
    if bad.height:
        raise DataError(
            f"Transfer Amount Currency {bad['_t_currency'][0] or '(empty)'!r} is not a currency "
            "code", path=path, line=int(bad[LINE][0]),
            hint="a Transfer Amount needs its ISO currency (PKR, EUR...); the file may be edited")
    word = pl.when(pl.col("amount") < 0).then(pl.lit("[delivered ")).otherwise(pl.lit("[sent "))
    tag = pl.concat_str([word, pl.col("_t_amount"), pl.lit(" "), pl.col("_t_currency"),
                         pl.lit("]")])
    return df.with_columns(_transfer_tag=tag).drop("_t_amount", "_t_currency")


def _classify(table) -> tuple[pl.Expr, pl.Expr]:
    """(kind, category) expressions from the description, store name and payer."""
    import polars as pl

    from ledger.money import known_currencies

    text = pl.col("text")
    low = text.str.to_lowercase()
    codes = sorted(known_currencies())
    pair = (text.str.extract(PAIR, 1).is_in(codes) & text.str.extract(PAIR, 2).is_in(codes))
    card = low.str.contains(CARD) | nonblank(table.col("store name")).is_not_null()
    payer = pl.coalesce(nonblank(table.col("source")), text.str.extract(r"(?i)\bfrom (.+)", 1))
    platform = is_platform(payer)
    fee_category = pl.lit("payoneer_fee")
    for pattern, name in reversed(FEE_CATEGORIES):
        fee_category = pl.when(low.str.contains(pattern)).then(pl.lit(name)) \
            .otherwise(fee_category)
    rules: list[tuple[pl.Expr, str, pl.Expr]] = [
        (low.str.contains(FEE), "payment_fee", fee_category),
        (low.str.contains(ATM), "transfer", pl.lit("atm_withdrawal")),
        (card, "expense", pl.lit("card")),
        (low.str.contains(CHARGE), "payment_fee", fee_category),
        (pair.fill_null(False) | low.str.contains(CONVERSION), "fx", pl.lit("conversion")),
        (low.str.contains(WITHDRAWAL), "transfer", pl.lit("withdrawal")),
        (low.str.contains(RECEIPT) & platform, "transfer", pl.lit("receipt")),
        (low.str.contains(RECEIPT) & (pl.col("amount") > 0), "earning", pl.lit("payment")),
        (low.str.contains(SENT) & (pl.col("amount") < 0), "other", pl.lit("payment_sent")),
    ]
    kind = pl.lit("other")
    category = pl.lit(None, dtype=pl.String)
    for hit, k, c in reversed(rules):
        kind = pl.when(hit).then(pl.lit(k)).otherwise(kind)
        category = pl.when(hit).then(c).otherwise(category)
    return kind, category


def _link(df: pl.DataFrame) -> pl.DataFrame:
    """Fill `related_ref`: fees -> what they charged, fx legs -> each other.

    Also sets `_reference_used`: the row's Reference ID is explained by a link.
    """
    import polars as pl

    fee = pl.col("kind") == "payment_fee"
    fx = pl.col("kind") == "fx"
    main = df.filter(~fee & pl.col("ref").is_not_null())
    # A fee naming another row's Transaction ID, or sharing its Reference ID.
    by_id = main.select(pl.col("ref").alias("reference_id"),
                        pl.col("ref").alias("_by_id")).unique("reference_id", keep="none")
    by_shared = (main.filter(pl.col("reference_id").is_not_null())
                 .select("reference_id", pl.col("ref").alias("_by_shared"))
                 .unique("reference_id", keep="none"))
    # Else the one row at the fee's timestamp, preferring a non-fx row, then a debit fx leg.
    ranked = main.with_columns(_rank=fx.cast(pl.Int8) * 2 + (pl.col("amount") >= 0).cast(pl.Int8))
    best = ranked.filter(pl.col("_rank") == pl.col("_rank").min().over("_ts"))
    by_time = (best.select("_ts", pl.col("ref").alias("_by_time"))
               .unique("_ts", keep="none"))
    df = (df.join(by_id, on="reference_id", how="left", maintain_order="left")
          .join(by_shared, on="reference_id", how="left", maintain_order="left")
          .join(by_time, on="_ts", how="left", maintain_order="left"))
    fee_ref = pl.coalesce("_by_id", "_by_shared", "_by_time")
    # fx legs: exactly two at one timestamp, opposite signs, different currencies.
    legs = df.filter(fx & pl.col("ref").is_not_null()).group_by("_ts").agg(
        pl.col("ref"), pl.col("amount").sign().sum().alias("_signs"),
        pl.col("currency").n_unique().alias("_currencies"))
    legs = legs.filter((pl.col("ref").list.len() == 2) & (pl.col("_signs") == 0)
                       & (pl.col("_currencies") == 2)).select("_ts", pl.col("ref").alias("_legs"))
    df = df.join(legs, on="_ts", how="left", maintain_order="left")
    other_leg = pl.when(pl.col("_legs").list.get(0, null_on_oob=True) == pl.col("ref")) \
        .then(pl.col("_legs").list.get(1, null_on_oob=True)) \
        .otherwise(pl.col("_legs").list.get(0, null_on_oob=True))
    related = (pl.when(fee).then(fee_ref)
               .when(fx & pl.col("_legs").is_not_null()).then(other_leg)
               .otherwise(None))
    used = fee & pl.col("reference_id").is_not_null() & (
        pl.col("_by_id").is_not_null() | pl.col("_by_shared").is_not_null())
    return df.with_columns(related_ref=related, _reference_used=used.fill_null(False)) \
        .drop("_by_id", "_by_shared", "_by_time", "_legs")


def _counterparty(table) -> pl.Expr:
    """Store for card rows, Source (payer) for money in, Target (payee) for money out; the
    name in `Payment from X` / `Payment to X` where those columns are missing (12 columns).
    """
    import polars as pl

    kind = pl.col("kind")
    text = pl.col("text")
    payer = pl.coalesce(nonblank(table.col("source")),
                        pl.when(kind.is_in(["earning", "transfer", "other"]))
                        .then(text.str.extract(r"(?i)\bfrom (.+)", 1)))
    payee = pl.coalesce(nonblank(table.col("target")),
                        pl.when(kind == "other").then(text.str.extract(r"(?i)\bto (.+)", 1)))
    return (pl.when(kind.is_in(["payment_fee", "fx"])).then(None)
            .when(kind == "expense").then(pl.coalesce(nonblank(table.col("store name")), payee))
            .when(pl.col("amount") >= 0).then(payer)
            .otherwise(payee))


FORMATS = [
    Format(
        name="payoneer",
        title="Payoneer transactions CSV (17 columns, or the older 12)",
        fingerprint="header has Transaction Date, Transaction Time, Credit Amount, Debit Amount, "
        "Running Balance",
        detect=detect,
        parse=parse,
    ),
]
