"""The one-line status messages the CLI prints, worded in ledger/render/: each function against the
exact line it must return (the CLI tests and the docs examples check them in place)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from ledger.render import demo, status
from ledger.render.batch import progress_line
from ledger.render.reconcile import linked_line, unlinked_line
from ledger.store.importing import ImportSummary


def test_wrote_names_every_file_and_what_is_in_it():
    assert status.wrote(Path("out/report.html")) == "wrote out/report.html"
    assert status.wrote(Path("p/summary.csv"), Path("p/README.md"), "p/panel.dta") == (
        "wrote p/summary.csv, p/README.md, p/panel.dta")
    assert status.wrote("a.journal", detail="3 rows (June 2024)") == (
        "wrote a.journal: 3 rows (June 2024)")


def test_export_lines():
    assert status.note("2 rates guessed") == "note: 2 rates guessed"
    assert status.exported(Path("x.csv"), 1234, "2024") == "wrote x.csv: 1234 rows (2024)"
    assert status.nothing_exported("June 2024") == (
        "note: no rows in June 2024; `ledger transactions` lists what there is")


def test_reconcile_link_lines():
    assert linked_line("3f2a91c0", "77be0d12") == "linked 3f2a91c0 -> 77be0d12"
    assert unlinked_line("3f2a91c0", "77be0d12") == (
        "unlinked 3f2a91c0 -> 77be0d12: they will not be matched")


def test_batch_progress_line_counts_and_minutes():
    assert progress_line(1200, 5000, 65.0, 205.8) == (
        "batch: 1,200/5,000 workers (24%), 1 min 05 s elapsed, ETA 3 min 26 s")
    assert progress_line(0, 0, 0.4, 0.0) == "batch: 0/0 workers (0%), 0 s elapsed, ETA 0 s"


def _summary(path: str, **counts: int) -> ImportSummary:
    return ImportSummary(path=path, import_id="ab" * 32, format=counts.pop("fmt", "paypal"),
                         rows_read=counts.get("rows_read", 0), rows=counts.get("rows", 0),
                         added=counts.get("added", 0), duplicates=counts.get("duplicates", 0))


def test_demo_lines():
    assert demo.intro(Path("/tmp/d")) == (
        "[bold]Demo:[/] a fictional web developer in Lahore; ledger at /tmp/d\n")
    s = _summary("/x/paypal_Download.CSV", rows_read=11, rows=13, added=13, duplicates=0)
    assert demo.imported(s) == (
        "imported paypal_Download.CSV: paypal, 11 rows read, [bold]13 ledger rows added[/] "
        "(fees become their own rows), 0 already in the ledger")
    hours = _summary("/x/Toggl.csv", fmt="toggl", added=42)
    assert demo.imported_hours(hours) == (
        "imported Toggl.csv: toggl, 42 entries (unpaid bidding/admin time, fixed-price hours)")
    assert demo.journeys_heading("June 2024", dt.date(2024, 6, 1), dt.date(2024, 7, 1)) == (
        "\n[bold]Payout journeys, June 2024[/] (`ledger reconcile --month 2024-06 --as-of "
        "2024-07-01`): each withdrawal from the platform or wallet to her bank, what each hop "
        "took, and what never arrived\n")
    assert demo.temporary_hint() == ("\n[dim]The demo ledger was temporary. Keep one to "
                                     "explore: ledger demo --keep ./demo-ledger[/]")
    assert demo.explore_hint(Path("d"), dt.date(2024, 7, 1)) == (
        "\n[dim]Explore it: ledger --ledger d report --year 2024 --currency USD · "
        "ledger --ledger d reconcile --from 2024-04-01 --to 2024-06-30 --as-of 2024-07-01 · "
        "ledger --ledger d transactions --kind fx · ledger --ledger d tax-register "
        "--tax-year 2024 (her tax year, July 2023 to June 2024)[/]")



def _terminal():
    """A 60-column terminal without colour that keeps what it was sent."""
    import io

    from rich.console import Console

    return Console(file=io.StringIO(), width=60, color_system=None, force_terminal=True)


def _last_frame(console) -> str:
    """The bar as last drawn (each frame starts with return + erase line), checking it was
    erased when the block ended (transient: the summary lines take its place)."""
    sent = console.file.getvalue()
    assert sent.endswith("\n\x1b[?25h\r\x1b[1A\x1b[2K")
    return sent.rsplit("\r\x1b[2K", 1)[1].split("\n")[0]


def test_progress_bars_of_import_and_batch():
    from ledger.render.batch import progress_bar
    from ledger.render.ledger_dir import import_progress

    terminal = _terminal()
    with import_progress(terminal, 3) as advance:
        advance()
    assert _last_frame(terminal) == "reading exports " + "━" * 10 + " " * 23 + "33% -:--:--"
    terminal = _terminal()
    with progress_bar(terminal) as tick:
        tick(3, 4)
    assert _last_frame(terminal) == "workers " + "━" * 21 + " " * 8 + "3/4 0:00:00 ETA -:--:--"


def test_batch_result_reads_at_80_columns():
    """`ledger batch`'s summary lines wrap between words (a path left whole), and a problem's
    hint is wrapped under its first word as every error's (its first line, `path:line: what
    [code]`, kept whole), a warning wrapped whole: they ran on unwrapped, cut by the terminal
    mid-word."""
    import io
    from types import SimpleNamespace

    from rich.console import Console

    from ledger.batch.errors import BY_CODE, terminal_line
    from ledger.render.batch import print_result

    path = "donations/" + "w" * 90 + "/Download.CSV"
    problem = terminal_line(path, 2, BY_CODE["not_a_number"])
    result = SimpleNamespace(workers=2, files=3, rows=10, panel_rows=4, workers_in_panel=2,
                             key_created=True, warnings={"no_country": ["a1b2", "c3d4", "e5f6"],
                             "identical_donations": [], "all_files_failed": []},
                             errors=[problem], unlisted=[])
    # as `ledger batch` makes them: rich's soft wrap, which leaves the lines as given
    out, err = (Console(file=io.StringIO(), soft_wrap=True, color_system=None, width=300)
                for _ in range(2))
    print_result(result, Path("panel"), frozenset(), Path("batch.key"), None, out, err, 80, 80)
    assert out.file.getvalue() == (
        "2 workers, 3 files, 10 rows -> 4 worker-months of 2 workers in panel/panel\n"
        "created the key batch.key: keep it, outside panel, to extend the panel with the\n"
        "  same pseudonyms\n")
    said = err.file.getvalue().splitlines()
    assert said[:3] == [  # a warning wraps too
        "warning: 3 worker(s) have no country, counted in country=unknown: a1b2, c3d4,",
        "  e5f6",
        "  hint: add country.txt to their folder or a country cell in the manifest"]
    at = said.index(f"{path}:2: {BY_CODE['not_a_number'].text} [not_a_number]")
    hint = said[at + 1:-1]
    assert hint[0].startswith("  hint: correct the value") and len(hint) > 1
    assert all(len(line) <= 80 and line.startswith("        ") for line in hint[1:])
    assert " ".join(line.split(": ", 1)[-1].strip() for line in hint).startswith(
        BY_CODE["not_a_number"].hint)
    assert said[-1] == "1 problem(s), listed without names in panel/errors.csv"
