"""Hours worked, paid and unpaid: timesheets, Toggl Track and Clockify exports, ledger.toml.

Platform exports only know billed hours (Upwork hourly invoices). The hours that decide what
a freelancer really earns per hour also include bidding for work, admin and learning, which
nobody pays for. Three sources:

- a simple CSV: `date,hours,client,contract,kind` (kind: paid, bidding, admin or learning;
  hours as `1.5` or `1:30`);
- Toggl Track's detailed report CSV (`Start date`, `Duration` HH:MM:SS, `Client`, `Project`,
  `Billable`, `Tags`) and Clockify's (`Start Date`, `Duration (decimal)`, ...): billable time is
  paid, other time admin, unless a tag says bidding, admin, learning or paid;
- `[[hours]]` entries in ledger.toml for fixed-price work with no timesheet:
  `client = "Beta LLC"`, `month = "2024-06"`, `hours = 12` (kind defaults to paid).

In the report, paid hours for a client whose platform export already billed hours that period
are not added again (the platform's count is the one the client paid for); unpaid hours always
count. Hours are measured, not money: floats are fine here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from importers.base import ImportOptions
    from importers.raw_files import RawFile

KINDS = ("paid", "bidding", "admin", "learning")
UNPAID = ("bidding", "admin", "learning")

SIMPLE = {"date", "hours"}
TOGGL = {"start date", "duration"}
CLOCKIFY = {"start date", "duration (decimal)"}


def schema() -> dict:
    import polars as pl

    return {"id": pl.String(), "date": pl.Date(), "hours": pl.Float64(), "kind": pl.String(),
            "client": pl.String(), "contract": pl.String(), "description": pl.String(),
            "origin": pl.String(), "import_id": pl.String(), "line": pl.Int64()}


def empty() -> pl.DataFrame:
    import polars as pl

    return pl.DataFrame(schema=schema())


def detect(raw: RawFile) -> str:
    """Which timesheet layout a file is: simple, toggl or clockify."""
    index = raw.header_index(lambda cells: bool(cells >= CLOCKIFY or cells >= TOGGL
                                                 or cells >= SIMPLE))
    if index is None:
        first = raw.head_lines[0][:100] if raw.head_lines else ""
        raise DataError(f"not a timesheet (first line: {first!r})", path=raw.path, line=1,
                        hint="expected a CSV with date,hours[,client,contract,kind], or a "
                        "Toggl Track / Clockify detailed report export")
    from importers.raw_files import normalize, sniff_delimiter, split_line

    line = raw.head_lines[index]
    cells = {normalize(c) for c in split_line(line, sniff_delimiter(line))}
    if cells >= CLOCKIFY:
        return "clockify"
    if cells >= TOGGL:
        return "toggl"
    return "simple"


def parse(raw: RawFile, options: ImportOptions) -> tuple[pl.DataFrame, str]:
    """Timesheet rows (date, hours, kind, client, contract, description, line) and layout."""
    import polars as pl

    from importers.base import date_formats_for, parse_dates
    from importers.readers import LINE, read_table

    layout = detect(raw)
    table = read_table(raw, 0)
    df = table.df
    if df.is_empty():
        raise DataError("the timesheet has no rows", path=raw.path,
                        hint="export a period with time entries")
    date_col = "date" if layout == "simple" else "start date"
    sample = df[date_col].drop_nulls()
    first = next(iter(sample.head(1).to_list()), "")
    if re.match(r"\d{4}-\d{2}-\d{2}", first or ""):
        formats = ["%Y-%m-%d"]
    elif "." in (first or ""):
        formats = ["%d.%m.%Y"]
    else:
        formats = date_formats_for(options.date_order, "/", path=raw.path, sample=sample,
                                   rows=df, column=date_col)
    dates = parse_dates(df, pl.col(date_col), formats, path=raw.path)
    if layout == "simple":
        hours = _hours_expr(pl.col("hours"))
        kind = pl.coalesce(table.col("kind").str.strip_chars().str.to_lowercase(),
                           pl.lit("paid"))
        client = table.col("client")
        contract = table.col("contract", "project")
        description = table.col("description", "note")
    else:
        duration = pl.col("duration (decimal)") if layout == "clockify" else pl.col("duration")
        hours = _hours_expr(duration)
        tags = table.col("tags").str.to_lowercase().fill_null("")
        billable = table.col("billable").str.strip_chars().str.to_lowercase().is_in(
            ["yes", "true", "1", "billable"])
        tagged = pl.coalesce([pl.when(tags.str.contains(rf"\b{k}\b")).then(pl.lit(k))
                              for k in KINDS])
        kind = pl.coalesce(tagged, pl.when(billable).then(pl.lit("paid"))
                           .otherwise(pl.lit("admin")))
        client = table.col("client")
        contract = table.col("project")
        description = table.col("description")
    out = df.select(
        pl.Series("date", dates), hours.alias("hours"), kind.alias("kind"),
        client.str.strip_chars().alias("client"), contract.str.strip_chars().alias("contract"),
        pl.coalesce(description, pl.lit("")).alias("description"), pl.col(LINE).alias("line"))
    bad_hours = out.filter(pl.col("hours").is_null() | (pl.col("hours") < 0)).head(1)
    if bad_hours.height:
        raise DataError("hours must be a number such as 1.5 or 1:30", path=raw.path,
                        line=int(bad_hours["line"][0]), hint="fix the value in that row")
    bad_kind = out.filter(~pl.col("kind").is_in(KINDS)).head(1)
    if bad_kind.height:
        raise DataError(f"kind {bad_kind['kind'][0]!r} is not one of {', '.join(KINDS)}",
                        path=raw.path, line=int(bad_kind["line"][0]),
                        hint="paid = billed to a client; bidding, admin, learning are unpaid")
    return finalize(out, raw.sha256), layout


def _hours_expr(raw: pl.Expr) -> pl.Expr:
    """`1.5`, `1:30` or `01:30:00` as hours."""
    import polars as pl

    text = raw.str.strip_chars()
    parts = text.str.split(":")
    clock = (parts.list.get(0, null_on_oob=True).cast(pl.Float64, strict=False)
             + parts.list.get(1, null_on_oob=True).cast(pl.Float64, strict=False).fill_null(0)
             / 60
             + parts.list.get(2, null_on_oob=True).cast(pl.Float64, strict=False).fill_null(0)
             / 3600)
    return pl.when(text.str.contains(":")).then(clock).otherwise(
        text.str.replace(",", ".", literal=True).cast(pl.Float64, strict=False))


def finalize(df: pl.DataFrame, import_id: str) -> pl.DataFrame:
    """Ids (stable across re-imports) and provenance."""
    import polars as pl

    from ledger.core.schema import sha256_hex

    content = ["date", "hours", "kind", "client", "contract", "description"]
    key = pl.concat_str([pl.col(c).cast(pl.String) for c in content]
                        + [pl.int_range(pl.len()).over(content).cast(pl.String)],
                        separator="|", ignore_nulls=True)
    df = df.with_columns(sha256_hex(key).str.slice(0, 32).alias("id"),
                         pl.lit("source").alias("origin"), pl.lit(import_id).alias("import_id"))
    return df.select([pl.col(c).cast(t) for c, t in schema().items()])


def from_config(entries: list[dict]) -> pl.DataFrame:
    """`[[hours]]` entries of ledger.toml (fixed-price work) as timesheet rows."""
    import datetime as dt

    import polars as pl

    rows = []
    for number, entry in enumerate(entries, 1):
        try:
            month = dt.datetime.strptime(str(entry["month"]), "%Y-%m").date()
            hours = float(entry["hours"])
        except (KeyError, ValueError):
            raise UsageError(f"[[hours]] entry {number} needs month = \"YYYY-MM\" and hours",
                             hint='e.g. client = "Beta LLC", month = "2024-06", hours = 12'
                             ) from None
        kind = str(entry.get("kind", "paid"))
        if kind not in KINDS:
            raise UsageError(f"[[hours]] entry {number}: kind {kind!r} is not one of "
                             f"{', '.join(KINDS)}")
        rows.append({"date": month, "hours": hours, "kind": kind,
                     "client": entry.get("client"), "contract": entry.get("contract"),
                     "description": "ledger.toml [[hours]]", "line": number})
    if not rows:
        return empty()
    df = pl.DataFrame(rows, schema={k: v for k, v in schema().items()
                                    if k not in ("id", "origin", "import_id")})
    return finalize(df, "ledger.toml").with_columns(pl.lit("config").alias("origin"))


def for_period(timesheet: pl.DataFrame, start, end) -> pl.DataFrame:
    """Timesheet rows of a period; a config row dated on a month's first day counts for that
    month."""
    import polars as pl

    return timesheet.filter(pl.col("date").is_between(start, end))


def per_client(valued: pl.DataFrame, timesheet: pl.DataFrame) -> list[dict]:
    """`client_table` for people and JSON: hours as strings with two decimals."""
    table = client_table(valued, timesheet)
    return [{"client": r["client"], "paid": f"{r['hours']:.2f}", "paid_from": r["paid_from"],
             **{k: f"{r[k]:.2f}" for k in UNPAID}} for r in table.iter_rows(named=True)]


def client_table(valued: pl.DataFrame, timesheet: pl.DataFrame) -> pl.DataFrame:
    """Hours per client for a period: paid (and where they were counted from), and each
    unpaid kind. `valued` are the period's ledger rows (platform hours in `hours`, client in
    `counterparty`); `timesheet` the period's timesheet rows.

    A client's platform-billed hours win over timesheet paid hours for that client; timesheet
    paid hours count only for clients the platform billed no hours in the period.
    """
    import polars as pl

    from ledger.core.schema import engine_for

    # one plan from the rows to the table (was ~20 eager steps); the pivot is eager-only
    platform = (valued.lazy()
                .filter(pl.col("hours").is_not_null() & (pl.col("kind") == "earning"))
                .group_by("counterparty").agg(pl.col("hours").sum())
                .rename({"counterparty": "client"})
                .with_columns(pl.lit("platform").alias("paid_from")))
    sheet_paid = (timesheet.lazy().filter(pl.col("kind") == "paid")
                  .join(platform.select("client"), on="client", how="anti", nulls_equal=True)
                  .group_by("client").agg(pl.col("hours").sum(),
                                          pl.col("origin").unique().sort().alias("origins"))
                  .with_columns(pl.col("origins").list.eval(
                      pl.element().replace({"source": "timesheet", "config": "ledger.toml"}))
                      .list.join(", ").alias("paid_from")).drop("origins"))
    unpaid_rows = timesheet.filter(pl.col("kind").is_in(UNPAID))
    unpaid = (unpaid_rows.pivot(on="kind", index="client", values="hours",
                                aggregate_function="sum")
              if unpaid_rows.height else pl.DataFrame(schema={"client": pl.String}))
    paid = pl.concat([platform.select("client", "hours", "paid_from"),
                      sheet_paid.select("client", "hours", "paid_from")])
    table = paid.join(unpaid.lazy(), on="client", how="full", coalesce=True, nulls_equal=True)
    table = table.with_columns(pl.lit(0.0).alias(kind) for kind in UNPAID
                               if kind not in unpaid.columns)
    table = table.with_columns(pl.col("hours", *UNPAID).fill_null(0.0),
                               pl.col("paid_from").fill_null("-"))
    return table.sort(["hours", "client"], descending=[True, False], nulls_last=True).collect(
        engine=engine_for(valued.height))  # a group_by of a year's hourly earnings


def combine(valued: pl.DataFrame, timesheet: pl.DataFrame) -> tuple[float, float, dict]:
    """(paid hours, unpaid hours, paid hours per client) for a period, by `per_client`'s rule.
    Paid hours with no client (an Upwork hourly row without a counterparty) still count."""
    import polars as pl

    table = client_table(valued, timesheet)
    paid = float(table["hours"].sum() or 0.0)
    unpaid = float(timesheet.filter(pl.col("kind").is_in(UNPAID))["hours"].sum() or 0.0)
    return paid, unpaid, {c: h for c, h in table.select("client", "hours").iter_rows() if c}
