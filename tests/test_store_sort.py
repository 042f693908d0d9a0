"""The store's fast paths of the date sort give exactly the rows of a plain stable sort.

`importing.sorted_concat` sorts only the frames that need it when their dates follow each
other, and `sorted_by_date` leaves columns of one value as they are and rechunks a column
in pieces before gathering it: each is checked here against
`pl.concat(frames).sort("date", maintain_order=True)`, on frames built to take every path.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

import polars as pl
import pytest

from ledger.core import schema
from ledger.store import importing


def _rows(dates: list[dt.date], tag: str, *, pieces: int = 1) -> pl.DataFrame:
    """Canonical rows on `dates` (in that order): one literal column, columns of nulls, a
    float column mixing 0.0 and -0.0, and an id column in `pieces` chunks."""
    n = len(dates)
    df = pl.DataFrame({
        "id": [f"{tag}{i:05d}" for i in range(n)],
        "date": dates,
        "kind": ["earning" if i % 3 else "payment_fee" for i in range(n)],
        "amount": [Decimal(i) / 4 for i in range(n)],
        "currency": ["USD"] * n,
        "description": [f"row {i % 5}" for i in range(n)],
        "hours": [0.0 if i % 2 else -0.0 for i in range(n)],
        "line": list(range(2, n + 2)),
    }).with_columns(source=pl.lit("paypal"), account=pl.lit("paypal"),
                    origin=pl.lit("source"), import_id=pl.lit(tag * 8))
    df = schema.conform(df)
    if pieces > 1:
        size = max(1, n // pieces)
        parts = [df.slice(i, size) for i in range(0, n, size)]
        ids = pl.concat([p.select("id") for p in parts], rechunk=False)["id"]
        assert ids.n_chunks() > 1
        df = df.with_columns(ids)
    return df


def _days(n: int, start: int, spread: int, seed: int) -> list[dt.date]:
    rng = random.Random(seed)
    first = dt.date(2024, 1, 1) + dt.timedelta(days=start)
    return [first + dt.timedelta(days=rng.randrange(spread)) for _ in range(n)]


def _same(got: pl.DataFrame, want: pl.DataFrame) -> None:
    assert got.schema == want.schema
    assert got.equals(want)
    assert got["hours"].cast(pl.String).to_list() == want["hours"].cast(pl.String).to_list()


CASES = {
    "one frame, shuffled": [(300, 0, 40, 1, 3)],
    "one frame, sorted": [(200, 0, 1, 2, 1)],
    "stored then newer, tie at the boundary": [(100, 0, 10, 3, 1), (150, 9, 20, 4, 4)],
    "newer frames in turn": [(100, 0, 10, 5, 2), (80, 10, 5, 6, 1), (90, 14, 30, 7, 3)],
    "overlapping frames": [(100, 0, 30, 8, 1), (120, 10, 30, 9, 2)],
    "older rows after newer": [(100, 50, 10, 10, 1), (100, 0, 10, 11, 1)],
}


@pytest.mark.parametrize("case", list(CASES))
def test_sorted_concat_is_a_stable_sort(case):
    specs = CASES[case]
    frames = [_rows(_days(n, start, spread, seed), f"f{i}", pieces=pieces)
              for i, (n, start, spread, seed, pieces) in enumerate(specs)]
    if case.endswith("sorted"):
        frames = [f.sort("date", maintain_order=True) for f in frames]
    want = pl.concat([f.clone() for f in frames]).sort("date", maintain_order=True)
    _same(importing.sorted_concat(list(frames)), want)


def test_unmoved_columns_are_those_of_one_value():
    df = _rows(_days(50, 0, 5, 12), "u")
    df = df.with_columns(category=pl.when(pl.col("line") == 7).then(pl.lit("x")),
                         ref=pl.lit("r"))
    found = importing.unmoved(df)
    assert {"source", "account", "origin", "import_id", "currency", "contract",
            "ref"} <= found
    assert not {"id", "date", "amount", "category", "hours", "line"} & found  # hours: float
    assert "hours" in importing.unmoved(df.with_columns(hours=pl.lit(None, pl.Float64)))


def test_merge_keeps_the_stored_rows_in_place_and_sorts_the_new(tmp_path):
    stored = _rows(sorted(_days(60, 0, 10, 13)), "s")
    new = _rows(_days(70, 5, 30, 14), "n", pieces=3)
    parsed = type("P", (), {})()
    parsed.rows, parsed.import_id, parsed.format = new.clone(), "n" * 64, "paypal"
    parsed.rows_read, parsed.skipped, parsed.warnings = new.height, {}, []
    rows, summaries = importing.merge(stored.clone(), [(tmp_path / "x.csv", b"", parsed)])
    want = pl.concat([stored, new]).sort("date", maintain_order=True)
    _same(rows, want)
    assert summaries[0].added == new.height


def test_an_import_hashes_its_ids_once_per_file_not_again_at_commit(tmp_path, monkeypatch):
    """Each file's ids are proven distinct by registry.parse; the commit does not prove it
    again (merge adds only ids not yet stored): new rows, no new rows, two files alike."""
    from importers.base import ImportOptions
    from ledger.store.directory import Ledger
    from tests.conftest import DATA

    upwork, paypal = DATA / "upwork" / "classic.csv", DATA / "paypal" / "activity-en.csv"
    seen: list[bool] = []
    files: list[str] = []
    validate, check_ids = schema.validate, schema.check_ids

    def spy(df, where, *, ids_known=False):
        if where.endswith("ledger.parquet") and df.height:
            seen.append(ids_known)
        return validate(df, where, ids_known=ids_known)

    def spy_ids(df, where):
        files.append(where)
        return check_ids(df, where)

    monkeypatch.setattr(schema, "validate", spy)
    monkeypatch.setattr(schema, "check_ids", spy_ids)
    ledger = Ledger(tmp_path / "ledger")
    options = ImportOptions(today=dt.date(2026, 1, 1))
    ledger.import_files([upwork], options)
    # (Upwork's ids are proven distinct as they are made, Parsed.ids_distinct: not hashed
    # again by registry.parse either; PayPal's are, once)
    assert seen == [True] and files == []
    before = ledger.stored_rows()
    seen.clear()
    files.clear()
    ledger.import_files([upwork], options)  # nothing added
    assert seen[-1] is True and files == []
    assert ledger.stored_rows().equals(before)
    files.clear()
    ledger.import_files([upwork, paypal], options)  # PayPal's rows are new
    assert seen[-1] is True and files == [str(paypal)]
