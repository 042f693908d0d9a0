"""The report's breakdowns per source platform and per client (`by_platform`, `by_client`).

Both read the period's valued rows (report.VALUED, with `value` in the report currency) and one
group_by of its earnings per client (`client_sums`); a fee is charged to the client of the
earning whose ref it names (`_fee_clients`), else to its own counterparty. Hours come from
`hours.combine` (platform-billed, else timesheets or ledger.toml), payout costs from
ledger.attribution; every figure is exact until `format_money` rounds it once.
"""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core.providers import platform as source_platform
from ledger.core.schema import engine_for
from ledger.counting.totals import hours_text as _hours

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl


def by_platform(valued: pl.DataFrame, currency: str,
                client_hours: dict[str, float] | None = None,
                payout_costs: dict[str, Decimal] | None = None, *,
                clients: pl.DataFrame | None = None, daily: pl.DataFrame | None = None
                ) -> list[dict]:
    """Gross, platform and payment fees, net and hours per source platform. A client's hours
    (`hours.combine`) count for the platform that carried most of their gross. `payout_costs`
    (ledger.attribution) are the later costs of getting that platform's money home, charged
    back FIFO; `net_home` is net minus them. `clients`: `client_sums` of `valued`, when the
    caller has it (by_client reads it too); `daily`: ledger.totals.day_sums of `valued`, when
    the caller has it (the report's months are read from it too)."""
    import polars as pl

    from ledger.core.money import format_money

    # per source and kind, then per platform: exact sums either way, and a source's platform
    # is read from the few names of the sums (every source with an earning has a sum), not
    # split out of every row nor found by hashing every row's name
    summed = valued if daily is None else daily
    per_source = summed.lazy().group_by("source", "kind").agg(pl.col("value").sum()).filter(
        pl.col("kind").is_in(["earning", "refund", "platform_fee", "payment_fee", "tax",
                              "bank_fee"]))
    if clients is None:
        per_source, clients = pl.collect_all([per_source, client_sums(valued)],
                                             engine=engine_for(valued.height))
    else:
        per_source = per_source.collect(engine=engine_for(summed.height))
    platform = _platform_expr(per_source)
    earned = pl.col("kind").is_in(["earning", "refund"])
    grouped = per_source.lazy().with_columns(platform).group_by("platform").agg(
        pl.col("value").filter(earned).sum().alias("gross"),
        (-pl.col("value").filter(~earned).sum()).alias("fees")).sort(
        "gross", "platform", descending=[True, False])  # equal gross: by name, not by chance
    unbilled, home, grouped = pl.collect_all(
        [*_platform_hours_plans(valued, clients, platform), grouped],
        engine=engine_for(valued.height))
    worked = _platform_hours(unbilled, home, client_hours or {})
    later = payout_costs or {}
    found = [(row["platform"], Decimal(row["gross"] or 0), Decimal(row["fees"] or 0))
             for row in grouped.iter_rows(named=True)]
    seen = {platform for platform, _, _ in found}
    found += [(p, Decimal(0), Decimal(0)) for p in sorted(later) if p not in seen]
    out = []
    for platform, gross, fees in found:
        item = {"platform": platform, "gross": format_money(gross, currency),
                "fees": format_money(fees, currency),
                "net": format_money(gross - fees, currency),
                "hours": f"{_hours(worked.get(platform, 0)):.2f}",
                "net_hourly": _per_hour(gross - fees, worked.get(platform), currency),
                "fee_rate": _ratio(fees, gross)}
        home = _home(gross - fees, later.get(platform, Decimal(0)), currency)
        if not gross and platform not in later:
            # a wallet's or bank's own row: its fees are already in the payout costs of the
            # platforms whose money it carried, so it has no money of its own to bring home
            home["net_home"] = None
        out.append(item | home)
    return out


def client_sums(valued: pl.DataFrame) -> pl.LazyFrame:
    """The earnings and refunds with a client, `value` and `hours` summed per (counterparty,
    source, kind): what by_client's gross and hours per client and by_platform's home
    platform per client are read from, one group_by of a year's rows for both. A plan."""
    import polars as pl

    return valued.lazy().filter(pl.col("kind").is_in(["earning", "refund"])
                                & pl.col("counterparty").is_not_null()).group_by(
        "counterparty", "source", "kind").agg(pl.col("value").sum(), pl.col("hours").sum())


def _fee_clients(owners: pl.DataFrame, named: pl.DataFrame, unnamed: pl.DataFrame,
                 named_clients: Callable[[], pl.Series] | None = None) -> pl.DataFrame:
    """Every fee as (client, value): a fee naming a ref (`named`: account, related_ref,
    counterparty, value) is charged to the counterparty of the earning on the same account
    whose ref it names (`owners`: the earnings with a ref and a counterparty; one per ref, the
    first), else to its own counterparty, as is a fee naming none (`unnamed`: counterparty,
    value). Fees listed beside their earnings are matched row for row (`_listed_together`):
    the earnings' counterparties beside the fees' values, no per-fee owner column gathered.
    Others are joined on a 64-bit hash of (account, ref) to the earning's row number, which
    costs a third of joining the two strings on a year of rows; every match is then checked
    string for string, and on a hash collision the strings are joined instead, so the owners
    are exact either way. `named` may come without its counterparty, then `named_clients`
    gives it, read only when the fees are not listed together (a year's is a column of
    900k names)."""
    import polars as pl

    rest = unnamed.select(pl.col("counterparty").alias("client"), "value")
    if _listed_together(owners, named):
        return pl.concat([pl.DataFrame([owners["counterparty"].alias("client"),
                                        named["value"]]), rest])
    if "counterparty" not in named.columns and named_clients is not None:
        named = named.with_columns(named_clients().alias("counterparty"))
    numbered = owners.lazy().select(
        _ref_key("ref"), pl.int_range(pl.len(), dtype=pl.UInt32).alias("_at")).filter(
        pl.col("_key").is_first_distinct())
    # one row per fee in the fees' order (left join on unique keys): only the row numbers
    at = named.lazy().select(_ref_key("related_ref")).join(
        numbered, on="_key", how="left", maintain_order="left").collect(engine="in-memory")["_at"]
    same = (owners["account"].gather(at) == named["account"]) \
        & (owners["ref"].gather(at) == named["related_ref"])
    if (at.is_null() | same.fill_null(False)).all():
        owner = owners["counterparty"].gather(at)
    else:
        firsts = owners.select("account", pl.col("ref").alias("related_ref"),
                               pl.col("counterparty").alias("owner")).unique(
            ["account", "related_ref"], keep="first", maintain_order=True)
        owner = named.join(firsts, on=["account", "related_ref"], how="left",
                           maintain_order="left")["owner"]
    return pl.concat([named.select(pl.coalesce(owner, pl.col("counterparty")).alias("client"),
                                   "value"), rest])


def _listed_together(owners: pl.DataFrame, named: pl.DataFrame) -> bool:
    """Whether the exports list each fee with the earning it is charged on (PayPal's fee on
    the earning's line, Upwork's fee row beside its earning): the fees naming a ref
    (`named`), in order, name the earnings' (account, ref) one for one, and no earning's
    (account, ref) repeats, so the n-th of those fees is charged on the n-th earning, its
    first with that ref (no join). The checks compare columns row for row: a year's fees
    cost a third of joining them."""
    if not owners.height or named.height != owners.height:
        return False
    if not ((named["account"] == owners["account"])
            & (named["related_ref"] == owners["ref"])).fill_null(False).all():
        return False
    # a repeated ref (or two whose hashes collide): the join keeps the first
    return _refs_unique(owners["ref"]) \
        or owners.select(_ref_key("ref").n_unique()).item() == owners.height


def _refs_increase(refs: pl.Series) -> bool:
    """Whether `refs` (no nulls) strictly increase: then none repeats, whatever the account,
    proven by comparing neighbours (a fifth of hashing a year's refs and counting them); an
    export numbering its rows in order (PayPal's) does. Refs out of order in their first
    1,024 (Upwork's) fail on that prefix's sortedness check; others are compared once (no
    sortedness check of them all first: a third of the comparison on a year's refs)."""
    return refs.slice(0, 1024).is_sorted() \
        and bool((refs.slice(1) > refs.slice(0, len(refs) - 1)).all())


def _refs_unique(refs: pl.Series) -> bool:
    """Whether `refs` (no nulls) are unique by their order alone: strictly increasing
    (`_refs_increase`), or runs of strictly decreasing refs whose ranges do not overlap (an
    export listing each day's rows newest first, Upwork's: a year is 366 runs). Found by
    comparing neighbours and then only the runs' ends, a tenth of hashing a year's refs and
    counting them. False when not proven so (the caller counts them by hash): refs out of
    order in many places give up after one comparison of neighbours."""
    import polars as pl

    if _refs_increase(refs):
        return True
    n = len(refs)
    ends = (refs.slice(1) >= refs.slice(0, n - 1)).arg_true()  # where a falling run ends
    if len(ends) > n // 16 + 16:
        return False
    runs = pl.DataFrame({
        "high": refs.gather(pl.concat([pl.Series([0], dtype=ends.dtype), ends + 1])),
        "low": refs.gather(pl.concat([ends, pl.Series([n - 1], dtype=ends.dtype)]))}
    ).sort("low")
    # each run's refs lie in [low, high], distinct; no run's range reaches the next one's
    return bool((runs["high"].slice(0, runs.height - 1) < runs["low"].slice(1)).all())


def _ref_key(ref: str) -> pl.Expr:
    """A 64-bit hash of (account, `ref`) as `_key`, null where `ref` is (it names nothing)."""
    import polars as pl

    return pl.when(pl.col(ref).is_not_null()).then(
        pl.col(ref).hash() ^ (pl.col("account").hash() * 31)).alias("_key")


def _home(net: Decimal, later: Decimal, currency: str) -> dict[str, str | None]:
    """payout_costs and net_home, each rounded once from exact figures."""
    from ledger.core.money import format_money, round_money

    cost = round_money(later, currency)
    return {"payout_costs": format_money(cost, currency),
            "net_home": format_money(round_money(net, currency) - cost, currency)}


def by_client(valued: pl.DataFrame, currency: str,
              client_hours: dict[str, float] | None = None,
              payout_costs: dict[str, Decimal] | None = None, *,
              clients: pl.DataFrame | None = None) -> list[dict]:
    """Per client: gross, the fees charged on their work (by counterparty or related_ref), net,
    paid hours (platform-billed, else from timesheets or ledger.toml: `hours.combine`), and
    the payout costs charged back to their money (ledger.attribution). `clients`:
    `client_sums` of `valued`, when the caller has it (by_platform reads it too)."""
    import polars as pl

    from ledger.core.money import format_money

    earned = pl.col("kind").is_in(["earning", "refund"])
    fee = pl.col("kind").is_in(["platform_fee", "payment_fee", "tax"])
    named = pl.col("related_ref").is_not_null()
    # the earnings that own fees, the fees naming a ref and the others: each row's part
    # found in one pass, then each column taken out once (no copy of all the fees to split)
    part = valued.select(
        (earned & pl.col("ref").is_not_null() & pl.col("counterparty").is_not_null()
         ).alias("owner"), (fee & named).alias("named"), (fee & ~named).alias("unnamed"))
    owners = valued.select("account", "ref", "counterparty").filter(part["owner"])
    named_fees = valued.select("account", "related_ref", "value").filter(part["named"])
    unnamed = valued.select("counterparty", "value").filter(part["unnamed"])
    if clients is None:
        clients = client_sums(valued).collect(engine="in-memory")
    gross = clients.lazy().group_by(pl.col("counterparty").alias("client")).agg(
        pl.col("value").sum().alias("gross"), pl.col("hours").sum().alias("hours"))
    fees = _fee_clients(owners, named_fees, unnamed,
                        lambda: valued.get_column("counterparty").filter(part["named"]))
    charged = fees.lazy().group_by("client").agg(
        (-pl.col("value").sum()).alias("fees")).filter(pl.col("client").is_not_null())
    joined = gross.join(charged, on="client", how="full", coalesce=True).sort(
        "gross", "client", descending=[True, False], nulls_last=True  # equal gross: by name
    ).collect(engine=engine_for(fees.height))  # a group_by of every fee
    later = payout_costs or {}
    found = [(row["client"], Decimal(row["gross"] or 0), Decimal(row["fees"] or 0),
              row["hours"]) for row in joined.iter_rows(named=True)]
    seen = {client for client, *_ in found}
    found += [(c, Decimal(0), Decimal(0), None) for c in sorted(later) if c not in seen]
    out = []
    for client, g, f, billed in found:
        worked = (client_hours or {}).get(client, billed or 0)
        item = {"client": client, "gross": format_money(g, currency),
                "fees": format_money(f, currency), "net": format_money(g - f, currency),
                "hours": f"{_hours(worked):.2f}",
                "net_hourly": _per_hour(g - f, worked, currency)}
        out.append(item | _home(g - f, later.get(client, Decimal(0)), currency))
    return out


def _platform_hours_plans(valued: pl.DataFrame, clients: pl.DataFrame, platform: pl.Expr
                          ) -> tuple[pl.LazyFrame, pl.LazyFrame]:
    """What `_platform_hours` reads: the hours of earnings without a client per platform, and
    each client's home platform (the one that carried most of their gross; `clients`:
    `client_sums`). Plans."""
    import polars as pl

    earning = pl.col("kind") == "earning"
    unbilled = valued.lazy().filter(earning & pl.col("counterparty").is_null()).select(
        "source", "hours").with_columns(platform).group_by("platform").agg(
        pl.col("hours").sum())
    home = (clients.lazy().filter(earning).select("counterparty", "source", "value")
            .with_columns(platform).group_by("counterparty", "platform")
            .agg(pl.col("value").sum())
            .sort("value", "platform", descending=[True, False])
            .unique("counterparty", keep="first", maintain_order=True))
    return unbilled, home


def _platform_hours(unbilled: pl.DataFrame, home: pl.DataFrame,
                    client_hours: dict[str, float]) -> dict[str, float]:
    """Hours per platform: the unbilled hours of `_platform_hours_plans` plus each client's
    hours (`client_hours`) on their home platform."""
    hours = {p: float(h or 0) for p, h in unbilled.iter_rows()}
    for client, platform, _ in home.iter_rows():
        hours[platform] = hours.get(platform, 0.0) + client_hours.get(client, 0.0)
    return hours


def _platform_expr(rows: pl.DataFrame) -> pl.Expr:
    """`platform`, the provider part of `source` (ledger.providers.platform), worked out once
    per distinct source name of `rows` (a few sums) rather than split out of every row."""
    import polars as pl

    names = rows["source"].unique()
    platforms = pl.select(source_platform(pl.lit(names))).to_series()
    return pl.col("source").replace(names, platforms).alias("platform")


def _per_hour(net: Decimal, worked: object, currency: str) -> str | None:
    from ledger.core.money import format_money

    worked_hours = _hours(worked or 0)
    return format_money(net / worked_hours, currency) if worked_hours else None


def _ratio(part: Decimal, whole: Decimal) -> str | None:
    return f"{(part / whole):.4f}" if whole else None
