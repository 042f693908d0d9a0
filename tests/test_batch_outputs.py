"""`ledger batch --also csv,dta`: the whole panel as panel.csv and panel.dta (issue 22).

Three workers (Fiverr in BD, Upwork with a timesheet in PK, PayPal with no country) go through
the real command once; panel.csv and panel.dta are checked against the Parquet panel cell by
cell, and a few cells against figures worked out by hand from the golden exports.
"""

from __future__ import annotations

import csv
import math
import re
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger.batch.anon import pseudonym
from ledger.batch.columns import LABELS, PANEL, TRAJECTORIES, stata_label
from ledger.batch.outputs import panel_columns, parse_also, write_also
from ledger.core.errors import UsageError
from tests.test_cli import ok, run

DATA = Path(__file__).parent / "data"
TRAJECTORY_CODES = {1: "sinking", 2: "struggling", 3: "surviving", 4: "swimming",
                    5: "unclassified"}


@pytest.fixture(scope="module")
def three(tmp_path_factory):
    cwd = tmp_path_factory.mktemp("also")
    folders = {name: cwd / "in" / name for name in ("w-fiverr", "w-upwork", "w-nowhere")}
    for folder in folders.values():
        folder.mkdir(parents=True)
    shutil.copy(DATA / "fiverr" / "earnings.csv", folders["w-fiverr"])
    (folders["w-fiverr"] / "country.txt").write_text("bd\n")
    shutil.copy(DATA / "upwork" / "classic.csv", folders["w-upwork"])
    shutil.copy(DATA / "hours" / "hours.csv", folders["w-upwork"])
    (folders["w-upwork"] / "ledger.toml").write_text('country = "PK"\n')
    shutil.copy(DATA / "paypal" / "activity-en.csv", folders["w-nowhere"])
    result = ok(run("batch", "in", "--out", "out", "--jobs", "1", "--also", "csv,dta",
                    cwd=cwd))
    assert "and the whole panel in out/panel.csv, out/panel.dta" in result.stdout
    key = (cwd / "batch.key").read_bytes()
    names = {pseudonym(key, w): w for w in folders}
    return cwd / "out", names


def parquet_panel(out: Path) -> pl.DataFrame:
    """The Parquet panel in panel.csv's order: dictionary columns, country/year/pseudonym/month."""
    panel = pl.read_parquet(out / "panel" / "**" / "*.parquet", hive_partitioning=True)
    return panel.select(c.name for c in PANEL).sort("country", "year", "pseudonym", "month")


def test_csv_is_the_parquet_panel_exactly(three):
    out, names = three
    panel = parquet_panel(out)
    text = (out / "panel.csv").read_text("utf-8")
    assert text.splitlines()[0] == ",".join(c.name for c in PANEL)
    schema = {c: panel.schema[c] for c in panel.columns}
    assert pl.read_csv(out / "panel.csv", schema=schema).equals(panel)
    # amounts are plain decimal text with their cents, never a float's digits
    rows = list(csv.DictReader(text.splitlines()))
    money = [c.name for c in PANEL if c.type == "Decimal(38,2)"]
    assert all(re.fullmatch(r"-?\d+\.\d\d", r[c]) for r in rows for c in money if r[c])
    by = {(names[r["pseudonym"]], r["month"]): r for r in rows}
    assert len(by) == 4
    # Fiverr, June 2024, by hand: earnings 96 + 8 + 24 cleared (the $40 still pending is not),
    # less the $24 cancelled, are 80% of gross: 104 / 0.8 = 130; fees: 20% of 130 = 26, plus
    # Promoted Gigs 15 and Seller Plus 29 = 70; the $2 PayPal withdrawal fee; net 58
    fiverr = by[("w-fiverr", "2024-06")]
    assert [fiverr[c] for c in ("country", "year", "active", "platforms", "gross_usd",
                                "platform_fees_usd", "payment_fees_usd", "net_usd",
                                "local_currency")] == [
        "BD", "2024", "true", "fiverr", "130.00", "70.00", "2.00", "58.00", "BDT"]
    # Upwork, June 2024: 258 hourly + 40 bonus - 20 refund = 278; fees 25.80 + 5.42 VAT +
    # 4.00 + 14.99 + 12.00 = 62.21; withdrawal fee 0.99; goodwill credit 5 (other);
    # net 278 - 62.21 - 0.99 + 5 = 219.80; cost rate 63.20 / 278 = 0.2273
    upwork = by[("w-upwork", "2024-06")]
    assert [upwork[c] for c in ("gross_usd", "platform_fees_usd", "payment_fees_usd",
                                "other_usd", "net_usd", "effective_cost_rate",
                                "unpaid_hours")] == [
        "278.00", "62.21", "0.99", "5.00", "219.80", "0.2273", "7.5"]
    nowhere = by[("w-nowhere", "2024-06")]
    assert (nowhere["country"], nowhere["local_currency"], nowhere["gross_local"]) == (
        "unknown", "", "")


def test_dta_matches_the_parquet_panel_with_labels(three):
    import pandas as pd

    out, names = three
    panel = parquet_panel(out)
    dta = pd.read_stata(out / "panel.dta")
    assert list(dta.columns) == panel.columns and len(dta) == panel.height
    for column in PANEL:
        expected, got = panel[column.name].to_list(), dta[column.name].tolist()
        if column.type.startswith("Decimal"):  # the double nearest the exact decimal
            assert [None if math.isnan(x) else Decimal(repr(x)) for x in got] == [
                None if d is None else d for d in expected], column.name
        elif column.type == "Float64":
            assert [None if math.isnan(x) else x for x in got] == expected, column.name
        elif column.type == "Boolean":
            assert got == [int(b) for b in expected], column.name
        elif column.type == "String":  # Stata has no missing text: null is ""
            assert [str(x) for x in got] == ["" if s is None else s for s in expected]
        else:
            assert got == expected, column.name
    rows = {(names[p], m): i for i, (p, m) in enumerate(zip(dta["pseudonym"], dta["month"],
                                                            strict=True))}
    upwork = dta.iloc[rows[("w-upwork", "2024-06")]]
    assert (upwork["gross_usd"], upwork["net_usd"], upwork["platform_fees_usd"]) == (
        278.0, 219.8, 62.21)
    assert (upwork["country"], upwork["active"], upwork["trajectory"]) == ("PK", 1,
                                                                           "surviving")
    codes = pd.read_stata(out / "panel.dta", convert_categoricals=False)["trajectory"]
    assert [TRAJECTORY_CODES[c] for c in codes] == panel["trajectory"].to_list()
    with pd.io.stata.StataReader(out / "panel.dta") as reader:
        reader.read()
        labels, values = reader.variable_labels(), reader.value_labels()
    assert values == {"trajectory": TRAJECTORY_CODES}
    assert labels["net_usd"] == "Net earnings, USD (double; exact in panel.csv)"
    assert labels["net_vs_per_capita"] == "net_usd / per_capita_usd (double; exact in panel.csv)"
    assert labels["hours"] == "Paid hours"  # the first clause of the dictionary's meaning
    assert labels["trajectory"] == "Livelihood trajectory over the worker's months"
    assert set(labels) == set(panel.columns) and all(0 < len(t) <= 80 for t in labels.values())


def test_every_column_fits_stata(monkeypatch):
    assert tuple(TRAJECTORY_CODES.values()) == TRAJECTORIES
    for column in PANEL:
        assert re.fullmatch(r"[a-z_][a-z0-9_]{0,31}", column.name), column.name
        assert 0 < len(stata_label(column.name, decimal=True)) <= 80, column.name
    # without a short label: the meaning's first clause; too long: cut at a word
    assert stata_label("per_capita_usd") == "Monthly per-capita income benchmark, USD"
    monkeypatch.delitem(LABELS, "per_capita_usd")
    assert stata_label("per_capita_usd") == (
        "The country's monthly per-capita income benchmark in USD")
    monkeypatch.setitem(LABELS, "net_usd", "netto " * 20)
    assert stata_label("net_usd", decimal=True) == (
        "Netto " + "netto " * 6 + "netto... (double; exact in panel.csv)")
    assert stata_label("not_in_the_dictionary") == "not_in_the_dictionary"


def test_also_names_are_checked_before_anything_runs(tmp_path):
    assert parse_also(" CSV, dta ,") == {"csv", "dta"}
    assert parse_also(None) == parse_also("") == frozenset()
    with pytest.raises(UsageError) as caught:
        parse_also("csv,xlsx,parquet,xlsx")
    assert caught.value.message == "--also 'xlsx', 'parquet': not a format ledger batch writes"
    (tmp_path / "in" / "w").mkdir(parents=True)
    result = run("batch", "in", "--out", "out", "--also", "sav", cwd=tmp_path)
    assert result.returncode == 2 and not (tmp_path / "out").exists()
    assert not (tmp_path / "batch.key").exists()


def test_copies_follow_the_panel_on_disk(three, tmp_path):
    """A part with a newer column (here tax_year) adds it, null elsewhere; a run without
    --also removes earlier copies so they never disagree with panel/."""
    out = tmp_path / "out"
    shutil.copytree(three[0], out)
    folder = out / "panel" / "country=KE" / "year=2023"
    folder.mkdir(parents=True)
    extra = pl.read_parquet(next((out / "panel").rglob("*.parquet"))).head(1).with_columns(
        pl.lit("00000000000000ff").alias("pseudonym"), pl.lit(2023, pl.Int32).alias("tax_year"))
    extra.write_parquet(folder / "part-2of2-00000.parquet")
    assert list(panel_columns(out))[-2:] == ["trajectory", "tax_year"]
    assert write_also(out, {"csv"}) == [out / "panel.csv"]
    assert not (out / "panel.dta").exists()
    rows = list(csv.DictReader((out / "panel.csv").open(encoding="utf-8")))
    assert [(r["country"], r["year"], r["tax_year"]) for r in rows if r["tax_year"]] == [
        ("KE", "2023", "2023")]
    assert len(rows) == 5 and sum(r["tax_year"] == "" for r in rows) == 4
    assert write_also(out, ()) == [] and not (out / "panel.csv").exists()


def test_readme_says_how_to_read_exact_decimals(three):
    readme = (three[0] / "README.md").read_text("utf-8")
    for snippet in ('pd.read_parquet("panel", dtype_backend="pyarrow")',
                    'open_dataset("panel")', "use panel.dta, clear",
                    'pl.scan_parquet("panel/**/*.parquet", hive_partitioning=True)',
                    "(double; exact in panel.csv)", "`panel.csv`, `panel.dta`"):
        assert snippet in readme, snippet
