"""Exports of the canonical rows: hledger and beancount journals, CSV and Parquet.

The journals turn each ledger row into one balanced transaction: the row's own account
(`Assets:Upwork`, `Assets:PayPal`, `Assets:Bank:Meezan`) against an account its kind decides
(`Income:Freelance:Upwork`, `Expenses:Fees:Platform:Upwork`, `Expenses:Fees:Payment:PayPal`,
`Expenses:Tax:Withholding`...). The two legs of a conversion (PayPal, Wise, Payoneer) become
one transaction, `918.40 EUR @@ 1000.00 USD` against `-1000.00 USD`. Every transaction says
where it came from: source format, file, line and row id. Amounts are Decimal, written with
at least the currency's minor units and never rounded.

CSV and Parquet carry the canonical rows themselves; `read_csv` / `read_parquet` read them
back exactly (Decimal amounts, dates, kinds). In CSV a cell a spreadsheet would run as a
formula (starting with = + - @ tab, CR) gets a leading apostrophe, as do cells that start
with one, so `read_csv` can strip it without guessing.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import DataError

if TYPE_CHECKING:
    import polars as pl

    from ledger.store import Ledger

FORMATS = ("hledger", "beancount", "csv", "parquet")

NAMES = {"upwork": "Upwork", "paypal": "PayPal", "payoneer": "Payoneer", "wise": "Wise",
         "fiverr": "Fiverr", "freelancer": "Freelancer", "ofx": "OFX", "camt053": "Camt053",
         "mt940": "MT940", "bank": "Bank", "vat": "VAT", "gst": "GST", "wht": "WHT"}
"""How known sources and accounts are spelt in account names."""

TRANSFERS = "Assets:Transfers"
"""Money on its way between two of the user's accounts: a transfer out of Upwork and the
same money arriving at the bank cancel here; what is left is in transit, or went to an
account that is not in the ledger."""

CONVERSIONS = "Equity:Conversions"
"""The other side of a conversion leg whose partner is not in the ledger."""

CSV_ESCAPE = r"^[=+\-@\t\r']"
"""CSV cells starting like this get a leading apostrophe (and lose it in read_csv)."""


@dataclass(frozen=True)
class Posting:
    account: str
    amount: Decimal
    currency: str
    price: tuple[Decimal, str] | None = None
    """Total cost in another currency (`@@`), for the incoming leg of a conversion."""
    meta: tuple[tuple[str, object], ...] = ()


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


# --- choosing rows --------------------------------------------------------------------------

def select(ledger: Ledger, *, month: str | None = None, year: int | None = None,
           start: str | None = None, end: str | None = None,
           derived: bool = False) -> tuple[pl.DataFrame, str]:
    """The ledger's rows, all of them or one period's, and a label for what was chosen.

    `derived`: the rows as the report counts them, with the fee rules applied (fees a source
    folded into net amounts, conversions inside withdrawals...; origin `rule:<id>`)."""
    import polars as pl

    from ledger.report import Period, resolve_period

    rows = ledger.rows()
    if rows.is_empty():
        raise DataError("the ledger is empty", path=ledger.root,
                        hint="import exports first: ledger import FILE")
    everything = month is None and year is None and start is None and end is None
    period = Period(rows["date"].min(), rows["date"].max(), "all rows") if everything else \
        resolve_period(rows, month=month, year=year, start=start, end=end)
    if derived:  # as the report counts them: fee rules, and what reconcile matched
        from ledger import reconcile
        from ledger.report import counted_rows

        journeys = reconcile.for_ledger(ledger, (period.start, period.end), rows=rows)
        return counted_rows(ledger, rows, period, journeys)[0], period.label
    return rows.filter(pl.col("date").is_between(period.start, period.end)), period.label


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
    if kind == "adjustment":
        return "Equity:Adjustments"
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
    return "*" if all(r["origin"] == "source" for r in rows) else "!"


def _payee(row: dict) -> str:
    return row.get("counterparty") or account_path(row["account"]).replace(":", " ")


def conversion_pairs(rows: list[dict]) -> list[tuple[int, int]]:
    """Indexes (out, in) of `fx` legs that are one conversion: same account and date, one
    out and one in, in different currencies, sharing a related_ref (PayPal, Wise) or pointing
    at each other's ref (Payoneer)."""
    legs = [i for i, r in enumerate(rows) if r["kind"] == "fx"]
    paired: set[int] = set()
    out: list[tuple[int, int]] = []

    def pair(a: int, b: int) -> bool:
        ra, rb = rows[a], rows[b]
        if ra["amount"] > 0:
            a, b, ra, rb = b, a, rb, ra
        if not (ra["amount"] < 0 < rb["amount"] and ra["currency"] != rb["currency"]):
            return False
        out.append((a, b))
        paired.update((a, b))
        return True

    groups: dict[tuple, list[int]] = {}
    for i in legs:
        r = rows[i]
        if r.get("related_ref"):
            groups.setdefault((r["account"], r["date"], r["related_ref"]), []).append(i)
    for members in groups.values():
        if len(members) == 2:
            pair(*members)
    by_ref = {(rows[i]["account"], rows[i]["date"], rows[i]["ref"]): i for i in legs
              if rows[i].get("ref") and i not in paired}
    for i in legs:
        r = rows[i]
        if i in paired or not r.get("related_ref") or not r.get("ref"):
            continue
        j = by_ref.get((r["account"], r["date"], r["related_ref"]))
        if j is not None and j != i and j not in paired \
                and rows[j].get("related_ref") == r["ref"]:
            pair(i, j)
    return sorted(out)


def transactions(rows: pl.DataFrame, files: dict[str, str] | None = None) -> list[Transaction]:
    """Balanced transactions for the rows, by date and else in the rows' order (a conversion
    where its first leg is)."""
    files = files or {}
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
            cost = (-leg_out["amount"], leg_out["currency"])
            out.append(Transaction(
                date=leg_in["date"], flag=_flag(leg_out, leg_in), payee=_payee(leg_in),
                narration=f"{leg_out['description']} ({leg_out['currency']} to "
                          f"{leg_in['currency']})",
                postings=(
                    Posting(own, leg_in["amount"], leg_in["currency"], price=cost,
                            meta=_provenance(leg_in, files)),
                    Posting(own, leg_out["amount"], leg_out["currency"],
                            meta=_provenance(leg_out, files)))))
            continue
        amount = row["amount"]
        out.append(Transaction(
            date=row["date"], flag=_flag(row), payee=_payee(row),
            narration=row["description"],
            postings=(Posting(f"Assets:{account_path(row['account'])}", amount,
                              row["currency"]),
                      Posting(counter_account(row), -amount, row["currency"])),
            meta=_provenance(row, files)))
    return sorted(out, key=lambda t: t.date)


# --- text ---------------------------------------------------------------------------------

def amount_text(amount: Decimal, currency: str) -> str:
    """Fixed point with at least the currency's minor units, never rounded: `-25.00`,
    `1500` (JPY), `0.1234` (a rate-derived fee kept exact)."""
    from ledger.money import minor_units

    exponent = amount.normalize().as_tuple().exponent
    places = max(minor_units(currency), -exponent if isinstance(exponent, int) else 0)
    text = f"{amount.quantize(Decimal(1).scaleb(-places)):f}"
    return text[1:] if text.startswith("-") and Decimal(text) == 0 else text


def _oneline(text: object) -> str:
    return re.sub(r"\s+", " ", str(text or "")).strip()


def _accounts(txns: list[Transaction]) -> dict[str, dt.date]:
    first: dict[str, dt.date] = {}
    for t in txns:
        for p in t.postings:
            if p.account not in first or t.date < first[p.account]:
                first[p.account] = t.date
    return dict(sorted(first.items()))


def _header(txns: list[Transaction], rows: int, what: str, comment: str) -> list[str]:
    span = f", {txns[0].date} to {max(t.date for t in txns)}" if txns else ""
    return [f"{comment} freelance-ledger export ({what}): {rows} rows in "
            f"{len(txns)} transactions{span}",
            f"{comment} Each transaction is one ledger row (a conversion: its two legs); its "
            "metadata say where",
            f"{comment} it came from: source format, file, line and row id (`ledger "
            "transactions` shows it too).", ""]


def _posting_lines(postings: tuple[Posting, ...], indent: str) -> list[tuple[str, str, str]]:
    """(account, amount with currency, price) per posting, for aligning."""
    out = []
    for p in postings:
        price = f" @@ {amount_text(p.price[0], p.price[1])} {p.price[1]}" if p.price else ""
        out.append((indent + p.account, f"{amount_text(p.amount, p.currency)} {p.currency}",
                    price))
    return out


def _aligned(lines: list[tuple[str, str, str]]) -> list[str]:
    width = max(len(a) for a, _, _ in lines) + 2
    amount_width = max(len(m) for _, m, _ in lines)
    return [f"{a.ljust(width)}{m.rjust(amount_width)}{p}" for a, m, p in lines]


def _tag_value(value: object) -> str:
    return _oneline(value).replace(",", " ")


def to_hledger(rows: pl.DataFrame, files: dict[str, str] | None = None) -> str:
    """An hledger journal: account declarations with types, then one transaction per row
    with its provenance as tags (`; source: upwork, file: x.csv, line: 13, id: ...`)."""
    txns = transactions(rows, files)
    out = _header(txns, rows.height, "hledger journal", ";")
    out += ["decimal-mark .", ""]
    types = {"Assets": "A", "Liabilities": "L", "Equity": "E", "Income": "R", "Expenses": "X"}
    names = list(_accounts(txns))
    width = max((len(n) for n in names), default=0) + 2
    out += [f"account {name.ljust(width)}; type: {types[name.split(':')[0]]}" for name in names]
    for t in txns:
        payee = _oneline(t.payee).replace("|", "/").replace(";", ",")
        note = _oneline(t.narration).replace(";", ",")
        out += ["", f"{t.date} {t.flag} {payee} | {note}".rstrip()]
        if t.meta:
            out.append("    ; " + ", ".join(f"{k}: {_tag_value(v)}" for k, v in t.meta))
        lines = _aligned(_posting_lines(t.postings, "    "))
        for line, p in zip(lines, t.postings, strict=True):
            tags = ", ".join(f"{k}: {_tag_value(v)}" for k, v in p.meta)
            out.append(f"{line}  ; {tags}" if tags else line)
    return "\n".join(out) + "\n"


def _bean_string(text: object) -> str:
    escaped = _oneline(text).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{escaped}"'


def _bean_meta(key: str, value: object) -> str:
    return f"{key}: {value}" if isinstance(value, int) else f"{key}: {_bean_string(value)}"


def to_beancount(rows: pl.DataFrame, files: dict[str, str] | None = None) -> str:
    """A beancount file: `open` directives (each dated on the account's first use), then one
    transaction per row with its provenance as metadata."""
    txns = transactions(rows, files)
    out = _header(txns, rows.height, "beancount", ";;")
    out += ['option "title" "Freelance ledger"', ""]
    out += [f"{first} open {name}" for name, first in _accounts(txns).items()]
    for t in txns:
        out += ["", f"{t.date} {t.flag} {_bean_string(t.payee)} {_bean_string(t.narration)}"]
        out += [f"  {_bean_meta(k, v)}" for k, v in t.meta]
        lines = _aligned(_posting_lines(t.postings, "  "))
        for line, p in zip(lines, t.postings, strict=True):
            out.append(line)
            out += [f"    {_bean_meta(k, v)}" for k, v in p.meta]
    return "\n".join(out) + "\n"


# --- CSV and Parquet: the canonical rows themselves -------------------------------------------

def _string_columns() -> list[str]:
    import polars as pl

    from ledger.schema import columns

    return [name for name, dtype in columns().items() if dtype == pl.String()]


def to_csv(rows: pl.DataFrame) -> str:
    """The canonical rows as CSV: every column, amounts exact (`-25.0000`), empty cells for
    nulls and `""` for empty text, formula-like cells behind an apostrophe."""
    import polars as pl

    escaped = rows.with_columns(
        pl.when(pl.col(c).str.contains(CSV_ESCAPE)).then(pl.lit("'") + pl.col(c))
        .otherwise(pl.col(c)).alias(c) for c in _string_columns())
    return escaped.write_csv()


def read_csv(source: str | Path | bytes, where: str = "csv") -> pl.DataFrame:
    """Canonical rows back from `to_csv`: the same values and types, validated."""
    import io

    import polars as pl

    from ledger.schema import columns, validate

    data = source.encode() if isinstance(source, str) else source
    try:
        raw = pl.read_csv(data if isinstance(data, Path) else io.BytesIO(data),
                          infer_schema=False, glob=False)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"not a ledger CSV: {exc}", path=where) from None
    expected = list(columns())
    if raw.columns != expected:
        raise DataError(f"the columns are {raw.columns}, expected {expected}", path=where,
                        hint="read a file written by `ledger export --format csv`")
    unescaped = raw.with_columns(
        pl.when(pl.col(c).str.starts_with("'")).then(pl.col(c).str.slice(1))
        .otherwise(pl.col(c)).alias(c) for c in _string_columns())
    try:
        typed = unescaped.with_columns(pl.col("date").str.to_date("%Y-%m-%d")).with_columns(
            pl.col(name).cast(dtype, strict=True) for name, dtype in columns().items()
            if name != "date")
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"a value does not fit its column: {exc}".splitlines()[0], path=where,
                        hint="read a file written by `ledger export --format csv`") from None
    return validate(typed, where)


def write_parquet(rows: pl.DataFrame, path: Path) -> None:
    """The canonical rows as Parquet (what ledger.parquet holds), written atomically."""
    from ledger.store import atomic_write

    atomic_write(path, lambda tmp: rows.write_parquet(tmp))


def read_parquet(path: Path) -> pl.DataFrame:
    import polars as pl

    from ledger.schema import validate

    return validate(pl.read_parquet(path, glob=False), str(path))


def export(rows: pl.DataFrame, fmt: str, files: dict[str, str] | None = None
           ) -> str | pl.DataFrame:
    """Text for hledger, beancount and csv; the validated frame for parquet."""
    from ledger.errors import UsageError
    from ledger.schema import validate

    if fmt == "hledger":
        return to_hledger(rows, files)
    if fmt == "beancount":
        return to_beancount(rows, files)
    if fmt == "csv":
        return to_csv(rows)
    if fmt == "parquet":
        return validate(rows, "export")
    raise UsageError(f"unknown export format {fmt!r}", hint="formats: " + ", ".join(FORMATS))
