"""`ledger reconcile link`/`unlink`: the user's decisions on which withdrawal is which credit,
kept in `<ledger>/links.json` by row id (stable across rebuilds), settling what matching cannot
(ledger.transfers never guesses between look-alike credits)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.store.directory import Ledger

LINKS_FILE = "links.json"


def load_links(ledger: Ledger) -> dict[str, list[list[str]]]:
    """links.json: {"links": [[out_id, in_id], ...], "unlinks": [[out_id, in_id], ...]}."""
    path = ledger.root / LINKS_FILE
    if not path.exists():
        return {"links": [], "unlinks": []}
    try:
        data = json.loads(path.read_text("utf-8"))
        links = [[str(a), str(b)] for a, b in data.get("links", [])]
        unlinks = [[str(a), str(b)] for a, b in data.get("unlinks", [])]
    except (ValueError, TypeError, AttributeError) as exc:
        raise DataError(f"cannot read the reconcile links: {exc}", path=path,
                        hint="fix or delete the file (it only holds `ledger reconcile link` "
                        "decisions)") from None
    return {"links": links, "unlinks": unlinks}


def _save_links(ledger: Ledger, data: dict) -> None:
    from ledger.store.directory import atomic_write_bytes

    body = {"schema": "ledger.links/1", "links": sorted(data["links"]),
            "unlinks": sorted(data["unlinks"])}
    atomic_write_bytes(ledger.root / LINKS_FILE,
                       (json.dumps(body, indent=2) + "\n").encode("utf-8"))


def resolve_id(rows: pl.DataFrame, text: str) -> dict:
    """The transfer row whose id is `text` or starts with it (unique prefix)."""
    import polars as pl

    key = text.strip().lower()
    if len(key) < 4:
        raise UsageError(f"row id {text!r} is too short", hint="give at least 4 characters "
                         "of an id shown by `ledger reconcile` or `ledger transactions`")
    found = rows.filter(pl.col("id").str.starts_with(key))
    if found.is_empty():
        raise UsageError(f"no row id starts with {text!r}",
                         hint="ids are shown by `ledger reconcile --format json`")
    if found.height > 1:
        raise UsageError(f"{text!r} matches {found.height} rows "
                         f"({', '.join(found['id'].head(3).to_list())}...)",
                         hint="give more characters of the id")
    row = found.row(0, named=True)
    if row["kind"] != "transfer":
        raise UsageError(f"row {row['id']} is a {row['kind']}, not a transfer",
                         hint="only transfers between your accounts are linked")
    return row


def _pair(ledger: Ledger, a: str, b: str) -> tuple[str, str]:
    rows = ledger.rows()
    first, second = resolve_id(rows, a), resolve_id(rows, b)
    if (first["amount"] < 0) == (second["amount"] < 0):
        raise UsageError("link one withdrawal (negative) with one credit (positive)",
                         hint=f"{first['id']} is {first['amount']}, {second['id']} is "
                         f"{second['amount']}")
    if first["account"] == second["account"]:
        raise UsageError(f"both rows are on the account {first['account']}",
                         hint="a hop goes from one of your accounts to another")
    out, into = (first, second) if first["amount"] < 0 else (second, first)
    return out["id"], into["id"]


def link(ledger: Ledger, a: str, b: str) -> dict:
    """Record that withdrawal and credit are the same money (either order; id prefixes)."""
    return {"linked": _file_pair(ledger, a, b, into="links", out_of="unlinks")}


def unlink(ledger: Ledger, a: str, b: str) -> dict:
    """Undo a link, or forbid an automatic match of the two rows."""
    return {"unlinked": _file_pair(ledger, a, b, into="unlinks", out_of="links")}


def _file_pair(ledger: Ledger, a: str, b: str, *, into: str, out_of: str) -> list[str]:
    """Put the (withdrawal, credit) pair of rows `a` and `b` in links.json's `into` list
    and take it out of `out_of`, under the ledger's lock."""
    pair = list(_pair(ledger, a, b))
    with ledger.locked():
        data = load_links(ledger)
        data[out_of] = [p for p in data[out_of] if p != pair]
        if pair not in data[into]:
            data[into].append(pair)
        _save_links(ledger, data)
    return pair
