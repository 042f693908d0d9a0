"""Reconcile the payout chain: platform -> wallet -> bank, hop by hop, with what went missing.

A *hop* is one transfer out of one of the user's accounts (a platform or wallet withdrawal,
kind `transfer`, negative) matched with the credit(s) it became on another of the user's
accounts (a wallet receipt or a bank credit, kind `transfer`, positive). Hops whose arrival
is the next hop's departure (what landed in Payoneer is what Payoneer sent on) form a
*chain*. Every hop shows a waterfall in its sending currency: withdrawal and wallet fees
(fee rows next to the transfers), the FX spread against the reference rate (rules.fx), bank
and intermediary deductions (sent minus credited), tax, and what arrived; the parts add up to
what left the account exactly (the spread, or the deduction, is the measured remainder).

Matching is vectorised polars: each withdrawal is joined to the credits of the following
`window_days` of its provider, kept where the amount agrees (same currency: at most
`max_shortfall` less arrived; another currency: within `tolerance` of the reference rate, or
of the `[delivered ...]` amount the export states), and linked only when the pair is
mutually unique (or a reference ties them). Two candidates of the same amount on nearby dates
are never guessed: they are listed as ambiguous, for `ledger reconcile link OUT IN`. The
user's links and unlinks live in `<ledger>/links.json`, by row id (stable across rebuilds).
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.errors import DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Callable

    import polars as pl

    from ledger.store import Ledger

SCHEMA = "ledger.reconcile/1"
LINKS_FILE = "links.json"
PLATFORMS = ("upwork", "fiverr", "freelancer")
WALLETS = ("payoneer", "paypal", "wise")
BANK_FORMATS = ("ofx", "camt053", "mt940")
DEFAULT_WINDOW_DAYS = {
    # calendar days from the withdrawal to the credit, the providers' stated delays plus a
    # weekend: Upwork direct to local bank 3-5 business days (to Payoneer/PayPal 1-2);
    # Fiverr 2 weeks clearing is before the withdrawal, then 2-7 days; Payoneer to a local
    # bank 1-3 business days; PayPal to a bank 3-7 business days; Wise 1-2 business days.
    "upwork": 7, "fiverr": 7, "freelancer": 7, "payoneer": 5, "paypal": 7, "wise": 4,
}
DEFAULT_DAYS = 7
TOLERANCE = Decimal("0.03")
MAX_SHORTFALL = Decimal("0.10")
MAX_SPLIT_PARTS = 4
"""A withdrawal may arrive in up to this many credits on one account (`max_split_parts`)."""
SPLIT_CANDIDATES = 12
"""Credits a withdrawal may split into, per account: beyond this, sets of parts are not tried
(C(12, 4) = 495 sets of four; a withdrawal with more look-alike credits is settled by links)."""
HOP_COSTS = ("platform_fee", "withdrawal_fee", "wallet_fees", "fx_spread", "bank_deductions",
             "tax")
"""Waterfall lines of a hop, in order; `arrived` is what is left."""
NEXT_HOP_DAYS = 31
"""A wallet's withdrawal continues a chain when it leaves within this many days of arriving."""
Q = Decimal("0.00000001")


@dataclass(frozen=True)
class Settings:
    window_days: dict[str, int]
    tolerance: Decimal = TOLERANCE
    max_shortfall: Decimal = MAX_SHORTFALL
    max_split_parts: int = MAX_SPLIT_PARTS

    def days(self, provider: str) -> int:
        return self.window_days.get(provider, DEFAULT_DAYS)


def settings(config: dict, where: str = "ledger.toml") -> Settings:
    """`[reconcile]` in ledger.toml: window_days = {upwork = 5, ...}, tolerance, max_shortfall,
    max_split_parts."""
    table = config.get("reconcile") or {}
    if not isinstance(table, dict):
        raise UsageError("[reconcile] must be a table", path=where,
                         hint='e.g. [reconcile]\nwindow_days = {upwork = 5, payoneer = 3}')
    unknown = sorted(set(table) - {"window_days", "tolerance", "max_shortfall",
                                   "max_split_parts"})
    if unknown:
        raise UsageError(f"unknown [reconcile] setting(s) {unknown}", path=where,
                         hint="settings: window_days, tolerance, max_shortfall, "
                         "max_split_parts")
    parts = table.get("max_split_parts", MAX_SPLIT_PARTS)
    if not isinstance(parts, int) or isinstance(parts, bool) or not 1 <= parts <= 6:
        raise UsageError(f"[reconcile] max_split_parts = {parts!r} is not a whole number "
                         "from 1 to 6", path=where,
                         hint="e.g. max_split_parts = 3 (1: a withdrawal never splits)")
    days = dict(DEFAULT_WINDOW_DAYS)
    given = table.get("window_days", {})
    if not isinstance(given, dict):
        raise UsageError("[reconcile] window_days must be a table", path=where,
                         hint="e.g. window_days = {upwork = 5, payoneer = 3}")
    for name, value in given.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= 90:
            raise UsageError(f"[reconcile] window_days.{name} = {value!r} is not a whole "
                             "number of days from 0 to 90", path=where,
                             hint=f"e.g. window_days = {{{name} = 5}}")
        days[str(name).lower()] = value

    def fraction(name: str, default: Decimal) -> Decimal:
        value = table.get(name)
        if value is None:
            return default
        try:
            number = Decimal(str(value))
        except ArithmeticError:
            number = Decimal(-1)
        if not Decimal(0) <= number < Decimal(1) or isinstance(value, bool):
            raise UsageError(f"[reconcile] {name} = {value!r} is not a fraction from 0 to 1",
                             path=where, hint=f'e.g. {name} = "0.03" (3%)')
        return number

    return Settings(days, fraction("tolerance", TOLERANCE),
                    fraction("max_shortfall", MAX_SHORTFALL), parts)


# --- user links ----------------------------------------------------------------------------


def load_links(ledger: Ledger) -> dict[str, list[list[str]]]:
    """links.json: {"links": [[out_id, in_id], ...], "unlinks": [[out_id, in_id], ...]}."""
    path = ledger.root / LINKS_FILE
    if not path.exists():
        return {"links": [], "unlinks": []}
    try:
        data = json.loads(path.read_text("utf-8"))
        links = [[str(a), str(b)] for a, b in data.get("links", [])]
        unlinks = [[str(a), str(b)] for a, b in data.get("unlinks", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"cannot read the reconcile links: {exc}", path=path,
                        hint="fix or delete the file (it only holds `ledger reconcile link` "
                        "decisions)") from None
    return {"links": links, "unlinks": unlinks}


def _save_links(ledger: Ledger, data: dict) -> None:
    from ledger.store import atomic_write_bytes

    body = {"schema": "ledger.links/1", "links": sorted(data["links"]),
            "unlinks": sorted(data["unlinks"])}
    atomic_write_bytes(ledger.root / LINKS_FILE,
                       (json.dumps(body, indent=2) + "\n").encode("utf-8"))


def resolve_id(rows: pl.DataFrame, text: str) -> dict:
    """The transfer row whose id is `text` or starts with it (unique prefix)."""
    import polars as pl

    key = text.strip().lower()
    if len(key) < 4:
        raise UsageError(f"row id {text!r} is too short", hint="give at least 4 characters "
                         "of an id shown by `ledger reconcile` or `ledger transactions`")
    found = rows.filter(pl.col("id").str.starts_with(key))
    if found.is_empty():
        raise UsageError(f"no row id starts with {text!r}",
                         hint="ids are shown by `ledger reconcile --format json`")
    if found.height > 1:
        raise UsageError(f"{text!r} matches {found.height} rows "
                         f"({', '.join(found['id'].head(3).to_list())}...)",
                         hint="give more characters of the id")
    row = found.row(0, named=True)
    if row["kind"] != "transfer":
        raise UsageError(f"row {row['id']} is a {row['kind']}, not a transfer",
                         hint="only transfers between your accounts are linked")
    return row


def _pair(ledger: Ledger, a: str, b: str) -> tuple[str, str]:
    rows = ledger.rows()
    first, second = resolve_id(rows, a), resolve_id(rows, b)
    if (first["amount"] < 0) == (second["amount"] < 0):
        raise UsageError("link one withdrawal (negative) with one credit (positive)",
                         hint=f"{first['id']} is {first['amount']}, {second['id']} is "
                         f"{second['amount']}")
    if first["account"] == second["account"]:
        raise UsageError(f"both rows are on the account {first['account']}",
                         hint="a hop goes from one of your accounts to another")
    out, into = (first, second) if first["amount"] < 0 else (second, first)
    return out["id"], into["id"]


def link(ledger: Ledger, a: str, b: str) -> dict:
    """Record that withdrawal and credit are the same money (either order; id prefixes)."""
    return {"linked": _file_pair(ledger, a, b, into="links", out_of="unlinks")}


def unlink(ledger: Ledger, a: str, b: str) -> dict:
    """Undo a link, or forbid an automatic match of the two rows."""
    return {"unlinked": _file_pair(ledger, a, b, into="unlinks", out_of="links")}


def _file_pair(ledger: Ledger, a: str, b: str, *, into: str, out_of: str) -> list[str]:
    """Put the (withdrawal, credit) pair of rows `a` and `b` in links.json's `into` list
    and take it out of `out_of`, under the ledger's lock."""
    pair = list(_pair(ledger, a, b))
    with ledger.locked():
        data = load_links(ledger)
        data[out_of] = [p for p in data[out_of] if p != pair]
        if pair not in data[into]:
            data[into].append(pair)
        _save_links(ledger, data)
    return pair


# --- matching ------------------------------------------------------------------------------


def _role(source: pl.Expr) -> pl.Expr:
    import polars as pl

    provider = source.str.split(":").list.first()
    return (pl.when(provider.is_in(PLATFORMS)).then(pl.lit("platform"))
            .when(provider.is_in(WALLETS)).then(pl.lit("wallet"))
            .when(source.str.starts_with("bank:") | source.is_in(BANK_FORMATS))
            .then(pl.lit("bank")).otherwise(pl.lit(None, dtype=pl.String)))


def _legs(rows: pl.DataFrame, settings: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Withdrawals (out_*) and credits (in_*) between the user's accounts."""
    import polars as pl

    transfers = rows.filter(pl.col("kind") == "transfer").with_columns(
        _role(pl.col("source")).alias("role"),
        pl.col("source").str.split(":").list.first().alias("provider"))
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


def _fees(rows: pl.DataFrame, outs: pl.DataFrame, ins: pl.DataFrame) -> pl.DataFrame:
    """Fee, charge and tax rows that belong to a transfer: columns anchor (transfer id), line
    (waterfall line), fee (positive, in the transfer's currency). A fee belongs to the
    transfer whose ref its related_ref names, else to a transfer on the same account and day
    (withdrawal fees for withdrawals; bank charges and taxes for credits)."""
    import polars as pl

    costs = rows.filter(pl.col("kind").is_in(["platform_fee", "payment_fee", "bank_fee", "tax"])
                        & (pl.col("amount") < 0))
    empty = pl.DataFrame(schema={"anchor": pl.String, "line": pl.String,
                                 "fee": pl.Decimal(38, 4)})
    if costs.is_empty() or (outs.is_empty() and ins.is_empty()):
        return empty
    anchors = pl.concat([
        outs.select(pl.col("out_id").alias("anchor"), pl.col("out_account").alias("account"),
                    pl.col("out_date").alias("date"), pl.col("out_ref").alias("ref"),
                    pl.col("out_ccy").alias("currency"), pl.col("out_role").alias("role"),
                    pl.lit("out").alias("side")),
        ins.select(pl.col("in_id").alias("anchor"), pl.col("in_account").alias("account"),
                   pl.col("in_date").alias("date"), pl.col("in_ref").alias("ref"),
                   pl.col("in_ccy").alias("currency"), pl.col("in_role").alias("role"),
                   pl.lit("in").alias("side"))])
    costs = costs.select("id", "account", "date", "currency", "kind", "category",
                         "related_ref", (-pl.col("amount")).alias("fee"))
    by_ref = costs.filter(pl.col("related_ref").is_not_null()).join(
        anchors.filter(pl.col("ref").is_not_null()).rename({"ref": "related_ref"}),
        on=["account", "related_ref", "currency"], how="inner")
    rest = costs.join(by_ref.select("id"), on="id", how="anti").filter(
        pl.col("related_ref").is_null())  # a fee naming another row belongs to that row
    withdrawal = pl.col("category").fill_null("").str.contains("withdraw|transfer|payout")
    same_day = rest.join(anchors.sort("anchor").unique(["account", "date", "side"],
                                                        keep="first"),
                         on=["account", "date", "currency"], how="inner").filter(
        ((pl.col("side") == "out") & withdrawal & pl.col("kind").is_in(["payment_fee",
                                                                          "platform_fee"]))
        | ((pl.col("side") == "in") & pl.col("kind").is_in(["bank_fee", "tax"])))
    keep = ["id", "anchor", "kind", "category", "role", "side", "fee"]
    found = pl.concat([by_ref.select(keep), same_day.select(keep)]).unique("id", keep="first")
    line = (pl.when(pl.col("kind") == "platform_fee").then(pl.lit("platform_fee"))
            .when(pl.col("kind") == "tax").then(pl.lit("tax"))
            .when(pl.col("kind") == "bank_fee").then(pl.lit("bank_deductions"))
            .when((pl.col("side") == "out") & ((pl.col("role") == "platform") | withdrawal))
            .then(pl.lit("withdrawal_fee")).otherwise(pl.lit("wallet_fees")))
    return found.select("anchor", line.alias("line"), pl.col("fee"))


def _amount_test(cand: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Add diff (expected minus received, in the credit's currency), ok, rule, exact."""
    import polars as pl

    dec = pl.Decimal(38, 12)
    same = pl.col("out_ccy") == pl.col("in_ccy")
    tagged = pl.col("delivered_ccy").fill_null("") == pl.col("in_ccy")
    sent, got = pl.col("sent").cast(dec), pl.col("received").cast(dec)
    expected = (pl.when(same).then(sent).when(tagged).then(pl.col("delivered").cast(dec))
                .otherwise(sent * pl.col("rate").cast(dec)).cast(dec))
    tol = pl.lit(settings.tolerance, dtype=dec)
    short = pl.lit(settings.max_shortfall, dtype=dec)
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
    """Reference rate out_ccy -> in_ccy on the withdrawal date, where the currencies differ."""
    import polars as pl

    from rules.fx import rate_dtype

    need = cand.filter(pl.col("out_ccy") != pl.col("in_ccy")).select(
        "out_date", "out_ccy", "in_ccy").unique()
    parts = [pl.DataFrame(schema={"out_date": pl.Date, "out_ccy": pl.String,
                                  "in_ccy": pl.String, "rate": rate_dtype(),
                                  "rate_provider": pl.String})]
    if chain is not None:
        for to in sorted(need["in_ccy"].unique().to_list()):
            needs = need.filter(pl.col("in_ccy") == to).select(
                pl.col("out_date").alias("date"), pl.col("out_ccy").alias("currency"))
            found = chain.lookup(needs, to)  # type: ignore[attr-defined]
            parts.append(found.select(
                pl.col("date").alias("out_date"), pl.col("currency").alias("out_ccy"),
                pl.lit(to).alias("in_ccy"), pl.col("rate").cast(rate_dtype()),
                (pl.col("provider") + pl.lit(" ") + pl.col("rate_date").cast(pl.String))
                .alias("rate_provider")))
    rates = pl.concat(parts, how="vertical_relaxed")
    return cand.join(rates, on=["out_date", "out_ccy", "in_ccy"], how="left")


def _bounds(targets: pl.DataFrame, settings: Settings) -> pl.DataFrame:
    """Add low and top: the range (in_ccy) an arrival of each withdrawal may have, the loosest
    case of _amount_test (null where nothing could be tested: another currency, no rate)."""
    import polars as pl

    dec = pl.Decimal(38, 12)
    same = pl.col("out_ccy") == pl.col("in_ccy")
    tagged = pl.col("delivered_ccy").fill_null("") == pl.col("in_ccy")
    sent = pl.col("sent").cast(dec)
    stated = pl.when(same).then(sent).when(tagged).then(pl.col("delivered").cast(dec))
    converted = sent * pl.col("rate").cast(dec)
    short = pl.lit(settings.max_shortfall, dtype=dec)
    tol = pl.lit(settings.tolerance, dtype=dec)
    return targets.with_columns(
        pl.when(same | tagged).then(stated * (1 - short))
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
                ) -> pl.DataFrame:
    """Every (withdrawal, credit) pair within the window whose amounts agree.

    Credits are joined by day, currency and a coarse logarithmic amount bucket (one bucket
    spans the loosest tolerance, so a withdrawal's range covers one or two), then the exact
    Decimal tests decide: without the bucket a busy ledger pairs every
    withdrawal with every credit of its week. Float logarithms only pick buckets, never
    decide a match."""
    import math

    import polars as pl

    # the currencies a withdrawal's window has credits in: all that need a rate (and --online
    # fetches only what a pair could use); the wide rows are joined back once paired
    days = ins.select("in_date", "in_ccy").unique()
    ccys = _within_window(outs.select("out_id", "out_date", "window")).join(
        days, on="in_date").select("out_id", "in_ccy").unique()
    targets = _bounds(_rates(outs.join(ccys, on="out_id"), chain), settings).filter(
        pl.col("top") > 0)
    spread = max(1 / (1 - float(settings.max_shortfall)),
                 (1 + float(settings.tolerance)) / (1 - float(settings.tolerance)))
    width = max(math.log(spread), 0.01)

    def bucket(amount: pl.Expr) -> pl.Expr:
        return (amount.cast(pl.Float64).clip(lower_bound=1e-9).log() / width).floor().cast(
            pl.Int64)

    dec = pl.Decimal(38, 12)
    edge = 1e-9  # far above the float error of a log, far below a bucket
    wide = targets.select(
        "out_id", "out_account", "out_date", "window", "in_ccy", "low", "top",
        pl.int_ranges(bucket(pl.col("low") * (1 - edge)), bucket(pl.col("top") * (1 + edge))
                      + 1).alias("bucket")).explode("bucket")
    # each credit looks back over the longest window (fewer rows than each withdrawal
    # looking forward in every currency and bucket)
    back = int(outs["window"].max() or 0) if not outs.is_empty() else 0
    keyed = ins.select("in_id", "in_date", "in_ccy", "in_account",
                       pl.col("received").cast(dec).alias("got"),
                       bucket(pl.col("received")).alias("bucket"),
                       pl.int_ranges(0, back + 1).alias("days")).explode("days").with_columns(
        (pl.col("in_date") - pl.duration(days=pl.col("days"))).alias("out_date"))
    pairs = wide.join(keyed, on=["out_date", "in_ccy", "bucket"], how="inner").filter(
        (pl.col("days") <= pl.col("window")) & (pl.col("in_account") != pl.col("out_account"))
        & (pl.col("got") >= pl.col("low")) & (pl.col("got") <= pl.col("top")))
    cand = pairs.select("out_id", "in_id", "in_ccy", "days").join(
        targets.drop("low", "top"), on=["out_id", "in_ccy"]).join(
        ins.drop("in_ccy"), on="in_id")
    cand = _amount_test(cand, settings)
    ref_hit = pl.col("out_ref").is_not_null() & (
        (pl.col("in_related").fill_null("") == pl.col("out_ref"))
        | pl.col("in_text").str.contains(pl.col("out_ref"), literal=True))
    named = pl.col("in_text").str.to_lowercase().str.contains(pl.col("out_provider"),
                                                              literal=True)
    return cand.filter("ok").with_columns(ref_hit.fill_null(False).alias("ref_match"),
                                          named.fill_null(False).alias("named"))


def _mutual(cand: pl.DataFrame) -> pl.DataFrame:
    """Pairs where, at the strongest evidence either side has (a reference, then an exact
    amount, then a same-currency shortfall or stated delivery, then the reference rate), the
    withdrawal has one candidate credit and the credit one withdrawal. Within each level, a
    credit that names the sender (`Inward Remittance PAYONEER INC`) is stronger."""
    import polars as pl

    tier = (pl.when(pl.col("ref_match")).then(0).when(pl.col("exact")).then(2)
            .when(pl.col("rule") != "reference_rate").then(4).otherwise(6)
            + pl.when(pl.col("named")).then(0).otherwise(1))
    best = cand.with_columns(tier.alias("tier")).filter(
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
    fees: pl.DataFrame
    warnings: list[str] = field(default_factory=list)


def match(rows: pl.DataFrame, settings: Settings, chain: object = None,
          links: dict | None = None) -> Matching:
    """Link withdrawals to credits: user links, then references, then mutually unique
    amounts; a withdrawal no single credit explains may arrive in several credits."""
    import polars as pl

    links = links or {"links": [], "unlinks": []}
    outs, ins = _legs(rows, settings)
    fees = _fees(rows, outs, ins)
    cand = _candidates(outs, ins, settings, chain)
    pair_schema = {"out_id": pl.String, "in_id": pl.String}
    if links["unlinks"]:
        banned = pl.DataFrame(links["unlinks"], schema=pair_schema, orient="row")
        cand = cand.join(banned, on=["out_id", "in_id"], how="anti")
    chosen: list[pl.DataFrame] = []
    if links["links"]:
        user = pl.DataFrame(links["links"], schema=pair_schema, orient="row")
        user = user.join(outs, on="out_id").join(ins, on="in_id").with_columns(
            (pl.col("in_date") - pl.col("out_date")).dt.total_days().alias("days"))
        user = _amount_test(_rates(user, chain), settings).with_columns(
            pl.lit("user_link").alias("rule"), pl.lit("user").alias("confidence"),
            pl.lit(False).alias("ref_match"), pl.lit(False).alias("named"))
        chosen.append(user)
        cand = cand.join(user.select("out_id"), on="out_id", how="anti").join(
            user.select("in_id"), on="in_id", how="anti")
    for _ in range(8):
        unique = _mutual(cand)
        if unique.is_empty():
            break
        high = pl.col("ref_match") | pl.col("exact")
        unique = unique.with_columns(pl.when(high).then(pl.lit("high")).otherwise(
            pl.lit("medium")).alias("confidence"),
            pl.when(pl.col("ref_match")).then(pl.col("rule") + pl.lit("+reference"))
            .otherwise(pl.col("rule")).alias("rule"))
        chosen.append(unique)
        cand = cand.join(unique.select("out_id"), on="out_id", how="anti").join(
            unique.select("in_id"), on="in_id", how="anti")
    used_out = pl.concat([c.select("out_id") for c in chosen]) if chosen else \
        pl.DataFrame(schema={"out_id": pl.String})
    used_in = pl.concat([c.select("in_id") for c in chosen]) if chosen else \
        pl.DataFrame(schema={"in_id": pl.String})
    free_out = outs.join(used_out, on="out_id", how="anti")
    free_in = ins.join(used_in, on="in_id", how="anti")
    split, split_unsure, warnings = _split(
        free_out.join(cand.select("out_id").unique(), on="out_id", how="anti"),
        free_in.join(cand.select("in_id").unique(), on="in_id", how="anti"), settings, chain)
    if split.height:
        chosen.append(split)
        free_out = free_out.join(split.select("out_id"), on="out_id", how="anti")
        free_in = free_in.join(split.select("in_id"), on="in_id", how="anti")
    columns = ["out_id", "in_id", "days", "diff", "rule", "confidence", "rate",
               "rate_provider"]
    hops = (pl.concat([c.select(columns) for c in chosen], how="vertical_relaxed") if chosen
            else pl.DataFrame(schema={c: pl.String for c in columns}))
    ambiguous = pl.concat([cand.join(free_out.select("out_id"), on="out_id", how="semi").join(
        free_in.select("in_id"), on="in_id", how="semi").group_by("out_id").agg(
        pl.col("in_id").sort()), split_unsure]).sort("out_id")
    return Matching(hops, ambiguous, free_out, free_in, fees, warnings)


def _split(outs: pl.DataFrame, ins: pl.DataFrame, settings: Settings, chain: object
           ) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """A withdrawal that arrived as 2..max_split_parts credits on one account, all within its
    window, together passing the tests one credit would (_amount_test on their sum).

    Sets of parts are built a part at a time by joins per (withdrawal, account, currency), in
    id order, dropping any set already above what could have arrived (parts are positive), so
    the work stays bounded by the look-alike credits of each window. Only unique explanations
    are linked: a withdrawal with two possible sets, or a credit in the sets of two
    explanations, is ambiguous (returned as out_id, in_id list), never guessed. Returns (hop
    rows, ambiguous, warnings)."""
    import polars as pl

    hop_schema = {"out_id": pl.String, "in_id": pl.String, "days": pl.Int64,
                  "diff": pl.Decimal(38, 12), "rule": pl.String, "confidence": pl.String,
                  "rate": pl.Decimal(38, 12), "rate_provider": pl.String}
    none = (pl.DataFrame(schema=hop_schema),
            pl.DataFrame(schema={"out_id": pl.String, "in_id": pl.List(pl.String)}), [])
    if outs.is_empty() or ins.height < 2 or settings.max_split_parts < 2:
        return none
    key = ["out_id", "in_account", "in_ccy"]
    parts = _within_window(outs).join(ins, on="in_date").filter(
        pl.col("in_account") != pl.col("out_account"))
    if parts.is_empty():
        return none
    parts = _bounds(_rates(parts, chain), settings).filter(
        pl.col("top").is_not_null() & (pl.col("received") < pl.col("top")))
    parts = parts.filter(pl.len().over(key) >= 2)
    crowded = parts.filter(pl.len().over(key) > SPLIT_CANDIDATES)
    warnings = []
    if not crowded.is_empty():
        many = crowded.select("out_id").unique().sort("out_id")["out_id"].to_list()
        warnings.append(f"{len(many)} withdrawal(s) have more than {SPLIT_CANDIDATES} credits "
                        f"their window could split into (first {many[0]}): not tried as "
                        "split arrivals; link the parts with `ledger reconcile link`")
        parts = parts.join(crowded.select("out_id").unique(), on="out_id", how="anti")
    groups = parts.select(key).unique().with_row_index("g")
    parts = parts.join(groups, on=key).sort("in_id").with_columns(
        pl.int_range(pl.len()).over("g").alias("k"),
        pl.col("in_text").str.to_lowercase().str.contains(pl.col("out_provider"), literal=True)
        .fill_null(False).alias("named"))
    # sets of parts as part numbers p1 < p2 < ... within a group (ints are cheap to join)
    step = parts.select("g", pl.col("k").alias("next"), pl.col("received").alias("more"),
                        pl.col("in_date").alias("on"), pl.col("named").alias("also_named"))
    level = parts.select("g", "k", pl.col("k").alias("p1"),
                         pl.col("received").cast(pl.Decimal(38, 4)).alias("received"),
                         pl.col("in_date").alias("last_date"), "top", "named")
    sets = []
    for n in range(2, settings.max_split_parts + 1):
        level = level.join(step, on="g").filter(
            (pl.col("next") > pl.col("k")) & (pl.col("received") + pl.col("more")
                                              <= pl.col("top"))).select(
            "g", pl.col("next").alias("k"), *[f"p{i}" for i in range(1, n)],
            pl.col("next").alias(f"p{n}"),
            (pl.col("received") + pl.col("more")).cast(pl.Decimal(38, 4)).alias("received"),
            pl.max_horizontal("last_date", "on").alias("last_date"), "top",
            (pl.col("named") & pl.col("also_named")).alias("named"))
        if level.is_empty():
            break
        sets.append(level)
    if not sets:
        return none
    out_side = parts.select("g", *[c for c in outs.columns if c != "in_date"], "in_ccy",
                            "rate", "rate_provider").unique("g")
    cand = pl.concat(sets, how="diagonal").join(out_side, on="g").with_columns(
        (pl.col("last_date") - pl.col("out_date")).dt.total_days().alias("days"))
    cand = _amount_test(cand, settings).filter("ok").with_row_index("set")
    if cand.is_empty():
        return none
    # evidence as for one credit: an exact sum, then a shortfall or stated delivery, then the
    # reference rate; every part naming the sender is stronger within a level
    tier = (pl.when(pl.col("exact")).then(0).when(pl.col("rule") != "reference_rate").then(2)
            .otherwise(4) + pl.when(pl.col("named")).then(0).otherwise(1))
    numbers = [c for c in cand.columns if c[0] == "p" and c[1:].isdigit()]
    long = cand.select("set", "g", "out_id", tier.alias("tier"), *numbers).unpivot(
        numbers, index=["set", "g", "out_id", "tier"], value_name="k").drop_nulls("k").join(
        parts.select("g", "k", "in_id"), on=["g", "k"]).select("set", "out_id", "tier",
                                                                "in_id")
    chosen = []
    for _ in range(8):
        # a set is linked when, at the strongest level its withdrawal has and the strongest
        # level each of its credits has, it is the one set of the withdrawal and of each
        # credit; linked withdrawals and credits leave every other set, and again
        best = long.with_columns(
            (pl.col("tier") == pl.col("tier").min().over("out_id")).alias("top_out"),
            (pl.col("tier") == pl.col("tier").min().over("in_id")).alias("top_in"))
        best = best.with_columns(
            pl.col("set").filter("top_out").n_unique().over("out_id").alias("rivals_out"),
            pl.col("set").filter("top_in").n_unique().over("in_id").alias("rivals_in"))
        won = best.filter(
            (pl.col("top_out") & pl.col("top_in") & (pl.col("rivals_out") == 1)
             & (pl.col("rivals_in") == 1)).all().over("set"))
        if won.is_empty():
            break
        chosen.append(won.select("set", "out_id", "in_id"))
        long = long.join(won.select("out_id").unique(), on="out_id", how="anti")
        long = long.join(long.join(won.select("in_id"), on="in_id").select("set").unique(),
                         on="set", how="anti")
    linked = pl.concat(chosen) if chosen else pl.DataFrame(
        schema={"set": pl.UInt32, "out_id": pl.String, "in_id": pl.String})
    linked = linked.join(cand.select("set", "days", "diff", "rate", "rate_provider"),
                         on="set").select(
        "out_id", "in_id", "days", pl.col("diff").cast(pl.Decimal(38, 12)),
        pl.lit("split_credit").alias("rule"), pl.lit("medium").alias("confidence"),
        pl.col("rate").cast(pl.Decimal(38, 12)), "rate_provider")
    # what is left could be explained more than one way: listed, never guessed
    ambiguous = long.group_by("out_id").agg(pl.col("in_id").unique().sort())
    return linked, ambiguous, warnings


# --- chains and waterfalls -----------------------------------------------------------------


@dataclass
class Hop:
    out: dict
    ins: list[dict]
    rule: str
    confidence: str
    rate: Decimal | None
    rate_provider: str | None
    fees_out: dict[str, Decimal]
    fees_in: dict[str, Decimal]
    costs: dict[str, Decimal] = field(default_factory=dict)
    """Waterfall in the sending currency: HOP_COSTS lines and `arrived`, exact."""
    sent_total: Decimal = Decimal(0)
    fee_inside: bool = False
    landed: Decimal = Decimal(0)
    """What arrived, net of the receiving side's fees, in the credit's currency."""

    @property
    def in_ccy(self) -> str:
        return self.ins[0]["in_ccy"]

    def compute(self) -> None:
        sent = Decimal(self.out["sent"])
        received = sum((Decimal(i["received"]) for i in self.ins), Decimal(0))
        out_fees = sum(self.fees_out.values(), Decimal(0))
        same = self.out["out_ccy"] == self.in_ccy
        self.fee_inside = same and out_fees > 0 and sent - received == out_fees
        self.sent_total = sent if self.fee_inside else sent + out_fees
        in_fees = sum(self.fees_in.values(), Decimal(0))
        self.landed = received - in_fees
        costs = dict.fromkeys(HOP_COSTS, Decimal(0))
        for line, fee in self.fees_out.items():
            costs[line] += fee
        if same:
            for line, fee in self.fees_in.items():
                costs[line] += fee
            if not self.fee_inside:
                costs["bank_deductions"] += sent - received
            costs["arrived"] = self.landed
        else:
            rate = self.rate
            tagged = self.out.get("delivered_ccy") == self.in_ccy and self.out.get("delivered")
            if rate is None or rate == 0:  # a user link without any reference rate
                rate = (Decimal(self.out["delivered"]) if tagged else received) / sent
                self.rate, self.rate_provider = rate, "implied by the amounts"

            def conv(x: Decimal) -> Decimal:
                return (x / rate).quantize(Q)

            # the receiving side valued at the reference rate; the spread is what is left
            # of the transfer once everything that arrived or was taken on arrival is counted
            received_side = Decimal(0)
            for line, fee in self.fees_in.items():
                costs[line] += conv(fee)
                received_side += conv(fee)
            if tagged:
                deducted = conv(Decimal(self.out["delivered"]) - received)
                costs["bank_deductions"] += deducted
                received_side += deducted
            costs["arrived"] = conv(self.landed)
            costs["fx_spread"] = sent - received_side - costs["arrived"]
        self.costs = costs


@dataclass
class Chain:
    hops: list[Hop]
    currency: str
    sent: Decimal
    costs: dict[str, Decimal]
    arrived: Decimal
    possible_loss: Decimal = Decimal(0)

    @property
    def id(self) -> str:
        return self.hops[0].out["out_id"]


def _chain(hops: list[Hop]) -> Chain:
    """Sum hop waterfalls in the first hop's sending currency: each later hop is scaled so
    that what it sent is what the previous hop delivered, valued as that hop valued it."""
    first = hops[0]
    costs = dict.fromkeys(HOP_COSTS, Decimal(0))
    for line in HOP_COSTS:
        costs[line] += first.costs[line]
    carried = first.costs["arrived"]  # value (chain currency) of what the hop delivered
    for hop in hops[1:]:
        scale = carried / hop.sent_total if hop.sent_total else Decimal(0)
        parts = {line: (hop.costs[line] * scale).quantize(Q) for line in HOP_COSTS}
        for line, value in parts.items():
            costs[line] += value
        carried = carried - sum(parts.values(), Decimal(0))
    return Chain(hops, first.out["out_ccy"], first.sent_total, costs, carried)


def _link_hops(hops: list[Hop], settings: Settings) -> list[list[Hop]]:
    """Join hops into chains: hop B continues hop A when B leaves the account A arrived on,
    in A's arrival currency, within NEXT_HOP_DAYS, and sends exactly what A delivered (with or
    without B's own fees). Only unique continuations; everything else is a chain of one."""
    import polars as pl

    if len(hops) < 2:
        return [[h] for h in hops]
    def exact(value: Decimal) -> str:  # one spelling per amount: 1000.00 and 1E+3 agree
        return f"{Decimal(value).normalize():f}"

    # joined on the exact amount: B sends what A landed, with or without B's fees
    a = pl.DataFrame({
        "a": [i for i, h in enumerate(hops) if len({x["in_account"] for x in h.ins}) == 1],
    }, schema={"a": pl.Int64})
    a = a.with_columns(
        pl.Series("account", [hops[i].ins[0]["in_account"] for i in a["a"]], pl.String),
        pl.Series("in_date", [max(x["in_date"] for x in hops[i].ins) for i in a["a"]], pl.Date),
        pl.Series("ccy", [hops[i].in_ccy for i in a["a"]], pl.String),
        pl.Series("amount", [exact(hops[i].landed) for i in a["a"]], pl.String))
    b = pl.DataFrame({
        "b": [i for i in range(len(hops)) for _ in (0, 1)],
        "account": [h.out["out_account"] for h in hops for _ in (0, 1)],
        "out_date": [h.out["out_date"] for h in hops for _ in (0, 1)],
        "ccy": [h.out["out_ccy"] for h in hops for _ in (0, 1)],
        "amount": [exact(x) for h in hops for x in (h.out["sent"], h.sent_total)],
    }, schema={"b": pl.Int64, "account": pl.String, "out_date": pl.Date, "ccy": pl.String,
               "amount": pl.String})
    pairs = a.join(b, on=["account", "ccy", "amount"]).filter(
        (pl.col("out_date") >= pl.col("in_date"))
        & ((pl.col("out_date") - pl.col("in_date")).dt.total_days() <= NEXT_HOP_DAYS)
    ).unique(["a", "b"])
    pairs = pairs.filter((pl.col("a").count().over("a") == 1)
                         & (pl.col("b").count().over("b") == 1))
    nxt = dict(zip(pairs["a"].to_list(), pairs["b"].to_list(), strict=True))
    has_prev = set(nxt.values())
    chains = []
    for start in range(len(hops)):
        if start in has_prev:
            continue
        seq, cur = [hops[start]], start
        while cur in nxt and len(seq) < 10:
            cur = nxt[cur]
            seq.append(hops[cur])
        chains.append(seq)
    return chains


@dataclass
class Result:
    period: tuple[dt.date, dt.date]
    as_of: dt.date
    chains: list[Chain]
    in_transit: list[dict]
    unknown_origin: list[dict]
    ambiguous: list[dict]
    settings: Settings
    warnings: list[str] = field(default_factory=list)
    pairs: list[tuple[str, str]] = field(default_factory=list)
    """Every matched (withdrawal id, credit id) in the matching scope (the period plus its
    margins), chains of other periods included: what ledger.attribution follows upstream."""
    hops: list[Hop] = field(default_factory=list)
    """Every matched hop in the matching scope (`arrivals` picks the period's)."""


def reconcile(rows: pl.DataFrame, period: tuple[dt.date, dt.date], settings: Settings,
              chain: object = None, links: dict | None = None,
              as_of: dt.date | None = None) -> Result:
    """Chains whose first withdrawal is in the period, and the period's unmatched money."""
    from itertools import groupby
    from operator import itemgetter

    import polars as pl

    as_of = as_of or dt.date.today()
    start, end = period
    margin = dt.timedelta(days=max([*settings.window_days.values(), DEFAULT_DAYS])
                          + NEXT_HOP_DAYS)
    rows = rows.filter(pl.col("date").is_between(start - margin, end + margin))
    found = match(rows, settings, chain, links)
    outs, ins = _legs(rows, settings)
    hop_rows = found.hops.join(outs, on="out_id").join(ins, on="in_id")
    fees = found.fees.group_by("anchor", "line").agg(pl.col("fee").sum())
    fee_map: dict[str, dict[str, Decimal]] = {}
    for anchor, line, fee in fees.iter_rows():
        fee_map.setdefault(anchor, {})[line] = Decimal(fee)
    hops: list[Hop] = []
    linked = hop_rows.sort("out_date", "out_id", "in_date", "in_id").to_dicts()
    for _, group in groupby(linked, key=itemgetter("out_id")):
        items = list(group)
        first = items[0]
        fees_in: dict[str, Decimal] = {}
        for item in items:
            for line, fee in fee_map.get(item["in_id"], {}).items():
                fees_in[line] = fees_in.get(line, Decimal(0)) + fee
        rate = first["rate"]
        hop = Hop(out=first, ins=items, rule=first["rule"], confidence=first["confidence"],
                  rate=Decimal(rate) if rate is not None else None,
                  rate_provider=first["rate_provider"],
                  fees_out=fee_map.get(first["out_id"], {}), fees_in=fees_in)
        hop.compute()
        hops.append(hop)
    chains = [_chain(seq) for seq in _link_hops(hops, settings)]
    for c in chains:
        loss = Decimal(0)
        for hop in c.hops:
            if hop.rule.startswith("same_currency") or hop.rule == "split_credit":
                unexplained = hop.costs["bank_deductions"] - hop.fees_in.get("bank_deductions",
                                                                             Decimal(0))
                if unexplained > settings.tolerance * Decimal(hop.out["sent"]):
                    loss += unexplained
        c.possible_loss = loss
    chains = [c for c in chains if start <= c.hops[0].out["out_date"] <= end]
    chains.sort(key=lambda c: (c.hops[0].out["out_date"], c.id))
    ambiguous_ids = set(found.ambiguous["out_id"].to_list())
    ambiguous_in = {i for ids in found.ambiguous["in_id"].to_list() for i in ids}
    transit = found.unmatched_out.filter(
        pl.col("out_date").is_between(start, end) & ~pl.col("out_id").is_in(
            list(ambiguous_ids))).with_columns(
        (pl.lit(as_of) - pl.col("out_date")).dt.total_days().alias("age_days")).sort(
        "out_date", "out_id")
    # the provider's own reference, date and amount: what its support asks for when chasing
    in_transit = [{
        "id": r["out_id"], "ref": r["out_ref"], "date": r["out_date"].isoformat(),
        "account": r["out_account"], "amount": r["sent"], "currency": r["out_ccy"],
        "description": (r["out_text"] or "").strip(), "age_days": r["age_days"],
        "usual_days": r["window"],
        "status": "in_transit" if r["age_days"] <= r["window"] else "overdue",
    } for r in transit.iter_rows(named=True)]
    orphan = found.unmatched_in.filter(
        pl.col("in_date").is_between(start, end) & ~pl.col("in_id").is_in(list(ambiguous_in))
    ).sort("in_date", "in_id")
    unknown = [{"id": r["in_id"], "ref": r["in_ref"], "date": r["in_date"].isoformat(),
                "account": r["in_account"], "amount": r["received"], "currency": r["in_ccy"],
                "description": r["in_text"].strip()} for r in orphan.iter_rows(named=True)]
    amb_rows = found.ambiguous.join(outs, on="out_id").filter(
        pl.col("out_date").is_between(start, end))
    ambiguous = [{"out": r["out_id"], "date": r["out_date"].isoformat(),
                  "account": r["out_account"], "amount": r["sent"], "currency": r["out_ccy"],
                  "candidates": r["in_id"],
                  "hint": f"ledger reconcile link {r['out_id'][:8]} {r['in_id'][0][:8]}"}
                 for r in amb_rows.sort("out_date", "out_id").iter_rows(named=True)]
    pairs = list(found.hops.select("out_id", "in_id").iter_rows())
    return Result((start, end), as_of, chains, in_transit, unknown, ambiguous, settings,
                  found.warnings, pairs, hops)


def arrivals(result: Result) -> pl.DataFrame:
    """Withdrawals in the period that arrived in another currency without saying so (no
    `[delivered ...]` tag in the arrival's currency): id, _other (what was credited, all parts,
    before the receiving side's charge rows) and _other_cur. For
    rules.fees.arrived_conversions, which makes them conversions in the report."""
    import polars as pl

    start, end = result.period
    found = [(h.out["out_id"], sum((Decimal(i["received"]) for i in h.ins), Decimal(0)),
              h.in_ccy) for h in result.hops
             if start <= h.out["out_date"] <= end and h.out["out_ccy"] != h.in_ccy
             and h.out.get("delivered_ccy") != h.in_ccy]
    return pl.DataFrame(found, schema={"id": pl.String, "_other": pl.Decimal(38, 4),
                                       "_other_cur": pl.String}, orient="row")


def may_arrive_converted(rows: pl.DataFrame) -> bool:
    """Whether a withdrawal could arrive in another currency: there are withdrawals and
    credits between the user's accounts, in more than one currency. When not, `reconcile`
    finds no such arrival, and callers with many small ledgers (ledger batch) skip it."""
    outs, ins = _legs(rows, settings({}))
    return bool(outs.height and ins.height) and len({*outs["out_ccy"], *ins["in_ccy"]}) > 1


def for_ledger(ledger: Ledger, period: tuple[dt.date, dt.date], *, online: bool = False,
               as_of: dt.date | None = None, rows: pl.DataFrame | None = None,
               chain: object = None) -> Result:
    from rules.fx import FxChain

    rows = ledger.rows() if rows is None else rows
    chain = chain or FxChain.for_ledger(rows, ledger.rates_path, online=online)
    return reconcile(rows, period, settings(ledger.config(), str(ledger.config_path)), chain,
                     load_links(ledger), as_of)


# --- presenting ----------------------------------------------------------------------------


def _money(value: Decimal, currency: str) -> str:
    from ledger.money import format_money

    return format_money(Decimal(value), currency)


def _footed(costs: dict[str, Decimal], sent: Decimal, currency: str) -> dict[str, Decimal]:
    """A waterfall rounded for display that still foots as printed: each cost rounded to the
    currency's minor unit, `arrived` what is left of the rounded `sent` (it absorbs rounding)."""
    from ledger.money import round_money

    lines = {k: round_money(Decimal(costs[k]), currency) for k in HOP_COSTS}
    lines["arrived"] = round_money(Decimal(sent), currency) - sum(lines.values(), Decimal(0))
    return lines


def hop_json(hop: Hop) -> dict:
    cur = hop.out["out_ccy"]
    received = sum((Decimal(i["received"]) for i in hop.ins), Decimal(0))
    last = max(i["in_date"] for i in hop.ins)
    diff = hop.out.get("diff")
    return {
        "from": hop.out["out_account"], "to": hop.ins[0]["in_account"],
        "out": hop.out["out_id"], "in": [i["in_id"] for i in hop.ins],
        "refs": {"out": hop.out.get("out_ref"), "in": [i.get("in_ref") for i in hop.ins]},
        "sent_on": hop.out["out_date"].isoformat(), "arrived_on": last.isoformat(),
        "currency": cur, "sent": _money(hop.sent_total, cur),
        "received": {"amount": _money(received, hop.in_ccy), "currency": hop.in_ccy},
        "rate": f"{hop.rate.normalize():f}" if hop.rate is not None else None,
        "rate_source": hop.rate_provider,
        "waterfall": {k: _money(v, cur)
                      for k, v in _footed(hop.costs, hop.sent_total, cur).items()},
        "evidence": {"rule": hop.rule, "days": (last - hop.out["out_date"]).days,
                     "amount_diff": (_money(Decimal(diff), hop.in_ccy)
                                     if diff is not None else None),
                     "fee_inside_transfer": hop.fee_inside},
        "confidence": hop.confidence,
    }


def chain_json(c: Chain) -> dict:
    cur = c.currency
    last = c.hops[-1]
    shown = _footed(c.costs, c.sent, cur)
    return {"id": c.id, "currency": cur, "sent": _money(c.sent, cur),
            "costs": {k: _money(shown[k], cur) for k in HOP_COSTS},
            "arrived": _money(shown["arrived"], cur),
            "arrived_as": {"amount": _money(last.landed, last.in_ccy),
                           "currency": last.in_ccy, "account": last.ins[0]["in_account"]},
            "possible_loss": _money(c.possible_loss, cur) if c.possible_loss else None,
            "hops": [hop_json(h) for h in c.hops]}


def totals(result: Result) -> list[dict]:
    """Per sending currency: chains, sent, each cost line, arrived, in transit."""
    acc: dict[str, dict] = {}

    def slot(cur: str) -> dict:
        return acc.setdefault(cur, {"chains": 0, "sent": Decimal(0), "arrived": Decimal(0),
                                    "costs": dict.fromkeys(HOP_COSTS, Decimal(0)),
                                    "in_transit": Decimal(0), "in_transit_count": 0})

    for c in result.chains:  # the chains as shown, so that totals are their sums and foot
        s = slot(c.currency)
        shown = _footed(c.costs, c.sent, c.currency)
        s["chains"] += 1
        s["sent"] += c.sent
        s["arrived"] += shown["arrived"]
        for k in HOP_COSTS:
            s["costs"][k] += shown[k]
    for t in result.in_transit:
        s = slot(t["currency"])
        s["in_transit"] += Decimal(t["amount"])
        s["in_transit_count"] += 1
    out = []
    for cur, s in sorted(acc.items()):
        out.append({"currency": cur, "chains": s["chains"], "sent": _money(s["sent"], cur),
                    "costs": {k: _money(v, cur) for k, v in s["costs"].items()},
                    "total_costs": _money(sum(s["costs"].values(), Decimal(0)), cur),
                    "arrived": _money(s["arrived"], cur),
                    "in_transit": _money(s["in_transit"], cur),
                    "in_transit_count": s["in_transit_count"]})
    return out


def to_json(result: Result) -> dict:
    def money_items(items: list[dict]) -> list[dict]:
        return [{**i, "amount": _money(Decimal(i["amount"]), i["currency"])} for i in items]

    losses = [{"chain": c.id, "amount": _money(c.possible_loss, c.currency),
               "currency": c.currency, "reason": "arrived short beyond the known costs"}
              for c in result.chains if c.possible_loss]
    losses += [{"id": t["id"], "amount": _money(Decimal(t["amount"]), t["currency"]),
                "currency": t["currency"],
                "reason": f"not arrived after {t['age_days']} days (usually "
                f"{t['usual_days']})"} for t in result.in_transit if t["status"] == "overdue"]
    return {"schema": SCHEMA,
            "period": {"from": result.period[0].isoformat(), "to": result.period[1].isoformat()},
            "as_of": result.as_of.isoformat(),
            "chains": [chain_json(c) for c in result.chains],
            "totals": totals(result),
            "in_transit": money_items(result.in_transit),
            "unknown_origin": money_items(result.unknown_origin),
            "ambiguous": [{**a, "amount": _money(Decimal(a["amount"]), a["currency"])}
                          for a in result.ambiguous],
            "possible_losses": losses,
            "window_days": result.settings.window_days,
            "warnings": result.warnings}


def to_csv(data: dict) -> str:
    """One row per hop (section hop) and per unmatched item (in_transit, unknown_origin,
    ambiguous), the waterfall lines as columns."""
    import csv
    import io

    from ledger.render import safe_cell

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    header = ["section", "chain", "hop", "from", "to", "out", "in", "sent_on", "arrived_on",
              "currency", "sent", *HOP_COSTS, "arrived", "received", "received_currency",
              "rate", "rule", "confidence", "age_days", "status", "ref"]
    writer.writerow(header)
    for c in data["chains"]:
        for n, h in enumerate(c["hops"], 1):
            row = {"section": "hop", "chain": c["id"], "hop": n, "from": h["from"], "to": h["to"],
                   "out": h["out"], "in": " ".join(h["in"]), "sent_on": h["sent_on"],
                   "arrived_on": h["arrived_on"], "currency": h["currency"], "sent": h["sent"],
                   **h["waterfall"], "received": h["received"]["amount"],
                   "received_currency": h["received"]["currency"], "rate": h["rate"] or "",
                   "rule": h["evidence"]["rule"], "confidence": h["confidence"],
                   "ref": " ".join(r for r in [h["refs"]["out"], *h["refs"]["in"]] if r)}
            writer.writerow([safe_cell(row.get(k, "")) for k in header])
    for t in data["in_transit"]:
        writer.writerow([safe_cell(v) for v in (
            "in_transit", "", "", t["account"], "", t["id"], "", t["date"], "", t["currency"],
            t["amount"], *[""] * (len(HOP_COSTS) + 6), t["age_days"], t["status"], t["ref"] or "")])
    for u in data["unknown_origin"]:
        writer.writerow([safe_cell(v) for v in (
            "unknown_origin", "", "", "", u["account"], "", u["id"], "", u["date"],
            u["currency"], "", *[""] * (len(HOP_COSTS) + 1), u["amount"], u["currency"],
            "", "", "", "", "", u["ref"] or "")])
    for a in data["ambiguous"]:
        writer.writerow([safe_cell(v) for v in (
            "ambiguous", "", "", a["account"], "", a["out"], " ".join(a["candidates"]),
            a["date"], "", a["currency"], a["amount"], *[""] * (len(HOP_COSTS) + 9))])
    return out.getvalue()


def valuer(chain: object, currency: str, needs: set[tuple[dt.date, str]]
           ) -> Callable[[dt.date, str, Decimal], Decimal | None]:
    """value(date, currency, amount) in `currency` at the FX chain's rate for that date (None
    when there is none), with the rates for `needs` looked up in one call."""
    import polars as pl

    rate: dict[tuple[dt.date, str], Decimal] = {}
    wanted = {(d, c) for d, c in needs if c != currency}
    if wanted and chain is not None:
        table = pl.DataFrame({"date": [d for d, _ in wanted], "currency": [c for _, c in wanted]},
                             schema={"date": pl.Date, "currency": pl.String})
        for d, cur, r in chain.lookup(table, currency).select(  # type: ignore[attr-defined]
                "date", "currency", "rate").iter_rows():
            if r is not None:
                rate[(d, cur)] = Decimal(r)

    def value(d: dt.date, cur: str, amount: Decimal) -> Decimal | None:
        if cur == currency:
            return amount
        found = rate.get((d, cur))
        return None if found is None else amount * found

    return value


def report_summary(ledger: Ledger, rows: pl.DataFrame, period: object, currency: str,
                   chain: object, result: Result | None = None) -> dict:
    """The `chains` section of `ledger report --format json`: matched chains, arrived, hop
    costs and money in transit for the period, valued in the report currency at the rate of
    each withdrawal's date (rows without a rate are left out and named in `warnings`)."""
    if result is None:
        result = for_ledger(ledger, (period.start, period.end), rows=rows,  # type: ignore[attr-defined]
                            chain=chain)
    items = [(c.hops[0].out["out_date"], c.currency, c.arrived,
              sum(c.costs.values(), Decimal(0))) for c in result.chains]
    transit = [(dt.date.fromisoformat(t["date"]), t["currency"], Decimal(t["amount"]))
               for t in result.in_transit]
    rated = valuer(chain, currency, {(d, cur) for d, cur, *_ in items + transit})
    warnings: list[str] = []

    def value(d: dt.date, cur: str, amount: Decimal) -> Decimal:
        found = rated(d, cur, amount)
        if found is None:
            warnings.append(f"no {cur}->{currency} rate for {d}: left out of the chains summary")
            return Decimal(0)
        return found

    arrived = sum((value(d, cur, a) for d, cur, a, _ in items), Decimal(0))
    costs = sum((value(d, cur, k) for d, cur, _, k in items), Decimal(0))
    moving = sum((value(d, cur, a) for d, cur, a in transit), Decimal(0))
    return {"matched": len(result.chains), "arrived": _money(arrived, currency),
            "hop_costs": _money(costs, currency), "in_transit": _money(moving, currency),
            "in_transit_count": len(transit),
            "overdue_count": sum(t["status"] == "overdue" for t in result.in_transit),
            "unknown_origin_count": len(result.unknown_origin),
            "ambiguous_count": len(result.ambiguous), "warnings": warnings}
