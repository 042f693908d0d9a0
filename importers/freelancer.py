"""Freelancer.com transaction history export (Balance > Transaction History > Export, CSV).

The header text is not confirmed anywhere public, so columns are read by position, as the one
public importer written against real exports does (docs/formats.md, "Freelancer.com: read by
position"):
`Date` (`06 Jan 2026 23:52`), `Description` (HTML entities left in), `Currency`, `Amount`
(credits carry an explicit `+`), and an optional fifth column. Support pages say rows show a
balance, that importer reads the fifth column as Indian GST: the column is a balance if its
header says so or its values chain as a running balance, else GST. Newest first.

Descriptions seen in real exports end in the row currency (`Project fee taken (Logo) (USD)`):
- `Done milestone payment from <First> <L.> for project <title> [(#id)] [(Partial payment
  for project)]` -> earning (category milestone), counterparty the client, contract the
  project title; negative (paid to someone you hired) -> subcontractor_payout.
  `Transfer from ...` (arbitration payout) -> earning.
- `Project fee taken (<title>)`, `Hourly project fee taken (...)`, `Preferred freelancer
  program project fee taken (...)`, `Offsite payment (...) fee (...)`, membership and exam
  fees -> platform_fee. A project fee's related_ref is the earning of the same project and
  currency: the one at the same minute (k-th fee with k-th payment), else the nearest in time.
- withdrawals (`Express withdrawal`, `Payoneer withdrawal`) -> transfer; a withdrawal fee ->
  payment_fee; `Currency conversion` -> fx, the two legs linked when both are in the file.
- `Locked due to process ...` holds and their `Removal of [Locked ...` releases are skipped
  (both counted; an unreleased hold is warned about: a withdrawal may still be processing).
- GST -> its own `platform_fee` row, category `gst` (tax Freelancer charges on its fees,
  reported with platform fees like Upwork's VAT), assumed charged on top of the row's amount,
  signed like the row, related_ref the row's earning.
There are no transaction ids: an earning's ref is built from its project (`#id`, else title)
and timestamp so fees can cite it, and row ids from (time, amount, currency, description,
occurrence), both stable across overlapping exports.
"""

from __future__ import annotations

import html
import re
from typing import TYPE_CHECKING

from importers.base import (
    MIN_YEAR,
    Format,
    ImportOptions,
    Parsed,
    check_running_balance,
    classify,
    finalize,
    first_bad,
    parse_money_columns,
)
from importers.raw_files import RawFile, split_line
from importers.readers import LINE, read_table
from ledger.core.errors import DataError

if TYPE_CHECKING:
    import polars as pl

SOURCE = "freelancer"

DATE_FORMAT = "%d %b %Y %H:%M"
_DATE = re.compile(r"\d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}")
_AMOUNT = re.compile(r"[+-]?\d[\d,]*(\.\d+)?")
_VOCABULARY = re.compile(r"(?i)milestone payment|project fee|withdrawal|membership|exam fee|"
                         r"locked due to process|currency conversion|freelancer")

RULES: list[tuple[str, str, str]] = [
    (r"^locked due to process", "hold", "lock"),
    (r"^removal of \[locked", "hold", "release"),
    (r"currency conversion", "fx", "conversion"),
    (r"withdrawal.*\bfee\b|\bfee\b.*withdrawal", "payment_fee", "withdrawal_fee"),
    (r"withdrawal", "transfer", "withdrawal"),
    (r"preferred freelancer program project fee", "platform_fee", "preferred_freelancer_fee"),
    (r"hourly project fee", "platform_fee", "hourly_project_fee"),
    (r"project fee taken", "platform_fee", "project_fee"),
    (r"offsite payment", "platform_fee", "offsite_payment_fee"),
    (r"exam fee", "platform_fee", "exam_fee"),
    (r"membership", "platform_fee", "membership"),
    (r"refund.*\bfee\b|\bfee\b.*refund", "platform_fee", "fee_refund"),
    (r"refund", "refund", "refund"),
    (r"milestone payment|hourly payment", "earning", "milestone"),
    (r"^transfer from", "earning", "arbitration"),
    (r"arbitration", "platform_fee", "arbitration_fee"),
    (r"\bfee\b", "platform_fee", "fee"),
]
"""(pattern on the lower-cased description, kind, category); first match wins."""

PROJECT_FEES = ("project_fee", "hourly_project_fee", "preferred_freelancer_fee",
                "offsite_payment_fee")


def _rows(raw: RawFile, limit: int = 10) -> tuple[list[str], list[list[str]]] | None:
    lines = [line for line in raw.head_lines if line.strip()]
    if len(lines) < 2 or raw.is_binary:
        return None
    return split_line(lines[0], ","), [split_line(line, ",") for line in lines[1:limit + 1]]


def detect(raw: RawFile) -> bool:
    """4-5 columns under a header that is not data; data rows `06 Jan 2026 23:52`, a currency
    code and a signed amount; a `+` credit or Freelancer.com vocabulary in the first rows."""
    found = _rows(raw)
    if not found:
        return False
    header, rows = found
    if len(header) not in (4, 5) or _DATE.fullmatch(header[0].strip()):
        return False
    for row in rows:
        if len(row) != len(header) or not _DATE.fullmatch(row[0].strip()):
            return False
        if not re.fullmatch(r"[A-Z]{3}", row[2].strip()):
            return False
        if not _AMOUNT.fullmatch(row[3].strip()):
            return False
    signed = any(row[3].strip().startswith("+") for row in rows)
    return signed or any(_VOCABULARY.search(row[1]) for row in rows)


def parse(raw: RawFile, options: ImportOptions) -> Parsed:
    import polars as pl

    path = raw.path
    table = read_table(raw, 0, delimiter=",", positional=True)
    cells = [c for c in table.df.columns if c != LINE]
    if len(cells) not in (4, 5):
        raise DataError(f"expected 4 or 5 columns (date, description, currency, amount[, GST]),"
                        f" found {len(cells)}", path=path, line=1,
                        hint="export the transaction history again as CSV")
    names = ["_date", "_description", "_currency", "_amount", "_extra"][: len(cells)]
    df = table.df.rename(dict(zip(cells, names, strict=True)))
    if "_extra" not in df.columns:
        df = df.with_columns(pl.lit(None, dtype=pl.String).alias("_extra"))
    rows_read = df.height

    when = pl.col("_date").str.strip_chars().str.strptime(pl.Datetime, DATE_FORMAT, strict=False)
    bad = first_bad(df, when.is_null() | (when.dt.year() < MIN_YEAR),  # (`%Y` reads `25`
                    pl.coalesce("_date", pl.lit("(empty)")))  # as the year 25: not this form)
    if bad:
        raise DataError(f"date {bad[1]!r} is not in the form '06 Jan 2026 23:52'", path=path,
                        line=bad[0], hint="check the file is the original export, not re-saved")
    df = df.with_columns(
        _when=when,
        date=when.dt.date(),
        description=_decode(df["_description"]).str.strip_chars().fill_null(""),
        currency=pl.col("_currency").str.strip_chars().str.to_uppercase(),
        **parse_money_columns(df, {"amount": (pl.col("_amount"), "Amount", True),
                                   "_x": (pl.col("_extra"), "GST/balance", False)}, path=path),
    )
    bad = first_bad(df, ~pl.col("currency").str.contains(r"^[A-Z]{3}$"), pl.col("_currency"))
    if bad:
        raise DataError(f"currency {bad[1]!r} is not a currency code", path=path, line=bad[0],
                        hint="the third column must be a code such as USD, INR or AUD")
    is_balance = _extra_is_balance(df, table.header)
    if is_balance:
        check_running_balance(df.with_columns(balance=pl.col("_x")), path=path,
                              group=["currency"])

    df = df.with_columns(_clean=pl.col("description").str.replace(r"\s*\([A-Z]{3}\)\s*$", ""))
    df = classify(df, pl.col("_clean").str.to_lowercase(), RULES, kind="_kind")
    hold = pl.col("_kind") == "hold"
    holds = df.filter(hold)
    skipped: dict[str, int] = {}
    warnings: list[str] = []
    if holds.height:
        skipped["temporary hold or its release (nets to zero)"] = holds.height
        locks = holds.filter(pl.col("category") == "lock").height
        if locks != holds.height - locks:
            warnings.append(f"{locks} hold(s) but {holds.height - locks} release(s): a "
                            "withdrawal may still be processing; re-import a later export")
    df = df.filter(~hold)
    df = _parties(df)
    df = _link_fees(df)
    df = _link_conversions(df)
    unknown = df.filter(pl.col("_kind") == "other")
    if unknown.height:
        warnings.append(f"{unknown.height} row(s) of unknown type imported as kind 'other' "
                        "(e.g. " + repr(unknown["description"][0]) + "); check them with "
                        "`ledger transactions --kind other`")
    df = df.with_columns(kind=pl.col("_kind"), hours=pl.lit(None, dtype=pl.Float64),
                         _leg=pl.lit("row"))
    rows = df
    if not is_balance:
        rows = pl.concat([df, _gst_rows(df)], how="vertical_relaxed").sort(
            [LINE, "_leg"], descending=[False, True])
    content = pl.concat_str([pl.col("_when").cast(pl.String), pl.col("amount").cast(pl.String),
                             pl.col("currency"), pl.col("description")], separator="|")
    occurrence = pl.int_range(pl.len()).over(["_when", "amount", "currency", "description",
                                              "_leg"]).cast(pl.String)
    key = pl.concat_str([content, pl.col("_leg"), occurrence], separator="|")
    account = options.account or SOURCE
    rows = finalize(rows, raw, source=SOURCE, account=account, key=key)
    return Parsed(rows=rows, format=SOURCE, rows_read=rows_read, skipped=skipped,
                  warnings=warnings)


def _decode(column: pl.Series) -> pl.Series:
    """HTML entities decoded (`&amp;` -> `&`), by unique value so it stays fast."""
    import polars as pl

    values = column.filter(column.str.contains("&", literal=True)).unique().to_list()
    if not values:
        return column
    mapping = {v: html.unescape(v) for v in values if v is not None}
    return column.replace(pl.Series(list(mapping)), pl.Series(list(mapping.values())))


def _extra_is_balance(df: pl.DataFrame, header: list[str]) -> bool:
    """The fifth column is a running balance if named so, or if it chains like one."""
    import polars as pl

    name = header[4].casefold() if len(header) > 4 else ""
    if "balance" in name:
        return True
    if "gst" in name or "tax" in name or df.height < 2 or df["_x"].null_count():
        return False
    chained = (pl.col("_x").shift(-1) + pl.col("amount") == pl.col("_x")).over("currency")
    older_first = (pl.col("_x").shift(1) + pl.col("amount") == pl.col("_x")).over("currency")
    checks = df.select(newest=chained.drop_nulls().all(), oldest=older_first.drop_nulls().all())
    return bool(checks["newest"][0] or checks["oldest"][0])


def _parties(df: pl.DataFrame) -> pl.DataFrame:
    """Client (or payee), project title and id from the description."""
    import polars as pl

    clean = pl.col("_clean")
    suffix = r"\s*\((?:#\d+|[^()]*payment[^()]*)\)\s*$"
    parts = clean.str.extract_groups(
        r"(?i)milestone payment (?:from|to) (?P<who>.+?) for project (?P<title>.+)$")
    df = df.with_columns(_parts=parts)
    payment = pl.col("_parts").struct.field("title")
    for _ in range(2):
        payment = payment.str.replace(suffix, "")
    fee_title = clean.str.extract(r"(?i)\bfee(?: taken)? \((.*)\)$", 1)
    is_fee = pl.col("category").is_in(PROJECT_FEES)
    df = df.with_columns(
        counterparty=pl.col("_parts").struct.field("who"),
        contract=pl.when(is_fee).then(fee_title).otherwise(payment).str.strip_chars(),
        _project_id=clean.str.extract(r"\(#(\d+)\)", 1),
    ).drop("_parts")
    earning = pl.col("_kind") == "earning"
    df = df.with_columns(
        _kind=pl.when((pl.col("category") == "milestone") & (pl.col("amount") < 0))
        .then(pl.lit("subcontractor_payout")).otherwise(pl.col("_kind")),
        _rank=pl.int_range(pl.len()).over(["_when", "contract", "currency", "category"]),
    )
    stamp = pl.col("_when").dt.strftime("%Y-%m-%dT%H:%M")
    rank = pl.when(pl.col("_rank") > 0).then(pl.lit("#") + (pl.col("_rank") + 1).cast(pl.String))
    ref = pl.concat_str([pl.coalesce(pl.lit("#") + pl.col("_project_id"), pl.col("contract")),
                         pl.lit("@"), stamp, rank.fill_null("")])
    return df.with_columns(ref=pl.when(earning & pl.col("contract").is_not_null()).then(ref)
                           .otherwise(None))


def _link_fees(df: pl.DataFrame) -> pl.DataFrame:
    """related_ref of each project fee: the k-th payment of its project at the same minute,
    else the payment of the same project and currency nearest in time."""
    import polars as pl

    earnings = df.filter((pl.col("_kind") == "earning") & pl.col("ref").is_not_null()).select(
        "_when", "contract", "currency", "_rank", pl.col("ref").alias("_earning"))
    fees = pl.col("category").is_in(PROJECT_FEES)
    exact = df.join(earnings, on=["_when", "contract", "currency", "_rank"], how="left",
                    maintain_order="left")
    nearest = exact.filter(fees & pl.col("_earning").is_null() & pl.col("contract").is_not_null())
    if nearest.height and earnings.height:
        found = nearest.select(LINE, "_when", "contract", "currency").sort("_when").join_asof(
            earnings.sort("_when").select("_when", "contract", "currency",
                                          pl.col("_earning").alias("_near")),
            on="_when", by=["contract", "currency"], strategy="nearest",
            check_sortedness=False)  # both sides are sorted by _when just above
        exact = exact.join(found.select(LINE, "_near"), on=LINE, how="left",
                           maintain_order="left").with_columns(
            _earning=pl.coalesce("_earning", "_near")).drop("_near")
    return exact.with_columns(related_ref=pl.when(fees).then(pl.col("_earning"))
                              .otherwise(None)).drop("_earning")


def _link_conversions(df: pl.DataFrame) -> pl.DataFrame:
    """Currency conversions: each leg's ref, and the other leg's ref when both are present."""
    import polars as pl

    fx = pl.col("_kind") == "fx"
    leg_ref = pl.lit("fx@") + pl.col("_when").dt.strftime("%Y-%m-%dT%H:%M") + pl.lit(" ") + \
        pl.col("currency")
    df = df.with_columns(ref=pl.when(fx).then(leg_ref).otherwise(pl.col("ref")))
    pair = (pl.len().over(["_when", "_kind"]) == 2) & (pl.col("currency").n_unique()
                                                       .over(["_when", "_kind"]) == 2)
    other = pl.col("ref").reverse().over(["_when", "_kind"])
    return df.with_columns(related_ref=pl.when(fx & pair).then(other)
                           .otherwise(pl.col("related_ref")))


def _gst_rows(df: pl.DataFrame) -> pl.DataFrame:
    import polars as pl

    gst = df.filter(pl.col("_x").is_not_null() & (pl.col("_x") != 0))
    size = pl.col("_x").abs()
    return gst.with_columns(
        amount=pl.when(pl.col("amount") < 0).then(-size).otherwise(size),
        _kind=pl.lit("platform_fee"),
        kind=pl.lit("platform_fee"),
        category=pl.lit("gst"),
        description=pl.lit("GST - ") + pl.col("description"),
        related_ref=pl.coalesce(pl.col("ref"), pl.col("related_ref")),
        ref=pl.lit(None, dtype=pl.String),
        counterparty=pl.lit(None, dtype=pl.String),
        _leg=pl.lit("gst"),
    )


FORMATS = [
    Format(
        name="freelancer",
        title="Freelancer.com transaction history (CSV, read by position)",
        fingerprint="4-5 columns; rows start '06 Jan 2026 23:52', then description, currency "
        "code and a signed amount (+ on credits)",
        detect=detect,
        parse=parse,
    ),
]
