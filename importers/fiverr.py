"""Fiverr seller earnings export (Earnings page > transactions > CSV): HEADER NOT CONFIRMED.

category net_of_fee = amount shown is after the platform fee; rules derive gross.
Fiverr shows what the seller receives (its service fee, commonly 20%, already taken), so
earnings are imported exactly as shown and marked `net_of_fee`; this importer never invents
a fee. rules/fees.py derives the gross and the fee rows (origin `rule:...`).

Evidence (docs/formats.md, "Fiverr: header not confirmed"): no public parser, fixture or sample
with the CSV header was found (searched public code, issues and pages for Fiverr earnings CSV
columns, Nov 2026). Fiverr's help page "Your Earnings page" and forum threads describe a dated
transactions table with a CSV download: order revenue ("Revenue for Order Completion" in the
older UI), cleared funds, withdrawals with small withdrawal fees, cancellations/refunds,
expenses paid from earnings (Promoted Gigs, Seller Plus), balances in USD, and a ~14-day
"pending clearance". A third-party importer's template (hourlyroi.com/docs/csv-templates) lists
`Date, Order Number, Buyer, Description, Total...` for a "Fiverr Revenue CSV"; it is a
template, not a real export. So the columns are found through the alias table `COLUMNS` below:
correct it (one line per field) when a real file is seen. Assumptions, all reported rather than
guessed silently:
- Required: a date, an amount, an activity or description, and an order column; optional:
  currency (default USD), status, buyer, balance (checked as a running balance).
- Detection also needs Fiverr vocabulary in the first KBs: `fiverr`, an order number
  `FO...` (Fiverr order numbers start with FO), `Revenue for order`, Promoted Gigs, Seller
  Plus or `pending clearance`.
- Signs: if any amount in the file is negative the file is signed and signs are kept;
  otherwise amounts are magnitudes and money out (withdrawals, fees, refunds, expenses) is
  made negative.
- Pending clearance rows (status or text) are not booked (counted as skipped): income is
  booked once, when it clears.
- Row key: order + activity/description + amount + date (+ occurrence), as docs/formats.md
  says (order id + activity + amount), so overlapping exports add nothing twice.

Kinds (first rule matching activity + description, after pending clearance by status or
text, which is skipped): withdrawal fee ->
payment_fee; withdrawal -> transfer; cancellation/refund -> refund; Promoted Gigs ->
platform_fee `promoted_gigs`; Seller Plus -> platform_fee `seller_plus`; purchases/expenses
-> expense; revenue, cleared funds, tips, hourly -> earning `net_of_fee`; else other
(warned).
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    classify,
    date_formats_for,
    finalize,
    nonblank,
    parse_dates,
    parse_money_columns,
)
from importers.raw_files import RawFile
from importers.readers import read_table

if TYPE_CHECKING:
    import polars as pl

SOURCE = "fiverr"

COLUMNS: dict[str, tuple[str, ...]] = {
    "date": ("date", "transaction date", "created at", "cleared date"),
    "activity": ("activity", "type", "transaction type"),
    "description": ("description", "details", "memo"),
    "order": ("order", "order id", "order number", "order no.", "order #", "order no"),
    "amount": ("amount", "amount (usd)", "amount usd", "total", "net amount", "earnings"),
    "currency": ("currency",),
    "status": ("status",),
    "buyer": ("from", "buyer", "buyer username", "client"),
    "balance": ("balance", "available balance"),
}
"""Canonical field -> normalised header names that may hold it (first present wins)."""

VOCABULARY = re.compile(r"(?i)fiverr|\bFO[0-9A-Z]{6,}\b|revenue for order|promoted gigs?"
                        r"|seller plus|pending clearance")

PENDING_STATUS = r"pending|clearance|not cleared|in progress"
"""Statuses of income not yet cleared (status `Cleared`/`Completed` is booked)."""

RULES: list[tuple[str, str, str]] = [
    (r"withdraw\w*.*\bfee\b|\bfee\b.*withdraw|processing fee", "payment_fee", "withdrawal_fee"),
    (r"withdraw|transferred to", "transfer", "withdrawal"),
    (r"cancel|refund|reversal|chargeback", "refund", "cancellation"),
    (r"promoted gig|promotion", "platform_fee", "promoted_gigs"),
    (r"seller plus|subscription", "platform_fee", "seller_plus"),
    (r"purchase|expense|used for|paid for", "expense", "expense"),
    (r"revenue|order completion|completed|cleared|earning|\btip\b|hourly|milestone|income",
     "earning", "net_of_fee"),
]
"""(pattern on lower-cased activity + description, kind, category); first match wins."""

OUTFLOWS = ("payment_fee", "transfer", "refund", "platform_fee", "expense")


def _field(cells: set[str], field: str) -> str | None:
    return next((a for a in COLUMNS[field] if a in cells), None)


def _is_fiverr(cells: set[str]) -> bool:
    return all(_field(cells, f) for f in ("date", "amount", "order")) and bool(
        _field(cells, "activity") or _field(cells, "description"))


def detect(raw: RawFile) -> bool:
    return raw.header_is_first(_is_fiverr) and bool(VOCABULARY.search(raw.head_text))


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    path = raw.path
    table = read_table(raw, 0)
    cells = set(table.df.columns)
    col = {f: _field(cells, f) for f in COLUMNS}
    table.require(COLUMNS["date"], COLUMNS["amount"], COLUMNS["order"])
    if not (col["activity"] or col["description"]):
        table.require(COLUMNS["description"])
    df = table.df
    rows_read = df.height

    def get(field: str) -> pl.Expr:
        return table.col(*COLUMNS[field])

    mark = options.decimal_mark or "."
    df = df.with_columns(
        date=parse_dates(df, get("date"), _date_formats(df, col["date"], options, path),
                         path=path),
        **parse_money_columns(df, {"_amount": (get("amount"), "amount", True),
                                   "balance": (get("balance"), "balance", False)},
                              path=path, decimal_mark=mark, mark_flag=True),
        description=pl.concat_str([nonblank(get("activity")), nonblank(get("description"))],
                                  separator=" - ", ignore_nulls=True).fill_null(""),
        _status=nonblank(get("status")).str.to_lowercase(),
        ref=nonblank(get("order")).str.strip_chars_start("#"),
        counterparty=nonblank(get("buyer")),
        currency=pl.coalesce(nonblank(get("currency")).str.to_uppercase(), pl.lit("USD")),
    )
    df = classify(df, pl.col("description").str.to_lowercase(), RULES)
    pending = (pl.col("_status").fill_null("").str.contains(PENDING_STATUS)
               | pl.col("description").str.contains(r"(?i)\bpending\b"))
    df = df.with_columns(kind=pl.when(pending).then(pl.lit("pending")).otherwise("kind"))
    signed = bool(df.select((pl.col("_amount") < 0).any()).item())
    outflow = pl.col("kind").is_in(OUTFLOWS)
    df = df.with_columns(amount=pl.col("_amount") if signed else pl.when(outflow)
                         .then(-pl.col("_amount").abs()).otherwise(pl.col("_amount").abs()))

    pending = pl.col("kind") == "pending"
    skipped: dict[str, int] = {}
    count = df.filter(pending).height
    if count:
        skipped["pending clearance (booked when it clears)"] = count
    if col["balance"]:
        check_running_balance(df.filter(~pending), path=path, group=["currency"])
    df = df.filter(~pending)
    warnings = []
    unknown = df.filter(pl.col("kind") == "other")
    if unknown.height:
        warnings.append(f"{unknown.height} row(s) of unknown activity imported as kind 'other' "
                        f"(e.g. {unknown['description'][0]!r}); check them with "
                        "`ledger transactions --kind other`, and report the wording")
    df = df.with_columns(
        contract=pl.col("ref"),
        related_ref=pl.when(pl.col("kind") == "refund").then(pl.col("ref")).otherwise(None),
        hours=pl.lit(None, dtype=pl.Float64),
    )
    parts = [pl.col("ref").fill_null(""), pl.col("description"), pl.col("amount").cast(pl.String)]
    occurrence = pl.int_range(pl.len()).over(["ref", "description", "amount", "date"]).cast(
        pl.String)
    key = pl.concat_str([*parts, pl.col("date").cast(pl.String), occurrence], separator="|")
    account = options.account or SOURCE
    rows = finalize(df, raw, source=SOURCE, account=account, key=key)
    return Parsed(rows=rows, format=SOURCE, rows_read=rows_read, skipped=skipped,
                  warnings=warnings)


def _date_formats(df: pl.DataFrame, column: str, options: ImportOptions, path) -> list[str]:
    """The form of the dates in `df`'s `column`, told by the first; numeric ones in the
    order every date of the file proves or the flag says (base.date_formats_for)."""
    sample = df[column].drop_nulls()
    first = next((s.strip() for s in sample.head(500).to_list() if s and s.strip()), "")
    if re.match(r"\d{4}-\d{2}-\d{2}", first):
        return ["%Y-%m-%d"]
    if re.match(r"\d{1,2}/\d{1,2}/\d{4}", first):
        return date_formats_for(options.date_order, "/", path=path, sample=sample, rows=df,
                                column=column)
    return ["%b %d, %Y", "%B %d, %Y", "%d %b %Y", "%d %B %Y", "%b %d %Y"]


FORMATS = [
    Format(
        name="fiverr",
        title="Fiverr earnings export (CSV; header unconfirmed, see importers/fiverr.py)",
        fingerprint="header has Date, Amount, Order and Activity or Description; Fiverr "
        "wording or FO order numbers in the first rows",
        detect=detect,
        parse=parse,
    ),
]
