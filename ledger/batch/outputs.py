"""The research panel for every stats package: `ledger batch --also csv,dta`.

DIR/panel/ (hive-partitioned Parquet with exact decimals) is the panel; `write_also` adds
copies of the whole of it, every partition with `country` and `year` back as columns, in the
dictionary's column order, sorted by country, year, pseudonym and month:

- DIR/panel.csv: money and ratios as the exact decimal text (`1234.50`), never a float; months
  `YYYY-MM`; written partition by partition, so memory holds one country-year at a time.
- DIR/panel.dta (Stata 14+, format 118, via pandas): Stata has no decimal type and its only
  integers are 32-bit (cents would overflow at 21,474,836.47, a month's naira or rupees can pass
  that), so money and ratios are doubles: each the double nearest the exact decimal, which
  shows and rounds back to the exact cent (to 10^13) but sums in floating point. Their
  variable labels say so; exact values are in panel.csv and panel/. `trajectory` is a byte
  with value labels (1 sinking ... 5 unclassified), booleans are 0/1 bytes, and every
  variable has a label from the data dictionary (`batch_columns.stata_label`). The .dta is
  built in memory (pandas writes a file at once, with copies): measured 680 MB peak and 5 s of
  CPU for 360,000 worker-months (10,000 workers x 36 months); panel.csv 170 MB and 1.7 s.

Both are rewritten from DIR/panel/ as it is on disk (so after copying panels together too),
and a run without them removes earlier copies, so they never disagree with the Parquet.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.core.errors import UsageError

if TYPE_CHECKING:
    import polars as pl

FORMATS = {"csv": "panel.csv", "dta": "panel.dta"}
"""`--also` name -> file written in DIR."""
DATA_LABEL = "freelance-ledger worker-month panel (ledger batch; dictionary in README.md)"


def parse_also(also: str | Iterable[str] | None) -> frozenset[str]:
    """`--also csv,dta` -> {"csv", "dta"}; an unknown name is a usage error (exit 2) that lists
    the formats."""
    if not also:
        return frozenset()
    names = also.split(",") if isinstance(also, str) else list(also)
    names = [n.strip().lower() for n in names if n.strip()]
    unknown = [n for n in names if n not in FORMATS]
    if unknown:
        shown = ", ".join(repr(n) for n in dict.fromkeys(unknown))
        raise UsageError(f"--also {shown}: not a format ledger batch writes",
                         hint="--also takes a comma-separated list of: " + ", ".join(FORMATS)
                         + " (e.g. --also csv,dta); the panel itself is always Parquet")
    return frozenset(names)


def write_also(out: Path, formats: Iterable[str]) -> list[Path]:
    """Write DIR/panel.csv and/or DIR/panel.dta from the whole DIR/panel/ (called once the
    panel is complete); remove those not asked for. Returns the files written."""
    wanted = parse_also(formats)
    for name, file in FORMATS.items():
        if name not in wanted:
            (out / file).unlink(missing_ok=True)
    if not wanted:
        return []
    import polars as pl

    columns = panel_columns(out)
    targets = {name: out / FORMATS[name] for name in FORMATS if name in wanted}
    staged = {name: p.with_name(f".{p.name}.{os.getpid()}.tmp") for name, p in targets.items()}
    stata: list[pl.DataFrame] = []
    try:
        csv_file = staged["csv"].open("wb") if "csv" in staged else None
        try:
            if csv_file is not None:
                pl.DataFrame(schema=columns).write_csv(csv_file)
            for frame in partitions(out, columns):
                if csv_file is not None:
                    frame.write_csv(csv_file, include_header=False)
                if "dta" in staged:
                    stata.append(for_stata(frame))
        finally:
            if csv_file is not None:
                csv_file.close()
        if "dta" in staged:
            whole = pl.concat(stata) if stata else for_stata(pl.DataFrame(schema=columns))
            stata.clear()
            write_dta(whole, staged["dta"], columns)
        for name, target in targets.items():
            os.replace(staged[name], target)
    finally:
        for path in staged.values():
            path.unlink(missing_ok=True)
    return list(targets.values())


# --- reading the panel partition by partition ------------------------------------------------


def _parts(out: Path) -> dict[tuple[str, str], list[Path]]:
    """(country folder, year folder) -> its part files, in sorted order."""
    found: dict[tuple[str, str], list[Path]] = {}
    root = out / "panel"
    if root.exists():
        for part in sorted(root.rglob("*.parquet")):
            if part.name.startswith("."):
                continue
            found.setdefault((part.parent.parent.name, part.parent.name), []).append(part)
    return found


PART_SETTINGS = "ledger.batch.settings"
"""Each part's Parquet metadata key: the options that shape its figures (JSON, `{"bands":
true}`), so parts of several runs copied into one panel/ can be told apart."""


def part_metadata(bands: bool) -> dict[str, str]:
    """What `write_parts` records in each part (see PART_SETTINGS)."""
    import json

    return {PART_SETTINGS: json.dumps({"bands": bands})}


def panel_bands(out: Path, parts: list[Path], recorded: bool | None) -> bool:
    """Whether the panel's parts hold banded figures: one answer for every part, or a
    UsageError naming a part of each setting (banded and exact figures mixed would give
    quartiles of band edges and amounts together, and keep one of a worker's two rows).
    A part from before parts recorded it is taken as `recorded` (run.json's), if any."""
    import json

    import polars as pl

    root = out / "panel"
    seen: dict[bool | None, Path] = {}
    for part in parts:
        text = pl.read_parquet_metadata(part).get(PART_SETTINGS)
        try:
            bands = json.loads(text)["bands"] if text else recorded
        except (ValueError, TypeError, KeyError):
            bands = None
        seen.setdefault(bands if isinstance(bands, bool) else None, part)
    if len(seen) <= 1:
        return bool(next(iter(seen), recorded))
    said = {True: "--bands", False: "exact amounts", None: "not recorded"}
    found = ", ".join(f"{seen[b].relative_to(root).as_posix()} ({said[b]})"
                      for b in (True, False, None) if b in seen)
    raise UsageError(f"the panel mixes parts of runs with and without --bands: {found}",
                     path=root, hint="summarize one setting at a time: keep only the parts of "
                     "runs with the same --bands in panel/ (or run the batch again with one "
                     "setting)")


def panel_columns(out: Path) -> dict[str, pl.DataType]:
    """The whole panel's columns: the partition keys back in place, every column any part
    holds (a newer part may have more), in the dictionary's order, others after them."""
    import polars as pl

    from ledger.batch.columns import panel_schema

    schema = panel_schema()
    seen: dict[str, pl.DataType] = {}
    for parts in _parts(out).values():
        for part in parts:
            for name, dtype in pl.read_parquet_schema(part).items():
                seen.setdefault(name, dtype)
    if not seen:
        return schema
    ordered = {n: t for n, t in schema.items()
               if n in seen or n in ("country", "year")}
    ordered.update({n: t for n, t in seen.items() if n not in ordered})
    return ordered


def _key(value: str, folder: str) -> str:
    prefix = f"{value}="
    return folder[len(prefix):] if folder.startswith(prefix) else folder


def partitions(out: Path, columns: dict[str, pl.DataType]) -> Iterator[pl.DataFrame]:
    """One frame per country and year, in `columns` (missing ones null), sorted by pseudonym
    and month, a worker-month kept once (the first part's, as summary.csv does)."""
    import polars as pl

    for (country_dir, year_dir), parts in sorted(_parts(out).items()):
        country, year = _key("country", country_dir), int(_key("year", year_dir))
        frame = pl.concat([pl.read_parquet(p) for p in parts], how="diagonal_relaxed")
        frame = frame.with_columns(pl.lit(country).alias("country"),
                                   pl.lit(year).alias("year"))
        frame = frame.unique(["pseudonym", "month"], keep="first", maintain_order=True)
        yield frame.select(pl.col(n).cast(t) if n in frame.columns else
                           pl.lit(None, dtype=t).alias(n) for n, t in columns.items()
                           ).sort("pseudonym", "month")


# --- Stata ----------------------------------------------------------------------------------


def for_stata(frame: pl.DataFrame) -> pl.DataFrame:
    """Stata's types: decimals as Float64 (the double nearest each exact value), trajectory as
    its 1-based code, booleans as 0/1 bytes; strings and whole numbers as they are."""
    import polars as pl

    from ledger.batch.columns import TRAJECTORIES

    exprs = []
    for name, dtype in frame.schema.items():
        column = pl.col(name)
        if name == "trajectory":
            codes = {t: i for i, t in enumerate(TRAJECTORIES, 1)}
            exprs.append(column.replace_strict(codes, default=None, return_dtype=pl.Int8))
        elif isinstance(dtype, pl.Decimal):
            exprs.append(column.cast(pl.Float64))
        elif dtype == pl.Boolean:
            exprs.append(column.cast(pl.Int8))
        else:
            exprs.append(column)
    return frame.select(exprs)


def write_dta(frame: pl.DataFrame, path: Path, columns: dict[str, pl.DataType]) -> None:
    """`frame` (already `for_stata`; `columns` its types before) as a Stata 118 file with
    variable labels from the dictionary and value labels for the trajectory."""
    import pandas as pd
    import polars as pl

    from ledger.batch.columns import TRAJECTORIES, stata_label

    data = pd.DataFrame({name: frame[name].to_numpy() for name in frame.columns})
    labels = {name: stata_label(name, isinstance(columns.get(name), pl.Decimal))
              for name in frame.columns}
    values = {"trajectory": dict(enumerate(TRAJECTORIES, 1))} \
        if "trajectory" in frame.columns else None
    data.to_stata(path, write_index=False, version=118, data_label=DATA_LABEL,
                  variable_labels=labels, value_labels=values)
