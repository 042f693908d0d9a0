"""The user's own rules (`[[rules]]` in ledger.toml): classify, name and assign any row.

A bank profile's `[[kinds]]` say what a bank's own descriptions always mean; these say what a
row means to this freelancer ("IMPS from ACME is an earning from Acme LLC"). They are applied
whenever rows are read (store.Ledger.rows, the batch worker), never written into the stored
rows: editing a rule re-classifies history without importing again, and the stored rows keep
what the export said. Each row a rule changed has origin `rule:user:<id>` (several ids joined
by `+` where `continue = true` let more than one apply), which `ledger transactions` shows and
the report's rules section counts beside the fee rules.

Every rule sees the row as stored (after the bank profile's kinds), so rules never depend on
each other's edits; the first rule that matches a row wins, unless it says `continue = true`,
in which case later matching rules apply too (a later rule's value for a column wins).
Vectorised throughout: `hits` finds each rule's rows (one Aho-Corasick pass for the literals
the regexes need, then the regexes only where those occur); ledger.core.rule_apply writes what
they set. `condition` is the plain expression of a rule, for `ledger rules test`.
`Ledger.rows` keeps what `hits` found between commands (ledger.store.rule_hits) and hands it to
`rule_apply.apply`.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger

ORIGIN = "rule:user:"
"""Prefix of the origin of a row a user rule changed."""

TEXT_KEYS = ("source", "account", "description", "counterparty")
"""Match keys holding a regex (or `glob:PATTERN`), tested case-insensitively by default."""

MATCH_KEYS = (*TEXT_KEYS, "currency", "kind", "sign", "amount_min", "amount_max", "from",
              "until")
SET_KEYS = ("kind", "category", "counterparty", "client", "contract", "hours")
OTHER_KEYS = ("id", "set", "continue", "case_sensitive", "note")
ALLOWED = frozenset((*MATCH_KEYS, *OTHER_KEYS))

SET_COLUMN = {"client": "counterparty"}
"""`client` is the counterparty the report's "By client" shows: the same column."""

HINT = ("each [[rules]] needs an id, at least one of " + ", ".join(MATCH_KEYS)
        + ", and set = { kind = ..., category = ..., client = ..., ... }; "
        "see `ledger rules --help` or docs/rules.md")


@dataclass(frozen=True)
class UserRule:
    """One validated `[[rules]]` table."""

    id: str
    match: dict[str, Any]
    """Match key -> value: regex texts (already case-flagged), currencies/kinds as tuples,
    sign as str, amounts as Decimal, dates as date."""
    sets: dict[str, Any]
    """Column -> value (`client` already mapped to `counterparty`)."""
    cont: bool = False
    text: dict[str, Any] = field(default_factory=dict)
    """The table as written, for listings."""

    def summary(self) -> str:
        """One line: what it matches and what it sets, in the file's own words."""
        matched = ", ".join(f"{k} {_show(v)}" for k, v in self.text.items()
                            if k in MATCH_KEYS)
        sets = ", ".join(f"{k} {_show(v)}" for k, v in (self.text.get("set") or {}).items())
        return f"{matched or 'every row'} -> {sets}" + (" (continue)" if self.cont else "")


def _show(value: Any) -> str:
    return repr(value) if isinstance(value, str) else str(value)


def for_ledger(ledger: Ledger) -> list[UserRule]:
    """The validated rules of a ledger's ledger.toml ([] without any): checked once per text
    with the rest of the file (ledger.core.config.load), since checking each regex with polars
    costs milliseconds a rule and a report asks for the rules several times."""
    return list(ledger.settings().rules)


def load(config: dict, where: str = "ledger.toml", text: str = "") -> list[UserRule]:
    """Validate `[[rules]]` of a parsed ledger.toml; UsageError naming the file (and line,
    when `text` is the file's text), the rule id and the key otherwise."""
    tables = config.get("rules", [])
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise UsageError("rules must be written as [[rules]] tables", path=where, hint=HINT)
    out: list[UserRule] = []
    seen: set[str] = set()
    pending: list[tuple[str, Any, Any]] = []  # regexes polars has yet to accept: see _engine
    try:
        for number, table in enumerate(tables, 1):
            rule = _rule(table, number, where, text, pending)
            if rule.id in seen:
                raise _bad(f"[[rules]] id {rule.id!r} is used twice", where, text, rule.id,
                           "give each rule its own id")
            seen.add(rule.id)
            out.append(rule)
    except UsageError:
        _engine(pending)  # an earlier rule's regex is refused first, as it always was
        raise
    _engine(pending)
    return out


def _engine(pending: list[tuple[str, Any, Any]]) -> None:
    """Refuse the first of `pending` (pattern, value, bad) that polars' regex engine refuses
    (Python's `re` accepted each). All are compiled in one select: one polars call a rule costs
    about half a millisecond, paid by every command; only when that fails is each tried in
    turn, to name the first."""
    if not pending:
        return
    import polars as pl

    frame = pl.DataFrame({"t": [""]})
    try:
        frame.select(pl.col("t").str.contains(p).alias(str(i))
                     for i, (p, _, _) in enumerate(pending))
        return
    except pl.exceptions.PolarsError:
        pass
    for pattern, value, bad in pending:
        try:
            pl.Series([""]).str.contains(pattern)
        except pl.exceptions.PolarsError as exc:
            raise bad(f"{value!r} is not a usable regex: {str(exc).splitlines()[0]}") from None


def _line(text: str, rule_id: str | None, key: str | None = None) -> int | None:
    """The line of `key = ...` in the rule's table (else of its `id = "<rule_id>"`) in the
    file's text, for the message."""
    if not text or not rule_id:
        return None
    found = re.search(rf"^[ \t]*id[ \t]*=\s*[\"']{re.escape(rule_id)}[\"']", text, re.MULTILINE)
    if not found:
        return None
    start = text.rfind("[[", 0, found.start())
    end = text.find("\n[", found.end())
    table = text[max(start, 0):end if end >= 0 else len(text)]
    name = (key or "").split(".")[0]
    at = re.search(rf"^[ \t]*{re.escape(name)}[ \t]*=", table, re.MULTILINE) if name else None
    offset = max(start, 0) + at.start() if at else found.start()
    return text.count("\n", 0, offset) + 1


def _bad(message: str, where: str, text: str, rule_id: str | None,
         hint: str = HINT, key: str | None = None) -> UsageError:
    return UsageError(message, path=where, line=_line(text, rule_id, key), hint=hint)


def _rule(table: dict, number: int, where: str, text: str,
          pending: list[tuple[str, Any, Any]]) -> UserRule:
    from ledger.core.schema import KINDS

    rule_id = table.get("id")
    if not isinstance(rule_id, str) or not rule_id.strip():
        raise _bad(f"[[rules]] #{number} has no id", where, text, None,
                   'add id = "a-short-name" (unique): it names the rule in every listing')
    label = f"[[rules]] {rule_id!r}"

    def bad(key: str, what: str, hint: str = HINT) -> UsageError:
        return _bad(f"{label}: {key} {what}", where, text, rule_id, hint, key)

    unknown = sorted(set(table) - ALLOWED)
    if unknown:
        raise bad(unknown[0], "is not a rule key",
                  "match keys: " + ", ".join(MATCH_KEYS) + "; other keys: "
                  + ", ".join(OTHER_KEYS))
    sensitive = table.get("case_sensitive", False)
    if not isinstance(sensitive, bool):
        raise bad("case_sensitive", "must be true or false")
    cont = table.get("continue", False)
    if not isinstance(cont, bool):
        raise bad("continue", "must be true or false")
    if "note" in table and not isinstance(table["note"], str):
        raise bad("note", "must be a string")
    match: dict[str, Any] = {}
    for key in TEXT_KEYS:
        if key in table:
            check = functools.partial(bad, key)
            match[key] = _pattern(table[key], sensitive, check)
            pending.append((match[key], table[key], check))
    for key, allowed in (("currency", None), ("kind", KINDS)):
        if key in table:
            values = table[key] if isinstance(table[key], list) else [table[key]]
            if not values or not all(isinstance(v, str) and v for v in values):
                raise bad(key, "must be a string or a list of strings")
            values = [v.upper() if key == "currency" else v for v in values]
            wrong = [v for v in values if allowed is not None and v not in allowed]
            if wrong:
                raise bad(key, f"{wrong[0]!r} is not a kind", "kinds: " + ", ".join(KINDS))
            match[key] = tuple(values)
    if "sign" in table:
        if table["sign"] not in ("credit", "debit"):
            raise bad("sign", f'must be "credit" or "debit", not {table["sign"]!r}')
        match["sign"] = table["sign"]
    for key in ("amount_min", "amount_max"):
        if key in table:
            match[key] = _amount(table[key], lambda what, k=key: bad(k, what))
    for key in ("from", "until"):
        if key in table:
            match[key] = _date(table[key], lambda what, k=key: bad(k, what))
    if not match:
        raise bad("match", "is missing: the rule would change every row",
                  "add at least one of " + ", ".join(MATCH_KEYS))
    for lo, hi in (("amount_min", "amount_max"), ("from", "until")):
        if lo in match and hi in match and match[lo] > match[hi]:
            raise bad(lo, f"is after {hi}: the rule can match nothing")
    return UserRule(id=rule_id, match=match, sets=_sets(table.get("set"), bad, KINDS),
                    cont=cont, text=dict(table))


def _pattern(value: Any, sensitive: bool, bad: Any) -> str:
    """A polars regex for a match key: the text as a regex, or `glob:PATTERN` matching the
    whole value; a list is any of them."""
    values = value if isinstance(value, list) else [value]
    if not values or not all(isinstance(v, str) and v for v in values):
        raise bad("must be a regex (or glob:PATTERN) string, or a list of them")
    parts = []
    for item in values:
        if item.startswith("glob:"):
            glob = item.removeprefix("glob:")
            parts.append("^" + "".join(".*" if c == "*" else "." if c == "?" else re.escape(c)
                                       for c in glob) + "$")
        else:
            parts.append(item)
    pattern = ("" if sensitive else "(?i)") + "|".join(f"(?:{p})" for p in parts)
    try:
        re.compile(pattern)  # polars' engine is asked too, for all rules at once: _engine
    except re.error as exc:
        raise bad(f"{value!r} is not a usable regex: {str(exc).splitlines()[0]}") from None
    return pattern


def _date(value: Any, bad: Any) -> dt.date:
    """A TOML date (native, or a YYYY-MM-DD string)."""
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise bad(f"{value!r} is not a date YYYY-MM-DD") from None


def _amount(value: Any, bad: Any) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise bad("must be a number (the size of the amount, e.g. 1000 or \"99.50\")")
    try:
        amount = Decimal(str(value).replace(",", ""))
    except InvalidOperation:
        raise bad(f"{value!r} is not a number") from None
    if not amount.is_finite() or amount < 0:
        raise bad("must be a size (>= 0): use sign = \"debit\" for money going out")
    return amount


def _sets(table: Any, bad: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
    if not isinstance(table, dict) or not table:
        raise bad("set", "is missing or empty",
                  'e.g. set = { kind = "earning", client = "Acme LLC" }; keys: '
                  + ", ".join(SET_KEYS))
    unknown = sorted(set(table) - set(SET_KEYS))
    if unknown:
        raise bad(f"set.{unknown[0]}", "is not a column a rule can set",
                  "set keys: " + ", ".join(SET_KEYS))
    if "client" in table and "counterparty" in table:
        raise bad("set.client", "and set.counterparty are the same column: keep one")
    out: dict[str, Any] = {}
    for key, value in table.items():
        if key == "hours":
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise bad("set.hours", f"must be a number of hours >= 0, not {value!r}")
            out["hours"] = float(value)
            continue
        if not isinstance(value, str) or not value.strip():
            raise bad(f"set.{key}", "must be a non-empty string")
        if key == "kind" and value not in kinds:
            raise bad("set.kind", f"{value!r} is not a kind", "kinds: " + ", ".join(kinds))
        out[SET_COLUMN.get(key, key)] = value
    return out


# --- applying -------------------------------------------------------------------------------


def condition(rule: UserRule) -> pl.Expr:
    """The rows `rule` matches, as one boolean expression (nulls never match)."""
    import polars as pl

    return pl.all_horizontal([*_text_parts(rule), *_cheap_parts(rule)]).fill_null(False)


def _text_parts(rule: UserRule, skip: str | None = None) -> list[pl.Expr]:
    """The regex tests of `rule` (but the one of column `skip`): the costly part of its
    condition."""
    import polars as pl

    return [pl.col(key).str.contains(rule.match[key]) for key in TEXT_KEYS
            if key in rule.match and key != skip]


def _cheap_parts(rule: UserRule) -> list[pl.Expr]:
    """The tests of `rule` other than regexes: comparisons, cheap on every row."""
    import polars as pl

    from ledger.core.money import decimal_lit

    parts: list[pl.Expr] = []
    m = rule.match
    if "currency" in m:
        parts.append(pl.col("currency").is_in(list(m["currency"])))
    if "kind" in m:
        parts.append(pl.col("kind").cast(pl.String).is_in(list(m["kind"])))
    if "sign" in m:
        parts.append(pl.col("amount") > 0 if m["sign"] == "credit" else pl.col("amount") < 0)
    size = pl.col("amount").abs()
    if "amount_min" in m:
        parts.append(size >= decimal_lit(m["amount_min"], pl.Decimal(38, 4)))
    if "amount_max" in m:
        parts.append(size <= decimal_lit(m["amount_max"], pl.Decimal(38, 4)))
    if "from" in m:
        parts.append(pl.col("date") >= m["from"])
    if "until" in m:
        parts.append(pl.col("date") <= m["until"])
    return parts


def stop(rules: list[UserRule]) -> pl.Expr:
    """Per row, the index of the first matching rule without `continue` (len(rules) where
    none), over the `_m<i>` match columns: rules after it do not apply to the row."""
    import polars as pl

    stops = [pl.when(pl.col(f"_m{i}")).then(pl.lit(i, dtype=pl.UInt32))
             for i, rule in enumerate(rules) if not rule.cont]
    if not stops:
        return pl.lit(len(rules), dtype=pl.UInt32)
    return pl.min_horizontal(stops).fill_null(len(rules))


def applied(rules: list[UserRule]) -> list[pl.Expr]:
    """Per rule, whether it applies to the row: it matches and no earlier rule that matched
    stopped there (over the `_m<i>` columns and the `_stop` column of `stop`)."""
    import polars as pl

    return [pl.col(f"_m{i}") & (pl.col("_stop") >= i) for i in range(len(rules))]


def matches(rows: pl.DataFrame, rules: list[UserRule]) -> pl.DataFrame:
    """One boolean column `_m<i>` per rule: the rows it matches (from `hits`)."""
    import polars as pl

    return pl.DataFrame([pl.repeat(False, rows.height, eager=True).scatter(index, True)
                         .alias(f"_m{i}") for i, index in enumerate(hits(rows, rules))])


def hits(rows: pl.DataFrame, rules: list[UserRule]) -> list[pl.Series]:
    """Per rule, the sorted row numbers it matches.

    Scanning a million descriptions once per rule would cost more than the report itself, so
    a rule whose pattern needs a literal (`ACME` in `IMPS.*ACME`) is tested in full only on
    the rows that contain it: one Aho-Corasick pass finds, for all rules at once, which rows
    hold which literals (`str.extract_many`, overlapping, ASCII case-insensitive). Literals
    are chosen so that every row the regex can match holds one (see `needles`)."""
    import polars as pl

    keyed = [(i, *_needle_key(rule)) for i, rule in enumerate(rules)]
    full = [i for i, column, _ in keyed if column is None]
    by_column: dict[str, list[tuple[int, list[str]]]] = {}
    for i, column, needles in keyed:
        if column is not None:
            by_column.setdefault(column, []).append((i, needles))
    out: dict[int, pl.Series] = {}
    # one chunk: gathering rows from it is several times cheaper than from one per row group
    needed = rows.select({c for i, _, _ in keyed for c in _columns(rules[i])}).rechunk()
    if full:  # no literal to look for: the comparisons first, the regexes on what is left
        cheap = [i for i in full if _cheap_parts(rules[i]) and _text_parts(rules[i])]
        if cheap:
            found = needed.lazy().select(
                pl.all_horizontal(_cheap_parts(rules[i])).fill_null(False).arg_true()
                .implode().alias(f"_m{i}") for i in cheap).collect()
            for i in cheap:
                index = found[f"_m{i}"].explode().drop_nulls().cast(pl.UInt32)
                out[i] = index.filter(needed[index].select(
                    condition(rules[i]).alias("m"))["m"]) if index.len() else index
        rest = [i for i in full if i not in out]
        if rest:
            found = needed.lazy().select(condition(rules[i]).arg_true().implode()
                                         .alias(f"_m{i}") for i in rest).collect()
            out.update({i: found[f"_m{i}"].explode().drop_nulls().cast(pl.UInt32)
                        for i in rest})
    for column, items in by_column.items():
        words = sorted({n for _, needles in items for n in needles})
        owners = pl.DataFrame([(n, i) for i, needles in items for n in needles],
                              schema={"_w": pl.String, "_rule": pl.Int64}, orient="row")
        pairs = needed.lazy().select(pl.col(column).str.extract_many(
            words, ascii_case_insensitive=True, overlapping=True).alias("_w")).with_row_index(
            "_row").explode("_w").drop_nulls("_w").with_columns(
            pl.col("_w").str.to_lowercase()).join(owners.lazy(), on="_w").select(
            "_rule", "_row").collect()
        for (i,), part in pairs.partition_by("_rule", as_dict=True).items():
            index = part["_row"].unique().sort()
            rule = rules[i]
            if _is_literal(rule.match[column], dict(items)[i]):  # holding it is matching it
                tests = [*_text_parts(rule, skip=column), *_cheap_parts(rule)]
                if not tests:
                    out[i] = index
                    continue
                test = pl.all_horizontal(tests).fill_null(False)
            else:
                test = condition(rule)
            out[i] = index.filter(needed.select(_columns(rule))[index].select(
                test.alias("m"))["m"])
    empty = pl.Series([], dtype=pl.UInt32)
    return [out.get(i, empty) for i in range(len(rules))]


def _columns(rule: UserRule) -> list[str]:
    """The columns `condition(rule)` reads."""
    column = {"sign": "amount", "amount_min": "amount", "amount_max": "amount", "from": "date",
              "until": "date"}
    return sorted({column.get(key, key) for key in rule.match})


def _is_literal(pattern: str, found: list[str]) -> bool:
    """Whether `pattern` (as `_pattern` wrote it) matches exactly the values holding its one
    literal `found[0]`, ASCII case aside: then the rows the literal search found need no
    regex. Only for case-insensitive plain words (letters, digits, a few safe marks) whose
    literal is the whole word (`needles` cuts words at k and s)."""
    inner = pattern.removeprefix("(?i)(?:").removesuffix(")")
    return (pattern.startswith("(?i)(?:") and len(found) == 1 and inner.lower() == found[0]
            and all(c.isascii() and (c.isalnum() or c in " -_@/,:#&'") for c in inner))


def _needle_key(rule: UserRule) -> tuple[str | None, list[str]]:
    """(column, literals) a row must hold one of to match `rule` (description first), or
    (None, []) where no text key gives usable literals."""
    for key in ("description", "counterparty", "account", "source"):
        if key in rule.match:
            found = needles(rule.match[key])
            if found:
                return key, found
    return None, []


UNSAFE_SYNTAX = ("[[", "&&", "--", "~~", "\\p", "\\P", "(?x", "(?U", "(?s", "(?m", "(?R")
"""Regex syntax where Python's parser (used to find literals) and polars' regex could read a
pattern differently: such patterns are always tested in full."""


def needles(pattern: str) -> list[str] | None:
    """Lower-case ASCII literals, at least one of which every match of `pattern` contains
    (`(?i)IMPS.*ACME` -> ["imps"] or ["acme"], `(?:a)|(?:b)` -> a's and b's), or None.

    Only letters whose every case variant is ASCII are kept (`k` and `s` also match the Kelvin
    sign and the long s under Unicode case folding), so an ASCII case-insensitive search
    never misses a row the regex matches."""
    import re._constants as c
    import re._parser as p

    if any(token in pattern for token in UNSAFE_SYNTAX):
        return None
    try:
        parsed = p.parse(pattern)
    except (re.error, RecursionError):
        return None

    def safe(text: str) -> str | None:
        pieces = [part for ascii_part in re.split(r"[^\x00-\x7f]", text)
                  for part in re.split("[ks]", ascii_part.lower())]
        best = max(pieces, key=len)
        return best if len(best) >= 3 else None

    def required(items: Any) -> list[str] | None:
        best: list[str] | None = None
        run: list[str] = []

        def consider(found: list[str] | None) -> None:
            nonlocal best
            if found and (best is None or min(map(len, found)) > min(map(len, best))):
                best = found

        def flush() -> None:
            word = safe("".join(run))
            consider([word] if word else None)
            run.clear()

        for op, av in items:
            if op is c.LITERAL:
                run.append(chr(av))
                continue
            flush()
            if op is c.SUBPATTERN:
                consider(required(av[-1].data))
            elif op is c.BRANCH:
                alternatives = [required(branch.data) for branch in av[1]]
                if all(alternatives):
                    consider([w for alt in alternatives for w in alt])  # type: ignore[union-attr]
            elif op in (c.MAX_REPEAT, c.MIN_REPEAT, c.POSSESSIVE_REPEAT) and av[0] >= 1:
                consider(required(av[2].data))
        flush()
        return best

    return required(parsed.data)


def is_user(origin: pl.Expr) -> pl.Expr:
    """Rows a user rule changed (still stored rows, not ones the fee rules derived)."""
    return origin.str.starts_with(ORIGIN)


def from_source(origin: pl.Expr) -> pl.Expr:
    """A stored row, as imported or as a user rule re-classified it."""
    return (origin == "source") | is_user(origin)
