"""Are this checkout's reports byte for byte another checkout's? (issue 23: a year counted in
one pass must print what twelve passes printed.)

Runs `ledger report` (and with `--commands report payouts`, `ledger payouts`) for the year, a
month and a range, each as json, table and csv, on each ledger given, once with this
checkout's code and once with BASE's (a `git worktree add` of main), each in its own process,
and prints every output that differs. Exit 1 if any does.

Usage: python bench/same_reports.py BASE LEDGER_DIR [LEDGER_DIR ...] [--year 2024]
       [--commands report payouts]
"""

from __future__ import annotations

import argparse
import difflib
import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent


def outputs(year: int) -> list[list[str]]:
    """The periods compared: a year, a month and a range across months, each way."""
    periods = [["--year", str(year)], ["--month", f"{year}-06"],
               ["--from", f"{year}-03-15", "--to", f"{year}-08-10"]]
    return [[*period, "--format", way] for period in periods for way in ("json", "table", "csv")]


def run(code: Path, ledger: Path, args: list[str], command: str = "report") -> tuple[int, str]:
    """(exit code, stdout + stderr) of `ledger COMMAND ARGS` with `code` on the import path."""
    env = {**os.environ, "PYTHONPATH": str(code), "COLUMNS": "200"}
    done = subprocess.run([sys.executable, "-m", "ledger.cli.main", "--ledger", str(ledger),
                           command, *args], capture_output=True, text=True, env=env,
                          cwd=code)
    return done.returncode, done.stdout + done.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", type=Path, help="the other checkout (e.g. main's worktree)")
    parser.add_argument("ledgers", type=Path, nargs="+")
    parser.add_argument("--year", type=int, default=2024)
    parser.add_argument("--commands", nargs="+", default=["report"],
                        choices=["report", "payouts"])
    args = parser.parse_args()
    differ = 0
    for ledger in args.ledgers:
        for command, report in [(c, r) for c in args.commands for r in outputs(args.year)]:
            name = f"{ledger}: {command} {' '.join(report)}"
            ours = run(HERE, ledger, report, command)
            theirs = run(args.base.resolve(), ledger, report, command)
            if ours == theirs:
                print(f"same     {name}")
                continue
            differ += 1
            print(f"DIFFERS  {name} (exit {theirs[0]} -> {ours[0]})")
            sys.stdout.writelines(list(difflib.unified_diff(
                theirs[1].splitlines(True), ours[1].splitlines(True), "base", "ours"))[:40])
    print(f"{differ} output(s) differ" if differ else "every output is the same")
    raise SystemExit(1 if differ else 0)


if __name__ == "__main__":
    main()
