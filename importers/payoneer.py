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

Assumptions (the layout is confirmed, these values are not): dates are month-first as in the
public mapping (a first part above 12 proves day-first; `--date-order dmy` forces it; ISO dates
from re-saved files are accepted); status words other than `Completed`; description wording of
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
    check_running_balance,
    counts,
    finalize,
    kept,
    known_key,
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
from importers.payoneer_kinds import kind_is as _kind_is
from importers.payoneer_kinds import platform as _platform  # noqa: F401
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

    table = read_table(raw, 0)
    _require(table)
    path = raw.path
    rows_read = table.df.height
    few: dict[str, pl.Series] = {}  # (the statuses' and currencies' distinct values)
    df = _fields(table.df, table, path, lambda days: _formats_of(days, options), few=few)
    del table  # the export's strings: the select above took what is needed (memory)
    df = df.with_columns(_booked=_is_one_of(pl.col("status"),
                                            _check_statuses(df, path, few.get("status"))))
    booked = pl.col("_booked")  # (the statuses matched once, read three times below)
    skipped = counts(df.lazy().filter(~booked).select("status").collect()["status"],
                     "status {}")
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
               CODED).drop("_store", "_source", "_target")
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
    df = _link(df.drop("balance"), booked=booked)  # (checked: freed before the links)
    warnings = []
    unknown = df.filter(pl.col("kind") == "other", True if booked is None else booked)
    if unknown.height:
        texts = sorted(set(unknown["text"].to_list()))[:5]
        warnings.append(f"{unknown.height} row(s) with unrecognised descriptions {texts} imported "
                        "as kind 'other'; check them with `ledger transactions --kind other`")
    del unknown
    df = df.drop(c for c in df.columns if c in _SPENT)  # freed before the description is made
    df = _booked_rows(slim(_described(df, literals=False), "_booked")).with_columns(
        _literals())  # (after: not columns of a million nulls filtered)
    # the amount's text made once, a column the key's parts read: not made by known_key's
    # test for nulls and again for the ids (0.02 s of CPU on a million rows)
    df = df.with_columns(_amount=pl.col("amount").cast(pl.String))
    parts = [pl.col("currency"), pl.col("_amount")]
    key = known_key(df, parts)  # (Payoneer's transaction ids are distinct numbers)
    if key is None:
        df = with_key(df, parts)
    rows = finalize(slim(df, "_key", "_amount"), raw, source=SOURCE,
                    account=options.account or SOURCE,
                    key=pl.col("_key") if key is None else key)
    return Parsed(rows=rows, format="payoneer", rows_read=rows_read, skipped=skipped,
                  warnings=warnings, ids_distinct=key is not None)


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
    dates (not a query per file)."""
    import polars as pl

    if options.date_order is not None:
        return {index: tuple(_date_formats(table.df, options)) for index, table in group}
    first = pl.col("transaction date").str.extract(r"^\s*(\d{1,2})/", 1).cast(pl.Int32)
    found = pl.concat([table.df.lazy().select("transaction date").with_columns(
        pl.lit(index, dtype=pl.Int32).alias(stacked.FILE)) for index, table in group]
    ).group_by(stacked.FILE).agg((first > 12).any().alias("dmy")).collect(engine="in-memory")
    return {int(index): tuple(_formats("dmy" if dmy else "mdy"))
            for index, dmy in found.iter_rows()}


def _date_formats(df: pl.DataFrame, options: ImportOptions) -> list[str]:
    return _formats_of(df["transaction date"].unique(), options)


def _formats_of(days: pl.Series, options: ImportOptions) -> list[str]:
    """The date formats of a file whose distinct day texts are `days`."""
    import polars as pl

    order = options.date_order
    if order is None:
        first = days.str.extract(r"^\s*(\d{1,2})/", 1).cast(pl.Int32)
        order = "dmy" if (first > 12).any() else "mdy"
    return _formats(order)


def _formats(order: str) -> list[str]:
    return ["%d/%m/%Y" if order == "dmy" else "%m/%d/%Y", "%Y-%m-%d"]


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


def _link(df: pl.DataFrame, by: list[str] | None = None, booked: pl.Expr | None = None
          ) -> pl.DataFrame:
    """Fill `related_ref`: fees -> what they charged, fx legs -> each other.

    Also sets `_reference_used`: the row's Reference ID is explained by a link. Works on the
    fee and fx rows only and joins the result back by line, so it stays cheap on big files.
    `by`: columns telling files apart (stacked files link within each file only).
    `booked`: only the rows where it holds are linked, and linked to (no link on the others).
    """
    import polars as pl

    by = by or []
    fee = _kind_is("payment_fee")
    fx = _kind_is("fx")
    if booked is not None:
        fee, fx = fee & booked, fx & booked
    rows = df.lazy()  # filters then read only the columns selected after them
    # each link's row: its file and line (joined back), or in one file its position (the
    # links written at their places: no join nor search of a million lines)
    at = LINE if by else "_row"
    if not by:
        rows = rows.with_row_index("_row")
    fees = rows.filter(fee).select(*by, at, "reference_id", "_ts").collect()
    linked = ~_kind_is("payment_fee") & pl.col("ref").is_not_null() \
        & (True if booked is None else booked)  # (what a fee may be linked to)
    main = rows.filter(linked).select(  # lazy: only the few
        *by, *([] if by else [at]), "ref", "reference_id", "_ts", "amount",  # rows linked
        fx.alias("_fx"))  # are held
    if by:
        wanted = fees.select(*by, "reference_id").drop_nulls().unique().lazy()
        by_id = main.join(wanted, left_on=[*by, "ref"], right_on=[*by, "reference_id"],
                          how="semi")
        by_shared = main.join(wanted, on=[*by, "reference_id"], how="semi")
        near = main.join(fees.select(*by, "_ts").unique().lazy(), on=[*by, "_ts"], how="semi")
    else:
        wanted = fees["reference_id"].drop_nulls().unique()
        by_id = main.filter(pl.col("ref").is_in(wanted.implode()))
        by_shared = main.filter(pl.col("reference_id").is_in(wanted.implode()))
        near = main.filter(pl.col("_ts").is_in(fees["_ts"].unique().implode()))
        if not wanted.len():  # no fee names a Reference ID: nothing is found by one (two
            by_id, by_shared = by_id.clear(), by_shared.clear()  # passes over the rows less)
    by_id, by_shared, near = pl.collect_all([by_id, by_shared, near])
    if not by and not by_id.height and not by_shared.height:  # (the usual: by time alone)
        fee_links = fees.select(at, _by_time_at(fees, near, df, linked).alias("_link"),
                                pl.lit(False).alias("_reference_used"))
    else:
        # A fee naming another row's Transaction ID, or sharing its Reference ID.
        by_id = (by_id.select(*by, pl.col("ref").alias("reference_id"),
                              pl.col("ref").alias("_by_id"))
                 .unique([*by, "reference_id"], keep="none"))
        by_shared = (by_shared.select(*by, "reference_id", pl.col("ref").alias("_by_shared"))
                     .unique([*by, "reference_id"], keep="none"))
        by_time = _by_time(near, by)
        fee_links = (fees.join(by_id, on=[*by, "reference_id"], how="left")
                     .join(by_shared, on=[*by, "reference_id"], how="left")
                     .join(by_time, on=[*by, "_ts"], how="left")
                     .select(*by, at,
                             pl.coalesce("_by_id", "_by_shared", "_by_time").alias("_link"),
                             (pl.col("_by_id").is_not_null() | pl.col("_by_shared").is_not_null())
                             .alias("_reference_used")))
    # fx legs: exactly two at one timestamp, opposite signs, different currencies.
    fx_rows = rows.filter(fx & pl.col("ref").is_not_null()).select(
        *by, at, "_ts", "ref", "amount", "currency").collect()
    fx_links = None if by else _adjacent_pairs(fx_rows, at)
    if fx_links is None:
        # (a pair's two refs as two columns, not a list per timestamp)
        pairs = fx_rows.group_by([*by, "_ts"], maintain_order=bool(by)).agg(
            pl.len().alias("_legs"), pl.col("ref").first().alias("_first"),
            pl.col("ref").last().alias("_second"), pl.col("amount").sign().sum().alias("_signs"),
            pl.col("currency").first().alias("_from"), pl.col("currency").last().alias("_to"))
        # (of two legs, two currencies: the first's and the last's differ, a null one too)
        pairs = pairs.filter((pl.col("_legs") == 2) & (pl.col("_signs") == 0)
                             & pl.col("_from").ne_missing(pl.col("_to"))
                             ).select(*by, "_ts", "_first", "_second")
        first, second = pl.col("_first"), pl.col("_second")
        fx_links = (fx_rows.join(pairs, on=[*by, "_ts"], how="inner")
                    .select(*by, at, pl.when(first == pl.col("ref")).then(second)
                            .otherwise(first).alias("_link"),
                            pl.lit(False).alias("_reference_used")))
    links = pl.concat([fee_links, fx_links])  # one row per (file,) line at most
    if not by and not df.height:
        return df.with_columns(related_ref=pl.lit(None, dtype=pl.String),
                               _reference_used=pl.lit(False))
    if not by:
        return df.with_columns(
            pl.Series("related_ref", [None], dtype=pl.String)
            .extend_constant(None, df.height - 1).scatter(links[at], links["_link"]),
            pl.Series("_reference_used", [False]).extend_constant(False, df.height - 1)
            .scatter(links[at], links["_reference_used"]))
    # only the keys joined, the found columns added: a join of the wide frame copies it all
    found = df.select(*by, LINE).join(links, on=[*by, LINE], how="left", maintain_order="left")
    return df.with_columns(related_ref=found["_link"],
                           _reference_used=found["_reference_used"].fill_null(False))



def _by_time_at(fees: pl.DataFrame, near: pl.DataFrame, df: pl.DataFrame,
                main: pl.Expr) -> pl.Series:
    """What `_by_time(near, [])` gives at each fee's timestamp (null where nothing): `fees`
    with their positions in `df` (`_row`), `near` the rows of `df` where `main` holds at the
    fees' timestamps. Where no two of those share a timestamp, a fee's is the one at its time
    just before or after it in the file if that is one of them (then it is the only one): no
    join of a hundred thousand rows (0.02 s of CPU on a million); the others joined."""
    import polars as pl

    if not near.height or near["_ts"].n_unique() != near.height:  # (the ranking's)
        return fees.join(_by_time(near, []), on="_ts", how="left",
                         maintain_order="left")["_by_time"]
    last = df.height - 1
    row, ts = pl.col("_row"), pl.col("_ts")
    sides = fees.select(row, ts, pl.when(row > 0).then(row - 1).otherwise(0).alias("_b"),
                        (row + 1).clip(upper_bound=last).alias("_a"))
    index = None
    for side in ("_b", "_a"):
        at = sides[side]
        there = df.select(pl.col("_ts", "ref").gather(at), main.gather(at).alias("_main"))
        hit = (there["_main"] & (there["_ts"] == sides["_ts"])).fill_null(False)
        found = there["ref"].zip_with(hit, pl.Series([None], dtype=pl.String))
        index = found if index is None else index.fill_null(found)
    link = index.alias("_by_time")
    rest = (link.is_null() & sides["_ts"].is_not_null()).fill_null(False)
    if rest.any():  # a fee whose row is not next to it: looked for among the rows `near`
        where = rest.arg_true()
        times = sides["_ts"].gather(where)
        joined = fees.select("_ts").gather(where).join(
            near.filter(pl.col("_ts").is_in(times.implode()))
            .select("_ts", pl.col("ref").alias("_by_time")), on="_ts", how="left",
            maintain_order="left")
        link = link.scatter(where, joined["_by_time"])
    return link


def _adjacent_pairs(legs: pl.DataFrame, at: str) -> pl.DataFrame | None:
    """The fx links of `legs` (in file order) where the legs of each timestamp are next to
    each other (a conversion's two rows are written together): each leg of a group of two,
    of opposite signs and two currencies, linked to the other, read from its neighbours (no
    grouping nor join of the legs: 0.05 s of CPU on a million rows). None where a timestamp's
    legs are apart: then `_link` groups them. The same links as grouping
    (tests/test_payoneer_pairs.py): a pair's first and last legs are its two rows."""
    import polars as pl

    ts = legs["_ts"]
    row = pl.int_range(pl.len())
    same = legs.select(((row > 0) & pl.col("_ts").eq_missing(pl.col("_ts").shift(1)))
                       .alias("same")).to_series()  # as the row before
    if legs.height - same.sum() != ts.n_unique():  # a timestamp in two runs
        return None

    def before(n: int) -> pl.Expr:  # whether row - n + 1 continues row - n's run
        return pl.col("_same").shift(n - 1, fill_value=False)

    def after(n: int) -> pl.Expr:
        return pl.col("_same").shift(-n, fill_value=False)

    # the first of a run of two, and the second
    first = ~before(1) & after(1) & ~after(2)
    second = before(1) & ~before(2) & ~after(1)
    sign = pl.col("amount").sign().fill_null(0)
    currency = pl.col("currency")
    pair = (first & (sign + sign.shift(-1) == 0) & currency.ne_missing(currency.shift(-1)))
    pair = pair.fill_null(False)
    return legs.with_columns(_same=same).with_columns(_pair=pair).select(
        at, pl.when(pl.col("_pair")).then(pl.col("ref").shift(-1))
        .when(second & pl.col("_pair").shift(1, fill_value=False)).then(pl.col("ref").shift(1))
        .alias("_link"), pl.lit(False).alias("_reference_used")
    ).filter(pl.col("_link").is_not_null())


def _by_time(near: pl.DataFrame, by: list[str], alone: bool = True) -> pl.DataFrame:
    """The one row at each fee's timestamp (`_ts`, `_by_time`: its ref) among the rows `near`
    it, preferring a non-fx row, then a debit fx leg; none where that leaves several. Where
    no two rows share a timestamp (and `alone`), each is its timestamp's: no ranking."""
    import polars as pl

    if alone and not by and near["_ts"].n_unique() == near.height:
        return near.select("_ts", pl.col("ref").alias("_by_time"))
    near = near.with_columns(
        _rank=pl.col("_fx").cast(pl.Int8) * 2 + (pl.col("amount") >= 0).cast(pl.Int8))
    return (near.filter(pl.col("_rank") == pl.col("_rank").min().over([*by, "_ts"]))
            .select(*by, "_ts", pl.col("ref").alias("_by_time"))
            .unique([*by, "_ts"], keep="none"))


FORMATS = [
    Format(
        name="payoneer",
        title="Payoneer transactions CSV (17 columns, or the older 12)",
        fingerprint="header has Transaction Date, Transaction Time, Credit Amount, Debit Amount, "
        "Running Balance",
        detect=detect,
        parse=parse,
        rows_many=rows_many,
    ),
]
