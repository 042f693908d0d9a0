"""A bank statement's fields, once its table is read (importers/bank_table.py): the profile's
columns picked and named, dates by the profile's forms, signed amounts (debit/credit pair or
an amount with its Dr/Cr marker), the running balance checked, rows classified by the
profile's [[kinds]], [[split]] parts made rows of their own, and each row's key.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from importers.base import (
    BALANCES,
    check_running_balance,
    first_bad,
    nonblank,
    parse_money,
    parse_money_columns,
)
from importers.csv_parts import trimmed
from importers.readers import LINE
from ledger.core.errors import DataError
from ledger.core.schema import Joined

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    import polars as pl

    from importers.bank_profiles import Profile, Rule

MIN_YEAR = 1900
"""A parsed year below this means a `%Y` read a two-digit year: not a date in that form."""


def dated(values: pl.Expr, formats: Sequence[str]) -> pl.Expr:
    """Dates read with the first of `formats` that fits (a year below 1900 does not fit)."""
    import polars as pl

    text = values.str.strip_chars()
    tries = []
    for fmt in formats:
        parsed = text.str.strptime(pl.Date, fmt, strict=False)
        tries.append(pl.when(parsed.dt.year() >= MIN_YEAR).then(parsed))
    return pl.coalesce(tries)


def date_formats(profile: Profile, sheet: bool) -> list[str]:
    """A real date cell in a spreadsheet reads as `2024-04-01 00:00:00` whatever its display."""
    formats = list(profile.date_formats)
    return [*formats, "%Y-%m-%d %H:%M:%S"] if sheet else formats


def select_fields(df: pl.DataFrame, profile: Profile, path: Path) -> pl.DataFrame:
    """Mapped columns under internal names (`_date`...) and `_pseudo` for skipped rows."""
    import polars as pl

    cells = [c for c in df.columns if c != LINE]
    for columns in profile.columns.values():
        missing = next((c for c in columns if c not in cells), None)
        if missing:
            raise DataError(f"column {profile.labels.get(missing, missing)!r} is missing",
                            path=path, line=1, hint="columns found: " + ", ".join(cells))
    out: list[pl.Expr | pl.Series] = [pl.col(LINE)]
    for name, columns in profile.columns.items():
        if name == "description" and len(columns) == 1:  # as the join of one part below,
            # without a copy of every cell where none needs trimming (csv_parts.trimmed)
            out.append(trimmed(df, pl.col(columns[0]), False).fill_null("")
                       .alias("_description"))
        elif name == "description":
            parts = [nonblank(pl.col(c)) for c in columns]
            out.append(pl.concat_str(parts, separator=" - ", ignore_nulls=True)
                       .alias("_description"))
        else:
            out.append(pl.col(columns[0]).alias(f"_{name}"))
    pseudo = pl.lit(False)
    if profile.skip_rows_matching:
        pattern = "(?i)" + "|".join(f"(?:{p})" for p in profile.skip_rows_matching)
        pseudo = pl.any_horizontal(pl.col(c).str.strip_chars().str.contains(pattern)
                                   .fill_null(False) for c in cells)
    return df.select(*out, pseudo.alias("_pseudo"))


def parse_dates(df: pl.DataFrame, formats: list[str], profile: Profile, path: Path,
                 column: str = "_date", what: str = "date") -> pl.Series:
    """Dates by the profile's formats; the first that fits none is a DataError at its line.

    Like base.parse_dates (same message), but a `%Y` that reads `24` as year 24 does not fit.
    Eager: later formats are tried only on what the earlier ones left.
    """
    import polars as pl

    values = df[column].str.strip_chars()
    parsed = None
    for fmt in formats:
        if parsed is not None and parsed.null_count() == values.null_count():
            break
        attempt = values.str.strptime(pl.Date, fmt, strict=False)
        if not _two_digit_years(fmt):  # a `%Y` may read `24` as the year 24
            attempt = attempt.set((attempt.dt.year() < MIN_YEAR).fill_null(False), None)
        parsed = attempt if parsed is None else parsed.fill_null(attempt)
    if parsed is None:
        parsed = pl.repeat(None, df.height, dtype=pl.Date, eager=True).alias(column)
    missing = parsed.is_null()
    if missing.any():
        at = missing.arg_true()[0]
        bad = int(df[LINE][at]), values[at] or "(empty)"
        hint = (f"{profile.path.name} expects date_format {' or '.join(profile.date_formats)}; "
                "if the bank writes dates differently, edit the profile")
        shown = ", ".join(dt.date(2024, 6, 28).strftime(f) for f in formats)
        raise DataError(f"{what} {bad[1]!r} is not a date in the expected form ({shown})",
                        path=path, line=bad[0], hint=hint)
    return parsed


def _two_digit_years(fmt: str) -> bool:
    """Whether `fmt`'s only year is `%y` (read as 1969-2068, never below MIN_YEAR): its
    dates need no year check."""
    return "%y" in fmt and not any(code in fmt for code in ("%Y", "%G", "%C", "%s", "%+",
                                                            "%c", "%D", "%x", "%F"))


def _label(profile: Profile, name: str) -> str:
    return profile.labels.get(profile.col(name) or "", name)


def signed_amounts(df: pl.DataFrame, profile: Profile, path: Path, mark: str
                   ) -> pl.Expr | pl.Series:
    """Signed amount: credit - debit, or the amount signed by its Dr/Cr marker."""
    import polars as pl

    if "amount" in profile.columns:
        amount = parse_money(df, pl.col("_amount"), path=path, what=_label(profile, "amount"),
                             decimal_mark=mark, mark_flag=True)
        if "marker" not in profile.columns:
            return amount
        debit = _marker(df, "_marker", _label(profile, "marker"), profile, path, required=True)
        return pl.when(debit).then(-amount.abs()).otherwise(amount.abs())
    names = _label(profile, "debit"), _label(profile, "credit")
    both = parse_money_columns(df, {"debit": (pl.col("_debit"), names[0], False),
                                    "credit": (pl.col("_credit"), names[1], False)},
                               path=path, decimal_mark=mark, mark_flag=True)
    debit, credit = both["debit"], both["credit"]
    neither = first_bad(df, debit.is_null() & credit.is_null(), pl.lit(""))
    if neither:
        raise DataError(f"neither {names[0]!r} nor {names[1]!r} has an amount", path=path,
                        line=neither[0], hint="every transaction needs a debit or a credit; "
                        "if this is a summary row, add it to [read] skip_rows_matching")
    if not (debit.is_not_null() & credit.is_not_null()).any():  # each row one of them (as
        # netbanking CSVs write it): none has both, and its amount is the one it has
        return pl.select(pl.coalesce(pl.lit(credit).abs(), -pl.lit(debit).abs())).to_series()
    both = first_bad(df, (debit.fill_null(0) != 0) & (credit.fill_null(0) != 0), pl.lit(""))
    if both:
        raise DataError(f"both {names[0]!r} and {names[1]!r} have an amount", path=path,
                        line=both[0], hint="a row is either money out or money in; the "
                        "columns may be shifted: check the file is the original export")
    return credit.abs().fill_null(0) - debit.abs().fill_null(0)


def _marker(df: pl.DataFrame, column: str, label: str, profile: Profile, path: Path,
            required: bool) -> pl.Expr:
    """True where the marker says debit; an unknown marker is a DataError."""
    import polars as pl

    text = pl.col(column).str.strip_chars().str.to_lowercase()
    debit = text.is_in(list(profile.debit_markers))
    credit = text.is_in(list(profile.credit_markers))
    known = debit | credit if required else debit | credit | nonblank(pl.col(column)).is_null()
    bad = first_bad(df, ~known.fill_null(False), pl.coalesce(pl.col(column), pl.lit("")))
    if bad:
        raise DataError(
            f"{label} {bad[1]!r} is neither a debit ({', '.join(profile.debit_markers)}) nor a "
            f"credit ({', '.join(profile.credit_markers)}) marker", path=path, line=bad[0],
            hint=f"add it to debit_markers or credit_markers in {profile.path.name}")
    return debit.fill_null(False)


def balances(df: pl.DataFrame, profile: Profile, path: Path, mark: str) -> pl.Expr | pl.Series:
    """The running balance (negative where its marker says Dr); null without the column."""
    import polars as pl

    if "balance" not in profile.columns:
        return pl.lit(None, dtype=pl.Decimal(38, 4))
    balance = parse_money(df, pl.col("_balance"), path=path, what=_label(profile, "balance"),
                          decimal_mark=mark, required=False, mark_flag=True)
    if "balance_marker" in profile.columns:
        debit = _marker(df, "_balance_marker", _label(profile, "balance_marker"), profile,
                        path, required=False)
        balance = pl.when(debit).then(-balance.abs()).otherwise(balance)
    return balance


def check_balance(df: pl.DataFrame, pseudo: pl.DataFrame, profile: Profile, path: Path,
                   mark: str, formats: list[str], currency: pl.Expr) -> None:
    """Running balance over the bank's own rows, pseudo-rows (opening/closing) included."""
    import polars as pl

    if "balance" not in profile.columns:
        return
    cols = [LINE, "date", "amount", "balance", "currency"]
    if pseudo.height:
        pseudo = pseudo.with_columns(
            date=dated(pl.col("_date"), formats),
            amount=pl.lit(0, dtype=pl.Decimal(38, 4)),
            balance=balances(pseudo, profile, path, mark),
        ).with_columns(currency=currency)
        df = pl.concat([df.select(cols), pseudo.select(cols)], how="vertical_relaxed").sort(LINE)
    dates = df["date"].drop_nulls()
    newest_first = None
    if dates.len() > 1 and dates[0] != dates[-1]:
        newest_first = dates[0] > dates[-1]
    # one currency (the profile's: no currency column) is one group: the balance followed
    # without `over` it (0.05 s of CPU on a million rows), unless the balances are collected
    # (ledger.counting.balances), which keep the currency of each
    one = "currency" not in profile.columns and BALANCES.get() is None
    check_running_balance(df.select(cols), path=path, group=None if one else ["currency"],
                          newest_first=newest_first)


def classify(df: pl.DataFrame, rules: Sequence[Rule]) -> pl.DataFrame:
    """`kind` and `category` by the first rule that matches (`other` where none does).

    Rules are tried in order, each only on the rows no earlier rule took (and of its sign):
    one vectorised test per rule on what is left, so the common rules' regexes never see the
    rows a profile's own rules or the sign already settled. The rows are taken a sign at a
    time (credits, debits, neither), each's descriptions shrinking as rules take them: no
    mask of the whole table made, searched and scattered per rule (a third of the CPU).
    """
    import polars as pl

    credit = (df["amount"] > 0).fill_null(False)
    debit = (df["amount"] < 0).fill_null(False)
    none = len(rules)  # past the last rule: `other`, no category
    first = pl.repeat(none, df.height, dtype=pl.UInt16, eager=True)
    for sign, mask in (("credit", credit), ("debit", debit), (None, ~(credit | debit))):
        rows = mask.arg_true()
        if rows.len():  # filter, not gather(rows): the same rows in order, at 1/7 the CPU
            first.scatter(rows, _first_rules(df["description"].filter(mask), rules, sign))
    # each row's rule number indexes its rule's kind and category: a gather from a dozen
    # strings, half the CPU of a replace per column
    kinds = pl.Series([r.kind for r in rules] + ["other"], dtype=pl.String)
    categories = pl.Series([r.category for r in rules] + [None], dtype=pl.String)
    return df.with_columns(kind=kinds.gather(first), category=categories.gather(first))


def _first_rules(text: pl.Series, rules: Sequence[Rule], sign: str | None) -> pl.Series:
    """Number of the first of `rules` (of `sign` or none) whose regex `text` matches, for
    rows of one sign (`len(rules)` where none does)."""
    import polars as pl

    found = pl.repeat(len(rules), text.len(), dtype=pl.UInt16, eager=True)
    left = pl.int_range(0, text.len(), dtype=pl.UInt32, eager=True)  # rows no rule took
    for number, rule in enumerate(rules):
        if rule.sign not in (None, sign):
            continue
        if not rule.match:  # takes every row left
            found.scatter(left, number)
            break
        hit = text.str.contains(f"(?i){rule.match}").fill_null(False)
        if hit.any():
            found.scatter(left.filter(hit), number)
            left, text = left.filter(~hit), text.filter(~hit)
            if not left.len():
                break
    return found


def split_parts(df: pl.DataFrame, profile: Profile, path: Path, mark: str) -> pl.DataFrame:
    """Rows whose description names part amounts: one row per part plus what is left."""
    import polars as pl

    from ledger.core.money import amount_expr

    if not profile.splits:
        return df
    found = []
    for i, part in enumerate(profile.splits, 1):
        text = pl.col("description").str.extract(f"(?i){part.amount}", 1)
        value = amount_expr(text, mark)
        bad = first_bad(df, text.is_not_null() & value.is_null(), text)
        if bad:
            raise DataError(f"amount {bad[1]!r} in the description is not a number", path=path,
                            line=bad[0], hint=f"check [[split]] #{i} in {profile.path.name}")
        found.append(value.abs().alias(f"_p{i}"))
    df = df.with_columns(found)
    names = [f"_p{i}" for i in range(1, len(profile.splits) + 1)]
    taken = pl.sum_horizontal([pl.col(n).fill_null(0) for n in names]).cast(pl.Decimal(38, 4))
    has_parts = pl.any_horizontal([pl.col(n).is_not_null() for n in names])
    too_much = first_bad(df, has_parts & (taken > pl.col("amount").abs()), pl.col("description"))
    if too_much:
        raise DataError("the amounts named in the description add up to more than the row's "
                        "amount", path=path, line=too_much[0],
                        hint=f"check [[split]] in {profile.path.name}")
    negative = pl.col("amount") < 0
    rest = df.with_columns(
        amount=pl.when(has_parts).then(
            pl.when(negative).then(pl.col("amount") + taken).otherwise(pl.col("amount") - taken))
        .otherwise(pl.col("amount")))
    rest = rest.filter(~has_parts | (pl.col("amount") != 0)).with_columns(
        related_ref=pl.when(has_parts).then(pl.col("ref")).otherwise(pl.col("related_ref")),
        ref=pl.when(has_parts).then(None).otherwise(pl.col("ref")))
    frames = [rest]
    for i, part in enumerate(profile.splits, 1):
        value = pl.col(f"_p{i}")
        frames.append(df.filter(value.is_not_null()).with_columns(
            amount=pl.when(negative).then(-value).otherwise(value),
            kind=pl.lit(part.kind), category=pl.lit(part.category, dtype=pl.String),
            related_ref=pl.col("ref"), ref=pl.lit(None, dtype=pl.String),
            _part=pl.lit(i, dtype=pl.Int32)))
    return pl.concat(frames).sort(LINE, "_part").drop(names)


def row_key(rows: pl.DataFrame, by: list[str] | None = None) -> Joined:
    """Row key: content plus balance and split part, and the n-th occurrence of all that.

    The occurrence is counted only among rows whose content (by hash) repeats, 0 elsewhere:
    the same keys as counting everywhere, without grouping a million unique strings. The date
    enters as its day number (cheaper than formatting it). `by`: columns telling stacked
    files apart (repeats counted within each file). The keys are distinct (in each file).
    """
    import polars as pl

    content = [pl.col("date").cast(pl.Int32)] + [
        pl.col(c).cast(pl.String).fill_null("")
        for c in ("amount", "currency", "description", "ref", "balance", "_part")]
    key = pl.concat_str(content, separator="|")
    repeated = _repeated(rows, key)
    # no key is null but where a date is (the only part not filled); no two are the same:
    # each balance is its row's alone, or the keys of the rows whose balance repeats hash
    # apart (`_repeated`), or they are numbered apart below
    dated = not rows["date"].null_count()
    if not repeated.any():  # the usual case: the key's parts, joined as the ids are hashed
        # (schema.Joined), never held (memory); a part every row has the same of, as text
        same = _same_text(rows, ["currency", "_part"])
        parts = [same.get(c, part) for c, part in zip(
            ("date", "amount", "currency", "description", "ref", "balance", "_part"), content,
            strict=True)]
        return Joined((*parts, "0"), "|", distinct=dated)
    keys = rows.select(key.alias("k"))["k"]
    occurrence = pl.repeat("0", rows.height, dtype=pl.String, eager=True)
    at = repeated.arg_true()
    counted = pl.DataFrame({"k": keys.gather(at)}).with_columns(
        rows.select(by).gather(at) if by else []).select(
        pl.int_range(pl.len()).over(["k", *(by or [])]).cast(pl.String))
    occurrence = occurrence.scatter(at, counted.to_series())
    return Joined((pl.lit(keys + "|" + occurrence),), "|", distinct=dated and not by)


def _same_text(rows: pl.DataFrame, names: list[str]) -> dict[str, str]:
    """Of the columns `names`, those whose every row holds one value, none null (the
    profile's currency, the split part 0 of a statement without splits): name -> that
    value as `cast(pl.String)` writes it, for `row_key` to join as text."""
    import polars as pl

    if not rows.height:
        return {}
    found = rows.select(
        (pl.col(n).null_count() == 0) & (pl.col(n) == pl.col(n).first()).all() for n in names
    ).row(0)
    firsts = rows.select(pl.col(n).first().cast(pl.String) for n in names).row(0)
    return {n: first for n, one, first in zip(names, found, firsts, strict=True) if one}


def repeats(values: pl.Series) -> pl.Series:
    """`values.is_duplicated()` of numbers (hashes), found by sorting them: a sorted copy, a
    few MB, rather than the group of each distinct value (the peak of a large statement's
    import, at four times the CPU); only where some repeat are they looked up."""
    import polars as pl

    ordered = values.sort()
    same = ordered.slice(1) == ordered.slice(0, max(len(ordered) - 1, 0))
    if not same.any():
        return pl.repeat(False, len(values), dtype=pl.Boolean, eager=True).alias(values.name)
    return values.is_in(ordered.slice(1).filter(same).unique().implode())


def _repeated(rows: pl.DataFrame, key: pl.Expr) -> pl.Series:
    """True where `key`'s hash repeats in `rows`. Rows with the same key have the same
    balance, so only rows whose balance repeats (by hash: none in a statement whose running
    balance moves every row) have their long key built and hashed: the same answer as
    hashing every key, for a third of the cost."""
    import polars as pl

    from ledger.core.schema import STREAM_IDS_FROM

    candidates = repeats(rows.select(pl.col("balance").hash())["balance"])
    if not candidates.any():
        return candidates
    at = candidates.arg_true()
    some = rows.select(key.meta.root_names())
    some = some[at] if at.len() < rows.height else some
    engine = "streaming" if some.height >= STREAM_IDS_FROM else "in-memory"
    hashes = some.lazy().select(key.hash().alias("h")).collect(engine=engine)["h"]
    return candidates.scatter(at, hashes.is_duplicated())  # type: ignore[call-overload]
