"""What every importer is and the checks they share.

An importer is a `Format`: a name, a pure `detect(raw)` that looks only at the first KBs, and
`parse(raw, options)` returning canonical rows. The helpers here turn string columns into
dates and Decimals with a `path:line:` error on the first value that does not fit, check a
running balance, and finish rows into the canonical schema with stable ids.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from importers.raw_files import RawFile
from importers.readers import LINE
from ledger.core.errors import DataError, UsageError
from ledger.core.providers import PAYER_PATTERN

if TYPE_CHECKING:
    import polars as pl

    from ledger.core.schema import Joined


BALANCES: ContextVar[list[pl.DataFrame] | None] = ContextVar("balances", default=None)
"""While set to a list (ledger.balances re-reading archived sources for an export's balance
assertions), check_running_balance adds the rows it checked here: line, balance, currency."""


@dataclass(frozen=True)
class ImportOptions:
    """What the user told `ledger import` to settle what a file cannot say for itself."""

    account: str | None = None
    date_order: str | None = None
    """'dmy' or 'mdy' where a file's numeric dates could be either."""
    decimal_mark: str | None = None
    """'.' or ',' where a file's numbers could be either."""
    today: dt.date | None = None
    """Rows dated after this are not booked yet (pending); default: the real today."""

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("account", self.account), ("date_order", self.date_order),
                                  ("decimal_mark", self.decimal_mark)) if v}

    @classmethod
    def from_dict(cls, values: dict[str, str]) -> ImportOptions:
        return cls(account=values.get("account"), date_order=values.get("date_order"),
                   decimal_mark=values.get("decimal_mark"))

    def check(self) -> ImportOptions:
        if self.date_order not in (None, "dmy", "mdy"):
            raise UsageError(f"--date-order must be dmy or mdy, not {self.date_order!r}")
        if self.decimal_mark not in (None, ".", ","):
            raise UsageError(f"--decimal-mark must be '.' or ',', not {self.decimal_mark!r}")
        return self


@dataclass
class Parsed:
    """Rows read from one file, ready for the store, and what was left out and why."""

    rows: pl.DataFrame
    format: str
    rows_read: int
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    import_id: str = ""
    """sha256 of the file (set by the registry)."""
    profile: str | None = None
    """TOML text of the user's bank profile that read the file (None for built-in formats and
    bundled profiles): archived with the file so that a rebuild reads it the same way."""
    ids_distinct: bool = False
    """The rows' ids are distinct by how they were made (one finalize of keys proven
    distinct: schema.Joined.distinct), so importers.registry.parse need not hash them to
    prove it (0.04 s of CPU on a million rows)."""


@dataclass(frozen=True)
class Format:
    """One export layout the registry knows."""

    name: str
    title: str
    fingerprint: str
    detect: Callable[[RawFile], bool]
    parse: Callable[[RawFile, ImportOptions], Parsed]
    rows_many: Callable[[list[RawFile], ImportOptions], list[pl.DataFrame | None]] | None = None
    """Optional: many files' rows at once, each exactly `parse(raw, options).rows` or None
    (then `parse` reads it alone): importers/stacked.py."""
    read_unsettled_as: str | None = None
    """The order ("dmy"/"mdy") in which this format read numeric dates that proved none,
    before it asked for `--date-order` (UnsettledDates): an import logged then without the
    flag is read so again by `ledger rebuild` and `undo` (ledger/store/importing.py), which
    no flag reaches, so the rows it stored stay as they are (Payoneer: "mdy")."""


class UnsettledDates(DataError):
    """Numeric dates that could be day-first or month-first, and no `--date-order`."""


def is_platform(expr: pl.Expr) -> pl.Expr:
    """True where a payer name or text names a platform or wallet the ledger imports itself."""
    return expr.str.contains(PAYER_PATTERN).fill_null(False)


def classify(df: pl.DataFrame, text: pl.Expr, rules: list[tuple[str, str, str]], *,
             kind: str = "kind") -> pl.DataFrame:
    """Add `kind` and `category` from the first of `rules` (pattern, kind, category) whose
    pattern `text` matches; no match: kind `other`, category null. Each pattern is scanned
    once over the column (Freelancer's and Fiverr's descriptions)."""
    import polars as pl

    df = df.with_columns(_text=text)
    hits = [pl.when(pl.col("_text").str.contains(pattern)).then(pl.lit(i, dtype=pl.Int32))
            for i, (pattern, _, _) in enumerate(rules)]
    df = df.with_columns(_rule=pl.coalesce(hits)).drop("_text")
    numbers = list(range(len(rules)))
    return df.with_columns(
        pl.col("_rule").replace_strict(numbers, [k for _, k, _ in rules], default="other",
                                       return_dtype=pl.String).alias(kind),
        category=pl.col("_rule").replace_strict(numbers, [c for _, _, c in rules],
                                                default=None, return_dtype=pl.String),
    ).drop("_rule")


def with_key(df: pl.DataFrame, parts: list[pl.Expr], by: list[str] | None = None
             ) -> pl.DataFrame:
    """Add `_key`, the row key for ids: the source id (`ref`) and `parts`, with `#n` added to
    the n-th repeat of a key within the file (n >= 1, so a row keeps its key whether or not its
    twin is in the same export); rows without an id fall back to their content (date, amount,
    currency, description, n-th: `schema.with_ids` fills those). `df` must be in line order.
    `by`: columns telling stacked files apart (repeats counted within each file).
    """
    import polars as pl

    df = df.with_columns(_key=pl.concat_str([pl.col("ref"), *parts], separator="|"))
    keys = df["_key"]
    if by or (not _unique_numbers(df["ref"])
              and keys.drop_nulls().n_unique() < keys.len() - keys.null_count()):
        nth = pl.int_range(pl.len()).over(["_key", *(by or [])])
        df = df.with_columns(_key=pl.when(nth > 0)
                             .then(pl.concat_str([pl.col("_key"), nth.cast(pl.String)],
                                                 separator="#"))
                             .otherwise(pl.col("_key")))
    return df


def known_key(df: pl.DataFrame, parts: list[pl.Expr], refs_distinct: bool = False
              ) -> Joined | None:
    """The key `with_key` would make, as its parts (schema.Joined, proven distinct), where
    every `ref` is a distinct integer and no part is null: then no key repeats, so none is
    numbered, and the keys need not be joined into a column nor the ids hashed again to
    prove them distinct (Parsed.ids_distinct; 0.1 s of CPU on a million Payoneer rows).
    No `parts`: the key is the ref alone (Upwork's). None: make the key as ever.
    `refs_distinct`: the caller proved it already (`_unique_numbers` of these refs, or of
    refs they are a subset of), so it is not proved again."""
    import polars as pl

    from ledger.core.schema import Joined

    if not df.height or not (refs_distinct or _unique_numbers(df["ref"])):
        return None
    if parts and df.select(pl.any_horizontal(p.is_null() for p in parts).any()).item():
        return None
    return Joined((pl.col("ref"), *parts), "|", distinct=True)


def _unique_numbers(ids: pl.Series) -> bool:
    """True when every id is a distinct integer (Payoneer's are): a quick way to know no key
    repeats, much cheaper than hashing a million strings. False only means "look closer"."""
    import polars as pl

    numbers = ids.cast(pl.Int64, strict=False)
    if numbers.null_count():
        return False
    if numbers.len() > 1:  # ids in rising or falling order (an export's, as usual) are
        # distinct: two comparisons of neighbours, not a million numbers hashed (0.004 s)
        after, before = numbers.slice(1), numbers.slice(0, numbers.len() - 1)
        if (after > before).all() or (after < before).all():
            return True
    return numbers.n_unique() == numbers.len()



def account_name(source: str, identification: str | None) -> str:
    """The account of a bank statement (MT940 `:25:`, camt.053 `Acct/Id`, OFX `ACCTID`):
    `source:` the last four characters, then six hex digits of a hash of the whole
    identification. Different accounts never merge (the last four alone made 20 accounts of
    one MT940 file into two) and the full number is not shown in reports. Letters are read
    without case, spaces and punctuation ignored: the same account in any file, same name."""
    import hashlib

    text = re.sub(r"[^0-9A-Za-z]", "", identification or "").upper()
    if not text:
        return source
    if len(text) <= 4:
        return f"{source}:{text}"
    digest = hashlib.sha256(text.encode()).hexdigest()[:6]
    return f"{source}:{text[-4:]}-{digest}"


# --- shared column parsing ------------------------------------------------------------------


def counts(values: pl.Series, label: str = "{}") -> dict[str, int]:
    """How often each value occurs, as `label`-formatted keys: most frequent first, ties by
    value, so the same file always gives the same summary (value_counts' order varies)."""
    pairs = [(str(k), int(v)) for k, v in values.drop_nulls().value_counts().iter_rows()]
    return {label.format(k): v for k, v in sorted(pairs, key=lambda kv: (-kv[1], kv[0]))}


def lookup(df: pl.DataFrame, table: pl.DataFrame, keys: list[str]) -> pl.DataFrame:
    """`df` with `table`'s other columns looked up by `keys` (nulls match nulls): for what
    importers work out once per distinct value (a type, a payer, a description) and spread
    back over a million rows. A left join that gathers only the new columns: joining the
    whole wide frame copies every column, ~4x slower."""
    found = df.select(keys).join(table, on=keys, how="left", maintain_order="left",
                                 nulls_equal=True)
    return df.with_columns(found.drop(keys))


def nonblank(expr: pl.Expr) -> pl.Expr:
    """The trimmed text, or null where the cell is empty or only spaces."""
    import polars as pl

    text = expr.str.strip_chars()
    return pl.when(text.str.len_chars() > 0).then(text).otherwise(None)


def first_bad(df: pl.DataFrame, bad: pl.Expr, value: pl.Expr) -> tuple[int, str] | None:
    """(line, raw value) of the first row where `bad` holds, or None."""
    import polars as pl

    hit = df.filter(bad).select(pl.col(LINE), value.cast(pl.String).alias("v")).head(1)
    return (int(hit[LINE][0]), str(hit["v"][0])) if hit.height else None


def _first(df: pl.DataFrame, mask: pl.Series, values: pl.Series) -> tuple[int, str] | None:
    """(line, value) of the first row where `mask` holds."""
    mask = mask.fill_null(False)
    if not mask.any():
        return None
    index = mask.arg_true()[0]
    return int(df[LINE][index]), str(values[index])


def parse_dates(df: pl.DataFrame, raw: pl.Expr, formats: list[str], *, path: object,
                what: str = "date", hint: str | None = None) -> pl.Series:
    """Parse `raw` with the first of `formats` that fits each value; error on any that fits none.

    Evaluated once, eagerly: the returned Series goes straight into `with_columns`.
    """
    values = df.with_columns(raw.str.strip_chars().alias("_v"))["_v"]
    parsed = _dates_in(values, formats, False)
    low = parsed.min()  # (one pass over the dates; the year check itself only where it fails)
    if isinstance(low, dt.date) and low.year < MIN_YEAR:
        parsed = _dates_in(values, formats, True)
    bad = _first(df, parsed.is_null() & values.is_not_null(), values)
    if bad is None and values.null_count():  # (no column of "(empty)" made where none is:
        # 0.02 s of CPU on a million rows)
        bad = int(df[LINE][values.is_null().arg_true()[0]]), "(empty)"
    if bad:
        line, value = bad
        shown = ", ".join(_example(f) for f in formats)
        raise DataError(f"{what} {value!r} is not a date in the expected form ({shown})",
                        path=path, line=line,
                        hint=hint or "check the file is the original export, not re-saved")
    return parsed


MIN_YEAR = 1900
"""A parsed year below this means a `%Y` read a two-digit year (`28/06/24`, as a spreadsheet
re-saved the export): not a date in that form, never the year 24."""


def _dates_in(values: pl.Series, formats: list[str], check_years: bool) -> pl.Series:
    """`values` read with the first of `formats` that fits each; `check_years`: a year below
    MIN_YEAR does not fit."""
    import polars as pl

    def read(fmt: str) -> pl.Series:
        attempt = values.str.strptime(pl.Date, fmt, strict=False)
        if check_years:
            attempt = attempt.set((attempt.dt.year() < MIN_YEAR).fill_null(False), None)
        return attempt

    parsed = read(formats[0])
    for fmt in formats[1:]:
        if parsed.null_count() == values.null_count():
            break
        parsed = parsed.fill_null(read(fmt))
    return parsed


def parse_dates_once(df: pl.DataFrame, column: str,
                     found: tuple[pl.Series, pl.Series] | None, formats: list[str], *,
                     path: object, what: str = "date", hint: str | None = None) -> pl.Series:
    """`parse_dates` of `df`'s `column`, each distinct text parsed once and spread over the
    rows (an export's million dates hold a few thousand days): `found` is (each row's code,
    the distinct texts it points into), with no null in either. Where a distinct text does
    not parse (or `found` is None or holds a null), the cells are parsed as ever, so the
    error names the first row that does not."""
    import polars as pl

    if found is not None and not found[0].null_count() and not found[1].null_count():
        codes, distinct = found
        try:
            parsed = parse_dates(pl.DataFrame([
                pl.repeat(0, distinct.len(), dtype=pl.Int64, eager=True).alias(LINE),
                distinct.alias(column)]), pl.col(column), formats, path=path, what=what,
                hint=hint)
        except DataError:  # said at its first row, below
            pass
        else:
            return parsed.gather(codes)
    return parse_dates(df, pl.col(column), formats, path=path, what=what, hint=hint)


def _example(fmt: str) -> str:
    return dt.date(2024, 6, 28).strftime(fmt)


def parse_money(df: pl.DataFrame, raw: pl.Expr, *, path: object, what: str,
                decimal_mark: str = ".", required: bool = True, mark_flag: bool = False
                ) -> pl.Series:
    """Parse `raw` as exact amounts; any non-blank value that is not a number is an error.

    Evaluated once, eagerly (fast path for plain numbers): returns a Decimal Series.
    """
    return parse_money_columns(df, {"_v": (raw, what, required)}, path=path,
                               decimal_mark=decimal_mark, mark_flag=mark_flag)["_v"]


def parse_money_columns(df: pl.DataFrame, columns: dict[str, tuple[pl.Expr, str, bool]], *,
                        path: object, decimal_mark: str = ".",
                        plain: set[str] | None = None, mark_flag: bool = False
                        ) -> dict[str, pl.Series]:
    """`parse_money` of several columns (name -> raw text, name in messages, required): the
    fast path of all of them runs in one select, in parallel. Errors are checked column by
    column in the order given, so a file gets the same message as from one call each.
    `plain`: where given, the names of the columns whose every cell, null aside, is a plain
    number (money.fast_path's: no white space, never empty) are added to it: trimming such
    a column's text changes no cell (a caller that reads it too need not test each).
    `mark_flag`: the format reads `--decimal-mark`, so a value that is a number with the other
    mark (`2.150,00` re-saved in a decimal-comma locale) is refused with that flag as hint."""
    import polars as pl

    from ledger.core.money import fast_path, is_blank_expr, parse_amounts

    values = df.with_columns(raw.alias(name) for name, (raw, _, _) in columns.items()) \
        .select(list(columns))  # with_columns: a literal (absent column) fills every row
    fast, cast = fast_path(values, decimal_mark)
    out = {}
    for name, (_, what, required) in columns.items():
        column = values[name]
        blank = column.is_null()
        rest = ~fast[name] & ~blank  # blankness is decided on these few cells (fast is not)
        if not rest.any():
            if plain is not None:
                plain.add(name)
        else:
            at = rest.arg_true()
            blank = blank.scatter(at, pl.select(is_blank_expr(pl.lit(column.gather(at))))
                                  .to_series())
            column = column.zip_with(~blank, pl.Series([None], dtype=pl.String))
        parsed = parse_amounts(column, decimal_mark, fast=fast[name], cast=cast[name])
        bad = _first(df, parsed.is_null() & ~blank, values[name])
        if bad:
            line, value = bad
            raise DataError(f"{what} {value!r} is not a number", path=path, line=line,
                            hint=_number_hint(value, decimal_mark, mark_flag))
        if required:
            missing = _first(df, blank, values[name])
            if missing:
                raise DataError(f"{what} is empty", path=path, line=missing[0],
                                hint="every transaction needs an amount; the file may be "
                                "truncated")
        out[name] = parsed
    return out


def _number_hint(value: str, mark: str, flag: bool) -> str:
    """What to do about a cell that is not a number: where it is one with the other decimal
    mark and the format reads `--decimal-mark`, that flag. On the error's way only."""
    import polars as pl

    from ledger.core.money import parse_amounts

    other = "," if mark == "." else "."
    if flag and parse_amounts(pl.Series([value.strip()]), other)[0] is not None:
        written = "a decimal comma (1.234,56)" if other == "," else "a decimal point (1,234.56)"
        return (f"it reads as a number written with {written}, as a spreadsheet in such a "
                f"locale re-saves an export: import the file with --decimal-mark {other} if "
                "all of it is written so, or the export as downloaded")
    return "amounts must be numbers such as 1,234.56; fix or re-download"


def check_running_balance(df: pl.DataFrame, *, path: object, group: list[str] | None = None,
                          newest_first: bool | None = None) -> None:
    """Each row's `balance` must equal the previous row's balance plus its `amount`.

    `df` has `amount`, `balance` (Decimal, null where the source has none), `date` and `_line`.
    Order is chronological: file order, or reversed for newest-first exports (decided from the
    dates when not given; where dates cannot tell, whichever order the balances follow wins).
    The first break is reported: the file is truncated, edited or misread.
    """
    import polars as pl

    keys = group or []
    rows = df.select(LINE, "date", "amount", "balance", *keys).filter(
        pl.col("balance").is_not_null())
    collected = BALANCES.get()
    if collected is not None:
        collected.append(rows.select(
            LINE, pl.col("balance").cast(pl.Decimal(38, 4)),
            pl.col("currency") if "currency" in keys else pl.lit(None, pl.String)
            .alias("currency")))
    if rows.height < 2:
        return
    if keys and all(rows[key].n_unique() == 1 for key in keys):
        keys = []  # one group (one currency): the same chain without `over` (0.05 s -> 0.005 s
        # of CPU on a million rows); the collected balances above keep their currency
    orders = [True, False] if newest_first is None else [newest_first]
    if newest_first is None:
        first, last = rows["date"][0], rows["date"][-1]
        if first is not None and last is not None and first != last:
            orders = [first > last]
    breaks = []
    in_order = lines_rising(rows[LINE])
    for reverse in orders:
        # rows in file order are read in either direction as they are: the previous row is
        # the one before or after (shift 1 or -1), the first break the first or the last
        # found; not a sorted copy of the four columns (0.03 s of CPU on a million rows)
        step = -1 if in_order and reverse else 1
        ordered = rows if in_order else rows.sort(LINE, descending=reverse)
        expected = pl.col("balance").shift(step) + pl.col("amount")
        if keys:
            expected = expected.over(keys)
        before = pl.col(LINE).shift(step)
        check = ordered.with_columns(expected.alias("_expected"),
                                     (before.over(keys) if keys else before).alias("_before"))
        broken = check.filter(pl.col("_expected").is_not_null()
                              & (pl.col("_expected") != pl.col("balance")))
        broken = broken.tail(1) if step < 0 else broken.head(1)
        if broken.height == 0:
            return
        breaks.append(broken)
    broken = breaks[0]
    raise DataError(
        f"balance {broken['balance'][0]} does not follow from line {broken['_before'][0]} "
        f"(expected {broken['_expected'][0]}: previous balance + amount)",
        path=path, line=int(broken[LINE][0]),
        hint="the file is truncated, edited or misread; download the export again",
    )


def lines_rising(lines: pl.Series) -> bool:
    """Whether `lines` rise strictly (rows in file order, one per line): sorting them either
    way is then the rows as they are, or reversed (`check_running_balance`)."""
    return not lines.null_count() and bool((lines.diff().drop_nulls() > 0).all())


def kept(df: pl.DataFrame, keep: pl.Expr) -> pl.DataFrame:
    """`df.filter(keep)` a column at a time, each moved out of `df` (the caller's, not used
    again): one column is held twice at a time, not the whole frame (a million rows filtered
    for a few thousand skipped ones were a large import's peak memory); `df` itself where
    every row is kept."""
    import polars as pl

    mask = df.select(keep.fill_null(False).alias("_keep"))["_keep"]
    if mask.all():
        return df
    return pl.DataFrame([df.drop_in_place(name).filter(mask) for name in list(df.columns)])


def slim(df: pl.DataFrame, *extra: str) -> pl.DataFrame:
    """Only the columns `finalize` reads (the canonical ones, `_line` and `extra`, such as a
    key's): an importer rebinds its frame to this, and drops its table, before `finalize`, so
    the export's string columns are freed rather than held through the id hashing and the
    checks (a third of an import's peak memory on a million rows)."""
    from ledger.core import schema

    keep = {*schema.columns(), LINE, *extra}
    return df.select(c for c in df.columns if c in keep)


def finalize(df: pl.DataFrame, raw: RawFile, *, source: str, account: str,
             key: pl.Expr | Joined | None = None) -> pl.DataFrame:
    """Canonical, validated rows with ids, provenance (import id, line) and origin `source`.
    Takes over `df`: its columns may be moved out (the caller does not use it again). That
    no two rows share an id is proven once on the whole file's rows, by registry.parse (a
    format may join several finalized parts), not here, unless the format's keys proved it
    (Parsed.ids_distinct)."""
    import polars as pl

    from ledger.core import schema

    if any(n > 1 for n in df.n_chunks("all")):
        # else the literal columns below misalign chunks: every later select would re-align
        # the whole frame (measured: 0.2 s of 1.3 s on 1.9M rows). A column at a time, each
        # moved out of `df` (the caller's, not used again): one column is held twice at a
        # time, not the whole frame (an import's peak memory, where nothing else holds them)
        df = pl.DataFrame([df.drop_in_place(name).rechunk() for name in list(df.columns)])
    df = df.with_columns(
        pl.lit(source).alias("source"),
        pl.lit(account).alias("account"),
        pl.lit("source").alias("origin"),
        pl.lit(raw.sha256).alias("import_id"),
        pl.col(LINE).alias("line"),
    )
    df = schema.with_ids(df, key, origin=(source, account))  # the prefix of every id's text
    df = schema.conform(df)  # rebound: the columns conform leaves out (an importer's own,
    # such as a key's) are let go before the checks, not held
    return schema.check_amounts(schema.validate(df, str(raw.path), ids_known=True),
                                str(raw.path))


def proven_order(first: int | None, second: int | None) -> str | None:
    """The order numeric dates prove from the largest first and second parts among them: one
    above 12 first proves day-first ("dmy"), second month-first ("mdy"); None when neither
    does, or both do (an edited file)."""
    day_first, month_first = (first or 0) > 12, (second or 0) > 12
    return None if day_first == month_first else ("dmy" if day_first else "mdy")


def settled_order(first: int | None, second: int | None, two_ways: bool,
                  default: str = "dmy") -> str | None:
    """The order of a file's numeric dates without the flag: the one they prove
    (`proven_order`), else `default` (the format's own) where no date reads two ways (none at
    all, or each day equal to its month: either order gives the same dates), else None: the
    user must say, or (both proven) the file contradicts itself. `two_ways`: some date's first
    and second parts differ. The one rule of `date_formats_for` and of a stacked path's
    decision per file (payoneer._stacked_orders), so both read a file alike."""
    order = proven_order(first, second)
    if order is None and not two_ways and (first or 0) <= 12:
        return default
    return order


def date_formats_for(order: str | None, sep: str, *, path: object,
                     sample: list[str] | pl.Series, flag: str = "--date-order",
                     hint: str | None = None, default: str = "dmy",
                     rows: pl.DataFrame | None = None, column: str | None = None) -> list[str]:
    """Day-first or month-first numeric dates, decided from the file's own values or the flag.

    Every distinct value is looked at (vectorised): a first part above 12 proves day-first, a
    second part above 12 month-first; if nothing proves either, some date would read two ways
    and no flag was given, stop and ask (`hint`: what to say, else the flag's two forms).
    Values not of the numeric form (ISO dates, none at all) ask nothing: then `default`, the
    format's own order (`settled_order`). `rows`, `column`: the file's rows (with LINE) and
    the column `sample` is of: the error names the first row that shows it (looked for only
    then), rather than the file alone.
    """
    import polars as pl

    if order is None:
        values = sample if isinstance(sample, pl.Series) else pl.Series(sample, dtype=pl.String)
        values = values.unique().drop_nulls()  # a few hundred distinct dates in a million rows
        pattern = rf"^\s*(\d{{1,2}}){re.escape(sep)}(\d{{1,2}}){re.escape(sep)}"
        parts = values.str.extract_groups(pattern).struct.unnest().cast(pl.Int32, strict=False)
        firsts, seconds = parts.to_series(0), parts.to_series(1)
        first, second = firsts.max(), seconds.max()
        two_ways = (firsts != seconds).fill_null(False)
        order = settled_order(first, second, bool(two_ways.any()), default)
        if order is None and (first or 0) > 12:  # and so the second part too
            where = _first_of(rows, column, values.filter(firsts > 12),
                              values.filter(seconds > 12))
            detail = ""
            if where is not None:  # the later of the first two that disagree: where it breaks
                value, (other_line, other) = where[0][1], where[1]
                detail = f": {value.strip()!r} here, {other.strip()!r} on line {other_line}"
            raise DataError(f"dates mix day-first and month-first forms{detail}", path=path,
                            line=None if where is None else where[0][0],
                            hint="the file may have been edited; download the export again")
        if order is None:
            where = _first_of(rows, column, values.filter(two_ways))
            example = values.filter(two_ways).sort()[0] if where is None else where[0][1]
            raise UnsettledDates(
                f"dates such as {example.strip()!r} could be day-first or month-first",
                path=path, line=None if where is None else where[0][0],
                hint=hint or f"say which with {flag} dmy (28/06/2024) or {flag} mdy "
                "(06/28/2024)",
            )
    first_part, second_part = ("%d", "%m") if order == "dmy" else ("%m", "%d")
    return [f"{first_part}{sep}{second_part}{sep}%Y"]


def _first_of(rows: pl.DataFrame | None, column: str | None, *found: pl.Series
              ) -> list[tuple[int, str]] | None:
    """(line, cell) of the first of `rows` whose `column` is one of each of `found` (each a
    few distinct cells), the latest first; None where `rows` is not given or holds none.
    Read on the error's way only: one pass over the rows."""
    import polars as pl

    if rows is None or column is None:
        return None
    cell, line = pl.col(column), pl.col(LINE)
    firsts = rows.select(pl.struct(line.filter(cell.is_in(values.implode())).first(),
                                   cell.filter(cell.is_in(values.implode())).first())
                         .alias(str(n)) for n, values in enumerate(found)).row(0)
    hits = [(int(hit[LINE]), str(hit[column])) for hit in firsts
            if hit is not None and hit[LINE] is not None]
    return sorted(hits, reverse=True) if len(hits) == len(found) else None
