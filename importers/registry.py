"""The explicit list of formats, and detection that never guesses between two.

Detection looks only at a file's first KBs and must match exactly one format: none is an
error listing what was tried, two is an error naming both. `--source NAME` skips detection.
"""

from __future__ import annotations

import hashlib
import shlex
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import DataError, UsageError

if TYPE_CHECKING:
    from collections.abc import Sequence

    from importers.base import Format, ImportOptions, Parsed
    from importers.readers import RawFile

FORMAT_MODULES: tuple[str, ...] = (
    "importers.upwork",
    "importers.paypal",
    "importers.payoneer",
    "importers.wise",
    "importers.fiverr",
    "importers.freelancer",
    "importers.ofx",
    "importers.camt",
    "importers.swift_mt940",
    "importers.bank",
)
"""Modules that define `FORMATS`, a list of Format. Order is the order `ledger formats` shows."""


def formats(profile_dirs: Sequence[Path] = ()) -> list[Format]:
    """Every known format, in registry order, then the bank profiles in `profile_dirs`
    (a user's `<ledger dir>/profiles/`; one named like a bundled profile replaces it)."""
    found: list[Format] = []
    for module in FORMAT_MODULES:
        found.extend(import_module(module).FORMATS)
    if profile_dirs:
        from importers.bank import with_user_profiles

        found = with_user_profiles(found, profile_dirs)
    return found


def by_name(name: str, profile_dirs: Sequence[Path] = ()) -> Format:
    known_formats = formats(profile_dirs)
    for fmt in known_formats:
        if fmt.name == name:
            return fmt
    known = ", ".join(f.name for f in known_formats)
    raise UsageError(f"unknown source {name!r}", hint=f"known sources: {known}")


def read(path: Path) -> RawFile:
    """A file's bytes and sha256, with clear errors for what is not a readable file."""
    from importers.readers import RawFile, read_regular

    data = read_regular(path)
    return RawFile(path=path, data=data, sha256=hashlib.sha256(data).hexdigest())


def detect(raw: RawFile, profile_dirs: Sequence[Path] = ()) -> Format:
    """The one format that recognises this file."""
    _refuse_empty(raw)
    known_formats = formats(profile_dirs)
    matches = [fmt for fmt in known_formats if fmt.detect(raw)]
    if len(matches) == 1:
        return matches[0]
    if matches:
        names = " and ".join(f.name for f in matches)
        raise DataError(f"the file matches more than one format: {names}", path=raw.path,
                        hint=f"choose one with --source ({names.replace(' and ', ' or ')})")
    from importers.bank import is_sheet, sheet_head

    sheet = is_sheet(raw)
    if raw.is_binary and not sheet:
        raise DataError("this is a binary file, not a text export", path=raw.path,
                        hint="export the statement as CSV and import that")
    tried = ", ".join(f.name for f in known_formats)
    if sheet:
        rows = [r for r in sheet_head(raw) if any(c.strip() for c in r)]
        first = ",".join(rows[0]).rstrip(",")[:120] if rows else ""
    else:
        first = raw.head_lines[0][:120] if raw.head_lines else ""
    hint = f"formats tried: {tried}. Force one with --source NAME, or run `ledger formats` " \
        "to see what each expects"
    if sheet or not first.lstrip("\ufeff \t").startswith(("<", "{", ":")):  # a table
        hint += (". A bank statement? Add a profile: `ledger formats new "
                 f"{shlex.quote(str(raw.path))}` drafts one, edit its TODOs, then import again")
    raise DataError(f"unknown layout (first line: {first!r})", path=raw.path, line=1,
                    hint=hint)


def _refuse_empty(raw: RawFile) -> None:
    if not raw.data or raw.data.isspace():  # isspace stops at the first byte: no copy
        raise DataError("the file is empty", path=raw.path,
                        hint="download the export again; it holds no bytes")


def parse(raw: RawFile, options: ImportOptions, source: str | None = None,
          profile_dirs: Sequence[Path] = (), *, fmt: Format | None = None) -> Parsed:
    """Detect (or take `source`, or `fmt` itself) and parse one file into canonical rows."""
    _refuse_empty(raw)
    if fmt is None:
        fmt = by_name(source, profile_dirs) if source else detect(raw, profile_dirs)
    try:
        parsed = fmt.parse(raw, options)
    except (LookupError, ValueError) as exc:  # a column or value the layout promises is missing
        raise _damaged(raw, fmt, exc) from None
    except Exception as exc:
        import polars as pl

        if isinstance(exc, pl.exceptions.PolarsError):
            raise _damaged(raw, fmt, exc) from None
        raise
    parsed.format = fmt.name
    parsed.import_id = raw.sha256
    if raw.decode_warning:
        parsed.warnings.append(raw.decode_warning)
    return parsed


def _damaged(raw: RawFile, fmt: Format, exc: Exception) -> DataError:
    """A file detected as `fmt` that breaks the layout in a way no check named more precisely
    (found by fuzzing damaged exports): still a clean error, never a traceback."""
    detail = str(exc).splitlines()[0][:200] if str(exc) else type(exc).__name__
    return DataError(f"does not follow the {fmt.title} layout ({detail})", path=raw.path,
                     hint="the file looks damaged or edited: download the export again; if it "
                     "is intact, please report it (and try --source with another format)")
