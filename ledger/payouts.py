"""Sub-worker payouts (docs/payouts.md): split rules, what each worker is owed, what was paid,
balances, the value chain, and a statement a worker can check.

Split rules live in ledger.toml:

    [[workers]]
    name = "Ali"                       # how statements and `ledger payouts record` name them
    currency = "PKR"                   # what they are paid in (default: home_currency, else USD)
    aliases = ["Ali Khan", "0300-1234567"]   # names/accounts as bank and wallet exports show them
    show_contract = false              # statements show contract titles, not only job numbers

    [[splits]]
    id = "ali-logos"                   # optional; messages say `split #N` without one
    worker = "Ali"
    platform = "upwork"                # selectors, all optional, globs, case-insensitive:
    client = "Acme*"                   #   platform (the row's source), client (counterparty),
    contract = "*logo*"                #   contract (the contract column, else the description,
    category = "fixed_price"           #   where Upwork puts the job title), category
    from = 2024-01-01                  # first day it applies; `until` is the first day it no
    until = 2025-01-01                 #   longer does (as in the fee schedules)
    percent_of_gross = "10"            # exactly one share: see below
    fx = "earning"                     # worker-currency value at the rate of the earning date
                                       #   (default) or "payout": of the payment that settled it

Shares: `percent_of_gross = "10"`; `percent_of_net = "50"` (net of the fees the rules know: the
report's counted rows, so fees the fee rules derive count); `per_job = "7.50"` (each earning
row claimed, e.g. a milestone, is a job); `per_unit = "12"` with `unit = "hour"` (units from the
rows' billed hours, to the minute) or any other unit (`audio_hour`, `item`, `word`: from
`units.csv` in the ledger directory: `date,contract,worker,unit,quantity`; `[payouts] units =
"FILE"` names another file); `equal_share = true` with `workers = [...]`, split equally among
them and you (`include_self = false` leaves you out; `basis = "net"` (default) or `"gross"`).
Fixed amounts are in `currency` (default: the worker's currency). Rules that claim the same
earning must each have an `order`: all of them apply, lowest first, except that a rule with
`final = true` keeps later ones off the earnings it claims. Shares of one earning may not add up
to more than 100%. A bad rule is a UsageError naming ledger.toml and the rule (exit 2).

Paid: rows of kind `subcontractor_payout` (importers tag some, e.g. Freelancer.com's payments to
people you hired) and outgoing transfers, `other` and `expense` rows whose counterparty is one
of a worker's aliases (or name), else whose description names an alias as a whole word: each
payment says which (`matched_by`). Cash and mobile-wallet payments with no export are recorded
with `ledger payouts record` in `payouts.csv` (origin `manual`). In the report, these rows count
as `subcontractor_payouts` (what was paid), and `payouts_owed_unpaid` is what the rules say is
owed and was not yet paid at the end of the period (the sum of the workers' positive balances;
an advance to one worker is not netted against what another is owed).

Money is Decimal throughout (polars Decimal, WORK decimal places for shares and conversions);
rounding happens only when presenting. Per contract, margin = gross - platform - payment costs -
taxes - owed to sub-workers, exactly, so owed + margin + costs = gross.
"""

from __future__ import annotations

import datetime as dt
import fnmatch
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import DataError, UsageError
from ledger.payouts_record import (
    PAYOUT_KIND,
    PAYOUTS_FILE,
    manual_rows,
)
from ledger.payouts_record import known_worker as _known_worker
from ledger.payouts_record import workers_hint as _workers_hint

if TYPE_CHECKING:
    import polars as pl

    from ledger.report import Period
    from ledger.store import Ledger

SCHEMA = "ledger.payouts/1"
WORK = 12
"""Decimal places shares, per-unit amounts and conversions are computed with (then presented
rounded to the currency's minor unit)."""
UNITS_FILE = "units.csv"
SHARES = ("percent_of_gross", "percent_of_net", "per_unit", "per_job", "equal_share")
PAYABLE_KINDS = ("transfer", "other", "expense")
"""Kinds of outgoing rows that are payouts when they name a worker."""
CLAIMABLE = ("earning", "refund")
FEE_KINDS = ("platform_fee", "payment_fee", "tax")
"""Costs tied to one earning (related_ref) that make its net for `percent_of_net`."""
PLATFORM_COSTS = ("platform_fee",)
PAYMENT_COSTS = ("payment_fee", "fx", "bank_fee")
TAX_COSTS = ("tax",)
UNTIED = "(costs not tied to a contract)"
NO_CONTRACT = "(no contract)"
WORKER_KEYS = {"name", "currency", "aliases", "show_contract"}
SPLIT_KEYS = {"id", "worker", "workers", "platform", "client", "contract", "category", "from",
              "until", "order", "final", "fx", "currency", "unit", "units", "basis",
              "include_self", *SHARES}


# --- rules -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Worker:
    name: str
    currency: str
    aliases: tuple[str, ...] = ()
    show_contract: bool = False


@dataclass(frozen=True)
class Split:
    """One [[splits]] table: who gets what share of which earnings."""

    index: int
    id: str | None
    workers: tuple[str, ...]
    share: str
    value: Decimal
    unit: str | None = None
    currency: str | None = None
    platform: str | None = None
    client: str | None = None
    contract: str | None = None
    category: str | None = None
    start: dt.date | None = None
    until: dt.date | None = None
    order: int | None = None
    final: bool = False
    fx: str = "earning"
    basis: str = "net"
    include_self: bool = True
    units: str = "rows"

    @property
    def label(self) -> str:
        return f'"{self.id}"' if self.id else f"#{self.index}"

    @property
    def percent(self) -> Decimal:
        """The part of one earning this rule takes, in percent (0 for fixed amounts)."""
        if self.share in ("percent_of_gross", "percent_of_net"):
            return self.value
        if self.share == "equal_share":
            return Decimal(100) * len(self.workers) / self.parts
        return Decimal(0)

    @property
    def parts(self) -> int:
        return len(self.workers) + (1 if self.include_self else 0)

    def describe(self) -> str:
        if self.share == "percent_of_gross":
            return f"{_num(self.value)}% of gross"
        if self.share == "percent_of_net":
            return f"{_num(self.value)}% of net"
        if self.share == "per_job":
            return f"{_num(self.value)} {self.currency or 'worker currency'} per job"
        if self.share == "per_unit":
            return f"{_num(self.value)} {self.currency or 'worker currency'} per {self.unit}"
        return f"1/{self.parts} of {self.basis} each"


@dataclass
class Rules:
    workers: dict[str, Worker]
    splits: list[Split]
    where: Path
    units_path: Path
    payouts_path: Path

    @property
    def configured(self) -> bool:
        return bool(self.workers)

    def worker(self, name: str) -> Worker:
        for known in self.workers.values():
            if known.name.casefold() == name.strip().casefold():
                return known
        raise UsageError(f"unknown worker {name!r}", path=self.where,
                         hint=_workers_hint(self, name))


def _num(value: Decimal) -> str:
    text = f"{value.normalize():f}"
    return text


def load_rules(ledger: Ledger) -> Rules:
    """[[workers]] and [[splits]] of ledger.toml, checked: a wrong rule is a UsageError
    naming ledger.toml and the rule."""
    from ledger.money import known_currencies

    config = ledger.config()
    where = ledger.config_path
    options = config.get("payouts", {})
    if not isinstance(options, dict):
        raise UsageError("[payouts] must be a table", path=where, hint='e.g. [payouts] units = '
                         '"units.csv"')
    home = str(config.get("home_currency") or "USD").upper()
    default_show = bool(options.get("show_contract", False))
    workers: dict[str, Worker] = {}
    raw_workers = config.get("workers", [])
    if not isinstance(raw_workers, list):
        raise UsageError("workers must be an array of tables", path=where,
                         hint='write each as [[workers]] name = "Ali" currency = "PKR"')
    for number, table in enumerate(raw_workers, 1):
        label = f"worker #{number}"
        if not isinstance(table, dict) or not isinstance(table.get("name"), str) \
                or not table["name"].strip():
            raise UsageError(f"{label} needs a name", path=where,
                             hint='[[workers]] name = "Ali" currency = "PKR" aliases = [...]')
        name = table["name"].strip()
        label = f"worker {name!r}"
        unknown = sorted(set(table) - WORKER_KEYS)
        if unknown:
            raise UsageError(f"{label}: unknown key(s) {', '.join(unknown)}", path=where,
                             hint="worker keys: " + ", ".join(sorted(WORKER_KEYS)))
        if name.casefold() in {w.casefold() for w in workers}:
            raise UsageError(f"{label} is defined twice", path=where,
                             hint="give each worker one [[workers]] entry")
        currency = str(table.get("currency") or home).upper()
        if currency not in known_currencies():
            raise UsageError(f"{label}: unknown currency {currency!r}", path=where,
                             hint="use an ISO 4217 code, e.g. PKR")
        aliases = table.get("aliases", [])
        if isinstance(aliases, str):
            aliases = [aliases]
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise UsageError(f"{label}: aliases must be a list of names", path=where,
                             hint='e.g. aliases = ["Ali Khan", "0300-1234567"]')
        workers[name] = Worker(name, currency, tuple(a.strip() for a in aliases if a.strip()),
                               bool(table.get("show_contract", default_show)))
    raw_splits = config.get("splits", [])
    if not isinstance(raw_splits, list):
        raise UsageError("splits must be an array of tables", path=where,
                         hint='write each as [[splits]] worker = "Ali" percent_of_gross = "10"')
    splits = [_split(number, table, workers, where) for number, table in
              enumerate(raw_splits, 1)]
    units = options.get("units", UNITS_FILE)
    return Rules(workers, splits, where, ledger.root / str(units),
                 ledger.root / PAYOUTS_FILE)


def _split(number: int, table: Any, workers: dict[str, Worker], where: Path) -> Split:
    from ledger.money import known_currencies

    if not isinstance(table, dict):
        raise UsageError(f"split #{number} is not a table", path=where,
                         hint='write it as [[splits]] worker = "Ali" percent_of_gross = "10"')
    rule_id = table.get("id")
    label = f'split "{rule_id}"' if rule_id else f"split #{number}"

    def fail(message: str, hint: str) -> UsageError:
        return UsageError(f"{label}: {message}", path=where, hint=hint)

    unknown = sorted(set(table) - SPLIT_KEYS)
    if unknown:
        raise fail(f"unknown key(s) {', '.join(unknown)}", "split keys: "
                   + ", ".join(sorted(SPLIT_KEYS)))
    shares = [s for s in SHARES if s in table]
    if len(shares) != 1:
        raise fail("needs exactly one share" + (f", not {' and '.join(shares)}" if shares
                                                else ""),
                   "one of percent_of_gross, percent_of_net, per_unit (with unit), per_job, "
                   "equal_share = true (with workers)")
    share = shares[0]
    names = table.get("workers", [])
    if "worker" in table:
        names = [table["worker"], *names]
    if isinstance(names, str):
        names = [names]
    if not names or not all(isinstance(n, str) for n in names):
        raise fail("names no worker", 'add worker = "NAME" (equal_share: workers = [...])')
    resolved = []
    for name in names:
        match = [w for w in workers if w.casefold() == name.strip().casefold()]
        if not match:
            known = ", ".join(workers) or "none yet"
            raise fail(f"unknown worker {name!r}", f"workers in ledger.toml: {known}; add "
                       f'one with [[workers]] name = "{name}"')
        resolved.append(match[0])
    if len(set(resolved)) != len(resolved):
        raise fail("names a worker twice", "list each worker once")
    if share != "equal_share" and len(resolved) != 1:
        raise fail(f"{share} pays one worker, not {len(resolved)}",
                   "write one rule per worker, or use equal_share = true with workers = [...]")
    if share == "equal_share":
        if table["equal_share"] is not True:
            raise fail("equal_share must be true", "equal_share = true, workers = [...]")
        value = Decimal(1)
    else:
        value = _decimal(table[share], lambda m: fail(f"{share} {m}",
                                                      f'write it as a string, e.g. {share} = "10"'))
        if value < 0:
            raise fail(f"{share} is negative", "shares are positive numbers")
        if share.startswith("percent") and value > 100:
            raise fail(f"takes {_num(value)}%, more than 100% of an earning",
                       "a share is at most 100 (percent)")
    unit = table.get("unit")
    if share == "per_unit":
        if not isinstance(unit, str) or not unit.strip():
            raise fail("per_unit needs a unit", 'e.g. unit = "hour", "audio_hour", "item", '
                       '"word"')
        unit = unit.strip().lower()
    elif unit is not None:
        raise fail("unit only goes with per_unit", "remove unit, or use per_unit")
    units = table.get("units", "rows" if unit == "hour" else "file")
    if units not in ("rows", "file") or (units == "rows" and share == "per_unit"
                                          and unit != "hour"):
        raise fail(f"units = {units!r} is not possible here",
                   'units = "rows" (hours billed on the rows, unit "hour") or "file" '
                   "(units.csv)")
    currency = table.get("currency")
    if currency is not None:
        if share not in ("per_unit", "per_job"):
            raise fail("currency only goes with per_unit or per_job",
                       "percentages are of the earning, in its currency")
        currency = str(currency).upper()
        if currency not in known_currencies():
            raise fail(f"unknown currency {currency!r}", "use an ISO 4217 code, e.g. USD")
    fx = table.get("fx", "earning")
    if fx not in ("earning", "payout"):
        raise fail(f"fx = {fx!r}", 'fx = "earning" (rate of the earning date, default) or '
                   '"payout" (rate of the payment date)')
    basis = table.get("basis", "net")
    if basis not in ("gross", "net") or ("basis" in table and share != "equal_share"):
        raise fail(f"basis = {basis!r} is not possible here",
                   'basis goes with equal_share: "net" (default) or "gross"')
    order = table.get("order")
    if order is not None and (isinstance(order, bool) or not isinstance(order, int)):
        raise fail(f"order = {order!r} is not a whole number", "e.g. order = 1")
    selectors = {}
    for key in ("platform", "client", "contract", "category"):
        value_ = table.get(key)
        if value_ is not None and not isinstance(value_, str):
            raise fail(f"{key} must be a text (a glob such as \"Acme*\")", f'{key} = "..."')
        selectors[key] = value_
    start, until = (_date(table.get(k), lambda m, k=k: fail(f"{k} {m}", f"{k} = 2024-06-01"))
                    for k in ("from", "until"))
    if start and until and until <= start:
        raise fail(f"until {until} is not after from {start}",
                   "until is the first day the rule no longer applies")
    if units == "file" and share == "per_unit" and (selectors["platform"]
                                                    or selectors["category"]):
        raise fail("a per_unit rule reading units.csv matches by worker, unit, contract and "
                   "dates only", "remove platform and category")
    return Split(number, str(rule_id) if rule_id else None, tuple(resolved), share, value,
                 unit, currency, selectors["platform"], selectors["client"],
                 selectors["contract"], selectors["category"], start, until, order,
                 bool(table.get("final", False)), fx, basis,
                 bool(table.get("include_self", True)), units)


def _decimal(value: Any, fail) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise fail(f"{value!r} is not a number")
    try:
        number = Decimal(str(value).strip())  # a TOML float by its shortest repr
    except InvalidOperation:
        raise fail(f"{value!r} is not a number") from None
    if not number.is_finite():
        raise fail(f"{value!r} is not a number")
    return number


def _date(value: Any, fail) -> dt.date | None:
    from ledger.config import as_date

    try:
        return as_date(value)
    except ValueError:
        raise fail(f"{value!r} is not a date YYYY-MM-DD") from None


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


def _wlit(value: Decimal | int) -> pl.Expr:
    import polars as pl

    return pl.lit(Decimal(value), dtype=pl.Decimal(38, WORK))


def _work(expr: pl.Expr) -> pl.Expr:
    import polars as pl

    return expr.cast(pl.Decimal(38, WORK))


def _share_of(amount: pl.Expr, parts: int) -> pl.Expr:
    """amount / parts to WORK places, cut toward zero: the shares never add up to more than
    the amount, and the fraction of the last place stays with you."""
    import polars as pl

    step = _wlit(Decimal(1).scaleb(-WORK))
    quotient = amount / _wlit(parts)
    over = quotient * _wlit(parts) - amount
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
    """Earning and refund rows with what the rules match on: `_platform`, `_contract_text`
    (contract, else description), `key` (contract, else client: the per-contract line) and
    `net` (amount plus the fees tied to it by related_ref, in its currency)."""
    import polars as pl

    link = pl.coalesce("ref", "id")
    earnings = counted.filter(pl.col("kind").is_in(CLAIMABLE)).with_columns(
        pl.col("source").str.split(":").list.first().alias("_platform"),
        pl.coalesce("contract", "description").alias("_contract_text"),
        pl.coalesce("contract", "counterparty", pl.lit(NO_CONTRACT)).alias("key"),
        link.alias("_link"))
    fees = counted.filter(pl.col("kind").is_in(FEE_KINDS) & pl.col("related_ref").is_not_null()
                          ).group_by("account", pl.col("related_ref").alias("_link"),
                                     "currency").agg(_work(pl.col("amount")).sum().alias("_fees"))
    return earnings.join(fees, on=["account", "_link", "currency"], how="left",
                         maintain_order="left").with_columns(
        (_work(pl.col("amount")) + pl.col("_fees").fill_null(_wlit(0))).alias("net"))


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


def owed_items(rules: Rules, counted: pl.DataFrame, units: pl.DataFrame | None = None
               ) -> pl.DataFrame:
    """One row per (worker, earning or units line) a split rule claims, with what it owes in
    the rule's currency (`amount`, WORK places). Raises UsageError when two rules claim one
    earning without an order, or the shares of one earning exceed 100%."""
    import polars as pl

    schema = _items_schema()
    earnings = claimable(counted)
    units = units if units is not None else pl.DataFrame(schema=_units_schema())
    ordered = sorted(rules.splits, key=lambda s: (s.order if s.order is not None else 0,
                                                  s.index))
    closed: set[str] = set()
    claims: list[pl.DataFrame] = []
    unit_claims: list[pl.DataFrame] = []
    parts: list[pl.DataFrame] = []
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
        claims.append(matched.select("id", "date", "amount", "currency", "source", "line")
                      .with_columns(pl.lit(split.index).alias("_split")))
        if split.final:
            closed |= set(matched["id"].to_list())
        parts.append(_earning_items(split, matched, rules))
    by_index = {s.index: s for s in rules.splits}
    _check_claims(claims, by_index, rules, "earning")
    _check_claims(unit_claims, by_index, rules, "units line")
    if not parts:
        return pl.DataFrame(schema=schema)
    return pl.concat([p.select(list(schema)).cast(schema) for p in parts]).sort(
        "date", "worker", maintain_order=True)


def _earning_items(split: Split, matched: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    import polars as pl

    common = [pl.lit(split.label).alias("split"), pl.lit(split.share).alias("share"), "date",
              pl.col("id").alias("item"), "account", "source", "line", "key",
              pl.col("contract").alias("title"), pl.lit(split.fx).alias("fx")]
    if split.share in ("percent_of_gross", "percent_of_net", "equal_share"):
        gross = split.share == "percent_of_gross" or (split.share == "equal_share"
                                                      and split.basis == "gross")
        base = _work(pl.col("amount")) if gross else pl.col("net")
        if split.share == "equal_share":
            amount = _share_of(base, split.parts)
            rate = f"1/{split.parts} of {'gross' if gross else 'net'}"
        else:
            amount = base * _wlit(split.value / 100)
            rate = f"{_num(split.value)}% of {'gross' if gross else 'net'}"
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
                           _wlit(1).alias("quantity"), pl.lit("job").alias("unit"),
                           pl.lit(f"{_num(split.value)} {currency} per job").alias("rate"),
                           pl.lit(currency).alias("currency"), _wlit(split.value).alias("amount"))
    # per_unit, hours from the rows, to the minute
    timed = matched.filter(pl.col("hours").is_not_null())
    minutes = _work((pl.col("hours") * 60).round(0).cast(pl.Int64))
    return timed.select(pl.lit(worker).alias("worker"), *common, pl.lit(None).alias("base"),
                        (minutes / _wlit(60)).alias("quantity"), pl.lit(split.unit).alias("unit"),
                        pl.lit(f"{_num(split.value)} {currency} per {split.unit}").alias("rate"),
                        pl.lit(currency).alias("currency"),
                        _share_of(minutes * _wlit(split.value), 60).alias("amount"))


def _unit_items(split: Split, units: pl.DataFrame, earnings: pl.DataFrame, rules: Rules
                ) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Owed from units.csv lines; each is attributed to the contract of the earnings the rule's
    selectors match when they have one, else to the contract the line names."""
    import polars as pl

    if not rules.units_path.exists():
        raise UsageError(f"split {split.label}: per_unit {split.unit} needs units from "
                         f"{rules.units_path.name}, which does not exist", path=rules.where,
                         hint=f"create {rules.units_path} with the header "
                         "date,contract,worker,unit,quantity")
    worker = split.workers[0]
    mine = units.filter((pl.col("worker") == worker) & (pl.col("unit") == split.unit)
                        & _glob(units, "contract", split.contract) & _dates(split))
    related = earnings.filter(_glob(earnings, "counterparty", split.client)
                              & _glob(earnings, "_contract_text", split.contract)
                              & _dates(split))
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
        pl.lit(f"{_num(split.value)} {currency} per {split.unit}").alias("rate"),
        pl.lit(currency).alias("currency"),
        (pl.col("quantity") * _wlit(split.value)).alias("amount"))
    claimed = mine.select((pl.lit("units:") + pl.col("line").cast(pl.String)).alias("id"),
                          "date", pl.col("quantity").alias("amount"),
                          pl.col("unit").alias("currency"),
                          pl.lit(rules.units_path.name).alias("source"), "line")
    return items, claimed


def _check_claims(claims: list[pl.DataFrame], splits: dict[int, Split], rules: Rules,
                  what: str) -> None:
    """Two rules on one earning need their own orders; their shares may not exceed 100%."""
    import polars as pl

    if not claims:
        return
    every = pl.concat([c.with_columns(pl.col("amount").cast(pl.String)) for c in claims])

    def described(item_id: str) -> str:
        row = every.filter(pl.col("id") == item_id).row(0, named=True)
        return (f"the {what} of {row['date']} ({_num(Decimal(row['amount']))} "
                f"{row['currency']}, {row['source']} line {row['line']})")

    shared = every.group_by("id").agg(pl.col("_split").unique().sort()).filter(
        pl.col("_split").list.len() > 1).sort("id")
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
                path=rules.where,
                hint="give each its own order (all apply, lowest first; final = true keeps "
                "later rules off), or narrow their platform, client, contract or dates")
    if what != "earning":
        return
    percent = {i: s.percent for i, s in splits.items()}
    taken = every.with_columns(pl.col("_split").replace_strict(
        {i: str(p) for i, p in percent.items()}, return_dtype=pl.String).cast(
        pl.Decimal(38, WORK)).alias("_percent")).group_by("id").agg(
        pl.col("_percent").sum(), pl.col("_split").unique().sort()).filter(
        pl.col("_percent") > _wlit(100)).sort("id")
    if taken.height:
        item_id, total, indexes = taken.row(0)
        names = " and ".join(f"split {splits[i].label} ({_num(percent[i])}%)" for i in indexes)
        raise UsageError(f"{names} take {_num(Decimal(total))}% of {described(item_id)}: more "
                         "than 100%", path=rules.where,
                         hint="the shares of one earning may add up to at most 100%")


# --- paid ------------------------------------------------------------------------------------


def _word(alias: str) -> str:
    """A regex (Rust and Python) for the alias as a whole word, case-insensitive."""
    body = "".join(ch if ch.isalnum() else ("\\s+" if ch == " " else f"\\x{{{ord(ch):X}}}")
                   for ch in alias.casefold())
    return f"(?:^|[^\\w]){body}(?:[^\\w]|$)"


def match_payments(rows: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """`rows` with `_worker` (who a payment went to, or null) and `_matched_by` (kind,
    counterparty, description, manual; `ambiguous` when it names several workers, `unknown`
    for a payout row naming none; null for rows that are not payouts)."""
    import polars as pl

    outgoing = (pl.col("amount") < 0) & pl.col("kind").is_in(PAYABLE_KINDS) \
        & (pl.col("origin") != "manual")
    tagged = pl.col("kind") == PAYOUT_KIND
    counterparty = pl.col("counterparty").str.strip_chars().str.to_lowercase()
    description = pl.col("description").str.to_lowercase()
    by_cp, by_desc = [], []
    for worker in rules.workers.values():
        names = sorted({a.casefold() for a in (worker.name, *worker.aliases)})
        by_cp.append(counterparty.is_in(names).fill_null(False))
        if worker.aliases:
            pattern = "(?i)" + "|".join(_word(a) for a in worker.aliases)
            by_desc.append(description.str.contains(pattern).fill_null(False))
        else:
            by_desc.append(pl.lit(False))
    if not by_cp:
        return rows.with_columns(pl.lit(None, dtype=pl.String).alias("_worker"),
                                 pl.when(tagged).then(pl.lit("unknown")).otherwise(None)
                                 .alias("_matched_by"))
    names = list(rules.workers)
    cp_hits = pl.sum_horizontal([e.cast(pl.Int32) for e in by_cp])
    desc_hits = pl.sum_horizontal([e.cast(pl.Int32) for e in by_desc])

    def first(hits: list[pl.Expr]) -> pl.Expr:
        expr = pl.lit(None, dtype=pl.String)
        for name, hit in reversed(list(zip(names, hits, strict=True))):
            expr = pl.when(hit).then(pl.lit(name)).otherwise(expr)
        return expr

    manual = pl.col("origin") == "manual"
    worker = (pl.when(manual).then(pl.col("counterparty"))
              .when(cp_hits == 1).then(first(by_cp))
              .when((cp_hits == 0) & (desc_hits == 1)).then(first(by_desc))
              .otherwise(None))
    how = (pl.when(manual).then(pl.lit("manual"))
           .when(cp_hits == 1).then(pl.lit("counterparty"))
           .when((cp_hits == 0) & (desc_hits == 1)).then(pl.lit("description"))
           .when((cp_hits > 1) | (desc_hits > 1)).then(pl.lit("ambiguous"))
           .otherwise(pl.lit("unknown")))
    is_payment = tagged | (outgoing & ((cp_hits > 0) | (desc_hits > 0)))
    return rows.with_columns(
        pl.when(is_payment).then(worker).otherwise(None).alias("_worker"),
        pl.when(is_payment).then(
            pl.when(tagged & how.is_in(["counterparty", "description"]))
            .then(pl.lit("kind, ") + how).otherwise(how)).otherwise(None).alias("_matched_by"))


def reclassify(rows: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Outgoing rows that paid a worker become `subcontractor_payout` (same columns)."""
    import polars as pl

    if not rules.workers or rows.is_empty():
        return rows
    matched = match_payments(rows, rules)
    payout = pl.col("_matched_by").is_not_null() & (pl.col("kind") != PAYOUT_KIND)
    kind = pl.when(payout).then(pl.lit(PAYOUT_KIND)).otherwise(pl.col("kind").cast(pl.String))
    return matched.with_columns(kind.cast(rows.schema["kind"]).alias("kind")).select(rows.columns)


def payments(rows: pl.DataFrame, rules: Rules) -> pl.DataFrame:
    """Every payout row (matched or not): date, worker, paid (positive), currency, matched_by,
    account, source, ref, line, id, origin."""
    import polars as pl

    matched = match_payments(rows, rules).filter(pl.col("_matched_by").is_not_null())
    return matched.select("date", pl.col("_worker").alias("worker"),
                          (-pl.col("amount")).alias("paid"), "currency",
                          pl.col("_matched_by").alias("matched_by"), "account", "source", "ref",
                          "line", "id", "origin", "kind")


# --- the whole picture -----------------------------------------------------------------------


@dataclass
class Summary:
    """Everything `ledger payouts`, statements and the report need, exact (Decimal)."""

    rules: Rules
    period: Period
    currency: str
    items: pl.DataFrame            # owed, with `value` in the worker's currency
    paid: pl.DataFrame             # payments, with `value` in the worker's currency
    balances: list[dict]           # per worker: opening, owed, paid, closing (Decimal)
    contracts: list[dict] = field(default_factory=list)   # report currency, Decimal
    chain: list[dict] = field(default_factory=list)       # value chain, report currency
    warnings: list[str] = field(default_factory=list)


def history(ledger: Ledger, rows: pl.DataFrame, end: dt.date) -> pl.DataFrame:
    """Counted rows (fee rules applied, as the report counts them) from the first row to `end`,
    plus payouts.csv."""

    from ledger.report import Period, counted_rows

    if rows.is_empty():
        return rows
    first = rows["date"].min()
    if first > end:
        return rows.clear()
    counted, _ = counted_rows(ledger, rows, Period(first, end, ""))
    return counted


def summarize(ledger: Ledger, period: Period | None = None, currency: str | None = None, *,
              online: bool = False, chain: Any = None, rows: pl.DataFrame | None = None,
              detail: bool = True, **period_options: Any) -> Summary:
    """Owed (split rules), paid (ledger rows and payouts.csv) and balances per worker in their
    currency for a period with what earlier periods carried forward; with `detail`, per
    contract gross, costs, owed and margin and the value chain in the report currency."""
    import polars as pl

    from ledger.report import report_currency, resolve_period
    from rules.fx import FxChain

    rules = load_rules(ledger)
    rows = ledger.rows() if rows is None else rows
    manual = manual_rows(rules)
    if period is None:
        every_date = pl.concat([rows.select("date"), manual.select("date")])
        if every_date.is_empty():
            raise DataError("the ledger is empty", path=ledger.root,
                            hint="import exports first: ledger import FILE")
        period = resolve_period(every_date, **period_options)
    currency = report_currency(ledger, currency)
    chain = chain or FxChain.for_ledger(rows, ledger.rates_path, online=online)
    return compute(rules, history(ledger, rows, period.end), period, currency, chain,
                   manual=manual, units=read_units(rules), detail=detail,
                   where=str(ledger.rates_path))


def compute(rules: Rules, counted: pl.DataFrame, period: Period, currency: str, chain: Any, *,
            manual: pl.DataFrame | None = None, units: pl.DataFrame | None = None,
            detail: bool = True, where: str = "rates.csv") -> Summary:
    """`summarize` on given rows: `counted` is the history as the report counts it (fee rules
    applied), `manual` payouts.csv rows, `units` units.csv; rows after the period are left
    out; `where` names the rates file in messages about a missing rate."""
    import polars as pl

    counted = counted.filter(pl.col("date") <= period.end)
    with_manual = counted
    if manual is not None and manual.height:
        manual_now = manual.filter(pl.col("date") <= period.end)
        with_manual = pl.concat([counted, manual_now.select(counted.columns)])
    if units is not None:
        units = units.filter(pl.col("date") <= period.end)
    items = owed_items(rules, counted, units)
    paid = payments(with_manual, rules)
    warnings = _payment_warnings(paid)
    items = _value_items(items, paid, rules, chain, period.end, where)
    paid_valued = _value_paid(paid.filter(pl.col("worker").is_not_null()), rules, chain, where)
    balances = _balances(rules, items, paid_valued, period)
    summary = Summary(rules, period, currency, items, paid_valued, balances, warnings=warnings)
    if detail:
        _detail(summary, with_manual.filter(pl.col("date") >= period.start), chain, where)
    return summary


def _payment_warnings(paid: pl.DataFrame) -> list[str]:
    import polars as pl

    out = []
    for how, text in (("unknown", "names no known worker"),
                      ("ambiguous", "names more than one worker")):
        odd = paid.filter(pl.col("matched_by") == how)
        if odd.height:
            row = odd.row(0, named=True)
            out.append(f"{odd.height} payout row(s) {text} (first: {row['date']} "
                       f"{_num(Decimal(row['paid']))} {row['currency']}, {row['source']} line "
                       f"{row['line']}); add the payee to one worker's aliases in ledger.toml")
    return out


def _convert(frame: pl.DataFrame, to: str, chain: Any, where: str) -> pl.DataFrame:
    """`frame` (date, currency, amount, source, line) with `value` in `to`, `fx_rate`,
    `fx_provider`, `rate_date`."""
    import polars as pl

    from rules.fx import rate_dtype

    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=rate_dtype()).alias("value"),
                                  pl.lit(None, dtype=rate_dtype()).alias("fx_rate"),
                                  pl.lit(None, dtype=pl.String).alias("fx_provider"),
                                  pl.lit(None, dtype=pl.Date).alias("rate_date"))
    conversion = chain.convert(frame, to, where=where)
    rates = conversion.rates.select("date", pl.col("from").alias("currency"),
                                    pl.col("rate").alias("fx_rate"),
                                    pl.col("provider").alias("fx_provider"), "rate_date")
    return conversion.rows.join(rates, on=["date", "currency"], how="left",
                                maintain_order="left")


def _value_items(items: pl.DataFrame, paid: pl.DataFrame, rules: Rules, chain: Any,
                 as_of: dt.date, where: str) -> pl.DataFrame:
    """Owed amounts in each worker's currency: at the earning date's rate, or (fx = payout)
    at the rate of the first payment to the worker on or after it, else of `as_of`."""
    import polars as pl

    if items.is_empty():
        return _in_worker_currency(items.with_columns(
            pl.lit(None, dtype=pl.Date).alias("value_date")), rules, chain, where,
            date="value_date", amount="amount")
    paydays = paid.filter(pl.col("worker").is_not_null()).select(
        "worker", pl.col("date").alias("_payday")).unique().sort("_payday")
    later = items.with_row_index("_order").sort("date").join_asof(
        paydays, left_on="date", right_on="_payday", by="worker", strategy="forward",
        check_sortedness=False)
    value_date = pl.when(pl.col("fx") == "payout").then(
        pl.coalesce(pl.col("_payday"), pl.lit(as_of))).otherwise(pl.col("date"))
    later = later.with_columns(pl.min_horizontal(value_date, pl.lit(as_of)).alias("value_date")
                               ).sort("_order").drop("_order", "_payday")
    return _in_worker_currency(later, rules, chain, where, date="value_date", amount="amount")


def _value_paid(paid: pl.DataFrame, rules: Rules, chain: Any, where: str) -> pl.DataFrame:
    return _in_worker_currency(paid, rules, chain, where, date="date", amount="paid")


def _in_worker_currency(frame: pl.DataFrame, rules: Rules, chain: Any, where: str, *,
                        date: str, amount: str) -> pl.DataFrame:
    """`frame` with worker_currency and `amount` at `date` in it: value, fx_rate,
    fx_provider (each worker is paid in their own currency)."""
    import polars as pl

    from ledger.money import minor_units

    if frame.is_empty():
        return frame.with_columns(pl.lit(None, dtype=pl.String).alias("worker_currency"),
                                  pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("value"),
                                  pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("fx_rate"),
                                  pl.lit(None, dtype=pl.String).alias("fx_provider"))
    currencies = {w.name: w.currency for w in rules.workers.values()}
    frame = frame.with_row_index("_n").with_columns(
        pl.col("worker").replace_strict(currencies, return_dtype=pl.String)
        .alias("worker_currency"))
    out = []
    for to in frame["worker_currency"].unique().sort().to_list():
        part = frame.filter(pl.col("worker_currency") == to)
        rows = part.select("_n", pl.col(date).alias("date"), "currency",
                           pl.col(amount).alias("amount"), "source", "line")
        valued = _convert(rows, to, chain, where)
        # each line is rounded once, to the worker currency's minor unit (half-even): a
        # statement's totals are then the sums of the lines it shows
        valued = valued.with_columns(_work(pl.col("value")).round(minor_units(to)))
        out.append(part.join(valued.select("_n", "value", "fx_rate", "fx_provider"), on="_n",
                             how="left"))
    done = pl.concat(out).sort("_n").drop("_n")
    return done.with_columns(_work(pl.col("value")), _work(pl.col("fx_rate")))


def _sum(frame: pl.DataFrame, column: str = "value") -> Decimal:
    if frame.is_empty():
        return Decimal(0)
    total = frame[column].sum()
    return Decimal(total) if total is not None else Decimal(0)


def _balances(rules: Rules, items: pl.DataFrame, paid: pl.DataFrame, period: Period
              ) -> list[dict]:
    import polars as pl

    out = []
    for worker in rules.workers.values():
        owed = items.filter(pl.col("worker") == worker.name)
        given = paid.filter(pl.col("worker") == worker.name)
        before = pl.col("date") < period.start
        now = pl.col("date").is_between(period.start, period.end)
        opening = _sum(owed.filter(before)) - _sum(given.filter(before))
        owed_now = _sum(owed.filter(now))
        paid_now = _sum(given.filter(now))
        fx = sorted(set(owed["fx"].to_list())) if owed.height else []
        out.append({"worker": worker.name, "currency": worker.currency,
                    "fx": " and ".join(f"rate of the {f} date" for f in fx) or None,
                    "opening": opening, "owed": owed_now, "paid": paid_now,
                    "closing": opening + owed_now - paid_now})
    return out


def _detail(summary: Summary, in_period: pl.DataFrame, chain: Any, where: str) -> None:
    """Per contract and value chain for the period, in the report currency."""
    import polars as pl

    period, currency = summary.period, summary.currency
    rows = in_period.filter(pl.col("date") <= period.end)
    valued = _convert(rows, currency, chain, where) if rows.height else rows.with_columns(
        pl.lit(None, dtype=pl.Decimal(38, WORK)).alias("value"))
    owed = summary.items.filter(pl.col("date").is_between(period.start, period.end))
    owed_valued = _convert(owed.select("date", "currency", "amount", "source", "line", "key",
                                       "worker"), currency, chain, where)
    summary.contracts = contract_table(valued, owed_valued)
    summary.chain = value_chain(summary.contracts, owed_valued,
                                list(summary.rules.workers))


def contract_table(valued: pl.DataFrame, owed: pl.DataFrame) -> list[dict]:
    """Per contract: gross, platform costs, payment costs, taxes, owed to sub-workers and the
    margin (gross minus all of them), exact Decimal in the report currency. Costs a rule or
    an export does not tie to an earning (connects, memberships, withdrawal fees, FX, bank
    charges) make their own line, so the lines add up to the period's totals."""
    import polars as pl

    earnings = claimable(valued.drop("value")).select("id", "key")
    earned = valued.join(earnings, on="id", how="inner")
    owners = claimable(valued.drop("value")).select(
        "account", pl.col("_link").alias("related_ref"), pl.col("key").alias("_owner")
    ).unique(["account", "related_ref"], keep="first")
    costs = valued.filter(pl.col("kind").is_in([*PLATFORM_COSTS, *PAYMENT_COSTS, *TAX_COSTS]))
    costs = costs.join(owners, on=["account", "related_ref"], how="left",
                       maintain_order="left").with_columns(
        pl.coalesce("_owner", "contract", pl.lit(UNTIED)).alias("key"))
    lines: dict[str, dict[str, Decimal]] = {}

    def add(key: str, field_: str, amount: object) -> None:
        line = lines.setdefault(key, {k: Decimal(0) for k in (
            "gross", "platform", "payment", "taxes", "owed")})
        line[field_] += Decimal(amount) if amount is not None else Decimal(0)

    for key, value in earned.group_by("key").agg(pl.col("value").sum()).iter_rows():
        add(key, "gross", value)
    for kinds, name in ((PLATFORM_COSTS, "platform"), (PAYMENT_COSTS, "payment"),
                        (TAX_COSTS, "taxes")):
        part = costs.filter(pl.col("kind").is_in(kinds))
        for key, value in part.group_by("key").agg(pl.col("value").sum()).iter_rows():
            add(key, name, -Decimal(value) if value is not None else 0)
    if not owed.is_empty():
        for key, value in owed.group_by("key").agg(pl.col("value").sum()).iter_rows():
            add(key, "owed", value)
    out = []
    for key, line in lines.items():
        margin = line["gross"] - line["platform"] - line["payment"] - line["taxes"] \
            - line["owed"]
        out.append({"contract": key, **line, "margin": margin})
    out.sort(key=lambda c: (c["contract"] == UNTIED, -c["gross"], c["contract"]))
    return out


def value_chain(contracts: list[dict], owed: pl.DataFrame, workers: list[str]) -> list[dict]:
    """Where the client's money (gross) went: platform, payment providers, taxes, each
    sub-worker and you (the margin). Exact; the amounts add up to gross."""
    import polars as pl

    gross = sum((c["gross"] for c in contracts), Decimal(0))
    parts = [("platform", "platform", sum((c["platform"] for c in contracts), Decimal(0))),
             ("payment providers", "payment", sum((c["payment"] for c in contracts),
                                                  Decimal(0))),
             ("taxes", "taxes", sum((c["taxes"] for c in contracts), Decimal(0)))]
    for name in workers:
        mine = owed.filter(pl.col("worker") == name) if not owed.is_empty() else owed
        parts.append((name, "sub-worker", _sum(mine)))
    margin = sum((c["margin"] for c in contracts), Decimal(0))
    parts.append(("you (contractor)", "contractor", margin))
    return [{"party": party, "role": role, "amount": amount, "gross": gross}
            for party, role, amount in parts]


# --- presenting ------------------------------------------------------------------------------


def as_json(summary: Summary) -> dict:
    """The `ledger.payouts/1` document: money as decimal strings rounded to the currency."""
    import polars as pl

    from ledger.money import format_money, round_money
    from ledger.value_chain import per_contract

    cur = summary.currency
    period = summary.period
    workers = [{"worker": b["worker"], "currency": b["currency"], "fx": b["fx"],
                **{k: format_money(b[k], b["currency"])
                   for k in ("opening", "owed", "paid", "closing")}}
               for b in summary.balances]
    contracts = [{"contract": c["contract"],
                  **{k: format_money(c[k], cur) for k in ("gross", "platform", "payment",
                                                          "taxes", "owed", "margin")}}
                 for c in summary.contracts]
    chain = []
    if summary.chain:
        gross = round_money(summary.chain[0]["gross"], cur)
        shown = [round_money(p["amount"], cur) for p in summary.chain[:-1]]
        shown.append(gross - sum(shown, Decimal(0)))  # rounded lines still foot to gross
        for part, amount in zip(summary.chain, shown, strict=True):
            chain.append({"party": part["party"], "role": part["role"],
                          "amount": format_money(amount, cur),
                          "share": f"{amount / gross:.4f}" if gross > 0 else None})
    in_period = summary.paid.filter(pl.col("date").is_between(period.start, period.end)) \
        if summary.paid.height else summary.paid
    pays = [{"date": r["date"].isoformat(), "worker": r["worker"],
             "amount": format_money(Decimal(r["paid"]), r["currency"]),
             "currency": r["currency"],
             "value": format_money(Decimal(r["value"]), r["worker_currency"]),
             "worker_currency": r["worker_currency"], "matched_by": r["matched_by"],
             "account": r["account"], "source": r["source"], "line": r["line"], "ref": r["ref"]}
            for r in in_period.iter_rows(named=True)]
    return {"schema": SCHEMA,
            "period": {"from": period.start.isoformat(), "to": period.end.isoformat(),
                       "label": period.label},
            "currency": cur, "workers": workers, "contracts": contracts, "value_chain": chain,
            "value_chains": per_contract(summary.contracts, cur),
            "payments": pays,
            "rules": [{"split": s.label, "workers": list(s.workers), "share": s.describe(),
                       "order": s.order, "final": s.final, "fx": s.fx}
                      for s in summary.rules.splits],
            "warnings": summary.warnings}


def as_csv(data: dict) -> str:
    """The payouts document as long rows: section,key,field,value."""
    from ledger.render import long_csv, long_items, safe_cell

    rows = [row for section, key in (("workers", "worker"), ("contracts", "contract"),
                                     ("value_chain", "party"))
            for row in long_items(section, data[section], key)]
    from ledger.value_chain import long_rows

    rows += [[section, safe_cell(key), name, value]
             for section, key, name, value in long_rows(data.get("value_chains") or [])]
    return long_csv(data, rows + long_items("payments", data["payments"]))


def for_report(ledger: Ledger, rows: pl.DataFrame, counted: pl.DataFrame, period: Period,
               currency: str, chain: Any) -> tuple[pl.DataFrame, str | None, list[dict]]:
    """The report's hook: its counted rows with payments to workers as `subcontractor_payout`
    and payouts.csv added; what is owed to workers and unpaid at the end of the period, in
    the report currency (None when ledger.toml has no [[workers]]); and each contract's value
    chain (ledger.value_chain; [] without workers)."""
    import polars as pl

    from ledger.money import format_money
    from ledger.value_chain import per_contract

    rules = load_rules(ledger)
    if not rules.configured:
        return counted, None, []
    manual = manual_rows(rules).filter(pl.col("date").is_between(period.start, period.end))
    counted = reclassify(counted, rules)
    if manual.height:
        counted = pl.concat([counted, manual.select(counted.columns)]).sort(
            "date", maintain_order=True)
    summary = summarize(ledger, period, currency, chain=chain, rows=rows)
    chains = per_contract(summary.contracts, currency)
    owing = [b for b in summary.balances if b["closing"] > 0]
    if not owing:
        return counted, format_money(Decimal(0), currency), chains
    frame = pl.DataFrame({"date": [period.end] * len(owing),
                          "currency": [b["currency"] for b in owing],
                          "amount": [b["closing"] for b in owing],
                          "source": ["payouts"] * len(owing), "line": [0] * len(owing)},
                         schema={"date": pl.Date, "currency": pl.String,
                                 "amount": pl.Decimal(38, WORK), "source": pl.String,
                                 "line": pl.Int64})
    valued = _convert(frame, currency, chain, str(ledger.rates_path))
    return counted, format_money(_sum(valued), currency), chains
