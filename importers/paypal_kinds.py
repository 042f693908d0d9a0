"""What each PayPal row is: kind, category and skip reason per distinct (type, status,
Balance Impact), and the counterparty, kind and category per distinct payer and sign
(importers.paypal's `parse` and `rows_many`).

A million-row download holds a handful of types, statuses and payers: the regexes and name
rules run on those (csv_parts.distinct_lookup) and are looked up for each row. An unknown
status is an error at its first row; a payment is an earning or an expense by its sign, or a
transfer when the payer is a platform or wallet (the user's own money arriving).
"""

from __future__ import annotations

from importers.base import is_platform, nonblank
from importers.csv_parts import distinct_lookup
from importers.readers import LINE
from ledger.core.errors import DataError

BOOKED = {"completed", "abgeschlossen", "terminé", "completado", "refunded",
          "partially refunded", "erstattet", "teilweise erstattet", "remboursé",
          "reembolsado", "reversed", "cleared"}
"""Statuses of transactions that moved money (a refunded payment was received first)."""

NOT_BOOKED = {"pending", "denied", "canceled", "cancelled", "held", "unclaimed", "placed",
              "removed", "returned", "uncleared", "expired", "failed", "processing",
              "on hold", "ausstehend", "storniert", "abgelehnt", "offen", "en attente",
              "annulé", "refusé", "pendiente", "cancelado", "rechazado", "denegado"}
"""Known statuses of transactions that did not complete: counted, not booked."""

IMPACT_MEMO = {"memo"}
IMPACT_MOVED = {"debit", "credit", "soll", "haben", "débit", "crédit", "débito", "crédito"}
"""Balance Impact values of a row that moved the balance, whatever its status says (real
downloads list Pending withdrawals and bank deposits whose money already moved)."""

# (pattern on the lower-cased type, kind, category); first match wins.
TYPE_RULES: list[tuple[str, str, str]] = [
    (r"currency conversion|währungsumrechnung|conversion de devise|conversión de divisa",
     "fx", "conversion"),
    (r"fee reversal|fee refund|gebührenerstattung", "payment_fee", "paypal_fee_refund"),
    (r"\bhold\b|release|authori[sz]ation|einbehalt|freigabe|retenue", "hold", "hold"),
    (r"withdrawal|abbuchung|auszahlung|retrait|retiro", "transfer", "withdrawal"),
    (r"deposit|einzahlung|add funds|dépôt|depósito|transfer from bank", "transfer", "deposit"),
    (r"refund|reversal|rückzahlung|erstattung|rückbuchung|remboursement|reembolso",
     "refund", "refund"),
    (r"fee|gebühr|frais|comisión", "payment_fee", "paypal_fee"),
    (r"payment|zahlung|paiement|pago|mass pay|received|checkout|transfer|überweisung",
     "payment", "payment"),
]
"""How a PayPal type becomes a kind. `payment` splits by sign into earning or expense."""


def _with_row_classes(df, path):
    """`df` with the kind, category and skip reason of each row (`_row_classes`)."""
    return distinct_lookup(df, ["type", "_status", "_impact"],
                           lambda combos: _row_classes(combos, df, path))


def _row_classes(combos, df, path):
    """Kind, category and skip reason per distinct (type, status, impact): a handful of
    combinations however long the file, so the regexes run on those only."""
    import polars as pl

    status = pl.col("_status").str.strip_chars().str.to_lowercase()
    _check_statuses(combos.with_columns(status.alias("status")), df, path)
    kind, category = _classify(pl.col("type").str.strip_chars().str.to_lowercase())
    impact = pl.col("_impact").str.strip_chars().str.to_lowercase()
    memo = impact.is_in(sorted(IMPACT_MEMO))
    not_booked = status.is_in(sorted(NOT_BOOKED)) & ~impact.is_in(sorted(IMPACT_MOVED)).fill_null(
        False)
    combos = combos.with_columns(kind=kind, category=category)
    return combos.with_columns(
        _by_balance=not_booked.fill_null(False) & impact.is_null(),
        moved=~memo.fill_null(False) & ~not_booked.fill_null(False),
        skip=pl.when(memo).then(pl.lit("memo (did not move money)"))
        .when(not_booked).then(pl.lit("status ") + pl.col("_status").str.strip_chars())
        .when(pl.col("kind") == "hold").then(pl.lit("hold or release (nets to zero)"))
        .otherwise(None),
    )


def _own_money(payers):
    """Whether each distinct payer is a platform or wallet (the user's own money arriving):
    judged by the payer's name, or the email's domain where there is no name (a client's
    address such as paypal@client.example says nothing); and the counterparty it names on
    money in (`_payer`: the name, else the sender's email) and out (`_payee`)."""
    import polars as pl

    domains = pl.concat_str([pl.col("_from").str.extract(r"@(.+)$"),
                             pl.col("_to").str.extract(r"@(.+)$")], separator=" ",
                            ignore_nulls=True)
    text = pl.coalesce(nonblank(pl.col("_name")), domains)
    # the counterparty of money in and of money out, worked out here once per payer rather
    # than for each of a million rows (0.15 s CPU)
    return payers.with_columns(own_money=is_platform(text),
                               _payer=pl.coalesce(nonblank(pl.col("_name")),
                                                  nonblank(pl.col("_from"))),
                               _payee=pl.coalesce(nonblank(pl.col("_name")),
                                                  nonblank(pl.col("_to"))))


def _parties(combos):
    """`_own_money` of each combination of payer, kind, category and sign (`_in`: the Gross
    is money in), and what it makes of the row: the counterparty a payment or refund names
    (`_counterparty`), the kind (a payment is an earning or an expense by its sign, or a
    transfer of the user's own money) and the category (`_kind`, `_category`)."""
    import polars as pl

    payment = pl.col("kind") == "payment"
    own = pl.col("own_money")
    return _own_money(combos).with_columns(
        _counterparty=pl.when(payment | (pl.col("kind") == "refund"))
        .then(pl.when(pl.col("_in")).then(pl.col("_payer")).otherwise(pl.col("_payee"))),
        _kind=pl.when(payment & own).then(pl.lit("transfer"))
        .when(payment)
        .then(pl.when(pl.col("_in")).then(pl.lit("earning")).otherwise(pl.lit("expense")))
        .otherwise(pl.col("kind")),
        _category=pl.when(payment & own).then(pl.lit("receipt"))
        .otherwise(pl.col("category")),
    )


def _classify(kind_text):
    import polars as pl

    kind = pl.lit("other")
    category = pl.lit(None, dtype=pl.String)
    for pattern, k, c in reversed(TYPE_RULES):
        hit = kind_text.str.contains(pattern)
        kind = pl.when(hit).then(pl.lit(k)).otherwise(kind)
        category = pl.when(hit).then(pl.lit(c)).otherwise(category)
    return kind, pl.coalesce(category, kind_text.str.replace_all(r"\s+", "_"))


def _check_statuses(combos, df, path) -> None:
    """An unknown status is an error at the first row that has it."""
    import polars as pl

    known = sorted(BOOKED | NOT_BOOKED)
    bad = combos.filter(pl.col("status").is_not_null() & ~pl.col("status").is_in(known))
    if bad.height:
        value = bad["_status"][0]
        line = int(df.filter(pl.col("_status") == value)[LINE].min())
        raise DataError(
            f"unknown PayPal status {value!r}", path=path, line=line,
            hint="known statuses: Completed, Pending, Denied, Refunded, Reversed, Canceled... "
            "Please report this status so it can be mapped; meanwhile remove the row",
        )
