"""The research batch's data dictionary: every output column's name, type and meaning, once.

`PANEL`, `SUMMARY` and `ERRORS` define the columns of DIR/panel/, DIR/summary.csv and
DIR/errors.csv; `TRAJECTORY_SETTINGS` the livelihood-trajectory thresholds and their defaults.
The panel's polars schema, the order of the columns written and DIR/README.md are all derived
from these tuples (`panel_schema`, `render_readme`), so the README cannot drift from the data.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

MONEY = "Decimal(38,2)"
RATIO = "Decimal(38,4)"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    """`String`, `Int32`, `Float64`, `Boolean`, `Decimal(38,2)` (money) or `Decimal(38,4)`."""
    meaning: str
    band: str | None = None
    """How `--bands` coarsens it: `money`, `ratio`, `rate` or `hours` (None: left as is)."""
    partition: bool = False
    """A hive partition key: in the directory names (`country=PK/year=2024/`), not the files."""


PANEL: tuple[Column, ...] = (
    Column("pseudonym", "String",
           "HMAC-SHA256 of the worker id under the batch key (first 16 hex digits). The same "
           "key gives the same pseudonym in every run, so panels can be extended and joined"),
    Column("country", "String",
           "ISO 3166-1 alpha-2 code from the manifest, else the worker folder's country.txt or "
           "ledger.toml, else `unknown`", partition=True),
    Column("year", "Int32", "calendar year of `month`", partition=True),
    Column("month", "String",
           "`YYYY-MM`. Every month from the worker's first to last dated row (or the "
           "trajectory setting `as_of`) has a row; months without activity are zero. No exact "
           "dates appear anywhere in the outputs"),
    Column("active", "Boolean", "gross_usd is above the trajectory setting `active_gross_usd`"),
    Column("platforms", "String",
           "channels with any row this month, sorted, comma-separated: upwork, fiverr, "
           "freelancer, paypal, payoneer, wise, bank (any bank statement format)"),
    Column("gross_usd", MONEY,
           "earnings, bonuses and milestones minus refunds to clients, before any fee; every "
           "row valued in USD at its date's rate", band="money"),
    Column("platform_fees_usd", MONEY,
           "platform service fees, connects, memberships and taxes on them (positive)",
           band="money"),
    Column("payment_fees_usd", MONEY, "withdrawal and payment processor fees (positive)",
           band="money"),
    Column("fx_cost_usd", MONEY,
           "spread paid on currency conversions against the reference mid rate (positive)",
           band="money"),
    Column("bank_deductions_usd", MONEY, "bank and intermediary charges (positive)",
           band="money"),
    Column("taxes_usd", MONEY, "withholding taxes (positive)", band="money"),
    Column("subcontractor_payouts_usd", MONEY, "paid to sub-workers (positive)", band="money"),
    Column("expenses_usd", MONEY, "business expenses booked in the exports (positive)",
           band="money"),
    Column("other_usd", MONEY, "adjustments and unclassified rows (signed)", band="money"),
    Column("net_usd", MONEY,
           "gross_usd minus every cost above plus other_usd, from the rounded lines so it "
           "foots", band="money"),
    Column("local_currency", "String",
           "the country's currency (PK PKR, PH PHP, IN INR, BD BDT, NG NGN, KE KES...); null "
           "for an unknown country"),
    Column("gross_local", MONEY, "gross in local_currency, every row at its date's rate",
           band="money"),
    Column("net_local", MONEY, "net in local_currency, every row at its date's rate",
           band="money"),
    Column("hours", "Float64",
           "paid hours: billed by the platform (Upwork hourly), else from timesheets or "
           "ledger.toml [[hours]] in the worker's folder for clients the platform billed no "
           "hours that month; null where no source recorded hours that month (unknown, not "
           "zero; see hours_source)", band="hours"),
    Column("unpaid_hours", "Float64",
           "bidding, admin and learning hours from timesheets or ledger.toml [[hours]]; null "
           "where neither covers the month (a platform knows only the hours it billed)",
           band="hours"),
    Column("hours_source", "String",
           "where this month's hours come from, sorted, comma-separated: `platform` (hours "
           "billed in a platform export), `timesheet` (a timesheet, Toggl or Clockify file), "
           "`rule` (ledger.toml [[hours]] entries); null where none recorded hours"),
    Column("net_hourly_usd", MONEY, "net_usd / hours; null without paid hours",
           band="money"),
    Column("net_hourly_all_usd", MONEY,
           "net_usd / (hours + unpaid_hours), a null counted as 0; null without any hours",
           band="money"),
    Column("effective_cost_rate", RATIO,
           "(platform + payment fees + FX cost + bank deductions + taxes) / gross; null when "
           "gross is not positive", band="rate"),
    Column("per_capita_usd", MONEY,
           "the country's monthly per-capita income benchmark in USD (the trajectory setting "
           "`benchmark`: World Bank GNI per capita, else GDP per capita, / 12; latest year at "
           "or before `year`, from ledger/data/benchmarks.csv)"),
    Column("net_vs_per_capita", RATIO, "net_usd / per_capita_usd", band="ratio"),
    Column("min_wage_local", MONEY,
           "the country's statutory minimum wage per month in local_currency (daily x 26, "
           "hourly x 208; latest year at or before `year`; see the note in benchmarks.csv)"),
    Column("net_vs_min_wage", RATIO, "net_local / min_wage_local", band="ratio"),
    Column("trajectory", "String",
           "the worker's livelihood trajectory over all their months (same on each row): "
           "sinking, struggling, surviving, swimming or unclassified (see Trajectories)"),
)

SUMMARY: tuple[Column, ...] = (
    Column("table", "String",
           "`monthly` (one row per country and month) or `trajectory` (one row per country "
           "and trajectory, plus `all`)"),
    Column("country", "String", "ISO 3166-1 alpha-2 code or `unknown`"),
    Column("month", "String", "`YYYY-MM` for monthly rows; empty for trajectory rows"),
    Column("trajectory", "String", "the trajectory (or `all`) for trajectory rows; else empty"),
    Column("workers", "Int64",
           "workers in the cell (monthly: with a panel row that month); empty when suppressed"),
    Column("net_usd_p25", MONEY,
           "first quartile of net_usd (trajectory rows: of each worker's mean monthly net_usd)"),
    Column("net_usd_median", MONEY, "median, likewise"),
    Column("net_usd_p75", MONEY, "third quartile, likewise"),
    Column("suppressed", "String",
           "`yes` where the cell had fewer than k workers (or was suppressed so that a "
           "suppressed cell cannot be derived from the country's total): its figures are "
           "empty"),
)

ERRORS: tuple[Column, ...] = (
    Column("pseudonym", "String", "the worker's pseudonym, as in the panel"),
    Column("file", "String",
           "the file, as a keyed pseudonym of its path relative to the worker folder (file "
           "names can name people); `ledger batch` prints the real paths on stderr. Empty for "
           "an error about the worker as a whole"),
    Column("line", "Int64", "line in the file, where the error has one"),
    Column("code", "String", "the error class, e.g. `unknown_layout`, `not_a_number`, "
           "`sheet_too_large`: one of a fixed list in ledger (ledger/batch/errors.py)"),
    Column("error", "String",
           "ledger's fixed description of the error class: never text from the file (a "
           "message quoting a value could carry a name or an account number)"),
    Column("hint", "String", "what to do about it, in ledger's fixed words for the class"),
)


@dataclass(frozen=True)
class Setting:
    name: str
    default: object
    meaning: str


TRAJECTORY_SETTINGS: tuple[Setting, ...] = (
    Setting("benchmark", ("gni_per_capita", "gdp_per_capita"),
            "per-capita income benchmark(s) in ledger/data/benchmarks.csv, first found wins; "
            "a yearly figure is divided by 12; where a year has several (PK's national and "
            "Atlas GNI), the World Bank Atlas figure is used for comparability"),
    Setting("active_gross_usd", Decimal("0"),
            "a month is active when gross_usd is above this"),
    Setting("sinking_months", 3,
            "sinking: no active month among the last this many months of the worker's window "
            "(checked first; a worker who never earned is sinking too)"),
    Setting("swimming_ratio", Decimal("2"),
            "swimming: net_usd at or above this multiple of the benchmark ..."),
    Setting("swimming_share", Decimal("0.5"),
            "... in at least this share of the worker's active months"),
    Setting("earning_ratio", Decimal("0.5"),
            "a month is earning when net_usd is at or above this multiple of the benchmark"),
    Setting("surviving_share", Decimal("0.5"),
            "surviving: earning in at least this share of all months in the window; "
            "struggling: active in the last months but earning less often"),
    Setting("as_of", None,
            "`YYYY-MM`: extend every worker's window to this month (zero months after their "
            "last row count towards sinking); default: each worker's last month with a row"),
)

TRAJECTORIES = ("sinking", "struggling", "surviving", "swimming", "unclassified")

LABELS: dict[str, str] = {
    "pseudonym": "Worker pseudonym (keyed HMAC-SHA256, 16 hex digits)",
    "country": "Country, ISO 3166-1 alpha-2 code or unknown",
    "year": "Calendar year of month",
    "month": "Month, YYYY-MM",
    "active": "Active month: gross_usd above the setting active_gross_usd (0/1)",
    "platforms": "Channels with rows this month, comma-separated",
    "gross_usd": "Gross earnings less refunds to clients, USD",
    "platform_fees_usd": "Platform fees, USD",
    "payment_fees_usd": "Withdrawal and payment fees, USD",
    "fx_cost_usd": "FX spread against the mid rate, USD",
    "bank_deductions_usd": "Bank and intermediary charges, USD",
    "taxes_usd": "Withholding taxes, USD",
    "subcontractor_payouts_usd": "Paid to sub-workers, USD",
    "expenses_usd": "Business expenses, USD",
    "other_usd": "Adjustments and unclassified rows (signed), USD",
    "net_usd": "Net earnings, USD",
    "local_currency": "Local currency, ISO 4217 code",
    "gross_local": "Gross earnings, local currency",
    "net_local": "Net earnings, local currency",
    "unpaid_hours": "Unpaid hours (bidding, admin, learning)",
    "net_hourly_usd": "Net per paid hour, USD",
    "net_hourly_all_usd": "Net per paid and unpaid hour, USD",
    "effective_cost_rate": "Fees, FX cost, bank deductions and taxes / gross",
    "per_capita_usd": "Monthly per-capita income benchmark, USD",
    "net_vs_per_capita": "net_usd / per_capita_usd",
    "min_wage_local": "Monthly minimum wage, local currency",
    "net_vs_min_wage": "net_local / min_wage_local",
    "trajectory": "Livelihood trajectory over the worker's months",
    "tax_year": "Tax year of month in the country, named by the year it ends in",
}
"""Short variable labels (Stata's are at most 80 characters); a column without one is labelled
with the first clause of its meaning (`stata_label`)."""
DECIMAL_NOTE = " (double; exact in panel.csv)"
"""Added to the label of a money or ratio column in panel.dta: Stata has no decimal type."""
LABEL_CHARS = 80


def stata_label(name: str, decimal: bool = False) -> str:
    """A column's variable label in panel.dta: its short label, else the first clause of its
    meaning, cut at a word to fit 80 characters with the decimal note."""
    meanings = {c.name: c.meaning for c in PANEL}
    text = LABELS.get(name) or re.split(r"[;:(]|\. ", meanings.get(name, name))[0].strip()
    note = DECIMAL_NOTE if decimal else ""
    room = LABEL_CHARS - len(note)
    if len(text) > room:
        text = text[:room - 3].rsplit(" ", 1)[0].rstrip(",") + "..."
    if "_" not in text.split(" ", 1)[0]:  # never capitalise a column name (net_usd / ...)
        text = text[:1].upper() + text[1:]
    return text + note


def polars_type(column: Column) -> pl.DataType:
    import polars as pl

    if column.type.startswith("Decimal"):
        precision, scale = column.type[len("Decimal("):-1].split(",")
        return pl.Decimal(int(precision), int(scale))
    return {"String": pl.String(), "Int32": pl.Int32(), "Int64": pl.Int64(),
            "Float64": pl.Float64(), "Boolean": pl.Boolean()}[column.type]


def panel_schema(*, partitions: bool = True) -> dict[str, pl.DataType]:
    """Panel column -> polars dtype, in file order (without the partition keys if not
    `partitions`: those live in the directory names)."""
    return {c.name: polars_type(c) for c in PANEL if partitions or not c.partition}


def _table(columns: tuple[Column, ...]) -> str:
    lines = ["| column | type | meaning |", "|---|---|---|"]
    for c in columns:
        kind = c.type + (" (partition)" if c.partition else "")
        lines.append(f"| `{c.name}` | {kind} | {c.meaning.replace('|', '/')} |")
    return "\n".join(lines)


def _value(value: object) -> str:
    if value is None:
        return "(none)"
    if isinstance(value, tuple | list):
        return ", ".join(f'"{v}"' for v in value)
    if isinstance(value, str | Decimal):
        return f'"{value}"'
    return str(value)


def render_readme(*, k: int, bands: bool, settings: dict[str, object],
                  bands_text: str) -> str:
    """DIR/README.md: what the files are, every column, the trajectory rules as run, and how
    to read the panel with DuckDB, Spark and polars. Holds no input-derived text or date."""
    rows = "\n".join(f"| `{s.name}` | `{_value(settings.get(s.name, s.default))}` | "
                     f"`{_value(s.default)}` | {s.meaning} |" for s in TRAJECTORY_SETTINGS)
    banded = ("**Amounts are banded** (`--bands`): " + bands_text) if bands else \
        "Amounts are exact (run with `--bands` to coarsen them)."
    from ledger.batch.errors import BY_CODE

    codes = "; ".join(f"`{c.code}`: {c.text}" for c in BY_CODE.values())
    return f"""# Research panel (freelance-ledger `ledger batch`)

Anonymised worker-month panel built from workers' donated exports (Upwork, Fiverr, Freelancer,
PayPal, Payoneer, Wise, bank statements), each read with the same importers, fee rules and
offline FX rates as `ledger report` uses for one freelancer. Generated from the code's data
dictionary (ledger/batch/columns.py): do not edit by hand.

Files:

- `panel/country=CC/year=YYYY/part-*.parquet`: one row per worker and month (hive partitioned).
- `summary.csv`: counts and net USD quartiles by country and month, and trajectory counts by
  country; cells with fewer than **k = {k}** workers are suppressed.
- `errors.csv`: the files that could not be read (by pseudonym and file pseudonym).
- `run.json`: the options that shaped these files (k, bands, trajectory settings).
- `panel.csv`, `panel.dta` (written with `--also csv,dta`): the whole panel in one file for R,
  Stata or a spreadsheet, `country` and `year` as columns, sorted by country, year, pseudonym
  and month. In panel.csv amounts are the exact decimal text (`1234.50`), booleans
  `true`/`false`, an empty cell is null and `""` an empty text. panel.dta: see Stata below.

Anonymity: workers appear only as keyed pseudonyms (the key stays outside this folder with the
researcher); no names, emails, clients, contract titles, descriptions, transaction ids, file
names or exact dates are written, only months. {banded}

Money is exact decimal (`Decimal(38,2)`, rounded half-even to the currency's minor unit);
ratios are `Decimal(38,4)`; hours are floating point (measured, not money).

## Panel columns

{_table(PANEL)}

## summary.csv

{_table(SUMMARY)}

## errors.csv

{_table(ERRORS)}

Error classes (`code`: `error`): {codes}.

## Trajectories

Livelihood trajectories after Malik, Nicholson & Heeks (2018), *Understanding the Development
Implications of Online Outsourcing* (Pakistan): sinking, struggling, surviving and swimming.
Each worker's months are compared with the country's monthly per-capita income benchmark, in
this order: **sinking** (stopped earning in the last months), **swimming** (well above the
benchmark in most active months), **surviving** (earning at a modest level most of the time),
**struggling** (still active but rarely earning); **unclassified** where the country has no
benchmark. Settings (`--trajectories FILE`, a TOML file with these keys) as used in this run:

| setting | value | default | meaning |
|---|---|---|---|
{rows}

## Reading the panel

DuckDB:

```sql
SELECT country, month, median(net_usd) AS median_net
FROM read_parquet('panel/**/*.parquet', hive_partitioning = true)
GROUP BY ALL ORDER BY ALL;
```

Spark (PySpark):

```python
panel = spark.read.parquet("panel")        # country and year come from the directory names
panel.groupBy("country", "trajectory").count().show()
```

polars (amounts stay `Decimal(38, 2)`):

```python
import polars as pl
panel = pl.scan_parquet("panel/**/*.parquet", hive_partitioning=True).collect()
```

pandas (with pyarrow installed): ask for Arrow types, or every amount becomes a Python
`Decimal` object (exact, but slow and `object` dtype):

```python
import pandas as pd
panel = pd.read_parquet("panel", dtype_backend="pyarrow")   # decimal128(38, 2) columns
exact = pd.read_csv("panel.csv", dtype=str)                  # or the exact text of panel.csv
```

R (arrow): sums and means over the dataset stay exact decimals; `collect()` turns them into
doubles (R has no decimal type). `readr::read_csv("panel.csv", col_types = readr::cols(.default =
"c"))` keeps the exact text.

```r
library(arrow); library(dplyr)
panel <- open_dataset("panel")                  # country and year from the folder names
panel |> group_by(country, month) |> summarise(net = sum(net_usd)) |> collect()
```

Stata (`panel.dta`, Stata 14 or later; `haven::read_dta` in R reads it too):

```stata
use panel.dta, clear
describe                  // every variable labelled from this dictionary
tabulate trajectory       // 1 sinking, 2 struggling, 3 surviving, 4 swimming, 5 unclassified
format *_usd *_local %14.2f
```

Stata has no decimal type, and its 32-bit `long` would overflow at 21,474,836.47 counted in
cents (a month's naira or rupees can pass that), so in panel.dta amounts and ratios are
`double`: each the double nearest the exact decimal, which shows and rounds back to the exact
cent, but sums in Stata are floating point. Their variable labels end
"{DECIMAL_NOTE.strip()}": the exact values are in panel.csv and the Parquet files.
`active` is 0/1; an empty text is `""` (Stata has no missing text), a missing number `.`.

Panels from several runs (e.g. more workers later) with the same key union as they are: copy
the `panel/` trees together (file names never collide) and run
`ledger batch --summary-only --out DIR` to recompute summary.csv over the union. Each part
records whether it was banded, and parts of runs with and without `--bands` are refused
together (band edges and exact amounts do not mix).
"""
