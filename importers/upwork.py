"""Upwork transaction history: the classic 13-column CSV and the 19-column one (2024 onward).

All amounts are USD, signed from the freelancer's balance, newest first, with a running
balance that every row is checked against. Fee rows cite the earning they were charged on
(`Service Fee - Ref ID 612345678`), which becomes `related_ref`. Hourly invoices carry the
hours billed (`14:20 hrs` is 14 h 20 min). Pending rows of the newer layout (empty balance,
or dated in the future) are not booked: they have not cleared.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers import stacked
from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    finalize,
    known_key,
    parse_dates_once,
    parse_money_columns,
    slim,
)
from importers.csv_parts import (
    distinct_codes,
    in_order,
    newest_first_runs,
    trimmed,
    trimmed_codes,
)
from importers.raw_files import RawFile
from importers.readers import LINE, Table, read_table

if TYPE_CHECKING:
    import polars as pl

SOURCE = "upwork"

CLASSIC = {"date", "ref id", "type", "description", "amount", "balance"}
NEW = {"date", "transaction id", "transaction type", "amount $", "ref id"}

TYPES: dict[str, tuple[str, str]] = {
    "hourly": ("earning", "hourly"),
    "fixed price": ("earning", "fixed_price"),
    "fixed-price": ("earning", "fixed_price"),
    "bonus": ("earning", "bonus"),
    "milestone": ("earning", "milestone"),
    "service fee": ("platform_fee", "service_fee"),
    "connects": ("platform_fee", "connects"),
    "membership": ("platform_fee", "membership"),
    "membership fee": ("platform_fee", "membership"),
    "subscription": ("platform_fee", "membership"),
    "vat": ("platform_fee", "vat"),
    "gst": ("platform_fee", "vat"),
    "processing fee": ("platform_fee", "processing_fee"),
    "wht": ("tax", "wht"),
    "withdrawal": ("transfer", "withdrawal"),
    "withdrawal fee": ("payment_fee", "withdrawal_fee"),
    "refund": ("refund", "refund"),
    "adjustment": ("adjustment", "adjustment"),
    "miscellaneous": ("other", "miscellaneous"),
    "expense": ("expense", "expense"),
}
"""Upwork's `Type` (normalised) -> (kind, category). Unknown types import as `other`, warned."""

DATE_FORMATS = ["%b %d, %Y", "%Y-%m-%d", "%B %d, %Y"]

CONNECTS = "".join(f"[{c}{c.upper()}]" for c in "connects")
"""A platform fee whose text, lower-cased, holds "connects" is one for Connects. No character
but the ASCII capitals lower-cases to any of these letters, so a class per letter finds the
same texts without a lower-cased copy of each fee's (tests/test_upwork_types.py)."""


def _is_classic(cells: set[str]) -> bool:
    return cells >= CLASSIC and "transaction id" not in cells


def _is_new(cells: set[str]) -> bool:
    return cells >= NEW


def detect_classic(raw: RawFile) -> bool:
    return raw.header_is_first(_is_classic)


def detect_new(raw: RawFile) -> bool:
    return raw.header_is_first(_is_new)


def _require(table: Table) -> None:
    table.require("date", ("ref id", "transaction id"), ("type", "transaction type"),
                  ("amount", "amount $"))


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    # a large file's other cells are not kept, nor its columns copied into one piece each:
    # `_in_ledger_order` copies them once, in the ledger's order
    table = read_table(raw, 0, columns=_READ, chunked=True)
    _require(table)
    path = raw.path
    rows_read = table.df.height
    coded: dict[str, pl.Series] = {}
    df = _fields(table.df, table, path, coded)
    del table  # the export's strings: _fields took what is needed (memory)
    df, skipped = _booked(df, options)
    check_running_balance(df, path=path)
    key = known_key(df, [])  # each row's key is its ref: proven distinct where every ref
    # is a distinct number, so the registry need not hash the ids to prove it
    index, types = distinct_codes(df.drop_in_place("type"))  # (moved as 4-byte codes)
    df.drop_in_place("balance")  # checked: no ledger column, not moved into its order
    df = _in_ledger_order(df.with_columns(index.alias(TYPE_CODE)), key is not None)
    df, warnings = _classified(_decoded(df, coded), types)
    account = options.account or SOURCE
    df = slim(df)
    rows = finalize(df, raw, source=SOURCE, account=account, key=key)
    return Parsed(rows=rows, format="upwork", rows_read=rows_read, skipped=skipped,
                  warnings=warnings, ids_distinct=key is not None)


def rows_many(raws: list[RawFile], options: ImportOptions) -> list[pl.DataFrame | None]:
    """`parse(raw, options).rows` of each file, the files with the same columns parsed as one
    frame (importers/stacked.py); None where `parse` must read the file alone."""
    out: list[pl.DataFrame | None] = [None] * len(raws)
    if not stacked.covered(raws):
        return out
    for group in stacked.tables(raws, _require).values():
        # a file of ORDERED_ROWS rows or more: `parse` gives its rows in the ledger's order
        group = [(i, t) for i, t in group if t.df.height < ORDERED_ROWS]
        if not group:
            continue
        try:
            table = group[0][1]
            df = _fields(stacked.stack(group), table, raws[group[0][0]].path)
            df, _ = _booked(df, options)
            df = stacked.without(df, stacked.balance_breaks(df))
            df, _ = _classified(df)
            found = stacked.finish(slim(df, stacked.FILE), raws, source=SOURCE,
                                   account=options.account or SOURCE)
        except Exception:  # `parse` reads these files alone
            continue
        for index, rows in found.items():
            out[index] = rows
    return out


_READ = {"date", "amount", "amount $", "balance", "current balance $", "type",
         "transaction type", "description", "transaction summary",
         "transaction summary details", "description 1", "description 2", "description 3",
         "entered description", "ref id", "transaction id", "team", "client team"}
"""The columns `_fields` reads (of either layout)."""


def _fields(df: pl.DataFrame, table: Table, path: object,
            coded: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """The export's cells as typed fields (date, amount, balance, type, description, ref,
    counterparty), the other cells left out (memory); an error at the first value that does
    not fit (the date's first, then the amount's, then the balance's).

    Takes over `df` (the caller's table, not used again): each field's cells are moved out
    of it as soon as the field is made, so the export's strings and the fields are not held
    side by side (they were a large import's peak memory).

    `coded` (a dict, filled): the counterparty, where its values are few, as each row's
    code in CODED + name and its distinct values in `coded[name]` (`_decoded`)."""
    import polars as pl

    def named(*aliases: str) -> str | None:
        return next((a for a in aliases if a in df.columns), None)

    def col(name: str | None) -> pl.Expr:
        return pl.col(name) if name else pl.lit(None, dtype=pl.String)

    new_layout = table.has("transaction type")
    amount, balance = named("amount", "amount $"), named("balance", "current balance $")
    kind, ref_id, txn_id = named("type", "transaction type"), named("ref id"), \
        named("transaction id")
    team = named("team", "client team")
    if new_layout:
        parts = [p for p in ("transaction summary", "transaction summary details",
                             "description 1", "description 2", "description 3",
                             "entered description") if p in df.columns]
        # an empty cell written `""` (a file re-saved with every cell quoted) is read as ""
        # where `,,` is null: left out too, not joined as " -  - "; looked for first, so a
        # column with none is joined as it is (7 ms of CPU on a million rows against 17)
        empty = df.select((pl.col(p).str.len_bytes() == 0).any() for p in parts).row(0) \
            if parts else ()
        description = pl.concat_str([
            pl.when(pl.col(p).str.len_bytes() > 0).then(pl.col(p)) if has else pl.col(p)
            for p, has in zip(parts, empty, strict=True)], separator=" - ", ignore_nulls=True)
    else:
        parts = [p for p in ("description",) if p in df.columns]
        description = col(named("description"))
    fields = [(["date"], lambda: _dates(df, path)),
              ([amount, balance], lambda: parse_money_columns(df, {
                  "amount": (col(amount), "amount", True),
                  "balance": (col(balance), "balance", not new_layout),
              }, path=path)),
              ([kind], lambda: _one(df, col(kind), "type")),  # as written: `_classified`
              # reads it once per distinct type
              # trimmed: the cells themselves where none needs it, not a copy of a million
              # (csv_parts.trimmed; importers.base.nonblank for the ref and the team)
              (parts, lambda: trimmed(df, description, False).fill_null("")
               .alias("description")),
              ([ref_id, txn_id], lambda: _ref(df, col(ref_id), txn_id)),
              ([team], lambda: _team(df, team, coded))]
    out: dict[str, pl.Series] = {}
    for sources, make in fields:
        made = make()
        out.update(made if isinstance(made, dict) else {made.name: made})
        for name in sources:
            if name in df.columns:
                df.drop_in_place(name)
    # a table in pieces (read_table's `chunked`): the fields stay in pieces, as
    # `_in_ledger_order` copies them anyway, but the lines (and the dates, made in one):
    # `check_running_balance` cost 0.05 s more CPU with them in pieces, 0.01 s with the
    # amounts in pieces (less than making those one piece cost)
    keep = [df.get_column(c).rechunk() for c in (LINE, stacked.FILE) if c in df.columns]
    return pl.DataFrame([*keep, *(column.alias(name) for name, column in out.items())])


CODED = "\0code:"
"""Before a field's name: the column of each row's code of it (`_fields`' `coded`)."""


def _team(df: pl.DataFrame, team: str | None, coded: dict[str, pl.Series] | None
          ) -> pl.Series:
    """The counterparty (the Team cells trimmed, blank as null); as codes where `coded` and
    few distinct teams (csv_parts.trimmed_codes: 0.03 s of CPU less on a million rows, and
    4-byte codes moved into the ledger's order rather than 16-byte strings)."""
    import polars as pl

    if team is not None and coded is not None:
        found = trimmed_codes(df.get_column(team), True)
        if found is not None:
            index, coded["counterparty"] = found
            return index.alias(CODED + "counterparty")
    return trimmed(df, pl.col(team) if team else pl.lit(None, dtype=pl.String), True) \
        .alias("counterparty")


def _decoded(df: pl.DataFrame, coded: dict[str, pl.Series]) -> pl.DataFrame:
    """`df` with each coded field (`_fields`) as its values, in place of its codes."""
    return df.with_columns([values.gather(df.drop_in_place(CODED + name)).alias(name)
                            for name, values in coded.items()])


def _dates(df: pl.DataFrame, path: object) -> pl.Series:
    """`parse_dates` of the Date cells, each distinct date (a few hundred in a million rows)
    parsed once (base.parse_dates_once: 0.035 -> 0.025 s of CPU, in one piece: no copy made
    to join the table's pieces; tests/test_upwork_fields.py)."""
    return parse_dates_once(df, "date", distinct_codes(df.get_column("date")), DATE_FORMATS,
                            path=path).alias("date")


def _ref(df: pl.DataFrame, ref_id: pl.Expr, transaction_id: str | None) -> pl.Series:
    """The Ref ID, else the Transaction ID, trimmed, blank as null."""
    import polars as pl

    ref = trimmed(df, ref_id, True, numbers=True)
    if transaction_id is not None:
        ref = df.select(pl.coalesce(pl.lit(ref), pl.lit(trimmed(df, pl.col(transaction_id),
                                                                True)))).to_series()
    return ref.alias("ref")


def _one(df: pl.DataFrame, expr: pl.Expr, name: str) -> pl.Series:
    """`expr` over `df`'s rows as one Series (a literal fills every row)."""
    return df.with_columns(expr.alias(name))[name]


ORDERED_ROWS = 1 << 16
"""From this many rows `parse` gives its rows in the ledger's order (`_in_ledger_order`);
`rows_many`, whose answers are `parse`'s, leaves files this long to `parse`."""


def _in_ledger_order(df: pl.DataFrame, ids_by_ref: bool) -> pl.DataFrame:
    """`df` (the fields, in file order, its columns maybe in pieces) in the order the ledger
    stores rows: by date, rows of one date in file order (`ledger.store.importing`'s
    `sorted_by_date`, which then moves none), each column copied once
    (`csv_parts.in_order`). An export comes newest first: the store gathered every column
    of the finished rows again (0.12 s of CPU on a million rows; ids, kinds and categories
    are now made in that order), and the table's pieces were first copied into one.

    Only where nothing later depends on the order: `ids_by_ref` (each id is its distinct
    ref's, whatever the rows' order: no occurrence is numbered, no shared id reported) and
    no amount that `finalize` refuses at its first row (`schema.amounts_fit`); and only
    from ORDERED_ROWS rows. Else the rows keep the file's order (each column made one
    piece), and the store sorts them as before (tests/test_upwork_order.py)."""
    import polars as pl

    from ledger.core.schema import amounts_fit

    order = None
    if ids_by_ref and df.height >= ORDERED_ROWS:
        dates = df.get_column("date")
        if amounts_fit(df) and not dates.is_sorted():  # (sorted: as they are)
            # newest first, each day's rows in turn: the days' runs of rows, read backwards
            # (no sort: 0.035 s of CPU on a million rows)
            order = newest_first_runs(dates)
            if order is None:
                order = df.select(pl.arg_sort_by("date", maintain_order=True)).to_series()
    return in_order(df, order)


def _booked(df: pl.DataFrame, options: ImportOptions) -> tuple[pl.DataFrame, dict[str, int]]:
    """The rows that cleared, and how many pending ones were left out."""
    today = options.today or _today()
    skipped: dict[str, int] = {}
    pending = df["balance"].is_null() | (df["date"] > today)
    if pending.any():
        skipped["pending (no balance yet, or dated in the future)"] = int(pending.sum())
        df = df.filter(~pending)
    return df, skipped


TYPE_CODE = "_type_code"
"""The column of each row's position among the distinct types (`csv_parts.distinct_codes`),
where `_classified` is given them rather than the `type` cells."""


def _classified(df: pl.DataFrame, types: pl.Series | None = None
                ) -> tuple[pl.DataFrame, list[str]]:
    """Kind, category, currency, hours, related ref and contract of each row; a warning for
    unknown types. `types`: the distinct types, each row's position among them in
    TYPE_CODE; else read from the `type` cells."""
    import polars as pl

    from ledger.core.schema import columns

    mapping = pl.DataFrame({
        "_type": list(TYPES),
        "kind": [k for k, _ in TYPES.values()],
        "category": [c for _, c in TYPES.values()],
    })
    # each distinct type as written (a handful) trimmed, lower-cased and mapped, and the
    # results gathered for each row: no lower-cased copy of a million cells, no join
    if types is None:
        index, types = distinct_codes(df.get_column("type"))
    else:
        index = df.get_column(TYPE_CODE)
    table = types.to_frame("type").with_columns(
        _type=pl.col("type").str.strip_chars().str.to_lowercase(),
    ).join(mapping, on="_type", how="left", maintain_order="left")
    warnings = []
    unknown = table.get_column("kind").is_null()
    if unknown.any():
        # a blank Type cell is named, not None (which also cannot be sorted among texts)
        kinds = sorted({t or "(blank)" for t in table.filter(unknown)["_type"].to_list()})
        rows = int(unknown.gather(index).sum())
        warnings.append(f"{rows} row(s) of unknown type {kinds} imported as kind "
                        "'other'; check them with `ledger transactions --kind other`")
    table = table.select(
        # the stored kind's own type: cast once per type, not for every row (schema.conform)
        kind=pl.col("kind").fill_null("other").cast(columns()["kind"]),
        category=pl.col("category").fill_null(pl.col("_type")),
        fee=pl.col("kind") == "platform_fee", hourly=pl.col("category") == "hourly")
    kind, category, fee, hourly = (table.get_column(c).gather(index) for c in table.columns)
    description = df.get_column("description")
    related_refs, plain_fees = _fee_refs(description)
    # Connects fees: the pattern read only where it can matter (platform fees), and not in
    # a fee text as Upwork writes it (FEE_TEXT and digits: no "connects" can be in it)
    fee = fee.fill_null(False)
    if plain_fees.len():
        fee = fee.scatter(plain_fees, False)
    at = fee.arg_true()
    if at.len():
        connects = description.gather(at).str.contains(CONNECTS).fill_null(False)
        if connects.any():
            category = category.scatter(at.filter(connects), "connects")
    return df.with_columns(
        kind=kind, category=category, currency=pl.lit("USD"),
        hours=_billed(description, hourly.fill_null(False)),
        related_ref=related_refs,
        contract=pl.lit(None, dtype=pl.String),
    ), warnings


def _billed(description: pl.Series, hourly: pl.Series) -> pl.Series:
    """The hours of each hourly row (`_hours`), null elsewhere: worked out once per distinct
    invoice text (a few per week of work) among the hourly rows only."""
    import polars as pl

    hours = pl.repeat(None, description.len(), dtype=pl.Float64, eager=True)
    at = hourly.arg_true()
    if not at.len():
        return hours
    index, invoices = distinct_codes(description.gather(at))
    billed = pl.select(_hours(pl.lit(invoices))).to_series()
    return hours.scatter(at, billed.gather(index))


FEE_TEXT = "Service Fee - Ref ID "
"""How Upwork writes a service fee's description, before the Ref ID of its earning."""


def _fee_refs(description: pl.Series) -> tuple[pl.Series, pl.Series]:
    r"""(`description.str.extract(r"Ref ID\s*(\d+)", 1)`, the rows whose text is a fee's
    `FEE_TEXT` followed by ASCII digits only: every fee as Upwork writes it). The extraction
    (a regex's captures: 0.1 s of CPU on a million rows) runs only on the other texts that
    hold `Ref ID`; a fee's digits are what follows the prefix: the first `Ref ID` in the
    text, the spaces and then all the digits to the end (tests/test_upwork_speed.py)."""
    import polars as pl

    pattern = r"Ref ID\s*(\d+)"
    refs = pl.repeat(None, description.len(), dtype=pl.String, eager=True)
    at = description.str.starts_with(FEE_TEXT).fill_null(False).arg_true()
    digits = description.gather(at).str.slice(len(FEE_TEXT))
    plain = digits.str.contains(r"^[0-9]+$")
    taken = at.filter(plain)
    rest = description.str.contains("Ref ID", literal=True).fill_null(False)
    if at.len():
        refs = refs.scatter(at, digits.zip_with(plain, pl.Series([None], dtype=pl.String)))
        rest = rest.scatter(taken, False)  # taken: no regex for these
    if rest.any():
        others = rest.arg_true()
        refs = refs.scatter(others, description.gather(others).str.extract(pattern, 1))
    return refs, taken


def _hours(text: pl.Expr) -> pl.Expr:
    """The hours an hourly invoice's text bills: `14:20 hrs` is 14 h 20 min, `2.5 hrs`."""
    import polars as pl

    return pl.coalesce(
        text.str.extract(r"(\d+):\d{2}\s*hrs", 1).cast(pl.Float64)
        + text.str.extract(r"\d+:(\d{2})\s*hrs", 1).cast(pl.Float64) / 60,
        text.str.extract(r"(\d+(?:\.\d+)?)\s*hrs", 1).cast(pl.Float64),
    )


def _today():
    import datetime as dt

    return dt.date.today()


FORMATS = [
    Format(
        name="upwork",
        title="Upwork transaction history (classic 13 columns)",
        fingerprint="header has Date, Ref ID, Type, Description, Amount, Balance; "
        "no Transaction ID",
        detect=detect_classic,
        parse=parse,
        rows_many=rows_many,
    ),
    Format(
        name="upwork-2024",
        title="Upwork transactions report (19 columns, 2024 onward)",
        fingerprint="header has Date, Transaction ID, Transaction Type, Amount $, Ref ID",
        detect=detect_new,
        parse=parse,
        rows_many=rows_many,
    ),
]
