"""Finding what needs a user rule, and saying so in the report.

The report never hides money it could not classify: `warnings_for` says how much "Other
adjustments" holds, in how many rows, and the command that lists them; `describe` names the
user rules behind the report's rule figures. `unclassified` is `ledger transactions
--unclassified`; `test` and `suggest` are `ledger rules test` and `ledger rules suggest`
(ledger/cli/user_rules.py prints them).
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import TYPE_CHECKING

from ledger.core.user_rules import ORIGIN, UserRule

if TYPE_CHECKING:
    import polars as pl

    from ledger.reports.report import Period
    from ledger.store.directory import Ledger

UNCLASSIFIED = ("other",)
"""Kinds no importer, profile or rule could name: what `--unclassified` lists."""

OTHER = ("other", "adjustment")
"""Kinds the report's "Other adjustments" line sums."""


# --- the report -----------------------------------------------------------------------------


def describe(items: list[dict], ledger: Ledger) -> list[dict]:
    """The report's `rules` entries with the user rules filled in (what the rule says, from
    ledger.toml, confidence `user`); fee rules are left as they are."""
    user = [i for i in items if str(i.get("id", "")).startswith("user:")]
    if not user:
        return items
    from ledger.core.user_rules import for_ledger

    known = {r.id: r for r in for_ledger(ledger)}
    for item in user:
        rules = [known[i] for i in item["id"].removeprefix("user:").split("+") if i in known]
        item["rule"] = "; ".join(r.summary() for r in rules) or None
        item["source"] = ledger.config_path.name
        item["confidence"] = "user"
        item["note"] = "; ".join(r.text["note"] for r in rules if r.text.get("note")) or None
    return items


def warnings_for(valued: pl.DataFrame, shown: dict, period: Period, currency: str) -> list[str]:
    """What the report must say about money it could not classify, and a net above gross."""
    import polars as pl

    out: list[str] = []
    gross, net, other = (Decimal(shown[k]) for k in ("gross", "net", "other"))
    counts = dict(valued.filter(pl.col("kind").is_in(OTHER))
                  .group_by(pl.col("kind").cast(pl.String)).len().iter_rows())
    share = f" (net is {net / gross:.1%} of gross)" if gross > 0 and net > gross else ""
    listing = (f"ledger transactions --unclassified --from {period.start.isoformat()} "
               f"--to {period.end.isoformat()}")
    if other and counts:
        n_other, n_adjust = counts.get("other", 0), counts.get("adjustment", 0)
        rows = " and ".join(part for part in (
            f"{n_other} unclassified row(s) (kind other)" if n_other else "",
            f"{n_adjust} adjustment row(s)" if n_adjust else "") if part)
        text = (f"Other adjustments {other:,} {currency} come from {rows}, counted in net but "
                f"neither as earnings nor as costs{share}.")
        if n_other:
            text += (f" List them with `{listing}`; say what they are with [[rules]] in "
                     "ledger.toml (`ledger rules suggest` drafts them).")
        else:
            text += (f" List them with `ledger transactions --kind adjustment --from "
                     f"{period.start.isoformat()} --to {period.end.isoformat()}`.")
        out.append(text)
    elif share or (gross <= 0 < net):
        out.append(f"Net {net:,} {currency} is above gross {gross:,}{share}: costs are "
                   "negative (fee refunds, FX gains); check them with `ledger transactions`.")
    return out


# --- finding rows ---------------------------------------------------------------------------


def unclassified(rows: pl.DataFrame) -> pl.DataFrame:
    """Rows no importer, profile or rule named (kind other), largest amount first."""
    import polars as pl

    return rows.filter(pl.col("kind").is_in(UNCLASSIFIED)).sort(
        pl.col("amount").abs(), "date", descending=[True, False], maintain_order=True)


def test(stored: pl.DataFrame, rules: list[UserRule], examples: int = 3) -> dict:
    """Per rule: rows it matches, rows it applies to (not taken by an earlier rule), rows it
    changes, and a few examples; then each pair of rules that would both change some rows,
    with how many and which one wins. On the stored rows, as `Ledger.rows` would apply them."""
    import polars as pl

    from ledger.core.rule_apply import apply
    from ledger.core.user_rules import applied, condition, stop

    if not rules:
        return {"schema": "ledger.rules-test/1", "rows": stored.height, "rules": [],
                "overlaps": []}
    marks = stored.lazy().select(
        [condition(r).alias(f"_m{i}") for i, r in enumerate(rules)]).with_columns(
        stop(rules).alias("_stop")).with_columns(
        [a.alias(f"_a{i}") for i, a in enumerate(applied(rules))]).collect(engine="in-memory")
    after = apply(stored, rules)
    columns = sorted({c for r in rules for c in r.sets})
    changed = pl.DataFrame([after[c].ne_missing(stored[c]).alias(c) for c in columns]) \
        .select(pl.any_horizontal(pl.all()))[:, 0]
    out = []
    for i, rule in enumerate(rules):
        hit, on = marks[f"_m{i}"], marks[f"_a{i}"]
        sample = after.filter(on).head(examples)
        out.append({
            "id": rule.id, "rule": rule.summary(), "matches": int(hit.sum()),
            "applies": int(on.sum()), "changes": int((on & changed).sum()),
            "examples": [_example(r) for r in sample.iter_rows(named=True)]})
    overlaps = []
    for i in range(len(rules)):
        for j in range(i + 1, len(rules)):
            both = int((marks[f"_m{i}"] & marks[f"_m{j}"]).sum())
            if both:
                winner = "both apply (continue = true)" if rules[i].cont else \
                    f"{rules[i].id} wins (first match)"
                overlaps.append({"rules": [rules[i].id, rules[j].id], "rows": both,
                                 "outcome": winner})
    return {"schema": "ledger.rules-test/1", "rows": stored.height, "rules": out,
            "overlaps": overlaps}


def _example(row: dict) -> dict:
    return {"date": row["date"].isoformat(), "source": row["source"],
            "amount": f"{row['amount']:f}", "currency": row["currency"],
            "kind": str(row["kind"]), "counterparty": row["counterparty"],
            "description": row["description"], "line": row["line"]}


CHANNEL_WORDS = frozenset((
    "IMPS", "NEFT", "RTGS", "UPI", "CR", "DR", "TRF", "TRANSFER", "FROM", "TO", "INB", "MOB",
    "BY", "CREDIT", "DEBIT", "IFT", "ACH", "INW", "INWARD", "OUTWARD", "REF", "POS", "ECOM",
    "NACH", "MMT", "ACCOUNT", "AC", "PAYMENT", "PAID", "RECEIVED", "FUNDS", "FT", "IBFT",
    "RAAST", "INSTAPAY", "PESONET", "SEPA", "SWIFT", "WIRE", "INVOICE", "INV", "THE", "OF",
    "FOR", "AND",
))
"""Words of a bank narration that say how money moved, not who sent it."""

NAME_WORDS = 2
"""Words of a description (after the channel words) that group rows: `ACME LLC` of both
`IMPS-4123-ACME LLC-HDFC-...` and `NEFT CR-CITI0000002-ACME LLC-INV 13`."""

WORD = r"\b[A-Za-z][A-Za-z&'.]*[A-Za-z]\b"
"""A word with no digits: account numbers, references and dates never group rows."""


def suggest(rows: pl.DataFrame, limit: int = 20) -> list[dict]:
    """Draft rules for the unclassified rows (after the rules in effect), one per group of
    the same sign and the same counterparty (or the same first words of the description,
    digits dropped), largest total first. Each draft is TOML the user edits and keeps."""
    import polars as pl

    left = rows.filter(pl.col("kind").is_in(UNCLASSIFIED))
    if left.is_empty():
        return []
    every = pl.col("description").str.to_uppercase().str.extract_all(WORD)
    named = every.list.eval(pl.element().filter(~pl.element().is_in(list(CHANNEL_WORDS))))
    words = pl.when(named.list.len() > 0).then(named.list.head(NAME_WORDS)) \
        .otherwise(every.list.head(NAME_WORDS + 1))
    keyed = left.with_columns(
        pl.when(pl.col("amount") > 0).then(pl.lit("credit")).otherwise(pl.lit("debit"))
        .alias("_sign"),
        pl.col("counterparty").alias("_party"),
        pl.when(pl.col("counterparty").is_null()).then(words.list.join(" ")).alias("_words"))
    groups = keyed.group_by("_sign", "_party", "_words", "currency").agg(
        pl.len().alias("rows"), pl.col("amount").sum().alias("total"),
        pl.col("amount").abs().sum().alias("size"), pl.col("date").min().alias("first"),
        pl.col("date").max().alias("last"), pl.col("source").first().alias("source"),
        pl.col("description").first().alias("example"),
    ).sort("size", "rows", descending=True).head(limit)
    out: list[dict] = []
    taken: set[str] = set()
    for g in groups.iter_rows(named=True):
        out.append(_draft(g, taken))
    return out


def _draft(g: dict, taken: set[str]) -> dict:
    """One proposed rule (a dict with its TOML text) for a group from `suggest`."""
    credit = g["_sign"] == "credit"
    if g["_party"] is not None:
        name = g["_party"]
        match = ("counterparty", f"^{re.escape(name)}$")
    else:
        words = (g["_words"] or "").split()
        named = [w for w in words if w not in CHANNEL_WORDS]
        name = " ".join(named) if named else None
        pattern = ".*".join(re.escape(w) for w in words) if words else None
        match = ("description", pattern or re.escape(g["example"][:40]))
    base = re.sub(r"[^a-z0-9]+", "-", f"{(name or 'unnamed').lower()}-{g['_sign']}").strip("-")
    rule_id, n = base, 2
    while rule_id in taken:
        rule_id, n = f"{base}-{n}", n + 1
    taken.add(rule_id)
    if credit:
        sets = {"kind": "earning"} | ({"client": name} if name else {})
        why = "a credit: earning from a client? (or transfer if it is your own money)"
    else:
        sets = {"kind": "expense", "category": "CHANGE-ME"}
        why = "a debit: an expense? (or transfer to your own or family's account)"
    total = f"{Decimal(g['total']):,.2f} {g['currency']}"
    lines = [f"# {g['rows']} row(s), {total}, {g['first']}..{g['last']}, e.g. "
             f"{g['example'][:70]!r}", f"# {why}", "[[rules]]", f"id = {_toml(rule_id)}",
             f"{match[0]} = {_toml(match[1])}", f"sign = {_toml(g['_sign'])}",
             "set = { " + ", ".join(f"{k} = {_toml(v)}" for k, v in sets.items()) + " }"]
    return {"id": rule_id, "rows": g["rows"], "total": f"{Decimal(g['total']):f}",
            "currency": g["currency"], "first": g["first"].isoformat(),
            "last": g["last"].isoformat(), "example": g["example"],
            "match": {match[0]: match[1], "sign": g["_sign"]}, "set": sets,
            "toml": "\n".join(lines) + "\n"}


def _toml(text: str) -> str:
    """A TOML literal string when it can be one (regexes keep their backslashes readable)."""
    if "'" not in text and "\n" not in text:
        return f"'{text}'"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def origin_rule(origin: str | None) -> str | None:
    """The user rule id(s) in an origin (`rule:user:a+b` -> `a+b`), else None."""
    return origin.removeprefix(ORIGIN) if origin and origin.startswith(ORIGIN) else None
