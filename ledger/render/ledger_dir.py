"""What the ledger directory's commands print: `ledger import`'s progress bar and line per file,
`ledger imports`, `ledger doctor`, `ledger undo` and `ledger rebuild`; the console is passed in."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.render.status import note

if TYPE_CHECKING:
    from ledger.store.directory import ImportSummary


def import_line(s: ImportSummary, name: str) -> str:
    """`paypal_Download.CSV: paypal, 11 rows read, 13 ledger rows added (fees become their
    own rows), 0 already in the ledger`: file rows and ledger rows named apart, since one row
    with a fee becomes two."""
    skipped = ", ".join(f"{n} {why}" for why, n in s.skipped.items())
    why = " (fees become their own rows)" if s.rows > s.rows_read else ""
    return (f"{name}: {s.format}, {s.rows_read} rows read, [bold]{s.added} ledger rows "
            f"added[/]{why}, {s.duplicates} already in the ledger"
            + (f", skipped {skipped}" if skipped else ""))


def print_imported(summaries: list[ImportSummary], console, root: Path, dry_run: bool) -> None:
    """`ledger import`: a line per file with its warnings, then where the rows went (or that
    nothing was written)."""
    from ledger.render.report import lit

    for s in summaries:
        console.print(import_line(s, lit(s.path)))
        for warning in s.warnings:
            console.print(f"  [yellow]warning:[/] {lit(warning)}")
    if dry_run:
        console.print("[dim]dry run: nothing was written[/]")
    else:
        console.print(f"[dim]ledger: {lit(root)}[/]")


@contextmanager
def import_progress(console, files: int) -> Iterator[Callable[[], None]]:
    """The transient bar `ledger import` shows over several files on a terminal while the block
    runs; it yields the function that moves it on by one file."""
    from rich.progress import Progress

    with Progress(console=console, transient=True) as progress:
        task = progress.add_task("reading exports", total=files)
        yield lambda: progress.advance(task)


def print_imports(entries: list[dict], console) -> None:
    """`ledger imports`: the imports in effect, ids cut to the 12 characters `undo` takes."""
    from ledger.render.fit import Code, F, fit_table

    console.print(fit_table(
        [F("Import id", justify="left"), Code("File"), Code("Format", drop=1),
         F("Time", justify="left"), F("Added"), F("Duplicates")],
        [[e["import_id"][:12], e["file"], e["format"], e["time"], str(e["added"]),
          str(e["duplicates"])] for e in entries]))


IMPORT_COLUMNS = ("import_id", "file", "format", "time", "rows_read", "added", "duplicates",
                  "skipped", "archived")
"""`ledger imports --format csv`'s columns: what each import was and did (the options it was
read with are in --format json)."""


def imports_csv(entries: list[dict]) -> str:
    """`ledger imports --format csv`: one line per import in effect, whole ids."""
    from ledger.render.report import records_csv

    return records_csv(entries, IMPORT_COLUMNS)


def undone_line(entry: dict) -> str:
    """`ledger undo`: which import went and how many rows with it."""
    return f"undid {entry['file']} ({entry['import_id'][:12]}): {entry['removed']} rows removed"


def rebuilt_line(result: dict) -> str:
    """`ledger rebuild`: imports re-read and the rows before and after."""
    was = "unreadable" if result["rows_before"] is None else result["rows_before"]
    lines = [f"rebuilt from {result['imports']} imports: {result['rows']} rows (was {was})"]
    for read in result.get("read_as_imported", []):  # (imported before ledger asked)
        read_as, other = ("month", ("day", "dmy")) if read["order"] == "mdy" \
            else ("day", ("month", "mdy"))
        lines.append(note(f"{read['file']} was read {read_as}-first, as when it was imported; "
                          "its dates could be either"))
        lines.append(f"  hint: if they are {other[0]}-first, `ledger undo "
                     f"{read['import_id'][:12]}` and import it again with --date-order {other[1]}")
    return "\n".join(lines)


def print_doctor(findings: list[dict], console) -> None:
    """`ledger doctor`: each finding with whether it was repaired and a hint, or that the
    ledger is consistent."""
    for f in findings:
        state = "repaired" if f["repaired"] else "NOT repaired"
        console.print(f"{f['path']}: {f['problem']} ({state})"
                      + (f"\n  hint: {f['hint']}" if f["hint"] else ""), markup=False)
    if not findings:
        console.print("the ledger is consistent")
