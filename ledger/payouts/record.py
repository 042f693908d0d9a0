"""payouts.csv: the payments with no export (cash, a mobile wallet you do not import), kept as a
small ledger of their own: each record has an id, an optional reference and a note; recording
the same payment twice needs `again`; a wrong record is undone by its id.

The file is `id,date,worker,amount,currency,reference,note,recorded`. Files written before ids
or references existed keep working: a row without an id gets one derived from what it says
(and how many identical rows come before it), so the id does not move when other rows are
added or undone; the next write stores it. Writes are atomic under the ledger lock (the
store's); an undone record is appended to payouts-undone.csv first, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import DataError, UsageError

if TYPE_CHECKING:
    import polars as pl

    from ledger.payouts.rules import Rules
    from ledger.store.directory import Ledger

PAYOUTS_FILE = "payouts.csv"
UNDONE_FILE = "payouts-undone.csv"
HEADER = ("id", "date", "worker", "amount", "currency", "reference", "note", "recorded")
REQUIRED = ("date", "worker", "amount", "currency")
PAYOUT_KIND = "subcontractor_payout"
SHORT_ID = 8
"""Hex digits of an id that `list` shows; `undo` takes any unique prefix of 4 or more."""


def workers_hint(rules: Rules, name: str) -> str:
    names = ", ".join(rules.workers) or "none yet"
    return f'workers in ledger.toml: {names}; add one with [[workers]] name = "{name}"'


def known_worker(frame: pl.DataFrame, rules: Rules, path: Path) -> pl.Expr:
    """`worker` as the name configured in [[workers]] (matched ignoring case); a row naming
    a worker ledger.toml does not know is a DataError at its `line`."""
    import polars as pl

    known = {w.lower(): w for w in rules.workers}
    unknown = frame.filter(~pl.col("worker").str.to_lowercase().is_in(list(known))).head(1)
    if unknown.height:
        row = unknown.row(0, named=True)
        raise DataError(f"unknown worker {row['worker']!r}", path=path, line=row["line"],
                        hint=workers_hint(rules, row["worker"]))
    return pl.col("worker").str.to_lowercase().replace_strict(
        known, return_dtype=pl.String).alias("worker")


def _raw(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Header, rows and the line each row starts on; a row with the wrong number of fields is
    a DataError naming its line (a hand edit gone wrong must not shift every column)."""
    import csv
    import io

    if not path.exists():
        return list(HEADER), [], []
    try:
        text = path.read_text("utf-8-sig")
    except UnicodeDecodeError:
        raise DataError("payouts file is not UTF-8 text", path=path,
                        hint="save it as UTF-8 CSV, or restore it from a backup") from None
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows, lines = [], []
    header: list[str] | None = None
    start = 1
    try:
        for row in reader:
            if not any(cell.strip() for cell in row):
                start = reader.line_num + 1
                continue
            if header is None:
                header = [c.strip().lower() for c in row]
            elif len(row) != len(header):
                raise DataError(f"payout row has {len(row)} fields, the header has "
                                f"{len(header)}", path=path, line=start,
                                hint="each row is " + ",".join(header) + " (quote a note "
                                "holding a comma); fix or delete the line")
            else:
                rows.append([c.strip() for c in row])
                lines.append(start)
            start = reader.line_num + 1
    except csv.Error as exc:
        raise DataError(f"payout row is not valid CSV: {exc}", path=path, line=start,
                        hint="fix or delete the line") from None
    if header is None:
        return list(HEADER), [], []
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DataError(f"payouts file lacks column(s) {missing}", path=path, line=1,
                        hint="the header is " + ",".join(HEADER))
    return header, rows, lines


def records(rules: Rules) -> pl.DataFrame:
    """payouts.csv checked, one row per record: id (given or derived), date, worker (as in
    ledger.toml), amount (Decimal, positive), currency, reference, note, recorded, line."""
    import polars as pl

    from ledger.core.money import amount_expr
    from ledger.core.schema import ID_HEX, sha256_hex

    path = rules.payouts_path
    header, rows, lines = _raw(path)
    columns = {name: [r[i] for r in rows] for i, name in enumerate(header)}
    raw = pl.DataFrame({**{c: columns.get(c, [""] * len(rows)) for c in HEADER},
                        "line": lines},
                       schema={**{c: pl.String for c in HEADER}, "line": pl.Int64})
    parsed = raw.select(
        "id", pl.col("date").str.strptime(pl.Date, "%Y-%m-%d", strict=False),
        "worker", amount_expr("amount").alias("amount"),
        pl.col("currency").str.to_uppercase(), "reference", "note", "recorded", "line",
        pl.col("date").alias("_raw_date"), pl.col("amount").alias("_raw_amount"))
    bad = parsed.filter(pl.col("date").is_null() | pl.col("amount").is_null()
                        | (pl.col("amount") <= 0)).head(1)
    if bad.height:
        row = bad.row(0, named=True)
        raise DataError(f"bad payout row (date {row['_raw_date']!r}, amount "
                        f"{row['_raw_amount']!r})", path=path, line=row["line"],
                        hint="each row is an id, a date YYYY-MM-DD, a worker, a positive "
                        "amount and a currency; `ledger payouts record` writes them")
    content = pl.concat_str([pl.col("_raw_date"), pl.col("worker").str.to_lowercase(),
                             pl.col("_raw_amount"), "currency", "reference", "note"],
                            separator="|")
    derived = sha256_hex(pl.lit("manual|") + content + pl.lit("|")
                         + pl.int_range(pl.len()).over(content).cast(pl.String)
                         ).str.slice(0, ID_HEX)
    out = parsed.with_columns(known_worker(parsed, rules, path),
                              pl.when(pl.col("id") != "").then(pl.col("id").str.to_lowercase())
                              .otherwise(derived).alias("id"))
    twice = out.filter(pl.col("id").is_duplicated()).sort("line").head(2)
    if twice.height:
        raise DataError(f"payout id {twice['id'][0]} is used twice (lines "
                        f"{twice['line'][0]} and {twice['line'][1]})", path=path,
                        line=twice["line"][1], hint="clear the id of the second one (a "
                        "new one is derived) or delete the line")
    return out.drop("_raw_date", "_raw_amount")


def manual_rows(rules: Rules) -> pl.DataFrame:
    """payouts.csv as canonical ledger rows (kind subcontractor_payout, origin `manual`); `ref`
    is the record's reference, else its id."""
    import polars as pl

    from ledger.core import schema

    path = rules.payouts_path
    if not path.exists():
        return schema.empty()
    rows = records(rules)
    ref = pl.when(pl.col("reference") != "").then(pl.col("reference")).otherwise(pl.col("id"))
    out = rows.select(
        "id", "date", pl.lit("manual").alias("source"), pl.lit("manual").alias("account"),
        pl.lit(PAYOUT_KIND).alias("kind"), pl.lit("manual_payout").alias("category"),
        (-pl.col("amount")).alias("amount"), "currency", pl.col("worker").alias("counterparty"),
        (pl.lit("Paid to ") + pl.col("worker") + pl.lit(" (ledger payouts record)"))
        .alias("description"),
        ref.alias("ref"), pl.lit("manual").alias("origin"),
        pl.lit(PAYOUTS_FILE).alias("import_id"), "line")
    return schema.check_amounts(schema.validate(schema.conform(out), str(path)), str(path))


def _csv(header: list[str], rows: list[list[str]]) -> bytes:
    import csv
    import io

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def _stored(rules: Rules) -> tuple[list[str], list[list[str]], pl.DataFrame]:
    """The file's rows as they will be written back: HEADER first (then any columns a user
    added), each row's id filled in (derived ones become stored ones)."""
    checked = records(rules)
    header, rows, _ = _raw(rules.payouts_path)
    extra = [c for c in header if c not in HEADER]
    out_header = [*HEADER, *extra]
    index = {name: i for i, name in enumerate(header)}
    ids = checked["id"].to_list()
    written = [[ids[n] if c == "id" else (row[index[c]] if c in index else "")
                for c in out_header] for n, row in enumerate(rows)]
    return out_header, written, checked


def record(ledger: Ledger, rules: Rules, worker: str, amount: str, currency: str, date: str,
           note: str | None = None, reference: str | None = None, again: bool = False
           ) -> dict:
    """Add a payment to payouts.csv, atomically under the ledger lock. The same worker, date,
    amount, currency and reference as a record already there is refused (a DataError naming
    its line) unless `again`: paying someone twice the same day is rare, pressing Enter twice
    is not."""
    import polars as pl

    from ledger.core.money import known_currencies, parse_amount
    from ledger.core.schema import ID_HEX
    from ledger.store.directory import atomic_write_bytes

    person = rules.worker(worker)
    try:
        value = parse_amount(amount)
    except ValueError:
        raise UsageError(f"amount {amount!r} is not a number", hint="e.g. 5000 or 12.50"
                         ) from None
    from ledger.core.schema import MAX_AMOUNT_DIGITS

    if abs(value) >= Decimal(10) ** MAX_AMOUNT_DIGITS:
        raise UsageError(f"amount {amount!r} is too large: the limit is 10^{MAX_AMOUNT_DIGITS}",
                         hint="record what you paid, e.g. 5000")
    if value <= 0:
        raise UsageError(f"amount {amount!r} must be positive",
                         hint="record what you paid, e.g. 5000")
    code = currency.strip().upper()
    if code not in known_currencies():
        raise UsageError(f"unknown currency {currency!r}", hint="use an ISO 4217 code, e.g. PKR")
    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        raise UsageError(f"--date {date!r} is not a date YYYY-MM-DD", hint="e.g. --date "
                         "2024-06-20") from None
    ref = (reference or "").strip()
    path = rules.payouts_path
    with ledger.locked():
        header, rows, checked = _stored(rules)
        same = checked.filter((pl.col("worker") == person.name) & (pl.col("date") == day)
                              & (pl.col("currency") == code) & (pl.col("reference") == ref)
                              & (pl.col("amount") == value))
        if same.height and not again:
            first = same.row(0, named=True)
            raise DataError(
                f"{person.name} is already recorded as paid {value:f} {code} on {day}"
                + (f" (ref {ref})" if ref else "") + f", id {first['id'][:SHORT_ID]}",
                path=path, line=first["line"],
                hint="if you really paid twice, add --again; a wrong record goes with "
                     f"`ledger payouts undo {first['id'][:SHORT_ID]}`")
        recorded = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        text = f"{day}|{person.name}|{value}|{code}|{ref}|{note or ''}|{recorded}|{len(rows)}"
        row_id = hashlib.sha256(text.encode("utf-8")).hexdigest()[:ID_HEX]
        new = {"id": row_id, "date": day.isoformat(), "worker": person.name,
               "amount": f"{value:f}", "currency": code, "reference": ref, "note": note or "",
               "recorded": recorded[:19] + "+00:00"}
        rows.append([new.get(c, "") for c in header])
        atomic_write_bytes(path, _csv(header, rows))
    return {**new, "file": str(path), "line": len(rows) + 1}


def listing(rules: Rules, worker: str | None = None, start: dt.date | None = None,
            end: dt.date | None = None) -> list[dict]:
    """The records, oldest first, optionally one worker's and within dates (inclusive)."""
    import polars as pl

    rows = records(rules)
    if worker:
        rows = rows.filter(pl.col("worker") == rules.worker(worker).name)
    if start:
        rows = rows.filter(pl.col("date") >= start)
    if end:
        rows = rows.filter(pl.col("date") <= end)
    return [{"id": r["id"], "date": r["date"].isoformat(), "worker": r["worker"],
             "amount": f"{Decimal(r['amount']).normalize():f}", "currency": r["currency"],
             "reference": r["reference"] or None, "note": r["note"] or None,
             "recorded": r["recorded"] or None, "line": r["line"]}
            for r in rows.sort("date", "line").iter_rows(named=True)]


def undo(ledger: Ledger, rules: Rules, record_id: str) -> dict:
    """Remove one record (its id, or a unique prefix of at least 4 characters) from
    payouts.csv; it is appended to payouts-undone.csv first (with when it was undone)."""
    from ledger.store.directory import atomic_write_bytes

    wanted = record_id.strip().lower()
    if len(wanted) < 4:
        raise UsageError(f"id {record_id!r} is too short",
                         hint="give at least 4 characters of an id `ledger payouts list` shows")
    path = rules.payouts_path
    with ledger.locked():
        header, rows, _ = _stored(rules)
        where = header.index("id")
        hits = [n for n, row in enumerate(rows) if row[where].startswith(wanted)]
        if not hits:
            raise UsageError(f"no payout record {record_id!r} in {path.name}",
                             hint="`ledger payouts list` shows the ids")
        if len(hits) > 1:
            ids = ", ".join(rows[n][where][:SHORT_ID + 4] for n in hits)
            raise UsageError(f"id {record_id!r} matches {len(hits)} records ({ids})",
                             hint="give more characters of the id")
        gone = rows.pop(hits[0])
        undone_path = path.with_name(UNDONE_FILE)
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        _, old_undone, _ = _raw(undone_path) if undone_path.exists() else ([], [], [])
        atomic_write_bytes(undone_path, _csv([*header, "undone"], [
            *(r + [""] * (len(header) + 1 - len(r)) for r in old_undone), [*gone, now]]))
        atomic_write_bytes(path, _csv(header, rows))
    return {**dict(zip(header, gone, strict=True)), "file": str(path),
            "undone_file": str(undone_path)}
