"""ledger.toml's text parsed once per text: one command asks for its settings many times."""

from __future__ import annotations

import copy
import tomllib
from functools import lru_cache
from typing import Any

TOMLDecodeError = tomllib.TOMLDecodeError


def parse(text: str) -> dict[str, Any]:
    """`tomllib.loads(text)`, a fresh copy each call (callers may change theirs)."""
    return copy.deepcopy(_parsed(text))


@lru_cache(maxsize=8)
def _parsed(text: str) -> dict[str, Any]:
    return tomllib.loads(text)
