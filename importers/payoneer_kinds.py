"""Payoneer's kinds, categories and counterparties, worked out once per distinct row shape.

A row's kind, category and counterparty follow from its description, Store Name, Source,
Target and the sign of its amount alone: a million rows hold a few hundred such shapes. `kinds`
finds them (each key column hashed once, into a small code: importers.csv_parts.
distinct_lookup), runs the rules on each shape once (`classify`, then `counterparty`, as they
would run on every row) and looks the answers up for each row: the flag columns, the names
read from the descriptions and the coalesces of string columns are made for a few hundred rows,
not a million (issue 23).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.base import is_platform, lookup
from importers.csv_parts import CODE, distinct_lookup

if TYPE_CHECKING:
    import polars as pl


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


_FLAGS = ("_fee", "_atm", "_card", "_charge", "_fx", "_withdrawal", "_receipt", "_sent",
          "_fee_code", "_from_platform")
"""What `classify` reads a row's rule from, and nothing after it."""


def classify(df: pl.DataFrame) -> pl.DataFrame:
    """Add `kind`, `category` and the names a description holds (`_from_name`, `_to_name`).

    Row by row; `kinds` runs it once per distinct row shape. The text rules run once per
    distinct description, then combine per row with the store name, payer and sign.
    """
    import polars as pl

    from ledger.core import schema
    from ledger.core.money import known_currencies

    codes = sorted(known_currencies())
    text, low = pl.col("text"), pl.col("text").str.to_lowercase()
    fee_category = pl.lit("payoneer_fee")
    for pattern, name in reversed(FEE_CATEGORIES):
        fee_category = pl.when(low.str.contains(pattern)).then(pl.lit(name)) \
            .otherwise(fee_category)
    pair = text.str.extract(PAIR, 1).is_in(codes) & text.str.extract(PAIR, 2).is_in(codes)
    flags = df.select("text").unique().with_columns(
        _fee=low.str.contains(FEE), _atm=low.str.contains(ATM), _card=low.str.contains(CARD),
        _charge=low.str.contains(CHARGE),
        _fx=pair.fill_null(False) | low.str.contains(CONVERSION),
        _withdrawal=low.str.contains(WITHDRAWAL), _receipt=low.str.contains(RECEIPT),
        _sent=low.str.contains(SENT),
        _fee_code=fee_category.replace_strict(CATEGORIES, range(len(CATEGORIES)),
                                              return_dtype=pl.Int8),
        _from_name=text.str.extract(r"(?i)\bfrom (.+)", 1),
    ).with_columns(_to_name=text.str.extract(r"(?i)\bto (.+)", 1),
                   _from_platform=is_platform(pl.col("_from_name")))
    df = lookup(df, flags, ["text"])
    kind_type = schema.columns()["kind"]
    by_platform = platform(df)
    rules: list[tuple[pl.Expr, str, str | None]] = [  # category None: the fee's own
        (pl.col("_fee"), "payment_fee", None),
        (pl.col("_atm"), "transfer", "atm_withdrawal"),
        (pl.col("_card") | pl.col("_store").is_not_null(), "expense", "card"),
        (pl.col("_charge"), "payment_fee", None),
        (pl.col("_fx"), "fx", "conversion"),
        (pl.col("_withdrawal"), "transfer", "withdrawal"),
        (pl.col("_receipt") & by_platform, "transfer", "receipt"),
        (pl.col("_receipt") & (pl.col("amount") > 0), "earning", "payment"),
        (pl.col("_sent") & (pl.col("amount") < 0), "other", "payment_sent"),
    ]
    assert tuple(k for _, k, _ in rules) == RULE_KINDS
    # the number of the first rule that holds (null: none), then its kind and category:
    # integers through the rules, each string column made once (not once per rule)
    rule = pl.coalesce([pl.when(hit).then(pl.lit(n, dtype=pl.Int8))
                        for n, (hit, _, _) in enumerate(rules)])
    df = df.with_columns(rule.alias("_rule"))
    numbers = list(range(len(rules)))
    # the kind made as the ledger stores it (an Enum: a byte a row, not a string), the
    # category as a number of CATEGORIES, made a string once; the flags, read by nothing
    # after, let go (a large import's peak memory is at the links)
    code = pl.when(pl.col("_rule").is_in([n for n, r in enumerate(rules) if not r[2]])) \
        .then(pl.col("_fee_code")) \
        .otherwise(pl.col("_rule").replace_strict(
            numbers, [CATEGORIES.index(c) if c else None for _, _, c in rules], default=None,
            return_dtype=pl.Int8))
    return df.with_columns(
        kind=pl.col("_rule").replace_strict(numbers, [k for _, k, _ in rules],
                                            default="other", return_dtype=kind_type),
        category=code.replace_strict(range(len(CATEGORIES)), CATEGORIES, default=None,
                                     return_dtype=pl.String),
    ).drop(*_FLAGS)


CATEGORIES = list(dict.fromkeys([*(name for _, name in FEE_CATEGORIES), "payoneer_fee",
                                 "atm_withdrawal", "card", "conversion", "withdrawal", "receipt",
                                 "payment", "payment_sent"]))
"""Every category `classify` gives, numbered (its rules' and the fees')."""


def platform(df: pl.DataFrame) -> pl.Expr:
    """`is_platform(coalesce(_source, _from_name))`, each name tested once (a few in a million
    rows): the Source's among its distinct values, the description's as `_from_platform`."""
    import polars as pl

    sources = df["_source"].unique()
    return pl.when(pl.col("_source").is_not_null()) \
        .then(pl.col("_source").is_in(sources.filter(is_platform(sources)).implode())) \
        .otherwise(pl.col("_from_platform"))


RULE_KINDS = ("payment_fee", "transfer", "expense", "payment_fee", "fx", "transfer",
              "transfer", "earning", "other")
"""The kind of each of `classify`'s rules, by number (`_rule`); no rule: `other`."""


def kind_is(*kinds: str) -> pl.Expr:
    """True where the row's `kind` is one of `kinds`, read from its rule number (`_rule`):
    a comparison of small integers, not of a million strings."""
    import polars as pl

    numbers = [n for n, kind in enumerate(RULE_KINDS) if kind in kinds]
    return pl.col("_rule").is_in(numbers).fill_null("other" in kinds)


def counterparty(df: pl.DataFrame) -> pl.Series:
    """Store for card rows, Source (payer) for money in, Target (payee) for money out; the
    name in `Payment from X` / `Payment to X` where those columns are missing (12 columns).

    Which name each row takes is decided first, as a small integer, and the names are then
    picked in one pass: coalesces of whole string columns made and dropped several columns
    of a million strings (half the description step's memory traffic).
    """
    import polars as pl

    def at(name: str) -> pl.Expr:
        return pl.lit(_NAMES.index(name), dtype=pl.Int8)

    def filled(name: str) -> pl.Expr:
        return pl.col(name).is_not_null()

    which = (pl.when(kind_is("payment_fee", "fx")).then(None)
             .when(kind_is("expense")).then(pl.when(filled("_store")).then(at("_store"))
                                             .otherwise(at("_target")))
             .when(pl.col("amount") >= 0).then(
                 pl.when(filled("_source")).then(at("_source"))
                 .when(kind_is("earning", "transfer", "other")).then(at("_from_name")))
             .otherwise(pl.when(filled("_target")).then(at("_target"))
                        .when(kind_is("other")).then(at("_to_name"))))
    index = pl.col("_which")
    name = pl.when(index == 0).then(pl.col(_NAMES[0]))
    for n, column in enumerate(_NAMES[1:], start=1):
        name = name.when(index == n).then(pl.col(column))
    return df.with_columns(_which=which).select(name.alias("counterparty")).to_series()


_NAMES = ("_store", "_target", "_source", "_from_name", "_to_name")
"""The columns a counterparty is taken from (`counterparty`)."""


KEYS = ("text", "_store", "_source", "_target", "_credit", "_debit")
"""What a row's kind, category and counterparty follow from: its description, Store Name,
Source and Target, and whether its amount is above or below zero."""


def kinds(df: pl.DataFrame, codes: dict[str, str] | None = None,
          values: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """Add `_rule` (the number of the rule that gave the kind, which `kind_is` reads), `kind`,
    `category` and `counterparty`: `classify` and `counterparty` of each distinct row shape
    (KEYS), looked up for each row. The same values as theirs run on every row (the rules
    read nothing else of a row; tests/test_payoneer_kinds.py compares both ways).

    `codes`: key -> a column of each row's code of it (UInt32, null for null; equal codes,
    equal values), which `distinct_lookup` combines instead of hashing the keys, and dropped.
    `values`: key -> its distinct values, the code its position, for a key that is no column
    of `df` (payoneer_fields._fields' `keys`)."""
    import polars as pl

    amount = pl.col("amount")
    df = df.with_columns(_credit=amount > 0, _debit=amount < 0)
    coded = {key: column for key, column in (codes or {}).items() if column in df.columns}
    return distinct_lookup(df, list(KEYS), _shapes, coded, values).drop(
        "_credit", "_debit", *coded.values())


def _shapes(shapes: pl.DataFrame) -> pl.DataFrame:
    """`distinct_lookup`'s table: each shape with its rule, kind, category and counterparty,
    worked out on an amount of its sign (the rules compare it with zero only)."""
    import polars as pl

    sign = pl.when(pl.col("_credit")).then(1).when(pl.col("_debit")).then(-1).otherwise(0)
    rows = classify(shapes.with_columns(amount=sign.cast(pl.Decimal(38, 4))))
    return rows.with_columns(counterparty=counterparty(rows)).select(
        *KEYS, CODE, "_rule", "kind", "category", "counterparty")
