"""`ledger batch`: research panels from many workers' exports (issue 9).

Worker folders are built in tmp from the golden exports under tests/data/<format>/. The
end-to-end tests run the real CLI in a subprocess (test_cli's `run`/`ok`); the rest call the
library. The canary test plants unique strings in every free-text field of the inputs and in
file and folder names, and looks for them in every byte of every output.
"""

from __future__ import annotations

import csv
import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger import batch
from ledger.batch.anon import apply_bands, file_pseudonym, pseudonym, suppress
from ledger.batch.columns import PANEL, SUMMARY, TRAJECTORY_SETTINGS, panel_schema
from ledger.batch.errors import BY_CODE, DETAILS
from ledger.batch.months import classify
from ledger.batch.worker import read_file
from ledger.core.errors import UsageError
from tests.test_cli import ok, run

DATA = Path(__file__).parent / "data"
GOOD = [DATA / p for p in (
    "paypal/activity-en.csv", "paypal/statement-en.csv", "upwork/classic.csv",
    "upwork/report-2024.csv", "payoneer/transactions-17col.csv",
    "payoneer/transactions-12col.csv", "fiverr/earnings.csv", "freelancer/history-multi.csv",
    "wise/statement_12345678_USD_2024-06-01_2024-06-30.csv", "wise/transaction-history.csv",
    "bank/hdfc.csv", "bank/AccountFullStatement.CSV", "camt053/statement-v08.xml",
    "mt940/wise-usd.mt940", "ofx/checking-sgml.ofx", "bank/icici.xlsx")]
TIMESHEET = DATA / "hours" / "hours.csv"
COUNTRIES = ("PK", "PH", "IN", "BD", "NG", "KE", None)
CORRUPT = {7: DATA / "broken" / "bad-amount-paypal.csv",
           23: DATA / "broken" / "unknown-layout.csv"}
"""Worker 7 has a bad file beside good ones; worker 23 only a file of unknown layout."""


def make_workers(root: Path, count: int = 50) -> Path:
    """`count` worker folders of 1-3 golden exports each (some with a timesheet), with the
    country in country.txt, in ledger.toml or nowhere; the CORRUPT workers' bad files."""
    for i in range(count):
        folder = root / f"worker-{i:02d}"
        folder.mkdir(parents=True)
        if i in CORRUPT and i == 23:
            shutil.copy(CORRUPT[i], folder)
            continue
        for j in range(1 + i % 3):
            source = GOOD[(i * 7 + j * 5) % len(GOOD)]
            shutil.copy(source, folder / source.name)
        if i % 5 == 0:
            shutil.copy(TIMESHEET, folder / TIMESHEET.name)
        if i in CORRUPT:
            shutil.copy(CORRUPT[i], folder)
        country = COUNTRIES[i % len(COUNTRIES)]
        if country and i % 2:
            (folder / "country.txt").write_text(country.lower() + "\n")
        elif country:
            (folder / "ledger.toml").write_text(f'country = "{country}"\n')
    return root


def read_panel(out: Path) -> pl.DataFrame:
    return pl.read_parquet(out / "panel" / "**" / "*.parquet", hive_partitioning=True)


@pytest.fixture(scope="module")
def fifty(tmp_path_factory):
    """50 workers' mixed exports, two corrupt, through the CLI with two processes."""
    cwd = tmp_path_factory.mktemp("batch")
    make_workers(cwd / "donations")
    result = ok(run("batch", "donations", "--out", "panel", "--jobs", "2", cwd=cwd))
    return cwd, result


# --- end to end --------------------------------------------------------------------------------


def test_fifty_workers_give_panel_summary_and_errors(fifty):
    cwd, result = fifty
    out = cwd / "panel"
    assert {p.name for p in out.iterdir()} == {"panel", "summary.csv", "errors.csv",
                                              "README.md", "run.json", "_chunks"}
    assert (cwd / "batch.key").stat().st_size == 32
    assert "50 workers" in result.stdout and "49 workers in" in result.stdout
    parts = sorted((out / "panel").rglob("*.parquet"))
    assert parts and all(p.parent.name.startswith("year=")
                         and p.parent.parent.name.startswith("country=") for p in parts)
    panel = read_panel(out)
    assert panel["pseudonym"].n_unique() == 49
    assert set(panel["country"]) <= {"PK", "PH", "IN", "BD", "NG", "KE", "unknown"}
    assert panel.select(pl.struct("pseudonym", "month").is_unique().all()).item()
    assert set(panel["trajectory"]) <= {"sinking", "struggling", "surviving", "swimming",
                                        "unclassified"}
    # every file column is in the dictionary, in its type; money is Decimal
    schema = panel_schema(partitions=False)
    first = pl.read_parquet(parts[0])
    assert dict(first.schema) == schema
    assert schema["net_usd"] == pl.Decimal(38, 2)

    key = (cwd / "batch.key").read_bytes()
    errors = list(csv.DictReader((out / "errors.csv").open()))
    assert [e["pseudonym"] for e in errors if e["file"]] == sorted(
        pseudonym(key, f"worker-{i:02d}") for i in CORRUPT)
    by_worker = {e["pseudonym"]: e for e in errors if e["file"]}
    bad = by_worker[pseudonym(key, "worker-07")]
    assert bad["file"] == file_pseudonym(key, "worker-07", "bad-amount-paypal.csv")
    assert (bad["line"], bad["code"]) == ("3", "not_a_number")
    assert bad["error"] == BY_CODE["not_a_number"].text
    assert bad["hint"] == BY_CODE["not_a_number"].hint  # what to do, in errors.csv too
    unknown = by_worker[pseudonym(key, "worker-23")]
    assert (unknown["code"], unknown["error"]) == ("unknown_layout",
                                                   BY_CODE["unknown_layout"].text)
    # the terminal gets the real paths, `path:line: class` + hint, never a traceback
    assert ("donations/worker-07/bad-amount-paypal.csv:3: " + BY_CODE["not_a_number"].text
            + " [not_a_number]") in result.stderr
    assert "  hint:" in result.stderr and "Traceback" not in result.stderr


def test_warnings_name_no_country_identical_donations_and_all_failed(fifty):
    """Counted by hand from make_workers: no country for i % 7 == 6 and worker 23 (only a
    bad file); identical files wherever two folders got the same golden export."""
    import hashlib
    import json
    from collections import defaultdict

    cwd, result = fifty
    key = (cwd / "batch.key").read_bytes()
    warnings = json.loads((cwd / "panel" / "run.json").read_text())["warnings"]
    no_country = sorted(pseudonym(key, f"worker-{i:02d}") for i in (6, 13, 20, 23, 27, 34,
                                                                    41, 48))
    assert warnings["no_country"] == no_country
    assert warnings["all_files_failed"] == [pseudonym(key, "worker-23")]
    groups = defaultdict(list)
    for folder in sorted((cwd / "donations").iterdir()):
        for path in folder.iterdir():
            if path.name not in ("country.txt", "ledger.toml"):
                groups[hashlib.sha256(path.read_bytes()).hexdigest()].append(
                    [pseudonym(key, folder.name), file_pseudonym(key, folder.name, path.name)])
    expected = sorted(sorted(g) for g in groups.values() if len({p for p, _ in g}) > 1)
    assert warnings["identical_donations"] == expected
    assert len(expected) == 17  # the 16 golden exports and the timesheet
    said = result.stderr.replace("\n  hint: ", "\n\thint: ").replace("\n  ", " ")  # unwrapped
    assert ("warning: 8 worker(s) have no country, counted in country=unknown: "
            + ", ".join(no_country)) in said
    assert (f"warning: 17 file(s) donated identically by more than one worker "
            f"({len({p for g in expected for p, _ in g})} workers): ") in said
    assert ("warning: 1 worker(s) had every file fail, so they are not in the panel: "
            + pseudonym(key, "worker-23")) in said


def test_net_foots_and_matches_the_report_lines(fifty):
    cwd, _ = fifty
    panel = read_panel(cwd / "panel")
    costs = ["platform_fees_usd", "payment_fees_usd", "fx_cost_usd", "bank_deductions_usd",
             "taxes_usd", "subcontractor_payouts_usd", "expenses_usd"]
    check = panel.select((pl.col("gross_usd") - pl.sum_horizontal(costs) + pl.col("other_usd")
                          == pl.col("net_usd")).all()).item()
    assert check
    pk = panel.filter((pl.col("country") == "PK") & pl.col("active"))
    assert pk.height and (pk["local_currency"] == "PKR").all()
    assert pk["per_capita_usd"].null_count() == 0 and pk["min_wage_local"].null_count() == 0
    unknown = panel.filter(pl.col("country") == "unknown")
    assert unknown["local_currency"].null_count() == unknown.height
    hourly = panel.filter(pl.col("hours") > 0)
    assert hourly.height and hourly["net_hourly_usd"].null_count() == 0
    assert panel.filter(pl.col("unpaid_hours") > 0).height  # timesheets were read
    # months no source recorded hours for: unknown (null), not zero
    quiet = panel.filter(pl.col("hours_source").is_null())
    assert quiet.height and quiet["hours"].null_count() == quiet.height
    assert quiet["unpaid_hours"].null_count() == quiet.height
    assert quiet["net_hourly_usd"].null_count() == quiet.height
    assert set(panel["hours_source"].drop_nulls()) == {"platform", "timesheet",
                                                       "platform,timesheet"}
    sheets = panel.filter(pl.col("hours_source").str.contains("timesheet"))
    assert sheets["unpaid_hours"].null_count() == 0


def test_summary_is_k_suppressed_and_readme_is_the_dictionary(fifty):
    cwd, _ = fifty
    out = cwd / "panel"
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert list(rows[0]) == [c.name for c in SUMMARY]
    assert {r["table"] for r in rows} == {"monthly", "trajectory"}
    for r in rows:
        if r["suppressed"] == "yes":
            assert r["workers"] == r["net_usd_median"] == ""
        else:
            assert int(r["workers"]) >= 5
    totals = [r for r in rows if r["table"] == "trajectory" and r["trajectory"] == "all"]
    assert sum(int(r["workers"]) for r in totals if r["workers"]) == 49
    # where one trajectory cell of a country is hidden, another is too (no subtraction)
    for country in {r["country"] for r in totals}:
        cells = [r for r in rows if r["table"] == "trajectory" and r["country"] == country
                 and r["trajectory"] != "all"]
        assert sum(r["suppressed"] == "yes" for r in cells) != 1
    readme = (out / "README.md").read_text()
    for column in (*PANEL, *SUMMARY):
        assert f"`{column.name}`" in readme
    for setting in TRAJECTORY_SETTINGS:
        assert f"`{setting.name}`" in readme
    assert "read_parquet('panel/**/*.parquet', hive_partitioning = true)" in readme
    assert "spark.read.parquet" in readme and "k = 5" in readme


def test_same_key_same_pseudonyms_other_key_other_pseudonyms(fifty, tmp_path):
    cwd, _ = fifty
    key = (cwd / "batch.key").read_bytes()
    expected = {pseudonym(key, f"worker-{i:02d}") for i in range(50)} - {
        pseudonym(key, "worker-23")}
    assert set(read_panel(cwd / "panel")["pseudonym"]) == expected
    # a second run with the same key file: the same panel; another key: other pseudonyms
    make_workers(tmp_path / "in", 4)
    runs = [batch.run(tmp_path / "in", tmp_path / name, key_file=cwd / keyfile, jobs=1)
            for name, keyfile in (("a", "batch.key"), ("b", "batch.key"), ("c", "new.key"))]
    assert [r.key_created for r in runs] == [False, False, True]
    first, again, other = (read_panel(tmp_path / name) for name in "abc")
    order = ["pseudonym", "month"]
    assert again.sort(order).equals(first.sort(order))
    assert set(first["pseudonym"]) < expected
    assert not set(other["pseudonym"]) & set(first["pseudonym"])


def test_key_inside_the_output_folder_is_refused(tmp_path):
    make_workers(tmp_path / "in", 2)
    result = run("batch", "in", "--out", "out", "--key-file", "out/batch.key", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith("out/batch.key: the key file is inside the output folder")
    assert "  hint:" in result.stderr and "Traceback" not in result.stderr
    assert not (tmp_path / "out" / "batch.key").exists()


def test_usage_and_data_errors_exit_cleanly(tmp_path):
    (tmp_path / "empty").mkdir()
    result = run("batch", "empty", "--out", "out", cwd=tmp_path)
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert result.stderr.startswith("empty: no worker folders found\n  hint: ")
    result = run("batch", "empty", "--out", "out", "--shard", "3/2", cwd=tmp_path)
    assert result.returncode == 2 and "No such option: --shard" in result.stderr
    (tmp_path / "t.toml").write_text("swimming_ratio = 2\nnope = 1\n")
    with pytest.raises(UsageError, match=r"unknown trajectory setting\(s\) \['nope'\]"):
        batch.run(tmp_path / "empty", tmp_path / "out", trajectories=tmp_path / "t.toml")
    (tmp_path / "short.key").write_bytes(b"x" * 5)
    with pytest.raises(UsageError, match="expected 32"):
        batch.run(tmp_path / "empty", tmp_path / "out", key_file=tmp_path / "short.key")
    with pytest.raises(UsageError, match="--k 0 must be at least 1"):
        batch.run(tmp_path / "empty", tmp_path / "out", k=0)


# --- anonymity: the canary --------------------------------------------------------------------

CANARY = "zqxcanary"


def plant(folder: Path) -> list[Path]:
    """Golden exports with a canary in every free-text field, under canary file names."""
    folder.mkdir(parents=True)
    swaps = {
        "fiverr/earnings.csv": [("acme_studio", "zqxcanaryclientone"),
                                ("bluefox", "zqxcanaryclienttwo"),
                                ("FO81A2B3C4D5", "FOZQXCANARY1"), ("FO7E9F0A1B2C", "FOZQXCANARY2"),
                                ("Funds cleared", "Funds zqxcanarydescone"),
                                ("Tip for order", "zqxcanarydesctwo tip")],
        "paypal/activity-en.csv": [("Acme Corp", "Zqxcanaryclientthree Corp"),
                                   ("Invoice 42", "zqxcanarydescthree"),
                                   ("7AB12345CD678901E", "7ZQXCANARY000001"),
                                   ("billing@acme.example", "zqxcanary@mail.example"),
                                   ("me@example.com", "zqxcanaryme@mail.example")],
        "upwork/classic.csv": [("Beta LLC", "Zqxcanaryclientfour LLC"),
                               ("Bonus for fast delivery", "zqxcanarydescfour bonus"),
                               ("Jane Doe", "Zqxcanary Name")],
        "payoneer/transactions-17col.csv": [("Acme Corp", "Zqxcanaryclientfive Corp"),
                                            ("Invoice 17", "zqxcanarydescfive"),
                                            ("INV-17", "ZQXCANARYREF5"),
                                            ("Jane Doe", "Zqxcanary Payee")],
    }
    written = []
    for index, (name, pairs) in enumerate(swaps.items()):
        text = (DATA / name).read_text("utf-8-sig")
        for old, new in pairs:
            assert old in text, (name, old)
            text = text.replace(old, new)
        target = folder / f"zqxcanaryfile{index}{Path(name).suffix}"
        target.write_text(text, "utf-8")
        written.append(target)
    hours = TIMESHEET.read_text().replace("Beta LLC", "Zqxcanaryclientsix").replace(
        "Figma course", "zqxcanarydescsix")
    (folder / "zqxcanary-hours.csv").write_text(hours)
    (folder / "zqxcanary-broken.csv").write_text("name,email\nzqxcanarycell,zqx@canary.example\n")
    bad = (DATA / "broken" / "bad-amount-paypal.csv").read_text("utf-8-sig")
    (folder / "zqxcanary-bad-amount.csv").write_text(bad.replace("4O0.00", "zqxcanary0.00"))
    (folder / "ledger.toml").write_text('country = "PK"\n[fees.options]\n'
                                        'prior_billings = { "Zqxcanaryclientseven" = "10.00" }\n')
    return written


def test_canary_strings_appear_in_no_byte_of_any_output(tmp_path):
    planted = plant(tmp_path / "in" / "worker-zqxcanaryfolder")
    shutil.copytree(tmp_path / "in" / "worker-zqxcanaryfolder",
                    tmp_path / "in" / "Zqxcanary Second Worker")
    # the canaries really are in the rows' free-text fields
    rows = pl.concat([read_file(p, [])[1] for p in planted], how="vertical_relaxed")
    for column in ("counterparty", "description", "contract", "ref"):
        assert rows[column].str.to_lowercase().str.contains(CANARY).any(), column
    result = ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path))
    assert CANARY in result.stderr  # the researcher's terminal may show real paths
    out = tmp_path / "out"
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {"errors.csv", "summary.csv", "README.md", "run.json"} <= {p.name for p in files}
    errors = list(csv.DictReader((out / "errors.csv").open()))
    assert len(errors) == 4  # per worker: the unknown layout and the bad amount
    for path in files:
        assert CANARY not in str(path.relative_to(out)).lower()
        assert CANARY.encode() not in path.read_bytes().lower(), path
        if path.suffix == ".parquet":  # decompressed pages and the footer's metadata
            frame = pl.read_parquet(path)
            text = frame.select(pl.all().cast(pl.String)).write_csv().lower()
            assert CANARY not in text
            meta = pl.read_parquet_metadata(path)
            assert CANARY not in repr(meta).lower()
    assert read_panel(out)["pseudonym"].n_unique() == 2


# --- library ---------------------------------------------------------------------------------


def months(nets: list[str], bench: str | None = "100", gross: list[str] | None = None
           ) -> pl.DataFrame:
    gross = gross or nets
    return pl.DataFrame({
        "active": [Decimal(g) > 0 for g in gross],
        "net_usd": [Decimal(n) for n in nets],
        "per_capita_usd": [Decimal(bench) if bench else None] * len(nets),
    }, schema={"active": pl.Boolean, "net_usd": pl.Decimal(38, 2),
               "per_capita_usd": pl.Decimal(38, 2)})


@pytest.mark.parametrize(("nets", "expected"), [
    (["250", "300", "0", "220"], "swimming"),        # >= 2x in 3 of 3 active months
    (["80", "60", "120", "90"], "surviving"),        # >= 0.5x in every month
    (["30", "0", "0", "10", "60"], "struggling"),    # active lately, earning >= 50 once
    (["500", "400", "0", "0", "0"], "sinking"),      # nothing in the last 3 months
    (["0", "0"], "sinking"),                         # never earned
])
def test_trajectories(nets, expected):
    settings = batch.load_settings(None)
    assert classify(months(nets), settings) == expected


def test_trajectory_thresholds_come_from_toml(tmp_path):
    config = tmp_path / "t.toml"
    config.write_text('[trajectories]\nswimming_ratio = "5"\nsinking_months = 1\n'
                      'benchmark = "gdp_per_capita"\nas_of = "2025-01"\n')
    settings = batch.load_settings(config)
    assert settings["swimming_ratio"] == Decimal(5) and settings["sinking_months"] == 1
    assert settings["benchmark"] == ("gdp_per_capita",) and settings["as_of"] == "2025-01"
    assert classify(months(["250", "300", "0", "220"]), settings) == "surviving"
    assert classify(months(["250", "300"], bench=None), settings) == "unclassified"
    config.write_text('swimming_share = "1.5"\n')
    with pytest.raises(UsageError, match="out of range"):
        batch.load_settings(config)


def test_suppression_hides_small_cells_and_their_complement():
    cells = pl.DataFrame({"country": ["PK"] * 3 + ["PH"] * 2, "workers": [2, 9, 7, 6, 8],
                          "median": [Decimal("1.00")] * 5})
    out = suppress(cells, 5, ["median"], group=["country"])
    assert out["suppressed"].to_list() == ["yes", "", "yes", "", ""]
    assert out["workers"].to_list() == [None, 9, None, 6, 8]
    assert out["median"].null_count() == 2


def test_bands_coarsen_amounts_ratios_and_hours():
    frame = pl.DataFrame({
        "net_usd": [Decimal("0.99"), Decimal("1.00"), Decimal("187.30"), Decimal("-2600.00")],
        "net_vs_per_capita": [Decimal("1.2345"), Decimal("0.2"), Decimal("-0.3"), None],
        "effective_cost_rate": [Decimal("0.1234")] * 4,
        "hours": [0.0, 9.9, 10.0, 123.4]},
        schema={"net_usd": pl.Decimal(38, 2), "net_vs_per_capita": pl.Decimal(38, 4),
                "effective_cost_rate": pl.Decimal(38, 4), "hours": pl.Float64})
    banded = apply_bands(frame)
    assert banded["net_usd"].to_list() == [Decimal(x) for x in ("0", "1", "100", "-2000")]
    assert banded["net_vs_per_capita"].to_list()[:3] == [Decimal("1"), Decimal("0"),
                                                         Decimal("-0.25")]
    assert banded["effective_cost_rate"][0] == Decimal("0.10")
    assert banded["hours"].to_list() == [0.0, 0.0, 10.0, 120.0]
    assert banded.schema == frame.schema


def test_a_rerun_resumes_finished_chunks_and_drops_stale_ones(tmp_path):
    make_workers(tmp_path / "in", 6)
    key, out = tmp_path / "k.key", tmp_path / "out"
    first = batch.run(tmp_path / "in", out, key_file=key, jobs=1, k=1)
    assert first.chunks == 6  # 6 workers: a chunk each (batch_engine.chunk_size)
    parts = {p: p.stat().st_mtime_ns for p in (out / "panel").rglob("*.parquet")}
    markers = sorted((out / "_chunks").glob("*.json"))
    assert len(markers) == 6
    summary = (out / "summary.csv").read_bytes()
    panel = read_panel(out)
    # a kill mid-chunk leaves a temporary file and maybe parts without a marker
    stray = next(iter(parts)).parent / ".part-x.parquet.123.tmp"
    stray.write_bytes(b"half")
    markers[0].unlink()
    again = batch.run(tmp_path / "in", out, key_file=key, jobs=1, k=1)
    assert not stray.exists()
    assert (again.rows, again.panel_rows, again.files_failed) == (
        first.rows, first.panel_rows, first.files_failed)
    assert again.errors == first.errors  # finished chunks give back their errors too
    rewritten = {p for p, t in parts.items() if p.stat().st_mtime_ns != t}
    assert rewritten and len(rewritten) < len(parts)  # only the unmarked chunk ran again
    assert (out / "summary.csv").read_bytes() == summary
    order = ["pseudonym", "month"]
    assert read_panel(out).sort(order).equals(panel.sort(order))
    # a changed donation is a new chunk: its old parts and marker go, the rest stay
    changed = tmp_path / "in" / "worker-01"
    extra = sorted(p for p in changed.iterdir() if p.suffix == ".csv")[0]
    extra.write_text(extra.read_text() + "\n")
    batch.run(tmp_path / "in", out, key_file=key, jobs=1, k=1)
    assert len(list((out / "_chunks").glob("*.json"))) == 6
    assert sum(p.exists() for p in parts) >= len(parts) - 3
    assert read_panel(out).sort(order).equals(panel.sort(order))
    # old part names (before chunks) are not this run's: removed
    legacy = next(iter(parts)).parent / "part-1of1-00000.parquet"
    shutil.copy(next(iter(parts)), legacy)
    batch.run(tmp_path / "in", out, key_file=key, jobs=1, k=1)
    assert not legacy.exists()


def test_manifest_names_workers_countries_and_paths(tmp_path):
    donations = tmp_path / "donations"
    donations.mkdir()
    shutil.copy(GOOD[0], donations / "a.csv")
    shutil.copy(GOOD[2], donations / "b.csv")
    folder = donations / "folder-of-c"
    folder.mkdir()
    shutil.copy(GOOD[4], folder)
    (folder / "country.txt").write_text("KE")
    manifest = tmp_path / "workers.csv"
    manifest.write_text("worker,country,path\nw1,ph,a.csv\nw1,,b.csv\nw2,,folder-of-c\n"
                        "w3,XYZ,missing.csv\n")
    result = batch.run(donations, tmp_path / "out", manifest=manifest,
                       key_file=tmp_path / "k.key", jobs=1, k=1)
    panel = read_panel(tmp_path / "out")
    key = (tmp_path / "k.key").read_bytes()
    countries = dict(panel.select("pseudonym", "country").unique().iter_rows())
    assert countries == {pseudonym(key, "w1"): "PH", pseudonym(key, "w2"): "KE"}
    assert panel.filter(pl.col("pseudonym") == pseudonym(key, "w1"))["platforms"].str.contains(
        "upwork").any()
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open()))
    w3 = [e["error"] for e in errors if e["pseudonym"] == pseudonym(key, "w3")]
    assert BY_CODE["country"].text in w3 and BY_CODE["missing_file"].text in w3
    assert result.workers == 3 and result.workers_in_panel == 2


def test_a_donated_ledger_toml_is_checked_as_a_users_and_reported_once(tmp_path):
    """A donated ledger.toml goes through the checks `ledger` gives a user's: bad TOML, a key
    nothing reads (ignored before), a bad [reconcile] (the whole worker failed before) are one
    `config` error each on the file (at its line where known, once: discovery no longer adds
    its own), and the worker is counted without the file, so with no country from it."""
    files = {"syntax": 'country = "PK\n', "unknown-key": 'country = "PK"\nhome_curency = 1\n',
             "reconcile": 'country = "PK"\n[reconcile]\nwindows = 3\n',
             "good": 'country = "PH"\n[reconcile]\nwindow_days = {upwork = 4}\n'}
    for name, text in files.items():
        (tmp_path / "in" / name).mkdir(parents=True)
        shutil.copy(GOOD[0], tmp_path / "in" / name)
        (tmp_path / "in" / name / "ledger.toml").write_text(text)
    result = batch.run(tmp_path / "in", tmp_path / "out", key_file=tmp_path / "k.key", jobs=1,
                       k=1)
    key = (tmp_path / "k.key").read_bytes()
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open()))
    assert sorted((e["pseudonym"], e["file"], e["line"], e["code"]) for e in errors) == sorted(
        (pseudonym(key, name), file_pseudonym(key, name, "ledger.toml"), line, "config")
        for name, line in (("syntax", ""), ("unknown-key", "2"), ("reconcile", "")))
    assert sorted(result.errors) == sorted(
        f"{tmp_path / 'in' / name / 'ledger.toml'}{line}: {BY_CODE['config'].text} [config]\n"
        f"  hint: {BY_CODE['config'].hint}"
        for name, line in (("syntax", ""), ("unknown-key", ":2"), ("reconcile", "")))
    countries = dict(read_panel(tmp_path / "out").select("pseudonym", "country").unique()
                     .iter_rows())
    assert countries == {pseudonym(key, "good"): "PH", **{pseudonym(key, name): "unknown" for
                                                          name in files if name != "good"}}

def test_panel_months_are_whole_and_dates_never_exact(tmp_path):
    make_workers(tmp_path / "in", 3)
    batch.run(tmp_path / "in", tmp_path / "out", key_file=tmp_path / "k.key", jobs=1,
              bands=True)
    panel = read_panel(tmp_path / "out")
    assert panel["month"].str.contains(r"^\d{4}-\d{2}$").all()
    for _, rows in panel.group_by("pseudonym"):
        first = dt.date.fromisoformat(rows["month"].min() + "-01")
        last = dt.date.fromisoformat(rows["month"].max() + "-01")
        span = (last.year - first.year) * 12 + last.month - first.month + 1
        assert rows.height == span  # zero-filled, no gaps
    assert (tmp_path / "out" / "README.md").read_text().count("**Amounts are banded**") == 1


def test_summary_quartiles_interpolate_in_exact_decimals():
    from ledger.batch import _quartile

    values = pl.DataFrame({"v": [Decimal(x) for x in ("10.00", "20.00", "40.00", "80.01")]},
                          schema={"v": pl.Decimal(38, 2)})
    got = values.select(*[_quartile(pl.col("v"), q).alias(str(q)) for q in (1, 2, 3)]).row(0)
    assert got == (Decimal("17.50"), Decimal("30.00"), Decimal("50.00"))  # numpy's "linear"


# --- the panel counts what the report counts ---------------------------------------------------


def test_worker_rows_are_counted_as_the_report_counts_them(tmp_path):
    """A Payoneer transfer that only the bank's PKR credit shows arriving converted: the
    report counts the spread as FX cost (rule transfers.arrival.conversion, from reconcile's
    match), and so must the research panel, row for row."""
    from importers.base import ImportOptions
    from ledger import reconcile
    from ledger.batch.counting import counted_like_report, schedule_for
    from ledger.batch.fx import cached_reference
    from ledger.core.config import Config
    from ledger.counting import pipeline as counting
    from ledger.reports import report
    from ledger.store.directory import Ledger
    from rules.fx import FxChain, implied_rates
    from tests.test_attribution import MEEZAN, PAYONEER, UPWORK

    files = {"upwork.csv": UPWORK, "payoneer.csv": PAYONEER,
             "AccountFullStatement.CSV": MEEZAN}
    for name, text in files.items():
        (tmp_path / name).write_text(text, "utf-8")
    ledger = Ledger(tmp_path / "led")
    ledger.import_files([tmp_path / n for n in files], ImportOptions())
    rows = ledger.rows()
    (ledger.root / "ledger.toml").write_text('country = "PK"\n')
    period = report.Period(dt.date(2025, 2, 1), dt.date(2025, 3, 31), "Feb-Mar 2025")
    journeys = reconcile.for_ledger(ledger, (period.start, period.end), rows=rows,
                                    as_of=period.end)
    theirs = counting.for_ledger(ledger, rows, (period.start, period.end),
                                 journeys=journeys).rows
    chain = FxChain([implied_rates(rows)])
    chain.reference = cached_reference  # as the batch worker: the bundled offline rates
    ours = counted_like_report(rows, schedule_for("PK", Config()), Config(), lambda: chain)

    def derived(frame: pl.DataFrame) -> list[tuple]:
        return sorted(frame.filter(pl.col("origin") != "source")
                      .select("kind", "amount", "currency", "origin").rows())

    assert derived(ours) == derived(theirs)
    assert ("fx", Decimal("124000.0000"), "PKR", "rule:transfers.arrival.conversion") \
        in derived(ours)
    assert sorted(ours["id"]) == sorted(theirs["id"])


def test_panel_fx_cost_holds_a_conversion_only_the_bank_shows(tmp_path):
    from tests.test_attribution import MEEZAN, PAYONEER, UPWORK

    folder = tmp_path / "donations" / "worker-a"
    folder.mkdir(parents=True)
    for name, text in {"upwork.csv": UPWORK, "payoneer.csv": PAYONEER,
                       "AccountFullStatement.CSV": MEEZAN}.items():
        (folder / name).write_text(text, "utf-8")
    (folder / "country.txt").write_text("PK\n")
    ok(run("batch", "donations", "--out", "panel", cwd=tmp_path))
    march = read_panel(tmp_path / "panel").filter(pl.col("month") == "2025-03")
    assert march.height == 1
    fx_cost = march["fx_cost_usd"][0]
    # 450 USD became 124,000 PKR: at any rupee rate of 250-300 per dollar the spread is
    # 450 - 124000 / rate, between 2 and 54 dollars; without the bank's match it was 0
    assert Decimal(2) < fx_cost < Decimal(54)


def test_error_hints_name_only_options_ledger_batch_has(tmp_path):
    """A hint in errors.csv's terminal summary is what the researcher can do with `ledger
    batch`: an option it names must be one of batch's (the date-order hint named import's
    --date-order, which batch has not)."""
    import re

    help_text = ok(run("batch", "--help", cwd=tmp_path, env={"COLUMNS": "200"})).stdout
    # (an option inside a quoted command of its own, `ledger import FILE --dry-run`, is that
    # command's)
    bare = [re.sub(r"`ledger [^`]*`", "", c.hint) for c in BY_CODE.values()]
    named = {flag for hint in bare for flag in re.findall(r"--[a-z][a-z-]+", hint)}
    assert {flag for flag in named if flag not in help_text} == set()


def test_bands_keep_a_missing_figure_missing():
    """--bands: a worker-month with no hours has no hourly pay; banded, it stayed 0.00 (the
    money bands' lowest edge), which a mean of hourly pay counts as earning nothing."""
    from ledger.batch.columns import PANEL, polars_type

    banded = [c for c in PANEL if c.band is not None]
    assert {c.band for c in banded} >= {"money", "hours"}
    panel = pl.DataFrame([pl.Series(c.name, [None, None], dtype=polars_type(c)) for c in banded])
    out = apply_bands(panel)
    assert {c.name: out[c.name].null_count() for c in banded} == {c.name: 2 for c in banded}


def test_a_batch_that_reads_nothing_exits_1(tmp_path):
    """Every donated file refused: the problems are listed and errors.csv written as ever,
    but an empty panel is no success (it exited 0)."""
    donor = tmp_path / "don" / "w1"
    donor.mkdir(parents=True)
    (donor / "notes.csv").write_text("Date,Amount\n2024-06-03,12.50\n", encoding="utf-8")
    result = run("batch", tmp_path / "don", "--out", tmp_path / "out", "--jobs", "1",
                 cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert "no transaction of the 1 file(s) could be read: the panel is empty" in result.stderr
    assert (tmp_path / "out" / "errors.csv").is_file()


def test_summary_only_refuses_a_panel_mixing_bands_and_exact_parts(tmp_path):
    """Parts record whether they were banded (Parquet metadata), so `--summary-only` over
    panels copied together refuses banded beside exact figures (quartiles of band edges and
    amounts together, a worker in both collapsed to one row), naming a part of each."""
    make_workers(tmp_path / "in", 3)
    ok(run("batch", "in", "--out", "exact", "--k", "1", "--jobs", "1", cwd=tmp_path))
    ok(run("batch", "in", "--out", "banded", "--k", "1", "--jobs", "1", "--bands",
           cwd=tmp_path))
    # one setting alone: summarized, README from the parts' setting even without run.json
    (tmp_path / "banded" / "run.json").unlink()
    ok(run("batch", "--summary-only", "--out", "banded", "--k", "1", cwd=tmp_path))
    assert "**Amounts are banded**" in (tmp_path / "banded" / "README.md").read_text("utf-8")
    exact = (tmp_path / "exact" / "summary.csv").read_bytes()
    banded_part = sorted((tmp_path / "banded" / "panel").rglob("*.parquet"))[0]
    exact_part = sorted((tmp_path / "exact" / "panel").rglob("*.parquet"))[0]
    target = tmp_path / "exact" / banded_part.relative_to(tmp_path / "banded")
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(banded_part, target)
    result = run("batch", "--summary-only", "--out", "exact", "--k", "1", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith("exact/panel: the panel mixes parts of runs with and "
                            "without --bands: ")
    assert f"{target.relative_to(tmp_path / 'exact' / 'panel').as_posix()} (--bands)" in first
    assert f"{exact_part.relative_to(tmp_path / 'exact' / 'panel').as_posix()} (exact " \
           "amounts)" in first
    assert "Traceback" not in result.stderr
    assert (tmp_path / "exact" / "summary.csv").read_bytes() == exact  # nothing rewritten


def test_parts_from_before_the_record_take_run_json_setting(tmp_path):
    from ledger.batch.outputs import panel_bands, part_metadata

    folder = tmp_path / "panel" / "country=PK" / "year=2024"
    folder.mkdir(parents=True)
    frame = pl.DataFrame({"pseudonym": ["w1"], "month": ["2024-06"]})
    old, new = folder / "part-a-000.parquet", folder / "part-b-000.parquet"
    frame.write_parquet(old)
    frame.write_parquet(new, metadata=part_metadata(True))
    assert panel_bands(tmp_path, [old, new], True) is True
    assert panel_bands(tmp_path, [old], None) is False
    with pytest.raises(UsageError) as caught:
        panel_bands(tmp_path, [old, new], None)
    assert caught.value.message == (
        "the panel mixes parts of runs with and without --bands: "
        "country=PK/year=2024/part-b-000.parquet (--bands), "
        "country=PK/year=2024/part-a-000.parquet (not recorded)")
    with pytest.raises(UsageError):
        panel_bands(tmp_path, [old, new], False)


def test_hints_of_what_is_no_export_point_nowhere_near_ledger_import(tmp_path):
    """country.txt and ledger.toml are no exports: their terminal hint said `ledger import
    FILE --dry-run` on the file shows the details, which it does not; an export's still does."""
    (tmp_path / "in" / "w1").mkdir(parents=True)
    shutil.copy(GOOD[0], tmp_path / "in" / "w1")
    (tmp_path / "in" / "w1" / "country.txt").write_text("Pakistan\n")
    (tmp_path / "in" / "w2").mkdir()
    shutil.copy(GOOD[0], tmp_path / "in" / "w2")
    (tmp_path / "in" / "w2" / "ledger.toml").write_text('country = "PK"\nhome_curency = 1\n')
    shutil.copy(CORRUPT[7], tmp_path / "in" / "w2")
    result = batch.run(tmp_path / "in", tmp_path / "out", key_file=tmp_path / "k.key", jobs=1,
                       k=1)
    by_code = {line.split("[")[-1].split("]")[0]: line for line in result.errors}
    assert set(by_code) == {"country", "config", "not_a_number"}
    for code in ("country", "config"):
        assert "ledger import" not in by_code[code] and DETAILS not in by_code[code]
        assert by_code[code].endswith(f"  hint: {BY_CODE[code].hint}")
    assert "two-letter ISO code (e.g. PK) in country.txt" in by_code["country"]
    assert ":2: " in by_code["config"] and "at the line shown" in by_code["config"]
    assert by_code["not_a_number"].endswith(f"; {DETAILS}")


def random_bytes_without_nul(size: int = 300) -> bytes:
    """Random bytes as a researcher's stray file may be; a third of 300 random bytes hold no
    NUL, the one mark of a binary file the registry looked for."""
    import random

    data = random.Random(8).randbytes(size)
    return data.replace(b"\x00", b"\x01")


def test_random_bytes_are_a_binary_file_not_an_unknown_layout(tmp_path):
    data = random_bytes_without_nul()
    assert b"\x00" not in data
    (tmp_path / "in" / "w1").mkdir(parents=True)
    shutil.copy(GOOD[0], tmp_path / "in" / "w1")
    (tmp_path / "in" / "w1" / "random.bin").write_bytes(data)
    ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path))
    errors = list(csv.DictReader((tmp_path / "out" / "errors.csv").open()))
    assert [(e["code"], e["error"]) for e in errors] == [("binary", BY_CODE["binary"].text)]
    # `ledger import` says the same of it (it said: unknown layout, and quoted the bytes)
    result = run("--ledger", "led", "import", tmp_path / "in" / "w1" / "random.bin",
                 cwd=tmp_path)
    assert result.returncode == 1
    assert result.stderr.startswith(f"{tmp_path / 'in' / 'w1' / 'random.bin'}: this is a "
                                    "binary file, not a text export\n")


def test_text_with_a_stray_control_byte_is_still_text():
    from importers.raw_files import RawFile

    text = b"Date,Amount,Note\n" + b"2024-06-01,10.00,ok\n" * 20 + b"\x1a"
    assert not RawFile(Path("x.csv"), text, "0").looks_binary
    assert RawFile(Path("x.bin"), random_bytes_without_nul(), "0").looks_binary


def test_a_banded_nets_ratio_to_a_benchmark_tells_no_more_than_its_band():
    """--bands: net_vs_per_capita was the exact ratio in steps of 0.25; times per_capita_usd
    (shown exactly, and public) it pinned the net to 691-724 USD where the band said
    500-1,000. It is the banded net's ratio now: times the benchmark, at most the band's edge."""
    frame = pl.DataFrame({
        "net_usd": [Decimal("700.00"), Decimal("999.99"), Decimal("40.00"), Decimal("5.00")],
        "per_capita_usd": [Decimal("131.67"), Decimal("131.67"), Decimal("131.67"), None],
        "net_vs_per_capita": [Decimal("5.3163"), Decimal("7.5947"), Decimal("0.3038"), None],
        "net_local": [Decimal("194915.00")] * 4,
        "min_wage_local": [Decimal("37000.00")] * 3 + [Decimal("0")],
        "net_vs_min_wage": [Decimal("5.2680")] * 3 + [None]},
        schema={"net_usd": pl.Decimal(38, 2), "per_capita_usd": pl.Decimal(38, 2),
                "net_vs_per_capita": pl.Decimal(38, 4), "net_local": pl.Decimal(38, 2),
                "min_wage_local": pl.Decimal(38, 2), "net_vs_min_wage": pl.Decimal(38, 4)})
    banded = apply_bands(frame)
    # 700 and 999.99 are both in the band 500-1,000: their ratios are the same, 500 / 131.67
    assert banded["net_vs_per_capita"].to_list() == [Decimal("3.75"), Decimal("3.75"),
                                                     Decimal("0"), None]  # 20 / 131.67
    assert banded["net_vs_min_wage"].to_list() == [Decimal("2.5")] * 3 + [None]  # 100,000
    for row in banded.filter(pl.col("per_capita_usd").is_not_null()).iter_rows(named=True):
        assert row["net_vs_per_capita"] * row["per_capita_usd"] <= row["net_usd"]
    assert banded.schema == frame.schema
