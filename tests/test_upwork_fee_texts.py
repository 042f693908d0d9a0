"""A platform fee's text as Upwork writes it (`upwork.FEE_TEXT` and digits) is not searched
for "connects" (upwork._classified): the kinds, categories and related refs stay what the
plain classification (each row looked up by joins, every fee's text searched) gives, for fee
texts with and without Connects in them, in any case, after the digits or between."""

from __future__ import annotations

import polars as pl

from importers import upwork
from tests.test_upwork_speed import _classified_by_joins

TEXTS = ["Service Fee - Ref ID 123", "Service Fee - Ref ID 123 connects",
         "Service Fee - Ref ID 123Connects", "Service Fee - Ref ID connects 12",
         "Service Fee - Ref ID 99 - CONNECTS", "Connects - Ref ID 7", "Service Fee - Ref ID ",
         "Service Fee - Ref ID 00", "service fee - Ref ID 5 connects", "Connects",
         "Service Fee - Ref ID 4\u00a0connects", "", "Service Fee - Ref ID 1 Ref ID 2"]
TYPES = ["Service Fee", "Connects", "Membership", "Hourly", "Withdrawal Fee", "VAT"]


def test_fee_texts_classify_as_when_every_fee_text_is_searched():
    df = pl.DataFrame({"type": [t for t in TYPES for _ in TEXTS],
                       "description": TEXTS * len(TYPES),
                       "n": range(len(TEXTS) * len(TYPES))})
    fast, warned = upwork._classified(df)
    slow, slow_warned = _classified_by_joins(df)
    assert warned == slow_warned
    assert fast.with_columns(pl.col("kind").cast(pl.String)).equals(slow)
    connects = fast.filter((pl.col("category") == "connects")
                           & (pl.col("type") == "Service Fee"))["description"].to_list()
    assert "Service Fee - Ref ID 123 connects" in connects
    assert "Service Fee - Ref ID 123" not in connects


def test_fee_refs_are_the_regexs_and_name_the_plain_fee_texts():
    texts = pl.Series([*TEXTS, None])
    refs, plain = upwork._fee_refs(texts)
    assert refs.equals(texts.str.extract(r"Ref ID\s*(\d+)", 1))
    assert texts.gather(plain).to_list() == ["Service Fee - Ref ID 123",
                                             "Service Fee - Ref ID 00"]
