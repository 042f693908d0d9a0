"""The report's breakdowns per source platform and per client (`by_platform`, `by_client`).

Both read the period's valued rows (report.VALUED, with `value` in the report currency) and one
group_by of its earnings per client (`client_sums`); a fee is charged to the client of the
earning whose ref it names (`_fee_clients`), else to its own counterparty. Hours come from
`hours.combine` (platform-billed, else timesheets or ledger.toml), the costs of moving and
converting money from ledger.counting.attribution.traced (charged to whose money it was:
payout costs). Each is a partition of the period's net: every row that is not a transfer is
in exactly one item (a null key for what is no platform's or no client's money), and the
items' net home and gross add up to the report's net and gross as shown (`_footed`). Every
figure is exact until it is rounded once.
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


COST_FEES = ("platform_fee", "payment_fee", "bank_fee", "tax")
"""The kinds a platform's or client's `fees` are (ledger.counting.attribution.COST_FEES)."""
OTHER = ("subcontractor_payout", "expense", "adjustment", "other")
"""Kinds of no platform's or client's money: the row with a null key holds them."""


def by_platform(valued: pl.DataFrame, currency: str,
                client_hours: dict[str, float] | None = None,
                costs: pl.DataFrame | None = None, *,
                clients: pl.DataFrame | None = None, daily: pl.DataFrame | None = None,
                net: Decimal | None = None, gross: Decimal | None = None) -> list[dict]:
    """Gross, fees (platform, payment and bank fees, taxes: the rows booked on its account,
    less those charged to another platform's money), net and hours per source platform. A
    client's hours (`hours.combine`) count for the platform that carried most of their
    gross. `costs` (ledger.counting.attribution.traced) are the costs of moving and
    converting money, charged first in, first out to whose money it was: its `payout_costs`
    (a fee charged to its own platform's money stays in its fees); `net_home` is net minus
    them. Without `costs`, conversions stay on the platform that booked them. Rows of no
    platform's money (expenses, payments to sub-workers, other adjustments) make an item
    with `platform` null, their net sum as its fees, so the items' net_home add up to the
    totals' net exactly: `net` (the report's, as shown) has the rounding absorbed, and their
    gross add up to `gross` (the report's, as shown; `_footed`). `clients`: `client_sums` of
    `valued`, when the caller has it (by_client reads it too); `daily`: ledger.totals.day_sums
    of `valued`, when the caller has it (the report's months are read from it too)."""
    import polars as pl

    # per source and kind, then per platform: exact sums either way, and a source's platform
    # is read from the few names of the sums (every source with an earning has a sum), not
    # split out of every row nor found by hashing every row's name
    summed = valued if daily is None else daily
    per_source = summed.lazy().group_by("source", "kind").agg(pl.col("value").sum()).filter(
        pl.col("kind") != "transfer")
    if clients is None:
        per_source, clients = pl.collect_all([per_source, client_sums(valued)],
                                             engine=engine_for(valued.height))
    else:
        per_source = per_source.collect(engine=engine_for(summed.height))
    platform = _platform_expr(per_source)
    kind, value = pl.col("kind"), pl.col("value")
    grouped = per_source.lazy().with_columns(platform).group_by("platform").agg(
        value.filter(kind.is_in(["earning", "refund"])).sum().alias("gross"),
        (-value.filter(kind.is_in(COST_FEES)).sum()).alias("fees"),
        (-value.filter(kind == "fx").sum()).alias("fx"),
        (-value.filter(kind.is_in(OTHER)).sum()).alias("other"))
    unbilled, home, grouped = pl.collect_all(
        [*_platform_hours_plans(valued, clients, platform), grouped],
        engine=engine_for(valued.height))
    worked = _platform_hours(unbilled, home, client_hours or {})
    sums: dict[str | None, list[Decimal]] = {}
    other = Decimal(0)
    for row in grouped.iter_rows(named=True):
        line = sums.setdefault(row["platform"], [Decimal(0)] * 3)
        line[0] += Decimal(row["gross"] or 0)
        line[1] += Decimal(row["fees"] or 0)
        if costs is None:  # conversions stay where they were booked
            line[2] += Decimal(row["fx"] or 0)
        other += Decimal(row["other"] or 0)
    if costs is not None:
        for booked, owner, fee, cost in _moved(costs, "platform_of", "platform"):
            owner = owner if owner is not None else booked  # untraced: where it was booked
            if fee and owner == booked:
                continue  # its own money's fee: in its fees already
            if fee:
                sums.setdefault(booked, [Decimal(0)] * 3)[1] -= cost
            sums.setdefault(owner, [Decimal(0)] * 3)[2] += cost
    if other:
        sums.setdefault(None, [Decimal(0)] * 3)[1] += other
    found = sorted(((p, *line) for p, line in sums.items()
                    if any(line) or worked.get(p)),  # type: ignore[arg-type]
                   key=lambda item: (item[0] is None, -item[1], item[0] or ""))
    out = []
    shown_items = _footed(found, net, currency, gross)
    for (p, earned, fees, _), shown in zip(found, shown_items, strict=True):
        item = {"platform": p, **shown,
                "hours": f"{_hours(worked.get(p, 0)):.2f}",  # type: ignore[arg-type]
                "net_hourly": _per_hour(earned - fees, worked.get(p), currency),  # type: ignore
                "fee_rate": _ratio(fees, earned)}
        out.append({k: item[k] for k in ("platform", "gross", "fees", "net", "hours",
                                         "net_hourly", "fee_rate", "payout_costs",
                                         "net_home")})
    return out


def _moved(costs: pl.DataFrame, booked: str, owner: str
           ) -> list[tuple[str | None, str | None, bool, Decimal]]:
    """`costs` (attribution.traced) summed per (`booked`, `owner`, a fee or not), as costs
    (positive): a few sums, however many rows."""
    import polars as pl

    summed = costs.group_by(booked, owner, pl.col("kind").is_in(COST_FEES).alias("_fee")).agg(
        (-pl.col("value").sum()).alias("cost")).sort(booked, owner, "_fee", nulls_last=True)
    return [(b, o, f, Decimal(c)) for b, o, f, c in summed.iter_rows()]


def _footed(found: list[tuple], net: Decimal | None, currency: str,
            gross: Decimal | None = None) -> list[dict]:
    """`found` (key, gross, fees, payout costs: exact) as shown: each rounded once, net =
    gross - fees and net_home = net - payout costs as shown. The items' gross add up to
    `gross` (the report's as shown; default their exact sum, rounded): ledger.core.money
    `footed`. With `net` (the report's net as shown, from its rounded lines) the few minor
    units the items' rounded net_home stray from it are put on payout costs (on the fees of
    an item with none): each where it leaves the shown figure nearest its exact value (an
    allocated 3,395.1488 takes it before an exact 832.50), so the items' net_home add up to
    `net` exactly."""
    from ledger.core.money import footed, format_money, minor_units, round_money

    grosses = footed([item[1] for item in found], currency, gross)
    shown = [[g, *(round_money(x, currency) for x in item[2:])]
             for g, item in zip(grosses, found, strict=True)]
    if net is not None and found:
        unit = Decimal(1).scaleb(-minor_units(currency))
        home = [g - f - c for g, f, c in shown]
        steps = int((net - sum(home, Decimal(0))) / unit)
        sign = 1 if steps > 0 else -1
        # an item with payout costs first: a cent put on none would show -0.01 of them
        column = [2 if item[3] or not item[2] else 1 for item in found]
        order = sorted(range(len(found)), key=lambda i: (
            found[i][3] == 0,
            abs(shown[i][column[i]] - sign * unit - found[i][1 + column[i]])))
        for step in range(abs(steps)):
            i = order[step % len(order)]
            shown[i][column[i]] -= sign * unit
    return [{"gross": format_money(g, currency), "fees": format_money(f, currency),
             "net": format_money(g - f, currency), "payout_costs": format_money(c, currency),
             "net_home": format_money(g - f - c, currency)} for g, f, c in shown]


def client_sums(valued: pl.DataFrame) -> pl.LazyFrame:
    """The earnings and refunds, `value` and `hours` summed per (counterparty, source, kind)
    (a null counterparty: no client): what by_client's gross and hours per client and
    by_platform's home platform per client are read from, one group_by of a year's rows for
    both. A plan."""
    import polars as pl

    return valued.lazy().filter(pl.col("kind").is_in(["earning", "refund"])).group_by(
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


def by_client(valued: pl.DataFrame, currency: str,
              client_hours: dict[str, float] | None = None,
              costs: pl.DataFrame | None = None, *,
              clients: pl.DataFrame | None = None, net: Decimal | None = None,
              gross: Decimal | None = None) -> list[dict]:
    """Per client: gross, the fees charged on their work (by counterparty or related_ref), net,
    paid hours (platform-billed, else from timesheets or ledger.toml: `hours.combine`), and
    the payout costs charged to their money (`costs`: ledger.counting.attribution.traced; a
    fee a transfer carried is a payout cost of whose money it moved, not a fee of its own
    counterparty). What no client's money explains (earnings without a counterparty, fees
    with none such as Connects, untraced money, expenses and other rows of no client) is the
    item with `client` null, so the items' net_home add up to the totals' net exactly (`net`:
    the report's, as shown; `_footed`), and their gross to its gross (`gross`). `clients`:
    `client_sums` of `valued`, when the caller has it (by_platform reads it too)."""
    import polars as pl

    earned = pl.col("kind").is_in(["earning", "refund"])
    fee = pl.col("kind").is_in(COST_FEES)
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
    per_client = clients.lazy().group_by(pl.col("counterparty").alias("client")).agg(
        pl.col("value").sum().alias("gross"), pl.col("hours").sum().alias("hours"))
    fees = _fee_clients(owners, named_fees, unnamed,
                        lambda: valued.get_column("counterparty").filter(part["named"]))
    charged = fees.lazy().group_by("client").agg((-pl.col("value").sum()).alias("fees"))
    rest = valued.lazy().select(
        (-pl.col("value").filter(pl.col("kind").is_in(OTHER)).sum()).alias("other"),
        (-pl.col("value").filter(pl.col("kind") == "fx").sum()).alias("fx"))
    joined, rest = pl.collect_all(
        [per_client.join(charged, on="client", how="full", coalesce=True, nulls_equal=True),
         rest], engine=engine_for(fees.height))  # a group_by of every fee
    sums: dict[str | None, list[Decimal]] = {}
    billed: dict[str | None, object] = {}
    for row in joined.iter_rows(named=True):
        sums[row["client"]] = [Decimal(row["gross"] or 0), Decimal(row["fees"] or 0),
                               Decimal(0)]
        billed[row["client"]] = row["hours"]
    other, fx = (Decimal(v or 0) for v in rest.row(0))
    if costs is None:  # no conversion traced: no client's
        if fx:
            sums.setdefault(None, [Decimal(0)] * 3)[2] += fx
    else:
        for own, owner, is_fee, cost in _moved(costs, "client_of", "client"):
            if is_fee:
                sums.setdefault(own, [Decimal(0)] * 3)[1] -= cost
            sums.setdefault(owner, [Decimal(0)] * 3)[2] += cost
    if other:
        sums.setdefault(None, [Decimal(0)] * 3)[1] += other
    found = sorted(((c, *line) for c, line in sums.items() if any(line) or billed.get(c)),
                   key=lambda item: (item[0] is None, -item[1], item[0] or ""))
    out = []
    shown_items = _footed(found, net, currency, gross)
    for (client, g, f, _), shown in zip(found, shown_items, strict=True):
        worked = (client_hours or {}).get(client, billed.get(client) or 0)  # type: ignore
        item = {"client": client, **shown, "hours": f"{_hours(worked):.2f}",
                "net_hourly": _per_hour(g - f, worked, currency)}
        out.append({k: item[k] for k in ("client", "gross", "fees", "net", "hours",
                                         "net_hourly", "payout_costs", "net_home")})
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
