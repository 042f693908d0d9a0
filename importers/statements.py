"""What the bank statement formats (OFX, camt.053, MT940) share: how a bank row is classified
(fee, own-account transfer, or by sign), the row key built on the bank's reference, and the
line numbers of records found by offset. A helper, like base.py: the formats import it,
never each other.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

PLATFORM_PAYERS = r"(?i)\b(upwork|payoneer|paypal|wise|transferwise|fiverr)\b"
"""Names on a bank credit that mean money moved from the user's own platform/wallet account."""


def bank_kind(amount: pl.Expr, text: pl.Expr, *, fee: pl.Expr | None = None,
              transfer: pl.Expr | None = None, other: pl.Expr | None = None,
              ) -> tuple[pl.Expr, pl.Expr | None]:
    """(kind, category override) of a bank row: fee, own-account transfer, or by sign.

    `fee`, `transfer`, `other` are boolean flags the statement format knows; a credit whose
    `text` names a platform or wallet is a transfer with category `platform_payout`.
    """
    import polars as pl

    false = pl.lit(False)
    platform = (amount > 0) & text.fill_null("").str.contains(PLATFORM_PAYERS)
    kind = (pl.when((fee if fee is not None else false).fill_null(False)).then(pl.lit("bank_fee"))
            .when((transfer if transfer is not None else false).fill_null(False))
            .then(pl.lit("transfer"))
            .when(platform).then(pl.lit("transfer"))
            .when((other if other is not None else false).fill_null(False)).then(pl.lit("other"))
            .when(amount > 0).then(pl.lit("earning"))
            .when(amount < 0).then(pl.lit("expense"))
            .otherwise(pl.lit("other")))
    category = pl.when(platform & ~(fee if fee is not None else false).fill_null(False)
                       ).then(pl.lit("platform_payout")).otherwise(None)
    return kind, category


def ref_key(ref: str, content: list[str], leg: str | None = None) -> pl.Expr:
    """Row key: the source's ref where it is unique in the file; else ref plus content and the
    occurrence; without a ref, the content and occurrence. The `leg` column tells several rows
    of one source entry apart (an entry and its charges).
    """
    import polars as pl

    legs = [leg] if leg else []
    parts = [pl.col(c).cast(pl.String).fill_null("") for c in [*content, *legs]]
    occurrence = pl.int_range(pl.len()).over([ref, *content, *legs]).cast(pl.String)
    full = pl.concat_str([pl.col(ref).fill_null(""), *parts, occurrence], separator="|")
    unique_ref = pl.col(ref).is_not_null() & (pl.len().over([ref, *legs]) == 1)
    by_ref = pl.concat_str([pl.col(ref), *[pl.col(c) for c in legs]], separator="|")
    return pl.when(unique_ref).then(by_ref).otherwise(full)


def line_starts(text: str | bytes, offsets: list[int]) -> list[int]:
    """1-based line numbers of ascending offsets in `text` (characters, or bytes)."""
    newline = b"\n" if isinstance(text, bytes) else "\n"
    lines, line, previous = [], 1, 0
    for offset in offsets:
        line += text.count(newline, previous, offset)  # type: ignore[arg-type]
        previous = offset
        lines.append(line)
    return lines
