"""ledger.core.money's reading formats (through ledger.core.locale_fast's cached entries, no
babel) write exactly what babel writes (locale_fast.babel_*), for many locales, currencies and
values."""

from __future__ import annotations

import random
from decimal import ROUND_HALF_EVEN, Decimal

import pytest

from ledger.core import locale_fast, money

LOCALES = ["en_PK", "en_US", "en_IN", "en_GB", "de_DE", "de_CH", "de_AT", "fr_FR", "fr_CH",
           "fr_CA", "es_ES", "es_MX", "pt_BR", "pt_PT", "it_IT", "nl_NL", "sv_SE", "nb_NO",
           "da_DK", "fi_FI", "pl_PL", "cs_CZ", "ru_RU", "uk_UA", "tr_TR", "ar_EG", "ar_SA",
           "he_IL", "fa_IR", "ur_PK", "hi_IN", "bn_BD", "ta_IN", "ja_JP", "zh_CN", "zh_TW",
           "ko_KR", "th_TH", "vi_VN", "id_ID", "ms_MY", "fil_PH", "sw_KE", "am_ET", "my_MM",
           "ne_NP", "si_LK", "ps_AF", "hu_HU", "ro_RO", "el_GR", "bg_BG", "lt_LT", "et_EE",
           "en_ZA", "af_ZA", "en_NG", "ar_MA", "en_AU", "es_AR", "ka_GE", "hy_AM", "kk_KZ"]
SERVED = {"en_PK", "en_US", "en_IN", "en_GB", "de_DE", "fr_FR", "es_ES", "pt_BR", "ur_PK",
          "hi_IN", "bn_BD", "fil_PH", "ar_EG", "ja_JP"}
"""Locales the fast path must serve (the rest may fall back to babel, e.g. de_CH whose
amounts babel does not group)."""
CURRENCIES = ["PKR", "USD", "EUR", "INR", "GBP", "JPY", "KWD", "PHP", "BDT", "CHF", "XYZ",
              "CAD", "AUD", "BRL", "NGN", "AED", "SAR", "CNY", "TRY", "ZAR"]


def _values(seed: int) -> list[Decimal]:
    rng = random.Random(seed)
    values = [Decimal(text) for text in locale_fast.PROBES]
    values += [Decimal("-0.00"), Decimal("0.0050"), Decimal("0.0150"), Decimal("1E+3"),
               Decimal("12345678901234567890.12"), Decimal("-0.0049999")]
    for _ in range(120):
        values.append(Decimal(rng.randint(-10**rng.randint(0, 12), 10**rng.randint(0, 12)))
                      .scaleb(-rng.randint(0, 6)))
    return values


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    locale_fast.entry_for.cache_clear()
    yield
    locale_fast.entry_for.cache_clear()


@pytest.mark.parametrize("locale", LOCALES)
def test_fast_is_babel(locale):
    locale_fast.entry_for(locale)  # built and written, then read back from the file
    locale_fast.entry_for.cache_clear()
    entry = locale_fast.entry_for(locale)
    if locale in SERVED:
        assert entry is not None and entry["name"] == locale
    assert entry is None or entry["name"] == locale  # None: babel writes (checked the same)
    for value in _values(hash(locale) & 0xFFFF):
        assert money.group_for_reading(value, locale) == locale_fast.babel_grouped(value, locale)
        cents = value.quantize(Decimal("0.01"), rounding=ROUND_HALF_EVEN)
        assert money.number_for_reading(value, locale) == locale_fast.babel_grouped(cents, locale)
        fraction = value.scaleb(-4)
        for digits in (0, 1, 2, 3):
            for signed in (False, True):
                assert money.percent_for_reading(fraction, locale, digits, signed) == \
                    locale_fast.babel_percent(fraction, locale, digits, signed)
    for currency in CURRENCIES:
        assert money.currency_symbol(currency, locale) == locale_fast.babel_symbol(currency, locale)


def test_fast_path_is_taken_and_can_fail(monkeypatch):
    """The cached entry is what formats (a wrong entry shows), and an unknown or non-canonical
    locale gets no entry (babel answers)."""
    entry = locale_fast.entry_for("de_DE")
    assert money.group_for_reading(Decimal("1234.5"), "de_DE") == "1.234,5"
    monkeypatch.setitem(entry, "group", "~")
    assert money.group_for_reading(Decimal("1234.5"), "de_DE") == "1~234,5"
    assert locale_fast.entry_for("xx_QQ") is None
    assert locale_fast.entry_for("en-pk") is None
    assert money.group_for_reading(Decimal("1234.5"), None) == "1,234.5"


def test_checked_locale_same_with_entry():
    from ledger.core.config import checked_locale

    assert checked_locale("en_PK") == "en_PK"  # builds the entry
    assert checked_locale("en_PK") == "en_PK"  # reads it
    assert checked_locale("en-in") == money.check_locale("en-in")
    with pytest.raises(Exception, match="not a locale"):
        checked_locale("xx_QQ")


def test_second_report_imports_no_babel(tmp_path):
    """The demo (locale en_PK): the first report builds the entry with babel; the next one
    imports no babel at all and prints the same."""
    import os
    import subprocess
    import sys

    from tests.test_cli import import_demo

    demo = import_demo(tmp_path / "demo")
    script = ("import sys, contextlib, io\nfrom ledger.cli.main import main\n"
              f"sys.argv = ['ledger', '--ledger', {str(demo)!r}, 'report', '--month',"
              " '2024-06']\nout = io.StringIO()\n"
              "with contextlib.redirect_stdout(out), contextlib.suppress(SystemExit):"
              "\n    main()\n"
              "print(any(m.startswith('babel') for m in sys.modules), hash(out.getvalue()))\n")
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path / "cache"), "PYTHONHASHSEED": "0"}
    first, second = (subprocess.run([sys.executable, "-c", script], capture_output=True,
                                    text=True, timeout=120, check=True, env=env).stdout.split()
                     for _ in range(2))
    assert first[0] == "True" and second[0] == "False"
    assert first[1] == second[1]
