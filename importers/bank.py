"""Bank statements read through declarative profiles: one TOML file per bank layout.

Banks' CSV/XLS(X) exports differ only in which column holds what, how dates and amounts are
written and what surrounds the table, so a layout is data, not code: a user adds their bank by
dropping a profile into `<ledger dir>/profiles/` (`ledger formats new FILE` drafts one, see
profile_starter.py). Bundled profiles live in importers/profiles/; a user profile with the
same `name` replaces the bundled one. A profile:

    name = "hdfc"                 # format and source name become `bank:hdfc`
    title = "HDFC Bank account statement (netbanking CSV)"
    country = "IN"                # ISO 3166 code, informative
    currency = "INR"              # ISO 4217: every row's currency unless a `currency` column
    account = "bank:hdfc"         # default account (optional); `--account` overrides it
    common_kinds = true           # also apply COMMON_KINDS after the profile's own [[kinds]]

    [detect]                      # the file is this bank's when ALL of these hold:
    header = ["Date", "Narration", "Closing Balance"]   # cells the header row contains
    without = ["Branch"]          # optional: cells it must not contain (tells layouts apart)
    preamble = "HDFC0"            # optional regex, searched in the lines above the header
    filename = "*.csv"            # optional glob on the file name (case-insensitive)

    [read]
    header_scan = 50              # lines (sheet rows) searched for the header row, at most 50
    skip_rows_matching = ["^opening balance$"]  # rows with a cell (trimmed) matching one:
                                  # pseudo-rows, not booked, their balance still checked
    footer = true                 # rows after the last dated row are a footer (totals,
                                  # `** End of Report **`, legal text) and are ignored
    line_by_line = false          # read with Python's csv module: quoting polars refuses
                                  # (Meezan's `"06/02/2025" ,`); for small files only
    rejoin_split_numbers = false  # SBI's unquoted `1,770.00` arrives as `1` and `770.00`;
                                  # in a file without quotes only the rows with too many
                                  # cells go through Python, else every row does

    [columns]                     # field = header text as in the file; a repeated header's
    date = "Date"                 # second copy is "NAME#2". date and description required
    description = "Narration"     # a list is joined with " - "
    amount = "Amount"             # EITHER one amount (signed, or signed by `marker`) ...
    marker = "Dr / Cr"            #   ... whose Dr/Cr marker gives its sign
    debit = "Withdrawal Amt."     # OR unsigned debit and credit columns:
    credit = "Deposit Amt."       #   signed amount = |credit| - |debit|; both set is an error
    balance = "Closing Balance"   # optional running balance, checked row by row
    balance_marker = "Dr / Cr#2"  # optional Dr/Cr of the balance (Dr = overdrawn, negative)
    ref = "Chq./Ref.No."          # optional bank reference
    value_date = "Value Dt"       # optional; checked to be a date, not stored (no such column)
    currency = "Currency"         # optional per-row currency (blank = profile currency)

    [values]
    date_format = ["%d/%m/%y", "%d/%m/%Y"]  # strftime codes, one or a list; day-first and
                                  # month-first forms of one shape may not be mixed
    decimal_mark = "."            # or ","; `--decimal-mark` overrides
    debit_markers = ["dr", "debit"]    # marker texts meaning money out (case-insensitive)
    credit_markers = ["cr", "credit"]  # ... and money in
    ref_pattern = 'STAN \\((\\d+)\\)'     # optional regex on the description: group 1 = ref
    counterparty_pattern = "from (.+)"  # optional regex on the description: group 1

    [[kinds]]                     # first rule that matches wins (case-insensitive regex on
    match = "payoneer|wise"       # the description; omit `match` to match every row)
    sign = "credit"               # optional: only money in ("credit") or out ("debit")
    kind = "transfer"             # one of ledger.core.schema.KINDS
    category = "receipt"          # optional finer label

    [[split]]                     # a row whose description names several amounts
    amount = 'CHG:PKR\\s*([\\d,.]+)'  # regex, group 1 = one part's amount
    kind = "bank_fee"
    category = "bank_charge"

Every regex in a profile matches case-insensitively and must suit both Python's `re` and
polars (Rust regex: no look-around, no back-references); a profile that breaks this is refused
when loaded. Amounts go through ledger.core.money.amount_expr, so `1,23,456.78`, `(12.34)`,
`12.34-`, `12.34 Dr` and currency prefixes need no settings. A bad date, number, marker or
missing header is a DataError at its line; a bad profile is a UsageError naming the file.

Splits: Meezan books the charges of a card purchase or an inward remittance as a separate
debit described `CHG:PKR68.69 FBRTax:PKR85.86-STAN (447959)`. Each [[split]] part becomes its
own row (the bank charge `bank_fee`, the FBR withholding `tax`), signed like the row, with
`related_ref` = the row's ref (the STAN, which is also the purchase's or remittance's ref) and
no ref of its own. Whatever the parts leave of the row's amount stays a row classified by
[[kinds]]; parts larger than the row are an error. The running balance is checked on the
bank's rows, before splitting.

Footers: the footer starts after the last row (of the last 200 lines) whose date cell parses
or merely looks like a date: a row dated `31/04/24` is reported, never dropped as footer, and
an undated row before a dated one is an error, not a silent stop. The profile states the
bank's date form, so `--date-order` is not consulted; `--decimal-mark` overrides the
profile's. A ref cell of only `-` or zeros (Axis, HDFC placeholders) is no ref.

Spreadsheets (.xlsx/.xls, told by their magic bytes) are read with fastexcel (calamine) as
all-string cells, not polars.read_excel, which drops empty rows: keeping them makes `line`
the sheet row. Detection reads a sheet's first 50 rows (memoised per file); a real date cell
reads as `2024-04-01 00:00:00`, which every profile then accepts besides its own forms.

Row ids hash (date, amount, currency, description, ref, balance, split part, n-th
occurrence): bank refs are often blank or repeated (`0000000000`), and the balance tells
identical rows apart across overlapping exports.

The code: importers/bank_profiles.py reads and checks profiles, importers/bank_table.py reads
the table (header, cleaning, footer, sheets), importers/bank_columns.py makes fields of it
(dates, amounts, balance, kinds, splits, keys); this module detects and parses.
"""

from __future__ import annotations

import fnmatch
import re
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from importers import bank_columns as columns
from importers import bank_table as table
from importers import stacked
from importers.bank_profiles import (
    PROFILES_DIR,
    Profile,
    bundled_profiles,
    load_profile,
    profile_from_text,
)
from importers.base import Format, ImportOptions, Parsed, finalize, nonblank, slim
from importers.csv_parts import trimmed
from importers.raw_files import RawFile
from importers.readers import LINE, read_table
from importers.sheets import is_sheet, sheet_head
from ledger.core.errors import DataError, UsageError
from ledger.core.schema import Joined

if TYPE_CHECKING:
    from collections.abc import Sequence

    import polars as pl

__all__ = ["FORMATS", "PROFILES_DIR", "Profile", "as_format", "detect", "formats_from_dir",
           "is_sheet", "load_profile", "parse", "profile_from_text", "sheet_head",
           "with_user_profiles"]
"""What other modules take from here: the bank formats, and (for the CLI and the store) the
profile readers of importers/bank_profiles.py, so callers need one name for "bank"."""

PLACEHOLDER_REF = r"^[-0\s]*$"
"""Reference cells that hold no reference: `-` (Axis), `0000000000000000` (HDFC)."""


# --- detection -------------------------------------------------------------------------------


def detect(profile: Profile, raw: RawFile) -> bool:
    if profile.filename and not fnmatch.fnmatch(raw.path.name.casefold(),
                                                profile.filename.casefold()):
        return False
    if is_sheet(raw):
        rows = sheet_head(raw)
        index = table.header_in(rows, profile)
        above = ["\t".join(r) for r in rows[:index or 0]]
    else:
        if raw.is_binary:
            return False
        index = table.csv_header(raw, profile)
        above = raw.head_lines[:index or 0]
    if index is None:
        return False
    return not profile.preamble or _found(profile.preamble, "\n".join(above), profile.bundled)


def _found(pattern: str, text: str, bundled: bool) -> bool:
    """Whether the preamble regex occurs in the lines above the header.

    A user's profile (a donor's folder may carry one) is matched by polars' Rust regex, which
    runs in linear time: Python's `re` backtracks, so `^(a+)+$` takes hours on 32 a's and a
    `!`. Profile regexes must already suit polars (checked at load), so this restricts
    nothing. Bundled profiles keep Python's `re` (no polars call per file in detection)."""
    if bundled:
        return re.search(pattern, text, re.IGNORECASE) is not None
    import polars as pl

    return bool(pl.Series([text]).str.contains(f"(?i){pattern}").item())


# --- parsing ---------------------------------------------------------------------------------


def parse(profile: Profile, raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    sheet = is_sheet(raw)
    body = table.read_spreadsheet(raw, profile) if sheet else table.read_csv(raw, profile)
    path = raw.path
    df = columns.select_fields(body.df, profile, path)
    footer = body.footer
    del body  # the export's strings: held by `df` while read, freed as it lets them go
    rows_read = df.height
    mark = options.decimal_mark or profile.decimal_mark
    formats = columns.date_formats(profile, sheet)

    pseudo = df.clear()
    if profile.skip_rows_matching:
        pseudo = df.filter(pl.col("_pseudo"))
        df = df.filter(~pl.col("_pseudo"))
    df = _dated_and_valued(df, profile, path, mark, formats)
    columns.check_balance(df, pseudo, profile, path, mark, formats, _currency(profile))

    _refuse_shortened_refs(df, profile, path)
    df = columns.classify(_described(df, profile), profile.kinds).with_columns(
        related_ref=pl.lit(None, pl.String), _part=pl.lit(0, pl.Int32))
    rows = columns.split_parts(df, profile, path, mark)
    del df  # `rows` holds what finalize needs: its columns freed as finalize moves them
    rows = slim(rows, "balance", "_part")  # the export's cells let go before the ids (memory)

    rows = rows.with_columns(contract=pl.lit(None, pl.String),
                             hours=pl.lit(None, pl.Float64))
    account = options.account or profile.account
    key = columns.row_key(rows)
    rows = finalize(rows, raw, source=profile.source, account=account, key=key)
    skipped = {}
    if pseudo.height:
        skipped["pseudo-rows such as opening/closing balance (skip_rows_matching)"] = \
            pseudo.height
    if footer:
        skipped["footer lines after the last transaction"] = footer
    warnings = []
    other = rows.select((pl.col("kind") == "other").sum()).item()  # no filtered copy
    if other:
        warnings.append(f"{other} row(s) imported as kind 'other' (no kinds rule in "
                        f"{profile.path.name} says what they are); list them with "
                        "`ledger transactions --unclassified` and name them with rules "
                        "in ledger.toml (`ledger rules suggest` drafts them)")
    return Parsed(rows=rows, format=profile.source, rows_read=rows_read, skipped=skipped,
                  profile=None if profile.bundled else profile.text,
                  warnings=warnings, ids_distinct=isinstance(key, Joined) and key.distinct)


def rows_many(profile: Profile, raws: list[RawFile], options: ImportOptions
              ) -> list[pl.DataFrame | None]:
    """`parse(profile, raw, options).rows` of each file, the CSV files with the same columns
    parsed as one frame (importers/stacked.py), the running balance checked per file; None
    where `parse` must read the file alone (a spreadsheet, an error), and for every file of
    a profile with pseudo-rows, split parts or Dr/Cr markers (read one by one)."""

    out: list[pl.DataFrame | None] = [None] * len(raws)
    if not stacked.covered(raws) or profile.skip_rows_matching or profile.splits \
            or "marker" in profile.columns or "balance_marker" in profile.columns:
        return out
    groups: dict[tuple[str, ...], list[tuple[int, pl.DataFrame]]] = {}
    found: dict[int, tuple[RawFile, int, int]] = {}
    for index, raw in enumerate(raws):
        if is_sheet(raw):
            continue
        try:
            found[index] = table.csv_body(raw, profile)
        except Exception:  # `parse` reports it
            continue
    many = stacked.MANY_TABLES.get()  # the bodies' tables at once, where a batch can
    ready = many([b[0] for b in found.values()], [b[1] for b in found.values()]) \
        if many is not None else [None] * len(found)
    for (index, (raw, at, _)), read in zip(found.items(), ready, strict=True):
        try:
            df = (read or read_table(raw, at)).df
        except Exception:  # `parse` reports it
            continue
        if df.height:
            groups.setdefault(tuple(df.columns), []).append((index, df))
    for group in groups.values():
        try:
            found = _stacked_rows(profile, group, raws, options)
        except Exception:  # `parse` reads these files alone
            continue
        for index, rows in found.items():
            out[index] = rows
    return out


def _currency(profile: Profile) -> pl.Expr:
    """A row's currency: its own column where the profile has one, else the profile's."""
    import polars as pl

    currency = pl.lit(profile.currency)
    if "currency" in profile.columns:
        currency = pl.coalesce(nonblank(pl.col("_currency")).str.to_uppercase(), currency)
    return currency


def _dated_and_valued(df: pl.DataFrame, profile: Profile, path: Path, mark: str,
                      formats: list[str]) -> pl.DataFrame:
    """`date`, `amount`, `balance` and `currency` from the profile's columns (value dates only
    checked): the same for one statement (`parse`) and for stacked ones (`rows_many`)."""
    df = df.with_columns(date=columns.parse_dates(df, formats, profile, path))
    if "value_date" in profile.columns:
        columns.parse_dates(_value_dates(df), formats, profile, path, column="_value_date",
                            what="value date")
    df = df.with_columns(amount=columns.signed_amounts(df, profile, path, mark),
                         balance=columns.balances(df, profile, path, mark))
    return df.with_columns(currency=_currency(profile))


def _value_dates(df: pl.DataFrame) -> pl.DataFrame:
    """(line, value date) of the rows whose value date is not blank and not written as their
    date (that one parsed as the date): found by one comparison before any cell is trimmed
    (trimming every cell first cost 10x, 0.05 s of CPU on a million rows)."""
    import polars as pl

    return df.select(LINE, "_value_date", "_date") \
        .filter(pl.col("_value_date").ne_missing(pl.col("_date"))) \
        .filter(nonblank(pl.col("_value_date")).is_not_null()).select(LINE, "_value_date")


SHORTENED_HEAD = 4096
"""The rows `_refuse_shortened_refs` looks at: a spreadsheet rewrites every long number of a
file it saves, so the first rows show it (the whole column would cost 0.02 s of CPU on a
million rows)."""


def _refuse_shortened_refs(df: pl.DataFrame, profile: Profile, path: Path) -> None:
    """A reference written as `4.09412E+11`: a spreadsheet saved the statement and shortened
    its long numbers, so the reference (the row's key, the tax register's link to the bank's
    certificate) is lost: refused, rather than imported as other rows than the original's."""
    if "ref" not in profile.columns:
        return
    head = df.head(SHORTENED_HEAD)
    shortened = head["_ref"].str.strip_chars().str.contains(r"^\d(?:\.\d+)?E\+\d+$")
    if shortened.any():
        at = shortened.arg_true()[0]
        raise DataError(f"{profile.labels.get(profile.col('ref') or '', 'ref')} "
                        f"{head['_ref'][at].strip()!r} is a long number a spreadsheet "
                        "shortened: the reference is lost", path=path,
                        line=int(head[LINE][at]), hint="import the statement as downloaded "
                        "(a spreadsheet program writes long numbers as 4.09412E+11 when it "
                        "saves)")


def _described(df: pl.DataFrame, profile: Profile) -> pl.DataFrame:
    """`description`, `ref` (a placeholder ref is none; else found by `ref_pattern`) and
    `counterparty` (by `counterparty_pattern`)."""
    import polars as pl

    # trimmed already by columns.select_fields (a part or each joined part), never null there
    description = pl.col("_description")
    ref = pl.lit(None, pl.String)
    if "ref" in profile.columns:
        given = pl.lit(trimmed(df, pl.col("_ref"), True))
        ref = pl.when(given.str.contains(PLACEHOLDER_REF)).then(None).otherwise(given)
    if profile.ref_pattern:
        ref = pl.coalesce(ref, description.str.extract(f"(?i){profile.ref_pattern}", 1))
    party = pl.lit(None, dtype=pl.String)
    if profile.counterparty_pattern:
        party = nonblank(description.str.extract(f"(?i){profile.counterparty_pattern}", 1))
    return df.with_columns(description=description, ref=ref, counterparty=party)


def _stacked_rows(profile: Profile, group: list[tuple[int, pl.DataFrame]],
                  raws: list[RawFile], options: ImportOptions) -> dict[int, pl.DataFrame]:
    import polars as pl

    file = stacked.FILE
    path = raws[group[0][0]].path
    body = pl.concat([df.with_columns(pl.lit(i, dtype=pl.Int32).alias(file))
                      for i, df in group], rechunk=True)
    df = columns.select_fields(body.drop(file), profile, path).with_columns(body[file])
    del body
    mark = options.decimal_mark or profile.decimal_mark
    formats = columns.date_formats(profile, False)
    df = _dated_and_valued(df, profile, path, mark, formats)
    if "balance" in profile.columns:
        df = stacked.without(df, stacked.balance_breaks(df, ["currency"], order_by_dates=True))
    rows = columns.classify(_described(df, profile), profile.kinds).with_columns(
        related_ref=pl.lit(None, pl.String), _part=pl.lit(0, pl.Int32),
        contract=pl.lit(None, pl.String), hours=pl.lit(None, pl.Float64))
    return stacked.finish(rows, raws, source=profile.source,
                          account=options.account or profile.account,
                          key=columns.row_key(rows, by=[file]))


# --- formats ---------------------------------------------------------------------------------


def as_format(profile: Profile) -> Format:
    return Format(name=profile.source, title=profile.title, fingerprint=profile.fingerprint(),
                  detect=partial(detect, profile), parse=partial(parse, profile),
                  rows_many=partial(rows_many, profile))


def formats_from_dir(path: Path) -> list[Format]:
    """The formats of a user's profiles directory (`*.toml`); none if it does not exist."""
    path = Path(path)
    if not path.exists():
        return []
    if not path.is_dir():
        raise UsageError("profiles path is not a directory", path=path,
                         hint="put your bank profiles (*.toml) in a folder named profiles")
    found: dict[str, Path] = {}
    out = []
    for file in sorted(path.glob("*.toml")):
        profile = load_profile(file)
        if profile.name in found:
            raise UsageError(f"profile name {profile.name!r} is also used by "
                             f"{found[profile.name]}", path=file,
                             hint="give each profile its own name")
        found[profile.name] = file
        out.append(as_format(profile))
    return out


def with_user_profiles(known: list[Format], dirs: Sequence[Path]) -> list[Format]:
    """`known` plus the profiles in `dirs`; a user profile replaces a format of the same name."""
    out = list(known)
    for directory in dirs:
        for fmt in formats_from_dir(directory):
            same = [i for i, f in enumerate(out) if f.name == fmt.name]
            if same:
                out[same[0]] = fmt
            else:
                out.append(fmt)
    return out


FORMATS = [as_format(p) for p in bundled_profiles()]
"""Bundled bank profiles (importers/profiles/*.toml), in file-name order."""
