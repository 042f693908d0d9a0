"""What a researcher must know about a batch's donations, and the private map to follow up.

Warnings (in the terminal summary and DIR/run.json, by pseudonym only):
- workers with no country: their rows are in country=unknown, without local currency or
  benchmarks; usually a missing country.txt or manifest cell;
- identical donations: the same file content (keyed hash, ledger.batch.engine.content_hash)
  in two or more workers' folders: one person donating twice, or a file copied by mistake;
- workers whose files all failed: they are in errors.csv and nowhere in the panel.

`--map FILE` writes pseudonym -> folder and file pseudonym -> path (with the content hash) to
a CSV that must stay with the researcher: it undoes the pseudonyms, so it is refused inside
--out (which is what gets shared).
"""

from __future__ import annotations

import csv
import io
import os
from collections import defaultdict
from pathlib import Path
from typing import Any

from ledger.core.errors import UsageError

SHOWN = 8
"""Pseudonyms listed per warning in the terminal (run.json has them all)."""
MAP_COLUMNS = ("pseudonym", "folder", "file", "content_hash", "path")


def check_map_path(map_file: Path, out: Path) -> None:
    """Refuse a map inside the output folder: with it the panel is no longer pseudonymous."""
    from ledger.batch.anon import refuse_inside

    refuse_inside(map_file, out, "map file", "write it outside --out, e.g. --map "
                  "./batch-map.csv next to the key: it names every worker's folder and file")
    target = map_file.expanduser().resolve()
    if target.exists() and not target.is_file():
        raise UsageError("the map file is not a regular file", path=map_file,
                         hint="give a CSV path, e.g. --map ./batch-map.csv")


def collect(countries: dict[str, str], results: list[dict[str, Any]]) -> dict[str, Any]:
    """The warnings from each worker's country and the chunks' per-worker results."""
    no_country = sorted(p for p, c in countries.items() if c == "unknown")
    failed = []
    by_hash: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for worker in results:
        if worker["files"] and not worker["files_read"]:
            failed.append(worker["pseudonym"])
        for token, digest in worker["hashes"].items():
            if digest:
                by_hash[digest].append((worker["pseudonym"], token))
    identical = sorted(sorted([p, t] for p, t in group) for group in by_hash.values()
                       if len({p for p, _ in group}) > 1)
    return {"no_country": no_country, "all_files_failed": sorted(failed),
            "identical_donations": identical}


def lines(warnings: dict[str, Any]) -> list[str]:
    """The terminal's warning lines (empty when there is nothing to say)."""

    def some(names: list[str]) -> str:
        more = len(names) - SHOWN
        return ", ".join(names[:SHOWN]) + (f" and {more} more (run.json)" if more > 0 else "")

    said = []
    if warnings["no_country"]:
        names = warnings["no_country"]
        said.append(f"warning: {len(names)} worker(s) have no country, counted in "
                    f"country=unknown: {some(names)}\n  hint: add country.txt to their folder "
                    "or a country cell in the manifest")
    if warnings["identical_donations"]:
        groups = warnings["identical_donations"]
        workers = sorted({p for group in groups for p, _ in group})
        shown = [" = ".join(f"{p}/{t}" for p, t in group) for group in groups[:3]]
        said.append(f"warning: {len(groups)} file(s) donated identically by more than one "
                    f"worker ({len(workers)} workers): " + "; ".join(shown)
                    + (f"; {len(groups) - 3} more in run.json" if len(groups) > 3 else "")
                    + "\n  hint: the same person twice, or a copying mistake? --map FILE "
                    "names the folders")
    if warnings["all_files_failed"]:
        names = warnings["all_files_failed"]
        said.append(f"warning: {len(names)} worker(s) had every file fail, so they are not in "
                    f"the panel: {some(names)}\n  hint: see errors.csv")
    return said


def write_map(path: Path, rows: list[tuple[str, str, str, str, str]]) -> None:
    """The private map (MAP_COLUMNS), readable by its owner only (0600)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(MAP_COLUMNS)
    writer.writerows(sorted(rows))
    target = path.expanduser()
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(buffer.getvalue())
    os.replace(staged, target)
