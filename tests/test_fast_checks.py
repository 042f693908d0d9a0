"""Fast paths of the import checks answer as their slow forms do: `csv_parts.edge_space` (each
end tested on its own for long cells) as `EDGE_SPACE`, and `base.check_running_balance` with
one group (no `over`) as with `over` the group."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import polars as pl
import pytest

from importers import base, csv_parts
from importers.base import LINE, check_running_balance
from ledger.core import money
from ledger.core.errors import DataError

LONG = "x" * 40
SPACES = [" ", "\t", "\n", "\u00a0", "\u2003", "\u3000"]


@pytest.mark.parametrize("filler", ["ab", LONG])
@pytest.mark.parametrize("cell", ["{s}{f}", "{f}{s}", "{f}{s}{f}", "{f}", "{s}", ""])
@pytest.mark.parametrize("space", SPACES)
def test_edge_space_answers_as_the_one_regex(filler: str, cell: str, space: str) -> None:
    for others in (["plain"], [LONG] * 5, [None], []):
        values = pl.Series([*others, cell.format(s=space, f=filler)], dtype=pl.String)
        slow = bool(values.str.contains(csv_parts.EDGE_SPACE).any())
        assert csv_parts.edge_space(values) is slow
        assert slow is bool((values.str.strip_chars() != values).any())


def test_edge_space_takes_both_paths() -> None:
    long = pl.Series([LONG + " "] * 3)
    assert long.str.len_bytes().mean() >= csv_parts.LONG_BYTES  # the two-regex path
    assert csv_parts.edge_space(long)
    assert not csv_parts.edge_space(pl.Series([LONG] * 3))
    assert not csv_parts.edge_space(pl.Series([None, None], dtype=pl.String))


def _rows(balances: list[str], amounts: list[str], currency: list[str | None]) -> pl.DataFrame:
    n = len(balances)
    return pl.DataFrame({
        LINE: list(range(2, n + 2)),
        "date": [dt.date(2024, 1, 1 + i) for i in range(n)],
        "amount": [Decimal(a) for a in amounts],
        "balance": [Decimal(b) for b in balances],
        "currency": currency,
    }, schema_overrides={"amount": pl.Decimal(38, 2), "balance": pl.Decimal(38, 2)})


def _error(df: pl.DataFrame, group: list[str] | None, newest_first: bool | None) -> str | None:
    try:
        check_running_balance(df, path="f.csv", group=group, newest_first=newest_first)
    except DataError as exc:
        return str(exc)
    return None


def _slow(df: pl.DataFrame, newest_first: bool | None, monkeypatch: pytest.MonkeyPatch
          ) -> str | None:
    """The answer with `over` the group kept however many groups there are."""
    with monkeypatch.context() as patch:
        patch.setattr(pl.Series, "n_unique", lambda self: 2)
        return _error(df, ["currency"], newest_first)


@pytest.mark.parametrize("newest_first", [None, False, True])
@pytest.mark.parametrize("currency", ["USD", None])
@pytest.mark.parametrize("balances", [
    ["10.00", "15.00", "12.00", "20.00"],   # follows
    ["10.00", "15.00", "13.00", "21.00"],   # breaks at line 4
    ["20.00", "12.00", "15.00", "10.00"],   # follows newest first
    ["20.00", "12.00", "16.00", "10.00"],   # breaks either way
])
def test_one_group_answers_as_over_the_group(newest_first: bool | None, currency: str | None,
                                             balances: list[str],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    amounts = ["10.00", "5.00", "-3.00", "8.00"]
    df = _rows(balances, amounts, [currency] * 4)
    fast = _error(df, ["currency"], newest_first)
    assert fast == _slow(df, newest_first, monkeypatch)
    assert fast == _error(df, None, newest_first)


def test_two_groups_still_over_the_group() -> None:
    # each currency follows on its own; as one chain the balances would break
    df = _rows(["10.00", "100.00", "15.00", "90.00"], ["10.00", "100.00", "5.00", "-10.00"],
               ["USD", "EUR", "USD", "EUR"])
    assert _error(df, ["currency"], False) is None
    assert _error(df, None, False) is not None


def test_collected_balances_keep_their_currency() -> None:
    df = _rows(["10.00", "15.00"], ["10.00", "5.00"], ["EUR", "EUR"])
    token = base.BALANCES.set([])
    try:
        check_running_balance(df, path="f.csv", group=["currency"], newest_first=False)
        collected = base.BALANCES.get()
    finally:
        base.BALANCES.reset(token)
    assert collected is not None and collected[0]["currency"].to_list() == ["EUR", "EUR"]


@pytest.mark.parametrize("mark", [".", ","])
@pytest.mark.parametrize("where", [None, 0, 10, money.GROUPED_HEAD - 1, money.GROUPED_HEAD,
                                   money.GROUPED_HEAD + 500])
def test_grouped_columns_found_in_the_head_or_the_whole(mark: str, where: int | None) -> None:
    group = "," if mark == "." else "."
    n = money.GROUPED_HEAD + 1000
    plain = [f"12{mark}5"] * n
    cells = list(plain)
    if where is not None:
        cells[where] = f"1{group}234{mark}56"
    frame = pl.DataFrame({"a": cells, "b": plain, "c": [None] * n},
                         schema={"a": pl.String, "b": pl.String, "c": pl.String})
    slow = [bool(frame[c].str.contains(group, literal=True).any()) for c in frame.columns]
    assert money._grouped_columns(frame, group) == slow == [where is not None, False, False]
    parsed = money.parse_amounts(frame["a"], mark)
    assert parsed.null_count() == 0
    if where is not None:
        assert parsed[where] == Decimal("1234.56")
    assert money._grouped_columns(frame.head(0), group) == [False, False, False]


@pytest.mark.parametrize("cells", [["2024-01-02", None, "x"], [None, "2024-01-02"],
                                   ["2024-01-02", " 2024-01-03 ", None], [None, None]])
def test_parse_dates_names_the_first_empty_date(cells: list[str | None]) -> None:
    df = pl.DataFrame({LINE: [5, 6, 7][:len(cells)], "d": cells}, schema_overrides={"d": pl.String})
    with pytest.raises(DataError) as caught:
        base.parse_dates(df, pl.col("d"), ["%Y-%m-%d"], path="f.csv")
    # a value that is no date is named before an empty one
    bad = cells.index("x") if "x" in cells else cells.index(None)
    shown = "'x'" if cells[bad] == "x" else "'(empty)'"
    assert f"date {shown} is not a date" in str(caught.value)
    assert f"f.csv:{5 + bad}:" in str(caught.value)
