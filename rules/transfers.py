"""Transfer matching: which credit on one of the user's accounts is which withdrawal from another.

A withdrawal is a transfer out of a platform or wallet (kind `transfer`, negative); a credit a
transfer into a wallet or bank (positive). Matching is vectorised polars: each withdrawal is
joined to the credits of the following `window_days` of its provider, kept where the amount
agrees (same currency: at most `max_shortfall` less arrived; another currency: within
`tolerance` of the reference rate, or of the `[delivered ...]` amount the export states), and
linked only when the pair is mutually unique (or a reference ties them). Two candidates of the
same amount on nearby dates are never guessed: they are listed as ambiguous. A withdrawal no
single credit explains may have arrived in several credits on one account (`_split`).

This is the one matcher: `ledger reconcile` builds its hops and chains on it, and the fee rules'
intermediary deductions (rules.fees.match_intermediary) measure what its pairs lost on the way.
It imports only the core, the provider lists and rules' conversion tags, so rules may use it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core import providers

if TYPE_CHECKING:
    import polars as pl

DEFAULT_DAYS = providers.DEFAULT_TRANSFER_DAYS
TOLERANCE = Decimal("0.03")
MAX_SHORTFALL = Decimal("0.10")
MAX_SPLIT_PARTS = 4
"""A withdrawal may arrive in up to this many credits on one account (`max_split_parts`)."""
SPLIT_CANDIDATES = 12
"""Credits a withdrawal may split into, per account: beyond this, sets of parts are not tried
(C(12, 4) = 495 sets of four; a withdrawal with more look-alike credits is settled by links)."""

LOW_MARGIN = Decimal("0.000001")
"""_split drops a set whose sum is below its withdrawal's `low` by more than this before the
exact tests (tests set it huge to compare with no early drop)."""


@dataclass(frozen=True)
class Settings:
    window_days: dict[str, int] = field(default_factory=lambda: dict(providers.TRANSFER_DAYS))
    tolerance: Decimal = TOLERANCE
    max_shortfall: Decimal = MAX_SHORTFALL
    max_split_parts: int = MAX_SPLIT_PARTS

    def days(self, provider: str) -> int:
        return self.window_days.get(provider, DEFAULT_DAYS)


def legs(rows: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Withdrawals (out_*) and credits (in_*) between the user's accounts."""
    import polars as pl

    outs, ins = pl.collect_all(legs_plan(rows.lazy(), settings), engine="in-memory")
    return outs, ins


def legs_plan(rows: pl.LazyFrame, settings: Settings) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """`legs` as plans (ledger.reconcile.both collects them with the frames it makes of them)."""
    import polars as pl

    transfers = rows.lazy().filter(pl.col("kind") == "transfer").with_columns(
        providers.role(pl.col("source")).alias("role"),
        providers.platform(pl.col("source")).alias("provider"))
    outs = transfers.filter((pl.col("amount") < 0) & pl.col("role").is_in(["platform",
                                                                            "wallet"]))
    window = pl.col("provider").replace_strict(settings.window_days, default=DEFAULT_DAYS,
                                               return_dtype=pl.Int64)
    outs = outs.select(
        pl.col("id").alias("out_id"), pl.col("date").alias("out_date"),
        pl.col("account").alias("out_account"), pl.col("role").alias("out_role"),
        pl.col("provider").alias("out_provider"), pl.col("currency").alias("out_ccy"),
        (-pl.col("amount")).alias("sent"), pl.col("ref").alias("out_ref"),
        pl.col("description").alias("out_text"),
        pl.col("counter_amount").alias("delivered"),
        pl.col("counter_currency").alias("delivered_ccy"),
        window.alias("window"))
    ins = transfers.filter((pl.col("amount") > 0) & pl.col("role").is_in(["wallet", "bank"]))
    ins = ins.select(
        pl.col("id").alias("in_id"), pl.col("date").alias("in_date"),
        pl.col("account").alias("in_account"), pl.col("role").alias("in_role"),
        pl.col("currency").alias("in_ccy"), pl.col("amount").alias("received"),
        pl.col("ref").alias("in_ref"), pl.col("related_ref").alias("in_related"),
        (pl.col("description") + " " + pl.col("counterparty").fill_null("")
         + " " + pl.col("ref").fill_null("")).alias("in_text"))
    return outs, ins


def _amount_test(cand: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Add diff (expected minus received, in the credit's currency), ok, rule, exact."""
    import polars as pl

    from ledger.core.money import decimal_lit

    dec = pl.Decimal(38, 12)
    same = pl.col("out_ccy") == pl.col("in_ccy")
    tagged = pl.col("delivered_ccy").fill_null("") == pl.col("in_ccy")
    sent, got = pl.col("sent").cast(dec), pl.col("received").cast(dec)
    expected = (pl.when(same).then(sent).when(tagged).then(pl.col("delivered").cast(dec))
                .otherwise(sent * pl.col("rate").cast(dec)).cast(dec))
    tol = decimal_lit(settings.tolerance, dec)
    short = decimal_lit(settings.max_shortfall, dec)
    cand = cand.with_columns(expected.alias("expected")).with_columns(
        (pl.col("expected") - got).cast(dec).alias("diff"))
    ok = (pl.when(same | tagged).then((pl.col("diff") >= 0)
                                      & (pl.col("diff") <= short * pl.col("expected")))
          .otherwise(pl.col("rate").is_not_null()
                     & (pl.col("diff").abs() <= tol * pl.col("expected"))))
    rule = (pl.when(same).then(pl.lit("same_currency")).when(tagged)
            .then(pl.lit("delivered_amount")).otherwise(pl.lit("reference_rate")))
    return cand.with_columns(ok.fill_null(False).alias("ok"), rule.alias("rule"),
                             ((same | tagged) & (pl.col("diff") == 0)).alias("exact"))


def _rates(cand: pl.DataFrame, chain: object) -> pl.DataFrame:
    """Reference rate out_ccy -> in_ccy on the withdrawal date, where the currencies differ:
    the FX chain's own `lookup` (one call per arrival currency), joined on. A chain whose
    rates differ by worker (`by_worker`: ledger batch's chunk, rules.worker_ids) is asked
    with each need's worker (`_w`) and answers per worker."""
    need = _needs(cand.lazy(), chain).collect(engine="in-memory")
    return _rated(cand.lazy(), _rate_table(need, chain), chain).collect(engine="in-memory")


def _by(chain: object) -> list[str]:
    return ["_w"] if getattr(chain, "by_worker", False) else []


def _needs(cand: pl.LazyFrame, chain: object) -> pl.LazyFrame:
    """The (date, from, to[, worker]) rates `cand` needs: a plan, so a caller may collect it
    with the plan that makes `cand` (one collect_all instead of two collects)."""
    import polars as pl

    from rules.worker_ids import worker

    by = [worker("out_id").alias("_w")] if _by(chain) else []
    return cand.filter(pl.col("out_ccy") != pl.col("in_ccy")).select(
        "out_date", "out_ccy", "in_ccy", *by).unique()


def _rate_table(need: pl.DataFrame, chain: object) -> pl.LazyFrame:
    """The rates of `need` (_needs, collected) as a plan: out_date, out_ccy, in_ccy[, _w],
    rate, rate_provider, one row per need; the chain asked once per arrival currency. A
    lookup answers each need on its own (rules.fx: the same rate whatever else is asked
    with it), so a table for more needs joins the same rates onto any of them (match asks
    once for its candidates, whose needs hold _split's: tests/test_match_rates.py)."""
    import polars as pl

    from rules.fx_reference import rate_dtype

    by = _by(chain)
    parts = [pl.LazyFrame(schema={"out_date": pl.Date, "out_ccy": pl.String,
                                  "in_ccy": pl.String, "rate": rate_dtype(),
                                  "rate_provider": pl.String, **{b: pl.String for b in by}})]
    if chain is not None:
        # each arrival currency's needs, as the filter gave them, without a query each
        parts_by = need.partition_by("in_ccy", as_dict=True, maintain_order=True)
        for (to,), part in sorted(parts_by.items()):
            needs = pl.DataFrame({"date": part.get_column("out_date"),
                                  "currency": part.get_column("out_ccy"),
                                  **{b: part.get_column(b) for b in by}})
            found = chain.lookup(needs, to)  # type: ignore[attr-defined]
            parts.append(found.lazy().select(
                pl.col("date").alias("out_date"), pl.col("currency").alias("out_ccy"),
                pl.lit(to).alias("in_ccy"), pl.col("rate").cast(rate_dtype()),
                (pl.col("provider") + pl.lit(" ") + pl.col("rate_date").cast(pl.String))
                .alias("rate_provider"), *by))
    return pl.concat(parts, how="vertical_relaxed")


def _rated(cand: pl.LazyFrame, rates: pl.LazyFrame, chain: object) -> pl.LazyFrame:
    """`cand` with rate and rate_provider joined on (a plan) from `rates` (_rate_table of
    needs that hold cand's)."""
    from rules.worker_ids import worker

    by = _by(chain)
    if by:
        cand = cand.with_columns(worker("out_id").alias("_w"))
    joined = cand.join(rates, on=["out_date", "out_ccy", "in_ccy", *by], how="left")
    return joined.drop(by) if by else joined


def _bounds(targets: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Add low and top: the range (in_ccy) an arrival of each withdrawal may have, the loosest
    case of _amount_test (null where nothing could be tested: another currency, no rate)."""
    return targets.with_columns(*_limits(settings))


def _limits(settings: Settings) -> tuple[pl.Expr, pl.Expr]:
    """_bounds' low and top as expressions (_split tests top first, then adds low to the few
    pairs left)."""
    import polars as pl

    from ledger.core.money import decimal_lit

    dec = pl.Decimal(38, 12)
    same = pl.col("out_ccy") == pl.col("in_ccy")
    tagged = pl.col("delivered_ccy").fill_null("") == pl.col("in_ccy")
    sent = pl.col("sent").cast(dec)
    stated = pl.when(same).then(sent).when(tagged).then(pl.col("delivered").cast(dec))
    converted = sent * pl.col("rate").cast(dec)
    short = decimal_lit(settings.max_shortfall, dec)
    tol = decimal_lit(settings.tolerance, dec)
    return (pl.when(same | tagged).then(stated * (1 - short))
            .otherwise(converted * (1 - tol)).cast(dec).alias("low"),
            pl.when(same | tagged).then(stated).otherwise(converted * (1 + tol)).cast(dec)
            .alias("top"))


def _within_window(outs: pl.DataFrame) -> pl.DataFrame:
    """Each withdrawal once per day of its window, as in_date (with days from out_date)."""
    import polars as pl

    return outs.with_columns(pl.int_ranges(0, pl.col("window") + 1).alias("days")).explode(
        "days").with_columns((pl.col("out_date") + pl.duration(days=pl.col("days")))
                             .alias("in_date"))


def _candidates(outs: pl.DataFrame, ins: pl.DataFrame, settings: Settings, chain: object,
                ) -> tuple[pl.DataFrame, pl.LazyFrame]:
    """Every (withdrawal, credit) pair within the window whose amounts agree, and the rates
    table it was rated from (_rate_table: every rate a pair within a window could need, so
    _split joins it instead of asking again).

    Credits are joined by day, currency and a coarse logarithmic amount bucket (one bucket
    spans the loosest tolerance, so a withdrawal's range covers one or two), then the exact
    Decimal tests decide: without the bucket a busy ledger pairs every
    withdrawal with every credit of its week. Float logarithms only pick buckets, never
    decide a match."""
    import math

    import polars as pl

    from rules.worker_ids import worker

    # the currencies a withdrawal's window has credits in: all that need a rate (and --online
    # fetches only what a pair could use); the wide rows are joined back once paired
    # every join not on ids is also on the worker (rules.worker_ids: "" for one ledger)
    # collects: the needs, the rates they ask for, the targets, the candidates (the targets
    # or the candidates left as plans for a later collect made it slower: polars' common
    # subplan elimination did not share them)
    days = ins.lazy().select("in_date", "in_ccy", worker("in_id").alias("_w")).unique()
    ccys = _within_window(outs.lazy().select("out_id", "out_date", "window",
                                             worker("out_id").alias("_w"))).join(
        days, on=["in_date", "_w"]).select("out_id", "in_ccy").unique()
    needs = outs.lazy().join(ccys, on="out_id").collect(engine="in-memory")
    rates = _rate_table(_needs(needs.lazy(), chain).collect(engine="in-memory"), chain)
    targets = _bounds(_rated(needs.lazy(), rates, chain), settings).filter(  # type: ignore[arg-type]
        pl.col("top") > 0).collect(engine="in-memory")
    spread = max(1 / (1 - float(settings.max_shortfall)),
                 (1 + float(settings.tolerance)) / (1 - float(settings.tolerance)))
    width = max(math.log(spread), 0.01)

    def bucket(amount: pl.Expr) -> pl.Expr:
        return (amount.cast(pl.Float64).clip(lower_bound=1e-9).log() / width).floor().cast(
            pl.Int64)

    dec = pl.Decimal(38, 12)
    edge = 1e-9  # far above the float error of a log, far below a bucket
    wide = targets.lazy().select(
        "out_id", worker("out_id").alias("_w"), "out_account", "out_date", "window", "in_ccy",
        "low", "top",
        pl.int_ranges(bucket(pl.col("low") * (1 - edge)), bucket(pl.col("top") * (1 + edge))
                      + 1).alias("bucket")).explode("bucket")
    # each credit looks back over the longest window (fewer rows than each withdrawal
    # looking forward in every currency and bucket)
    back = int(outs["window"].max() or 0) if not outs.is_empty() else 0
    keyed = ins.lazy().select("in_id", worker("in_id").alias("_w"), "in_date", "in_ccy",
                       "in_account",
                       pl.col("received").cast(dec).alias("got"),
                       bucket(pl.col("received")).alias("bucket"),
                       pl.int_ranges(0, back + 1).alias("days")).explode("days").with_columns(
        (pl.col("in_date") - pl.duration(days=pl.col("days"))).alias("out_date"))
    pairs = wide.join(keyed, on=["out_date", "in_ccy", "bucket", "_w"], how="inner").filter(
        (pl.col("days") <= pl.col("window")) & (pl.col("in_account") != pl.col("out_account"))
        & (pl.col("got") >= pl.col("low")) & (pl.col("got") <= pl.col("top")))
    cand = pairs.select("out_id", "in_id", "in_ccy", "days").join(
        targets.lazy().drop("low", "top"), on=["out_id", "in_ccy"]).join(
        ins.lazy().drop("in_ccy"), on="in_id")
    cand = _amount_test(cand, settings)  # type: ignore[arg-type]
    ref_hit = pl.col("out_ref").is_not_null() & (
        (pl.col("in_related").fill_null("") == pl.col("out_ref"))
        | pl.col("in_text").str.contains(pl.col("out_ref"), literal=True))
    named = pl.col("in_text").str.to_lowercase().str.contains(pl.col("out_provider"),
                                                              literal=True)
    return cand.filter("ok").with_columns(ref_hit.fill_null(False).alias("ref_match"),
                                          named.fill_null(False).alias("named")).collect(
        engine="in-memory"), rates


def _mutual(cand: pl.DataFrame) -> pl.LazyFrame:
    """Pairs where, at the strongest evidence either side has (a reference, then an exact
    amount, then a same-currency shortfall or stated delivery, then the reference rate), the
    withdrawal has one candidate credit and the credit one withdrawal. Within each level, a
    credit that names the sender (`Inward Remittance PAYONEER INC`) is stronger."""
    import polars as pl

    tier = (pl.when(pl.col("ref_match")).then(0).when(pl.col("exact")).then(2)
            .when(pl.col("rule") != "reference_rate").then(4).otherwise(6)
            + pl.when(pl.col("named")).then(0).otherwise(1))
    best = cand.lazy().with_columns(tier.alias("tier")).filter(
        (pl.col("tier") == pl.col("tier").min().over("out_id"))
        & (pl.col("tier") == pl.col("tier").min().over("in_id")))
    return best.filter((pl.col("out_id").count().over("out_id") == 1)
                       & (pl.col("in_id").count().over("in_id") == 1)).drop("tier")


@dataclass
class Matching:
    hops: pl.DataFrame
    """One row per (withdrawal, credit) link: out_*, in_*, diff, rule, confidence, days."""
    ambiguous: pl.DataFrame
    unmatched_out: pl.DataFrame
    unmatched_in: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


def match(rows: pl.DataFrame, settings: Settings, chain: object = None,
          links: dict | None = None,
          found: tuple[pl.DataFrame, pl.DataFrame] | None = None) -> Matching:
    """Link withdrawals to credits: user links, then references, then mutually unique
    amounts; a withdrawal no single credit explains may arrive in several credits. `found`:
    `legs(rows, settings)` when the caller has them."""
    import polars as pl

    links = links or {"links": [], "unlinks": []}
    outs, ins = found or legs(rows, settings)
    columns = ["out_id", "in_id", "days", "diff", "rule", "confidence", "rate",
               "rate_provider"]
    if outs.is_empty() or ins.is_empty():  # nothing can match (a platform's ledger alone)
        return Matching(pl.DataFrame(schema={c: pl.String for c in columns}),
                        pl.DataFrame(schema={"out_id": pl.String, "in_id": pl.List(pl.String)}),
                        outs, ins)
    cand, rates = _candidates(outs, ins, settings, chain)
    pair_schema = {"out_id": pl.String, "in_id": pl.String}
    if links["unlinks"]:
        banned = pl.LazyFrame(links["unlinks"], schema=pair_schema, orient="row")
        cand = cand.lazy().join(banned, on=["out_id", "in_id"], how="anti")  # with round 1
    chosen: list[pl.DataFrame] = []
    if links["links"]:
        user = pl.DataFrame(links["links"], schema=pair_schema, orient="row")
        user = user.join(outs, on="out_id").join(ins, on="in_id").with_columns(
            (pl.col("in_date") - pl.col("out_date")).dt.total_days().alias("days"))
        user = _amount_test(_rates(user, chain), settings).with_columns(
            pl.lit("user_link").alias("rule"), pl.lit("user").alias("confidence"),
            pl.lit(False).alias("ref_match"), pl.lit(False).alias("named"))
        chosen.append(user)
        cand = cand.lazy().join(user.lazy().select("out_id"), on="out_id", how="anti").join(
            user.lazy().select("in_id"), on="in_id", how="anti")
    high = pl.col("ref_match") | pl.col("exact")
    for _ in range(8):  # one collect a round: the pairs linked and the candidates left
        unique = _mutual(cand).with_columns(pl.when(high).then(pl.lit("high")).otherwise(
            pl.lit("medium")).alias("confidence"),
            pl.when(pl.col("ref_match")).then(pl.col("rule") + pl.lit("+reference"))
            .otherwise(pl.col("rule")).alias("rule"))
        rest = cand.lazy().join(unique.select("out_id"), on="out_id", how="anti").join(
            unique.select("in_id"), on="in_id", how="anti")
        # a round that links nothing leaves every candidate: rest is then cand
        linked, cand = pl.collect_all([unique, rest], engine="in-memory")
        if linked.is_empty():
            break
        chosen.append(linked)
        if cand.is_empty():  # a round on no candidates would link nothing
            break

    def free(done: list[pl.DataFrame]) -> tuple[pl.LazyFrame, pl.LazyFrame]:
        """The withdrawals and credits no pair of `done` links (plans)."""
        if not done:
            return outs.lazy(), ins.lazy()
        used = pl.concat([c.lazy().select("out_id", "in_id") for c in done])
        return (outs.lazy().join(used.select("out_id"), on="out_id", how="anti"),
                ins.lazy().join(used.select("in_id"), on="in_id", how="anti"))

    free_out, free_in = free(chosen)
    out_alone, in_alone = pl.collect_all([
        free_out.join(cand.lazy().select("out_id").unique(), on="out_id", how="anti"),
        free_in.join(cand.lazy().select("in_id").unique(), on="in_id", how="anti")],
        engine="in-memory")
    split, split_unsure, warnings = _split(out_alone, in_alone, settings, chain, rates)
    if split.height:
        chosen.append(split)
        free_out, free_in = free(chosen)
    # the hops, what is left and the ambiguous: one collect
    hops = (pl.concat([c.lazy().select(columns) for c in chosen], how="vertical_relaxed")
            if chosen else pl.LazyFrame(schema={c: pl.String for c in columns}))
    ambiguous = pl.concat([cand.lazy().join(free_out.select("out_id"), on="out_id",
                                            how="semi").join(
        free_in.select("in_id"), on="in_id", how="semi").group_by("out_id").agg(
        pl.col("in_id").sort()), split_unsure.lazy()]).sort("out_id")
    hops, ambiguous, free_out, free_in = pl.collect_all(  # type: ignore[assignment]
        [hops, ambiguous, free_out, free_in], engine="in-memory")
    return Matching(hops, ambiguous, free_out, free_in, warnings)


def _settled() -> pl.Expr:
    """True (on every row) when the sets a round leaves are exactly as contested as before
    it: no set that went shares a withdrawal or a credit with a set that stays. Each set's
    tests in _split's rounds look only at the sets of its withdrawal and of its credits, so
    such a round's leftovers would lose again: the next round would link nothing."""
    import polars as pl

    left = ~pl.col("_gone")
    touched = (pl.col("_gone").any().over("out_id") | pl.col("_gone").any().over("in_id"))
    return ~(left & touched).any()


def _settle(long: pl.DataFrame | pl.LazyFrame, stop_early: bool = True
            ) -> tuple[list[pl.DataFrame], pl.DataFrame]:
    """_split's rounds over its sets (`long`: set, out_id, tier, in_id, one row a part; a plan
    is collected with the first round): the (set, out_id, in_id) rows each round linked, and
    the sets left. `stop_early=False` runs until a round links nothing, as the rounds did
    before `_settled` (tests compare both)."""
    import polars as pl

    chosen: list[pl.DataFrame] = []
    columns = ["set", "out_id", "tier", "in_id"]
    for _ in range(8):
        # a set is linked when, at the strongest level its withdrawal has and the strongest
        # level each of its credits has, it is the one set of the withdrawal and of each
        # credit; linked withdrawals and credits leave every other set, and again (one
        # collect a round, marking each row: won, gone, and whether another round could
        # link anything)
        best = long.lazy().with_columns(
            (pl.col("tier") == pl.col("tier").min().over("out_id")).alias("top_out"),
            (pl.col("tier") == pl.col("tier").min().over("in_id")).alias("top_in"))
        best = best.with_columns(
            pl.col("set").filter("top_out").n_unique().over("out_id").alias("rivals_out"),
            pl.col("set").filter("top_in").n_unique().over("in_id").alias("rivals_in"))
        round_ = best.with_columns(
            (pl.col("top_out") & pl.col("top_in") & (pl.col("rivals_out") == 1)
             & (pl.col("rivals_in") == 1)).all().over("set").alias("_won")).with_columns(
            pl.col("_won").any().over("out_id").alias("_gone"),
            pl.col("_won").any().over("in_id").alias("_taken")).with_columns(
            (pl.col("_gone") | pl.col("_taken").any().over("set")).alias("_gone"))
        round_ = round_.with_columns(_settled().alias("_settled")).select(
            *columns, "_won", "_gone", "_settled").collect(engine="in-memory")
        found = round_.filter("_won")
        if found.is_empty():
            long = round_.select(columns)
            break
        chosen.append(found.select("set", "out_id", "in_id"))
        long = round_.filter(~pl.col("_gone")).select(columns)
        if stop_early and round_["_settled"][0]:  # the next round would link nothing
            break
    return chosen, long


def _split(outs: pl.DataFrame, ins: pl.DataFrame, settings: Settings, chain: object,
           rates: pl.LazyFrame | None = None) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """A withdrawal that arrived as 2..max_split_parts credits on one account, all within its
    window, together passing the tests one credit would (_amount_test on their sum).

    Sets of parts are built a part at a time by joins per (withdrawal, account, currency), in
    id order, dropping any set already above what could have arrived (parts are positive), so
    the work stays bounded by the look-alike credits of each window. Only unique explanations
    are linked: a withdrawal with two possible sets, or a credit in the sets of two
    explanations, is ambiguous (returned as out_id, in_id list), never guessed. Returns (hop
    rows, ambiguous, warnings). `rates`: a _rate_table holding the needs of these pairs
    (match's, from _candidates); without it the chain is asked for them."""
    import polars as pl

    hop_schema = {"out_id": pl.String, "in_id": pl.String, "days": pl.Int64,
                  "diff": pl.Decimal(38, 12), "rule": pl.String, "confidence": pl.String,
                  "rate": pl.Decimal(38, 12), "rate_provider": pl.String}
    none = (pl.DataFrame(schema=hop_schema),
            pl.DataFrame(schema={"out_id": pl.String, "in_id": pl.List(pl.String)}), [])
    if outs.is_empty() or ins.height < 2 or settings.max_split_parts < 2:
        return none
    from ledger.core.money import decimal_lit
    from rules.worker_ids import worker

    key = ["out_id", "in_account", "in_ccy"]
    # pairs by row number first: most credits in a window are on the withdrawal's own
    # account (a busy worker's chunk joins ~100x more rows than it keeps), so the wide
    # columns are joined back onto the kept pairs only
    pairs = _within_window(outs.lazy().select(
        pl.int_range(pl.len(), dtype=pl.UInt32).alias("_o"), "out_date", "window",
        "out_account", worker("out_id").alias("_w"))).join(
        ins.lazy().select(pl.int_range(pl.len(), dtype=pl.UInt32).alias("_i"), "in_date",
                          "in_account", worker("in_id").alias("_w")),
        on=["in_date", "_w"]).filter(pl.col("in_account") != pl.col("out_account"))
    parts = pairs.select("_o", "_i", "days", "in_date").join(
        outs.lazy().with_row_index("_o"), on="_o").join(
        ins.lazy().drop("in_date").with_row_index("_i"), on="_i").select(
        *outs.columns, "days", "in_date", *[c for c in ins.columns if c != "in_date"])
    if rates is None:
        rates = _rate_table(_needs(parts, chain).collect(engine="in-memory"), chain)
    # the pairs, rates, bounds and part numbers in one plan (top first: low only for the pairs
    # it leaves); a withdrawal with a crowded group is marked (its groups are numbered like
    # any other, then dropped). g numbers the groups, k a group's parts in id order (ranks:
    # no join back of the numbered groups, no sort of every part)
    low, top = _limits(settings)
    kept = _rated(parts, rates, chain).with_columns(top).filter(
        pl.col("top").is_not_null() & (pl.col("received") < pl.col("top"))).filter(
        pl.len().over(key) >= 2).with_columns(
        low, (pl.len().over(key) > SPLIT_CANDIDATES).alias("_crowded"))
    parts = kept.with_columns(
        pl.col("_crowded").any().over("out_id"),
        pl.struct(key).rank("dense").cast(pl.UInt32).alias("g"),
        (pl.col("in_id").rank("ordinal").over(key).cast(pl.Int64) - 1).alias("k"),
        pl.col("in_text").str.to_lowercase().str.contains(pl.col("out_provider"), literal=True)
        .fill_null(False).alias("named")).collect(engine="in-memory")
    if parts.is_empty():
        return none
    warnings = []
    if parts["_crowded"].any():
        many = sorted(set(parts.filter("_crowded")["out_id"].to_list()))
        warnings.append(f"{len(many)} withdrawal(s) have more than {SPLIT_CANDIDATES} credits "
                        f"their window could split into (first {many[0]}): not tried as "
                        "split arrivals; link the parts with `ledger reconcile link`")
        parts = parts.filter(~pl.col("_crowded"))
    # sets of parts as part numbers p1 < p2 < ... within a group (ints are cheap to join)
    step = parts.lazy().select("g", pl.col("k").alias("next"),
                               pl.col("received").alias("more"), pl.col("in_date").alias("on"),
                               pl.col("named").alias("also_named"))
    level = parts.lazy().select("g", "k", pl.col("k").alias("p1"),
                         pl.col("received").cast(pl.Decimal(38, 4)).alias("received"),
                         pl.col("in_date").alias("last_date"), "low", "top", "named")
    # every level of sets in one plan (a level after an empty one is empty: cheap), collected
    # once with the tests on their sums
    sets = []
    for n in range(2, settings.max_split_parts + 1):
        level = level.join(step, on="g").filter(
            (pl.col("next") > pl.col("k")) & (pl.col("received") + pl.col("more")
                                              <= pl.col("top"))).select(
            "g", pl.col("next").alias("k"), *[f"p{i}" for i in range(1, n)],
            pl.col("next").alias(f"p{n}"),
            (pl.col("received") + pl.col("more")).cast(pl.Decimal(38, 4)).alias("received"),
            pl.max_horizontal("last_date", "on").alias("last_date"), "low", "top",
            (pl.col("named") & pl.col("also_named")).alias("named"))
        sets.append(level)
    if not sets:
        return none
    out_side = parts.lazy().select("g", *[c for c in outs.columns if c != "in_date"],
                                   "in_ccy", "rate", "rate_provider").unique("g")
    # a sum below `low` (_bounds: the loosest test) fails _amount_test: most sets do, so they
    # leave before the wide join; the margin (far above a 12-digit rounding of low, far below
    # a cent) leaves the decision to _amount_test's exact tests
    margin = decimal_lit(LOW_MARGIN, pl.Decimal(38, 12))
    cand = pl.concat(sets, how="diagonal").filter(
        pl.col("received") >= pl.col("low") - margin).drop("low").join(
        out_side, on="g").with_columns(
        (pl.col("last_date") - pl.col("out_date")).dt.total_days().alias("days"))
    cand = _amount_test(cand, settings).filter("ok").with_row_index(  # type: ignore[arg-type]
        "set").collect(engine="in-memory")
    if cand.is_empty():
        return none
    # evidence as for one credit: an exact sum, then a shortfall or stated delivery, then the
    # reference rate; every part naming the sender is stronger within a level
    tier = (pl.when(pl.col("exact")).then(0).when(pl.col("rule") != "reference_rate").then(2)
            .otherwise(4) + pl.when(pl.col("named")).then(0).otherwise(1))
    numbers = [c for c in cand.columns if c[0] == "p" and c[1:].isdigit()]
    long = cand.lazy().select("set", "g", "out_id", tier.alias("tier"), *numbers).unpivot(
        numbers, index=["set", "g", "out_id", "tier"], value_name="k").drop_nulls("k").join(
        parts.lazy().select("g", "k", "in_id"), on=["g", "k"]).select(
        "set", "out_id", "tier", "in_id")
    chosen, long = _settle(long)  # the sets' parts collected with the first round
    linked = pl.concat(chosen).lazy() if chosen else pl.LazyFrame(
        schema={"set": pl.UInt32, "out_id": pl.String, "in_id": pl.String})
    linked = linked.join(cand.lazy().select("set", "days", "diff", "rate", "rate_provider"),
                         on="set").select(
        "out_id", "in_id", "days", pl.col("diff").cast(pl.Decimal(38, 12)),
        pl.lit("split_credit").alias("rule"), pl.lit("medium").alias("confidence"),
        pl.col("rate").cast(pl.Decimal(38, 12)), "rate_provider")
    # what is left could be explained more than one way: listed, never guessed
    ambiguous = long.lazy().group_by("out_id").agg(pl.col("in_id").unique().sort())
    linked, ambiguous = pl.collect_all([linked, ambiguous], engine="in-memory")
    return linked, ambiguous, warnings


