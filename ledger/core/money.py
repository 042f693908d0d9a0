"""Exact money: Decimal parsing for every number shape the exports use, and one rounding rule.

Parsing is per source: the caller says which decimal mark a file uses (or asks
`detect_decimal_mark`, which refuses to guess). Amounts stay Decimal(38, 4) from parse to
report; rounding to the currency's minor unit happens only when presenting, half-even.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from functools import cache
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

SCALE = 4
"""Decimal places the ledger keeps: more than any currency's minor unit, so nothing is rounded."""

_SPACES = r"[\s\u00a0\u202f\u2009']"
_CUR = r"(?i:rs\.?)|[A-Z]{3}|[$€£¥₹₨₱₦৳]"
_PREFIX = rf"^(?:{_CUR})"
_SUFFIX = rf"(?:{_CUR})$"
_DRCR = r"(?i)(dr|cr)$"
_NEGATIVE = r"^\(.*\)$|-$|^-"
_EDGES_LEFT = r"^[(+-]+"
_EDGES_RIGHT = r"[)-]+$"
_PLAIN = r"^(\d+(\.\d*)?|\.\d+)$"


def _grouped(group: str, mark: str) -> str:
    """Digits with valid grouping: Western 1,234,567 or Indian 1,23,45,678 (2s, then a 3).

    A separator anywhere else (`1.500,00` read with '.' as decimal mark, `12,50`) is not a
    grouping: the value is refused rather than silently read as another number.
    """
    g, m = re.escape(group), re.escape(mark)
    return rf"^\d*(?:(?:{g}\d{{2}})*{g}\d{{3}}|(?:{g}\d{{3}})*)(?:{m}\d*)?$"
_TOO_PRECISE = r"\.\d{4}\d*[1-9]"


def parse_amount(text: str, decimal_mark: str = ".") -> Decimal:
    """Parse one amount such as `1,234.56`, `1.234,56`, `(12.34)`, `12.34-`, `PKR 1,000 Dr`.

    Letters are allowed only as a currency token at either end. Raises ValueError on anything
    that is not a number: a bad value is never zero.
    """
    if decimal_mark not in (".", ","):
        raise ValueError(f"decimal mark must be '.' or ',', not {decimal_mark!r}")
    compact = re.sub(_SPACES, "", text)
    core = re.sub(_DRCR, "", compact)
    negative = bool(re.search(r"(?i)dr$", compact) or re.search(_NEGATIVE, core))
    core = re.sub(_EDGES_RIGHT, "", re.sub(_EDGES_LEFT, "", core))
    core = re.sub(_SUFFIX, "", re.sub(_PREFIX, "", core))
    negative = negative or bool(re.search(r"^-|-$", core))
    body = re.sub(_EDGES_RIGHT, "", re.sub(_EDGES_LEFT, "", core))
    group = "," if decimal_mark == "." else "."
    if not re.search(_grouped(group, decimal_mark), body):
        raise ValueError(f"not an amount (misplaced {group!r} or {decimal_mark!r}): {text!r}")
    body = body.replace(group, "").replace(decimal_mark, ".")
    if not re.fullmatch(_PLAIN, body):
        raise ValueError(f"not an amount: {text!r}")
    value = Decimal(body)
    if re.search(_TOO_PRECISE, body):
        raise ValueError(f"more than {SCALE} decimal places: {text!r}")
    return -value if negative else value


def amount_expr(column: str | pl.Expr, decimal_mark: str = ".") -> pl.Expr:
    """Vectorised `parse_amount`: a string column to Decimal(38, 4); null where it does not parse.

    Pair it with `invalid_amount_expr` to find the rows that had text but no number.
    """
    import polars as pl

    raw = pl.col(column) if isinstance(column, str) else column
    compact = raw.str.replace_all(_SPACES, "")
    core = compact.str.replace(_DRCR, "")
    negative = compact.str.contains(r"(?i)dr$") | core.str.contains(_NEGATIVE)
    core = core.str.replace(_EDGES_LEFT, "").str.replace(_EDGES_RIGHT, "")
    core = core.str.replace(_PREFIX, "").str.replace(_SUFFIX, "")
    negative = negative | core.str.contains(r"^-|-$")
    body = core.str.replace(_EDGES_LEFT, "").str.replace(_EDGES_RIGHT, "")
    group = "," if decimal_mark == "." else "."
    grouped = body.str.contains(_grouped(group, decimal_mark))
    body = body.str.replace_all(group, "", literal=True)
    if decimal_mark == ",":
        body = body.str.replace_all(",", ".", literal=True)
    valid = grouped & body.str.contains(_PLAIN) & ~body.str.contains(_TOO_PRECISE)
    value = body.cast(pl.Decimal(38, SCALE), strict=False)
    return pl.when(valid).then(pl.when(negative).then(-value).otherwise(value)).otherwise(None)


_FAST = r"^-?\d+(\.\d{0,4})?$"


def _fast(group: str, mark: str) -> str:
    """Values the fast path casts directly: validly grouped (`_grouped` after one leading
    minus) and, without the grouping, matching `_FAST`. One regex instead of three passes:
    an integer part of digits, or of groups; at most four decimal digits."""
    g, m = re.escape(group), re.escape(mark)
    integer = rf"\d*(?:(?:{g}\d{{2}})*{g}\d{{3}}|(?:{g}\d{{3}})+)|\d+"
    return rf"^-?(?:{integer})(?:{m}\d{{0,4}})?$"


def parse_amounts(values: pl.Series, decimal_mark: str = ".", *,
                  fast: pl.Series | None = None, cast: pl.Series | None = None) -> pl.Series:
    """Eager `amount_expr` for a whole column, fast on the common shape.

    Values that are plain once grouping is removed (`-1201.00`, `1,234.56`) are cast directly;
    only the rest (parentheses, Dr/Cr, currency tokens, trailing minus...) go through the full
    parser. Same results as `amount_expr`, several times faster on large files. `fast` and
    `cast` may pass what `fast_path` gave for these values when the caller has it already.
    """
    import polars as pl

    if fast is None or cast is None:
        fast_frame, cast_frame = fast_path(values.to_frame("v"), decimal_mark)
        fast, cast = fast_frame["v"], cast_frame["v"]
    parsed = cast
    slow_rows = ~fast & values.is_not_null()
    if slow_rows.any():
        frame = pl.DataFrame({"v": values.filter(slow_rows)})
        slow = frame.select(amount_expr("v", decimal_mark))["v"]
        parsed = parsed.scatter(slow_rows.arg_true(), slow)
    return parsed.alias(values.name)


def fast_path(values: pl.DataFrame, decimal_mark: str = ".") -> tuple[pl.DataFrame,
                                                                       pl.DataFrame]:
    """The fast path of `parse_amounts` for every (string) column of `values` in one select,
    which polars runs on every core: (where it applies, never null; the amounts it gives,
    null elsewhere). Fast values are never blank either, so callers test blankness on the
    rest only."""
    import polars as pl

    group = "," if decimal_mark == "." else "."
    pattern = _fast(group, decimal_mark)
    names = values.columns
    fast = values.select(pl.col(n).str.contains(pattern).fill_null(False) for n in names)
    # with the decimal point, a column with no grouping in its first rows is cast as it is,
    # not first searched whole for a grouping comma (0.03 s on Upwork's two million-row
    # columns): a cell that has one fails that cast and is cast again without (`_regrouped`)
    point = decimal_mark == "."
    grouped = _grouped_columns(values, group, head_only=point)

    def cast(index: int, name: str, has_groups: bool) -> pl.Expr:
        plain = pl.col(name)
        if has_groups:
            plain = plain.str.replace_all(group, "", literal=True)
        if decimal_mark == ",":
            plain = plain.str.replace_all(",", ".", literal=True)
        return pl.when(pl.col(f"\0fast{index}")).then(plain) \
            .cast(pl.Decimal(38, SCALE), strict=False).alias(name)

    flags = fast.rename({n: f"\0fast{i}" for i, n in enumerate(names)})
    cast_frame = pl.concat([values, flags], how="horizontal").select(
        cast(i, n, bool(has)) for i, (n, has) in enumerate(zip(names, grouped, strict=True)))
    if point:
        cast_frame = _regrouped(values, fast, cast_frame, [n for n, has in zip(
            names, grouped, strict=True) if not has], group)
    return fast, cast_frame


def _regrouped(values: pl.DataFrame, fast: pl.DataFrame, cast: pl.DataFrame,
               names: list[str], group: str) -> pl.DataFrame:
    """`cast` where the fast cells of the columns `names` (cast as they are) that the cast
    refused are cast again with `group` removed: what casting every cell of a column with any
    grouping gives, since a cell with none casts the same either way and the Decimal cast
    refuses every cell that has one (tests/test_fast_checks.py)."""
    import polars as pl

    for name in names:
        again = fast.get_column(name) & cast.get_column(name).is_null()
        if not again.any():
            continue
        at = again.arg_true()
        cells = values.get_column(name).gather(at).str.replace_all(group, "", literal=True)
        cast = cast.with_columns(cast.get_column(name).scatter(
            at, cells.cast(pl.Decimal(38, SCALE), strict=False)))
    return cast


GROUPED_HEAD = 4096
"""The first rows `_grouped_columns` looks at before the whole column."""


def _grouped_columns(values: pl.DataFrame, group: str, *, head_only: bool = False
                     ) -> list[bool]:
    """Per column of `values`, whether any cell has the grouping character: it is removed
    only from columns that have any (a copy of every cell otherwise). Found in the first rows
    (a grouped export's first amount of 1,000 or more) without testing the whole column
    (0.035 s over HDFC's three million-row columns); the whole column where those have none,
    unless `head_only` (then False only says none is in the first rows: `_regrouped`)."""
    import polars as pl

    def has(frame: pl.DataFrame, names: list[str]) -> list[bool]:
        if not names:
            return []
        row = frame.select(pl.col(n).str.contains(group, literal=True).any() for n in names)
        return [bool(v) for v in row.row(0)]

    names = values.columns
    found = dict(zip(names, has(values.head(GROUPED_HEAD), names), strict=True))
    rest = [] if head_only else [n for n in names if not found[n]]
    found.update(zip(rest, has(values.select(rest), rest), strict=True))
    return [found[n] for n in names]


def is_blank_expr(column: str | pl.Expr) -> pl.Expr:
    """True where a cell holds no value: null, spaces, or a lone dash as banks write it."""
    import polars as pl

    raw = pl.col(column) if isinstance(column, str) else column
    stripped = raw.str.replace_all(_SPACES, "")
    return raw.is_null() | stripped.is_in(["", "-", "...", "—"])


def detect_decimal_mark(values: list[str]) -> str | None:
    """The decimal mark a file's numbers use, or None when the values cannot tell.

    A value ends in a decimal part of one or two digits (`1.234,56`, `12.5`), or holds both
    marks (the later one is decimal). Conflicting evidence raises ValueError.
    """
    seen: set[str] = set()
    for value in values:
        body = re.sub(r"[^0-9,.]", "", value or "")
        match = re.search(r"[.,](\d{1,2})$", body)
        if match:
            seen.add(body[match.start()])
        elif "." in body and "," in body:
            seen.add("." if body.rfind(".") > body.rfind(",") else ",")
    if len(seen) > 1:
        raise ValueError("values use both '.' and ',' as decimal mark")
    return seen.pop() if seen else None


@cache
def minor_units(currency: str) -> int:
    """Digits after the decimal point for a currency (USD 2, JPY 0, KWD 3), from CLDR via babel
    (babel.numbers.get_currency_precision's table, ledger.core.locale_data.currencies)."""
    from ledger.core.locale_data import currencies

    fractions = currencies()[1]
    return fractions.get(currency, fractions["DEFAULT"])


def round_money(amount: Decimal, currency: str) -> Decimal:
    """The one rounding rule: half-even to the currency's minor unit, used only to present."""
    return amount.quantize(Decimal(1).scaleb(-minor_units(currency)), rounding=ROUND_HALF_EVEN)


def footed(amounts: list[Decimal], currency: str, total: Decimal | None = None
           ) -> list[Decimal]:
    """`amounts` rounded so that, as shown, they add up to the shown total: each rounded once,
    then the few minor units their sum strays from `total` (default: their exact sum,
    rounded) put one each on the lines whose rounding moved them furthest the other way
    (largest remainder; the first such line on a tie). Lines rounded each on their own can
    add up to a cent off the total rounded from the exact sum."""
    shown = [round_money(a, currency) for a in amounts]
    if not shown:
        return shown
    unit = Decimal(1).scaleb(-minor_units(currency))
    target = round_money(sum(amounts, Decimal(0)) if total is None else total, currency)
    steps = int((target - sum(shown, Decimal(0))) / unit)
    sign = 1 if steps > 0 else -1
    order = sorted(range(len(shown)), key=lambda i: sign * (shown[i] - amounts[i]))
    for step in range(abs(steps)):
        shown[order[step % len(order)]] += sign * unit
    return shown


def format_money(amount: Decimal, currency: str) -> str:
    """A decimal string for JSON and CSV: rounded, fixed-point, no grouping (`-1234.50`)."""
    rounded = round_money(amount, currency)
    if rounded == 0:
        rounded = abs(rounded)
    return f"{rounded:f}"


def group_for_reading(amount: Decimal, locale: str | None = None) -> str:
    """Digits grouped the way `locale` writes them (babel: `en_IN` gives 1,25,000.50, `de_DE`
    125.000,50), every decimal digit kept; without a locale, `125,000.50`. Written from the
    locale's cached symbols where it has them (ledger.core.locale_fast: no babel imported),
    by babel otherwise: the same text either way."""
    if not locale:
        return f"{amount:,}"
    from ledger.core.locale_fast import grouped

    return grouped(amount, locale)


LOCALE_EXAMPLES = {"en_US": "123,456.78", "en_IN": "1,23,456.78", "en_PK": "123,456.78",
                   "de_DE": "123.456,78", "fr_FR": "123\u202f456,78"}
"""Locales to suggest when one is unknown, with how each writes 123456.78."""


def check_locale(name: str) -> str:
    """`name` as babel spells it (`en_IN`; `en-in` is accepted too); ValueError when CLDR does
    not know it, so a typo fails where it is set, not deep inside a report."""
    from babel import Locale, UnknownLocaleError

    text = name.strip().replace("-", "_")
    try:
        return str(Locale.parse(text))
    except (UnknownLocaleError, ValueError, TypeError):
        raise ValueError(f"{name!r} is not a locale") from None


def locale_hint() -> str:
    """The hint an unknown locale gets: a few real ones, with how each writes a number."""
    examples = ", ".join(f"{code} ({shown})" for code, shown in LOCALE_EXAMPLES.items())
    return f"use a language_TERRITORY code, e.g. {examples}"


def percent_for_reading(fraction: Decimal, locale: str | None = None, digits: int = 1,
                        signed: bool = False) -> str:
    """A fraction as the locale writes a percentage, rounded half-even to `digits` places
    only here: 0.125 is `12.5%`, `12,5\u00a0%` in de_DE; `signed` adds + to a rise. From the
    locale's cached symbols where it has them (as group_for_reading), by babel otherwise."""
    if not locale:
        return f"{fraction:{'+' if signed else ''}.{digits}%}"
    from ledger.core.locale_fast import percent

    return percent(fraction, locale, digits, signed)


def number_for_reading(value: Decimal, locale: str | None = None, places: int = 2) -> str:
    """A figure that is not money (hours, a ratio) rounded half-even to `places` for reading
    and grouped as `locale` writes it: 1234.5 hours is `1,234.50`, `1.234,50` in de_DE."""
    step = Decimal(1).scaleb(-places)
    return group_for_reading(value.quantize(step, rounding=ROUND_HALF_EVEN), locale)


def currency_symbol(currency: str, locale: str | None) -> str | None:
    """The symbol `locale` writes for `currency` (Rs, ₹, ₱), or None if it has only the code;
    from the locale's cached symbols where it has them (as group_for_reading)."""
    if not locale:
        return None
    from ledger.core.locale_fast import symbol

    return symbol(currency, locale)


def to_decimal(value: object) -> Decimal:
    """Decimal from a str/int/Decimal (never a float: floats do not hold money exactly)."""
    if isinstance(value, float):
        raise TypeError("money must not pass through float")
    try:
        return Decimal(str(value))
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {value!r}") from exc


@cache
def known_currencies() -> frozenset[str]:
    """ISO 4217 codes CLDR knows, for schema validation (babel.numbers.list_currencies()'s,
    ledger.core.locale_data.currencies)."""
    from ledger.core.locale_data import currencies

    return currencies()[0]


def decimal_lit(value: Decimal | int | str, dtype: pl.DataType) -> pl.Expr:
    """A Decimal literal of `dtype` built from its text: the first Python Decimal handed to
    polars imports numpy (~0.13 s of every command that would otherwise need none)."""
    import polars as pl

    return pl.lit(format(Decimal(value), "f")).cast(dtype)
