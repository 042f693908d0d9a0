"""Reading files into the ledger: each file through the importers, then one commit of the store.

`import_files`, `import_hours`, `undo` and `rebuild` parse (or re-parse the archived copies of)
exports and timesheets and hand the store the rows, the log entries and the archive copies to
commit (ledger.store.directory.Ledger.commit: all or nothing). The store itself reads no
export; these are the only functions that bring the importers and the store together. The
Ledger's methods
of the same names call these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping, Sequence
from contextlib import nullcontext
from dataclasses import asdict, dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError
from ledger.core.files import ArchiveStager

if TYPE_CHECKING:
    import polars as pl

    from importers.base import Format, ImportOptions, Parsed
    from ledger.store.directory import Ledger


@dataclass
class ImportSummary:
    """What one file did to the ledger."""

    path: str
    import_id: str
    format: str
    rows_read: int
    rows: int
    added: int
    duplicates: int
    skipped: dict[str, int] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def parse(ledger: Ledger, paths: Sequence[Path], options: ImportOptions,
          source: str | None = None,
          progress: Callable[[Path], None] | None = None,
          stager: ArchiveStager | None = None,
          options_of: Mapping[Path, ImportOptions] | None = None
          ) -> list[tuple[Path, bytes | Callable[[], bytes], Parsed]]:
    """Read and parse every file (each with `options`, or its own in `options_of`). Nothing
    is written but, given a `stager`, temporary archive copies that a failed import removes.

    Each file comes with its bytes for the archive: with a `stager`, a function that reads
    them again (only should the staged copy have gone), so a large export's bytes are not
    held through the merge and the write (a file's size of peak memory)."""
    from importers import registry

    parsed: list[tuple[Path, bytes | Callable[[], bytes], Parsed]] = []
    for path in paths:
        raw = registry.read(Path(path))
        data: bytes | Callable[[], bytes] = raw.data
        if stager:
            stager.stage(Path(_archived(Path(path), raw.sha256)).name, raw.data)
            data = _reader(Path(path), raw.sha256)
        parsed.append((Path(path), data, registry.parse(
            raw, (options_of or {}).get(Path(path), options), source,
            profile_dirs=[ledger.root / "profiles"])))
        del raw  # its bytes: freed once parsed and staged
        if progress:
            progress(Path(path))
    return parsed


def _reader(path: Path, sha256: str) -> Callable[[], bytes]:
    """The bytes of `path` as they were parsed: read again, refused if they changed since."""
    from functools import partial

    from importers.raw_files import read_unchanged

    return partial(read_unchanged, path, sha256)


def import_files(ledger: Ledger, paths: Sequence[Path], options: ImportOptions, *,
                 source: str | None = None, dry_run: bool = False,
                 progress: Callable[[Path], None] | None = None,
                 options_of: Mapping[Path, ImportOptions] | None = None
                 ) -> list[ImportSummary]:
    """Import files: all or nothing, idempotent (rows already present are not added again).
    `options_of`: files read with options of their own, not `options` (logged with them, so
    `rebuild` reads them alike): `ledger demo`'s Payoneer export, whose dates prove no order."""
    own = {Path(path): given.check() for path, given in (options_of or {}).items()}
    options.check()
    if dry_run:
        return merge(ledger.stored_rows(), parse(ledger, paths, options, source, progress,
                                                 options_of=own))[1]
    stager = ArchiveStager(ledger.sources)
    try:
        parsed = parse(ledger, paths, options, source, progress, stager, own)
        with ledger.locked():
            combined, summaries = merge(ledger.stored_rows(), parsed)
            profiles = [_profile_archive(result.profile) for _, _, result in parsed]
            entries = [log_entry("import", s, own.get(path, options), source, profile=name)
                       for s, (name, _), (path, _, _) in zip(summaries, profiles, parsed,
                                                             strict=True)]
            copies = [(_archived(p, s.import_id), data)
                      for (p, data, _), s in zip(parsed, summaries, strict=True)]
            # the ids are distinct by construction: the stored rows' by their read, each
            # file's by registry.parse, and merge adds only rows whose id is not yet there
            ledger.commit(combined, entries, stager=stager,
                          archives=copies + [(name, text) for name, text in profiles if name],
                          ids_known=True)
    finally:
        stager.close()
    return summaries


def merge(existing: pl.DataFrame, parsed: list[tuple[Path, object, Parsed]]
          ) -> tuple[pl.DataFrame, list[ImportSummary]]:
    """The rows with each parsed file's new rows added (a row already present is a
    duplicate), sorted by date, and what each file did.

    Takes over each `Parsed.rows` (left empty): the rows are held once, not twice, while the
    ledger is sorted and written."""
    import polars as pl

    # no empty frame among those concatenated: with one, concat copies the ids (a column of
    # the file's size) rather than taking the frames' columns as they are
    frames = [existing] if existing.height else []
    seen = existing.select("id")
    empty = existing.clear()
    del existing
    summaries = []
    for number, (path, _, result) in enumerate(parsed, start=1):
        rows, result.rows = result.rows, result.rows.clear()
        new = rows.join(seen, on="id", how="anti") if seen.height else rows
        if new.height:
            frames.append(new)
        if number < len(parsed):  # the last file's ids are looked up by no later file: not
            seen = pl.concat([seen, new.select("id")])  # copied (a column of its size)
        summaries.append(ImportSummary(
            path=str(path), import_id=result.import_id, format=result.format,
            rows_read=result.rows_read, rows=rows.height, added=new.height,
            duplicates=rows.height - new.height, skipped=result.skipped,
            warnings=result.warnings))
        del rows, new
    del seen
    return (sorted_concat(frames) if frames else empty), summaries


def sorted_concat(frames: list[pl.DataFrame]) -> pl.DataFrame:
    """`sorted_by_date(pl.concat(frames))`, sorting only the frames that need it when their
    dates already follow each other (each frame's first date on or after the previous one's
    last: newer rows imported into a ledger, or rows into an empty one): a stable sort of
    the whole then leaves every frame in its place, so the stored rows are not moved
    (gathering a million stored rows' 20 columns cost ~0.5 s CPU of an import). Takes over
    `frames` (emptied; each frame's columns are moved out as it is sorted)."""
    import polars as pl

    bounds = [f.select(pl.col("date").min().alias("first"), pl.col("date").max().alias("last"))
              .row(0) for f in frames]
    in_turn = all(None not in b for b in bounds) and all(
        before[1] <= after[0] for before, after in pairwise(bounds))
    if in_turn:
        for index, frame in enumerate(frames):
            frames[index] = sorted_by_date(frame)
    combined = pl.concat(frames)
    frames.clear()  # the frames' columns are now only the combined frame's: freed as sorted
    return combined if in_turn else sorted_by_date(combined)


def sorted_by_date(rows: pl.DataFrame) -> pl.DataFrame:
    """`rows.sort("date", maintain_order=True)`, one column at a time: each column's old
    copy is freed as its sorted one is made, so sorting holds the rows once plus a column
    (a whole-frame sort held them twice: the peak of a large import). Sorted rows are
    returned as they are; so is a column that any order leaves the same (one value, or
    only nulls: an absent column, the import id), and a column in several chunks is made
    one first (gathering from 20 chunks cost twice as much as rechunking and gathering)."""
    import polars as pl

    if rows["date"].is_sorted():  # a stable sort of sorted rows changes nothing
        return rows
    order = rows.select(pl.arg_sort_by("date", maintain_order=True)).to_series()
    same = unmoved(rows)
    columns = []
    for name in rows.columns:
        if name in same:  # kept in `rows` too: taking it out would write out a literal
            columns.append(rows.select(name))  # column's million values
            continue
        # (a column's pieces counted on it alone: counting those of a literal column, as
        # DataFrame.n_chunks("all") does, writes out and keeps its million values)
        # (gathered as a frame's rows, `frame[order]`: a quarter less CPU than Series.gather
        # or an expression's gather on a million strings, the same values)
        if rows.get_column(name).n_chunks() > 1:  # its pieces freed once made one, before
            whole = rows.drop_in_place(name).rechunk()  # the gather
            columns.append(whole.to_frame()[order])
            del whole
            continue
        columns.append(rows.select(name)[order])
        rows.drop_in_place(name)  # the old column freed (the caller's frame is this one)
    return pl.concat(columns, how="horizontal")


def unmoved(rows: pl.DataFrame) -> set[str]:
    """The columns whose every value is the same (nulls included), which any reordering of
    the rows leaves as they are. A float column only when all null: 0.0 equals -0.0, and
    NaNs compare equal whatever their bits, yet moving them changes the bytes stored.
    Only the columns whose first and last values agree, and whose cells are all null or
    none, are compared in full."""
    import polars as pl

    if not rows.height:
        return set(rows.columns)
    def may_be(name: str, float_: bool) -> pl.Expr:
        nulls = pl.col(name).null_count()
        if float_:
            return nulls == pl.len()
        return pl.col(name).first().eq_missing(pl.col(name).last()) \
            & ((nulls == 0) | (nulls == pl.len()))

    maybe = [n for n, one in zip(rows.columns, rows.select(
        may_be(n, t.is_float()).alias(n) for n, t in rows.schema.items()).row(0), strict=True)
        if one]
    found = rows.select(pl.col(n).eq_missing(pl.col(n).first()).all() for n in maybe).row(0) \
        if maybe else ()
    return {n for n, one in zip(maybe, found, strict=True) if one}


def log_entry(event: str, summary: ImportSummary, options: ImportOptions,
              source: str | None, profile: str | None = None) -> dict:
    """The import log entry of one file (its archived copy named by its sha256)."""
    path = Path(summary.path)
    return {
        "event": event,
        "import_id": summary.import_id,
        "file": path.name,
        "archived": _archived(path, summary.import_id),
        **({"profile": profile} if profile else {}),
        "format": summary.format,
        "source_option": source,
        "options": options.as_dict(),
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "rows_read": summary.rows_read,
        "added": summary.added,
        "duplicates": summary.duplicates,
        "skipped": summary.skipped,
    }


def import_hours(ledger: Ledger, paths: Sequence[Path], options: ImportOptions, *,
                 dry_run: bool = False) -> list[ImportSummary]:
    """Import timesheets: all or nothing, each entry once (same rules as exports)."""
    import polars as pl

    from importers import hours, registry

    options.check()
    parsed = []
    for path in paths:
        raw = registry.read(Path(path))
        rows, layout = hours.parse(raw, options)
        parsed.append((Path(path), raw, rows, layout))
    with ledger.locked() if not dry_run else nullcontext():
        existing = pl.read_parquet(ledger.hours_path, glob=False) if ledger.hours_path.exists() \
            else hours.empty()
        seen = existing.select("id")
        frames, summaries = [existing], []
        for path, raw, rows, layout in parsed:
            new = rows.join(seen, on="id", how="anti")
            seen = pl.concat([seen, new.select("id")])
            frames.append(new)
            summaries.append(ImportSummary(
                path=str(path), import_id=raw.sha256, format=f"hours:{layout}",
                rows_read=rows.height, rows=rows.height, added=new.height,
                duplicates=rows.height - new.height))
        if dry_run:
            return summaries
        combined = pl.concat(frames).sort("date", maintain_order=True)
        entries = [log_entry("hours", s, options, None) for s in summaries]
        ledger.commit(combined, entries, ledger.hours_path,
                      archives=[(_archived(p, raw.sha256), raw.data) for p, raw, _, _ in parsed])
    return summaries


def undo(ledger: Ledger, import_id: str) -> dict:
    """Remove one import: the ledger is rebuilt from every other import still in effect."""
    with ledger.locked():
        active = ledger.active_imports() + ledger.active_imports("hours")
        matches = [e for e in active if e["import_id"].startswith(import_id)]
        if not import_id or len(matches) != 1:
            known = ", ".join(e["import_id"][:12] for e in active) or "none"
            what = "matches several imports" if matches else "is not an import in effect"
            raise UsageError(f"{import_id!r} {what}", path=ledger.log_path,
                             hint=f"imports in effect: {known} (see `ledger imports`)")
        target = matches[0]
        entry = {"event": "undo", "import_id": target["import_id"], "file": target["file"],
                 "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds")}
        if target["event"] == "hours":
            keep = [e for e in ledger.active_imports("hours")
                    if e["import_id"] != target["import_id"]]
            sheet = _reparse_hours(ledger, keep)
            before = ledger.hours()
            entry["removed"] = before.filter(before["origin"] == "source").height \
                - sheet.height
            ledger.commit(sheet, [entry], ledger.hours_path)
            return entry
        keep = [e for e in ledger.active_imports() if e["import_id"] != target["import_id"]]
        rows, _ = _reparse(ledger, keep)
        entry["removed"] = ledger.stored_rows().height - rows.height
        ledger.commit(rows, [entry])
        return entry


def rebuild(ledger: Ledger) -> dict:
    """Re-parse every archived source in effect with today's importers and rewrite the rows.

    A file imported through a user's bank profile is read with the profile's archived copy:
    to read it with an edited profile, `ledger undo` it and import it again."""
    with ledger.locked():
        return rebuild_locked(ledger)


def rebuild_locked(ledger: Ledger) -> dict:
    """`rebuild` with the lock already held (`ledger doctor` repairs through it)."""
    active = ledger.active_imports()
    unsettled: list[dict] = []
    rows, counts = _reparse(ledger, active, unsettled)
    try:
        before: int | None = ledger.stored_rows().height
    except DataError:  # a damaged or older-version ledger is what rebuild is for
        from ledger.core import schema

        before = schema.stored_count(ledger.rows_path)
    entry = {"event": "rebuild", "import_id": "", "file": "",
             "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
             "imports": len(active), "rows_before": before, "rows": rows.height}
    ledger.commit(rows, [entry])
    hour_imports = ledger.active_imports("hours")
    if hour_imports or ledger.hours_path.exists():
        ledger.commit(_reparse_hours(ledger, hour_imports), [], ledger.hours_path)
    return {**entry, "per_import": counts, "read_as_imported": unsettled}


def _reparse_hours(ledger: Ledger, entries: list[dict]) -> pl.DataFrame:
    import polars as pl

    from importers import hours, registry
    from importers.base import ImportOptions

    sheet = hours.empty()
    for entry in entries:
        raw = registry.read(ledger.root / entry["archived"])
        raw.path = Path(entry["file"])
        rows, _ = hours.parse(raw, ImportOptions.from_dict(entry.get("options", {})))
        sheet = pl.concat([sheet, rows.join(sheet.select("id"), on="id", how="anti")])
    return sheet.sort("date", maintain_order=True)


def archived_profile(ledger: Ledger, entry: dict) -> Format | None:
    """The format of the user bank profile an import was read with, from its archived
    copy (editing or deleting the profile later changes no imported row); None if the
    import used a built-in format or predates profile archiving."""
    if not entry.get("profile"):
        return None
    from importers.bank import as_format, profile_from_text

    path = ledger.root / entry["profile"]
    try:
        text = path.read_text(encoding="utf-8")
    except OSError:
        raise DataError(f"the archived bank profile of {entry['file']} is missing",
                        path=path, hint="restore it from a backup, or `ledger undo "
                        f"{entry['import_id'][:12]}` and import the file again") from None
    return as_format(profile_from_text(text, path))


def _reparse(ledger: Ledger, entries: list[dict], unsettled: list[dict] | None = None
             ) -> tuple[pl.DataFrame, dict[str, int]]:
    """The rows of the imports `entries` logged, each file read again with its logged
    options. A file imported before its format asked for `--date-order` (its dates prove no
    order, and none was given) is read as it was then (`Format.read_unsettled_as`): rebuild
    and undo take no flag, and the rows it stored stay as they were; each such file is added
    to `unsettled` (file, import id, the order it was read in), for rebuild to say so."""
    from dataclasses import replace

    from importers import registry
    from importers.base import ImportOptions, UnsettledDates
    from ledger.core import schema

    rows = schema.empty()
    counts: dict[str, int] = {}
    for entry in entries:
        archived = ledger.root / entry["archived"]
        if not archived.exists():
            raise DataError("archived source is missing", path=archived,
                            hint="restore it from a backup or `ledger undo` that import")
        raw = registry.read(archived)
        raw.path = Path(entry["file"])
        options = ImportOptions.from_dict(entry.get("options", {}))
        dirs, fmt = [ledger.root / "profiles"], archived_profile(ledger, entry)
        try:
            parsed = registry.parse(raw, options, entry.get("source_option"),
                                    profile_dirs=dirs, fmt=fmt)
        except UnsettledDates:
            fmt = fmt or registry.by_name(entry.get("format") or "", dirs)
            if options.date_order or not fmt.read_unsettled_as:
                raise
            options = replace(options, date_order=fmt.read_unsettled_as)
            parsed = registry.parse(raw, options, fmt=fmt)
            if unsettled is not None:
                unsettled.append({"file": entry["file"], "import_id": entry["import_id"],
                                  "order": options.date_order})
        rows, summaries = merge(rows, [(archived, raw.data, parsed)])
        counts[entry["import_id"]] = summaries[0].added
    return rows, counts


def _profile_archive(text: str | None) -> tuple[str | None, bytes]:
    """(path under the ledger dir, bytes) a user profile's text is archived as: named by its
    sha256, so imports read with the same profile share one copy. (None, b"") for no text."""
    if text is None:
        return None, b""
    data = text.encode("utf-8")
    return f"sources/{hashlib.sha256(data).hexdigest()}.profile.toml", data


def _archived(path: Path, import_id: str) -> str:
    """Where a source's copy is archived, under the ledger dir: named by its sha256."""
    return f"sources/{import_id}{_suffix(path)}"


def _suffix(path: Path) -> str:
    suffix = path.suffix.lower()
    return suffix if suffix and len(suffix) <= 6 and suffix[1:].isalnum() else ".dat"

