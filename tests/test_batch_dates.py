"""`ledger batch` and files whose numeric dates could be day-first or month-first.

A donor's Payoneer export of 1-12 June (06/08/2024) or a Spanish PayPal statement of early
January (2/1/2020) cannot settle its own date order. The batch refuses it as `ledger import`
does (`ambiguous_date` in errors.csv, with a hint that says how to settle it), and the
researcher settles it with `--date-order` for the whole batch or the manifest's `date_order`
column per folder or file; a file whose own dates prove the order keeps it.
"""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import polars as pl

from ledger import batch
from ledger.batch.anon import pseudonym
from ledger.batch.errors import BY_CODE, DATE_ORDER_HINT
from ledger.core.demo import demo_dir
from tests.test_cli import ok, run

DATA = Path(__file__).parent / "data"
PAYONEER_JUNE = demo_dir() / "payoneer_transactions_2024-06.csv"
"""Month-first, 06/08 and 06/10 June 2024: no day above 12."""
PAYPAL_ES = DATA / "real" / "paypal" / "oca-statement_es.csv"
"""Day-first, 2/1/2020 and 3/1/2020 (2 and 3 January): no day above 12."""
PROVEN = (DATA / "paypal" / "activity-en.csv", DATA / "payoneer" / "transactions-12col.csv")
"""Day-first (15/06/2024) and month-first (03/14/2019): each proves its own order."""


def donations(root: Path) -> Path:
    """Three donors: ayesha (a Fiverr export of July 2024 and the ambiguous Payoneer one),
    farah (the ambiguous Spanish PayPal statement and a Fiverr export), and sana (files that prove
    their own order, one each way)."""
    files = {"ayesha": (DATA / "fiverr" / "earnings-unsigned.csv", PAYONEER_JUNE),
             "farah": (PAYPAL_ES, DATA / "fiverr" / "earnings.csv"),
             "sana": PROVEN}
    for name, paths in files.items():
        (root / name).mkdir(parents=True)
        (root / name / "country.txt").write_text("PK\n")
        for path in paths:
            shutil.copy(path, root / name / path.name)
    return root


def errors_of(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader((out / "errors.csv").open(encoding="utf-8")))


def window(out: Path, key: bytes, worker: str) -> tuple[str, str]:
    """The worker's first and last month in the panel on disk (from its first row's date
    to its last)."""
    panel = pl.read_parquet(out / "panel" / "**" / "*.parquet", hive_partitioning=True)
    mine = panel.filter(pl.col("pseudonym") == pseudonym(key, worker))["month"]
    return mine.min(), mine.max()


def test_ambiguous_dates_are_named_with_the_setting_that_settles_them(tmp_path):
    donations(tmp_path / "in")
    result = ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path,
                    env={"COLUMNS": "80"}))
    key = (tmp_path / "batch.key").read_bytes()
    ambiguous = [e for e in errors_of(tmp_path / "out") if e["code"] == "ambiguous_date"]
    assert sorted(e["pseudonym"] for e in ambiguous) == sorted(
        pseudonym(key, w) for w in ("ayesha", "farah"))
    assert {(e["line"], e["error"], e["hint"]) for e in ambiguous} == {
        ("2", BY_CODE["ambiguous_date"].text, DATE_ORDER_HINT)}
    # the hint names the batch's own settings, and the setting is in --help
    assert "--date-order" in DATE_ORDER_HINT and "date_order column" in DATE_ORDER_HINT
    help_text = ok(run("batch", "--help", cwd=tmp_path, env={"COLUMNS": "80"})).stdout
    assert "--date-order" in help_text and "date_order column" in help_text
    for path in ("in/ayesha/" + PAYONEER_JUNE.name, "in/farah/" + PAYPAL_ES.name):
        assert f"{path}:2: {BY_CODE['ambiguous_date'].text} [ambiguous_date]\n  hint: say " \
               "which: --date-order mdy" in result.stderr
    # hints wrapped at 80 columns when piped, under their first word, as every error's
    hints = [line for line in result.stderr.splitlines() if line.startswith("  ")]
    assert hints and all(len(line) <= 80 for line in hints)
    # the Fiverr exports alone: ayesha's 30 July 2024, farah's June 2024
    assert window(tmp_path / "out", key, "ayesha") == ("2024-07", "2024-07")
    assert window(tmp_path / "out", key, "farah") == ("2024-06", "2024-06")


def test_date_order_settles_only_files_that_leave_it_open(tmp_path):
    """--date-order mdy reads the ambiguous files month-first, on a rerun of the same output
    folder too (the chunks of the first run are not taken as finished); sana's files, which
    prove their orders (one day-first, one month-first), are read exactly as without it."""
    donations(tmp_path / "in")
    ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", cwd=tmp_path))
    key = (tmp_path / "batch.key").read_bytes()
    before = window(tmp_path / "out", key, "sana")
    assert before == ("2019-03", "2024-06")
    for order in ("mdy", "dmy"):
        ok(run("batch", "in", "--out", "out", "--k", "1", "--jobs", "1", "--date-order", order,
               cwd=tmp_path))
        assert not [e for e in errors_of(tmp_path / "out") if e["code"] == "ambiguous_date"]
        assert window(tmp_path / "out", key, "sana") == before
        # Payoneer's 06/08/2024 and 06/10/2024: 8 and 10 June month-first, 6 August and
        # 6 October day-first (beside Fiverr's 30 July)
        assert window(tmp_path / "out", key, "ayesha") == {
            "mdy": ("2024-06", "2024-07"), "dmy": ("2024-07", "2024-10")}[order]
        # PayPal's 2/1/2020: 1 February month-first, 2 January day-first
        assert window(tmp_path / "out", key, "farah") == {
            "mdy": ("2020-02", "2024-06"), "dmy": ("2020-01", "2024-06")}[order]


def test_manifest_date_order_per_folder_and_file_wins_over_the_flag(tmp_path):
    """The manifest's date_order: a folder row's for the files under it, a file row's for
    that file (whichever row comes first), either over --date-order."""
    donations(tmp_path / "in")
    (tmp_path / "in" / "study.csv").write_text(
        "worker,country,path,date_order\n"
        f"ayesha,PK,ayesha/{PAYONEER_JUNE.name},mdy\n"
        "ayesha,,ayesha,dmy\n"
        "farah,PK,farah,DMY\n"
        "sana,PK,sana,\n", encoding="utf-8")
    ok(run("batch", "in", "--manifest", "in/study.csv", "--out", "out", "--k", "1", "--jobs",
           "1", "--date-order", "mdy", cwd=tmp_path))
    key = (tmp_path / "batch.key").read_bytes()
    assert not [e for e in errors_of(tmp_path / "out") if e["code"] == "ambiguous_date"]
    # its file row's mdy, not its folder row's dmy
    assert window(tmp_path / "out", key, "ayesha") == ("2024-06", "2024-07")
    # its folder row's dmy, not the flag's mdy
    assert window(tmp_path / "out", key, "farah") == ("2020-01", "2024-06")


def test_a_bad_date_order_is_a_usage_error(tmp_path):
    donations(tmp_path / "in")
    result = run("batch", "in", "--out", "out", "--date-order", "ymd", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("error: --date-order must be dmy or mdy, not 'ymd'\n")
    (tmp_path / "study.csv").write_text("worker,country,path,date_order\n"
                                        "ayesha,PK,ayesha,\nfarah,PK,farah,2/1\n")
    result = run("batch", "in", "--manifest", "study.csv", "--out", "out", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith("study.csv:3: date_order '2/1' is not dmy or mdy\n"
                                    "  hint: ")
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()


def test_ambiguous_dates_are_told_by_their_type_not_the_cell_they_quote():
    """The message quotes a cell of the file; a cell holding another class's marker (`xml`,
    `profile`) cannot move the error out of its class."""
    from importers.base import UnsettledDates
    from ledger.batch.errors import classify

    quoted = UnsettledDates("dates such as '06/08/2024 profile xml' could be day-first or "
                            "month-first", path=Path("x.csv"), line=4)
    assert classify(quoted) == (BY_CODE["ambiguous_date"], 4)


def test_a_chunk_reading_payoneer_exports_together_settles_each_alone(tmp_path):
    """Beyond 128 workers a chunk reads its workers' Payoneer exports in one stacked read
    (importers.registry.rows_many): the ambiguous one fails there and is read again alone
    with its order; the others are read as each proves, as a worker alone reads them."""
    from ledger.batch.worker import WorkerTask, process, process_many

    def task(name: str, paths: tuple[Path, ...], orders: tuple[str | None, ...] = ()
             ) -> WorkerTask:
        return WorkerTask(pseudonym=name, country="PK",
                          files=tuple((str(p), f"f-{i}") for i, p in enumerate(paths)),
                          settings=batch.load_settings(None), date_orders=orders)

    tasks = [task("june", (PAYONEER_JUNE,), ("mdy",)), task("unsettled", (PAYONEER_JUNE,)),
             task("proven", (PROVEN[1], DATA / "payoneer" / "transactions-17col.csv"),
                  ("dmy", "dmy"))]
    results = process_many(tasks)
    assert [r.errors for r in results] == [
        [], [("f-0", str(PAYONEER_JUNE), 2, "ambiguous_date", ""),
             ("", "", None, "no_transactions", "")], []]
    june = results[0].panel
    assert (june["month"].min(), june["month"].max()) == ("2024-06", "2024-06")
    for alone, together in zip((process(t) for t in tasks), results, strict=True):
        assert alone.errors == together.errors and alone.rows == together.rows
        if alone.panel is not None:
            assert alone.panel.equals(together.panel)


def test_the_manifest_hints_name_the_date_order_column(tmp_path):
    donations(tmp_path / "in")
    (tmp_path / "study.csv").write_text("worker,country,date_order\nayesha,PK,mdy\n")
    for manifest in ("study.csv", "none.csv"):
        result = run("batch", "in", "--manifest", manifest, "--out", "out", cwd=tmp_path)
        assert result.returncode == 2, result.stderr
        assert "worker,country,path (and date_order, optional)" in result.stderr
