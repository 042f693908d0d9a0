"""ledger.core.locale_data: babel's number entries of a locale cached on disk give babel's own
text, and anything else a locale has is still there (loaded whole when asked for)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from babel import Locale, localedata

from ledger.core import locale_data

# ledger.core.money's reading formats as babel writes them (not from locale_fast's entries):
# what these cached babel entries serve
from ledger.core.locale_fast import babel_grouped as group_for_reading
from ledger.core.locale_fast import babel_percent as percent_for_reading
from ledger.core.locale_fast import babel_symbol as currency_symbol


@pytest.fixture
def fresh(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """Babel's caches emptied before and after, the entries cached under tmp_path."""
    monkeypatch.setattr(locale_data, "cache_dir", lambda: tmp_path)

    def clear() -> None:
        localedata.clear_caches()
        locale_data.prime.cache_clear()

    clear()
    yield clear
    clear()


def _shown() -> tuple[str, str, str | None]:
    return (group_for_reading(Decimal("125000.50"), "en_IN"),
            percent_for_reading(Decimal("0.125"), "de_DE"), currency_symbol("INR", "en_IN"))


def test_cached_entries_give_babels_text_and_the_rest_loads_when_asked(fresh, tmp_path: Path):
    first = _shown()
    assert first == ("1,25,000.50", "12,5\u00a0%", "\u20b9")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["de_DE.pickle", "en_IN.pickle"]
    fresh()
    assert _shown() == first
    data = localedata._cache["en_IN"]
    assert isinstance(data, locale_data._Partial) and not data._whole
    assert Locale.parse("en_IN").territories["PK"] == "Pakistan"  # not cached: loaded whole
    assert data._whole and "languages" in data


def test_an_unreadable_cache_is_passed_over_and_written_again(fresh, tmp_path: Path):
    (tmp_path / "en_IN.pickle").write_bytes(b"not a pickle")
    assert group_for_reading(Decimal("-1234567"), "en_IN") == "-12,34,567"
    assert not isinstance(localedata._cache["en_IN"], locale_data._Partial)
    fresh()
    assert group_for_reading(Decimal("-1234567"), "en_IN") == "-12,34,567"
    assert isinstance(localedata._cache["en_IN"], locale_data._Partial)


def test_a_babel_without_its_private_cache_loads_the_locale_as_usual(monkeypatch):
    """The cache leans on babel's private `localedata._cache`: a babel that drops it must
    cost the shortcut, never the command."""
    from babel import localedata
    from babel.numbers import format_decimal

    from ledger.core import locale_data

    monkeypatch.delattr(localedata, "_cache")
    locale_data.prime.cache_clear()
    assert locale_data.prime("en_IN") is None
    monkeypatch.undo()
    assert format_decimal(1234567.5, locale="en_IN") == "12,34,567.5"


def test_currencies_are_babels_whether_cached_or_not(tmp_path: Path, monkeypatch):
    """The currency codes and minor units read from the cache are babel's own (every code),
    and a damaged cache is passed over and written again."""
    from babel.numbers import get_currency_precision, list_currencies

    from ledger.core.money import known_currencies, minor_units

    monkeypatch.setattr(locale_data, "cache_dir", lambda: tmp_path)
    path = tmp_path / locale_data.CURRENCIES_FILE
    for round_ in ("babel", "cache", "damaged"):
        for cached in (locale_data.currencies, minor_units, known_currencies):
            cached.cache_clear()
        if round_ == "damaged":
            path.write_bytes(b"not marshal data")
        codes = known_currencies()
        assert codes == frozenset(list_currencies()) and "PKR" in codes and "XYZ" not in codes
        assert {c: minor_units(c) for c in codes} == \
            {c: get_currency_precision(c) for c in codes}
        assert (minor_units("USD"), minor_units("JPY"), minor_units("KWD")) == (2, 0, 3)
        assert path.exists()
    for cached in (locale_data.currencies, minor_units, known_currencies):
        cached.cache_clear()
