"""Payoneer's links (importers.payoneer): a fee to the row it was charged on, and the two legs
of a conversion to each other (`related_ref`), and whether a row's Reference ID is explained
by a link (`_reference_used`, else the description keeps it as a tag).

A fee names the row it charged by a Reference ID (that row's Transaction ID, or a Reference ID
both share), else it is the one other row at its date and time; a conversion's legs are the
two fx rows at one date and time, opposite signs, different currencies. In one file, rows that
sit next to each other are paired from their neighbours (no join over the fee rows); rows
apart, fees naming Reference IDs and stacked files go through the joins and grouping.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from importers.payoneer_kinds import kind_is as _kind_is
from importers.readers import LINE

if TYPE_CHECKING:
    import polars as pl


def _link(df: pl.DataFrame, by: list[str] | None = None, booked: pl.Expr | None = None,
          aside: dict[str, pl.Series] | None = None) -> pl.DataFrame:
    """Fill `related_ref`: fees -> what they charged, fx legs -> each other.

    Also sets `_reference_used`: the row's Reference ID is explained by a link. Works on the
    fee and fx rows only and joins the result back by line, so it stays cheap on big files.
    `by`: columns telling files apart (stacked files link within each file only).
    `booked`: only the rows where it holds are linked, and linked to (no link on the others).
    `aside`: where given with `booked` (one file), `related_ref` is put there, not in `df`:
    made of the booked rows alone, in their order (the rows payoneer._booked_rows keeps),
    not made for every row and then copied without the others.
    """
    import polars as pl

    by = by or []
    is_fee, fee, fx = _kind_is("payment_fee"), _kind_is("payment_fee"), _kind_is("fx")
    if booked is not None:
        fee, fx = fee & booked, fx & booked
    # each link's row: its file and line (joined back), or in one file its position (the
    # links written at their places: no join nor search of a million lines), numbered once
    # (in a plan, each query's scan numbered every row again)
    at = LINE if by else "_row"
    rows = (df if by else df.with_row_index("_row")).lazy()  # filters then read only the
    # columns selected after them
    fees = rows.filter(fee).select(*by, at, "reference_id", "_ts").collect()
    linked = ~is_fee & pl.col("ref").is_not_null() \
        & (True if booked is None else booked)  # (what a fee may be linked to)
    main = rows.filter(linked).select(  # lazy: only the few
        *by, *([] if by else [at]), "ref", "reference_id", "_ts", "amount",  # rows linked
        fx.alias("_fx"))  # are held
    if by:
        wanted = fees.select(*by, "reference_id").drop_nulls().unique().lazy()
        by_id = main.join(wanted, left_on=[*by, "ref"], right_on=[*by, "reference_id"],
                          how="semi")
        by_shared = main.join(wanted, on=[*by, "reference_id"], how="semi")
        near = main.join(fees.select(*by, "_ts").unique().lazy(), on=[*by, "_ts"], how="semi")
    else:
        wanted = fees["reference_id"].drop_nulls().unique()
        by_id = main.filter(pl.col("ref").is_in(wanted.implode()))
        by_shared = main.filter(pl.col("reference_id").is_in(wanted.implode()))
        near = main.filter(pl.col("_ts").is_in(fees["_ts"].unique().implode()))
        if not wanted.len():  # no fee names a Reference ID: nothing is found by one (two
            by_id, by_shared = by_id.clear(), by_shared.clear()  # passes over the rows less)
    by_id, by_shared, near = pl.collect_all([by_id, by_shared, near])
    if not by and not by_id.height and not by_shared.height:  # (the usual: by time alone)
        fee_links = fees.select(at, _by_time_at(fees, near, df, linked).alias("_link"),
                                pl.lit(False).alias("_reference_used"))
    else:
        # A fee naming another row's Transaction ID, or sharing its Reference ID.
        by_id = (by_id.select(*by, pl.col("ref").alias("reference_id"),
                              pl.col("ref").alias("_by_id"))
                 .unique([*by, "reference_id"], keep="none"))
        by_shared = (by_shared.select(*by, "reference_id", pl.col("ref").alias("_by_shared"))
                     .unique([*by, "reference_id"], keep="none"))
        by_time = _by_time(near, by)
        fee_links = (fees.join(by_id, on=[*by, "reference_id"], how="left")
                     .join(by_shared, on=[*by, "reference_id"], how="left")
                     .join(by_time, on=[*by, "_ts"], how="left")
                     .select(*by, at,
                             pl.coalesce("_by_id", "_by_shared", "_by_time").alias("_link"),
                             (pl.col("_by_id").is_not_null() | pl.col("_by_shared").is_not_null())
                             .alias("_reference_used")))
    # fx legs: exactly two at one timestamp, opposite signs, different currencies.
    fx_rows = rows.filter(fx & pl.col("ref").is_not_null()).select(
        *by, at, "_ts", "ref", "amount", "currency").collect()
    fx_links = None if by else _adjacent_pairs(fx_rows, at)
    if fx_links is None:
        # (a pair's two refs as two columns, not a list per timestamp)
        pairs = fx_rows.group_by([*by, "_ts"], maintain_order=bool(by)).agg(
            pl.len().alias("_legs"), pl.col("ref").first().alias("_first"),
            pl.col("ref").last().alias("_second"), pl.col("amount").sign().sum().alias("_signs"),
            pl.col("currency").first().alias("_from"), pl.col("currency").last().alias("_to"))
        # (of two legs, two currencies: the first's and the last's differ, a null one too)
        pairs = pairs.filter((pl.col("_legs") == 2) & (pl.col("_signs") == 0)
                             & pl.col("_from").ne_missing(pl.col("_to"))
                             ).select(*by, "_ts", "_first", "_second")
        first, second = pl.col("_first"), pl.col("_second")
        fx_links = (fx_rows.join(pairs, on=[*by, "_ts"], how="inner")
                    .select(*by, at, pl.when(first == pl.col("ref")).then(second)
                            .otherwise(first).alias("_link"),
                            pl.lit(False).alias("_reference_used")))
    links = pl.concat([fee_links, fx_links])  # one row per (file,) line at most
    if not by and not df.height:
        return df.with_columns(related_ref=pl.lit(None, dtype=pl.String),
                               _reference_used=pl.lit(False))
    if not by:
        used = pl.Series("_reference_used", [False]).extend_constant(False, df.height - 1) \
            .scatter(links[at], links["_reference_used"])
        rows, height = links[at], df.height
        if booked is not None and aside is not None:  # each link's row among the booked:
            # its position less the rows before it that are not (a few)
            left = df.select(~booked.fill_null(False)).to_series().arg_true()
            rows, height = rows - left.search_sorted(rows), height - left.len()
        related = pl.Series("related_ref", [], dtype=pl.String).extend_constant(None, height) \
            .scatter(rows, links["_link"])
        if height != df.height:
            aside["related_ref"] = related
            return df.with_columns(used)
        return df.with_columns(related, used)
    # only the keys joined, the found columns added: a join of the wide frame copies it all
    found = df.select(*by, LINE).join(links, on=[*by, LINE], how="left", maintain_order="left")
    return df.with_columns(related_ref=found["_link"],
                           _reference_used=found["_reference_used"].fill_null(False))


def _by_time_at(fees: pl.DataFrame, near: pl.DataFrame, df: pl.DataFrame,
                main: pl.Expr) -> pl.Series:
    """What `_by_time(near, [])` gives at each fee's timestamp (null where nothing): `fees`
    with their positions in `df` (`_row`), `near` the rows of `df` where `main` holds at the
    fees' timestamps. Where no two of those share a timestamp, a fee's is the one at its time
    just before or after it in the file if that is one of them (then it is the only one): no
    join of a hundred thousand rows (0.02 s of CPU on a million); the others joined."""
    import polars as pl

    if not near.height or near["_ts"].n_unique() != near.height:  # (the ranking's)
        return fees.join(_by_time(near, []), on="_ts", how="left",
                         maintain_order="left")["_by_time"]
    last = df.height - 1
    row, ts = pl.col("_row"), pl.col("_ts")
    sides = fees.select(row, ts, pl.when(row > 0).then(row - 1).otherwise(0).alias("_b"),
                        (row + 1).clip(upper_bound=last).alias("_a"))
    index = None
    for side in ("_b", "_a"):
        at = sides[side]
        there = df.select(pl.col("_ts", "ref").gather(at), main.gather(at).alias("_main"))
        hit = (there["_main"] & (there["_ts"] == sides["_ts"])).fill_null(False)
        found = there["ref"].zip_with(hit, pl.Series([None], dtype=pl.String))
        index = found if index is None else index.fill_null(found)
    link = index.alias("_by_time")
    rest = (link.is_null() & sides["_ts"].is_not_null()).fill_null(False)
    if rest.any():  # a fee whose row is not next to it: looked for among the rows `near`
        where = rest.arg_true()
        times = sides["_ts"].gather(where)
        joined = fees.select("_ts").gather(where).join(
            near.filter(pl.col("_ts").is_in(times.implode()))
            .select("_ts", pl.col("ref").alias("_by_time")), on="_ts", how="left",
            maintain_order="left")
        link = link.scatter(where, joined["_by_time"])
    return link


def _adjacent_pairs(legs: pl.DataFrame, at: str) -> pl.DataFrame | None:
    """The fx links of `legs` (in file order) where the legs of each timestamp are next to
    each other (a conversion's two rows are written together): each leg of a group of two,
    of opposite signs and two currencies, linked to the other, read from its neighbours (no
    grouping nor join of the legs: 0.05 s of CPU on a million rows). None where a timestamp's
    legs are apart: then `_link` groups them. The same links as grouping
    (tests/test_payoneer_pairs.py): a pair's first and last legs are its two rows."""
    import polars as pl

    ts = legs["_ts"]
    row = pl.int_range(pl.len())
    same = legs.select(((row > 0) & pl.col("_ts").eq_missing(pl.col("_ts").shift(1)))
                       .alias("same")).to_series()  # as the row before
    if legs.height - same.sum() != ts.n_unique():  # a timestamp in two runs
        return None

    def before(n: int) -> pl.Expr:  # whether row - n + 1 continues row - n's run
        return pl.col("_same").shift(n - 1, fill_value=False)

    def after(n: int) -> pl.Expr:
        return pl.col("_same").shift(-n, fill_value=False)

    # the first of a run of two, and the second
    first = ~before(1) & after(1) & ~after(2)
    second = before(1) & ~before(2) & ~after(1)
    sign = pl.col("amount").sign().fill_null(0)
    currency = pl.col("currency")
    pair = (first & (sign + sign.shift(-1) == 0) & currency.ne_missing(currency.shift(-1)))
    pair = pair.fill_null(False)
    return legs.with_columns(_same=same).with_columns(_pair=pair).select(
        at, pl.when(pl.col("_pair")).then(pl.col("ref").shift(-1))
        .when(second & pl.col("_pair").shift(1, fill_value=False)).then(pl.col("ref").shift(1))
        .alias("_link"), pl.lit(False).alias("_reference_used")
    ).filter(pl.col("_link").is_not_null())


def _by_time(near: pl.DataFrame, by: list[str], alone: bool = True) -> pl.DataFrame:
    """The one row at each fee's timestamp (`_ts`, `_by_time`: its ref) among the rows `near`
    it, preferring a non-fx row, then a debit fx leg; none where that leaves several. Where
    no two rows share a timestamp (and `alone`), each is its timestamp's: no ranking."""
    import polars as pl

    if alone and not by and near["_ts"].n_unique() == near.height:
        return near.select("_ts", pl.col("ref").alias("_by_time"))
    near = near.with_columns(
        _rank=pl.col("_fx").cast(pl.Int8) * 2 + (pl.col("amount") >= 0).cast(pl.Int8))
    return (near.filter(pl.col("_rank") == pl.col("_rank").min().over([*by, "_ts"]))
            .select(*by, "_ts", pl.col("ref").alias("_by_time"))
            .unique([*by, "_ts"], keep="none"))
