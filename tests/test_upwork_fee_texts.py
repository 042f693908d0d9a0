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


def test_descriptions_are_trimmed_and_blank_is_empty_as_strip_chars_gives(tmp_path):
    """The description is the cells themselves where none needs trimming (csv_parts.trimmed):
    where some do, each is trimmed, and a blank or empty one is "", in either layout."""
    from importers import registry
    from importers.base import ImportOptions
    from tests.test_upwork_types import HEADER

    texts = ["  Spaces  ", "", '" "', "Plain", "\u00a0nbsp\u00a0", "\tTab"]
    for wanted in (texts, ["Plain", "Other"]):
        path = tmp_path / "upwork.csv"
        path.write_text(HEADER + "".join(
            f'"Dec {30 - n}, 2024",{100 + n},Bonus,{text},"",Jane,"",Jane,"",1.00,"","",'
            f'{30 - n}.00\n' for n, text in enumerate(wanted)), encoding="utf-8")
        rows = registry.parse(registry.read(path), ImportOptions()).rows.sort("line")
        cells = pl.Series([t.strip('"') if t.startswith('"') else t for t in wanted])
        expected = cells.replace("", None).fill_null("").str.strip_chars()
        assert rows["description"].to_list() == expected.to_list(), wanted
    new = tmp_path / "upwork-2024.csv"
    new.write_text(
        "Date,Transaction ID,Transaction type,Transaction summary,Description 1,Ref ID,"
        "Amount $,Currency,Current balance $\n"
        '"Dec 31, 2024",T2,Bonus," Thanks ",,R2,1.00,USD,3.00\n'
        '"Dec 30, 2024",T1,Bonus,,,R1,2.00,USD,2.00\n', encoding="utf-8")
    rows = registry.parse(registry.read(new), ImportOptions()).rows.sort("line")
    assert rows["description"].to_list() == ["Thanks", ""]
