"""Applying the user's rules chunk by chunk (ledger.core.rule_apply._scattered): rows read from
Parquet hold one chunk per row group, and each set column is written in those chunks instead
of being copied into one. Whatever the chunks, the answer must be the plain per-row one
(test_rule_hits.reference) and every written column must keep the rows' chunks."""

from __future__ import annotations

import itertools

import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.core import rule_apply
from tests.test_rule_hits import WORDS, bank, reference, rules_of

SETS = [{"kind": "earning", "client": "Acme LLC"}, {"category": "office"},
        {"kind": "expense", "category": "a-longer-category-name"},
        {"hours": 2.5, "contract": "c1", "client": "Someone With A Long Name"}]


def stored(texts: list[str], amounts: list[str], cuts: list[int]) -> pl.DataFrame:
    """Bank rows as Parquet gives them: cut at `cuts` into chunks (every column), with
    values already in the columns the rules set, so that each is held in those chunks."""
    rows = bank(texts, amounts).with_columns(
        pl.format("cat-{}", pl.col("line") % 3).alias("category"),
        pl.when(pl.col("line") % 2 == 0).then(pl.lit("Someone")).alias("counterparty"))
    bounds = [0, *sorted(set(cuts)), rows.height]
    pieces = [rows.slice(a, b - a) for a, b in itertools.pairwise(bounds) if b > a]
    return pl.concat(pieces, rechunk=False)


RULE = st.fixed_dictionaries(
    {"description": st.sampled_from(["IMPS.*ACME", "AMAZON", "glob:POS*", "SHOP01|STORE02",
                                     "acme", "CHARGES", "A.M"]),
     "set": st.sampled_from(SETS)},
    optional={"sign": st.sampled_from(["credit", "debit"]), "continue": st.booleans()})


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(texts=st.lists(st.lists(st.sampled_from(WORDS), min_size=1, max_size=3).map(" ".join),
                      min_size=1, max_size=40),
       tables=st.lists(RULE, min_size=1, max_size=5), data=st.data())
def test_chunk_by_chunk_is_the_plain_per_row_apply(texts, tables, data):
    amounts = data.draw(st.lists(st.sampled_from(["-7000", "-99", "100", "20000"]),
                                 min_size=len(texts), max_size=len(texts)))
    cuts = data.draw(st.lists(st.integers(0, len(texts)), max_size=4))
    rows = stored(texts, amounts, cuts)
    rules = rules_of(*({**t, "id": f"rule-with-a-long-id-{i}"} for i, t in enumerate(tables)))
    got = rule_apply.apply(rows, rules)
    assert got.equals(reference(rows, rules))
    def layout(frame: pl.DataFrame, name: str) -> list[int]:
        return [c.len() for c in frame[name].get_chunks()]

    for name in got.columns:  # a changed column in the rows' chunks, the rest as they were
        allowed = [layout(rows, "id")] if not got[name].equals(rows[name]) \
            else [layout(rows, "id"), layout(rows, name)]
        assert layout(got, name) in allowed, name


@pytest.mark.parametrize("single", ["category", "counterparty"])
def test_a_column_in_one_chunk_is_cut_as_the_others(single):
    # a column not cut as the rows are (as concat leaves an all-null one) is written whole
    # and then cut like its neighbours: never left misaligned
    rows = stored(["IMPS ACME LLC", "POS AMAZON PAY", "ACME"] * 4, ["100", "-99", "20000"] * 4,
                  [3, 7])
    rows = rows.with_columns(rows[single].rechunk())
    assert rows[single].n_chunks() == 1 and rows["id"].n_chunks() == 3
    rules = rules_of({"id": "acme", "description": "ACME", "set": SETS[3]},
                     {"id": "amazon", "description": "AMAZON", "set": SETS[2]})
    got = rule_apply.apply(rows, rules)
    assert got.equals(reference(rows, rules))
    assert [got[c].n_chunks() for c in ("category", "counterparty", "origin", "kind")] == [3] * 4


def test_a_later_rule_wins_in_every_chunk():
    rows = stored(["IMPS ACME LLC", "POS AMAZON PAY", "ACME"] * 4, ["100", "-99", "20000"] * 4,
                  [2, 5, 9])
    rules = rules_of({"id": "broad", "description": "ACME", "continue": True,
                      "set": {"category": "first", "client": "First"}},
                     {"id": "narrow", "description": "IMPS", "set": {"category": "second"}})
    got = rule_apply.apply(rows, rules)
    assert got.equals(reference(rows, rules))
    assert got.filter(pl.col("description").str.contains("IMPS"))["category"].unique() \
        .to_list() == ["second"]
