"""Several people's rows counted as one frame (`ledger batch` counts a chunk of workers at once).

Each row's id then carries its worker's tag, `<worker>` + `SEP`: two workers who donated the
same file have the same ids, and the tag keeps them apart in every join, `over()` and
`group_by` on ids (deduplication, transfer pairs, fee rows' replacements). Joins on anything
else (dates, currencies, accounts, refs) add `worker(...)` to their keys, so no rule pairs two
workers' rows. An id derived from an id (`derived_id`: a fee row's, a conversion leg's) keeps
the tag and hashes what follows it, so it is the id counting the worker alone gives, tagged.
Within one worker the tag is the same on every id, so sorting on ids orders its rows as
counting it alone does.

Without a tag (one ledger: `ledger report`, `ledger reconcile`) every expression here is the
plain one: `worker` is "" on every row and `derived_id` the plain hash.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import polars as pl

SEP = "\x1f"
"""Ends a worker's tag: the ASCII unit separator, which no importer puts in an id."""
_TAG = f"^[^{SEP}]*{SEP}"


def worker(column: str) -> pl.Expr:
    """The worker tag of the id in `column` ("" where the id has none)."""
    import polars as pl

    return pl.col(column).str.extract(f"^([^{SEP}]*){SEP}", 1).fill_null("")


def derived_id(suffix: str, column: str = "id") -> pl.Expr:
    """sha256(id + `:suffix`) cut to an id's length, after the id's worker tag (kept)."""
    import polars as pl

    from ledger.core import schema
    from ledger.core.schema import sha256_hex

    prefix = pl.col(column).str.extract(f"({_TAG})", 1).fill_null("")
    return prefix + sha256_hex(untagged(column) + pl.lit(f":{suffix}")).str.slice(
        0, schema.ID_HEX)


def tag(worker_no: int) -> str:
    """The tag of the `worker_no`th worker of a chunk: fixed width, so tags sort as numbers."""
    return f"{worker_no:06d}{SEP}"


def untagged(column: str) -> pl.Expr:
    """`column` without the worker tag its values may start with."""
    import polars as pl

    return pl.col(column).str.replace(_TAG, "")
