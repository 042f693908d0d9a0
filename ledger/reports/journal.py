"""Ledger rows as balanced double-entry transactions, and the text helpers both journal
formats share (ledger.export_hledger, ledger.export_beancount).

Each row is one transaction: the row's own account (`Assets:Upwork`, `Assets:PayPal`,
`Assets:Bank:Meezan`) against an account its kind decides (`Income:Freelance:Upwork`,
`Expenses:Fees:Platform:Upwork`, `Expenses:Fees:Payment:PayPal`, `Expenses:Tax:Withholding`...).
The two legs of a conversion (PayPal, Wise, Payoneer) become one transaction. Every
transaction says where it came from: source format, file, line and row id. Amounts are
Decimal, written with at least the currency's minor units and never rounded.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger

NAMES = {"upwork": "Upwork", "paypal": "PayPal", "payoneer": "Payoneer", "wise": "Wise",
         "fiverr": "Fiverr", "freelancer": "Freelancer", "ofx": "OFX", "camt053": "Camt053",
         "mt940": "MT940", "bank": "Bank", "vat": "VAT", "gst": "GST", "wht": "WHT"}
"""How known sources and accounts are spelt in account names."""

TRANSFERS = "Assets:Transfers"
"""Money on its way between two of the user's accounts: a transfer out of Upwork and the
same money arriving at the bank cancel here; what is left is in transit, or went to an
account that is not in the ledger."""

CONVERSIONS = "Equity:Conversions"
"""The other side of a conversion leg whose partner is not in the ledger (unvalued exports)."""

FX = "Expenses:FX"
"""What conversions cost, as the report counts it: a conversion's two legs valued in the home
currency at the day's rate, summed (a lone leg: its whole value)."""


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal
    currency: str
    price: tuple[Decimal, str] | None = None
    """Total cost in another currency (`@@`), for the incoming leg of a conversion."""
    meta: tuple[tuple[str, object], ...] = ()
    assertion: Decimal | None = None
    """The account's balance in `currency` after this posting, as the export printed it."""


@dataclass(frozen=True)
class Transaction:
    date: dt.date
    flag: str
    """`*` for rows read from a file, `!` where a rule derived a row (worth a look)."""
    payee: str
    narration: str
    postings: tuple[Posting, ...]
    meta: tuple[tuple[str, object], ...] = field(default=())

    def weights(self) -> dict[str, Decimal]:
        """Sum of the postings per currency, a priced posting counted at its cost: all zero
        in a balanced transaction."""
        out: dict[str, Decimal] = {}
        for p in self.postings:
            amount, currency = p.price if p.price else (p.amount, p.currency)
            if p.price and p.amount < 0:
                amount = -amount
            out[currency] = out.get(currency, Decimal(0)) + amount
        return out


def file_names(ledger: Ledger) -> dict[str, str]:
    """import_id -> the file name it was imported from (for provenance)."""
    return {e["import_id"]: e["file"] for e in ledger.active_imports()}


# --- account names --------------------------------------------------------------------------

def component(text: str | None) -> str:
    """One account-name component valid in hledger and beancount: ASCII letters and digits,
    each word capitalised (`Upwork Escrow Inc.` -> `UpworkEscrowInc`), `Unknown` if nothing
    is left."""
    if not text:
        return "Unknown"
    known = NAMES.get(text.strip().lower())
    if known:
        return known
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    name = "".join(w[0].upper() + w[1:] for w in words)
    return name or "Unknown"


def account_path(account: str) -> str:
    """The ledger's account name as components: `bank:meezan` -> `Bank:Meezan`."""
    return ":".join(component(part) for part in account.split(":"))


def counter_account(row: dict) -> str:
    """Where a row's money came from or went, by its kind."""
    own = account_path(row["account"])
    kind = row["kind"]
    if kind in ("earning", "refund"):
        return f"Income:Freelance:{own}"
    if kind == "platform_fee":
        return f"Expenses:Fees:Platform:{own}"
    if kind == "payment_fee":
        return f"Expenses:Fees:Payment:{own}"
    if kind == "bank_fee":  # bank:meezan -> Expenses:Fees:Bank:Meezan
        return "Expenses:Fees:Bank:" + own.removeprefix("Bank:")
    if kind == "tax":
        category = (row.get("category") or "").lower()
        if category in ("", "wht", "withholding", "tax"):
            return "Expenses:Tax:Withholding"
        return f"Expenses:Tax:{component(category)}"
    if kind == "subcontractor_payout":
        who = row.get("counterparty")
        return f"Expenses:Subcontractors:{component(who)}" if who else "Expenses:Subcontractors"
    if kind == "expense":
        return "Expenses:Business"
    if kind == "transfer":
        return TRANSFERS
    if kind == "fx":
        return CONVERSIONS
    if kind == "adjustment":  # the report counts it in net: income (or, negative, a cost)
        return "Income:Adjustments"
    return "Income:Other" if row["amount"] > 0 else "Expenses:Other"


# --- transactions ---------------------------------------------------------------------------

def _provenance(row: dict, files: dict[str, str]) -> tuple[tuple[str, object], ...]:
    meta: list[tuple[str, object]] = [
        ("source", row["source"]),
        ("file", files.get(row["import_id"], row["import_id"][:12])),
        ("line", int(row["line"])),
        ("id", row["id"]),
    ]
    if row.get("ref"):
        meta.append(("ref", row["ref"]))
    if row["origin"] != "source":
        meta.append(("origin", row["origin"]))
    return tuple(meta)


def _flag(*rows: dict) -> str:
    """`*` for rows as stored (a user rule's re-classification included), `!` for rows the
    fee rules derived."""
    from ledger.core.user_rules import ORIGIN

    return "*" if all(r["origin"] == "source" or r["origin"].startswith(ORIGIN)
                      for r in rows) else "!"


def _payee(row: dict) -> str:
    return row.get("counterparty") or account_path(row["account"]).replace(":", " ")


def conversion_pairs(rows: list[dict]) -> list[tuple[int, int]]:
    """Indexes (out, in) of `fx` legs that are one conversion, paired by the one rule
    (rules.conversions.conversion_pairs): same account and date, one out and one in, in
    different currencies, sharing a related_ref (PayPal, Wise) or pointing at each other's
    ref (Payoneer)."""
    import polars as pl

    from rules.conversions import conversion_pairs as pairs

    legs = [(i, r) for i, r in enumerate(rows) if r["kind"] == "fx"]
    if not legs:
        return []
    frame = pl.DataFrame({
        "i": [i for i, _ in legs], "kind": ["fx"] * len(legs),
        "account": [r["account"] for _, r in legs], "date": [r["date"] for _, r in legs],
        "ref": [r.get("ref") or None for _, r in legs],
        "related_ref": [r.get("related_ref") or None for _, r in legs],
        "amount": [(r["amount"] > 0) - (r["amount"] < 0) for _, r in legs],
        "currency": [r["currency"] for _, r in legs]},
        schema={"i": pl.Int64, "kind": pl.String, "account": pl.String, "date": pl.Date,
                "ref": pl.String, "related_ref": pl.String, "amount": pl.Int8,
                "currency": pl.String})
    return sorted(pairs(frame, key="i").iter_rows())


def transactions(rows: pl.DataFrame, files: dict[str, str] | None = None,
                 home: str | None = None) -> list[Transaction]:
    """Balanced transactions for the rows, by date and else in the rows' order (a conversion
    where its first leg is).

    With `home` (and a `value` column: each row in `home` at its date's rate, as the report
    values it) a conversion's legs are priced at their values (`@@ PKR`) and the difference
    is its FX cost, an `Expenses:FX` posting; a lone leg goes against `Expenses:FX` whole."""
    files = files or {}
    valued = home is not None and "value" in rows.columns
    records = list(rows.iter_rows(named=True))
    pairs = conversion_pairs(records)
    partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
    out: list[Transaction] = []
    done: set[int] = set()
    for i, row in enumerate(records):
        if i in done:
            continue
        if i in partner:
            a, b = sorted((i, partner[i]), key=lambda k: records[k]["amount"])
            leg_out, leg_in = records[a], records[b]
            done.update((a, b))
            own = f"Assets:{account_path(leg_in['account'])}"
            narration = f"{leg_out['description']} ({leg_out['currency']} to " \
                        f"{leg_in['currency']})"
            if valued:
                postings = _valued_conversion(own, leg_out, leg_in, home, files)  # type: ignore[arg-type]
            else:
                postings = (
                    Posting(own, leg_in["amount"], leg_in["currency"],
                            price=(-leg_out["amount"], leg_out["currency"]),
                            meta=_provenance(leg_in, files)),
                    Posting(own, leg_out["amount"], leg_out["currency"],
                            meta=_provenance(leg_out, files)))
            out.append(Transaction(date=leg_in["date"], flag=_flag(leg_out, leg_in),
                                   payee=_payee(leg_in), narration=narration,
                                   postings=postings))
            continue
        amount = row["amount"]
        out.append(Transaction(
            date=row["date"], flag=_flag(row), payee=_payee(row),
            narration=row["description"],
            postings=(Posting(f"Assets:{account_path(row['account'])}", amount,
                              row["currency"]),
                      Posting(FX if valued and row["kind"] == "fx" else counter_account(row),
                              -amount, row["currency"])),
            meta=_provenance(row, files)))
    return sorted(out, key=lambda t: t.date)


def _valued_conversion(own: str, leg_out: dict, leg_in: dict, home: str,
                       files: dict[str, str]) -> tuple[Posting, ...]:
    """`918.40 EUR @@ <its value> PKR`, `-1000.00 USD @@ <its value> PKR` and the difference
    as `Expenses:FX` in PKR: the report's FX cost of this conversion, exactly."""
    legs = []
    for leg in (leg_in, leg_out):
        value = Decimal(leg["value"])
        price = None if leg["currency"] == home else (abs(value), home)
        legs.append(Posting(own, leg["amount"], leg["currency"], price=price,
                            meta=_provenance(leg, files)))
    cost = -(Decimal(leg_in["value"]) + Decimal(leg_out["value"]))
    return (*legs, Posting(FX, cost, home))


# --- text ---------------------------------------------------------------------------------

@cache
def _minor_units(currency: str) -> int:
    from ledger.core.money import minor_units

    return minor_units(currency)  # babel's lookup, once per currency (not per posting)


def amount_text(amount: Decimal, currency: str) -> str:
    """Fixed point with at least the currency's minor units, never rounded: `-25.00`,
    `1500` (JPY), `0.1234` (a rate-derived fee kept exact)."""
    exponent = amount.normalize().as_tuple().exponent
    places = max(_minor_units(currency), -exponent if isinstance(exponent, int) else 0)
    text = f"{amount.quantize(Decimal(1).scaleb(-places)):f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


_SPACES = re.compile(r"\s+")


def oneline(text: object) -> str:
    return _SPACES.sub(" ", str(text or "")).strip()


def header(txns: list[Transaction], rows: int, what: str, comment: str) -> list[str]:
    span = f", {txns[0].date} to {max(t.date for t in txns)}" if txns else ""
    return [f"{comment} freelance-ledger export ({what}): {rows} rows in "
            f"{len(txns)} transactions{span}",
            f"{comment} Each transaction is one ledger row (a conversion: its two legs); its "
            "metadata say where",
            f"{comment} it came from: source format, file, line and row id (`ledger "
            "transactions` shows it too).", ""]


def posting_lines(postings: tuple[Posting, ...], indent: str) -> list[tuple[str, str, str]]:
    """(account, amount with currency, price) per posting, for aligning."""
    out = []
    for p in postings:
        price = f" @@ {amount_text(p.price[0], p.price[1])} {p.price[1]}" if p.price else ""
        out.append((indent + p.account, f"{amount_text(p.amount, p.currency)} {p.currency}",
                    price))
    return out


def aligned(lines: list[tuple[str, str, str]]) -> list[str]:
    width = max(len(a) for a, _, _ in lines) + 2
    amount_width = max(len(m) for _, m, _ in lines)
    return [f"{a.ljust(width)}{m.rjust(amount_width)}{p}" for a, m, p in lines]
