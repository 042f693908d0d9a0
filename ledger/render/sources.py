"""Sources cited by number: a table shows `[n]` and the sources are listed once below it, each
address on a line of its own that is never cut or broken (a terminal wraps it; it stays whole
to copy or click). Figures of one country, or fee rules of one platform, share a few sources:
written out on every row they made a table several lines a row at 80 columns, their
addresses cut with `…`."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

Source = tuple[str, str]
"""(title, address): either may be empty."""


ADDRESSES = re.compile(r"https?://\S+(?: ; https?://\S+)*")
"""A source that is only addresses (one, or several joined by " ; "), not a sentence."""


def is_address(text: str) -> bool:
    return ADDRESSES.fullmatch(text) is not None


def print_address(console: Any, address: str, lead: str = "    ") -> None:
    """`lead` then `address` on one line that rich never breaks (the terminal wraps it)."""
    console.print(f"{lead}{address}", markup=False, soft_wrap=True)


def numbered(sources: Iterable[Source]) -> dict[Source, int]:
    """Each distinct source and its number, from 1, in the order first cited."""
    numbers: dict[Source, int] = {}
    for source in sources:
        numbers.setdefault(source, len(numbers) + 1)
    return numbers


def cite(numbers: dict[Source, int], source: Source) -> str:
    return f"[{numbers[source]}]"


def print_sources(numbers: dict[Source, int], console: Any) -> None:
    """`Sources`, then `[n] title` (wrapped between words) and its address, unbroken."""
    if not numbers:
        return
    console.print("Sources", markup=False)
    for (title, address), number in numbers.items():
        if title:
            console.print(f"[{number}] {title}", markup=False)
        if address:
            print_address(console, address, "    " if title else f"[{number}] ")
