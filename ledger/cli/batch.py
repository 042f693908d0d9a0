"""`ledger batch`: many workers' donated exports -> an anonymised worker-month panel.

Registered by ledger/cli/commands.py (`app.command("batch")(batch_cmd)`). Thin: options in,
ledger.batch.run out; polars, rich and the importers load only inside the command.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated

import typer


def batch_cmd(
    input_path: Annotated[Path | None, typer.Argument(
        metavar="INPUT", help="Folder with one folder per worker (or a manifest CSV).",
        show_default=False)] = None,
    out: Annotated[Path, typer.Option(
        "--out", help="Output folder: panel/, summary.csv, errors.csv, README.md.",
        show_default=False)] = ...,  # type: ignore[assignment]
    manifest: Annotated[Path | None, typer.Option(
        help="CSV worker,country,path (paths relative to INPUT): who is who and where; an "
        "optional date_order column (dmy, mdy) for that folder's or file's dates.")
    ] = None,
    key_file: Annotated[Path, typer.Option(
        help="Pseudonym key: 32 random bytes, created if missing; must be outside --out.")
    ] = Path("batch.key"),
    k: Annotated[int, typer.Option(
        "--k", help="Suppress summary cells with fewer than k workers.")] = 5,
    jobs: Annotated[int | None, typer.Option(
        help="Processes of the local Dask cluster (default: the number of CPUs; 1 runs in "
        "this process).", show_default=False)] = None,
    scheduler: Annotated[str | None, typer.Option(
        envvar="DASK_SCHEDULER_ADDRESS", help="Run on an existing Dask cluster, e.g. "
        "tcp://10.0.0.5:8786 (every worker must see INPUT and --out under the same paths).",
        show_default=False)] = None,
    map_file: Annotated[Path | None, typer.Option(
        "--map", help="Also write pseudonym -> folder and file -> path to this private CSV "
        "(outside --out), to follow up errors.csv rows.", show_default=False)] = None,
    progress_every: Annotated[float, typer.Option(
        help="Seconds between progress lines when stderr is not a terminal (0: none).")
    ] = 10.0,
    bands: Annotated[bool, typer.Option(
        "--bands", help="Coarsen amounts, ratios and hours into bands.")] = False,
    trajectories: Annotated[Path | None, typer.Option(
        help="TOML with livelihood trajectory thresholds (defaults in DIR/README.md).",
        show_default=False)] = None,
    period: Annotated[str, typer.Option(
        help="month: the worker-month panel; fiscal: also a tax_year column, each worker's "
        "country's tax year (PK, BD: July-June; IN: April-March; docs/tax-year.md).")
    ] = "month",
    date_order: Annotated[str | None, typer.Option(
        help="dmy or mdy, for files whose dates like 05/06/2024 could be either (no day above "
        "12; Payoneer's own export: mdy); a file whose dates settle the order keeps it. Per "
        "worker or file: the manifest's date_order column.", show_default=False)] = None,
    also: Annotated[str | None, typer.Option(
        help="Also write the whole panel as DIR/panel.csv (exact decimals) and/or DIR/panel.dta "
        "(Stata), e.g. --also csv,dta.", show_default=False)] = None,
    summary_only: Annotated[bool, typer.Option(
        "--summary-only", help="Only recompute summary.csv and README.md from DIR/panel "
        "(e.g. after copying several runs' panels together; parts of runs with and without "
        "--bands are refused together).")] = False,
) -> None:
    """Research panels: read many workers' exports, anonymised, into a worker-month panel.

    Each worker's files (any format `ledger import` reads, plus timesheets) go through the
    same importers, fee rules and offline FX rates as one freelancer's report, in memory: no
    ledger is written. Output: DIR/panel/ (Parquet, partitioned country=CC/year=YYYY, one row
    per worker and month: gross, every fee, FX cost, net in USD and local currency, hours,
    net hourly, benchmark ratios, livelihood trajectory), DIR/summary.csv (by country and
    month, cells under k workers suppressed), DIR/errors.csv (files that could not be read;
    the batch goes on) and DIR/README.md (the data dictionary).

    Workers appear only as keyed pseudonyms (HMAC-SHA256 with the key file; the same key
    gives the same pseudonyms in every run). No names, emails, clients, descriptions,
    transaction ids, file names or exact dates are written: months only. A worker's country
    comes from the manifest, else country.txt or ledger.toml in their folder; a ledger.toml
    is checked as `ledger` checks yours, and one it would refuse is an error, not used.

    Examples:

      ledger batch donations/ --out panel-2024/

      ledger batch donations/ --out panel/ --manifest workers.csv --k 10 --bands

      ledger batch donations/ --out panel/ --period fiscal

      ledger batch donations/ --out panel/ --date-order mdy

    \b
      ledger batch donations/ --out panel/ --scheduler tcp://10.0.0.5:8786 \\
          --map private.csv

      ledger batch donations/ --out panel/ --also csv,dta

      ledger batch --summary-only --out merged-panel/

    Runs on Dask: a local cluster of --jobs processes, or --scheduler's. Rerunning the same
    command resumes: finished chunks of workers (DIR/_chunks) are skipped.
    """
    from ledger import batch
    from ledger.batch.outputs import parse_also, write_also

    formats = parse_also(also)  # a bad name fails now, not after the whole batch
    if summary_only:
        if not out.is_dir():
            from ledger.core.errors import UsageError

            raise UsageError("no such output folder", path=out,
                             hint="--summary-only reads DIR/panel of an earlier run")
        from ledger.render.status import wrote

        batch.summarize(out, k)
        written = [out / "summary.csv", out / "README.md", *write_also(out, formats)]
        _console().print(wrote(*written), markup=False)
        return
    if progress_every < 0:
        from ledger.core.errors import UsageError

        raise UsageError(f"--progress-every {progress_every:g} is negative",
                         hint="seconds between progress lines; 0 for none")
    result = _run(lambda tick: batch.run(
        input_path, out, manifest=manifest, key_file=key_file, k=k, jobs=jobs,
        bands=bands, trajectories=trajectories, progress=tick, period=period,
        scheduler=scheduler, map_file=map_file, also=formats, date_order=date_order),
        progress_every)
    from ledger.cli.common import width
    from ledger.render.batch import print_result

    print_result(result, out, formats, key_file, map_file, _console(), _console(stderr=True),
                 width(), width(stderr=True, piped=80))
    if result.errors and not result.rows:  # a panel of nothing is not a success
        from ledger.core.errors import DataError

        raise DataError(f"no transaction of the {result.files:,} file(s) could be read: the "
                        "panel is empty",
                        path=input_path, hint=f"see the problems above ({out / 'errors.csv'} "
                        "lists them without names)")


def _console(stderr: bool = False):
    from ledger.render.plain_console import rich_console

    return rich_console(stderr=stderr, highlight=False, soft_wrap=True, emoji=False)


def _run(work, every: float):
    """With a progress bar and ETA over workers on a terminal; else a line every `every`
    seconds (a batch job's log shows it is alive and how far it got)."""
    if not sys.stderr.isatty():
        return work(ticker(every, sys.stderr) if every > 0 else None)
    from ledger.render.batch import progress_bar

    with progress_bar(_console(stderr=True)) as tick:
        return work(tick)


def ticker(every: float, stream, clock=None):
    """progress(done, total) printing `batch: done/total workers (p%), elapsed, ETA` to
    `stream` at most once per `every` seconds, and at the end."""
    import time

    from ledger.render.batch import progress_line

    clock = clock or time.monotonic
    start = clock()
    last = [start]

    def tick(done: int, total: int) -> None:
        now = clock()
        if now - last[0] < every and done < total:
            return
        last[0] = now
        elapsed = now - start
        eta = elapsed / done * (total - done) if done else 0.0
        stream.write(progress_line(done, total, elapsed, eta) + "\n")
        stream.flush()

    return tick
