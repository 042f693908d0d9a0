"""The stored rows' version: a ledger written before counter_amount, counter_currency and
fee_included existed is refused with a pointer to `ledger rebuild` (its figures would be
wrong without a word), and after the rebuild every figure is what the old version printed.

tests/data/ledger-v1 holds a ledger written by version 1 and what that version printed for it
(its README says how it was made)."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest

from ledger.core import schema
from ledger.core.errors import DataError
from ledger.store.directory import Ledger
from tests.test_cli import DEMO, ok, run

V1 = Path(__file__).parent / "data" / "ledger-v1"
OLD_VERSION = (": the ledger was written by an older version of freelance-ledger (rows version "
               "1, this one reads 2)\n  hint: run `ledger rebuild` once: it re-reads the "
               "archived exports into this version\n")


@pytest.fixture
def old(tmp_path: Path) -> Path:
    root = tmp_path / "ledger"
    shutil.copytree(V1 / "ledger", root)
    return root


def test_the_fixture_is_a_version_1_ledger():
    metadata = pl.read_parquet_metadata(V1 / "ledger" / "ledger.parquet")
    assert schema.VERSION_MARK not in metadata and "freelance_ledger.log_bytes" in metadata
    columns = pl.read_parquet_schema(V1 / "ledger" / "ledger.parquet")
    assert "counter_amount" not in columns and "description" in columns


@pytest.mark.parametrize("command", [("report", "--year", "2024"),
                                     ("reconcile", "--month", "2024-06"),
                                     ("export", "--format", "csv"),
                                     ("import", str(V1.parent / "payoneer" /
                                                     "transactions-12col.csv"))])
def test_every_command_on_an_old_ledger_says_to_rebuild(old, command):
    result = run("--ledger", old, *command, cwd=old.parent)
    assert result.returncode == 1
    assert result.stderr == f"{old / 'ledger.parquet'}{OLD_VERSION}"
    assert result.stdout == ""


PAYONEER_READ_AS_IMPORTED = (
    "note: payoneer_transactions_2024-06.csv was read month-first, as when it was imported; its "
    "dates could be either\n  hint: if they are day-first, `ledger undo ec2fbc4c947b` and import "
    "it again with --date-order dmy\n")
"""The demo's Payoneer export (June 8 and 10) was imported by version 1 without the flag that
Payoneer files whose dates prove no order now need: rebuild reads it as it was read then."""


def test_rebuild_migrates_and_every_figure_stays_the_same(old):
    rebuilt = ok(run("--ledger", old, "rebuild", cwd=old.parent))
    assert rebuilt.stdout == "rebuilt from 9 imports: 104 rows (was 104)\n" + \
        PAYONEER_READ_AS_IMPORTED
    assert pl.read_parquet_metadata(old / "ledger.parquet")[schema.VERSION_MARK] == "2"
    for name, command in [
            ("report-2024.json", ("report", "--year", "2024", "--format", "json")),
            ("report-2026-usd.json", ("report", "--year", "2026", "--currency", "USD",
                                      "--format", "json")),
            ("reconcile-2024-06.json", ("reconcile", "--month", "2024-06", "--as-of",
                                        "2024-07-01", "--format", "json"))]:
        printed = ok(run("--ledger", old, *command, cwd=old.parent)).stdout
        assert printed == (V1 / name).read_text("utf-8"), name


def test_an_import_logged_before_payoneer_asked_is_read_as_it_was_by_undo_too(old):
    """Undo re-reads every other import, which no flag reaches: the old Payoneer import's
    rows keep their dates; undone itself, it can be imported again with the flag."""
    ok(run("--ledger", old, "rebuild", cwd=old.parent))

    def payoneer_days() -> list[str]:
        rows = Ledger(old).stored_rows().filter(pl.col("import_id").str.starts_with("ec2fbc"))
        return sorted(str(d) for d in rows["date"])

    assert payoneer_days() == ["2024-06-08", "2024-06-10"]
    undone = ok(run("--ledger", old, "undo", "c86e692d8942", cwd=old.parent))  # PayPal's
    assert undone.stdout.startswith("undid paypal_Download.CSV")
    assert payoneer_days() == ["2024-06-08", "2024-06-10"]
    ok(run("--ledger", old, "undo", "ec2fbc4c947b", cwd=old.parent))
    assert payoneer_days() == []
    again = run("--ledger", old, "import", DEMO / "payoneer_transactions_2024-06.csv",
                cwd=old.parent)
    assert again.returncode == 1 and "could be day-first or month-first" in again.stderr
    ok(run("--ledger", old, "import", DEMO / "payoneer_transactions_2024-06.csv",
           "--date-order", "dmy", cwd=old.parent))
    assert payoneer_days() == ["2024-08-06", "2024-10-06"]
    rebuilt = ok(run("--ledger", old, "rebuild", cwd=old.parent))  # the flag is logged now
    assert "note:" not in rebuilt.stdout
    assert payoneer_days() == ["2024-08-06", "2024-10-06"]


def test_the_rebuilt_rows_hold_what_the_tags_said(old):
    """The columns carry the figures the descriptions show (and still show, for people)."""
    Ledger(old).rebuild()
    rows = Ledger(old).stored_rows()
    stated = rows.filter(pl.col("counter_amount").is_not_null() | pl.col("fee_included")
                         .is_not_null()).sort("source", "date", "amount")
    got = [(r["source"], str(r["amount"]), str(r["counter_amount"]), r["counter_currency"],
            str(r["fee_included"])) for r in stated.iter_rows(named=True)]
    d = "None"
    assert got == [
        ("payoneer", "-1000.0000", "278500.0000", "PKR", d),  # tests/data/payoneer
        ("payoneer", "-100.0000", "92.5000", "EUR", d),
        ("payoneer", "92.5000", "100.0000", "USD", d),
        ("payoneer", "-150.0000", "40935.0000", "PKR", d),  # the demo's withdrawal
        ("wise", "-500.0000", "138195.0000", "PKR", "2.0000"),  # the USD statement
        ("wise", "-1000.0000", "276431.4000", "PKR", "6.0000"),
        ("wise", "-498.8000", "632.4800", "USD", d),  # transaction-history
        ("wise", "632.4800", "498.8000", "GBP", d),
        ("wise", "-495.8800", "137854.6400", "PKR", d),
        ("wise", "-9.5000", "10.3600", "USD", d)]
    for row in stated.iter_rows(named=True):
        if row["counter_amount"] is not None:
            word = "delivered" if row["amount"] < 0 else "sent"
            tag = f"[{word} {row['counter_amount']:.2f} {row['counter_currency']}]"
            assert tag in row["description"]


def test_a_ledger_of_a_newer_version_is_refused(tmp_path):
    ledger = Ledger(tmp_path)
    ledger.commit(schema.empty(), [])
    rows = pl.read_parquet(ledger.rows_path)
    rows.write_parquet(ledger.rows_path, metadata={schema.VERSION_MARK: "3"})
    with pytest.raises(DataError) as caught:
        ledger.stored_rows()
    assert (caught.value.message, caught.value.hint) == (
        "the ledger was written by a newer version of freelance-ledger (rows version 3, this "
        "one reads 2)", "upgrade freelance-ledger to read it")


def test_only_a_file_of_canonical_rows_is_marked_with_their_version():
    assert schema.marks(schema.empty()) == {schema.VERSION_MARK: "2"}
    assert schema.marks(pl.DataFrame({"date": [], "hours": []})) == {}


def test_a_fee_inside_an_amount_is_split_from_the_column_not_the_text():
    """The fee rules read fee_included; a description alone (a user's note) splits nothing."""
    from rules.fees import load_schedule, split_included_fees

    rows = schema.with_ids(schema.conform(pl.DataFrame({
        "date": [dt.date(2024, 6, 3)] * 2, "source": ["wise"] * 2, "account": ["wise"] * 2,
        "kind": ["transfer"] * 2, "amount": [Decimal("-1000"), Decimal("-500")],
        "currency": ["USD"] * 2,
        "description": ["Sent money to Ali", "Sent money to Bo [fee 2.00 USD included]"],
        "fee_included": [Decimal("6"), None], "origin": ["source"] * 2,
        "import_id": ["i"] * 2, "line": [1, 2], "ref": ["A", "B"]}).with_columns(
        pl.col("date").cast(pl.Date), pl.col("amount", "fee_included").cast(pl.Decimal(38, 4)))))
    out = split_included_fees(rows, load_schedule({}))
    assert sorted(out["amount"].to_list()) == [Decimal("-994"), Decimal("-500"), Decimal("-6")]
