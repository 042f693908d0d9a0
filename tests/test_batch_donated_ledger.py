"""`ledger batch` over a donor's whole ledger directory (`ledger.parquet`, `imports.jsonl`,
`sources/`): its archive is read as the donor's ledger holds it. An import the donor undid
keeps its copy in sources/ but is no longer theirs (it was counted), and each copy in effect
is read with the date order it was imported with (the demo's Payoneer export, imported with
`mdy`, was refused as ambiguous)."""

from __future__ import annotations

import csv
import json
import shutil

import polars as pl

from ledger.batch.anon import pseudonym
from tests.test_cli import ok, run


def test_a_donated_ledger_directory_is_read_as_its_ledger_holds_it(tmp_path):
    donor = tmp_path / "in" / "ayesha"
    ok(run("demo", "--keep", str(donor), cwd=tmp_path))
    log = [json.loads(line) for line in (donor / "imports.jsonl").read_text().splitlines()]
    june = next(e for e in log if e["file"] == "2024-06-30_transaction_report.csv")
    payoneer = next(e for e in log if e["file"].startswith("payoneer"))
    assert payoneer["options"] == {"date_order": "mdy"}
    ok(run("--ledger", str(donor), "undo", june["import_id"], cwd=tmp_path))
    assert (donor / june["archived"]).is_file()  # undo keeps the archived copy
    shutil.copytree(donor, tmp_path / "in" / "copy")
    (tmp_path / "in" / "copy" / "imports.jsonl").write_text("not json\n")
    result = ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path))
    # ayesha: the six imports in effect (five exports and the timesheet); the copy whose log
    # cannot be read: every archived copy, as before
    assert "2 workers, 13 files" in result.stdout
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open(encoding="utf-8")))
    assert [e["code"] for e in errors] == ["ambiguous_date"]  # the copy's Payoneer export
    panel = pl.read_parquet(tmp_path / "out" / "panel" / "**" / "*.parquet",
                            hive_partitioning=True)
    key = (tmp_path / "batch.key").read_bytes()
    ayesha, copy = (panel.filter(pl.col("pseudonym") == pseudonym(key, w))
                    for w in ("ayesha", "copy"))
    june_of = {m: p for m, p in zip(ayesha["month"], ayesha["platforms"], strict=True)}
    assert june_of["2024-06"] == "bank,payoneer,paypal"  # Payoneer read; no upwork: undone
    assert "upwork" in dict(zip(copy["month"], copy["platforms"], strict=True))["2024-06"]
