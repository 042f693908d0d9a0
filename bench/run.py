"""`make bench`: our commands against bare-polars baselines, each in its own process.

Every case runs as a fresh process (interpreter start and imports included on both sides),
timed by wall clock, with peak memory from the kernel's rusage of that process. Each case
runs --repeat times (default 3), ours and its baselines alternating, and the medians are
compared with the targets, each printed met or missed: import <= 1.5x the CPU seconds of its
floor (bench/floor.py does only what the rules cannot skip: exact amounts, row ids, a Parquet
file; CPU, because wall time on a shared machine says more about the neighbours) and peak
memory <= 4x the export's size (beside it, without a target, the import against the floor
widened to the ledger's 20 columns, `floor.py --ledger-width`: how much of the gap is the
ledger's width); report <= 1.5x a hand-written group_by and peak memory <= 2x the
ledger's in-memory size; report --year <= 1.5x the CPU time of report --month on the same
ledger and peak memory <= 1.5x the month's (--reports-only: on the ledgers already in
bench/out, without importing again); the everyday commands (report, transactions,
reconcile, payouts) on the demo ledger and on a 5-year ledger of ~20k rows from 6 sources
(bench/gen_five.py) <= 1.5x the CPU time of `python -c "import polars"`
(--case everyday); `ledger --help` < 0.3 s. Last, a markdown table for the README.

Usage: python bench/run.py [--rows N] [--repeat K] [--case NAME ...] [--quick] [--reports-only]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent
LEDGER = [str(BIN / "ledger")]
PY = [sys.executable, "-c"]
sys.path.insert(0, str(HERE.parent))
from ledger.cli.process import ALLOCATOR_ENV, IMPORT_ALLOCATOR  # noqa: E402

IMPORT_ENV = {ALLOCATOR_ENV: IMPORT_ALLOCATOR}
"""The allocator setting `ledger import` gives itself (ledger/cli/process.py), given to the
floor and the bare read_csv beside it too: the floor measures the work an import cannot skip,
not polars' allocator defaults, so both sides of a ratio run with the same allocator."""


CASES: list[tuple[str, str, str, str]] = [
    ("PayPal activity", "paypal", "bench.generate:write_paypal", ""),
    ("Upwork history", "upwork", "bench.generate:write_upwork", ""),
    ("Payoneer transactions", "payoneer", "bench.gen_payoneer:write_payoneer", ""),
    # through the bundled profile importers/profiles/hdfc.toml: the baseline skips the 5
    # preamble lines and reads strings (the summary footer's cells are not numbers)
    ("HDFC bank CSV (profile)", "hdfc", "bench.gen_bank:write_hdfc",
     "skip_rows=5, infer_schema=False"),
]
"""(title, file name, generator module:function, options of the baseline's read_csv).
Generators run in their own process (see _generate)."""


def measure(cmd: list[str], repeat: int = 1,
            env: dict | None = None) -> tuple[float, float, float]:
    """(median wall seconds, median peak RSS MiB, median user+sys CPU seconds) of running `cmd`
    `repeat` times. CPU time is reported because wall time on a shared machine depends on
    what else runs."""
    return alternate([cmd], repeat, env=env)[0]


def alternate(cmds: list[list[str]], repeat: int, before: Callable[[], None] | None = None,
              env: dict | None = None, envs: list[dict | None] | None = None
              ) -> list[tuple[float, float, float]]:
    """`measure` of several commands, run in turn (ours, a baseline, ours...) so that a
    machine busy for a while slows all of them alike; `before` runs ahead of each round (a
    fresh ledger for an import); `envs`: each command's own additions to `env`."""
    runs: list[list[tuple[float, float, float]]] = [[] for _ in cmds]
    for _ in range(repeat):
        if before:
            before()
        for index, cmd in enumerate(cmds):
            extra = envs[index] if envs else None
            runs[index].append(_run(cmd, {**(env or {}), **(extra or {})}))
    return [tuple(statistics.median(r[i] for r in rs) for i in range(3))  # type: ignore[misc]
            for rs in runs]


def _run(cmd: list[str], env: dict | None) -> tuple[float, float, float]:
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            env={**os.environ, **(env or {})})
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        err = proc.stderr.read().decode() if proc.stderr else ""
        raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return wall, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def bare_read(path: Path, options: str = "") -> list[str]:
    """`polars.read_csv` of the file, with `options` such as a bank's preamble to skip."""
    return [*PY, f"import polars as pl; pl.read_csv({str(path)!r}, glob=False"
            f"{', ' if options else ''}{options})"]


def bare_report(parquet: Path, month: str) -> list[str]:
    """The hand-written equivalent of a monthly report: filter, sum by kind, by source, by
    counterparty."""
    year, mon = month.split("-")
    code = f"""
import datetime as dt, polars as pl
df = pl.read_parquet({str(parquet)!r}, glob=False)
first = dt.date({year}, {int(mon)}, 1)
m = df.filter(pl.col("date").is_between(first, dt.date({year}, {int(mon)}, 28)))
m.group_by("kind").agg(pl.col("amount").sum())
m.group_by("source").agg(pl.col("amount").sum())
m.group_by("counterparty").agg(pl.col("amount").sum())
"""
    return [*PY, code]


def compiled() -> None:
    """Write this checkout's bytecode first, as `pip install` does: polars, the baseline, is
    read from its .pyc files, and with PYTHONDONTWRITEBYTECODE set (as on our CI machines)
    our own modules would otherwise be compiled again in every timed process."""
    import compileall

    for package in ("ledger", "rules", "importers"):
        compileall.compile_dir(HERE.parent / package, quiet=1)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each case (medians compared with the targets)")
    parser.add_argument("--case", nargs="*", default=None,
                        help="only these exports (" + ", ".join(c[1] for c in CASES)
                        + "), and `everyday`/`help`/`peer` for those rows")
    parser.add_argument("--quick", action="store_true",
                        help="100,000 rows, one run, no hledger: to iterate, not to quote")
    parser.add_argument("--peer-rows", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="sizes of the PayPal export timed through hledger too")
    parser.add_argument("--reports-only", action="store_true",
                        help="only the report cases, on the ledgers a previous run imported")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat, args.peer_rows = 100_000, 1, []
    wanted = set(args.case) if args.case is not None else None
    OUT.mkdir(exist_ok=True)
    compiled()
    results = []
    for title, name, writer, read_options in CASES:
        if wanted is not None and name not in wanted:
            continue
        if args.reports_only:
            if name in ("paypal", "upwork") and (OUT / f"ledger-{name}").exists():
                results.extend(report_cases(title, OUT / f"ledger-{name}", args.repeat))
            continue
        path = OUT / f"{name}-{args.rows}.csv"
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            _generate(writer, path, args.rows)
        size = path.stat().st_size / 2**20
        ledger_dir = OUT / f"ledger-{name}"
        print(f"import {name} x{args.repeat} ...", file=sys.stderr)
        floor = [sys.executable, str(HERE / "floor.py"), str(path), str(OUT / "floor.parquet"),
                 name]
        ours, narrow, wide, base = alternate(
            [[*LEDGER, "--ledger", str(ledger_dir), "import", str(path)], floor,
             [*floor, "--ledger-width"], bare_read(path, read_options)], args.repeat,
            before=lambda d=ledger_dir: shutil.rmtree(d, ignore_errors=True),
            envs=[None, IMPORT_ENV, IMPORT_ENV, IMPORT_ENV])
        results.append((f"import {title} ({args.rows:,} rows, {size:.0f} MiB) vs its floor",
                        ours, narrow, "cpu <= 1.5x; mem <= 4x size", size))
        results.append(("  floor (bench/floor.py: read + exact parse + ids + Parquet) vs bare "
                        "read_csv", narrow, base, "", size))
        results.append(("  import vs the floor widened to the ledger's 20 columns (floor.py "
                        "--ledger-width; no target)", ours, wide, "", size))
        if name == "hdfc":  # [[rules]] are applied to every row read: what do they add?
            results.extend(user_rules_case(ledger_dir, args.repeat))
        if name in ("paypal", "upwork"):
            results.extend(report_cases(title, ledger_dir, args.repeat))
    if wanted is None or "peer" in wanted:
        if shutil.which("hledger"):
            results.extend(peer(args.peer_rows))
        else:
            print("hledger not installed: peer comparison skipped (apt-get install hledger)",
                  file=sys.stderr)
    if wanted is None or "everyday" in wanted:
        results.extend(everyday(args.repeat))
    if wanted is None or "help" in wanted:
        helps, python = alternate([[*LEDGER, "--help"], [sys.executable, "-c", "pass"]], 5)
        results.append(("ledger --help (vs bare python start)", helps, python, "< 0.3 s", None))
    _print(results, args.repeat)


def report_cases(title: str, ledger_dir: Path, repeat: int) -> list[tuple]:
    """`report --month` against a hand-written group_by (peak memory against the ledger's
    in-memory size), and `report --year` against `report --month` on the same ledger: a year
    is counted in one pass, so it costs about a month (issue 23: CPU <= 1.5x, peak memory <=
    the month's plus 50%)."""
    month = "2024-06"
    report = [*LEDGER, "--ledger", str(ledger_dir), "report", "--format", "json"]
    print(f"report {ledger_dir.name} x{repeat} ...", file=sys.stderr)
    ours_r, base_r = alternate([[*report, "--month", month],
                                bare_report(ledger_dir / "ledger.parquet", month)], repeat)
    print(f"report --year {ledger_dir.name} x{repeat} ...", file=sys.stderr)
    year, alone = alternate([[*report, "--year", month[:4]], [*report, "--month", month]],
                            repeat)
    return [(f"report --month on that ledger ({title})", ours_r, base_r,
             "<= 1.5x; mem <= 2x size", ledger_size(ledger_dir)),
            (f"  report --year vs report --month ({title})", year, alone,
             "cpu <= 1.5x; mem <= 1.5x base", None)]


EVERYDAY = [["report", "--month", "2024-06"], ["transactions"],
            ["reconcile", "--month", "2024-06"], ["payouts"]]
"""The everyday commands (issue 23), timed on the demo ledger (84 rows) and, with the month
moved to FIVE_MONTH, on the 5-year ledger of bench/gen_five.py."""
FIVE_MONTH = "2025-06"
"""A month in the last year of the 5-year ledger (2021-2025)."""


def everyday(repeat: int) -> list[tuple]:
    """Each everyday command on the demo ledger and on the 5-year ledger against `python -c
    "import polars"`, in CPU seconds (wall time on a shared machine says more about the
    neighbours): <= 1.5x. Each runs once untimed first: the counting it keeps
    (ledger/counting/kept.py) is read by the timed runs, as by every command until an input
    changes. Two rows without a target time the 5-year report and payouts cold (the kept
    counting removed before each run, outside the timed process): what the first command
    after an import or an edit costs."""
    demo = OUT / "ledger-demo"
    shutil.rmtree(demo, ignore_errors=True)
    subprocess.run([*LEDGER, "demo", "--keep", str(demo)], check=True,
                   stdout=subprocess.DEVNULL)
    five, rows = five_year_ledger()
    out = []
    for ledger_dir, label, month in ((demo, "the demo ledger", "2024-06"),
                                     (five, f"the 5-year ledger ({rows:,} rows, 6 sources)",
                                      FIVE_MONTH)):
        for args in EVERYDAY:
            args = [month if a == "2024-06" else a for a in args]
            print(f"{' '.join(args)} ({ledger_dir.name}) x{max(repeat, 5)} ...",
                  file=sys.stderr)
            command = [*LEDGER, "--ledger", str(ledger_dir), *args]
            _run(command, None)  # keeps the counting the timed runs read
            ours, polars = alternate([command, [*PY, "import polars"]], max(repeat, 5))
            out.append((f"{' '.join(args)} on {label} vs python -c 'import polars'", ours,
                        polars, "cpu <= 1.5x", None))
    for args in (["report", "--month", FIVE_MONTH], ["payouts"]):
        print(f"{' '.join(args)} ({five.name}, cold) x{max(repeat, 5)} ...", file=sys.stderr)
        ours, polars = alternate([[*LEDGER, "--ledger", str(five), *args],
                                  [*PY, "import polars"]], max(repeat, 5), before=clear_kept)
        out.append((f"  {' '.join(args)} on the 5-year ledger, cold (kept counting removed)",
                    ours, polars, "", None))
    return out


def clear_kept() -> None:
    """Remove the counting kept between commands (ledger/counting/kept.py): the next command
    counts cold."""
    from ledger.core.files import user_cache
    from ledger.counting.kept import VERSION

    shutil.rmtree(user_cache() / f"counted-{VERSION}", ignore_errors=True)


def five_year_ledger() -> tuple[Path, int]:
    """The 5-year ledger (bench/gen_five.py's six exports through the real `ledger import`)
    and its row count: kept in bench/out and reused once complete (the count written last, in
    .complete, when every import has succeeded), built again otherwise."""
    ledger_dir = OUT / "ledger-five"
    done = ledger_dir / ".complete"
    if done.exists():
        return ledger_dir, int(done.read_text())
    shutil.rmtree(ledger_dir, ignore_errors=True)
    exports = OUT / "five-exports"
    print("generating the 5-year exports ...", file=sys.stderr)
    code = (f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); from pathlib import Path; "
            f"from bench.gen_five import write_five; "
            f"print('\\n'.join(map(str, write_five(Path({str(exports)!r})))))")
    paths = subprocess.run([*PY, code], check=True, capture_output=True,
                           text=True).stdout.split()
    ledger_dir.mkdir(parents=True)
    sys.path.insert(0, str(HERE.parent))
    from bench.gen_five import LEDGER_TOML

    (ledger_dir / "ledger.toml").write_text(LEDGER_TOML)
    for path in paths:
        done_import = subprocess.run([*LEDGER, "--ledger", str(ledger_dir), "import", path],
                                     capture_output=True, text=True)
        text = " ".join((done_import.stdout + done_import.stderr).split())
        found = re.search(r"(\d+) rows read", text)
        if done_import.returncode or not found or not int(found[1]):
            raise SystemExit(f"{path}: import failed or read nothing: {text}")
    code = (f"import polars as pl; print(pl.read_parquet({str(ledger_dir / 'ledger.parquet')!r},"
            " glob=False).height)")
    rows = int(subprocess.run([*PY, code], check=True, capture_output=True, text=True).stdout)
    done.write_text(str(rows))
    return ledger_dir, rows


def ledger_size(ledger_dir: Path) -> float:
    """The ledger's rows in memory (MiB, polars' estimate), read in a process of its own."""
    code = (f"import polars as pl; print(pl.read_parquet({str(ledger_dir / 'ledger.parquet')!r},"
            " glob=False).estimated_size() / 2**20)")
    return float(subprocess.run([*PY, code], check=True, capture_output=True, text=True).stdout)


def peer(sizes: list[int]) -> list[tuple]:
    """The same PayPal export through hledger (CSV rules: net to the balance, fee to expenses,
    gross to income; `balance`) and through `ledger import` + `ledger report`, side by side."""
    out = []
    rules = HERE / "hledger-paypal.rules"
    for rows in sizes:
        path = OUT / f"paypal-{rows}.csv"
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            _generate("bench.generate:write_paypal", path, rows)
        ledger_dir = OUT / f"ledger-peer-{rows}"
        shutil.rmtree(ledger_dir, ignore_errors=True)
        script = (f"{LEDGER[0]} --ledger {ledger_dir} import {path} > /dev/null && "
                  f"{LEDGER[0]} --ledger {ledger_dir} report --year 2024 --format json")
        ours = measure(["sh", "-c", script])
        theirs = measure(["hledger", "-f", str(path), "--rules-file", str(rules), "balance",
                          "-N"])
        size = path.stat().st_size / 2**20
        out.append((f"PayPal {rows:,} rows: ledger import+report vs hledger (target >= 10x "
                    "faster)", ours, theirs, "<= 0.1x", size))
    return out


USER_RULES = [
    ("acme", 'description = "IMPS.*ACME"\nsign = "credit"',
     'kind = "earning", client = "Acme LLC"'),
    ("interest", 'description = "glob:CREDIT INTEREST*"', 'kind = "earning", client = "Bank"'),
    ("amazon", 'description = "AMAZON"\nsign = "debit"\namount_max = 5000',
     'kind = "expense", category = "office"'),
    ("rahul", 'description = "UPI-RAHUL"\nfrom = 2024-03-01', 'kind = "subcontractor_payout"'),
    ("big-pos", 'description = "^POS "\namount_min = 5000', 'category = "big"'),
] + [(f"shop-{i}", f'description = "SHOP{i:02d}|STORE{i:02d}"\ncurrency = "INR"',
      'kind = "expense", category = "shopping"') for i in range(15)]
"""20 rules of the kinds users write (regex, glob, sign, amount and date ranges); five match
rows of bench/gen_bank.py, fifteen match nothing but must still be tested on every row (by
the first report after an import or an edit of their match keys: later ones read the rows each
rule matched back from .rule-hits.arrow, ledger/store/rule_hits.py)."""


def user_rules_case(ledger_dir: Path, repeat: int) -> list[tuple]:
    """`ledger report` on the bank ledger with the 20 USER_RULES in ledger.toml against the
    same report without them (target: rules add under 20%), in turn: with, without, with...
    The first report with them finds each rule's rows and keeps them (.rule-hits.arrow): the
    medians are of reports that read them back, as every report does until an import or an
    edit of a rule's match keys. A second row times the first report after such a change (the
    kept rows removed before each run with the rules), without a target."""
    config = ledger_dir / "ledger.toml"
    kept = ledger_dir / ".rule-hits.arrow"
    command = [*LEDGER, "--ledger", str(ledger_dir), "report", "--month", "2024-06", "--format",
               "json"]
    plain = 'home_currency = "INR"\n'
    ruled = plain + "".join(f'\n[[rules]]\nid = "{rid}"\n{match}\nset = {{ {sets} }}\n'
                            for rid, match, sets in USER_RULES)
    runs: list[list[tuple[float, float, float]]] = [[], [], [], []]
    try:
        for _ in range(repeat):
            for index, text in enumerate((ruled, plain, ruled, plain)):
                config.write_text(text)
                if index == 2:
                    kept.unlink(missing_ok=True)
                runs[index].append(_run(command, None))
    finally:
        config.write_text(plain)
        kept.unlink(missing_ok=True)
    ours, without, cold, without_cold = (
        tuple(statistics.median(r[i] for r in rs) for i in range(3)) for rs in runs)
    title = f"report --month with {len(USER_RULES)} [[rules]] vs without (HDFC bank ledger)"
    # judged on CPU, as the other ratios are: on a shared machine the wall says more about
    # the neighbours than about the rules
    return [(title, ours, without, "cpu <= 1.2x", None),
            ("  the same, first report after an import or an edit of the rules (found again)",
             cold, without_cold, "", None)]


def _generate(writer: str, path: Path, rows: int) -> None:
    """Run a generator in its own process: the bench process stays small, so the peak memory
    its children report (which starts from the parent's at fork) is theirs."""
    module, function = writer.split(":")
    code = (f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); from pathlib import Path; "
            f"from {module} import {function}; {function}(Path({str(path)!r}), {rows})")
    subprocess.run([sys.executable, "-c", code], check=True)


def verdict(target: str, ours: tuple, base: tuple, size: float | None) -> bool | None:
    """Whether `ours` meets every part of `target` ("<= 1.5x" of the baseline's wall time,
    "cpu <= 1.5x" of its CPU time, "< 0.3 s", "mem <= 4x size": peak MiB over `size`, "mem <=
    1.5x base": over the baseline's peak); None where it names no target."""
    checks = []
    for part in filter(None, (p.strip() for p in target.split(";"))):
        if (found := re.fullmatch(r"mem <= ([\d.]+)x size", part)) and size:
            checks.append(ours[1] / size <= float(found[1]))
        elif found := re.fullmatch(r"mem <= ([\d.]+)x base", part):
            checks.append(ours[1] / base[1] <= float(found[1]))
        elif found := re.fullmatch(r"cpu (<=|<) ([\d.]+)x", part):
            checks.append(ours[2] / base[2] <= float(found[2]))
        elif found := re.fullmatch(r"(<=|<) ([\d.]+)x", part):
            checks.append(ours[0] / base[0] <= float(found[2]))
        elif found := re.fullmatch(r"(<=|<) ([\d.]+) s", part):
            checks.append(ours[0] < float(found[2]))
    return all(checks) if checks else None


def _print(results, repeat: int = 1) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    console = Console(width=180)
    table = Table(title=f"freelance-ledger bench (2-core machine; each case a fresh process; "
                  f"medians of {repeat}; imports, their floors and bare reads with "
                  f"{ALLOCATOR_ENV}={IMPORT_ALLOCATOR})", header_style="bold")
    for col in ("case", "ours s", "baseline s", "ratio", "target", "verdict", "ours CPU s",
                "base CPU s", "CPU ratio", "ours MiB", "base MiB", "mem / size"):
        table.add_column(col, justify="left" if col == "case" else "right")
    # the CPU ratio beside the wall one: most targets are CPU ratios (see `verdict`)
    markdown = ["| case | ours | baseline | ratio | CPU ratio | peak memory | target |",
                "|---|---|---|---|---|---|---|"]
    for name, (t, m, c), (bt, bm, bc), target, size in results:
        met = verdict(target, (t, m, c), (bt, bm, bc), size)
        word = "" if met is None else ("met" if met else "MISSED")
        ratio = t / bt if bt else float("nan")
        cpu_ratio = c / bc if bc else float("nan")
        per_size = f"{m / size:.1f}x" if size else ""
        table.add_row(escape(name), f"{t:.2f}", f"{bt:.2f}", f"{ratio:.2f}x", target, word,
                      f"{c:.2f}", f"{bc:.2f}", f"{cpu_ratio:.2f}x", f"{m:.0f}", f"{bm:.0f}",
                      per_size)
        verdict_md = "" if met is None else (": met" if met else ": **missed**")
        markdown.append(f"| {name.strip()} | {t:.2f} s | {bt:.2f} s | {ratio:.2f}x | "
                        f"{cpu_ratio:.2f}x | "
                        f"{m:.0f} MiB{f' ({per_size})' if per_size else ''} | "
                        f"{target}{verdict_md} |")
        if met is not None:
            memory = per_size or (f"{m:.0f} MiB, {m / bm:.2f}x its memory" if "x base" in target
                                  else f"{m:.0f} MiB")
            console.print(f"target {target!r}: {'met' if met else 'MISSED'} - "
                          f"{escape(name.strip())} ({ratio:.2f}x, CPU {cpu_ratio:.2f}x, {memory})")
    console.print(table)
    console.print("\nMarkdown (README, Development):\n")
    console.print("\n".join(markdown), markup=False, highlight=False)


if __name__ == "__main__":
    main()
