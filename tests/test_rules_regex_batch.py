"""The polars regex check of [[rules]] runs once for all rules (user_rules._engine), not once
a rule: these fail if the batched check accepts, refuses or names anything differently from
checking each pattern on its own, as load did before."""

from __future__ import annotations

import polars as pl
import pytest

from ledger.core import user_rules
from ledger.core.errors import UsageError

# Python's `re` accepts these; polars' engine (Rust regex) refuses them
LOOKAROUND = "(?<=IMPS )ACME"
BACKREF = r"(A)\1"


def rule(rule_id: str, **keys) -> dict:
    return {"id": rule_id, "set": {"kind": "earning"}, **keys}


def one_by_one(pattern: str) -> str | None:
    """The check as it ran per rule: polars' first error line, or None when accepted."""
    try:
        pl.Series([""]).str.contains(pattern)
    except pl.exceptions.PolarsError as exc:
        return str(exc).splitlines()[0]
    return None


def test_valid_rules_load_with_the_same_patterns():
    tables = [rule(f"r{i}", description=f"SHOP{i:02d}|STORE{i:02d}") for i in range(12)]
    tables.append(rule("g", description="glob:CREDIT INTEREST*", counterparty="x"))
    loaded = user_rules.load({"rules": tables})
    assert [r.id for r in loaded] == [t["id"] for t in tables]
    assert all(one_by_one(p) is None for r in loaded for p in
               (r.match.get("description"), r.match.get("counterparty")) if p)


@pytest.mark.parametrize("bad", [LOOKAROUND, BACKREF])
@pytest.mark.parametrize("position", [0, 3, 5])
def test_the_refused_regex_is_named_as_one_by_one(bad, position):
    tables = [rule(f"r{i}", description=f"SHOP{i}") for i in range(6)]
    tables[position] = rule(f"r{position}", counterparty="ok", description=bad)
    with pytest.raises(UsageError) as caught:
        user_rules.load({"rules": tables})
    pattern = "(?i)(?:" + bad + ")"
    expected = one_by_one(pattern)
    assert expected is not None  # else this test proves nothing
    assert (f"[[rules]] 'r{position}': description {bad!r} is not a usable regex: {expected}"
            in str(caught.value))


def test_an_earlier_refused_regex_comes_before_a_later_error():
    """Before the batch, rule 1's regex was refused before rule 2 was read."""
    tables = [rule("first", description=LOOKAROUND), rule("second", sign="both")]
    with pytest.raises(UsageError, match=r"'first': description .* is not a usable regex"):
        user_rules.load({"rules": tables})
    # and in one rule: the regex key is read before `sign`
    tables = [rule("only", description=LOOKAROUND, sign="both")]
    with pytest.raises(UsageError, match=r"'only': description .* is not a usable regex"):
        user_rules.load({"rules": tables})


def test_the_first_of_two_refused_regexes_is_named():
    tables = [rule("a", description="FINE"), rule("b", source=BACKREF),
              rule("c", description=LOOKAROUND)]
    with pytest.raises(UsageError, match="'b': source"):
        user_rules.load({"rules": tables})


def test_a_later_error_without_a_refused_regex_is_unchanged():
    tables = [rule("a", description="FINE"), rule("b", description="OK", sign="both")]
    with pytest.raises(UsageError, match="'b': sign must be \"credit\" or \"debit\""):
        user_rules.load({"rules": tables})
