"""FX: a chain of rate providers, each rate carrying its provenance.

Providers, in order of trust:
1. `user`: the user's own `rates.csv` in the ledger directory (`date,from,to,rate`);
2. `implied`: rates implied by the user's own data: a conversion pair (PayPal's
   `General Currency Conversion` legs sharing a reference) gives |to| / |from|.
Later issues add bundled offline reference rates and `--online`. A rate is looked up for a
row's date: the nearest date of the most trusted provider that has the pair; one further than
`STALE_DAYS` away is still used but reported as a warning. Pairs no provider has directly are
crossed through USD or EUR. No rate is an error naming the pair, the date and how to add one:
never a silent 1.0.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import DataError

if TYPE_CHECKING:
    import polars as pl

RATE_SCALE = 12
STALE_DAYS = 7
PIVOTS = ("USD", "EUR")
PROVIDERS = ("user", "implied")
"""Provider names in order of trust (lower index wins)."""


def rate_dtype() -> pl.DataType:
    import polars as pl

    return pl.Decimal(38, RATE_SCALE)


def _table(rows: list[dict] | None = None) -> pl.DataFrame:
    import polars as pl

    schema = {"date": pl.Date(), "from": pl.String(), "to": pl.String(), "rate": rate_dtype(),
              "provider": pl.String(), "detail": pl.String()}
    return pl.DataFrame(rows or [], schema=schema)


def user_rates(path: Path) -> pl.DataFrame:
    """The user's rates file: `date,from,to,rate` (rate = units of `to` per 1 `from`)."""
    import polars as pl

    if not path.exists():
        return _table()
    try:
        df = pl.read_csv(path, infer_schema=False).with_row_index("_line", offset=2)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot read rates: {str(exc).splitlines()[0]}", path=path,
                        hint="the file needs the header date,from,to,rate") from None
    df = df.rename({c: c.strip().lower() for c in df.columns})
    missing = {"date", "from", "to", "rate"} - set(df.columns)
    if missing:
        raise DataError(f"rates file lacks column(s) {sorted(missing)}", path=path, line=1,
                        hint="the header must be date,from,to,rate (e.g. 2024-06-03,USD,PKR,278.45)")
    out = df.select(
        pl.col("_line"),
        pl.col("date").str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.col("from").str.strip_chars().str.to_uppercase(),
        pl.col("to").str.strip_chars().str.to_uppercase(),
        pl.when(pl.col("rate").str.strip_chars().str.contains(r"^\d+(\.\d+)?$"))
        .then(pl.col("rate").str.strip_chars()).cast(rate_dtype(), strict=False).alias("rate"),
        pl.col("date").alias("_raw_date"), pl.col("rate").alias("_raw_rate"),
    )
    bad = out.filter(pl.col("date").is_null() | pl.col("rate").is_null() | (pl.col("rate") == 0)
                     | ~pl.col("from").str.contains(r"^[A-Z]{3}$")
                     | ~pl.col("to").str.contains(r"^[A-Z]{3}$")).head(1)
    if bad.height:
        raise DataError(
            f"bad rate row (date {bad['_raw_date'][0]!r}, rate {bad['_raw_rate'][0]!r})",
            path=path, line=int(bad["_line"][0]),
            hint="each row is YYYY-MM-DD,FROM,TO,RATE with a positive rate, e.g. "
            "2024-06-03,USD,PKR,278.45")
    return out.select(
        "date", "from", "to", "rate", pl.lit("user").alias("provider"),
        (pl.lit(f"{path.name}:") + pl.col("_line").cast(pl.String)).alias("detail"))


def implied_rates(rows: pl.DataFrame) -> pl.DataFrame:
    """Rates from the user's own conversions: `fx` legs of one account sharing a related_ref
    and date, one out and one in, in different currencies."""
    import polars as pl

    legs = rows.filter((pl.col("kind") == "fx") & pl.col("related_ref").is_not_null())
    if legs.is_empty():
        return _table()
    keys = ["account", "related_ref", "date"]
    out = legs.filter(pl.col("amount") < 0).select(
        *keys, pl.col("currency").alias("from"), (-pl.col("amount")).alias("sent"),
        pl.col("line").alias("line_from"))
    into = legs.filter(pl.col("amount") > 0).select(
        *keys, pl.col("currency").alias("to"), pl.col("amount").alias("got"),
        pl.col("line").alias("line_to"))
    counts = legs.group_by(keys).len()
    pairs = (out.join(into, on=keys).join(counts.filter(pl.col("len") == 2), on=keys)
             .filter(pl.col("from") != pl.col("to")))
    return pairs.select(
        "date", "from", "to",
        (pl.col("got").cast(rate_dtype()) / pl.col("sent").cast(rate_dtype())).alias("rate"),
        pl.lit("implied").alias("provider"),
        pl.concat_str([pl.col("account"), pl.lit(" conversion "), pl.col("related_ref"),
                       pl.lit(" (lines "), pl.col("line_from").cast(pl.String), pl.lit(","),
                       pl.col("line_to").cast(pl.String), pl.lit(")")]).alias("detail"),
    )


@dataclass
class Conversion:
    """Rows valued in one currency, the rates used, and what the user should know about them."""

    rows: pl.DataFrame
    rates: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


class FxChain:
    """Rates from every provider, most trusted first, with direct, inverse and crossed lookups."""

    def __init__(self, tables: list[pl.DataFrame], stale_days: int = STALE_DAYS) -> None:
        import polars as pl

        known = pl.concat([_table(), *tables], how="vertical_relaxed")
        inverse = known.filter(pl.col("rate") != 0).select(
            "date", pl.col("to").alias("from"), pl.col("from").alias("to"),
            (pl.lit(1).cast(rate_dtype()) / pl.col("rate")).alias("rate"), "provider",
            (pl.col("detail") + pl.lit(" (inverse)")).alias("detail"))
        rank = pl.col("provider").replace_strict(
            {p: i for i, p in enumerate(PROVIDERS)}, default=len(PROVIDERS),
            return_dtype=pl.Int32)
        self.rates = (pl.concat([known, inverse]).with_columns(rank.alias("rank"))
                      .sort("date"))
        self.stale_days = stale_days

    @classmethod
    def for_ledger(cls, ledger_rows: pl.DataFrame, rates_path: Path) -> FxChain:
        return cls([user_rates(rates_path), implied_rates(ledger_rows)])

    def lookup(self, needs: pl.DataFrame, to: str) -> pl.DataFrame:
        """For each (date, currency) in `needs`, the best rate to `to`: columns date, currency,
        rate, provider, detail, rate_date (null rate where none is known)."""
        import polars as pl

        direct = self._nearest(needs.with_columns(pl.lit(to).alias("to")), "currency")
        missing = direct.filter(pl.col("rate").is_null()).select("date", "currency")
        found = direct.filter(pl.col("rate").is_not_null())
        for pivot in PIVOTS:
            if missing.is_empty() or pivot == to:
                break
            first = self._nearest(missing.filter(pl.col("currency") != pivot)
                                  .with_columns(pl.lit(pivot).alias("to")), "currency")
            second = self._nearest(first.select("date", pl.lit(pivot).alias("currency"))
                                   .unique().with_columns(pl.lit(to).alias("to")), "currency")
            crossed = first.join(second, on="date", suffix="_2").filter(
                pl.col("rate").is_not_null() & pl.col("rate_2").is_not_null())
            crossed = crossed.select(
                "date", "currency", (pl.col("rate") * pl.col("rate_2")).cast(rate_dtype())
                .alias("rate"),
                (pl.col("provider") + "×" + pl.col("provider_2")).alias("provider"),
                (pl.col("detail") + " × " + pl.col("detail_2")).alias("detail"),
                pl.min_horizontal("rate_date", "rate_date_2").alias("rate_date"))
            found = pl.concat([found, crossed], how="vertical_relaxed")
            missing = missing.join(crossed.select("date", "currency"),
                                   on=["date", "currency"], how="anti")
        if not missing.is_empty():
            found = pl.concat([found, missing.with_columns(
                pl.lit(None, dtype=rate_dtype()).alias("rate"),
                pl.lit(None, dtype=pl.String).alias("provider"),
                pl.lit(None, dtype=pl.String).alias("detail"),
                pl.lit(None, dtype=pl.Date).alias("rate_date"))], how="vertical_relaxed")
        return found

    def _nearest(self, needs: pl.DataFrame, column: str) -> pl.DataFrame:
        """Nearest-dated rate per provider, then the most trusted provider that has one."""
        import polars as pl

        needs = needs.select("date", pl.col(column).alias("currency"), "to").unique().sort("date")
        candidates = self.rates.rename({"from": "currency", "date": "rate_date"})
        best = None
        for rank in sorted(candidates["rank"].unique().to_list()):
            table = candidates.filter(pl.col("rank") == rank).sort("rate_date")
            hit = needs.join_asof(table, left_on="date", right_on="rate_date",
                                  by=["currency", "to"], strategy="nearest",
                                  check_sortedness=False)
            hit = hit.filter(pl.col("rate").is_not_null())
            best = hit if best is None else pl.concat(
                [best, hit.join(best.select("date", "currency"), on=["date", "currency"],
                                how="anti")])
        columns = ["date", "currency", "rate", "provider", "detail", "rate_date"]
        if best is None:
            best = needs.with_columns(pl.lit(None, dtype=rate_dtype()).alias("rate"),
                                      pl.lit(None, dtype=pl.String).alias("provider"),
                                      pl.lit(None, dtype=pl.String).alias("detail"),
                                      pl.lit(None, dtype=pl.Date).alias("rate_date"))
            return best.select(columns)
        rest = needs.join(best.select("date", "currency"), on=["date", "currency"], how="anti")
        rest = rest.with_columns(pl.lit(None, dtype=rate_dtype()).alias("rate"),
                                 pl.lit(None, dtype=pl.String).alias("provider"),
                                 pl.lit(None, dtype=pl.String).alias("detail"),
                                 pl.lit(None, dtype=pl.Date).alias("rate_date"))
        return pl.concat([best.select(columns), rest.select(columns)], how="vertical_relaxed")

    def convert(self, rows: pl.DataFrame, to: str, where: str = "ledger") -> Conversion:
        """Add `value` (amount in `to`) to every row; raise naming the first row without a rate."""
        import polars as pl

        foreign = rows.filter(pl.col("currency") != to)
        if foreign.is_empty():
            return Conversion(rows.with_columns(pl.col("amount").cast(rate_dtype()).alias("value")),
                              _used())
        rates = self.lookup(foreign.select("date", "currency").unique(), to)
        lacking = rates.filter(pl.col("rate").is_null()).sort("date")
        if lacking.height:
            date, currency = lacking["date"][0], lacking["currency"][0]
            row = foreign.filter((pl.col("date") == date) & (pl.col("currency") == currency))
            raise DataError(
                f"no {currency}->{to} rate for {date} (needed for {row.height} row(s), "
                f"first from {row['source'][0]} line {row['line'][0]})",
                path=where,
                hint=f"add a line `{date},{currency},{to},RATE` to rates.csv in the ledger "
                f"directory, or report in {currency} with --currency {currency}")
        valued = rows.join(rates.select("date", "currency", "rate"), on=["date", "currency"],
                           how="left", maintain_order="left").with_columns(
            pl.when(pl.col("currency") == to).then(pl.col("amount").cast(rate_dtype()))
            .otherwise(pl.col("amount").cast(rate_dtype()) * pl.col("rate")).alias("value"))
        stale = rates.filter((pl.col("date") - pl.col("rate_date")).dt.total_days().abs()
                             > self.stale_days)
        warnings = [f"{r['currency']}->{to} on {r['date']}: nearest rate is from {r['rate_date']}"
                    f" ({r['provider']}); add a closer one to rates.csv"
                    for r in stale.head(5).iter_rows(named=True)]
        used = (rates.select("date", pl.col("currency").alias("from"), pl.lit(to).alias("to"),
                             "rate", "provider", "detail", "rate_date").sort("date", "from"))
        return Conversion(valued.drop("rate"), used, warnings)


def _used() -> pl.DataFrame:
    import polars as pl

    return _table().with_columns(pl.lit(None, dtype=pl.Date).alias("rate_date"))
