"""`make bench`: our commands against bare-polars baselines, each in its own process.

Every case runs as a fresh process (interpreter start and imports included on both sides),
timed by wall clock, with peak memory from the kernel's rusage of that process. Prints a
table with ratios and the targets (README, Development: import <= 2x a bare read, report <= 1.5x a
hand-written group_by, `ledger --help` < 0.3 s). The PayPal import also gets a "floor" row:
bench/floor.py does only what the rules cannot skip (exact amounts, row ids, a Parquet
file), so the table shows what the rules cost and what our checks add.

Usage: python bench/run.py [--rows N] [--repeat K]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "out"
BIN = Path(sys.executable).parent
LEDGER = [str(BIN / "ledger")]
PY = [sys.executable, "-c"]


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
    """(median wall seconds, max peak RSS MiB, median user+sys CPU seconds) of running `cmd`
    `repeat` times. CPU time is reported because wall time on a shared machine depends on
    what else runs."""
    times, peaks, cpus = [], [], []
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        times.append(time.perf_counter() - start)
        peaks.append(usage.ru_maxrss / 1024)
        cpus.append(usage.ru_utime + usage.ru_stime)
        if os.waitstatus_to_exitcode(status) != 0:
            err = proc.stderr.read().decode() if proc.stderr else ""
            raise SystemExit(f"failed: {' '.join(cmd)}\n{err}")
    return statistics.median(times), max(peaks), statistics.median(cpus)


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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--peer-rows", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="sizes of the PayPal export timed through hledger too")
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    results = []
    for title, name, writer, read_options in CASES:
        path = OUT / f"{name}-{args.rows}.csv"
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            _generate(writer, path, args.rows)
        size = path.stat().st_size / 2**20
        ledger_dir = OUT / f"ledger-{name}"
        shutil.rmtree(ledger_dir, ignore_errors=True)
        ours = measure([*LEDGER, "--ledger", str(ledger_dir), "import", str(path)])
        base = measure(bare_read(path, read_options), args.repeat)
        results.append((f"import {title} ({args.rows:,} rows, {size:.0f} MiB)", ours, base,
                        "<= 2.0x", size))
        if name == "paypal":  # what the rules cost before any check of ours: see floor.py
            floor = measure([sys.executable, str(HERE / "floor.py"), str(path),
                             str(OUT / "floor.parquet")], args.repeat)
            results.append(("  floor: read + exact parse + ids + Parquet, nothing else "
                             "(bench/floor.py)", floor, base, "", size))
        if name == "hdfc":  # [[rules]] are applied to every row read: what do they add?
            results.append(user_rules_case(ledger_dir, args.repeat))
        if name in ("paypal", "upwork"):
            month = "2024-06"
            ours_r = measure([*LEDGER, "--ledger", str(ledger_dir), "report", "--month", month,
                              "--format", "json"], args.repeat)
            base_r = measure(bare_report(ledger_dir / "ledger.parquet", month), args.repeat)
            results.append((f"report --month on that ledger ({title})", ours_r, base_r,
                            "<= 1.5x", None))
    if shutil.which("hledger"):
        results.extend(peer(args.peer_rows))
    else:
        print("hledger not installed: peer comparison skipped (apt-get install hledger)",
              file=sys.stderr)
    helps = measure([*LEDGER, "--help"], 5)
    python = measure([sys.executable, "-c", "pass"], 5)
    results.append(("ledger --help (vs bare python start)", helps, python, "< 0.3 s", None))
    _print(results)


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
rows of bench/gen_bank.py, fifteen match nothing but must still be tested on every row."""


def user_rules_case(ledger_dir: Path, repeat: int) -> tuple:
    """`ledger report` on the bank ledger with the 20 USER_RULES in ledger.toml against the
    same report without them (target: rules add under 20%)."""
    config = ledger_dir / "ledger.toml"
    command = [*LEDGER, "--ledger", str(ledger_dir), "report", "--month", "2024-06", "--format",
               "json"]
    config.write_text('home_currency = "INR"\n')
    without = measure(command, repeat)
    config.write_text('home_currency = "INR"\n' + "".join(
        f'\n[[rules]]\nid = "{rid}"\n{match}\nset = {{ {sets} }}\n'
        for rid, match, sets in USER_RULES))
    try:
        ours = measure(command, repeat)
    finally:
        config.write_text('home_currency = "INR"\n')
    return (f"report --month with {len(USER_RULES)} [[rules]] vs without (HDFC bank ledger)",
            ours, without, "<= 1.2x", None)


def _generate(writer: str, path: Path, rows: int) -> None:
    """Run a generator in its own process: the bench process stays small, so the peak memory
    its children report (which starts from the parent's at fork) is theirs."""
    module, function = writer.split(":")
    code = (f"import sys; sys.path.insert(0, {str(HERE.parent)!r}); from pathlib import Path; "
            f"from {module} import {function}; {function}(Path({str(path)!r}), {rows})")
    subprocess.run([sys.executable, "-c", code], check=True)


def _print(results) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title="freelance-ledger bench (2-core machine; each case a fresh process)",
                  header_style="bold")
    for col in ("case", "ours s", "baseline s", "ratio", "target", "ours CPU s", "base CPU s",
                "CPU ratio", "ours MiB", "base MiB", "mem / file"):
        table.add_column(col, justify="left" if col == "case" else "right")
    for name, (t, m, c), (bt, bm, bc), target, size in results:
        ratio = t / bt if bt else float("nan")
        cpu_ratio = c / bc if bc else float("nan")
        table.add_row(escape(name), f"{t:.2f}", f"{bt:.2f}", f"{ratio:.2f}x", target, f"{c:.2f}",
                      f"{bc:.2f}", f"{cpu_ratio:.2f}x", f"{m:.0f}", f"{bm:.0f}",
                      f"{m / size:.1f}x" if size else "")
    Console(width=170).print(table)


if __name__ == "__main__":
    main()
