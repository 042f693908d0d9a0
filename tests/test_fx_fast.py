"""FX valuation's shortcuts (issue 23, h37fx) each give what the longer way gives: lookups and
conversions answered from what the chain answered before, the fx columns valued in
`convert`'s collect, plans run without polars' optimizations on small frames, and the bundled
reference and rates.csv read back from the user cache."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from ledger.core.errors import DataError
from rules import fx, fx_reference, fx_user

D = dt.date


@pytest.fixture(autouse=True)
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A user cache of the test's own, and the process caches of the reference forgotten."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    _forget()
    yield tmp_path / "cache" / "freelance-ledger"
    _forget()


def _forget() -> None:
    for cached in (fx_reference._ecb_source, fx_reference._ecb_csv, fx_reference._ecb_header,
                   fx_reference._ecb_wide, fx_reference._ecb_has, fx_reference._nbp_table,
                   fx_reference._nbp_key):
        cached.cache_clear()
    fx_reference._ECB_COLUMNS.clear()


def _rates_file(folder: Path) -> Path:
    path = folder / "rates.csv"
    path.write_text("date,from,to,rate\n2024-06-03,GBP,PKR,352.10\n2024-06-20,USD,PKR,278.45\n"
                    "2024-12-30,CHF,USD,1.11\n2025-01-02,SEK,EUR,0.087\n", "utf-8")
    return path


def _chain(folder: Path) -> fx.FxChain:
    """A chain of the user's rates and the bundled reference (as FxChain.for_ledger makes)."""
    from ledger.core import schema

    chain = fx.FxChain([fx.user_rates(_rates_file(folder)), fx.implied_rates(schema.empty())])
    chain.reference = fx_reference.bundled_reference
    return chain


def _needs(pairs: list[tuple[dt.date | None, str | None]]) -> pl.DataFrame:
    return pl.DataFrame({"date": [d for d, _ in pairs], "currency": [c for _, c in pairs]},
                        schema={"date": pl.Date, "currency": pl.String})


# asks that overlap, repeat, cross a pivot, span a new year, name an unknown currency,
# repeat within one ask and carry a null date
ASKS = [
    ([(D(2024, 6, 3), "USD"), (D(2024, 6, 3), "GBP"), (D(2024, 6, 20), "USD")], "PKR"),
    ([(D(2024, 6, 20), "USD"), (D(2024, 6, 3), "USD"), (D(2024, 6, 4), "EUR")], "PKR"),
    ([(D(2024, 6, 3), "GBP"), (D(2024, 6, 3), "GBP"), (D(2024, 7, 1), "XOF")], "PKR"),
    ([(D(2024, 12, 30), "CHF"), (D(2025, 1, 2), "SEK"), (D(2024, 6, 3), "USD")], "PKR"),
    ([(D(2024, 6, 3), "INR"), (D(2024, 6, 3), "EUR")], "USD"),
    ([(D(2024, 6, 3), "INR"), (None, "EUR"), (D(2024, 6, 5), "EUR")], "USD"),
    ([(D(2024, 6, 3), "USD"), (D(2024, 6, 3), "GBP"), (D(2024, 6, 20), "USD")], "PKR"),
]


def test_lookups_from_memory_answer_as_lookups_without_it(tmp_path: Path) -> None:
    """One chain asked in turn (answers kept) and a twin that forgets its answers before each
    ask (the same rates loaded): the same rows, order and dtypes every time."""
    kept, forgetful = _chain(tmp_path), _chain(tmp_path)
    for pairs, to in ASKS:
        forgetful._answers = {}
        fast, slow = kept.lookup(_needs(pairs), to), forgetful.lookup(_needs(pairs), to)
        assert_frame_equal(fast, slow)
        assert fast.height == len(set(pairs))
    assert kept._answers  # the fast path was taken: answers were kept


def _rows(pairs: list[tuple[dt.date, str, str]]) -> pl.DataFrame:
    return pl.DataFrame({"date": [d for d, _, _ in pairs], "currency": [c for _, c, _ in pairs],
                         "amount": [a for _, _, a in pairs],
                         "source": ["test"] * len(pairs), "line": list(range(2, len(pairs) + 2))},
                        schema={"date": pl.Date, "currency": pl.String, "amount": pl.String,
                                "source": pl.String, "line": pl.Int64}).with_columns(
        pl.col("amount").cast(pl.Decimal(38, 2)))


CONVERTS = [
    [(D(2024, 6, 3), "USD", "10.00"), (D(2024, 6, 3), "PKR", "500.00"),
     (D(2024, 6, 20), "GBP", "-3.10")],
    [(D(2024, 6, 3), "USD", "1.00"), (D(2024, 6, 20), "USD", "2.00")],  # all answered before
    [(D(2024, 6, 3), "PKR", "7.00")],  # nothing to convert
    [(D(2024, 6, 3), "USD", "1.00"), (D(2023, 12, 29), "EUR", "4.00")],  # a new year loaded
    [(D(2024, 6, 3), "USD", "5.00"), (D(2024, 6, 21), "GBP", "6.00")],  # one new pair
]


def test_conversions_from_memory_and_with_fx_columns_answer_as_without(tmp_path: Path,
                                                                       monkeypatch) -> None:
    """`convert` joining on kept answers gives the rows, rates and warnings of a chain that
    forgot them; `with_value` valuing the fx columns in convert's collect gives the frame of
    convert joined with its rates apart (the way taken for frames with such columns)."""
    from ledger.payouts import value

    kept, forgetful, apart = _chain(tmp_path), _chain(tmp_path), _chain(tmp_path)
    kept.lookup(_needs([(D(2024, 6, 3), "USD")]), "PKR")  # something known
    for pairs in CONVERTS:
        forgetful._answers = {}
        fast, slow = kept.convert(_rows(pairs), "PKR"), forgetful.convert(_rows(pairs), "PKR")
        assert_frame_equal(fast.rows, slow.rows)
        assert_frame_equal(fast.rates, slow.rates)
        assert fast.warnings == slow.warnings
        one_plan = value.with_value(_rows(pairs), "PKR", kept, "here")
        with monkeypatch.context() as patch:
            patch.setattr(value, "_TAKEN", {"date"})  # every frame the way apart
            assert_frame_equal(one_plan, value.with_value(_rows(pairs), "PKR", apart, "here"))
    with pytest.raises(DataError, match="no QQQ->PKR rate for 2024-06-03") as fast_error:
        kept.convert(_rows([(D(2024, 6, 3), "USD", "1.00"), (D(2024, 6, 3), "QQQ", "1")]),
                     "PKR")
    forgetful._answers = {}
    with pytest.raises(DataError) as slow_error:
        forgetful.convert(_rows([(D(2024, 6, 3), "USD", "1.00"), (D(2024, 6, 3), "QQQ", "1")]),
                          "PKR")
    assert str(fast_error.value) == str(slow_error.value)


def test_plans_run_without_optimizations_answer_as_optimized(tmp_path: Path,
                                                             monkeypatch) -> None:
    """Every FX plan over a small frame runs without polars' optimizations (`plan_flags`):
    the answers are those of the same plans optimized (SMALL below every frame)."""
    from ledger.payouts import value

    def everything() -> list[pl.DataFrame]:
        _forget()
        chain = _chain(tmp_path)
        out = [chain.lookup(_needs(pairs), to) for pairs, to in ASKS]
        for pairs in CONVERTS:
            out += [chain.convert(_rows(pairs), "PKR").rows,
                    value.with_value(_rows(pairs), "EUR", chain, "here")]
        return [*out, chain.rates]

    plain = everything()
    assert not fx_reference.plan_flags(0).projection_pushdown
    monkeypatch.setattr(fx_reference, "SMALL", -1)
    assert fx_reference.plan_flags(0).projection_pushdown  # every plan optimized
    for fast, optimized in zip(plain, everything(), strict=True):
        assert_frame_equal(fast, optimized)


def test_the_kept_reference_is_the_made_one_and_read_back(cache: Path, monkeypatch) -> None:
    """bundled_reference read back from the user cache is what the bundled files make, for
    ECB and NBP currencies alike; the next command reads it without making it again, and
    other currencies or days are kept apart."""
    from rules import frame_cache

    asks = [({"USD", "EUR", "PKR"}, D(2024, 1, 1), D(2024, 12, 31)),
            ({"INR", "EUR", "USD", "BDT", "NGN"}, D(2020, 1, 1), D(2025, 12, 31)),
            ({"USD", "EUR", "PKR"}, D(2023, 1, 1), D(2024, 12, 31))]
    made = [fx_reference._bundled(*ask) for ask in asks]
    assert made[0].filter(pl.col("provider") == "nbp").height  # PKR is NBP's
    for ask, fresh in zip(asks, made, strict=True):
        _forget()
        assert_frame_equal(fx_reference.bundled_reference(*ask), fresh)  # made and kept
    kept = sorted(cache.glob("reference-*/*.arrow"))
    assert len(kept) == len(asks)
    monkeypatch.setattr(frame_cache, "write", lambda *a: pytest.fail("made a kept answer"))
    monkeypatch.setattr(fx_reference, "_bundled", lambda *a: pytest.fail("made it again"))
    for ask, fresh in zip(asks, made, strict=True):
        _forget()
        assert_frame_equal(fx_reference.bundled_reference(*ask), fresh)
    assert fx_reference._reference_path({"usd", "EUR"}, *asks[0][1:]) is None  # no file named


def test_a_kept_rates_file_is_read_back_until_it_changes(tmp_path: Path, monkeypatch) -> None:
    """rates.csv read back from the user cache is what parsing it gives; an edit (even of the
    same length) is read afresh; the online cache of the same text keeps its own provider; a
    bad file is refused every time (never kept)."""
    path = _rates_file(tmp_path)
    parsed = fx_user._parsed(path, "user")
    assert_frame_equal(fx.user_rates(path), parsed)  # parsed and kept
    with monkeypatch.context() as patch:
        patch.setattr(fx_user, "_parsed", lambda *a: pytest.fail("parsed it again"))
        assert_frame_equal(fx.user_rates(path), parsed)  # read back
    path.write_text(path.read_text("utf-8").replace("352.10", "352.11"), "utf-8")
    edited = fx.user_rates(path)
    assert edited.filter(pl.col("from") == "GBP")["rate"][0] == Decimal("352.11")
    assert_frame_equal(edited, fx_user._parsed(path, "user"))
    online = fx.user_rates(path, provider="online")
    assert set(online["provider"]) == {"online"}
    bad = tmp_path / "bad" / "rates.csv"
    bad.parent.mkdir()
    bad.write_text("date,from,to,rate\n2024-06-03,USD,PKR,abc\n", "utf-8")
    for _ in range(2):
        with pytest.raises(DataError, match="bad rate row"):
            fx.user_rates(bad)
