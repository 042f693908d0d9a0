"""`ledger batch` output: what a run made (workers, files, rows, the panel and where the
key and private map went) on the console, its notices and problems on the error console;
both consoles are passed in. And its progress: the bar a terminal shows, the line a log gets."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from ledger.render.status import HINT, error_text


def print_result(result, out: Path, formats: frozenset[str], key_file: Path | None,
                 map_file: Path | None, console, err, width: int = 80,
                 err_width: int = 80) -> None:
    """A `ledger.batch` run's result: counts and outputs to `console`; warnings and the first
    20 problems (the rest counted, all listed without names in errors.csv) to `err`. The
    lines to `console` are wrapped between words at `width`, a path never broken; a problem
    keeps its first line whole (`path:line: what`, as every error's), a warning's is wrapped
    at `err_width`, and their hints are wrapped there under their first word
    (status.error_text)."""
    from ledger.batch.notices import SHOWN, lines
    from ledger.batch.outputs import FORMATS

    def say(text: str) -> None:
        console.print(_fill(text, width), markup=False)

    def warn(text: str, fill: bool = True) -> None:  # `message\n  hint: ...`, as built
        message, _, hint = text.partition("\n" + HINT)
        err.print(error_text(_fill(message, err_width) if fill else message, hint or None,
                             err_width).rstrip("\n"), markup=False)

    say(f"{result.workers:,} workers, {result.files:,} files, {result.rows:,} rows -> "
        f"{result.panel_rows:,} worker-months of {result.workers_in_panel:,} workers in "
        f"{out / 'panel'}")
    if formats:
        say("and the whole panel in " + ", ".join(
            str(out / FORMATS[f]) for f in FORMATS if f in formats))
    if result.key_created:
        say(f"created the key {key_file}: keep it, outside {out}, to extend the panel with "
            "the same pseudonyms")
    if map_file is not None:
        say(f"wrote the private map {map_file}: keep it with the key, never with the panel")
    for line in lines(result.warnings):
        warn(line)
    if result.unlisted:
        shown, more = result.unlisted[:SHOWN], len(result.unlisted) - SHOWN
        warn(f"warning: {len(result.unlisted)} folder(s) of exports in INPUT are in no manifest "
             "row, so not read: " + ", ".join(shown) + (f" and {more} more" if more > 0 else "")
             + "\n" + HINT + "add a row for each donor to include (worker,country,path), or "
             "move the folder out of INPUT")
    if result.errors:
        for message in result.errors[:20]:
            warn(message, fill=False)
        more = len(result.errors) - 20
        warn(f"{len(result.errors)} problem(s)" + (f" ({more} more not shown)"
                                                   if more > 0 else "")
             + f", listed without names in {out / 'errors.csv'}")


def _fill(text: str, width: int) -> str:
    """`text` wrapped between words at `width`, its next lines indented by two; a word
    longer than the line (a path) is left whole, so it can be copied."""
    import textwrap

    return textwrap.fill(text, max(width, 40), subsequent_indent="  ",
                         break_long_words=False, break_on_hyphens=False)


@contextmanager
def progress_bar(console) -> Iterator[Callable[[int, int], None]]:
    """The transient bar over workers on a terminal (`workers ━━━━   3/4 0:00:05 ETA 0:00:02`),
    shown while the block runs; it yields the `progress(done, total)` a batch run calls."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    with Progress(TextColumn("workers"), BarColumn(), MofNCompleteColumn(),
                  TimeElapsedColumn(), TextColumn("ETA"), TimeRemainingColumn(),
                  console=console, transient=True) as progress:
        task = progress.add_task("workers", total=None)

        def tick(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield tick


def progress_line(done: int, total: int, elapsed: float, eta: float) -> str:
    """`batch: 1,200/5,000 workers (24%), 1 min 05 s elapsed, ETA 3 min 26 s` (seconds in,
    whole seconds out): how far a batch without a terminal got, for its log."""
    return (f"batch: {done:,}/{total:,} workers ({done / max(total, 1):.0%}), "
            f"{_seconds(elapsed)} elapsed, ETA {_seconds(eta)}")


def _seconds(value: float) -> str:
    whole = round(value)
    return f"{whole // 60} min {whole % 60:02d} s" if whole >= 60 else f"{whole} s"
