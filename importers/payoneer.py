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
touch the balance; they are the row's `counter_amount` / `counter_currency` (what a debit
delivered, what a credit cost), which the fee rules, FX and reconciliation read, and for people
the description shows them as `[delivered 278500.00 PKR]` on debits and `[sent 12.00 EUR]` on
credits. A Reference ID no other row explains is kept as `[reference R]`.

Only `Completed` rows are booked; other known statuses are counted as skipped, an unknown one is
an error (so a status that did move money is never silently dropped).

Dates are month-first as in the public mapping, but a file re-saved in a day-first locale is
day-first: a first part above 12 proves day-first, a second above 12 month-first, and a file
whose dates prove neither (1 to 12 June) is refused until `--date-order` says which
(base.date_formats_for), never read month-first unasked; ISO dates from re-saved files are
accepted and ask nothing. Assumptions (the layout is confirmed, these values are not):
status words other than `Completed`; description wording of
fees, card rows and conversions; fee rows carrying the time (or Reference ID) of what they
charged. A Transaction ID may in principle be shared by a transaction and its fee, so the row
key is (Transaction ID, currency, amount), numbered if that still repeats.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers import stacked
from importers.base import (
    BALANCES,
    Format,
    ImportOptions,
    Parsed,
    _unique_numbers,
    check_running_balance,
    counts,
    date_formats_for,
    finalize,
    kept,
    known_key,
    settled_order,
    slim,
    with_key,
)
from importers.payoneer_fields import (  # (the names the tests read here too)
    CODED,
    _fields,
    _instants,  # noqa: F401
    _let_go,
    _upper,  # noqa: F401
)
from importers.payoneer_kinds import (  # (the names the tests read here too)
    CATEGORIES,  # noqa: F401
    FEE_CATEGORIES,  # noqa: F401
    RULE_KINDS,  # noqa: F401
    kinds,
)
from importers.payoneer_kinds import classify as _classify  # noqa: F401
from importers.payoneer_kinds import counterparty as _counterparty  # noqa: F401
from importers.payoneer_kinds import platform as _platform  # noqa: F401
from importers.payoneer_links import _link
from importers.raw_files import RawFile
from importers.readers import LINE, Table, read_table
from ledger.core.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "payoneer"

HEADER = {"transaction date", "transaction time", "credit amount", "debit amount",
          "running balance"}

BOOKED = {"completed"}
NOT_BOOKED = {"pending", "in process", "in progress", "processing", "scheduled", "on hold",
              "cancelled", "canceled", "failed", "declined", "rejected", "returned"}
"""Statuses of rows that did not (yet) move money: counted as skipped, not booked."""


def _is_payoneer(cells: set[str]) -> bool:
    return cells >= HEADER


def detect(raw: RawFile) -> bool:
    return raw.header_is_first(_is_payoneer)


REQUIRED = ("transaction date", "transaction time", "description", "credit amount",
            "debit amount", "currency", "status", "running balance")


def _require(table: Table) -> None:
    table.require(*REQUIRED)


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    table = read_table(raw, 0, chunked=True)
    _require(table)
    table.df = _in_one_piece(table.df)
    path = raw.path
    rows_read = table.df.height
    few: dict[str, pl.Series] = {}  # (the statuses' and currencies' distinct values)
    keys: dict[str, pl.Series] = {}  # (the kinds' keys that are no fields)
    df = _fields(table.df, table, path, lambda days, rows: _formats_of(days, options, path, rows),
                 few=few, keys=keys)
    del table  # the export's strings: the select above took what is needed (memory)
    # the statuses are left in the pieces read (payoneer_fields.PIECED): matched once, the
    # match made one piece (read three times below), the skipped rows' counted as a column
    # (a query of the frame would copy the statuses into one piece first)
    status, statuses = df.get_column("status"), _check_statuses(df, path, few.get("status"))
    df = df.with_columns(status.to_frame().select(
        _is_one_of(pl.col("status"), statuses).alias("_booked")).to_series().rechunk())
    booked = pl.col("_booked")
    skipped = counts(status.filter(~df.get_column("_booked")), "status {}")
    del status
    _check_amounts(df, path, booked)
    # credit and debit made one amount, and the status read, before the skipped rows are
    # left out: three columns fewer are copied without them. The credit, else minus the
    # debit: `credit.fill_null(0) - debit.fill_null(0)` on every row the checks above let
    # through (exactly one of them filled), in two passes rather than three
    df = df.with_columns(amount=pl.coalesce(pl.col("credit"), -pl.col("debit")))
    if skipped:
        df = df.with_columns(_booked=booked.fill_null(False))
    # the kinds, a row's own, worked out before the skipped rows are left out: the keys they
    # are read from (the stores, payers and payees, their codes) are not copied without them
    df = kinds(df.drop("status", "credit", "debit", *([] if skipped else ["_booked"])),
               CODED, keys).drop("_store", "_source", "_target", strict=False)
    # the checks, the links and the description read the booked rows through `_booked`, on
    # the rows as they are: only the ledger's columns are copied without the skipped rows,
    # at the end, not the fields those are made of (0.03 s of CPU on a million rows)
    booked = pl.col("_booked") if skipped else None
    if not _balances_follow(df, booked, few.get("currency")):  # (or it cannot tell): the
        # check that says where not
        check_running_balance(_booked_rows(df.select(LINE, "date", "amount", "balance",
                                                     "currency", *(["_booked"] * bool(skipped)))),
                              path=path, group=["currency"])
    _check_transfer_currency(df, path, booked, few.get("_transfer_currency"))
    refs_distinct = _unique_numbers(df.get_column("ref"))  # (then no row can repeat another)
    if not refs_distinct:
        _check_repeats(df, path, booked)
    aside: dict[str, pl.Series] = {}  # (the related refs: made of the booked rows)
    df = _link(df.drop("balance"), booked=booked, aside=aside)  # (checked: freed before)
    warnings = []
    unknown = df.filter(pl.col("kind") == "other", True if booked is None else booked)
    if unknown.height:
        texts = sorted(set(unknown["text"].to_list()))[:5]
        warnings.append(f"{unknown.height} row(s) with unrecognised descriptions {texts} imported "
                        "as kind 'other'; check them with `ledger transactions --kind other`")
    del unknown
    df = df.drop(c for c in df.columns if c in _SPENT)  # freed before the description is made
    df = _booked_rows(slim(_described(df, literals=False), "_booked")).with_columns(
        *aside.values(), *_literals())  # (after: not columns of a million nulls filtered)
    # the amount's text made once, a column the key's parts read: not made by known_key's
    # test for nulls and again for the ids (0.02 s of CPU on a million rows)
    df = df.with_columns(_amount=pl.col("amount").cast(pl.String))
    parts = [pl.col("currency"), pl.col("_amount")]
    # (Payoneer's transaction ids are distinct numbers; the booked rows' are if all rows' are)
    key = known_key(df, parts, refs_distinct)
    if key is None:
        df = with_key(df, parts)
    rows = finalize(slim(df, "_key", "_amount"), raw, source=SOURCE,
                    account=options.account or SOURCE,
                    key=pl.col("_key") if key is None else key)
    return Parsed(rows=rows, format="payoneer", rows_read=rows_read, skipped=skipped,
                  warnings=warnings, ids_distinct=key is not None)


def _in_one_piece(df: pl.DataFrame) -> pl.DataFrame:
    """`df` (read in pieces) with each column `_fields` reads as it is copied into one piece
    (a column at a time, each moved out of `df`), but those it only casts into codes and
    days, which it makes one piece (PIECED), and those it reads not at all (let go). A
    column of empty cells alone (a file's Reference IDs, often) is made anew, not copied."""
    import polars as pl

    from importers.payoneer_fields import PIECED, READ

    def whole(cells: pl.Series) -> pl.Series:
        if cells.null_count() == cells.len():
            return pl.repeat(None, cells.len(), dtype=cells.dtype, eager=True).alias(cells.name)
        return cells.rechunk()

    if df.n_chunks() == 1:
        return df
    return pl.DataFrame([df.drop_in_place(name) if name in PIECED
                         else whole(df.drop_in_place(name)) for name in list(df.columns)
                         if name in READ or name == LINE])


_SPENT = {"status", "credit", "debit", "balance", "_ts", "_store", "_source", "_target"}
"""Fields read by the checks, the kinds and the links, and by nothing after them."""


def _booked_rows(df: pl.DataFrame) -> pl.DataFrame:
    """`df`'s rows where `_booked` holds, without it (`df` itself where it has none): the
    skipped rows left out a column at a time (base.kept; `df` is taken over)."""
    import polars as pl

    if "_booked" not in df.columns:
        return df
    return kept(df, pl.col("_booked")).drop("_booked")


def rows_many(raws: list[RawFile], options: ImportOptions) -> list[pl.DataFrame | None]:
    """`parse(raw, options).rows` of each file, the files with the same columns parsed as one
    frame (importers/stacked.py): date order, statuses, amounts, running balances and links
    decided per file; None where `parse` must read the file alone."""
    import polars as pl

    out: list[pl.DataFrame | None] = [None] * len(raws)
    if not stacked.covered(raws):
        return out
    file = stacked.FILE
    for group in stacked.tables(raws, _require).values():
        by_order: dict[tuple[str, ...], list[tuple[int, Table]]] = {}
        try:
            orders = _stacked_orders(group, options)
        except Exception:  # each file decides alone, below
            orders = {}
        for index, table in group:
            try:
                formats = orders.get(index) or tuple(_date_formats(table.df, options))
            except Exception:  # `parse` reports it
                continue
            by_order.setdefault(formats, []).append((index, table))
        for formats, tables in by_order.items():
            try:
                table = tables[0][1]
                df = _fields(stacked.stack(tables), table, raws[tables[0][0]].path,
                             list(formats), keep=[file])
                known = sorted(BOOKED | NOT_BOOKED)
                status = pl.col("status").str.to_lowercase()
                df = stacked.without(df, stacked.bad_files(df, ~status.is_in(known)
                                                           | pl.col("status").is_null()))
                df = df.filter(status.is_in(sorted(BOOKED)))
                credit, debit = pl.col("credit"), pl.col("debit")
                df = stacked.without(df, stacked.bad_files(
                    df, (credit.is_null() & debit.is_null())
                    | (credit.is_not_null() & debit.is_not_null()) | (credit < 0) | (debit < 0)))
                df = df.with_columns(amount=credit.fill_null(0) - debit.fill_null(0))
                df = stacked.without(df, stacked.balance_breaks(df, ["currency"]))
                df = stacked.without(df, _bad_transfer_currency(df))
                df = stacked.without(df, stacked.bad_files(df, _repeated([file])))
                df = _link(kinds(df, CODED), by=[file])
                df = slim(with_key(_described(df), [pl.col("currency"),
                                                    pl.col("amount").cast(pl.String)],
                                   by=[file]), "_key", file)
                found = stacked.finish(df, raws, source=SOURCE,
                                       account=options.account or SOURCE, key=pl.col("_key"))
            except Exception:  # `parse` reads these files alone
                continue
            for index, rows in found.items():
                out[index] = rows
    return out


def _described(df: pl.DataFrame, literals: bool = True) -> pl.DataFrame:
    """Description (with the transfer and reference tags), counter amount and currency, and
    (`literals`) the fields Payoneer never fills (`_literals`). Takes over `df`: the fields
    they are made of are dropped from it."""
    import polars as pl

    # one concatenation, each part with the separator that goes before it (null: left out),
    # not one made of others: text [- extra] [transfer tag] [reference tag]
    extra = pl.col("_extra")
    parts = [pl.col("text"), pl.when(extra.is_not_null()).then(pl.lit(" - ")), extra]
    if df["text"].null_count():  # (`_fields` fills it: else the extra would lead with " - ")
        parts = [pl.concat_str([pl.col("text"), extra], separator=" - ", ignore_nulls=True)]
    parts.extend(_transfer_tag(df))
    if df["reference_id"].null_count() < df.height:  # else every tag would be null
        parts.append(pl.when(pl.col("_reference_used")).then(None)
                     .otherwise(pl.lit(" [reference ") + pl.col("reference_id") + pl.lit("]")))
    stated = pl.col("_transfer_text").is_not_null() & (pl.col("_transfer") >= 0)
    # a step at a time, each step's fields let go once read (`df` is taken over: the
    # caller's frame loses them too), so they and what is made of them are not all held
    _let_go(df, "_rule")  # (the counterparty: `kinds`)
    made = [df.select(pl.concat_str(parts, ignore_nulls=True).alias("description")).to_series()]
    _let_go(df, "text", "_extra", "reference_id", "_reference_used")
    made.extend(df.select(counter_amount=pl.when(stated).then(pl.col("_transfer")),
                          counter_currency=pl.when(stated).then(pl.col("_transfer_currency")))
                .get_columns())
    _let_go(df, "_transfer", "_transfer_text", "_transfer_currency")
    return df.with_columns(*made, *(_literals() if literals else []))


def _literals() -> list[pl.Expr]:
    """The ledger's fields a Payoneer row never fills."""
    import polars as pl

    return [pl.lit(None, dtype=pl.String).alias("contract"),
            pl.lit(None, dtype=pl.Float64).alias("hours")]


def _transfer_tag(df: pl.DataFrame) -> list[pl.Expr]:
    """The parts of the transfer tag, ` [delivered 278500.00 PKR]` on a debit and ` [sent
    12.00 EUR]` on a credit, all null where the row has no Transfer Amount: parts of the one
    concatenation, each a short text or the cell itself, not a tag column of a million rows
    made of a word column first; the amount's grouping removed only where a cell has any."""
    import polars as pl

    text, currency = pl.col("_transfer_text"), pl.col("_transfer_currency")
    grouped, uncoded = df.select(text.str.contains(",", literal=True).any().alias("g"),
                                 (text.is_not_null() & currency.is_null()).any()).row(0)
    amount = text.str.replace_all(",", "", literal=True) if grouped else text
    word = pl.when(pl.col("amount") < 0).then(pl.lit(" [delivered ")).otherwise(pl.lit(" [sent "))
    if uncoded:  # (rows the checks refuse): the tag of a null currency is left out whole
        return [pl.concat_str([word, amount, pl.lit(" "), currency, pl.lit("]")])]
    tagged = text.is_not_null()
    return [pl.when(tagged).then(word), amount,
            pl.when(tagged).then(pl.lit(" ") + currency + pl.lit("]"))]


def _stacked_orders(group: list[tuple[int, Table]], options: ImportOptions
                    ) -> dict[int, tuple[str, ...]]:
    """`_date_formats` of each of the group's files, from one query over their stacked
    distinct dates (not a query per file), decided by the same rule (base.settled_order); a
    file whose dates do not settle the order is left out (`parse` reads it alone and says
    why)."""
    import polars as pl

    if options.date_order is not None:
        return {index: tuple(_formats(options.date_order)) for index, _ in group}
    date = pl.col("transaction date")
    parts = date.str.extract_groups(r"^\s*(\d{1,2})/(\d{1,2})/")
    first, second = (parts.struct.field(n).cast(pl.Int32, strict=False) for n in ("1", "2"))
    found = pl.concat([table.df.lazy().select(date, pl.lit(index, dtype=pl.Int32)
                                              .alias(stacked.FILE)) for index, table in group]
                      ).group_by(stacked.FILE).agg(date.unique()).explode("transaction date") \
        .group_by(stacked.FILE).agg(first.max().alias("first"), second.max().alias("second"),
                                    (first != second).any().alias("two_ways")) \
        .collect(engine="in-memory")
    orders = {int(index): settled_order(one, two, bool(two_ways), default=OWN_ORDER)
              for index, one, two, two_ways in found.iter_rows()}
    return {index: tuple(_formats(order)) for index, order in orders.items() if order}


def _date_formats(df: pl.DataFrame, options: ImportOptions) -> list[str]:
    return _formats_of(df["transaction date"].unique(), options)


OWN_ORDER = "mdy"
"""Payoneer's own export writes dates month-first (06/28/2024)."""

DATE_HINT = ("say which: --date-order mdy for Payoneer's own export (month-first, "
             "06/28/2024), --date-order dmy for a file re-saved in a day-first locale "
             "(28/06/2024)")


def _formats_of(days: pl.Series, options: ImportOptions, path: object = None,
                rows: pl.DataFrame | None = None) -> list[str]:
    """The date formats of a file whose distinct day texts are `days`: the order its dates
    prove or `--date-order` says (base.date_formats_for: asked where they could read either
    way; the error at the first such row of `rows`, where given), and ISO dates."""
    return [*date_formats_for(options.date_order, "/", path=path, sample=days,
                              hint=DATE_HINT, default=OWN_ORDER, rows=rows,
                              column="transaction date"), "%Y-%m-%d"]


def _formats(order: str) -> list[str]:
    return [*date_formats_for(order, "/", path=None, sample=[]), "%Y-%m-%d"]


def _balances_follow(df: pl.DataFrame, booked: pl.Expr | None = None,
                     currencies: pl.Series | None = None) -> bool:
    """True where `check_running_balance(df, group=["currency"])` is sure to pass: every
    row has a balance, the dates do not go backwards from the first row to the last, and each
    balance is the previous one of its currency plus the amount, in file order. One query
    over the rows as they are, not a copy of them sorted; False: that check decides.
    `booked`: of the rows where it holds (the others are left out after: `parse`).
    `currencies`: the distinct currencies, if known (any more are no harm)."""
    import polars as pl

    if BALANCES.get() is not None:
        return False
    balance = pl.col("balance")
    if booked is not None:  # (the skipped rows left out by the filters each query makes)
        count, empty = df.select(booked.sum(), (balance.is_null() & booked).any()).row(0)
    else:
        count, empty = df.height, df["balance"].null_count()
    if count < 2 or empty:
        return False
    rows, where = df.lazy(), (True if booked is None else booked)
    broken = balance.shift(1) + pl.col("amount") != balance
    if currencies is None:
        currencies = df["currency"].unique()
    if currencies.len() > FEW_CURRENCIES:
        checks = [rows.filter(where).select(broken.over("currency").any())]
    else:  # each currency's rows alone: no grouping of a million rows by their strings
        checks = [rows.filter(pl.col("currency").eq_missing(currency) & where)
                  .select(broken.any()) for currency in currencies]
    date = pl.col("date") if booked is None else pl.col("date").filter(booked)
    checks.append(rows.select(date.first() > date.last()))
    return not any(found.item() for found in pl.collect_all(checks))


FEW_CURRENCIES = 8
"""Up to this many currencies in a file, `_balances_follow` checks each one's rows in turn."""


def _is_one_of(column: pl.Expr, values: pl.Series) -> pl.Expr:
    """`column.is_in(values)`; a comparison where there is one value (a file's one booked
    status, as usual): no million strings hashed (0.004 s of CPU)."""
    return column == values[0] if values.len() == 1 and values.null_count() == 0 \
        else column.is_in(values.implode())


def _check_statuses(df: pl.DataFrame, path: object, statuses: pl.Series | None = None
                    ) -> pl.Series:
    """Refuse an unknown status (at its first row); return the statuses written in the file
    that book a row. Statuses are read once each (a few in a million rows), not per row.
    `statuses`: the distinct statuses, where known (`_fields`)."""
    import polars as pl

    if statuses is None:
        statuses = df["status"].unique()
    lower = statuses.str.to_lowercase()
    unknown = statuses.filter((~lower.is_in(sorted(BOOKED | NOT_BOOKED))).fill_null(True))
    if unknown.len():
        bad = df.filter(pl.col("status").is_in(unknown.implode(), nulls_equal=True)).head(1)
        raise DataError(
            f"unknown Payoneer status {bad['status'][0] or '(empty)'!r}", path=path,
            line=int(bad[LINE][0]),
            hint="known statuses: Completed (booked); Pending, In Process, Cancelled, Failed, "
            "Declined, Rejected, Returned (not booked). Please report this status so it can be "
            "mapped; meanwhile remove the row",
        )
    return statuses.filter(lower.is_in(sorted(BOOKED)))


def _check_amounts(df: pl.DataFrame, path: object, booked: pl.Expr | None = None) -> None:
    """Refuse the first row (of those `booked`, if given) whose amounts do not fit."""
    import polars as pl

    credit, debit = pl.col("credit"), pl.col("debit")
    checks = [
        (credit.is_null() & debit.is_null(), "neither Credit Amount nor Debit Amount is filled"),
        (credit.is_not_null() & debit.is_not_null(),
         "both Credit Amount and Debit Amount are filled"),
        ((credit < 0) | (debit < 0), "Credit Amount or Debit Amount is negative"),
    ]
    hits = [bad.fill_null(False) & (True if booked is None else booked) for bad, _ in checks]
    found = df.select(hit.any().alias(str(n)) for n, hit in enumerate(hits)).row(0)
    for (_, message), hit, any_hit in zip(checks, hits, found, strict=True):
        if not any_hit:  # (one pass tells which checks find a row: usually none)
            continue
        hit = df.filter(hit).head(1)
        if hit.height:
            raise DataError(message, path=path, line=int(hit[LINE][0]),
                            hint="a Payoneer row has exactly one unsigned amount, in Credit "
                            "(money in) or Debit (money out); the file may be edited")


def _check_repeats(df: pl.DataFrame, path: object, booked: pl.Expr | None = None) -> None:
    """A booked row with the Transaction ID, amount, currency and running balance of an
    earlier one is that row again (two movements of one amount cannot leave one balance
    twice): two exports pasted into one file, which the running balance check lets through
    where the repeated rows start and end at one balance (a month withdrawn to nothing).
    Its key would be numbered as a repeat and its money counted twice. Where the ids are
    distinct numbers (an export's, as usual), nothing can repeat: the caller does not ask."""
    from ledger.core.money import format_money

    rows = df.select(LINE, *_REPEAT, _b=True if booked is None else booked).filter("_b")
    again = rows.filter(_repeated())
    if again.height:
        first = rows.join(again.head(1).drop(LINE), on=_REPEAT).row(0, named=True)
        cur = first["currency"]
        raise DataError(
            f"this row repeats line {first[LINE]} (Transaction ID {first['ref']}, "
            f"{format_money(first['amount'], cur)} {cur}, running balance "
            f"{format_money(first['balance'], cur)}): the money would be counted twice",
            path=path, line=int(again[LINE][0]),
            hint="two exports pasted into one file? Import each export on its own, as "
            "downloaded (rows two exports share are added once), or delete the repeated rows")


_REPEAT = ["ref", "currency", "amount", "balance"]
"""What a row repeated shares with its first copy (`_check_repeats`)."""


def _repeated(by: list[str] | None = None) -> pl.Expr:
    """A row with money whose `_REPEAT` columns an earlier row of its file has (`by`: the
    column telling stacked files apart)."""
    import polars as pl

    nth = pl.int_range(pl.len()).over([*(by or []), *_REPEAT])
    return (nth > 0) & (pl.col("amount") != 0) & pl.col("ref").is_not_null()


def _check_transfer_currency(df: pl.DataFrame, path: object,
                             booked: pl.Expr | None = None,
                             currencies: pl.Series | None = None) -> None:
    """A Transfer Amount must come with an ISO currency, or its tag would be unreadable
    (on the rows where `booked` holds, if given). `currencies`: the distinct Transfer Amount
    Currencies, where known: if each is a code, only a row without one is refused (not a
    million cells looked up)."""

    bad = _no_transfer_currency(currencies)
    bad = df.filter(bad, True if booked is None else booked)
    if bad.height:
        raise DataError(
            f"Transfer Amount Currency {bad['_transfer_currency'][0] or '(empty)'!r} is not a "
            "currency code", path=path, line=int(bad[LINE][0]),
            hint="a Transfer Amount needs its ISO currency (PKR, EUR...); the file may be edited")


def _no_transfer_currency(currencies: pl.Series | None = None) -> pl.Expr:
    import polars as pl

    from ledger.core.money import known_currencies

    codes = sorted(known_currencies())
    currency = pl.col("_transfer_currency")
    if currencies is not None and currencies.drop_nulls().is_in(codes).all():
        return pl.col("_transfer_text").is_not_null() & currency.is_null()
    return pl.col("_transfer_text").is_not_null() & ~currency.is_in(codes).fill_null(False)


def _bad_transfer_currency(df: pl.DataFrame) -> set[int]:
    return stacked.bad_files(df, _no_transfer_currency())


FORMATS = [
    Format(
        name="payoneer",
        title="Payoneer transactions CSV (17 columns, or the older 12)",
        fingerprint="header has Transaction Date, Transaction Time, Credit Amount, Debit Amount, "
        "Running Balance",
        detect=detect,
        parse=parse,
        rows_many=rows_many,
        read_unsettled_as=OWN_ORDER,  # (as every Payoneer file was, before it asked)
    ),
]
