"""PayPal CSV downloads: the Activity download (any column selection, English, German or
French headers) and the Statement CSV (English or Spanish).

Each transaction becomes up to two rows: the Gross (earning, expense, refund, transfer or fx
leg by its type) and the Fee (payment_fee, linked to it). Currency conversions are `fx` legs
linked by `Reference Txn ID`, which is where the FX rules read PayPal's implied rate from.
Rows that did not move money (Memo, holds and releases) or did not complete (Pending,
Denied...) are not booked and are counted with their reason; an unknown status is an error.
Day/month order and the decimal mark are taken from the file's own values, or asked for.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from importers import stacked
from importers.base import (
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    counts,
    date_formats_for,
    finalize,
    kept,
    nonblank,
    parse_dates,
    parse_money_columns,
    proven_order,
)
from importers.csv_parts import distinct_lookup, trimmed
from importers.paypal_kinds import (
    BOOKED,
    NOT_BOOKED,
    _parties,
    _with_row_classes,
)
from importers.raw_files import RawFile
from importers.readers import LINE, Table, read_table
from ledger.core.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "paypal"

ALIASES: dict[str, tuple[str, ...]] = {
    "date": ("date", "datum", "fecha"),
    "type": ("type", "typ"),
    "status": ("status", "état", "estado"),
    "currency": ("currency", "währung", "devise", "divisa"),
    "gross": ("gross", "brutto", "avant commission", "bruto"),
    "fee": ("fee", "gebühr", "frais", "commission", "comisión"),
    "net": ("net", "netto", "neto"),
    "name": ("name", "nom", "nombre"),
    "from": ("from email address", "absender e-mail-adresse", "von e-mail-adresse",
             "de l'adresse email", "correo electrónico del remitente"),
    "to": ("to email address", "empfänger e-mail-adresse", "an e-mail-adresse",
           "à l'adresse email"),
    "id": ("transaction id", "transaktionscode", "numéro de transaction",
           "id. de transacción"),
    "ref": ("reference txn id", "zugehöriger transaktionscode", "txn-referenzkennung",
            "numéro de la transaction de référence", "nº de transaction de référence",
            "id. de referencia de trans."),
    "balance": ("balance", "guthaben", "solde", "saldo"),
    "impact": ("balance impact", "auswirkung auf guthaben", "impact sur le solde"),
    "description": ("description", "descripción"),
    "subject": ("item title", "artikelbezeichnung", "subject", "betreff", "note", "hinweis"),
    "timezone": ("timezone", "zeitzone", "fuseau horaire"),
    "statement_tz": ("time zone", "zona horaria"),
    "bank_account": ("bank account", "cuenta bancaria"),
}

COMMA_LANGUAGES = {"datum", "fecha"}
"""Header words of the German and Spanish files, whose numbers use a decimal comma."""

def _cells_have(cells: set[str], *fields: str) -> bool:
    return all(any(a in cells for a in ALIASES[f]) for f in fields)


def _is_activity(cells: set[str]) -> bool:
    return _cells_have(cells, "id", "gross", "net") and (
        _cells_have(cells, "timezone") or _cells_have(cells, "type"))


def _is_statement(cells: set[str]) -> bool:
    return (_cells_have(cells, "statement_tz", "description", "gross", "net", "bank_account")
            and not _cells_have(cells, "type"))


def detect_activity(raw: RawFile) -> bool:
    return raw.header_is_first(_is_activity)


def detect_statement(raw: RawFile) -> bool:
    return raw.header_is_first(_is_statement)


def _pick(columns: list[str], field: str) -> str | None:
    return next((a for a in ALIASES[field] if a in columns), None)


def _columns(table: Table) -> pl.DataFrame:
    """The export's columns under field names (`_date`, `_gross`...; null where absent)."""
    import polars as pl

    cols = table.df.columns
    col = {f: _pick(cols, f) for f in ALIASES}
    for needed in ("date", "currency", "gross", "id"):
        if col[needed] is None:
            table.require(ALIASES[needed])
    extra = [c for c in (stacked.FILE,) if c in cols]
    df = table.df.select(LINE, *extra, *(pl.col(v).alias(f"_{k}") for k, v in col.items()
                                         if v is not None))
    return df.with_columns(pl.lit(None, dtype=pl.String).alias(f"_{k}")
                           for k in ALIASES if f"_{k}" not in df.columns)


def _typed(df: pl.DataFrame, mark: str, formats: list[str], path: object) -> pl.DataFrame:
    import polars as pl

    return df.with_columns(
        date=parse_dates(df, pl.col("_date"), formats, path=path),
        **parse_money_columns(df, {
            "gross": (pl.col("_gross"), "Gross", True),
            "fee": (pl.col("_fee"), "Fee", False),
            "net": (pl.col("_net"), "Net", False),
            "balance": (pl.col("_balance"), "Balance", False),
        }, path=path, decimal_mark=mark),
        type=pl.coalesce(pl.col("_type"), pl.col("_description"), pl.lit("")),
        currency=_currency(df),
    )


def _currency(df: pl.DataFrame) -> pl.Expr:
    """The Currency cells trimmed and upper-cased: the cells themselves where each already
    is (capital letters only, as exports write them): one test per cell, not two copies of
    a million (0.03 s CPU)."""
    import polars as pl

    cells = pl.col("_currency")
    if df.select(cells.str.contains(r"^[A-Z]*$").all()).item():
        return cells
    return cells.str.strip_chars().str.to_uppercase()


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    table = read_table(raw, 0)
    path = raw.path
    cols = table.df.columns
    df = _columns(table)
    del table  # the export's other cells: not held through the parse (memory)
    rows_read = df.height

    mark = options.decimal_mark or _decimal_mark(df, cols, path)
    df = _typed(df, mark, _date_formats(df["_date"], options, path, df), path)
    _check_net(df, path)
    df = df.drop("_date", "_gross", "_fee", "_net", "_balance", "_type", "_description",
                 "_currency", "_timezone", "_statement_tz", "_bank_account")  # typed above
    df = _with_row_classes(df, path)
    df, booked_pending = _moved_by_balance(df, path)
    skipped = counts(df["skip"])
    df = kept(df, pl.col("skip").is_null())

    warnings = []
    if booked_pending:
        warnings.append(f"{booked_pending} row(s) marked Pending were booked: the Balance column "
                        "shows their money moved")
    unknown = df.filter(pl.col("kind") == "other")
    if unknown.height:
        types = sorted(set(unknown["type"].to_list()))
        warnings.append(f"{unknown.height} row(s) of unknown type {types} imported as kind "
                        "'other'; check them with `ledger transactions --kind other`")
    del unknown
    taken = [df]
    del df  # _legs holds the rows alone: the columns it does not keep are let go as soon as
    rows = _legs(taken.pop())  # its legs are made, not held until it returns (memory)
    account = options.account or SOURCE
    rows = finalize(rows, raw, source=SOURCE, account=account, key=_key(rows))
    return Parsed(rows=rows, format="paypal", rows_read=rows_read, skipped=skipped,
                  warnings=warnings)


def rows_many(raws: list[RawFile], options: ImportOptions) -> list[pl.DataFrame | None]:
    """`parse(raw, options).rows` of each file, the files with the same columns parsed as one
    frame (importers/stacked.py): decimal mark, date order, statuses, Net and running balances
    decided per file; a file with pending rows whose balance may show them moved is left to
    `parse` (None), as is any file it refuses."""
    out: list[pl.DataFrame | None] = [None] * len(raws)
    if not stacked.covered(raws):
        return out
    for group in stacked.tables(raws).values():
        decided: dict[tuple[str, tuple[str, ...]], list[tuple[int, Table]]] = {}
        try:
            columns, sure = _stacked_decisions(group, options)
        except Exception:  # each file decides alone, below
            columns, sure = None, {}
        for index, table in group:
            if index in sure:
                decided.setdefault(sure[index], []).append((index, table))
                continue
            try:
                df = _columns(table)
                mark = options.decimal_mark or _decimal_mark(df, table.df.columns, raws[index].path)
                formats = tuple(_date_formats(df["_date"], options, raws[index].path))
            except Exception:  # `parse` reports it
                continue
            decided.setdefault((mark, formats), []).append((index, table))
        for (mark, formats), tables in decided.items():
            try:
                found = _stacked_rows(tables, raws, mark, list(formats), options, columns)
            except Exception:  # `parse` reads these files alone
                continue
            for index, rows in found.items():
                out[index] = rows
    return out


_MONEY = ("_gross", "_fee", "_net", "_balance")
_ISO_DATE = r"\d{4}-\d{2}-\d{2}"


def _stacked_decisions(group: list[tuple[int, Table]], options: ImportOptions
                       ) -> tuple[pl.DataFrame, dict[int, tuple[str, tuple[str, ...]]]]:
    """The group's files (same columns) stacked as `_columns` gives them, and the (decimal
    mark, date formats) of those whose values tell, from one query over the stack: what
    `_decimal_mark` and `_date_formats` decide for the file alone. The others are left out
    (decided alone, which also explains why they cannot be)."""
    import polars as pl

    table = group[0][1]
    df = _columns(Table(df=stacked.stack(group), header=table.header, path=table.path,
                        delimiter=table.delimiter, names=table.names))
    file = pl.col(stacked.FILE)

    def mark(name: str) -> pl.Expr:  # `_decimal_mark` on the file's first 2000 values
        value = pl.col(name)
        body = value.str.replace_all(r"[^0-9,.]", "")
        both = body.str.contains(".", literal=True) & body.str.contains(",", literal=True)
        taken = value.is_not_null() & (value.is_not_null().cum_sum().over(file) <= 2000)
        return pl.when(taken).then(body.str.extract(r"([.,])\d{1,2}$", 1).fill_null(
            pl.when(both).then(body.str.extract(r"([.,])[0-9]*$", 1))))

    date = pl.col("_date")
    parts = date.str.extract_groups(r"^\s*(\d{1,2})/(\d{1,2})/")
    marks, dates = pl.collect_all([
        df.lazy().select(stacked.FILE, *(mark(n).alias(n) for n in _MONEY)).group_by(
            stacked.FILE).agg(pl.concat_list(_MONEY).explode().drop_nulls().unique()
                              .alias("marks")),
        df.lazy().group_by(stacked.FILE).agg(
            date.drop_nulls().head(5).alias("head"),
            (date.str.strip_chars() != "").any().alias("dated"),
            date.unique().alias("_date")).explode("_date").group_by(stacked.FILE).agg(
            pl.col("head", "dated").first(),
            parts.struct.field("1").cast(pl.Int32, strict=False).max().alias("first"),
            parts.struct.field("2").cast(pl.Int32, strict=False).max().alias("second"))],
        engine="in-memory")
    comma = bool(COMMA_LANGUAGES & set(table.df.columns))
    found = dict(zip(marks[stacked.FILE].to_list(), marks["marks"].to_list(), strict=True))
    out: dict[int, tuple[str, tuple[str, ...]]] = {}
    for index, head, dated, first, second in dates.iter_rows():
        decimal = options.decimal_mark or (
            found[index][0] if len(found[index]) == 1 else None)
        if decimal is None and not found[index] and comma:
            decimal = ","  # no value tells, but the header is German or Spanish
        if decimal is None:
            continue  # `_decimal_mark` decides, or says why it cannot
        shown = next((s.strip() for s in head if s.strip()), "")
        if re.match(_ISO_DATE, shown):
            formats = ["%Y-%m-%d"]
        elif "." in shown:
            formats = ["%d.%m.%Y"]
        else:
            order = options.date_order or proven_order(first, second)
            if order is None and (first or 0) <= 12 and not dated:
                order = "dmy"  # no dates at all, as date_formats_for
            if order is None:
                continue  # `date_formats_for` says why
            formats = date_formats_for(order, "/", path=table.path, sample=[])
        out[int(index)] = (decimal, tuple(formats))
    return df, out


def _stacked_rows(tables: list[tuple[int, Table]], raws: list[RawFile], mark: str,
                  formats: list[str], options: ImportOptions,
                  columns: pl.DataFrame | None = None) -> dict[int, pl.DataFrame]:
    """The tables' rows parsed as one frame; `columns`: `_columns` of a stack of these
    tables and maybe others (`_stacked_decisions`'), taken instead of stacking again."""
    import polars as pl

    table = tables[0][1]
    if columns is None:
        columns = _columns(Table(df=stacked.stack(tables), header=table.header,
                                 path=table.path, delimiter=table.delimiter, names=table.names))
    else:
        indices = [index for index, _ in tables]
        if columns[stacked.FILE].n_unique() != len(indices):
            columns = columns.filter(pl.col(stacked.FILE).is_in(indices))
    df = _typed(columns, mark, formats, table.path)
    df = stacked.without(df, stacked.bad_files(df, _net_wrong()))
    status = pl.col("_status").str.strip_chars().str.to_lowercase()
    df = stacked.without(df, stacked.bad_files(
        df, status.is_not_null() & ~status.is_in(sorted(BOOKED | NOT_BOOKED))))
    df = _with_row_classes(df, table.path)
    # pending rows the running balance may show moved: `parse` decides those files alone
    df = stacked.without(df, stacked.bad_files(
        df, pl.col("_by_balance") & pl.col("balance").is_not_null()))
    moved = df.filter(pl.col("moved")).with_columns(
        amount=pl.col("gross") + pl.col("fee").fill_null(0))
    df = stacked.without(df, stacked.balance_breaks(moved, ["currency"]))
    df = df.filter(pl.col("skip").is_null())
    return stacked.finish(_legs(df, [stacked.FILE]), raws, source=SOURCE,
                          account=options.account or SOURCE, key=_key())


def _legs(df: pl.DataFrame, keep: list[str] | None = None) -> pl.DataFrame:
    """The booked rows as canonical rows before `finalize`: the Gross leg of each, then a fee
    leg for each non-zero Fee."""
    import polars as pl

    # counterparty, kind and category of each distinct (payer, kind, category, money in or
    # out): a few thousand combinations, each gathered once for a million rows, rather than
    # the payer's fields gathered and then chosen between row by row (`_parties`)
    df = distinct_lookup(df.with_columns(_in=pl.col("gross") >= 0),
                         ["_name", "_from", "_to", "kind", "category", "_in"], _parties)
    subject = nonblank(pl.col("_subject"))
    base = df.select(
        *(keep or []), LINE, "date", "currency", "gross", "fee",
        counterparty=pl.col("_counterparty"),
        description=pl.concat_str([pl.col("type").str.strip_chars(), subject], separator=" - ",
                                  ignore_nulls=True),
        # trimmed (nonblank): the cells themselves where none needs it, not a copy of each
        ref=pl.lit(trimmed(df, pl.col("_id"), True)),
        contract=pl.lit(None, dtype=pl.String),
        hours=pl.lit(None, dtype=pl.Float64),
        kind=pl.col("_kind"),
        category=pl.col("_category"),
        related_ref=pl.lit(trimmed(df, pl.col("_ref"), True)),
    )
    del df
    # Gross and Fee themselves are not kept: each leg's amount is one of them, and finalize
    # reads neither (two columns fewer copied into the fee legs and held to the end)
    fee_leg = {"amount": pl.col("fee"), "kind": pl.lit("payment_fee"),
               "category": pl.lit("paypal_fee"),
               "description": pl.lit("PayPal fee - ") + pl.col("description"),
               "related_ref": pl.col("ref"), "_leg": pl.lit("fee")}
    gross_rows = base.with_columns(amount=pl.col("gross"), _leg=pl.lit("gross")) \
        .drop("gross", "fee")
    # lazy: the filter copies only the columns the fee legs keep as they are
    fee_rows = base.lazy().filter(pl.col("fee").is_not_null() & (pl.col("fee") != 0)).select(
        fee_leg[c].alias(c) if c in fee_leg else pl.col(c) for c in gross_rows.columns
    ).collect(engine="in-memory")
    # not rechunked here: finalize does, a column at a time (a copy of all rows held beside
    # base and its fee rows was the import's peak memory)
    return pl.concat([gross_rows, fee_rows])


def _key(rows: pl.DataFrame | None = None) -> pl.Expr:
    """Each row's key for its id: its transaction id (or, lacking one, its description and
    line) and its leg. Given the `rows`, the fallback is left out where every row has an id
    (the same keys: computing it for two million rows cost 0.13 s of an import's CPU)."""
    import polars as pl

    ref = pl.col("ref")
    if rows is None or rows["ref"].null_count():
        ref = pl.coalesce(ref, pl.col("description") + "@" + pl.col(LINE).cast(pl.String))
    return pl.concat_str([ref, pl.col("_leg")], separator="|")


def _moved_by_balance(df, path):
    """`df` with pending rows that moved the balance booked (no Balance Impact column says so:
    the running balance does), the running balance checked; and how many were booked.

    A not-booked row moved the money when its Balance is the previous balance plus its
    amount; it did not when the Balance is unchanged. Chronological order comes from the
    dates, or where they cannot tell, from whichever order the balances follow."""
    import polars as pl

    amount = pl.col("gross") + pl.col("fee").fill_null(0)
    rows = df.select(LINE, "date", "currency", "balance", "moved", "_by_balance",
                     amount=amount)
    candidates = rows.filter(pl.col("_by_balance") & pl.col("balance").is_not_null())
    orders: list[bool | None] = [None]
    if candidates.height:
        dated = rows.filter(pl.col("date").is_not_null())
        first, last = (dated["date"][0], dated["date"][-1]) if dated.height else (None, None)
        orders = [first > last] if first is not None and first != last else [False, True]
    error = None
    for newest_first in orders:
        booked = pl.lit(False)
        if newest_first is not None:
            chain = rows.filter(pl.col("balance").is_not_null()).sort(
                LINE, descending=newest_first)
            previous = pl.col("balance").shift(1).over("currency")
            lines = chain.filter(pl.col("_by_balance") & (pl.col("amount") != 0)
                                 & (previous + pl.col("amount") == pl.col("balance")))[LINE]
            booked = pl.col(LINE).is_in(lines.implode())
        marked = rows.with_columns(moved=pl.col("moved") | booked, _booked=booked)
        try:
            check_running_balance(marked.filter(pl.col("moved")), path=path,
                                  group=["currency"], newest_first=newest_first)
        except DataError as exc:
            error = error or exc
            continue
        count = int(marked["_booked"].sum())
        if count:
            df = df.with_columns(moved=marked["moved"],
                                 skip=pl.when(marked["_booked"]).then(None)
                                 .otherwise(pl.col("skip")))
        return df, count
    raise error


def _net_wrong() -> pl.Expr:
    import polars as pl

    return pl.col("net").is_not_null() & pl.col("fee").is_not_null() \
        & (pl.col("gross") + pl.col("fee") != pl.col("net"))


def _check_net(df, path) -> None:
    wrong = df.filter(_net_wrong()).head(1)
    if wrong.height:
        raise DataError(
            f"Net {wrong['_net'][0]!r} is not Gross {wrong['_gross'][0]!r} + Fee "
            f"{wrong['_fee'][0]!r}", path=path, line=int(wrong[LINE][0]),
            hint="the numbers were misread or edited; if the file uses a decimal comma, "
            "pass --decimal-mark ,",
        )


def _decimal_mark(df, columns: list[str], path) -> str:
    """`_decimal_mark_each` in one polars query where the values tell (the usual case);
    else `_decimal_mark_each`, which explains why not."""
    import polars as pl

    fields = ("_gross", "_fee", "_net", "_balance")
    values = df.select(pl.concat([pl.col(f).drop_nulls().head(2000) for f in fields])
                       .alias("v"))["v"]
    body = values.str.replace_all(r"[^0-9,.]", "")
    ending = body.str.extract(r"([.,])\d{1,2}$", 1)
    both = body.str.contains(".", literal=True) & body.str.contains(",", literal=True)
    marks = ending.fill_null(pl.select(pl.when(pl.lit(both)).then(
        pl.lit(body).str.extract(r"([.,])[0-9]*$", 1))).to_series()).drop_nulls().unique()
    if marks.len() == 1:
        return str(marks[0])
    if marks.len() == 0:
        if COMMA_LANGUAGES & set(columns):
            return ","
        if not values.str.contains(r"\d[.,]\d{3}(?:\D|$)").any():
            return "."
    return _decimal_mark_each(df, columns, path)


def _decimal_mark_each(df, columns: list[str], path) -> str:
    from ledger.core.money import detect_decimal_mark

    values: list[str] = []
    for field in ("_gross", "_fee", "_net", "_balance"):
        values.extend(v for v in df[field].drop_nulls().head(2000).to_list() if v)
    try:
        mark = detect_decimal_mark(values)
    except ValueError:
        raise DataError("numbers use both '.' and ',' as decimal mark", path=path,
                        hint="say which with --decimal-mark . or --decimal-mark ,") from None
    if mark:
        return mark
    if COMMA_LANGUAGES & set(columns):
        return ","
    if any(re.search(r"\d[.,]\d{3}(?!\d)", v) for v in values):
        raise DataError(
            "numbers such as " + repr(next(v for v in values if re.search(r"[.,]\d{3}", v)))
            + " could use either mark for decimals", path=path,
            hint="say which with --decimal-mark . or --decimal-mark ,")
    return "."


def _date_formats(sample, options: ImportOptions, path, rows: pl.DataFrame | None = None
                  ) -> list[str]:
    """`rows`: the frame `sample` is the `_date` of, where its error names the row."""
    first = next((s.strip() for s in sample.drop_nulls().head(5).to_list() if s.strip()), "")
    if re.match(r"\d{4}-\d{2}-\d{2}", first):
        return ["%Y-%m-%d"]
    if "." in first:
        return ["%d.%m.%Y"]
    return date_formats_for(options.date_order, "/", path=path, sample=sample, rows=rows,
                            column="_date")


FORMATS = [
    Format(
        name="paypal",
        title="PayPal Activity download (English, German or French headers)",
        fingerprint="header has Transaction ID, Gross, Net and TimeZone or Type "
        "(Transaktionscode/Brutto/Netto, Numéro de transaction/Avant commission)",
        detect=detect_activity,
        parse=parse,
        rows_many=rows_many,
    ),
    Format(
        name="paypal-statement",
        title="PayPal Statement CSV (English or Spanish)",
        fingerprint="header has Time Zone, Description, Gross, Net, Bank Account and no Type",
        detect=detect_statement,
        parse=parse,
        rows_many=rows_many,
    ),
]
