"""Upwork's types and Connects fees: mapped once per distinct value, as written, and found by
a case-free pattern, must read exactly as trimming and lower-casing every cell did."""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importers import registry, upwork
from importers.base import ImportOptions

HEADER = ("Date,Ref ID,Type,Description,Agency,Freelancer,Team,Account Name,PO,Amount,"
          "Amount in local currency,Currency,Balance\n")


def test_connects_pattern_finds_what_lower_casing_finds():
    every = pl.Series([chr(i) for i in range(0x80, 0x30000) if not 0xD800 <= i < 0xE000])
    # no character but the ASCII capitals lower-cases to text holding these letters
    assert every.filter(every.str.to_lowercase().str.contains("[conets]")).len() == 0
    texts = pl.Series(["Connects", "CONNECTS bought", "cOnNeCtS", "connect s", "Conects",
                       "\u212aconnects", "\u0130CONNECTS\u017f", "", None])
    assert texts.str.contains(upwork.CONNECTS).to_list() == \
        texts.str.to_lowercase().str.contains("connects").to_list()


def test_types_as_written_map_as_trimmed_and_lower_cased(tmp_path: Path):
    lines = [("Dec 31, 2024", "1006", "  Foo Bar ", "Something", "-1.00", "100.00"),
             ("Dec 30, 2024", "1005", "SERVICE FEE", "Fees for CONNECTS", "-2.00", "101.00"),
             ("Dec 29, 2024", "1004", " Service Fee", "Service Fee - Ref ID 1003", "-3.00",
              "103.00"),
             ("Dec 28, 2024", "1003", "HOURLY", "Invoice - 2:30 hrs @ $40.00/hr", "100.00",
              "106.00"),
             ("Dec 27, 2024", "1002", "foo bar", "Other", "6.00", "6.00")]
    path = tmp_path / "upwork.csv"
    path.write_text(HEADER + "".join(f'"{d}",{r},{t},{text},"",Jane,"",Jane,"",{a},"","",{b}\n'
                                     for d, r, t, text, a, b in lines), encoding="utf-8")
    parsed = registry.parse(registry.read(path), ImportOptions())
    rows = parsed.rows.sort("line")
    assert rows["kind"].cast(pl.String).to_list() == \
        ["other", "platform_fee", "platform_fee", "earning", "other"]
    assert rows["category"].to_list() == \
        ["foo bar", "connects", "service_fee", "hourly", "foo bar"]
    assert rows["hours"].to_list() == [None, None, None, 2.5, None]
    assert rows["related_ref"].to_list() == [None, None, "1003", None, None]
    assert parsed.warnings == ["2 row(s) of unknown type ['foo bar'] imported as kind 'other'; "
                               "check them with `ledger transactions --kind other`"]


def test_refs_and_teams_are_trimmed_and_blank_is_none(tmp_path: Path):
    """Ref and Team are the cells themselves where none needs trimming (csv_parts.trimmed):
    where some do, they are trimmed, and a blank one is no value, as nonblank gives."""
    path = tmp_path / "upwork.csv"
    path.write_text(
        HEADER
        + '"Dec 31, 2024", 1002 ,Bonus,Thanks,"",Jane," Acme ",Jane,"",1.00,"","",3.00\n'
        + '"Dec 30, 2024",1001,Bonus,Thanks,"",Jane,"   ",Jane,"",2.00,"","",2.00\n',
        encoding="utf-8")
    rows = registry.parse(registry.read(path), ImportOptions()).rows.sort("line")
    assert rows["ref"].to_list() == ["1002", "1001"]
    assert rows["counterparty"].to_list() == ["Acme", None]


def test_a_blank_type_is_an_unknown_type_named_blank(tmp_path: Path):
    """A row whose Type cell is empty beside another unknown type imports as `other` with a
    warning naming it "(blank)": it once ended in an internal TypeError (None sorted with
    text)."""
    path = tmp_path / "upwork.csv"
    path.write_text(
        HEADER
        + '"Dec 31, 2024",1003,Mystery,Something,"",Jane,"",Jane,"",1.00,"","",6.00\n'
        + '"Dec 30, 2024",1002,,Something else,"",Jane,"",Jane,"",2.00,"","",5.00\n'
        + '"Dec 29, 2024",1001,Bonus,Thanks,"",Jane,"",Jane,"",3.00,"","",3.00\n',
        encoding="utf-8")
    parsed = registry.parse(registry.read(path), ImportOptions())
    rows = parsed.rows.sort("line")
    assert rows["kind"].cast(pl.String).to_list() == ["other", "other", "earning"]
    assert parsed.warnings == ["2 row(s) of unknown type ['(blank)', 'mystery'] imported as "
                               "kind 'other'; check them with `ledger transactions --kind "
                               "other`"]
