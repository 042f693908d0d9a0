"""Wise (TransferWise): the balance statement CSV (23 or 19 columns, one file per currency)
and the transaction-history CSV.

Balance statement (`wise`): `Amount` is the real movement of the balance, so it is booked as
is and checked against `Running Balance`; `Total fees` is never subtracted again. Where a fee
is inside `Amount` (the statement was made without "fees shown separately") no fee row is
invented: the row's `fee_included` holds it for the fee rules to split later (its description
says `[fee 1.23 USD included]`). A separate
fee row (`Wise fee`, `Fee for ...`, an id `FEE-...`, type `FEE`) is a `payment_fee` linked to
its transfer: the id after `FEE-`, the same id, or the one other row at the same `Date Time`.
Rows are classified as: conversions (`BALANCE-` ids, `Converted ...`, or exchange columns on a
row nothing else explains) -> `fx` legs, whose related_ref is the conversion id both currency
statements share; card rows -> `expense`; `Topped up` -> `transfer` in; `Sent money to` ->
`transfer` out (category `withdrawal`, payee kept as counterparty); `Received money from` ->
`transfer` in (category `receipt`) from a platform or wallet the ledger imports itself
(Upwork, Fiverr, Freelancer, PayPal, Payoneer), else an `earning` from the payer. Names come
from Payer Name / Payee Name / Merchant, else from the English description. What a debit
delivered in another currency (`Exchange To Amount`) is its `counter_amount` /
`counter_currency`, so reconciliation can match the bank credit; the description shows the
exchange as `[fx USD->PKR rate 278.50]` and `[delivered 139250.00 PKR]`. Row key: (ID,
Currency, Amount), numbered if repeated; rows without an id fall back to their content.

Transaction history (`wise-history`): no running balance, unsigned amounts, sign from
`Direction`. Only COMPLETED rows are booked (other known statuses are skipped with the reason;
an unknown one is an error). OUT books `-(Source amount)` and the source fee as its own
`payment_fee` row, so money out = source amount + source fee. IN books the target amount plus
the target fee (what the payer sent) and the fee as its own row, so the pair nets to what
arrived. NEUTRAL (own conversion) is two `fx` legs plus any fees. OUT and NEUTRAL are dated
`Created on` (when the balance was debited), IN `Finished on` (when it was credited). Across
currencies, a debit's counter amount is what the target received and a credit's what the
source paid (shown as `[delivered ...]` / `[sent ...]`).

Assumptions (not confirmed by a real file): the fee-row wording and `FEE-` ids; `CONVERSION`,
`FEE` and other `Transaction Details Type` codes beyond CARD/MONEY_ADDED/TRANSFER; history
`CARD-` ids for card payments; fee currencies equal to their side's currency (anything else is
an error rather than a guess); history statuses other than COMPLETED/CANCELLED/REFUNDED.
Importing both the statement and the history for the same period books transfers twice (their
rows differ: fees inside vs separate); use one of them per period.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    counts,
    finalize,
    is_platform,
    nonblank,
    parse_dates,
    parse_money_columns,
    with_key,
)
from importers.raw_files import RawFile, normalize, sniff_delimiter, split_line
from importers.readers import LINE, read_table
from ledger.core.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "wise"

STATEMENT = {"transferwise id", "running balance"}
HISTORY = {"direction", "source amount (after fees)", "target amount (after fees)",
           "exchange rate"}

FEE_ROW = r"(?i)^\s*(wise fee|transferwise fee|fees? for\b)"
CONVERTED = r"(?i)^\s*(converted|exchanged)\b"
CARD = r"(?i)^\s*card transaction"
ATM = r"(?i)\batm\b|cash withdrawal"
TOP_UP = r"(?i)^\s*(topped up|added money|money added)"
SENT = r"(?i)^\s*sent money to"
RECEIVED = r"(?i)^\s*received money from"

HISTORY_BOOKED = {"completed"}
HISTORY_NOT_BOOKED = {"cancelled", "canceled", "refunded", "pending", "processing",
                      "funds_refunded", "bounced_back", "failed", "charged_back"}
DIRECTIONS = {"in", "out", "neutral"}
HISTORY_DATES = ["%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d"]


# --- detection ------------------------------------------------------------------------------


def detect_statement(raw: RawFile) -> bool:
    if not raw.header_is_first(lambda cells: cells >= STATEMENT):
        return False
    line = raw.head_lines[0]
    first = split_line(line, sniff_delimiter(line))
    return bool(first) and normalize(first[0]) == "transferwise id"


def detect_history(raw: RawFile) -> bool:
    return raw.header_is_first(lambda cells: cells >= HISTORY)


# --- balance statement ----------------------------------------------------------------------


def parse_statement(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    table = read_table(raw, 0)
    table.require("transferwise id", "date", "amount", "currency", "description",
                  "running balance")
    path = raw.path
    df = table.df
    rows_read = df.height
    df = df.with_columns(
        date=parse_dates(df, pl.col("date"), ["%d-%m-%Y"], path=path,
                         hint="Wise statements write dates as DD-MM-YYYY; use the original CSV"),
        **parse_money_columns(df, {
            "amount": (pl.col("amount"), "Amount", True),
            "balance": (pl.col("running balance"), "Running Balance", False),
            "fees": (table.col("total fees"), "Total fees", False),
            "_to_amount": (table.col("exchange to amount"), "Exchange To Amount", False),
        }, path=path),
        currency=pl.col("currency").str.strip_chars().str.to_uppercase(),
        ref=nonblank(pl.col("transferwise id")),
        text=pl.coalesce(nonblank(pl.col("description")), pl.lit("")),
        _details=nonblank(table.col("transaction details type")).str.to_uppercase(),
        _from=nonblank(table.col("exchange from")).str.to_uppercase(),
        _to=nonblank(table.col("exchange to")).str.to_uppercase(),
        _ts=nonblank(table.col("date time")),
    )
    check_running_balance(df, path=path, group=["currency"])
    kind, category, counterparty = _classify_statement(table)
    df = df.with_columns(kind=kind, category=category, counterparty=counterparty)
    df = _link_fees(df)

    fee_inside = ((pl.col("fees") > 0) & (pl.col("kind") != "payment_fee")
                  & ~pl.col("_has_fee_row"))
    raw_fees = nonblank(table.col("total fees"))
    tags = [
        _fx_tag(pl.col("_from"), pl.col("_to"), nonblank(table.col("exchange rate"))),
        pl.when(pl.col("_to").is_not_null() & (pl.col("_to") != pl.col("currency")))
        .then(_money_tag("delivered", nonblank(table.col("exchange to amount")), pl.col("_to"))),
        pl.when(fee_inside.fill_null(False))
        .then(pl.concat_str([pl.lit("[fee "), raw_fees, pl.lit(" "), pl.col("currency"),
                             pl.lit(" included]")])),
    ]
    text = pl.concat_str([pl.col("text"), nonblank(table.col("payment reference")),
                          nonblank(table.col("note"))], separator=" - ", ignore_nulls=True)
    delivered = (pl.col("_to").is_not_null() & (pl.col("_to") != pl.col("currency"))
                 & (pl.col("amount") < 0) & (pl.col("_to_amount") >= 0)).fill_null(False)
    df = df.with_columns(
        description=pl.concat_str([text, *tags], separator=" ", ignore_nulls=True),
        counter_amount=pl.when(delivered).then(pl.col("_to_amount")),
        counter_currency=pl.when(delivered).then(pl.col("_to")),
        fee_included=pl.when(fee_inside.fill_null(False)).then(pl.col("fees")),
        contract=pl.lit(None, dtype=pl.String),
        hours=pl.lit(None, dtype=pl.Float64),
    ).sort(LINE)
    warnings = _unknown_warning(df)
    df = with_key(df, [pl.col("currency"), pl.col("amount").cast(pl.String)])
    rows = finalize(df, raw, source=SOURCE, account=options.account or SOURCE, key=pl.col("_key"))
    return Parsed(rows=rows, format="wise", rows_read=rows_read, warnings=warnings)


def _classify_statement(table) -> tuple[pl.Expr, pl.Expr, pl.Expr]:
    """(kind, category, counterparty) from the id prefix, details type and description."""
    import polars as pl

    ref = pl.col("ref").fill_null("")
    details = pl.col("_details").fill_null("")
    text = pl.col("text")
    amount = pl.col("amount")
    payer = pl.coalesce(nonblank(table.col("payer name")),
                        text.str.extract(r"(?i)^\s*received money from (.+)", 1))
    payee = pl.coalesce(nonblank(table.col("payee name")),
                        text.str.extract(r"(?i)^\s*sent money to (.+)", 1))
    merchant = pl.coalesce(nonblank(table.col("merchant")),
                           text.str.extract(r"(?i)^\s*card transaction .* issued by (.+)", 1))
    exchanged = (pl.col("_from").is_not_null() & pl.col("_to").is_not_null()
                 & (pl.col("_from") != pl.col("_to")))
    received = text.str.contains(RECEIVED) | (details.is_in(["TRANSFER", "DEPOSIT"]) & (amount > 0))
    sent = text.str.contains(SENT) | ((details == "TRANSFER") & (amount < 0))
    card = ref.str.starts_with("CARD-") | (details == "CARD") | text.str.contains(CARD)
    none = pl.lit(None, dtype=pl.String)
    rules: list[tuple[pl.Expr, str, str, pl.Expr]] = [
        (ref.str.starts_with("FEE-") | (details == "FEE") | text.str.contains(FEE_ROW),
         "payment_fee", "wise_fee", none),
        (ref.str.starts_with("BALANCE-") | (details == "CONVERSION")
         | text.str.contains(CONVERTED), "fx", "conversion", none),
        (card & text.str.contains(ATM), "transfer", "atm_withdrawal", merchant),
        (card, "expense", "card", pl.coalesce(merchant, payee)),
        ((details == "MONEY_ADDED") | text.str.contains(TOP_UP), "transfer", "top_up", payer),
        (sent, "transfer", "withdrawal", payee),
        (received & is_platform(payer), "transfer", "receipt", payer),
        (received, "earning", "payment", payer),
        (exchanged, "fx", "conversion", none),
    ]
    kind, category, counterparty = pl.lit("other"), pl.lit(None, dtype=pl.String), \
        pl.coalesce(payer, payee, merchant)
    for hit, k, c, party in reversed(rules):
        hit = hit.fill_null(False)
        kind = pl.when(hit).then(pl.lit(k)).otherwise(kind)
        category = pl.when(hit).then(pl.lit(c)).otherwise(category)
        counterparty = pl.when(hit).then(party).otherwise(counterparty)
    return kind, category, counterparty


def _link_fees(df: pl.DataFrame) -> pl.DataFrame:
    """related_ref for fee rows (and fx legs: their shared conversion id); `_has_fee_row` marks
    the rows a separate fee row points at, whose Total fees are then not inside Amount.
    """
    import polars as pl

    fee = pl.col("kind") == "payment_fee"
    main = df.filter(~fee & pl.col("ref").is_not_null())
    ids = main.select(pl.col("ref").alias("_target")).unique()
    by_time = (main.filter(pl.col("_ts").is_not_null())
               .select("_ts", pl.col("ref").alias("_by_time")).unique("_ts", keep="none"))
    stripped = pl.col("ref").str.strip_prefix("FEE-")
    df = df.with_columns(_target=pl.when(fee).then(stripped))
    df = (df.join(ids.with_columns(_by_id=pl.col("_target")), on="_target", how="left",
                  maintain_order="left")
          .join(by_time, on="_ts", how="left", maintain_order="left"))
    related = (pl.when(fee).then(pl.coalesce("_by_id", "_by_time"))
               .when(pl.col("kind") == "fx").then(pl.col("ref"))
               .otherwise(None))
    df = df.with_columns(related_ref=related).drop("_target", "_by_id", "_by_time")
    charged = df.filter(fee & pl.col("related_ref").is_not_null()).select(
        pl.col("related_ref").alias("ref")).unique().with_columns(_has_fee_row=pl.lit(True))
    return (df.join(charged, on="ref", how="left", maintain_order="left")
            .with_columns(pl.col("_has_fee_row").fill_null(False)))


# --- transaction history --------------------------------------------------------------------


def parse_history(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    table = read_table(raw, 0)
    table.require("id", "status", "direction", "created on", "source amount (after fees)",
                  "source currency", "target amount (after fees)", "target currency")
    path = raw.path
    df = table.df.with_columns(
        status=pl.col("status").str.strip_chars(),
        direction=pl.col("direction").str.strip_chars(),
    )
    rows_read = df.height
    _check_values(df, "status", HISTORY_BOOKED | HISTORY_NOT_BOOKED, path,
                  "known statuses: COMPLETED (booked); CANCELLED, REFUNDED, PENDING... "
                  "(not booked). Please report this status; meanwhile remove the row")
    booked = pl.col("status").str.to_lowercase().is_in(sorted(HISTORY_BOOKED))
    skipped = counts(df.filter(~booked)["status"], "status {}")
    df = df.filter(booked)
    _check_values(df, "direction", DIRECTIONS, path,
                  "Direction is IN, OUT or NEUTRAL; the file may be edited")
    df = df.with_columns(pl.col("direction").str.to_lowercase())
    incoming = pl.col("direction") == "in"
    when = pl.when(incoming).then(pl.coalesce(nonblank(table.col("finished on")),
                                              pl.col("created on"))) \
        .otherwise(pl.col("created on"))
    df = df.with_columns(
        date=parse_dates(df, when, HISTORY_DATES, path=path, what="Created on/Finished on"),
        **parse_money_columns(df, {
            "_src": (pl.col("source amount (after fees)"), "Source amount (after fees)", False),
            "_tgt": (pl.col("target amount (after fees)"), "Target amount (after fees)", False),
            "_src_fee": (table.col("source fee amount"), "Source fee amount", False),
            "_tgt_fee": (table.col("target fee amount"), "Target fee amount", False),
        }, path=path),
        _src_cur=nonblank(pl.col("source currency")).str.to_uppercase(),
        _tgt_cur=nonblank(pl.col("target currency")).str.to_uppercase(),
        _src_fee_cur=nonblank(table.col("source fee currency")).str.to_uppercase(),
        _tgt_fee_cur=nonblank(table.col("target fee currency")).str.to_uppercase(),
        _src_name=nonblank(table.col("source name")),
        _tgt_name=nonblank(table.col("target name")),
        ref=nonblank(pl.col("id")),
    )
    _check_history_amounts(df, path)
    rows = _history_rows(df, table)
    warnings: list[str] = []
    rows = with_key(rows, [pl.col("_leg"), pl.col("currency"), pl.col("amount").cast(pl.String)])
    out = finalize(rows, raw, source=SOURCE, account=options.account or SOURCE,
                   key=pl.col("_key"))
    return Parsed(rows=out, format="wise-history", rows_read=rows_read, skipped=skipped,
                  warnings=warnings)


def _history_rows(df: pl.DataFrame, table) -> pl.DataFrame:
    """One history line -> its legs (source and/or target) and fee rows, in line order."""
    import polars as pl

    direction = pl.col("direction")
    card = pl.col("ref").fill_null("").str.starts_with("CARD-")
    src_gross = pl.col("_src")
    tgt_gross = pl.col("_tgt") + pl.col("_tgt_fee").fill_null(0)
    fx = _fx_tag(pl.col("_src_cur"), pl.col("_tgt_cur"), nonblank(table.col("exchange rate")))
    other_currency = pl.col("_src_cur") != pl.col("_tgt_cur")
    extra = [nonblank(table.col("reference")), nonblank(table.col("note"))]
    delivered = pl.when(other_currency).then(
        _money_tag("delivered", pl.col("target amount (after fees)").str.strip_chars(),
                   pl.col("_tgt_cur")))
    sent = pl.when(other_currency).then(
        _money_tag("sent", pl.col("source amount (after fees)").str.strip_chars(),
                   pl.col("_src_cur")))
    target_fee = pl.when((direction == "out") & (pl.col("_tgt_fee") > 0)).then(
        _money_tag("target fee", pl.col("target fee amount").str.strip_chars(),
                   pl.col("_tgt_cur")))

    def text(base: pl.Expr, *tags: pl.Expr) -> pl.Expr:
        words = pl.concat_str([base, *extra], separator=" - ", ignore_nulls=True)
        return pl.concat_str([words, *tags], separator=" ", ignore_nulls=True)

    counter = {"delivered": {"counter_amount": pl.when(other_currency).then(pl.col("_tgt")),
                             "counter_currency": pl.when(other_currency).then(pl.col("_tgt_cur"))},
               "sent": {"counter_amount": pl.when(other_currency).then(pl.col("_src")),
                        "counter_currency": pl.when(other_currency).then(pl.col("_src_cur"))},
               "none": {"counter_amount": pl.lit(None, dtype=pl.Decimal(38, 4)),
                        "counter_currency": pl.lit(None, dtype=pl.String)}}
    out_kind = pl.when(card).then(pl.lit("expense")).otherwise(pl.lit("transfer"))
    in_platform = is_platform(pl.col("_src_name"))
    legs = [
        df.filter(direction == "out").with_columns(
            amount=-src_gross, currency=pl.col("_src_cur"), kind=out_kind,
            category=pl.when(card).then(pl.lit("card")).otherwise(pl.lit("withdrawal")),
            counterparty=pl.col("_tgt_name"), related_ref=pl.lit(None, dtype=pl.String),
            description=text(pl.when(card).then(pl.lit("Card payment to "))
                             .otherwise(pl.lit("Sent money to ")) + pl.col("_tgt_name")
                             .fill_null("?"), fx, delivered, target_fee),
            **counter["delivered"], _leg=pl.lit("source"), _order=pl.lit(0)),
        df.filter(direction == "in").with_columns(
            amount=tgt_gross, currency=pl.col("_tgt_cur"),
            kind=pl.when(in_platform).then(pl.lit("transfer")).otherwise(pl.lit("earning")),
            category=pl.when(in_platform).then(pl.lit("receipt")).otherwise(pl.lit("payment")),
            counterparty=pl.col("_src_name"), related_ref=pl.lit(None, dtype=pl.String),
            description=text(pl.lit("Received money from ") + pl.col("_src_name").fill_null("?"),
                             fx, sent),
            **counter["sent"], _leg=pl.lit("target"), _order=pl.lit(0)),
        df.filter(direction == "neutral").with_columns(
            amount=-src_gross, currency=pl.col("_src_cur"), kind=pl.lit("fx"),
            category=pl.lit("conversion"), counterparty=pl.lit(None, dtype=pl.String),
            related_ref=pl.col("ref"), description=text(_converted(), fx, delivered),
            **counter["delivered"], _leg=pl.lit("source"), _order=pl.lit(0)),
        df.filter(direction == "neutral").with_columns(
            amount=tgt_gross, currency=pl.col("_tgt_cur"), kind=pl.lit("fx"),
            category=pl.lit("conversion"), counterparty=pl.lit(None, dtype=pl.String),
            related_ref=pl.col("ref"), description=text(_converted(), fx, sent),
            **counter["sent"], _leg=pl.lit("target"), _order=pl.lit(1)),
        df.filter((direction != "in") & (pl.col("_src_fee") > 0)).with_columns(
            amount=-pl.col("_src_fee"), currency=pl.col("_src_cur"),
            description=pl.lit("Wise fee - ") + _summary(),
            **counter["none"], _leg=pl.lit("source_fee"), _order=pl.lit(2)),
        df.filter((direction != "out") & (pl.col("_tgt_fee") > 0)).with_columns(
            amount=-pl.col("_tgt_fee"), currency=pl.col("_tgt_cur"),
            description=pl.lit("Wise fee - ") + _summary(),
            **counter["none"], _leg=pl.lit("target_fee"), _order=pl.lit(3)),
    ]
    fee_cols = dict(kind=pl.lit("payment_fee"), category=pl.lit("wise_fee"),
                    counterparty=pl.lit(None, dtype=pl.String), related_ref=pl.col("ref"))
    legs[4] = legs[4].with_columns(**fee_cols)
    legs[5] = legs[5].with_columns(**fee_cols)
    cols = ["date", "amount", "currency", "kind", "category", "counterparty", "description",
            "ref", "related_ref", "counter_amount", "counter_currency", "_leg", "_order", LINE]
    rows = pl.concat([leg.select(cols) for leg in legs], how="vertical_relaxed")
    return rows.sort([LINE, "_order"]).with_columns(
        contract=pl.lit(None, dtype=pl.String), hours=pl.lit(None, dtype=pl.Float64))


def _converted() -> pl.Expr:
    import polars as pl

    return pl.concat_str([pl.lit("Converted "), pl.col("_src_cur"), pl.lit(" to "),
                          pl.col("_tgt_cur")])


def _summary() -> pl.Expr:
    """What a history fee row was charged on, for its description."""
    import polars as pl

    direction = pl.col("direction")
    return (pl.when(direction == "out")
            .then(pl.lit("sent to ") + pl.col("_tgt_name").fill_null("?"))
            .when(direction == "in")
            .then(pl.lit("received from ") + pl.col("_src_name").fill_null("?"))
            .otherwise(_converted()))


def _check_values(df: pl.DataFrame, column: str, known: set[str], path: object,
                  hint: str) -> None:
    import polars as pl

    bad = df.filter(~pl.col(column).str.to_lowercase().is_in(sorted(known)).fill_null(False))
    if bad.height:
        value = bad[column][0]
        raise DataError(f"unknown Wise {column} {value or '(empty)'!r}", path=path,
                        line=int(bad[LINE][0]), hint=hint)


def _check_history_amounts(df: pl.DataFrame, path: object) -> None:
    import polars as pl

    direction = pl.col("direction")
    checks = [
        ((direction != "in") & pl.col("_src").is_null(), "Source amount (after fees) is empty"),
        ((direction != "out") & pl.col("_tgt").is_null(), "Target amount (after fees) is empty"),
        ((direction != "in") & pl.col("_src_cur").is_null(), "Source currency is empty"),
        ((direction != "out") & pl.col("_tgt_cur").is_null(), "Target currency is empty"),
        ((pl.col("_src") < 0) | (pl.col("_tgt") < 0) | (pl.col("_src_fee") < 0)
         | (pl.col("_tgt_fee") < 0), "an amount is negative; history amounts are unsigned"),
        ((pl.col("_src_fee") > 0) & pl.col("_src_fee_cur").is_not_null()
         & (pl.col("_src_fee_cur") != pl.col("_src_cur")),
         "Source fee currency differs from Source currency"),
        ((pl.col("_tgt_fee") > 0) & pl.col("_tgt_fee_cur").is_not_null()
         & (pl.col("_tgt_fee_cur") != pl.col("_tgt_cur")),
         "Target fee currency differs from Target currency"),
    ]
    for bad, message in checks:
        hit = df.filter(bad.fill_null(False)).head(1)
        if hit.height:
            raise DataError(message, path=path, line=int(hit[LINE][0]),
                            hint="the row does not add up as a Wise transfer; the file may be "
                            "edited: download transaction-history.csv again")


# --- shared ---------------------------------------------------------------------------------


def _fx_tag(source: pl.Expr, target: pl.Expr, rate: pl.Expr) -> pl.Expr:
    """`[fx USD->PKR rate 278.50]` where both currencies are given and differ."""
    import polars as pl

    tag = pl.concat_str([pl.lit("[fx "), source, pl.lit("->"), target, pl.lit(" rate "),
                         rate, pl.lit("]")])
    return pl.when(source.is_not_null() & target.is_not_null() & (source != target)
                   & rate.is_not_null()).then(tag)


def _money_tag(word: str, amount: pl.Expr, currency: pl.Expr) -> pl.Expr:
    """`[delivered 139250.00 PKR]`: an amount on the other side, never added to a balance."""
    import polars as pl

    return pl.concat_str([pl.lit(f"[{word} "), amount.str.replace_all(",", ""), pl.lit(" "),
                          currency, pl.lit("]")])


def _unknown_warning(df: pl.DataFrame) -> list[str]:
    import polars as pl

    unknown = df.filter(pl.col("kind") == "other")
    if not unknown.height:
        return []
    texts = sorted(set(unknown["text"].to_list()))[:5]
    return [f"{unknown.height} row(s) with unrecognised descriptions {texts} imported as kind "
            "'other'; check them with `ledger transactions --kind other`"]


FORMATS = [
    Format(
        name="wise",
        title="Wise balance statement CSV (23 or 19 columns, one currency)",
        fingerprint="first header cell TransferWise ID, header has Running Balance",
        detect=detect_statement,
        parse=parse_statement,
    ),
    Format(
        name="wise-history",
        title="Wise transaction history CSV (transaction-history.csv)",
        fingerprint="header has Direction, Source amount (after fees), "
        "Target amount (after fees), Exchange rate",
        detect=detect_history,
        parse=parse_history,
    ),
]
