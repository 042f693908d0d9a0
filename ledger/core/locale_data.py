"""babel's number data for a locale, kept small on disk so that a command need not load it all.

babel loads a locale's whole CLDR data (root, the language and the locale: ~0.36 MB of
pickles, and babel.dates with them) the first time any of it is asked for: ~0.04 s of every
table or text shown with a `locale` set. Amounts and percentages need four entries of it
(`KEYS`). The first command that loads a locale writes those four to the user cache directory,
under babel's version; later commands hand them to babel as that locale's data, and babel
loads the whole of it as usual the first time anything else is asked for (`_Partial`). The
numbers written are babel's own, so every output is the same either way.
"""

from __future__ import annotations

import sys
from functools import cache
from pathlib import Path
from typing import Any

KEYS = ("number_symbols", "decimal_formats", "percent_formats", "currency_symbols")
"""The entries of a locale's data that grouping digits, percentages and currency symbols read
(babel.numbers)."""

CURRENCIES_FILE = f"currencies.py{sys.version_info[0]}{sys.version_info[1]}.marshal"
"""`currencies`' file in the cache folder: marshal's format is this Python's own."""


def cache_dir() -> Path:
    """Where the entries go: the user cache folder (ledger.core.files.user_cache), by babel
    version (CLDR's data changes with it)."""
    from ledger.core.files import user_cache

    return user_cache() / f"babel-{babel_version()}"


def babel_version() -> str:
    """babel.__version__, read from the text of the babel that `import babel` would load,
    without importing it (babel.core, localedata, plural: ~2.5 ms of a report on a ledger
    with no `locale`, which needs nothing else of babel); imported where the text does not say
    it plainly."""
    import re
    from importlib.util import find_spec

    loaded = sys.modules.get("babel")
    if loaded is None:
        try:
            spec = find_spec("babel")
            text = Path(spec.origin).read_text("utf-8") if spec and spec.origin else ""
        except (OSError, ImportError, ValueError, UnicodeDecodeError):
            text = ""
        found = re.findall(r"^__version__ = (['\"])([0-9A-Za-z.+-]+)\1[ \t]*$", text, re.M)
        if len(found) == 1:
            return found[0][1]
    import babel

    return babel.__version__


class _Partial(dict):
    """A locale's data that holds `KEYS` only, until anything else is asked for: then babel
    loads the whole of it (as it would have) into this same dict."""

    def __init__(self, name: str, entries: dict[str, Any]) -> None:
        super().__init__(entries)
        self._name = name
        self._whole = False

    def _complete(self) -> None:
        if self._whole:
            return
        self._whole = True
        from babel import localedata

        localedata._cache.pop(self._name, None)
        try:
            whole = localedata.load(self._name)
        finally:
            localedata._cache[self._name] = self
        self.update(whole)

    def __bool__(self) -> bool:  # babel's `if not data` must not load the rest
        return True

    def __missing__(self, key: str) -> Any:
        self._complete()
        if dict.__contains__(self, key):
            return dict.__getitem__(self, key)
        raise KeyError(key)

    def __contains__(self, key: object) -> bool:
        if not dict.__contains__(self, key):
            self._complete()
        return dict.__contains__(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        if not dict.__contains__(self, key):
            self._complete()
        return dict.get(self, key, default)

    def __iter__(self):
        self._complete()
        return dict.__iter__(self)

    def __len__(self) -> int:
        self._complete()
        return dict.__len__(self)

    def keys(self):  # type: ignore[override]
        self._complete()
        return dict.keys(self)

    def items(self):  # type: ignore[override]
        self._complete()
        return dict.items(self)

    def values(self):  # type: ignore[override]
        self._complete()
        return dict.values(self)

    def copy(self) -> dict:
        self._complete()
        return dict(dict.items(self))


@cache
def prime(name: str) -> None:
    """Make babel's data for locale `name` (as babel spells it: `en_PK`) the cached `KEYS`,
    or, the first time, load it whole and write them. A cache that cannot be read or written
    is passed over (babel loads as usual)."""
    from babel import localedata

    from ledger.core.files import keep_cached

    if not isinstance(getattr(localedata, "_cache", None), dict):
        return  # a babel whose private cache is not a dict: it loads the locale as usual
    if name in localedata._cache or not localedata.exists(name):
        return
    import pickle

    path = cache_dir() / f"{name}.pickle"
    try:
        entries = pickle.loads(path.read_bytes())  # written by this module only, below
    except Exception:  # absent, unreadable or written by something else: load as usual
        entries = None
    if isinstance(entries, dict) and set(entries) == set(KEYS):
        localedata._cache[name] = _Partial(name, entries)
        return
    whole = localedata.load(name)
    if not all(key in whole for key in KEYS):
        return
    keep_cached(path, pickle.dumps({key: whole[key] for key in KEYS}))


@cache
def currencies() -> tuple[frozenset[str], dict[str, int]]:
    """Every ISO 4217 code CLDR knows and the digits after the point of those that have their
    own (with "DEFAULT"): babel's global data `all_currencies` and `currency_fractions`, the
    only global data a command reads (checking rows, rounding). babel loads all of it at once
    (0.47 MB of pickle, ~5 ms); the first command writes these two tables to the cache, by
    babel's version, and later ones read them there. A cache that cannot be read or written
    is passed over (babel's data is read). Kept as marshal (of this Python, in the file's
    name), not pickle: a ledger with no `locale` then loads neither pickle nor babel."""
    import marshal

    from ledger.core.files import keep_cached

    path = cache_dir() / CURRENCIES_FILE
    try:
        data = marshal.loads(path.read_bytes())  # written by this module only, below
    except Exception:  # absent, unreadable or written by something else
        data = None
    if isinstance(data, tuple) and len(data) == 2 and isinstance(data[0], frozenset) \
            and isinstance(data[1], dict) and "DEFAULT" in data[1]:
        return data
    from babel.core import get_global

    data = (frozenset(get_global("all_currencies")),
            {code: int(digits[0]) for code, digits in get_global("currency_fractions").items()})
    keep_cached(path, marshal.dumps(data))
    return data
