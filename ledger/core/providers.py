"""Every provider the ledger knows, in one place: its role, how others name it, and how long a
transfer from it takes to arrive. Importers, fee rules, reconcile, quotes and reports all read
these names here, so adding a provider is one edit."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

PLATFORMS = ("upwork", "fiverr", "freelancer")
"""Marketplaces that pay the freelancer (their exports book the earning and the fees)."""
WALLETS = ("payoneer", "paypal", "wise")
"""Wallets that hold money between the platform and the bank."""
CHANNELS = PLATFORMS + WALLETS
"""Every platform and wallet with an importer, in the order reports list them."""
BANK_FORMATS = ("ofx", "camt053", "mt940")
"""Bank statement formats whose source has no `bank:` prefix in old ledgers."""

ALIASES = {"upwork": "upwork|elance|odesk", "fiverr": "fiverr", "freelancer": "freelancer",
           "payoneer": "payoneer", "paypal": "paypal", "wise": "wise|transferwise"}
"""Provider -> how another statement names it (a lower-case regex alternative)."""

PAYER_PATTERN = (r"(?i)\b(upwork|elance|odesk|fiverr|freelancer|payoneer|paypal|transferwise"
                 r"|wise (payments|us|europe))\b")
"""Payers whose payments are the user's own money arriving from a platform or wallet whose
export the ledger imports itself: transfers, not income (that export booked the earning).
Platforms the ledger cannot import (Toptal, PeoplePerHour...) stay income where they pay."""

TRANSFER_DAYS = {
    # calendar days from the withdrawal to the credit, the providers' stated delays plus a
    # weekend: Upwork direct to local bank 3-5 business days (to Payoneer/PayPal 1-2);
    # Fiverr 2 weeks clearing is before the withdrawal, then 2-7 days; Payoneer to a local
    # bank 1-3 business days; PayPal to a bank 3-7 business days; Wise 1-2 business days.
    "upwork": 7, "fiverr": 7, "freelancer": 7, "payoneer": 5, "paypal": 7, "wise": 4,
}
DEFAULT_TRANSFER_DAYS = 7


def provider_of(source: str) -> str:
    """`paypal:main` -> `paypal`: the provider part of a source (account) name."""
    return source.split(":", 1)[0]


def platform(source: pl.Expr) -> pl.Expr:
    """The provider part of a source column (`upwork:alice` -> `upwork`), as an expression."""
    return source.str.split(":").list.first()


def role(source: pl.Expr) -> pl.Expr:
    """`platform`, `wallet`, `bank` or null for each source."""
    import polars as pl

    provider = platform(source)
    return (pl.when(provider.is_in(PLATFORMS)).then(pl.lit("platform"))
            .when(provider.is_in(WALLETS)).then(pl.lit("wallet"))
            .when(source.str.starts_with("bank:") | source.is_in(BANK_FORMATS))
            .then(pl.lit("bank")).otherwise(pl.lit(None, dtype=pl.String)))
