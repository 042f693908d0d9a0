"""What each worker is owed and what they were paid: the earnings and units.csv lines each
split rule claims (with the checks that two rules on one earning need an order and may not take
more than 100%), and the ledger rows that paid a worker (by kind, counterparty or description).
All on counted rows (ledger.counting), exact to WORK places, in the rule's currency."""

from __future__ import annotations

import datetime as dt
import fnmatch
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError
from ledger.core.providers import platform
from ledger.payouts.record import PAYOUT_KIND
from ledger.payouts.record import known_worker as _known_worker
from ledger.payouts.rules import (
    CLAIMABLE,
    FEE_KINDS,
    NO_CONTRACT,
    PAYABLE_KINDS,
    WORK,
    Rules,
    Split,
    num,
    wlit,
    work,
)

if TYPE_CHECKING:
    from typing import TypeVar

    import polars as pl

    FrameT = TypeVar("FrameT", pl.DataFrame, pl.LazyFrame)

# --- units and manual payouts ----------------------------------------------------------------


def _units_schema() -> dict:
    import polars as pl

    return {"date": pl.Date(), "contract": pl.String(), "worker": pl.String(),
            "unit": pl.String(), "quantity": pl.Decimal(38, WORK), "line": pl.Int64()}


def read_units(rules: Rules) -> pl.DataFrame:
    """units.csv (date,contract,worker,unit,quantity): units each worker did, per contract."""
    import polars as pl

    path = rules.units_path
    if not path.exists():
        return pl.DataFrame(schema=_units_schema())
    try:
        raw = pl.read_csv(path, infer_schema=False, glob=False).with_row_index("line", offset=2)
    except pl.exceptions.PolarsError as exc:
        raise DataError(f"cannot read units: {str(exc).splitlines()[0]}", path=path,
                        hint="the file needs the header date,contract,worker,unit,quantity"
                        ) from None
    raw = raw.rename({c: c.strip().lower() for c in raw.columns})
    missing = sorted({"date", "contract", "worker", "unit", "quantity"} - set(raw.columns))
    if missing:
        raise DataError(f"units file lacks column(s) {missing}", path=path, line=1,
                        hint="the header must be date,contract,worker,unit,quantity "
                        "(e.g. 2024-06-05,Podcast transcription,Bilal,audio_hour,2.5)")
    text = pl.col("quantity").str.strip_chars()
    out = raw.select(
        pl.col("date").str.strip_chars().str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        pl.col("contract").str.strip_chars(), pl.col("worker").str.strip_chars(),
        pl.col("unit").str.strip_chars().str.to_lowercase(),
        pl.when(text.str.contains(r"^\d+(\.\d{1,8})?$")).then(text)
        .cast(pl.Decimal(38, WORK), strict=False).alias("quantity"),
        pl.col("line").cast(pl.Int64), pl.col("date").alias("_raw_date"),
        pl.col("quantity").alias("_raw_quantity"))
    bad = out.filter(pl.col("date").is_null() | pl.col("quantity").is_null()
                     | pl.col("worker").fill_null("").eq("") | pl.col("unit").fill_null("")
                     .eq("")).head(1)
    if bad.height:
        row = bad.row(0, named=True)
        raise DataError(f"bad units row (date {row['_raw_date']!r}, quantity "
                        f"{row['_raw_quantity']!r})", path=path, line=row["line"],
                        hint="each row is YYYY-MM-DD,CONTRACT,WORKER,UNIT,QUANTITY with a "
                        "quantity such as 2.5 (write 1:30 as 1.5)")
    return out.select("date", "contract", _known_worker(out, rules, path), "unit", "quantity",
                      "line")


# --- owed ------------------------------------------------------------------------------------


def _share_of(amount: pl.Expr, parts: int) -> pl.Expr:
    """amount / parts to WORK places, cut toward zero: the shares never add up to more than
    the amount, and the fraction of the last place stays with you."""
    import polars as pl

    step = wlit(Decimal(1).scaleb(-WORK))
    quotient = amount / wlit(parts)
    over = quotient * wlit(parts) - amount
    return (pl.when((amount >= 0) & (over > 0)).then(quotient - step)
            .when((amount < 0) & (over < 0)).then(quotient + step).otherwise(quotient))


def _glob(frame: pl.DataFrame, column: str, pattern: str | None) -> pl.Expr:
    """Rows whose `column` matches the glob (case-insensitive), tested once per distinct value."""
    import polars as pl

    if pattern is None:
        return pl.lit(True)
    wanted = pattern.casefold()
    values = [v for v in frame[column].unique().to_list()
              if v is not None and fnmatch.fnmatchcase(v.casefold(), wanted)]
    return pl.col(column).is_in(values).fill_null(False)


def _dates(split: Split) -> pl.Expr:
    import polars as pl

    expr = pl.lit(True)
    if split.start:
        expr = expr & (pl.col("date") >= split.start)
    if split.until:
        expr = expr & (pl.col("date") < split.until)
    return expr


def claimable(counted: pl.DataFrame) -> pl.DataFrame:
    """`claimable_plan` collected (one collect)."""
    return claimable_plan(counted).collect(engine="in-memory")


def claimable_plan(counted: pl.DataFrame | pl.LazyFrame) -> pl.LazyFrame:
    """Earning and refund rows with what the rules match on: `_platform`, `_contract_text`
    (contract, else description), `key` (contract, else client: the per-contract line) and
    `net` (amount plus the fees tied to it by related_ref, in its currency). A plan."""
    import polars as pl

    counted = counted.lazy()
    link = pl.coalesce("ref", "id")
    earnings = counted.filter(pl.col("kind").is_in(CLAIMABLE)).with_columns(
        platform(pl.col("source")).alias("_platform"),
        pl.coalesce("contract", "description").alias("_contract_text"),
        pl.coalesce("contract", "counterparty", pl.lit(NO_CONTRACT)).alias("key"),
        link.alias("_link"))
    fees = counted.filter(pl.col("kind").is_in(FEE_KINDS) & pl.col("related_ref").is_not_null()
                          ).group_by("account", pl.col("related_ref").alias("_link"),
                                     "currency").agg(work(pl.col("amount")).sum().alias("_fees"))
    return earnings.join(fees, on=["account", "_link", "currency"], how="left",
                         maintain_order="left").with_columns(
        (work(pl.col("amount")) + pl.col("_fees").fill_null(wlit(0))).alias("net"))


ITEM_COLUMNS = ("worker", "split", "share", "date", "item", "account", "source", "line", "key",
                "title", "base", "quantity", "unit", "rate", "currency", "amount", "fx")


def _items_schema() -> dict:
    import polars as pl

    money = pl.Decimal(38, WORK)
    return {"worker": pl.String(), "split": pl.String(), "share": pl.String(),
            "date": pl.Date(), "item": pl.String(), "account": pl.String(),
            "source": pl.String(), "line": pl.Int64(), "key": pl.String(),
            "title": pl.String(), "base": money, "quantity": money, "unit": pl.String(),
            "rate": pl.String(), "currency": pl.String(), "amount": money, "fx": pl.String()}


def owed_items(rules: Rules, counted: pl.DataFrame, units: pl.DataFrame | None = None, *,
               warnings: list[str] | None = None, since: dt.date | None = None
               ) -> pl.DataFrame:
    """One row per (worker, earning or units line) a split rule claims, with what it owes in
    the rule's currency (`amount`, WORK places). Raises UsageError when two rules claim one
    earning without an order, or the shares of one earning exceed 100%. `warnings`: where a
    per-hour rule matches earnings from `since` on with no hours (owed nothing) is said."""
    import polars as pl

    schema = _items_schema()
    earnings = claimable(counted)
    units = units if units is not None else pl.DataFrame(schema=_units_schema())
    ordered = sorted(rules.splits, key=lambda s: (s.order if s.order is not None else 0,
                                                  s.index))
    closed: set[str] = set()
    claims: list[pl.LazyFrame] = []
    unit_claims: list[pl.DataFrame] = []
    parts: list[pl.DataFrame | pl.LazyFrame] = []
    for split in ordered:
        if split.share == "per_unit" and split.units == "file":
            part, claimed = _unit_items(split, units, earnings, rules)
            unit_claims.append(claimed.with_columns(pl.lit(split.index).alias("_split")))
            parts.append(part)
            continue
        mask = (_glob(earnings, "_platform", split.platform)
                & _glob(earnings, "counterparty", split.client)
                & _glob(earnings, "_contract_text", split.contract)
                & _glob(earnings, "category", split.category) & _dates(split))
        if closed:
            mask = mask & ~pl.col("id").is_in(list(closed))
        matched = earnings.filter(mask)
        if matched.is_empty():
            continue
        # plans: the claims are checked in one collect, the items concatenated in one more
        claims.append(matched.lazy().select("id", "date", "amount", "currency", "source",
                                            "line").with_columns(
            pl.lit(split.index).alias("_split")))
        if split.final:
            closed |= set(matched["id"].to_list())
        if split.share == "per_unit" and warnings is not None:
            warnings += _untimed(split, matched, rules, since)
        parts.append(_earning_items(split, matched.lazy(), rules))
    by_index = {s.index: s for s in rules.splits}
    _check_claims(claims, by_index, rules, "earning")
    _check_claims(unit_claims, by_index, rules, "units line")
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.lazy().select(list(schema)).cast(schema) for p in parts]).sort(
        "date", "worker", maintain_order=True).collect(engine="in-memory")


def _untimed(split: Split, matched: pl.DataFrame, rules: Rules, since: dt.date | None
             ) -> list[str]:
    """A warning when a per-hour rule (hours from the rows) matches earnings (from `since` on)
    that bill no hours, such as a fixed-price milestone or a bonus: they owe nothing."""
    import polars as pl

    untimed = matched.filter(pl.col("hours").is_null() & (pl.col("kind") == "earning")
                             & (pl.col("amount") > 0)
                             & (pl.col("date") >= since if since is not None else True))
    if untimed.is_empty():
        return []
    first = untimed.sort("date", "line").row(0, named=True)
    return [f"split {split.label} ({rules.where.name}:{split.line}) pays per hour, but "
            f"{untimed.height} earning(s) it matches bill no hours, so nothing is owed for "
            f"them (first: {first['date']}, {num(Decimal(first['amount']))} "
            f"{first['currency']}, {first['source']} line {first['line']}); narrow the rule "
            '(e.g. category = "hourly"), or count its hours in units.csv (units = "file")']


def _earning_items(split: Split, matched: pl.LazyFrame, rules: Rules) -> pl.LazyFrame:
    import polars as pl

    common = [pl.lit(split.label).alias("split"), pl.lit(split.share).alias("share"), "date",
              pl.col("id").alias("item"), "account", "source", "line", "key",
              pl.col("contract").alias("title"), pl.lit(split.fx).alias("fx")]
    if split.share in ("percent_of_gross", "percent_of_net", "equal_share"):
        gross = split.share == "percent_of_gross" or (split.share == "equal_share"
                                                      and split.basis == "gross")
        base = work(pl.col("amount")) if gross else pl.col("net")
        if split.share == "equal_share":
            amount = _share_of(base, split.parts)
            rate = f"1/{split.parts} of {'gross' if gross else 'net'}"
        else:
            amount = base * wlit(split.value / 100)
            rate = f"{num(split.value)}% of {'gross' if gross else 'net'}"
        frames = [matched.select(pl.lit(worker).alias("worker"), *common,
                                 base.alias("base"), pl.lit(None).alias("quantity"),
                                 pl.lit(None).alias("unit"), pl.lit(rate).alias("rate"),
                                 "currency", amount.alias("amount"))
                  for worker in split.workers]
        return pl.concat(frames)
    worker = split.workers[0]
    currency = split.currency or rules.workers[worker].currency
    if split.share == "per_job":
        jobs = matched.filter((pl.col("kind") == "earning") & (pl.col("amount") > 0))
        return jobs.select(pl.lit(worker).alias("worker"), *common, pl.lit(None).alias("base"),
                           wlit(1).alias("quantity"), pl.lit("job").alias("unit"),
                           pl.lit(f"{num(split.value)} {currency} per job").alias("rate"),
                           pl.lit(currency).alias("currency"), wlit(split.value).alias("amount"))
    # per_unit, hours from the rows, to the minute
    timed = matched.filter(pl.col("hours").is_not_null())
    minutes = work((pl.col("hours") * 60).round(0).cast(pl.Int64))
    return timed.select(pl.lit(worker).alias("worker"), *common, pl.lit(None).alias("base"),
                        (minutes / wlit(60)).alias("quantity"), pl.lit(split.unit).alias("unit"),
                        pl.lit(f"{num(split.value)} {currency} per {split.unit}").alias("rate"),
                        pl.lit(currency).alias("currency"),
                        _share_of(minutes * wlit(split.value), 60).alias("amount"))


def _unit_items(split: Split, units: pl.DataFrame, earnings: pl.DataFrame, rules: Rules
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Owed from units.csv lines; each is attributed to the contract of the earnings the rule's
    selectors match when they have one, else to the contract the line names."""
    import polars as pl

    related = earnings.filter(_glob(earnings, "counterparty", split.client)
                              & _glob(earnings, "_contract_text", split.contract)
                              & _dates(split))
    if not rules.units_path.exists() and not related.is_empty():
        # only an earning the rule matches needs valuing: README's example, pasted before
        # there is any such work, must not stop every payouts command for want of units.csv
        raise UsageError(f"split {split.label}: per_unit {split.unit} needs units from "
                         f"{rules.units_path.name}, which does not exist", path=rules.where,
                         line=split.line, hint=f"create {rules.units_path} with the header "
                         "date,contract,worker,unit,quantity")
    worker = split.workers[0]
    mine = units.filter((pl.col("worker") == worker) & (pl.col("unit") == split.unit)
                        & _glob(units, "contract", split.contract) & _dates(split))
    keys = related["key"].unique().to_list()
    key = pl.lit(keys[0]) if len(keys) == 1 else pl.col("contract")
    currency = split.currency or rules.workers[worker].currency
    items = mine.select(
        pl.lit(worker).alias("worker"), pl.lit(split.label).alias("split"),
        pl.lit(split.share).alias("share"), "date",
        (pl.lit("units:") + pl.col("line").cast(pl.String)).alias("item"),
        pl.lit("units").alias("account"), pl.lit(rules.units_path.name).alias("source"), "line",
        key.alias("key"), pl.col("contract").alias("title"), pl.lit(split.fx).alias("fx"),
        pl.lit(None).alias("base"), "quantity", pl.lit(split.unit).alias("unit"),
        pl.lit(f"{num(split.value)} {currency} per {split.unit}").alias("rate"),
        pl.lit(currency).alias("currency"),
        (pl.col("quantity") * wlit(split.value)).alias("amount"))
    claimed = mine.select((pl.lit("units:") + pl.col("line").cast(pl.String)).alias("id"),
                          "date", pl.col("quantity").alias("amount"),
                          pl.col("unit").alias("currency"),
                          pl.lit(rules.units_path.name).alias("source"), "line")
    return items, claimed


def unpaid_units(units: pl.DataFrame, items: pl.DataFrame, rules: Rules,
                 since: dt.date | None = None) -> list[str]:
    """A warning for the units.csv lines (from `since` to the period's end) no per_unit rule
    pays: a line with another unit, or a contract or day no rule of the worker's matches, is
    owed nothing (it may log work paid otherwise, so it is no error, but never passed over
    silently): how many, the first by its line, and the worker's rules that read the file."""
    import polars as pl

    if since is not None:
        units = units.filter(pl.col("date") >= since)
    if units.is_empty():
        return []
    paid = items.filter(pl.col("account") == "units").select("line")
    unpaid = units.join(paid, on="line", how="anti").sort("line")
    if unpaid.is_empty():
        return []
    row = unpaid.row(0, named=True)
    worker = row["worker"]
    theirs = [s for s in rules.splits if s.share == "per_unit" and s.units == "file"
              and worker in s.workers]
    pays = "; ".join(
        f"split {s.label} ({rules.where.name}:{s.line}) pays {s.unit}"
        + (f" on contracts {s.contract!r}" if s.contract else "")
        + (f" from {s.start}" if s.start else "") + (f" until {s.until}" if s.until else "")
        for s in theirs) or f"no rule pays {worker} per unit"
    return [f"{unpaid.height} {rules.units_path.name} line(s) no per_unit rule pays, so "
            f"nothing is owed for them (first: line {row['line']}, {worker}'s "
            f"{num(row['quantity'])} {row['unit']} on {row['contract']!r}, {row['date']}; "
            f"{pays}); fix the line's unit, contract or worker, or add a [[splits]] rule "
            "that pays it"]


def _check_claims(claims: list[pl.DataFrame] | list[pl.LazyFrame], splits: dict[int, Split],
                  rules: Rules, what: str) -> None:
    """Two rules on one earning need their own orders; their shares may not exceed 100%."""
    import polars as pl

    if not claims:
        return
    every = pl.concat([c.lazy().with_columns(pl.col("amount").cast(pl.String)) for c in claims])

    def described(item_id: str) -> str:
        row = every.filter(pl.col("id") == item_id).collect(engine="in-memory").row(
            0, named=True)
        return (f"the {what} of {row['date']} ({num(Decimal(row['amount']))} "
                f"{row['currency']}, {row['source']} line {row['line']})")

    shared = every.group_by("id").agg(pl.col("_split").unique().sort()).filter(
        pl.col("_split").list.len() > 1).sort("id")
    percent = {i: s.percent for i, s in splits.items()}
    taken = every.with_columns(pl.col("_split").replace_strict(
        {i: str(p) for i, p in percent.items()}, return_dtype=pl.String).cast(
        pl.Decimal(38, WORK)).alias("_percent")).group_by("id").agg(
        pl.col("_percent").sum(), pl.col("_split").unique().sort()).filter(
        pl.col("_percent") > wlit(100)).sort("id")
    # both checks in one collect (the shares only of earnings); the shared claims first
    shared, *taken_found = pl.collect_all([shared, *([taken] if what == "earning" else [])],
                                          engine="in-memory")
    for item_id, indexes in shared.iter_rows():
        on = [splits[i] for i in indexes]
        orders = [s.order for s in on]
        if None in orders or len(set(orders)) != len(orders):
            a, b = (on[0], on[1]) if None not in orders else \
                sorted(on, key=lambda s: s.order is not None)[:2]
            why = "without an order each" if None in orders else \
                f"with the same order {a.order}"
            raise UsageError(
                f"split {a.label} and split {b.label} both claim {described(item_id)} {why}",
                path=rules.where, line=a.line,
                hint="give each its own order (all apply, lowest first; final = true keeps "
                "later rules off), or narrow their platform, client, contract or dates")
    if what != "earning":
        return
    taken = taken_found[0]
    if taken.height:
        item_id, total, indexes = taken.row(0)
        # the rules that take a share (a fixed amount, per job or unit, takes none: "0%")
        sharing = [i for i in indexes if percent[i] > 0]
        names = " and ".join(f"split {splits[i].label} ({num(percent[i])}%)" for i in sharing)
        raise UsageError(f"{names} take {num(Decimal(total))}% of {described(item_id)}: more "
                         "than 100%", path=rules.where, line=splits[sharing[0]].line,
                         hint="the shares of one earning may add up to at most 100%")


# --- paid ------------------------------------------------------------------------------------


def _word(alias: str) -> str:
    """A regex (Rust and Python) for the alias as a whole word, case-insensitive."""
    body = "".join(ch if ch.isalnum() else ("\\s+" if ch == " " else f"\\x{{{ord(ch):X}}}")
                   for ch in alias.casefold())
    return f"(?:^|[^\\w]){body}(?:[^\\w]|$)"


def _maybe_payment() -> pl.Expr:
    """The rows `match_payments` could call a payment (a payout row, or an outgoing transfer,
    `other` or `expense` row not from payouts.csv): a superset of its payments, so filtering
    on it first leaves the string tests a fifth of a ledger's rows."""
    import polars as pl

    return (pl.col("kind") == PAYOUT_KIND) | ((pl.col("amount") < 0) & pl.col("kind").is_in(
        PAYABLE_KINDS) & (pl.col("origin") != "manual"))


def match_payments(rows: FrameT, rules: Rules) -> FrameT:
    """`rows` with `_worker` (who a payment went to, or null) and `_matched_by` (kind,
    counterparty, description, manual; `ambiguous` when it names several workers, `unknown`
    for a payout row naming none; null for rows that are not payouts). A frame or a plan
    (then a plan: the caller's next steps join it, one collect). Each worker's tests are
    columns first, which the choice of worker and of how then read: written as one
    expression, each test was evaluated again in every branch (3x the time)."""
    import polars as pl

    outgoing = (pl.col("amount") < 0) & pl.col("kind").is_in(PAYABLE_KINDS) \
        & (pl.col("origin") != "manual")
    tagged = pl.col("kind") == PAYOUT_KIND
    counterparty = pl.col("counterparty").str.strip_chars().str.to_lowercase()
    description = pl.col("description").str.to_lowercase()
    by_cp, by_desc = [], []
    for index, worker in enumerate(rules.workers.values()):
        names = sorted({a.casefold() for a in (worker.name, *worker.aliases)})
        by_cp.append(counterparty.is_in(names).fill_null(False).alias(f"_cp{index}"))
        if worker.aliases:
            pattern = "(?i)" + "|".join(_word(a) for a in worker.aliases)
            by_desc.append(description.str.contains(pattern).fill_null(False)
                           .alias(f"_desc{index}"))
        else:
            by_desc.append(pl.lit(False).alias(f"_desc{index}"))
    if not by_cp:
        return rows.with_columns(pl.lit(None, dtype=pl.String).alias("_worker"),
                                 pl.when(tagged).then(pl.lit("unknown")).otherwise(None)
                                 .alias("_matched_by"))
    names = list(rules.workers)
    cp_cols = [e.meta.output_name() for e in by_cp]
    desc_cols = [e.meta.output_name() for e in by_desc]
    staged = rows.with_columns(*by_cp, *by_desc).with_columns(
        pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in cp_cols]).alias("_cp_hits"),
        pl.sum_horizontal([pl.col(c).cast(pl.Int32) for c in desc_cols]).alias("_desc_hits"))
    cp_hits, desc_hits = pl.col("_cp_hits"), pl.col("_desc_hits")

    def first(hits: list[str]) -> pl.Expr:
        expr = pl.lit(None, dtype=pl.String)
        for name, hit in reversed(list(zip(names, hits, strict=True))):
            expr = pl.when(pl.col(hit)).then(pl.lit(name)).otherwise(expr)
        return expr

    manual = pl.col("origin") == "manual"
    worker = (pl.when(manual).then(pl.col("counterparty"))
              .when(cp_hits == 1).then(first(cp_cols))
              .when((cp_hits == 0) & (desc_hits == 1)).then(first(desc_cols))
              .otherwise(None))
    how = (pl.when(manual).then(pl.lit("manual"))
           .when(cp_hits == 1).then(pl.lit("counterparty"))
           .when((cp_hits == 0) & (desc_hits == 1)).then(pl.lit("description"))
           .when((cp_hits > 1) | (desc_hits > 1)).then(pl.lit("ambiguous"))
           .otherwise(pl.lit("unknown")))
    is_payment = tagged | (outgoing & ((cp_hits > 0) | (desc_hits > 0)))
    return staged.with_columns(
        pl.when(is_payment).then(worker).otherwise(None).alias("_worker"),
        pl.when(is_payment).then(
            pl.when(tagged & how.is_in(["counterparty", "description"]))
            .then(pl.lit("kind, ") + how).otherwise(how)).otherwise(None).alias("_matched_by")
    ).drop(*cp_cols, *desc_cols, "_cp_hits", "_desc_hits")


def reclassify(rows: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Outgoing rows that paid a worker become `subcontractor_payout` (same columns), and a
    fee naming a worker as its counterparty (Wise's fee for sending them money) names
    nobody: a worker is no client, so the report's By client keeps it with the costs of no
    client's money, where the payouts' contract table has it (no contract's)."""
    import polars as pl

    if not rules.workers or rows.is_empty():
        return rows
    matched = match_payments(rows.lazy(), rules)  # one plan: matched, then the kinds
    payout = pl.col("_matched_by").is_not_null() & (pl.col("kind") != PAYOUT_KIND)
    kind = pl.when(payout).then(pl.lit(PAYOUT_KIND)).otherwise(pl.col("kind").cast(pl.String))
    names = sorted({a.casefold() for w in rules.workers.values() for a in (w.name, *w.aliases)})
    worker_fee = pl.col("kind").cast(pl.String).is_in([*FEE_KINDS, "bank_fee"]) & pl.col(
        "counterparty").str.strip_chars().str.to_lowercase().is_in(names).fill_null(False)
    return matched.with_columns(
        kind.cast(rows.schema["kind"]).alias("kind"),
        pl.when(worker_fee).then(None).otherwise(pl.col("counterparty")).alias("counterparty")
    ).select(rows.columns).collect(engine="in-memory")


def payments(rows: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Every payout row (matched or not): date, worker, paid (positive), currency, matched_by,
    account, source, ref, line, id, origin."""
    import polars as pl

    matched = match_payments(rows.lazy().filter(_maybe_payment()), rules).filter(
        pl.col("_matched_by").is_not_null())
    return matched.select("date", pl.col("_worker").alias("worker"),
                          (-pl.col("amount")).alias("paid"), "currency",
                          pl.col("_matched_by").alias("matched_by"), "account", "source", "ref",
                          "line", "id", "origin", "kind").collect(engine="in-memory")
